"""Reads a returned workbook back into a compilation, whatever the client did to it.

The workbook is recognised by its metadata; its expected content is rebuilt
from the snapshot with the same :func:`scheda.layout` the writer used. Rows are
found by their codes and columns by their labels, never by fixed positions, so
inserted rows or moved columns are reported and still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from seregno_xlsx.files import sha256_file
from seregno_xlsx.findings import Anomalia, finding, has_errors
from seregno_xlsx.piano.model import Area, Piano
from seregno_xlsx.ritorni.values import Problem, is_blank, parse_date, parse_number, parse_si_no, parse_text
from seregno_xlsx.ritorni.workbook_file import Grid, UnreadableFile, open_grid
from seregno_xlsx.scheda.generation import as_shown, snapshot_for, workbook_filename
from seregno_xlsx.scheda.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    LEGEND_ROW,
    META_SHEET,
    TEMPLATE_VERSION,
    TITLE_ROW,
    Cell,
    Kind,
    Row,
    SheetLayout,
    canonical,
    fingerprint,
    layout,
)
from seregno_xlsx.scheda.metadata import KEY_PRODUCT, MetadataError, Snapshot, parse_metadata

Position = tuple[str, str]
# (sheet key, row code, model field) -> (sheet name, A1 cell) in the returned workbook.
Positions = dict[tuple[str, str, str], Position]


class EsitoLettura(StrEnum):
    """The verdict on one file read."""

    CONFORME = "conforme"
    CON_AVVISI = "con avvisi"
    CON_ERRORI = "con errori"
    NON_LEGGIBILE = "non leggibile"


@dataclass
class Lettura:
    """What reading one file gave: the compilation (if any) and the findings."""

    file: Path
    sha256: str = ""
    snapshot: Snapshot | None = None
    compilata: Area | None = None
    anomalie: list[Anomalia] = field(default_factory=list)
    valori_letti: int = 0
    posizioni: Positions = field(default_factory=dict)
    # Cells of the returned workbook -> the same cells in a freshly generated one.
    canonico: dict[Position, Position] = field(default_factory=dict)
    formato: str = ""
    compilato_il: datetime | None = None
    # The grid read, for checks on what values alone do not show (formulas, merges, error cells).
    grid: Grid | None = field(default=None, repr=False)

    @property
    def area(self) -> str:
        return self.snapshot.area.nome if self.snapshot else ""

    @property
    def leggibile(self) -> bool:
        return self.compilata is not None

    @property
    def esito(self) -> EsitoLettura:
        if not self.leggibile:
            return EsitoLettura.NON_LEGGIBILE
        if has_errors(self.anomalie):
            return EsitoLettura.CON_ERRORI
        return EsitoLettura.CON_AVVISI if self.anomalie else EsitoLettura.CONFORME

    def locate(self, sheet_key: str, code: str, field_name: str) -> Position:
        return self.posizioni.get((sheet_key, code, field_name), ("", ""))


def read_workbook(path: Path, *, piano: Piano | None = None, password: str | None = None) -> Lettura:
    """``password`` is the password to open an encrypted workbook (not the sheets' protection)."""
    path = Path(path)
    lettura = Lettura(file=path)
    try:
        grid = open_grid(path, password=password)
        lettura.sha256 = sha256_file(path)
    except UnreadableFile as exc:
        lettura.anomalie.append(finding(exc.codice, exc.dettaglio, valore=path.name))
        return lettura
    except OSError as exc:
        lettura.anomalie.append(finding("file-illeggibile", f"impossibile aprire il file ({exc.strerror})"))
        return lettura
    lettura.formato = grid.format
    lettura.grid = grid
    lettura.compilato_il = grid.modified or datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
    if grid.has_macros or grid.active_content:
        what = ", ".join(grid.active_content) or "progetto VBA"
        lettura.anomalie.append(finding("macro-presenti", f"il file contiene: {what}", valore=path.name))
    snapshot = _recognise(grid, lettura)
    if snapshot is None:
        return lettura
    lettura.snapshot = snapshot
    area = snapshot.area.nome
    if snapshot.versione_modello != TEMPLATE_VERSION:
        lettura.anomalie.append(
            finding(
                "versione-modello-diversa",
                f"versione del modello {snapshot.versione_modello}, attesa {TEMPLATE_VERSION}",
                area=area,
                valore=snapshot.versione_modello,
            )
        )
    _check_file_name(path, snapshot, lettura)
    compiled = snapshot.area.model_copy(deep=True)
    reader = _SheetReader(grid, snapshot, compiled, lettura)
    for sheet in layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione):
        reader.read(sheet)
    lettura.compilata = compiled
    lettura.anomalie.extend(structure_findings(lettura))
    if piano is not None:
        lettura.anomalie.extend(compare_with_plan(snapshot, piano))
    return lettura


