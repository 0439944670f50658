"""The office's justified corrections (rettifiche), kept in a file beside the returns and applied by ``consolida``.

The master is a generated report: a correction typed into it is lost at the next run, so the office
records each one here, with why, who decided and when, and every ``consolida`` applies them again. A
correction changes an indicator's value, an objective's %, or leaves an objective out of the evaluation.
Only this file creates corrections: nothing in a returned scheda can (the model keeps them in private
attributes that no plan file or snapshot can set).

The file is a CSV (``;``-separated, as Excel in Italian saves it) or a workbook (first sheet), one
correction per row under a header row with the columns of ``COLONNE`` (README documents them).
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from seregno_xlsx.atomic import describe_os_error
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import is_office_temp, is_rettifiche
from seregno_xlsx.findings import Anomalia, finding, printable
from seregno_xlsx.piano.model import MAX_DATE, MIN_DATE, Area, Indicatore, Obiettivo, Rilevazione
from seregno_xlsx.ritorni.values import parse_date, parse_number
from seregno_xlsx.scheda.layout import META_SHEET

COLONNE = ("area", "obiettivo", "indicatore", "rilevazione", "tipo", "valore", "motivo", "deciso_da", "data")
# A file of corrections is a few dozen rows: anything far beyond is not one.
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
CSV = ""  # ``Rettifica.dove`` of a CSV row: a CSV has no sheet


class Tipo:
    VALORE = "valore"  # an indicator's value of the round
    PERCENTUALE = "percentuale"  # an objective's % (in percent: 80 = 80%)
    ESCLUSIONE = "esclusione"  # the objective does not count in any mean


TIPI = (Tipo.VALORE, Tipo.PERCENTUALE, Tipo.ESCLUSIONE)


@dataclass(frozen=True)
class Rettifica:
    """One row of the file, as written (texts stripped); ``riga`` is its row number, ``dove`` the sheet
    (``CSV``: none)."""

    riga: int
    dove: str
    area: str
    obiettivo: str
    indicatore: str
    rilevazione: str
    tipo: str
    valore: object
    motivo: str
    deciso_da: str
    data: object
    percento: bool = False  # the workbook cell was formatted as % (0,8 shown as 80%)


@dataclass(frozen=True)
class Applicata:
    """A correction applied to the consolidation: what it changed, the figure before and after."""

    rettifica: Rettifica
    area: Area
    obiettivo: Obiettivo
    indicatore: Indicatore | None
    valore: float | None  # the corrected value, or % as a fraction; None for an exclusion
    data: date

    @property
    def tipo(self) -> str:
        return self.rettifica.tipo

    def to_json(self) -> dict[str, object]:
        r = self.rettifica
        valore = self.valore
        if r.tipo == Tipo.PERCENTUALE and valore is not None:
            valore = round(valore * 100, 9)  # in points, as the file writes it (80 = 80%)
        return {
            "area": self.area.nome,
            "obiettivo": self.obiettivo.codice,
            "indicatore": self.indicatore.codice if self.indicatore else "",
            "tipo": r.tipo,
            "valore": valore,
            "motivo": r.motivo,
            "deciso_da": r.deciso_da,
            "data": self.data.isoformat(),
        }


def find_rettifiche(folder: Path) -> Path | None:
    """The office's file beside the returns: ``rettifiche*.csv`` or ``.xlsx`` in ``folder`` or its parent."""
    for place in (folder, folder.parent):
        try:
            files = sorted(p for p in place.iterdir() if is_rettifiche(p) and not is_office_temp(p) and p.is_file())
        except OSError:
            continue
        if files:
            return files[0]
    return None


def read_rettifiche(path: Path) -> list[Rettifica]:
    """Every row of the file; an unreadable file is an error of the command, never a master without them."""
    if path.is_dir():
        raise SeregnoError(f"{path}: è una cartella; --rettifiche indica il file delle rettifiche (.csv o .xlsx)")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SeregnoError(f"{path}: file delle rettifiche troppo grande (oltre 5 MB)")
        rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    except OSError as exc:
        raise SeregnoError(f"impossibile leggere il file delle rettifiche: {describe_os_error(exc)}") from None
    return list(rows)


