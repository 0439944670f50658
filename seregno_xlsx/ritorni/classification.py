"""Which returned files count: one classification shared by consolida, solleciti, distribuisci and raccogli.

A file is *rejected* when its data cannot be trusted as this plan's compilation for the round
being collected (unreadable, altered, another plan, another round); among the files an area
returned, one *wins* and the others are *superseded*. Every rule of that decision lives here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import is_office_temp
from seregno_xlsx.findings import finding
from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.ritorni.reader import Lettura

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
# A workbook of another plan is not one of ours for this plan (distribuisci, raccogli).
OTHER_PLAN = frozenset({"piano-diverso", "area-non-nel-piano"})
# Findings after which a file's data cannot be trusted as this plan's compilation.
REJECTING = frozenset(
    {
        "file-illeggibile",
        "file-protetto-password",
        "file-non-riconosciuto",
        "file-troppo-grande",
        "metadati-alterati",
        "versione-modello-diversa",
        "rilevazione-diversa",
        *OTHER_PLAN,
    }
)


class Stato(StrEnum):
    """What became of a returned file."""

    ACCETTATO = "accettato"
    RIFIUTATO = "rifiutato"
    SOSTITUITO = "sostituito"


def workbook_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    """The workbooks of a folder, by name; office lock files and ``exclude`` (the output) left out."""
    if not folder.is_dir():
        raise SeregnoError(f"{folder}: cartella non trovata")
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name.casefold()):
        if is_office_temp(path) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        found.append(path)
    return found


def rejection(lettura: Lettura) -> str | None:
    """Why a file read alone cannot be used, or ``None``."""
    if not lettura.leggibile:
        return next((a.messaggio for a in lettura.anomalie), "file non leggibile")
    return next((a.messaggio for a in lettura.anomalie if a.codice in REJECTING), None)


def foreign(lettura: Lettura) -> str | None:
    """Why a file is not a workbook of ours for this plan, or ``None``: not ours, or another plan's."""
    if lettura.snapshot is None:
        return "non è una scheda generata da seregno-xlsx"
    return next((a.messaggio for a in lettura.anomalie if a.codice in OTHER_PLAN), None)


def winner(group: Sequence[Lettura]) -> Lettura:
    """Of the acceptable files of one area, the one that counts: the most recently saved."""
    return max(group, key=lambda lettura: (lettura.compilato_il or datetime.min, lettura.file.name))


@dataclass
class Esame:
    """The decision on one file."""

    lettura: Lettura
    stato: Stato
    motivo: str = ""


@dataclass
class Classificazione:
    rilevazione: Rilevazione
    esami: list[Esame]

    @property
    def accettati(self) -> list[Lettura]:
        return [e.lettura for e in self.esami if e.stato is Stato.ACCETTATO]

    def of_area(self, area: str) -> list[Esame]:
        """The files of an area (by the name its workbook carries), oldest first."""
        mine = [e for e in self.esami if e.lettura.snapshot and e.lettura.area.casefold() == area.casefold()]
        return sorted(mine, key=lambda e: (e.lettura.compilato_il or datetime.min, e.lettura.file.name))


def classify(letture: Iterable[Lettura], *, fallback: Rilevazione = Rilevazione.INTERMEDIA) -> Classificazione:
    """Decide every file; findings for files set aside (other plan, other round, superseded) are added to them.

    The plan and the round are those most acceptable files were generated for (``fallback`` if none).
    """
    letture = list(letture)
    rejected = {id(lettura): rejection(lettura) for lettura in letture}
    _reject_other_plans(letture, rejected)
    rounds = Counter(
        lettura.snapshot.rilevazione for lettura in letture if lettura.snapshot and rejected[id(lettura)] is None
    )
    rilevazione = rounds.most_common(1)[0][0] if rounds else fallback
    for lettura in letture:
        if rejected[id(lettura)] is None and lettura.snapshot and lettura.snapshot.rilevazione != rilevazione:
            reason = f"scheda della rilevazione {lettura.snapshot.rilevazione}, attesa {rilevazione}"
            rejected[id(lettura)] = reason
            lettura.anomalie.append(finding("rilevazione-diversa", reason, area=lettura.area, valore=lettura.file.name))
    by_area: dict[str, list[Lettura]] = {}
    for lettura in letture:
        if rejected[id(lettura)] is None:
            by_area.setdefault(lettura.area.casefold(), []).append(lettura)
    winners: set[int] = set()
    superseded: dict[int, str] = {}
    for group in by_area.values():
        best = winner(group)
        winners.add(id(best))
        for loser in group:
            if loser is best:
                continue
            reason = f"sostituito da {best.file.name}, salvato più di recente"
            if loser.sha256 == best.sha256:
                reason = f"copia identica di {best.file.name}"
            superseded[id(loser)] = reason
            loser.anomalie.append(
                finding("file-sostituito", f"{loser.file.name}: {reason}", area=loser.area, valore=loser.file.name)
            )
    esami = []
    for lettura in letture:
        if id(lettura) in winners:
            esami.append(Esame(lettura, Stato.ACCETTATO))
        elif id(lettura) in superseded:
            esami.append(Esame(lettura, Stato.SOSTITUITO, superseded[id(lettura)]))
        else:
            esami.append(Esame(lettura, Stato.RIFIUTATO, rejected[id(lettura)] or ""))
    return Classificazione(rilevazione, esami)


def _reject_other_plans(letture: list[Lettura], rejected: dict[int, str | None]) -> None:
    """Without a plan given, the plan is the one most files belong to; a file of another plan never mixes in."""
    headers = Counter(
        lettura.snapshot.header for lettura in letture if lettura.snapshot and rejected[id(lettura)] is None
    )
    if len(headers) < 2:
        return
    main = headers.most_common(1)[0][0]
    for lettura in letture:
        snapshot = lettura.snapshot
        if snapshot is None or rejected[id(lettura)] is not None or snapshot.header == main:
            continue
        reason = f"scheda del piano «{snapshot.ente} {snapshot.anno}», le altre sono di «{main.ente} {main.anno}»"
        rejected[id(lettura)] = reason
        lettura.anomalie.append(finding("piano-diverso", reason, area=lettura.area, valore=lettura.file.name))