def _recognise(grid: Grid, lettura: Lettura) -> Snapshot | None:
    sheet = META_SHEET if META_SHEET in grid.sheets else None
    if sheet is None:
        # A renamed metadata sheet is still found by its first key.
        sheet = next((n for n, rows in grid.sheets.items() if rows and rows[0][:1] == [KEY_PRODUCT]), None)
    if sheet is None:
        lettura.anomalie.append(
            finding(
                "file-non-riconosciuto",
                "manca il foglio «Metadati» che identifica la scheda",
                valore=lettura.file.name,
            )
        )
        return None
    pairs = {str(row[0]).strip(): str(row[1]) for row in grid.sheets[sheet] if len(row) >= 2 and row[0]}
    try:
        snapshot, stored = parse_metadata(pairs)
    except MetadataError as exc:
        codice = "file-non-riconosciuto" if KEY_PRODUCT in str(exc) else "metadati-alterati"
        lettura.anomalie.append(finding(codice, str(exc), foglio=sheet, valore=lettura.file.name))
        return None
    expected = fingerprint(layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione))
    if expected != stored:
        lettura.anomalie.append(
            finding(
                "metadati-alterati",
                "l'impronta del contenuto protetto non corrisponde ai dati della scheda",
                area=snapshot.area.nome,
                foglio=sheet,
                valore=stored[:16],
            )
        )
    return snapshot


_FILE_NAME = re.compile(r"^Obiettivi_(\d{4})_(.+)_(intermedia|finale)$")


def _check_file_name(path: Path, snapshot: Snapshot, lettura: Lettura) -> None:
    match = _FILE_NAME.match(path.stem)
    if not match:
        return
    expected = Path(workbook_filename(snapshot.anno, snapshot.area.nome, snapshot.rilevazione)).stem
    if _FILE_NAME.match(expected) and match.group(2) != _FILE_NAME.match(expected).group(2):  # type: ignore[union-attr]
        lettura.anomalie.append(
            finding(
                "nome-file-area-diversa",
                f"il file si chiama «{path.name}» ma la scheda è dell'area «{snapshot.area.nome}»",
                area=snapshot.area.nome,
                valore=path.name,
            )
        )


