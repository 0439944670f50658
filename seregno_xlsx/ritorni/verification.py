"""``verifica``: read returned workbooks, run every check, optionally write annotated copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from seregno_xlsx.atomic import output_folder
from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.findings import Anomalia, Gravita, printable
from seregno_xlsx.outputs import free_name
from seregno_xlsx.piano.checks import check_area_plan, check_compilation
from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.compilazione import compilation_findings
from seregno_xlsx.ritorni.reader import Lettura, cap_findings, layout_names, read_workbook, unreadable

if TYPE_CHECKING:
    from seregno_xlsx.scheda.writer import Annotation

# Findings of a typed value the reader refused: the value is not in the compiled area, only in the finding.
REFUSED_VALUE = frozenset({"data-non-valida", "numero-non-valido", "si-no-non-valido", "valore-errore"})


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
    def anomalie(self) -> Sequence[Anomalia]:
        return self.lettura.anomalie

    def to_json(self) -> dict[str, object]:
        return {
            "file": printable(str(self.lettura.file)),
            "area": self.lettura.area,
            "esito": self.lettura.esito,
            "anomalie": [a.model_dump(mode="json") for a in self.anomalie],
        }


def verify_file(
    path: Path,
    *,
    piano: Piano | PianoCompatto | None = None,
    data_riferimento: date | None = None,
    password_apertura: str | None = None,
) -> Lettura:
    lettura = read_workbook(Path(path), piano=piano, password=password_apertura)
    if lettura.metadati is None or lettura.compilata is None:
        return lettura
    try:
        _check(lettura, data_riferimento)
    except Exception as exc:  # one file's data never stops the others: it is that file's finding
        unreadable(lettura, exc)
    cap_findings(lettura)
    return lettura


def _check(lettura: Lettura, data_riferimento: date | None) -> None:
    assert lettura.metadati is not None and lettura.compilata is not None
    snapshot = lettura.metadati
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
    lettura.anomalie.extend(compilation_findings(lettura))


def annotate(
    lettura: Lettura, out_dir: Path, *, password: str | None = None, avoid: Sequence[Path] = ()
) -> Path | None:
    """A protected copy with the cells at fault highlighted and commented, to send back to the area.

    It never replaces a file: an existing name (the area's own reply, a file of ``avoid``) gets ``_2``...
    The copy keeps the file's fingerprint: the area's corrected reply is checked like the original.
    """
    if lettura.metadati is None or lettura.compilata is None:
        return None
    from seregno_xlsx.scheda.writer import write_workbook  # openpyxl: loaded only to write a copy

    found: dict[tuple[str, str], list[Anomalia]] = {}
    for anomalia in lettura.anomalie:
        if not (anomalia.foglio and anomalia.cella):
            continue
        sheet, cell = lettura.canonico.get((anomalia.foglio, anomalia.cella), (anomalia.foglio, anomalia.cella))
        found.setdefault((sheet, cell), []).append(anomalia)
    names = {sheet.name for sheet in layout_names(lettura.metadati)}
    annotations = [_annotation(sheet, cell, items) for (sheet, cell), items in found.items() if sheet in names]
    output_folder(out_dir)
    target = free_name(out_dir, f"{lettura.file.stem}_annotato", ".xlsx", avoid=[lettura.file, *avoid])
    write_workbook(
        target,
        lettura.metadati,
        password=password,
        area=lettura.compilata,
        annotations=annotations,
        impronta=lettura.impronta or None,
    )
    return target


def _annotation(sheet: str, cell: str, items: list[Anomalia]) -> Annotation:
    """The comment of one cell; a refused value (an error with the raw text) is written back as typed."""
    errors = [a for a in items if a.gravita is Gravita.ERRORE]
    typed = next((a.valore for a in errors if a.codice in REFUSED_VALUE and a.valore), None)
    text = "\n\n".join(f"[{a.gravita}] {a.messaggio}" for a in items)
    from seregno_xlsx.scheda.writer import Annotation

    return Annotation(sheet, cell, text, errore=bool(errors), typed=typed)


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
        annotated = annotate(lettura, annota, password=password, avoid=paths) if annota and lettura.anomalie else None
        if annotated is not None:
            registro.written(annotated, "copia annotata")
        reports.append(Verifica(lettura, annotated))
    return reports
