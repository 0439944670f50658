"""``consolida``: every returned workbook of a folder into one master workbook.

One bad file never stops the others; two files for one area: the one received
last wins and the other is reported; every file of the folder is listed in Fonti.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.findings import Anomalia, finding, has_errors, printable
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import Fonte, MasterSummary, write_master
from seregno_xlsx.outputs import refuse_input_as_output
from seregno_xlsx.piano.checks import check_across_areas
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.piano.plan_file import PLAN_GLOB, find_plan, read_plan
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import default_reference_date, verify_file

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
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
        "piano-diverso",
        "area-non-nel-piano",
        "rilevazione-diversa",
    }
)

ACCETTATO, RIFIUTATO, SOSTITUITO, IGNORATO = "accettato", "rifiutato", "sostituito", "ignorato"


def is_office_temp(path: Path) -> bool:
    """Lock and temporary files of Excel (~$x.xlsx) and LibreOffice (.~lock.x.xlsx#)."""
    return path.name.startswith(("~$", ".~lock", "~", ".")) or path.name.endswith("#")


def workbook_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    return returned_files(folder, exclude)[0]


def returned_files(folder: Path, exclude: Path | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """The workbooks of a returns folder, and every other entry with why it is not read."""
    if not folder.is_dir():
        raise SeregnoError(f"{folder}: cartella non trovata")
    found: list[Path] = []
    ignored: list[tuple[str, str]] = []
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name.casefold())
    except OSError as exc:
        raise SeregnoError(f"{folder}: impossibile leggere la cartella ({exc.strerror})") from None
    for path in entries:
        if exclude is not None and _same_file(path, exclude):
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
    if suffix in (".xlsb", ".xltx", ".xltm", ".xlt", ".ots", ".fods", ".csv"):
        return f"formato {suffix} non supportato: salvare la scheda come .xlsx"
    if suffix not in WORKBOOK_SUFFIXES:
        if path.match(PLAN_GLOB):
            return "file del piano"
        return f"non è una cartella di lavoro ({suffix or 'senza estensione'})"
    return ""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


@dataclass
class Consolidamento:
    master: Path | None
    fonti: list[Fonte] = field(default_factory=list)
    anomalie: list[Anomalia] = field(default_factory=list)
    summary: MasterSummary | None = None
    valori_letti: int = 0
    # The plan found beside the returns (``piano*.json``) when none was given.
    piano_trovato: Path | None = None

    @property
    def rifiutati(self) -> int:
        return sum(f.stato == RIFIUTATO for f in self.fonti)

    def to_json(self) -> dict[str, object]:
        return {
            "master": str(self.master) if self.master else None,
            "fonti": [{"file": f.file, "area": f.area, "stato": f.stato, "motivo": f.motivo} for f in self.fonti],
            "anomalie": [a.model_dump(mode="json") for a in self.anomalie],
        }

    @property
    def exit_code(self) -> int:
        if self.master is None:
            return 2
        return 1 if self.rifiutati or has_errors(self.anomalie) else 0


def consolidate(
    folder: Path,
    output: Path,
    *,
    piano: Piano | None = None,
    data_riferimento: date | None = None,
    regole: Regole | None = None,
    password_apertura: str | None = None,
    registro: Registro = NESSUN_REGISTRO,
) -> Consolidamento:
    """``password_apertura`` opens encrypted files; ``registro`` records what was read, decided and written.

    Without ``piano``, the plan the office keeps beside the returns (a ``piano*.json`` in ``folder`` or
    in its parent) is used: it checks the fingerprints and gives the locked content.
    """
    regole = regole or Regole()
    found_plan = find_plan(folder) if piano is None else None
    if found_plan is not None:
        piano = read_plan(found_plan)
        registro.event("piano-trovato", file=str(found_plan))
    files, ignored = returned_files(folder)
    files = _without_previous_master(files, output)
    letture = [
        verify_file(path, piano=piano, data_riferimento=data_riferimento, password_apertura=password_apertura)
        for path in files
    ]
    result = Consolidamento(master=None, piano_trovato=found_plan)
    rejected = {id(lettura): _rejection(lettura) for lettura in letture}
    _reject_other_plans(letture, rejected)
    rilevazione = _round(letture, rejected, piano)
    for lettura in letture:
        if rejected[id(lettura)] is None and lettura.snapshot and lettura.snapshot.rilevazione != rilevazione:
            rejected[id(lettura)] = f"scheda della rilevazione {lettura.snapshot.rilevazione}, attesa {rilevazione}"
            lettura.anomalie.append(
                finding(
                    "rilevazione-diversa",
                    rejected[id(lettura)] or "",
                    area=lettura.area,
                    valore=lettura.file.name,
                )
            )
    accepted = _winners(letture, rejected, result)
    for lettura, fonte in zip(letture, result.fonti, strict=True):
        result.anomalie.extend(lettura.anomalie)
        registro.file_read(
            lettura.file,
            sha256=lettura.sha256,
            area=lettura.area,
            esito=lettura.esito,
            anomalie=lettura.anomalie,
            stato=fonte.stato,
            motivo=fonte.motivo,
        )
    for name, why in ignored:
        result.fonti.append(_ignored_source(name, why))
        registro.event("file-ignorato", file=name, motivo=why)
    if not accepted:
        registro.event("nessun-output", motivo="nessuna scheda consolidabile: il master non è stato scritto")
        return result
    first = accepted[0].snapshot
    assert first is not None
    anno = first.anno
    reference = data_riferimento or default_reference_date(anno, first.scadenza)
    areas = [lettura.compilata for lettura in accepted if lettura.compilata is not None]
    consolidated = Piano(ente=first.ente, anno=anno, titolo=first.titolo, delibera=first.delibera, aree=areas)
    # The per-area plan checks already ran on each file, with cells: add only what spans areas.
    result.anomalie.extend(check_across_areas(consolidated))
    if piano is not None:
        answered = {a.nome.casefold() for a in areas}
        for area in piano.aree:
            if area.nome.casefold() not in answered:
                result.anomalie.append(
                    finding(
                        "area-senza-risposta",
                        "nessuna scheda valida ricevuta",
                        area=area.nome,
                        valore=area.nome,
                    )
                )
    result.valori_letti = sum(lettura.valori_letti for lettura in accepted)
    result.summary = write_master(
        output,
        ente=first.ente,
        anno=anno,
        aree=areas,
        rilevazione=rilevazione,
        regole=regole,
        anomalie=result.anomalie,
        fonti=result.fonti,
        data_riferimento=reference,
        valori_letti=result.valori_letti,
    )
    result.master = output
    registro.written(output, "master")
    return result


def _without_previous_master(files: list[Path], output: Path) -> list[Path]:
    """The master may replace the previous master in the returns folder, never a returned scheda."""
    kept = []
    for path in files:
        if not _same_file(path, output):
            kept.append(path)
        elif read_workbook(path).snapshot is not None:
            refuse_input_as_output(output, [path], what="il master")
    return kept


def _ignored_source(name: str, why: str) -> Fonte:
    return Fonte(
        file=name,
        area="",
        rilevazione="",
        versione_modello="",
        sha256="",
        compilato_il=None,
        stato=IGNORATO,
        motivo=why,
    )


def _rejection(lettura: Lettura) -> str | None:
    if not lettura.leggibile:
        return next((a.messaggio for a in lettura.anomalie), "file non leggibile")
    for anomalia in lettura.anomalie:
        if anomalia.codice in REJECTING:
            return anomalia.messaggio
    return None


def _reject_other_plans(letture: list[Lettura], rejected: dict[int, str | None]) -> None:
    """Without --piano the plan is the one most files belong to; a file of another plan never mixes in."""
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


def _round(letture: list[Lettura], rejected: dict[int, str | None], piano: Piano | None) -> Rilevazione:
    """The round of the master: the one most files were generated for."""
    rounds = Counter(
        lettura.snapshot.rilevazione for lettura in letture if lettura.snapshot and rejected[id(lettura)] is None
    )
    return rounds.most_common(1)[0][0] if rounds else Rilevazione.INTERMEDIA


def receipt_order(lettura: Lettura) -> tuple[datetime, str]:
    """Two files for one area: the one received last wins.

    Received means what the office controls: the file's time in the returns folder, which «raccogli»
    sets to the time the message was received. The save stamp inside the file is the sender's to
    choose (2099, or a date no clock can show), so it never decides.
    """
    return (lettura.ricevuto_il or datetime.min, lettura.file.name)


def _received_text(lettura: Lettura) -> str:
    moment = lettura.ricevuto_il
    when = f" ({moment:%d/%m/%Y %H:%M})" if moment else ""
    return f"ricevuto più di recente{when}: vale la data di ricezione (ora del file nella cartella delle schede)"


def _winners(letture: list[Lettura], rejected: dict[int, str | None], result: Consolidamento) -> list[Lettura]:
    by_area: dict[str, list[Lettura]] = {}
    for lettura in letture:
        if rejected[id(lettura)] is None:
            by_area.setdefault(lettura.area.casefold(), []).append(lettura)
    winners: dict[int, Lettura] = {}
    for group in by_area.values():
        group.sort(key=receipt_order)
        winner = group[-1]
        winners[id(winner)] = winner
        for loser in group[:-1]:
            reason = f"sostituito da {printable(winner.file.name)}, {_received_text(winner)}"
            if loser.sha256 == winner.sha256:
                reason = f"copia identica di {printable(winner.file.name)}"
            rejected[id(loser)] = reason
            loser.anomalie.append(
                finding(
                    "file-sostituito",
                    f"{printable(loser.file.name)}: {reason}",
                    area=loser.area,
                    valore=printable(loser.file.name),
                )
            )
    for lettura in letture:
        stato = ACCETTATO if id(lettura) in winners else RIFIUTATO
        motivo = rejected[id(lettura)] or ""
        if stato == RIFIUTATO and motivo.startswith(("sostituito", "copia identica")):
            stato = SOSTITUITO
        snapshot = lettura.snapshot
        result.fonti.append(
            Fonte(
                file=printable(lettura.file.name),
                area=lettura.area,
                rilevazione=snapshot.rilevazione.value if snapshot else "",
                versione_modello=snapshot.versione_modello if snapshot else "",
                sha256=lettura.sha256,
                compilato_il=lettura.compilato_il,
                stato=stato,
                motivo=motivo,
            )
        )
    return [lettura for lettura in letture if id(lettura) in winners]
