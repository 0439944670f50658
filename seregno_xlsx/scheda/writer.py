"""Writes the locked area workbook (``genera``) and its annotated copies (``verifica --annota``).

openpyxl writes it rather than xlsxwriter because xlsxwriter cannot protect the
workbook structure (no sheet added, removed or renamed).
"""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from seregno_xlsx.atomic import atomic_path
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.limits import (
    MAX_VALIDATION_ERROR,
    MAX_VALIDATION_LIST,
    MAX_VALIDATION_PROMPT,
    MAX_VALIDATION_TITLE,
)
from seregno_xlsx.piano.model import Area, date_window, round_value_field
from seregno_xlsx.scheda.fit import height, lines
from seregno_xlsx.scheda.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    LEGEND_ROW,
    META_SHEET,
    TITLE_ROW,
    Cell,
    Kind,
    SheetLayout,
    fingerprint,
    layout,
    locked_cells,
)
from seregno_xlsx.scheda.metadata import Metadati, keyed_fingerprint, metadata_rows
from seregno_xlsx.texts import Testi

# A yellow that stays visible on a dim screen and prints as a clear grey, framed by a darker border
# so that input cells stand out on a grey-scale print too.
INPUT_FILL = PatternFill("solid", fgColor="FFD966")
ERROR_FILL = PatternFill("solid", fgColor="F4A6A6")  # annotated copy: an error to correct
WARNING_FILL = PatternFill("solid", fgColor="FFC58F")  # annotated copy: a warning to check
PLAN_FILL = PatternFill("solid", fgColor="BDD7EE")  # annotated copy: plan content, nothing for the area to do
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
INPUT_SIDE = Side(style="medium", color="7F6000")
INPUT_BORDER = Border(left=INPUT_SIDE, right=INPUT_SIDE, top=INPUT_SIDE, bottom=INPUT_SIDE)
INSTRUCTIONS_WIDTH = 110
DATE_FORMAT = "DD/MM/YYYY"
NUMBER_FORMAT = "#,##0.00"

# Excel's limits on data validation texts.
# Characters XML 1.0 cannot carry; openpyxl refuses them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Annotation:
    """A cell at fault in an annotated copy: sheet name, A1 cell and the comment.

    ``errore``: the cell holds an error (else only warnings); ``typed``: what the area typed where it
    was refused, written back as text so the person sees it next to the comment.
    """

    sheet: str
    cell: str
    text: str
    errore: bool = False
    typed: str | None = None


def write_workbook(
    path: Path,
    snapshot: Metadati,
    *,
    password: str | None = None,
    area: Area | None = None,
    annotations: list[Annotation] | None = None,
    key: str | None = None,
    impronta: str | None = None,
) -> str:
    """Write the workbook of ``snapshot`` atomically and return its fingerprint.

    ``area`` overrides the input cells (an annotated copy shows what the area
    sent); its locked content must equal the snapshot's. ``key`` is the plan's fingerprint key;
    ``impronta`` an existing fingerprint to keep (an annotated copy of the same snapshot).
    """
    sheets = layout(snapshot.testi, snapshot.header, area or snapshot.area, snapshot.rilevazione)
    if impronta is None:
        # Keyed with the plan's key when the plan has one; an older plan gets the plain SHA-256.
        impronta = keyed_fingerprint(snapshot, key) if key else fingerprint(sheets)
    wb = Workbook()
    instructions = wb.active
    assert instructions is not None
    _write_instructions(instructions, snapshot, legend=bool(annotations))
    window = date_window(snapshot.anno)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        _write_sheet(ws, sheet, snapshot, window)
    _write_metadata(wb.create_sheet(META_SHEET), snapshot, impronta)
    locked = {(c.sheet, c.coordinate) for c in locked_cells(sheets)}
    for note in annotations or []:
        _annotate(wb[note.sheet], note, (note.sheet, note.cell) in locked, snapshot.testi)
    for ws in wb.worksheets:
        _protect(ws, password)
    wb.security = WorkbookProtection(lockStructure=True)
    if password:
        wb.security.workbookPassword = password
    # Also as document properties, for whoever looks at File > Properties; the reader uses the sheet.
    custom = wb.custom_doc_props  # type: ignore[attr-defined]  # missing from types-openpyxl
    for key, value in metadata_rows(snapshot, impronta)[:9]:
        custom.append(StringProperty(name=f"seregno_{key}", value=value))
    wb.properties.title = sheets[0].title
    wb.properties.creator = "seregno_xlsx"
    with atomic_path(path) as temp:
        wb.save(temp)
    return impronta