def _header(cells: Sequence[object], path: Path, where: str) -> list[str]:
    names = [_key(c) for c in cells]
    missing = [c for c in COLONNE if c not in names]
    if missing:
        raise SeregnoError(
            f"{path}: {where}, riga 1: mancano le colonne {', '.join(missing)} "
            f"(intestazione attesa: {';'.join(COLONNE)})"
        )
    return names


def _key(cell: object) -> str:
    return re.sub(r"[\s_]+", "_", str(cell or "").strip().casefold())


def _record(names: list[str], cells: Sequence[object], riga: int, dove: str, percento: bool = False) -> Rettifica:
    data = dict(zip(names, cells, strict=False))

    def text(key: str) -> str:
        value = data.get(key)
        return "" if value is None else printable(str(value)).strip()

    return Rettifica(
        riga=riga,
        dove=dove,
        area=text("area"),
        obiettivo=text("obiettivo"),
        indicatore=text("indicatore"),
        rilevazione=text("rilevazione").casefold(),
        tipo=text("tipo").casefold(),
        valore=data.get("valore"),
        motivo=text("motivo"),
        deciso_da=text("deciso_da"),
        data=data.get("data"),
        percento=percento,
    )


def _csv_rows(path: Path) -> Iterable[Rettifica]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="cp1252")  # Excel's «CSV» on Windows in Italian
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    delimiter = ";" if lines and lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    for number, cells in enumerate(reader, start=1):
        if header is None:
            header = _header(cells, path, "intestazione")
            continue
        if number > MAX_ROWS:
            raise SeregnoError(f"{path}: più di {MAX_ROWS} righe: non è un file delle rettifiche")
        if any(c.strip() for c in cells):
            yield _record(header, [c or None for c in cells], number, CSV)


def _xlsx_rows(path: Path) -> Iterable[Rettifica]:
    from openpyxl import load_workbook  # only when the office keeps its corrections in a workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SeregnoError(f"{path}: il file delle rettifiche non è una cartella di lavoro leggibile ({exc})") from None
    try:
        if META_SHEET in workbook.sheetnames:  # nothing in a returned scheda can create a correction
            raise SeregnoError(f"{path}: è una scheda restituita, non il file delle rettifiche dell'ufficio")
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [c.value for c in row]
            if header is None:
                if not any(v not in (None, "") for v in cells):
                    continue
                header = _header(cells, path, f"foglio «{sheet.title}»")
                value_col = header.index("valore")
                continue
            if number > MAX_ROWS:
                raise SeregnoError(f"{path}: più di {MAX_ROWS} righe: non è un file delle rettifiche")
            if any(v not in (None, "") for v in cells):
                fmt = getattr(row[value_col], "number_format", "") if value_col < len(row) else ""
                yield _record(header, cells, number, sheet.title, "%" in str(fmt))
    finally:
        workbook.close()


def _number(value: object) -> float | None:
    """80, «80», «80,5», «1.500,5», «80%» (→ 80), read as the returns are; None if it is not a number."""
    number = parse_number(value)
    return number if isinstance(number, float) else None


def _date(value: object) -> date | None:
    """The decision's date, read as the returns' dates are, within the years a plan may speak of."""
    found = parse_date(value)
    return found if isinstance(found, date) and MIN_DATE <= found <= MAX_DATE else None


def apply_rettifiche(
    rettifiche: Sequence[Rettifica],
    aree: Sequence[Area],
    rilevazione: Rilevazione,
    *,
    file: str,
    aree_del_piano: Iterable[str] = (),
) -> tuple[list[Applicata], list[Anomalia]]:
    """Apply each valid correction of the round to ``aree`` (in place); the rest are findings.

    ``aree_del_piano``: areas of the plan without a consolidated return (their corrections wait, with a warning).
    """
    correzioni = Correzioni(rettifiche, [a.nome for a in aree], rilevazione, file=file, aree_del_piano=aree_del_piano)
    for index, area in enumerate(aree):
        correzioni.apply(index, area)
    return correzioni.results()