class _SheetReader:
    """Reads one data sheet: finds header, rows by code, compares locked cells, parses inputs."""

    def __init__(self, grid: Grid, snapshot: Snapshot, compiled: Area, lettura: Lettura) -> None:
        self.grid = grid
        self.snapshot = snapshot
        self.compiled = compiled
        self.lettura = lettura
        self.area = snapshot.area.nome

    def _add(self, codice: str, dettaglio: str, **where: object) -> None:
        self.lettura.anomalie.append(finding(codice, dettaglio, area=self.area, **where))  # type: ignore[arg-type]

    def read(self, sheet: SheetLayout) -> None:
        actual = self._find_sheet(sheet)
        if actual is None:
            return
        header_row = self._find_header(sheet, actual)
        if header_row is None:
            return
        columns = self._map_columns(sheet, actual, header_row)
        offset = header_row - HEADER_ROW
        self._compare_titles(sheet, actual, offset)
        found = self._rows_by_key(sheet, actual, header_row, columns)
        expected_cells = {(c.row, c.col): c for c in sheet.cells}
        compiled_rows = sheet.spec.rows(self.compiled)
        moved_reported = False
        for index, (row, compiled_row) in enumerate(zip(sheet.rows, compiled_rows, strict=True)):
            key = sheet.spec.row_key(row)
            expected_row = FIRST_DATA_ROW + index
            code = key[0] if len(key) == 1 else "/".join(key)
            if key not in found:
                self._add(
                    "riga-mancante",
                    f"nel foglio non c'è più la riga con codice {code}",
                    obiettivo=row.obiettivo.codice,
                    fase=_item_code(row.item) if row.item is not row.obiettivo else "",
                    foglio=actual,
                    cella=f"A{expected_row + offset}",
                    valore=code,
                )
                continue
            actual_row = found.pop(key)
            if actual_row != expected_row + offset and not moved_reported:
                moved_reported = True
                self._add(
                    "riga-spostata",
                    f"la riga del codice {code} è alla riga {actual_row} invece che alla {expected_row}",
                    foglio=actual,
                    cella=f"A{actual_row}",
                    valore=code,
                )
            for col in range(1, len(sheet.spec.columns) + 1):
                cell = expected_cells[(expected_row, col)]
                where = (actual, _coordinate(columns[col - 1], actual_row))
                self.lettura.canonico[where] = (sheet.name, cell.coordinate)
                if cell.column is not None and cell.column.field:
                    self.lettura.posizioni[(sheet.spec.key, code, cell.column.field)] = where
                raw = self.grid.value(actual, actual_row, columns[col - 1])
                if is_blank(raw):
                    # calamine reads an error cell as empty: the error must not pass for "not filled".
                    raw = self.grid.errors.get(actual, {}).get(where[1], raw)
                if cell.locked:
                    self._compare_locked(cell, raw, where, row.obiettivo.codice, row.fase)
                else:
                    self._read_input(cell, raw, where, compiled_row)
        for key, actual_row in found.items():
            self._add(
                "riga-estranea",
                f"la riga {actual_row} ha il codice {'/'.join(key)}, che la scheda non prevede",
                foglio=actual,
                cella=f"A{actual_row}",
                valore="/".join(key),
            )

    def _find_sheet(self, sheet: SheetLayout) -> str | None:
        if sheet.name in self.grid.sheets:
            return sheet.name
        known = {s.name for s in layout_names(self.snapshot)}
        for name, rows in self.grid.sheets.items():
            if name in known or name == META_SHEET:
                continue
            if any(_matches_labels(r, sheet.labels) for r in rows[:30]):
                self._add(
                    "foglio-mancante",
                    f"il foglio «{sheet.name}» è stato rinominato in «{name}»",
                    foglio=name,
                    valore=name,
                )
                return name
        self._add("foglio-mancante", f"il foglio «{sheet.name}» non c'è più", foglio=sheet.name, valore=sheet.name)
        return None

    def _find_header(self, sheet: SheetLayout, actual: str) -> int | None:
        for number, row in enumerate(self.grid.sheets[actual][:30], start=1):
            if _matches_labels(row, sheet.labels):
                if number != HEADER_ROW:
                    self._add(
                        "riga-spostata",
                        f"l'intestazione è alla riga {number} invece che alla {HEADER_ROW}",
                        foglio=actual,
                        cella=f"A{number}",
                    )
                return number
        self._add(
            "intestazione-alterata",
            "non si trova più la riga di intestazione delle colonne",
            foglio=actual,
            cella=f"A{HEADER_ROW}",
        )
        return None

    def _map_columns(self, sheet: SheetLayout, actual: str, header_row: int) -> list[int]:
        header = [canonical(v) for v in self.grid.sheets[actual][header_row - 1]]
        columns = []
        for expected_col, label in enumerate(sheet.labels, start=1):
            if label in header:
                col = header.index(label) + 1
                if col != expected_col:
                    self._add(
                        "intestazione-alterata",
                        f"la colonna «{label}» è in colonna {_letter(col)} invece che in {_letter(expected_col)}",
                        foglio=actual,
                        cella=_coordinate(col, header_row),
                        valore=label,
                    )
            else:
                col = expected_col
                found = header[col - 1] if col <= len(header) else ""
                self._add(
                    "intestazione-alterata",
                    f"l'intestazione «{found}» sostituisce «{label}»",
                    foglio=actual,
                    cella=_coordinate(col, header_row),
                    valore=found,
                )
            columns.append(col)
        return columns

    def _compare_titles(self, sheet: SheetLayout, actual: str, offset: int) -> None:
        for row, text in ((TITLE_ROW, sheet.title), (LEGEND_ROW, sheet.legend)):
            if row + offset < 1:
                continue
            raw = self.grid.value(actual, row + offset, 1)
            if canonical(raw) != canonical(text):
                self._add(
                    "cella-bloccata-modificata",
                    f"il valore originale era «{_short(text)}»",
                    foglio=actual,
                    cella=f"A{row + offset}",
                    valore=raw,
                )

    def _rows_by_key(
        self, sheet: SheetLayout, actual: str, header_row: int, columns: list[int]
    ) -> dict[tuple[str, ...], int]:
        key_cols = [columns[[c.label_key for c in sheet.spec.columns].index(k)] for k in sheet.spec.key_labels]
        found: dict[tuple[str, ...], int] = {}
        rows = self.grid.sheets[actual]
        for number in range(header_row + 1, len(rows) + 1):
            key = tuple(canonical(self.grid.value(actual, number, c)) for c in key_cols)
            if not any(key):
                continue
            if key in found:
                self._add(
                    "riga-estranea",
                    f"il codice {'/'.join(key)} compare due volte (righe {found[key]} e {number})",
                    foglio=actual,
                    cella=_coordinate(key_cols[0], number),
                    valore="/".join(key),
                )
                continue
            found[key] = number
        return found

    def _compare_locked(self, cell: Cell, raw: object, where: Position, obiettivo: str, fase: str) -> None:
        if _same(cell, raw, self.grid.date1904):
            return
        original = "(vuota)" if is_blank(cell.value) else _short(_show(cell.value))
        self._add(
            "cella-bloccata-modificata",
            f"il valore originale era «{original}»",
            obiettivo=obiettivo,
            fase=fase,
            foglio=where[0],
            cella=where[1],
            valore=_short(_show(raw)),
        )

    def _read_input(self, cell: Cell, raw: object, where: Position, row: Row) -> None:
        assert cell.column is not None and cell.column.field is not None
        value: object
        if cell.kind is Kind.DATE:
            value = parse_date(raw, date1904=self.grid.date1904)
        elif cell.kind is Kind.SI_NO:
            value = parse_si_no(raw)
        elif cell.kind is Kind.NUMBER:
            value = parse_number(raw)
        else:
            text = parse_text(raw)
            value = text.problem if text.problem and text.problem.codice != "carattere-non-ammesso" else text.value
            if text.problem and text.problem.codice == "carattere-non-ammesso":
                self._problem(text.problem, raw, where, row)
        if isinstance(value, Problem):
            self._problem(value, raw, where, row)
            return
        setattr(row.item, cell.column.field, value)
        if value not in (None, ""):
            self.lettura.valori_letti += 1

    def _problem(self, problem: Problem, raw: object, where: Position, row: Row) -> None:
        self._add(
            problem.codice,
            problem.dettaglio,
            obiettivo=row.obiettivo.codice,
            fase=row.fase,
            foglio=where[0],
            cella=where[1],
            valore=_short(_show(raw)),
        )