def _write_instructions(ws: Worksheet, snapshot: Metadati, *, legend: bool) -> None:
    """One printed page: every line's row as tall as its wrapped text (fit.lines), nothing shrunk."""
    testi = snapshot.testi
    ws.title = testi.fogli.istruzioni
    values = {
        "anno": snapshot.anno,
        "area": snapshot.area.nome,
        "rilevazione": snapshot.rilevazione.value,
        "scadenza": snapshot.scadenza.strftime("%d/%m/%Y")
        if snapshot.scadenza
        else testi.istruzioni.scadenza_non_indicata,
        "colonna_valore": testi.label(round_value_field(snapshot.rilevazione)),
    }
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    title = ws.cell(1, 1, _text(testi.istruzioni.titolo.format(**values)))
    title.font = Font(bold=True, size=14)
    title.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = height(lines(str(title.value), INSTRUCTIONS_WIDTH, size=14, bold=True), size=14)
    for n, line in enumerate(testi.istruzioni.righe, start=3):
        heading = not line.rstrip().endswith((".", ":", ")"))
        _instruction(ws, n, line.format(**values), Font(bold=True, size=12) if heading else None)
    row = len(testi.istruzioni.righe) + 4
    _instruction(ws, row, testi.titoli.legenda, None, INPUT_FILL, INPUT_BORDER)
    if legend:
        a = testi.annotazioni
        _instruction(ws, row + 2, a.legenda, Font(bold=True))
        for n, (text, fill) in enumerate(((a.errore, ERROR_FILL), (a.avviso, WARNING_FILL), (a.piano, PLAN_FILL))):
            _instruction(ws, row + 3 + n, text, None, fill, BORDER)
    _page_setup(ws, snapshot.area.nome, repeat_header=False)
    ws.page_setup.fitToHeight = 1  # the whole sheet on one page


def _instruction(
    ws: Worksheet, row: int, text: str, font: Font | None, fill: PatternFill | None = None, border: Border | None = None
) -> None:
    cell = ws.cell(row, 1, _text(text))
    cell.data_type = "s"
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    size = 11.0
    if font is not None:
        cell.font = font
        size = float(font.size or 11)
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    ws.row_dimensions[row].height = height(lines(text, INSTRUCTIONS_WIDTH, size=size, bold=bool(font)), size=size)


def _write_sheet(ws: Worksheet, sheet: SheetLayout, snapshot: Metadati, window: tuple[date, date]) -> None:
    for col, column in enumerate(sheet.spec.columns, start=1):
        ws.column_dimensions[get_column_letter(col)].width = column.width
    validations: dict[str, DataValidation] = {}
    # Cells of each validation, given to it at the end: adding them one by one is quadratic in openpyxl.
    validated: dict[int, tuple[DataValidation, list[str]]] = {}
    # The style of the first data cell of a kind is copied to the others: linear, and much faster.
    styles: dict[tuple[object, ...], StyleArray] = {}
    for cell in sheet.cells:
        target = ws.cell(cell.row, cell.col)
        assert isinstance(target, XlCell)  # nothing is merged in a generated sheet
        style_key = (cell.kind, cell.locked, cell.column is not None and cell.column.wrap)
        if cell.row >= FIRST_DATA_ROW and style_key in styles:
            target._style = copy(styles[style_key])  # type: ignore[attr-defined]  # public setters re-hash styles
            _set_value(target, cell, formatted=True)
        else:
            _set_value(target, cell)
        if not cell.locked and cell.row >= FIRST_DATA_ROW:
            dv = _validation(ws, validations, cell, snapshot.testi, window)
            validated.setdefault(id(dv), (dv, []))[1].append(target.coordinate)
        if cell.row >= FIRST_DATA_ROW and style_key in styles:
            continue
        if cell.row == TITLE_ROW:
            target.font = Font(bold=True, size=13)
        elif cell.row == LEGEND_ROW:
            target.font = Font(italic=True)
        elif cell.row == HEADER_ROW:
            target.font = Font(bold=True)
            target.fill = HEADER_FILL
            target.border = BORDER
            target.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        else:
            target.border = BORDER
            wrap = cell.column is not None and cell.column.wrap
            target.alignment = Alignment(wrap_text=wrap, vertical="top")
            if not cell.locked:
                target.protection = Protection(locked=False)
                target.fill = INPUT_FILL
                target.border = INPUT_BORDER
            if cell.row >= FIRST_DATA_ROW:
                styles[style_key] = copy(target._style)  # type: ignore[attr-defined]
    for dv, coordinates in validated.values():
        dv.sqref = MultiCellRange(" ".join(coordinates))
    _fit_row_heights(ws, sheet)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, sheet.spec.freeze_col + 1).coordinate
    _page_setup(ws, snapshot.area.nome, repeat_header=True)


def _fit_row_heights(ws: Worksheet, sheet: SheetLayout) -> None:
    """Explicit heights: neither Excel nor LibreOffice grows wrapped rows of a generated file on opening."""
    counts: dict[int, int] = {}
    for cell in sheet.cells:
        if cell.row < HEADER_ROW or not isinstance(cell.value, str):
            continue
        width = sheet.spec.columns[cell.col - 1].width
        wraps = cell.row == HEADER_ROW or (cell.column is not None and cell.column.wrap)
        count = lines(cell.value, width, bold=cell.row == HEADER_ROW) if wraps else 1
        counts[cell.row] = max(counts.get(cell.row, 1), count)
    for row, count in counts.items():
        ws.row_dimensions[row].height = height(count)