@dataclass
class _Pending:
    """A correction that passed every check but its target's: it waits for its area (``Correzioni.apply``)."""

    rettifica: Rettifica
    number: float | None
    bad: Callable[..., Anomalia]


class Correzioni:
    """``apply_rettifiche`` one area at a time: what does not need the area's models is checked at once,
    each area then takes its own corrections (``apply``), and ``results`` gives the corrections applied
    and the findings in the file's order, whatever the order the areas came in.

    ``nomi``: the consolidated areas' names, in order (``apply`` is given the area at that index).
    """

    def __init__(
        self,
        rettifiche: Sequence[Rettifica],
        nomi: Sequence[str],
        rilevazione: Rilevazione,
        *,
        file: str,
        aree_del_piano: Iterable[str] = (),
    ) -> None:
        waiting = {a.casefold() for a in aree_del_piano}
        # The last area of a name takes its corrections.
        by_area = {nome.casefold(): index for index, nome in enumerate(nomi)}
        # One outcome per correction, in the file's order: a finding, an application, or waiting for its area.
        self._outcomes: list[Anomalia | Applicata | _Pending | None] = []
        self._by_index: dict[int, list[int]] = {}
        self._done: dict[tuple[str, str, str], int] = {}
        for r in rettifiche:
            # A CSV has no sheet and no cells: its row, named in the message, is where it is.
            sheet, cella = ("", f"riga {r.riga}") if r.dove == CSV else (r.dove, f"A{r.riga}")
            where = {"area": r.area, "obiettivo": r.obiettivo, "fase": r.indicatore, "foglio": sheet, "cella": cella}

            def bad(
                codice: str, detail: str, valore: object = "", r: Rettifica = r, where: dict[str, str] = where
            ) -> Anomalia:
                # «nel file» first: the message's first letter is capitalised, never the file's name.
                return finding(codice, f"nel file «{file}», riga {r.riga}: {detail}", valore=valore, **where)

            outcome: Anomalia | _Pending | None
            if not r.motivo:
                outcome = bad("rettifica-senza-motivo", "il motivo è obbligatorio: la rettifica non è applicata")
            elif not r.deciso_da or r.data in (None, ""):
                missing = "chi l'ha decisa" if not r.deciso_da else "la data della decisione (gg/mm/aaaa)"
                outcome = bad("rettifica-incompleta", f"manca {missing}: la rettifica non è applicata", r.data or "")
            elif _date(r.data) is None:
                shown = printable(str(r.data))[:40]
                detail = f"data non valida «{shown}»: scrivere gg/mm/aaaa; la rettifica non è applicata"
                outcome = bad("rettifica-incompleta", detail, shown)
            elif r.tipo not in TIPI:
                outcome = bad(
                    "rettifica-non-valida", f"tipo «{r.tipo}» sconosciuto: scrivere {', '.join(TIPI)}", r.tipo
                )
            elif r.rilevazione and r.rilevazione not in {x.value for x in Rilevazione}:
                detail = "rilevazione: scrivere intermedia, finale o lasciare vuoto"
                outcome = bad("rettifica-non-valida", detail, r.rilevazione)
            elif r.rilevazione and r.rilevazione != rilevazione.value:
                outcome = None  # a correction of the other round
            elif r.tipo != Tipo.ESCLUSIONE and ((number := _number(r.valore)) is None or number < 0):
                outcome = bad(
                    "rettifica-non-valida", "il valore deve essere un numero maggiore o uguale a zero", r.valore
                )
            elif (index := by_area.get(r.area.casefold())) is None:
                if r.area.casefold() in waiting:
                    detail = f"l'area «{r.area}» non ha una scheda consolidata"
                    outcome = bad("rettifica-area-non-pervenuta", detail, r.area)
                else:
                    hint = _close(r.area, [*nomi, *aree_del_piano])
                    detail = f"nessuna area «{r.area}» nel piano consolidato{hint}"
                    outcome = bad("rettifica-senza-riscontro", detail, r.area)
            else:
                outcome = _Pending(r, _number(r.valore), bad)
                self._by_index.setdefault(index, []).append(len(self._outcomes))
            self._outcomes.append(outcome)

    def apply(self, index: int, area: Area) -> None:
        """Apply (in place) the corrections of the area at ``index`` of ``nomi``."""
        for slot in self._by_index.get(index, []):
            pending = self._outcomes[slot]
            assert isinstance(pending, _Pending)
            self._outcomes[slot] = self._apply(area, pending)

    def _apply(self, area: Area, pending: _Pending) -> Anomalia | Applicata:
        r, number, bad = pending.rettifica, pending.number, pending.bad
        target = _target(area, r)
        if isinstance(target, str):
            return bad("rettifica-senza-riscontro", target, r.indicatore or r.obiettivo)
        obiettivo, indicatore = target
        key = (area.nome, obiettivo.codice, indicatore.codice if indicatore else "")
        if key in self._done:
            return bad(
                "rettifica-doppia", f"la stessa voce è già rettificata alla riga {self._done[key]}: vale quella", r.tipo
            )
        self._done[key] = r.riga
        decided = _date(r.data)
        assert decided is not None
        if r.tipo == Tipo.VALORE:
            assert indicatore is not None and number is not None
            indicatore.rettifica_valore(number)
            return Applicata(r, area, obiettivo, indicatore, number, decided)
        pct = None if number is None or r.tipo == Tipo.ESCLUSIONE else (number if r.percento else number / 100)
        obiettivo.rettifica_pct(pct, esclusa=r.tipo == Tipo.ESCLUSIONE)
        return Applicata(r, area, obiettivo, None, pct, decided)

    def results(self) -> tuple[list[Applicata], list[Anomalia]]:
        """The corrections applied and the findings, in the file's order (a correction whose area was never
        given to ``apply`` is neither)."""
        applied = [x for x in self._outcomes if isinstance(x, Applicata)]
        return applied, [x for x in self._outcomes if isinstance(x, Anomalia)]