def layout_names(snapshot: Snapshot) -> Iterator[SheetLayout]:
    yield from layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione)


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
                    obiettivo=cell.obiettivo,
                    fase=cell.fase,
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
                    obiettivo=hit[1].obiettivo,
                    fase=hit[1].fase,
                    foglio=sheet,
                    cella=hit[0],
                    valore=ref,
                )
            )
    return found


def compare_with_plan(snapshot: Snapshot, piano: Piano) -> list[Anomalia]:
    """The workbook's locked content against the plan in force (``--piano``)."""
    area = snapshot.area.nome
    if (piano.ente, piano.anno, piano.titolo, piano.delibera) != (
        snapshot.ente,
        snapshot.anno,
        snapshot.titolo,
        snapshot.delibera,
    ):
        return [
            finding(
                "piano-diverso",
                f"la scheda è del piano «{snapshot.ente} {snapshot.anno}» ({snapshot.delibera}), "
                f"il piano indicato è «{piano.ente} {piano.anno}» ({piano.delibera})",
                area=area,
                valore=f"{snapshot.ente} {snapshot.anno}",
            )
        ]
    try:
        plan_area = piano.area(area)
    except KeyError:
        return [finding("area-non-nel-piano", f"l'area «{area}» non è nel piano indicato", area=area, valore=area)]
    expected = snapshot_for(piano, plan_area, snapshot.rilevazione, snapshot.testi, snapshot.scadenza)
    plan_sheets = layout(snapshot.testi, expected.header, expected.area, snapshot.rilevazione)
    # Rows are matched by code, not position: a scheda generated before phases were sorted by code
    # (or with the export's 0 as mid-year context) shows the same plan. Cells are named as in the file.
    shown = as_shown(snapshot.area, snapshot.rilevazione)
    ours = layout(snapshot.testi, snapshot.header, shown, snapshot.rilevazione)
    in_file = layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione)
    found: list[Anomalia] = []
    for plan_sheet, our_sheet, file_sheet in zip(plan_sheets, ours, in_file, strict=True):
        if len(plan_sheet.rows) != len(our_sheet.rows):
            found.append(
                finding(
                    "differenza-dal-piano",
                    f"il piano ha {len(plan_sheet.rows)} righe, la scheda {len(our_sheet.rows)}",
                    area=area,
                    foglio=our_sheet.name,
                )
            )
        ours_by_key = {_cell_key(c): c for c in our_sheet.cells if c.locked}
        file_by_key = {_cell_key(c): c for c in file_sheet.cells if c.locked}
        for cell in plan_sheet.cells:
            mine = ours_by_key.get(_cell_key(cell))
            if not cell.locked or mine is None or canonical(mine.value) == canonical(cell.value):
                continue
            mine = file_by_key.get(_cell_key(cell), mine)
            found.append(
                finding(
                    "differenza-dal-piano",
                    f"nel piano il valore è «{_short(_show(cell.value))}»",
                    area=area,
                    obiettivo=cell.obiettivo,
                    fase=cell.fase,
                    foglio=our_sheet.name,
                    cella=cell.coordinate,
                    valore=_short(_show(mine.value)),
                )
            )
    return found


def _cell_key(cell: Cell) -> tuple[object, ...]:
    """A layout cell by its row's code and its column; title, legend and header rows by position."""
    if cell.data_row is None or cell.spec is None:
        return (cell.row, cell.col)
    return (cell.spec.row_key(cell.data_row), cell.col)


def _same(cell: Cell, raw: object, date1904: bool) -> bool:
    expected = cell.value
    if is_blank(expected):
        return is_blank(raw)
    if isinstance(expected, date):
        return parse_date(raw, date1904=date1904) == expected
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = parse_number(raw)
        return isinstance(number, float) and abs(number - float(expected)) <= 1e-9 * max(1.0, abs(expected))
    return canonical(parse_text(raw).value) == canonical(parse_text(expected).value)


def _item_code(item: object) -> str:
    return str(getattr(item, "codice", getattr(item, "matricola", "")))


def _matches_labels(row: list[object], labels: list[str]) -> bool:
    values = {canonical(v) for v in row}
    return sum(label in values for label in labels) >= max(2, len(labels) // 2 + 1)


def _coordinate(col: int, row: int) -> str:
    return f"{_letter(col)}{row}"


def _letter(col: int) -> str:
    return get_column_letter(col)


def _show(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