def _set_value(target: XlCell, cell: Cell, *, formatted: bool = False) -> None:
    value = cell.value
    if formatted:
        pass
    elif cell.kind is Kind.DATE:
        target.number_format = DATE_FORMAT
    elif cell.kind is Kind.NUMBER:
        target.number_format = NUMBER_FORMAT
    elif cell.kind is Kind.INTEGER:
        target.number_format = "0"
    elif not cell.locked:
        target.number_format = "@"
    if value is None or value == "":
        return
    if isinstance(value, str):
        # Text is always text: openpyxl would store "=..." as a formula.
        target.value = _text(value)
        target.data_type = "s"
    elif isinstance(value, datetime):
        target.value = value.date()
    elif isinstance(value, date | int | float):
        target.value = value


def _text(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _checked(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise SeregnoError(
            f"modelli/scheda.toml, [convalida] {what}: {len(text)} caratteri, Excel ne ammette al massimo {limit}"
        )
    return text


def _validation(
    ws: Worksheet, cache: dict[str, DataValidation], cell: Cell, testi: Testi, window: tuple[date, date]
) -> DataValidation:
    c = testi.convalida
    start, end = (d.strftime("%d/%m/%Y") for d in window)
    target = ""
    if cell.kind is Kind.NUMBER and cell.data_row is not None:
        raw = getattr(cell.data_row.item, "valore_target", None)
        target = "-" if raw is None else f"{raw:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    key = f"{cell.kind}|{cell.column.label_key if cell.column else ''}|{target}"
    if key in cache:
        return cache[key]
    if cell.kind is Kind.DATE:
        dv = DataValidation(
            type="date",
            operator="between",
            formula1=f"DATE({window[0].year},{window[0].month},{window[0].day})",
            formula2=f"DATE({window[1].year},{window[1].month},{window[1].day})",
        )
        title, prompt, error = (
            c.data_titolo,
            c.data_messaggio.format(da=start, a=end),
            c.data_errore.format(da=start, a=end),
        )
    elif cell.kind is Kind.SI_NO:
        dv = DataValidation(type="list", formula1=_checked('"SI,NO"', MAX_VALIDATION_LIST, "elenco SI/NO"))
        title, prompt, error = c.si_no_titolo, c.si_no_messaggio, c.si_no_errore
    elif cell.kind is Kind.NUMBER:
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        title, prompt, error = c.numero_titolo, c.numero_messaggio.format(target=target), c.numero_errore
    else:
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="32000")
        is_note = cell.column is not None and cell.column.label_key == "note"
        title, prompt, error = (
            c.testo_titolo,
            c.note_messaggio if is_note else c.monitoraggio_messaggio,
            c.testo_errore,
        )
    dv.allow_blank = True
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.promptTitle = _checked(title, MAX_VALIDATION_TITLE, "titolo")
    dv.prompt = _checked(prompt, MAX_VALIDATION_PROMPT, "messaggio")
    dv.errorTitle = _checked(title, MAX_VALIDATION_TITLE, "titolo")
    dv.error = _checked(error, MAX_VALIDATION_ERROR, "errore")
    ws.add_data_validation(dv)
    cache[key] = dv
    return dv


def _write_metadata(ws: Worksheet, snapshot: Metadati, impronta: str) -> None:
    for n, (key, value) in enumerate(metadata_rows(snapshot, impronta), start=1):
        ws.cell(n, 1, key).data_type = "s"
        cell = ws.cell(n, 2, value)
        cell.data_type = "s"
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 80
    ws.sheet_state = "veryHidden"


def _annotate(ws: Worksheet, note: Annotation, locked: bool, testi: Testi) -> None:
    """Colour and comment a cell at fault; a refused value stays visible as the text the area typed."""
    cell = ws[note.cell]
    text = note.text
    if locked:
        # Plan content the area cannot edit: reported, never presented as the area's to correct.
        cell.fill = PLAN_FILL
        text = f"{testi.annotazioni.nota_piano}\n\n{text}"
    else:
        cell.fill = ERROR_FILL if note.errore else WARNING_FILL
        if note.typed and cell.value in (None, ""):
            cell.value = _text(note.typed)
            cell.data_type = "s"
    comment = Comment(text[:2000], "Controllo di gestione")
    comment.width, comment.height = 320, 160
    cell.comment = comment


def _protect(ws: Worksheet, password: str | None) -> None:
    protection = ws.protection
    protection.sheet = True
    # Staff may resize rows and columns to read long texts; nothing else.
    protection.formatColumns = False
    protection.formatRows = False
    protection.selectLockedCells = False
    protection.selectUnlockedCells = False
    if password:
        protection.password = password


def _page_setup(ws: Worksheet, area: str, *, repeat_header: bool) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    assert ws.sheet_properties.pageSetUpPr is not None
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    header, footer = ws.oddHeader, ws.oddFooter
    assert header is not None and footer is not None
    header.left.text = area.replace("&", "&&")
    header.right.text = "&A"
    footer.center.text = "Pagina &P di &N"
    ws.page_margins.left = ws.page_margins.right = 0.4