def _target(area: Area, r: Rettifica) -> tuple[Obiettivo, Indicatore | None] | str:
    """The objective (and indicator) a correction names, or why it names nothing of the plan."""
    if r.tipo == Tipo.VALORE:
        if not r.indicatore:
            return "una rettifica di tipo «valore» indica il codice dell'indicatore (codice attività)"
        for obiettivo in area.obiettivi:
            for indicatore in obiettivo.indicatori:
                same_objective = not r.obiettivo or obiettivo.codice == r.obiettivo
                if indicatore.codice == r.indicatore and same_objective:
                    return obiettivo, indicatore
        return f"nessun indicatore «{r.indicatore}» nell'obiettivo «{r.obiettivo}» dell'area «{area.nome}»"
    if r.indicatore:
        return f"una rettifica di tipo «{r.tipo}» riguarda l'obiettivo: lasciare vuota la colonna indicatore"
    for obiettivo in area.obiettivi:
        if obiettivo.codice == r.obiettivo:
            return obiettivo, None
    hint = _close(r.obiettivo, [o.codice for o in area.obiettivi])
    return f"nessun obiettivo «{r.obiettivo}» nell'area «{area.nome}»{hint}"


def _close(typed: str, known: Sequence[str]) -> str:
    """«; forse intendevi «…»» for a typo, as the command line suggests a command's name."""
    by_key = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(typed.casefold(), list(by_key), n=1, cutoff=0.75)
    return f"; forse intendevi «{by_key[close[0]]}»" if close else ""
