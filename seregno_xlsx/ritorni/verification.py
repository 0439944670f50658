"""``verifica``: read returned workbooks, run every check, optionally write annotated copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from seregno_xlsx.atomic import output_folder
from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.findings import Anomalia
from seregno_xlsx.piano.checks import check_area_plan, check_compilation
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.reader import Lettura, layout_names, read_workbook
from seregno_xlsx.scheda.writer import Annotation, write_workbook


def default_reference_date(anno: int, scadenza: date | None = None, today: date | None = None) -> date:
    """Today, but never past the return deadline of the round, nor past the end of the plan year."""
    today = today or date.today()
    return min(today, scadenza or date(anno, 12, 31), date(anno, 12, 31))


@dataclass
class Verifica:
    """The report of one file; ``to_json`` is the public ``--json`` format."""

    lettura: Lettura
    annotata: Path | None = None

    @property
    def anomalie(self) -> list[Anomalia]:
        return self.lettura.anomalie

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.lettura.file),
            "area": self.lettura.area,
            "esito": self.lettura.esito,
            "anomalie": [a.model_dump(mode="json") for a in self.anomalie],
        }


def verify_file(
    path: Path,
    *,
    piano: Piano | None = None,
    data_riferimento: date | None = None,
    password_apertura: str | None = None,
) -> Lettura:
    lettura = read_workbook(Path(path), piano=piano, password=password_apertura)
    if lettura.snapshot is None or lettura.compilata is None:
        return lettura
    snapshot = lettura.snapshot
    reference = data_riferimento or default_reference_date(snapshot.anno, snapshot.scadenza)
    lettura.anomalie.extend(check_area_plan(lettura.compilata, snapshot.anno, locate=lettura.locate))
    lettura.anomalie.extend(
        check_compilation(
            lettura.compilata,
            anno=snapshot.anno,
            rilevazione=snapshot.rilevazione,
            data_riferimento=reference,
            locate=lettura.locate,
        )
    )
    return lettura


def annotate(lettura: Lettura, out_dir: Path, *, password: str | None = None) -> Path | None:
    """A protected copy with the cells at fault highlighted and commented, to send back to the area."""
    if lettura.snapshot is None or lettura.compilata is None:
        return None
    notes: dict[tuple[str, str], list[str]] = {}
    for anomalia in lettura.anomalie:
        if not (anomalia.foglio and anomalia.cella):
            continue
        sheet, cell = lettura.canonico.get((anomalia.foglio, anomalia.cella), (anomalia.foglio, anomalia.cella))
        notes.setdefault((sheet, cell), []).append(f"[{anomalia.gravita}] {anomalia.messaggio}")
    names = {sheet.name for sheet in layout_names(lettura.snapshot)}
    annotations = [
        Annotation(sheet, cell, "\n\n".join(texts)) for (sheet, cell), texts in notes.items() if sheet in names
    ]
    output_folder(out_dir)
    target = out_dir / f"{lettura.file.stem}_annotato.xlsx"
    write_workbook(target, lettura.snapshot, password=password, area=lettura.compilata, annotations=annotations)
    return target


def verify(
    paths: Sequence[Path],
    *,
    piano: Piano | None = None,
    data_riferimento: date | None = None,
    annota: Path | None = None,
    password: str | None = None,
    password_apertura: str | None = None,
    registro: Registro = NESSUN_REGISTRO,
) -> list[Verifica]:
    """``password`` protects the sheets of annotated copies; ``password_apertura`` opens encrypted files."""
    reports = []
    for path in paths:
        lettura = verify_file(
            Path(path), piano=piano, data_riferimento=data_riferimento, password_apertura=password_apertura
        )
        registro.file_read(
            lettura.file, sha256=lettura.sha256, area=lettura.area, esito=lettura.esito, anomalie=lettura.anomalie
        )
        annotated = annotate(lettura, annota, password=password) if annota and lettura.anomalie else None
        if annotated is not None:
            registro.written(annotated, "copia annotata")
        reports.append(Verifica(lettura, annotated))
    return reports
