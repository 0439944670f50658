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

from seregno_xlsx.atomic import os_reason
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import is_office_temp, is_rettifiche
from seregno_xlsx.findings import finding, printable
from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.piano.plan_file import PLAN_GLOB
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
        "cella-fuori-limiti",
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
    IGNORATO = "ignorato"  # not a workbook: listed in Fonti with why, never read


def workbook_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    """The workbooks of a folder, by name; office lock files and ``exclude`` (the output) left out."""
    return returned_files(folder, exclude)[0]


def returned_files(folder: Path, exclude: Path | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """The workbooks of a returns folder, and every other entry with why it is not read (nothing in silence)."""
    if not folder.is_dir():
        if folder.exists():
            raise SeregnoError(f"{folder}: è un file, non una cartella (per un solo file: seregno-xlsx verifica)")
        raise SeregnoError(f"{folder}: cartella non trovata")
    found: list[Path] = []
    ignored: list[tuple[str, str]] = []
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name.casefold())
    except OSError as exc:
        raise SeregnoError(f"{folder}: impossibile leggere la cartella ({os_reason(exc)})") from None
    for path in entries:
        if exclude is not None and same_file(path, exclude):
            continue
        why = _why_ignored(path)
        if why:
            ignored.append((printable(path.name), why))
        else:
            found.append(path)
    return found, ignored


def _why_ignored(path: Path) -> str:
    suffix = path.suffix.lower().strip()
    if path.is_symlink() and not path.exists():
        return "collegamento simbolico che non porta a un file (interrotto o circolare)"
    if path.is_dir():
        return "cartella: non viene esplorata"
    if is_office_temp(path):
        return "file temporaneo o di blocco di Excel/LibreOffice"
    if is_rettifiche(path):
        return "file delle rettifiche dell'ufficio (applicato da «consolida»)"
    if suffix in (".xlsb", ".xltx", ".xltm", ".xlt", ".ots", ".fods", ".csv"):
        return f"formato {suffix} non supportato: salvare la scheda come .xlsx"
    if suffix not in WORKBOOK_SUFFIXES:
        if path.match(PLAN_GLOB):
            return "file del piano"
        return f"non è una cartella di lavoro ({suffix or 'senza estensione'})"
    return ""


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def rejection(lettura: Lettura) -> str | None:
    """Why a file read alone cannot be used, or ``None``."""
    if not lettura.leggibile:
        return next((a.messaggio for a in lettura.anomalie), "file non leggibile")
    return next((a.messaggio for a in lettura.anomalie if a.codice in REJECTING), None)


def foreign(lettura: Lettura) -> str | None:
    """Why a file is not a workbook of ours for this plan, or ``None``: not ours, or another plan's."""
    if lettura.metadati is None:
        return "non è una scheda generata da seregno-xlsx"
    return next((a.messaggio for a in lettura.anomalie if a.codice in OTHER_PLAN), None)


def receipt_order(lettura: Lettura) -> tuple[datetime, str]:
    """Two files for one area: the one received last wins.

    Received means what the office controls: the file's time in the returns folder, which «raccogli»
    sets to the time the message was received. The save stamp inside the file is the sender's to
    choose (2099, or a date no clock can show), so it never decides.
    """
    return (lettura.ricevuto_il or datetime.min, lettura.file.name)


def winner(group: Sequence[Lettura]) -> Lettura:
    """Of the acceptable files of one area, the one that counts: the one received last."""
    return max(group, key=receipt_order)


def _received_text(lettura: Lettura) -> str:
    moment = lettura.ricevuto_il
    when = f" ({moment:%d/%m/%Y %H:%M})" if moment else ""
    return f"ricevuto più di recente{when}: vale la data di ricezione (ora del file nella cartella delle schede)"


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
    regola: str = ""  # which rule decided the round, in words

    @property
    def accettati(self) -> list[Lettura]:
        return [e.lettura for e in self.esami if e.stato is Stato.ACCETTATO]

    def of_area(self, area: str) -> list[Esame]:
        """The files of an area (by the name its workbook carries), oldest first."""
        mine = [e for e in self.esami if e.lettura.metadati and e.lettura.area.casefold() == area.casefold()]
        return sorted(mine, key=lambda e: receipt_order(e.lettura))


MOST_FILES = "la rilevazione della maggior parte delle schede"


def classify(
    letture: Iterable[Lettura],
    *,
    fallback: Rilevazione = Rilevazione.INTERMEDIA,
    attesa: Rilevazione | None = None,
    regola: str = "",
) -> Classificazione:
    """Decide every file; findings for files set aside (other plan, other round, superseded) are added to them.

    The plan is the one most acceptable files were generated for. The round is ``attesa`` when the caller
    knows it (stated, or the plan's next round; ``regola`` says why, in the rejections), else the one
    most acceptable files were generated for (``fallback`` if none).
    """
    letture = list(letture)
    rejected = {id(lettura): rejection(lettura) for lettura in letture}
    _reject_other_plans(letture, rejected)
    rounds = Counter(
        lettura.metadati.rilevazione for lettura in letture if lettura.metadati and rejected[id(lettura)] is None
    )
    if attesa is not None:
        rilevazione = attesa
    else:
        rilevazione, regola = (rounds.most_common(1)[0][0] if rounds else fallback), MOST_FILES
    for lettura in letture:
        if rejected[id(lettura)] is None and lettura.metadati and lettura.metadati.rilevazione != rilevazione:
            reason = f"scheda della rilevazione {lettura.metadati.rilevazione}, attesa {rilevazione} ({regola})"
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
            name = printable(best.file.name)
            reason = f"sostituito da {name}, {_received_text(best)}"
            if loser.sha256 == best.sha256:
                reason = f"copia identica di {name}"
            superseded[id(loser)] = reason
            lost = printable(loser.file.name)
            loser.anomalie.append(finding("file-sostituito", f"{lost}: {reason}", area=loser.area, valore=lost))
    esami = []
    for lettura in letture:
        if id(lettura) in winners:
            esami.append(Esame(lettura, Stato.ACCETTATO))
        elif id(lettura) in superseded:
            esami.append(Esame(lettura, Stato.SOSTITUITO, superseded[id(lettura)]))
        else:
            esami.append(Esame(lettura, Stato.RIFIUTATO, rejected[id(lettura)] or ""))
    return Classificazione(rilevazione, esami, regola)


def _reject_other_plans(letture: list[Lettura], rejected: dict[int, str | None]) -> None:
    """Without a plan given, the plan is the one most files belong to; a file of another plan never mixes in."""
    # A plan is its ente and year: schede of two versions of it (a revision) are of one plan.
    headers = Counter(
        (lettura.metadati.ente, lettura.metadati.anno)
        for lettura in letture
        if lettura.metadati and rejected[id(lettura)] is None
    )
    if len(headers) < 2:
        return
    ente, anno = headers.most_common(1)[0][0]
    for lettura in letture:
        snapshot = lettura.metadati
        if snapshot is None or rejected[id(lettura)] is not None or (snapshot.ente, snapshot.anno) == (ente, anno):
            continue
        reason = f"scheda del piano «{snapshot.ente} {snapshot.anno}», le altre sono di «{ente} {anno}»"
        rejected[id(lettura)] = reason
        lettura.anomalie.append(finding("piano-diverso", reason, area=lettura.area, valore=lettura.file.name))
