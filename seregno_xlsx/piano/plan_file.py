"""The plan file the office keeps: read with every problem named in Italian (field and line), and found
beside the returned schede without being told.

The plan is the authority over the schede (its locked content and the key of their fingerprint), so it
is validated strictly: no NaN or infinities, no duplicate codes, no control characters, bounded texts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from seregno_xlsx.atomic import os_reason
from seregno_xlsx.errors import PlanError, validation_reason
from seregno_xlsx.piano.model import Area, Piano

# A plan of a large comune is a few MB; more is not a plan.
MAX_PLAN_BYTES = 50 * 1024 * 1024
# File names under which consolida looks for the plan beside the returns.
PLAN_GLOB = "piano*.json"


# What Python's JSON reader says, as the office reads it (the reader's texts are English).
_JSON_PROBLEMS = {
    "Expecting value": "manca un valore, o il file non è un piano JSON",
    "Expecting ',' delimiter": "manca una virgola",
    "Expecting ':' delimiter": "mancano i due punti dopo il nome di un campo",
    "Expecting property name enclosed in double quotes": "nome di campo non tra virgolette doppie, o virgola di troppo",
    "Unterminated string starting at": "testo non chiuso dalle virgolette",
    "Invalid control character at": "carattere di controllo dentro un testo",
    "Invalid \\escape": "sequenza con \\ non valida in un testo",
    "Extra data": "altro testo dopo la fine del piano",
}


def _json_problem(message: str) -> str:
    return _JSON_PROBLEMS.get(message, "struttura non valida")


def read_plan(path: Path) -> Piano:
    """The plan at ``path``; any problem is a :class:`PlanError` naming the file, the field and the line."""
    path = Path(path)
    try:
        data = path.read_bytes()[: MAX_PLAN_BYTES + 1]
    except FileNotFoundError:
        raise PlanError(f"{path}: piano non trovato") from None
    except OSError as exc:
        raise PlanError(f"{path}: impossibile leggere il piano ({os_reason(exc)})") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"{path}: il file supera {MAX_PLAN_BYTES // 1_048_576} MB, non è un piano")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a BOM some editors add: harmless, tolerated
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlanError(f"{path}, riga {line}: il file non è in UTF-8") from None
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}, riga {exc.lineno}: JSON non valido ({_json_problem(exc.msg)})") from None
    except _Constant as exc:
        raise PlanError(f"{path}, riga {_line_of(text, exc.word)}: «{exc.word}» non è un numero ammesso") from None
    except RecursionError:
        raise PlanError(f"{path}: JSON annidato oltre ogni piano possibile") from None
    except ValueError:  # Python's bound on the digits of an integer (4,300), the one other refusal of json.loads
        raise PlanError(f"{path}: un numero ha più cifre di quante un piano ne possa avere") from None
    try:
        piano = Piano.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _field_name(first["loc"])
        line = _line_of_field(text, first["loc"], first.get("input"))
        message = validation_reason(first)
        raise PlanError(f"{path}, riga {line}: campo «{where}»: {message}") from None
    _refuse_duplicates(path, text, piano)
    return piano


def replaceable_plan(target: Path, ente: str, anno: int) -> Piano | None:
    """The plan a plan of ``ente`` and ``anno`` is about to replace in ``target`` (None: no file there).

    The file replaced holds the key that verifies every scheda sent from it, and the year's history: only
    the same plan (its next version, its update) may take its place; anything else is a :class:`PlanError`.
    """
    if not target.is_file():
        return None
    keep = "il file è intatto; indicare un altro nome, o spostare prima il file se va davvero sostituito"
    try:
        current = read_plan(target)
    except PlanError as exc:
        raise PlanError(f"{target}: esiste già e non è un piano leggibile ({exc.messaggio}); {keep}") from None
    if (current.ente, current.anno) != (ente, anno):
        raise PlanError(
            f"{target}: contiene il piano «{current.ente} {current.anno}», quello da scrivere è «{ente} {anno}»: "
            f"sostituirlo perderebbe la chiave con cui si verificano le sue schede; {keep}"
        )
    return current


def find_plan(folder: Path) -> Path | None:
    """The plan the office keeps beside the returns: a ``piano*.json`` in ``folder`` or in its parent.

    Several plans there are told apart, never taken by name order: of one plan (ente and year) the most
    advanced (latest version, then most rounds recorded); of several years, the year the folder's name
    says (``schede_2022``); anything else is ambiguous and a :class:`PlanError` asks for ``--piano``.
    """
    for place in (folder, folder.parent):
        try:
            candidates = sorted(p for p in place.glob(PLAN_GLOB) if p.is_file())
        except OSError:
            continue
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return _choose(folder, candidates)
    return None


def _choose(folder: Path, candidates: list[Path]) -> Path:
    plans = [(path, read_plan(path)) for path in candidates]
    years = {piano.anno for _, piano in plans}
    if len(years) > 1:
        named = {int(y) for part in folder.resolve().parts for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", part)}
        wanted = years & named
        if len(wanted) != 1:
            names = ", ".join(p.name for p in candidates)
            raise PlanError(
                f"{folder}: accanto alle schede ci sono piani di anni diversi ({names}): indicare quale usare "
                "con --piano, o mettere l'anno nel nome della cartella delle schede"
            )
        plans = [(p, piano) for p, piano in plans if piano.anno in wanted]
    if len({(piano.ente, piano.anno) for _, piano in plans}) > 1:
        names = ", ".join(p.name for p, _ in plans)
        raise PlanError(f"{folder}: accanto alle schede ci sono piani di enti diversi ({names}): indicarlo con --piano")
    ranked = sorted(plans, key=lambda item: (item[1].versione, len(item[1].rilevazioni)), reverse=True)
    best = ranked[0]
    if (
        len(ranked) > 1
        and (ranked[1][1].versione, len(ranked[1][1].rilevazioni))
        == (
            best[1].versione,
            len(best[1].rilevazioni),
        )
        and ranked[1][1] != best[1]
    ):
        raise PlanError(
            f"{folder}: {best[0].name} e {ranked[1][0].name} sono due stesure diverse della stessa versione "
            "del piano: indicare quale usare con --piano"
        )
    return best[0]


class _Constant(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def _refuse_constant(word: str) -> Any:
    raise _Constant(word)


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item + 1}]"]
        else:
            parts.append(str(item))
    return ".".join(parts)


def _line_of(text: str, needle: str, start: int = 0, *, second: bool = False) -> int:
    found = text.find(needle, start)
    if second and found >= 0:
        found = text.find(needle, found + 1)
    return text.count("\n", 0, found) + 1 if found >= 0 else 1


def _line_of_field(text: str, loc: tuple[int | str, ...], value: object) -> int:
    """The line of the field: its key followed by its value, else the key alone (good for indented JSON)."""
    keys = [k for k in loc if isinstance(k, str)]
    if not keys:
        return 1
    key = json.dumps(keys[-1])
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        match = re.search(re.escape(key) + r"\s*:\s*" + re.escape(json.dumps(value, ensure_ascii=False)), text)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return _line_of(text, key)


def _refuse_duplicates(path: Path, text: str, piano: Piano) -> None:
    """Two areas with one name, or two objectives, phases or indicators with one code, cannot be told apart."""
    seen_areas: set[str] = set()
    area_codes: set[str] = set()
    for area in piano.aree:
        if area.codice and area.codice in area_codes:
            line = _line_of(text, json.dumps(area.codice, ensure_ascii=False), second=True)
            raise PlanError(
                f"{path}, riga {line}: campo «aree.codice»: il codice d'area «{area.codice}» compare due volte"
            )
        area_codes.add(area.codice)
        name = area.nome.casefold()
        if name in seen_areas:
            raise PlanError(
                f"{path}, riga {_line_of(text, json.dumps(area.nome, ensure_ascii=False), second=True)}: "
                f"campo «aree.nome»: l'area «{area.nome}» compare due volte"
            )
        seen_areas.add(name)
        duplicate = duplicate_row(area)
        if duplicate is not None:
            kind, shown = duplicate
            line = _line_of(text, json.dumps(shown, ensure_ascii=False), second=True)
            raise PlanError(
                f"{path}, riga {line}: campo «{kind}.codice»: il codice «{shown}» compare due volte "
                f"nell'area «{area.nome}»"
            )


def duplicate_row(area: Area) -> tuple[str, str] | None:
    """The first objective, phase or indicator of ``area`` whose code (and, for an indicator, description)
    another of its rows has, as (kind, code); None if none."""
    codes: set[tuple[str, str]] = set()
    for obiettivo in area.obiettivi:
        items = [("obiettivo", obiettivo.codice)] + [("fase", f.codice) for f in obiettivo.fasi]
        items += [("indicatore", i.codice + "\x00" + i.descrizione) for i in obiettivo.indicatori]
        for kind, code in items:
            if (kind, code) in codes:
                return kind, code.split("\x00")[0]
            codes.add((kind, code))
    return None
