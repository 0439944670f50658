"""``verifica``: read returned workbooks, run every check, optionally write annotated copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from .audit import NESSUN_REGISTRO, Registro
from .checks import check_area_plan, check_compilation
from .findings import Anomalia, finding
from .model import Fase, Indicatore, Piano
from .scheda import Cell
from .workbook_file import Grid
from .workbook_reader import Lettura, layout_names, read_workbook
from .workbook_writer import Annotation, write_workbook


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
    lettura.anomalie.extend(structure_findings(lettura))
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


def structure_findings(lettura: Lettura) -> list[Anomalia]:
    """Formulas typed into input cells and merged cells over them (the grid holds values only).

    Decision: a formula in an input cell is never recalculated; its value is the one the client's
    program computed and saved (``formula-in-cella``, avviso). A formula saved without a computed
    value reads as empty, and the finding says so. A merge over an input cell is an edit of the
    protected structure (``cella-bloccata-modificata``): only the first cell of the merge keeps a value.
    """
    grid = lettura.grid
    if lettura.snapshot is None or grid is None:
        return []
    inputs = _input_cells(lettura)
    area = lettura.area
    found: list[Anomalia] = []
    for sheet, cells in grid.formulas.items():
        for coordinate, formula in cells.items():
            cell = inputs.get(lettura.canonico.get((sheet, coordinate), ("", "")))
            if cell is None:
                continue
            if formula.valore_salvato:
                detail = f"la cella contiene la formula «{formula.testo}»: si usa il valore calcolato salvato nel file"
            else:
                detail = (
                    f"la cella contiene la formula «{formula.testo}» senza un valore calcolato salvato: "
                    "la cella è letta vuota; scrivere direttamente il valore"
                )
            found.append(
                finding(
                    "formula-in-cella",
                    detail,
                    area=area,
                    obiettivo=_objective(cell),
                    fase=_phase(cell),
                    foglio=sheet,
                    cella=coordinate,
                    valore=formula.testo,
                )
            )
    found.extend(_merge_findings(lettura, grid, inputs))
    return found


def _input_cells(lettura: Lettura) -> dict[tuple[str, str], Cell]:
    assert lettura.snapshot is not None
    return {
        (sheet.name, cell.coordinate): cell
        for sheet in layout_names(lettura.snapshot)
        for cell in sheet.cells
        if not cell.locked
    }


def _merge_findings(lettura: Lettura, grid: Grid, inputs: dict[tuple[str, str], Cell]) -> list[Anomalia]:
    found = []
    for sheet, ranges in grid.merged.items():
        for ref in ranges:
            try:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
            except (ValueError, TypeError):
                continue
            if min_col is None or min_row is None or max_col is None or max_row is None:
                continue
            if (max_col - min_col + 1) * (max_row - min_row + 1) > 10_000:
                max_row = min_row + 10_000 // (max_col - min_col + 1)
            coordinates = [
                f"{get_column_letter(c)}{r}" for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)
            ]
            covered = [(c, inputs.get(lettura.canonico.get((sheet, c), ("", "")))) for c in coordinates]
            hit = next(((coord, cell) for coord, cell in covered if cell is not None), None)
            if hit is None:
                continue
            first = f"{get_column_letter(min_col)}{min_row}"
            found.append(
                finding(
                    "cella-bloccata-modificata",
                    f"le celle {ref} sono state unite, anche su celle da compilare: si legge solo il valore "
                    f"della prima cella ({first}), le altre risultano vuote; separare le celle e ricompilarle",
                    area=lettura.area,
                    obiettivo=_objective(hit[1]),
                    fase=_phase(hit[1]),
                    foglio=sheet,
                    cella=hit[0],
                    valore=ref,
                )
            )
    return found


def _objective(cell: Cell) -> str:
    return cell.data_row.obiettivo.codice if cell.data_row else ""


def _phase(cell: Cell) -> str:
    item = cell.data_row.item if cell.data_row else None
    return item.codice if isinstance(item, Fase | Indicatore) else ""


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
    out_dir.mkdir(parents=True, exist_ok=True)
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
