"""Writes the locked area workbook (``genera``) and its annotated copies (``verifica --annota``).

XlsxWriter writes it (ten times faster than openpyxl cell by cell); the one thing it cannot do,
protecting the workbook structure (no sheet added, removed or renamed), is added by ``_Workbook``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

# xlsxwriter 3.3 has inline hints but no py.typed marker: mypy would skip it anyway.
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.packager import Packager  # type: ignore[import-untyped]
from xlsxwriter.sharedstrings import SharedStrings  # type: ignore[import-untyped]
from xlsxwriter.utility import _preserve_whitespace, xl_cell_to_rowcol  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from seregno_xlsx.atomic import atomic_path
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.limits import (
    MAX_CELL_TEXT,
    MAX_VALIDATION_ERROR,
    MAX_VALIDATION_LIST,
    MAX_VALIDATION_PROMPT,
    MAX_VALIDATION_TITLE,
    italian_number,
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
)
from seregno_xlsx.scheda.metadata import Metadati, keyed_fingerprint, metadata_rows
from seregno_xlsx.texts import Testi

# A yellow that stays visible on a dim screen and prints as a clear grey, framed by a darker border
# so that input cells stand out on a grey-scale print too (colours as RGB hex).
INPUT_FILL = "FFD966"
ERROR_FILL = "F4A6A6"  # annotated copy: an error to correct
WARNING_FILL = "FFC58F"  # annotated copy: a warning to check
PLAN_FILL = "BDD7EE"  # annotated copy: plan content, nothing for the area to do
HEADER_FILL = "D9E1F2"
THIN = "A6A6A6"  # thin border of every cell of the table
INPUT_SIDE = "7F6000"  # medium border of an input cell
INSTRUCTIONS_WIDTH = 110
DATE_FORMAT = "DD/MM/YYYY"
NUMBER_FORMAT = "#,##0.00"
# Excel's pixels per unit of column width (Calibri 11): a width in pixels is written back as exactly
# the width asked for.
_PIXELS_PER_UNIT = 7

# Characters XML 1.0 cannot carry.
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
    shown = area or snapshot.area
    sheets = layout(snapshot.testi, snapshot.header, shown, snapshot.rilevazione, snapshot.versione_modello)
    if impronta is None:
        # Keyed with the plan's key when the plan has one; an older plan gets the plain SHA-256.
        impronta = keyed_fingerprint(snapshot, key) if key else fingerprint(sheets)
    _refuse_long_texts(shown, sheets, inputs_too=area is None)
    notes: dict[str, dict[tuple[int, int], Annotation]] = {}
    for note in annotations or []:
        notes.setdefault(note.sheet, {})[xl_cell_to_rowcol(note.cell)] = note
    rows = metadata_rows(snapshot, impronta)
    with atomic_path(path) as temp:
        wb = _Workbook(str(temp), password)
        styles = _Styles(wb)
        _write_instructions(wb.add_worksheet(snapshot.testi.fogli.istruzioni), styles, snapshot, legend=bool(notes))
        window = date_window(snapshot.anno)
        for sheet in sheets:
            ws = wb.add_worksheet(sheet.name)
            _write_sheet(ws, styles, sheet, snapshot, window, notes.get(sheet.name, {}))
        _write_metadata(wb.add_worksheet(META_SHEET), rows)
        for ws in wb.worksheets():
            _protect(ws, password)
        # Also as document properties, for whoever looks at File > Properties; the reader uses the sheet.
        for name, value in rows[:9]:
            wb.set_custom_property(f"seregno_{name}", value, "text")
        wb.set_properties({"title": sheets[0].title, "author": "seregno_xlsx", "created": datetime.now(UTC)})
        wb.close()
    return impronta


def _refuse_long_texts(area: Area, sheets: list[SheetLayout], *, inputs_too: bool) -> None:
    """A plan's text longer than a cell holds is refused: XlsxWriter would cut it short without a word.

    ``inputs_too``: the input cells hold the plan's text too (a generated scheda); in an annotated copy
    they hold what the area sent, cut at the limit (its finding says so).
    """
    for sheet in sheets:
        for cell in sheet.cells:
            if (cell.locked or inputs_too) and isinstance(cell.value, str) and len(cell.value) > MAX_CELL_TEXT:
                raise SeregnoError(
                    f"area «{area.nome}», foglio «{cell.sheet}», cella {cell.coordinate}: il testo ha "
                    f"{italian_number(len(cell.value))} caratteri, una cella di Excel ne contiene al massimo "
                    f"{italian_number(MAX_CELL_TEXT)}; accorciarlo nel piano"
                )


class _Workbook(Workbook):  # type: ignore[misc]
    """XlsxWriter's workbook with its structure locked: no sheet can be added, removed, renamed or shown."""

    def __init__(self, filename: str, password: str | None) -> None:
        # Nothing typed is ever turned into a formula, a number or a link; the parts are built in memory.
        super().__init__(
            filename,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
        )
        self._lock_password = password
        self.worksheet_class = _Sheet

    def _get_packager(self) -> Packager:
        return _Packager()

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        # <workbookProtection> follows <workbookPr> in the schema's order.
        attributes: list[tuple[str, Any]] = [("lockStructure", 1)]
        if self._lock_password:
            # The same legacy hash as the sheets' passwords (XlsxWriter's, which does not use its instance).
            attributes.append(("workbookPassword", Worksheet._encode_password(self, self._lock_password)))
        self._xml_empty_tag("workbookProtection", attributes)


class _TextOnlyStrings(SharedStrings):  # type: ignore[misc]
    """XlsxWriter's shared strings, every one escaped: XlsxWriter writes a string that starts with ``<r>``
    and ends with ``</r>`` as it is, taking it for rich text, so a text typed by an area (an annotated
    copy holds them) could break the part or add to it. No scheda writes rich text."""

    def _write_si(self, string: str) -> None:
        string = self._escape_control_characters(string)
        preserve = [("xml:space", "preserve")] if _preserve_whitespace(string) else []
        self._xml_si_element(string, preserve)


class _Packager(Packager):  # type: ignore[misc]
    def _write_shared_strings_file(self) -> None:
        # XlsxWriter's own, with the strings above.
        if not self.workbook.str_table.count:
            return
        sst = _TextOnlyStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _Sheet(Worksheet):  # type: ignore[misc]
    """XlsxWriter's worksheet remembering each formula it prepared: it runs some 150 regular expressions
    over every formula of a validation, and the schede's few (``DATE(...)``) recur in every sheet."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> Any:
        key = (formula, expand_future_functions, self.use_future_functions)
        prepared = _PREPARED.get(key)
        if prepared is None:
            prepared = super()._prepare_formula(formula, expand_future_functions)
            if len(_PREPARED) < 1024:
                _PREPARED[key] = prepared
        return prepared


_PREPARED: dict[tuple[str, bool, bool], Any] = {}


class _Styles:
    """One XlsxWriter format per distinct look, made once per workbook: cells share them."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[object, ...], Format] = {}

    def get(self, **properties: Any) -> Format:
        key = tuple(sorted(properties.items()))
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.wb.add_format(properties)
        return found


def _border(colour: str, style: int) -> dict[str, Any]:
    """XlsxWriter's border on every side: 1 thin, 2 medium."""
    return {"border": style, "border_color": f"#{colour}"}


def _fill(colour: str) -> dict[str, Any]:
    return {"pattern": 1, "fg_color": f"#{colour}"}


def _write_instructions(ws: Worksheet, styles: _Styles, snapshot: Metadati, *, legend: bool) -> None:
    """One printed page: every line's row as tall as its wrapped text (fit.lines), nothing shrunk."""
    testi = snapshot.testi
    values = {
        "anno": snapshot.anno,
        "area": snapshot.area.nome,
        "rilevazione": snapshot.rilevazione.value,
        "scadenza": snapshot.scadenza.strftime("%d/%m/%Y")
        if snapshot.scadenza
        else testi.istruzioni.scadenza_non_indicata,
        "colonna_valore": testi.label(round_value_field(snapshot.rilevazione)),
    }
    _width(ws, 0, INSTRUCTIONS_WIDTH)
    _instruction(ws, styles, 1, testi.istruzioni.titolo.format(**values), size=14)
    for n, line in enumerate(testi.istruzioni.righe, start=3):
        heading = not line.rstrip().endswith((".", ":", ")"))
        _instruction(ws, styles, n, line.format(**values), size=12 if heading else None)
    row = len(testi.istruzioni.righe) + 4
    _instruction(ws, styles, row, testi.titoli.legenda, fill=INPUT_FILL, border=(INPUT_SIDE, 2))
    if legend:
        a = testi.annotazioni
        _instruction(ws, styles, row + 2, a.legenda, size=11)
        for n, (text, fill) in enumerate(((a.errore, ERROR_FILL), (a.avviso, WARNING_FILL), (a.piano, PLAN_FILL))):
            _instruction(ws, styles, row + 3 + n, text, fill=fill, border=(THIN, 1))
    _page_setup(ws, snapshot.area.nome, repeat_header=False)
    ws.fit_to_pages(1, 1)  # the whole sheet on one page


def _instruction(
    ws: Worksheet,
    styles: _Styles,
    row: int,
    text: str,
    *,
    size: float | None = None,
    fill: str | None = None,
    border: tuple[str, int] | None = None,
) -> None:
    """A line of the instructions in row ``row`` (1-based); ``size``: bold, of that size."""
    properties: dict[str, Any] = {"text_wrap": True, "valign": "top"}
    if size is not None:
        properties.update(bold=True, font_size=size)
    if fill is not None:
        properties.update(_fill(fill))
    if border is not None:
        properties.update(_border(*border))
    text = _text(text)
    ws.write_string(row - 1, 0, text, styles.get(**properties))
    points = size or 11.0
    ws.set_row(row - 1, height(lines(text, INSTRUCTIONS_WIDTH, size=points, bold=size is not None), size=points))


def _width(ws: Worksheet, col: int, width: float) -> None:
    """Column ``col`` (0-based) exactly ``width`` units wide, as the file states it."""
    pixels = round(width * _PIXELS_PER_UNIT)
    ws.set_column_pixels(col, col, pixels)


def _cell_format(styles: _Styles, cell: Cell, fill: str | None) -> Format:
    """The look of a layout cell: title, legend, header or data (input cells yellow and unlocked)."""
    if cell.row == TITLE_ROW:
        return styles.get(bold=True, font_size=13, **(_fill(fill) if fill else {}))
    if cell.row == LEGEND_ROW:
        return styles.get(italic=True, **(_fill(fill) if fill else {}))
    if cell.row == HEADER_ROW:
        return styles.get(
            bold=True,
            text_wrap=True,
            valign="vcenter",
            align="center",
            **_fill(fill or HEADER_FILL),
            **_border(THIN, 1),
        )
    properties: dict[str, Any] = {"valign": "top"}
    if cell.column is not None and cell.column.wrap:
        properties["text_wrap"] = True
    number_format = _NUMBER_FORMATS.get(cell.kind)
    if number_format is None and not cell.locked:
        number_format = "@"
    if number_format is not None:
        properties["num_format"] = number_format
    if cell.locked:
        properties.update(_border(THIN, 1))
        if fill:
            properties.update(_fill(fill))
    else:
        properties.update(locked=False, **_fill(fill or INPUT_FILL), **_border(INPUT_SIDE, 2))
    return styles.get(**properties)


_NUMBER_FORMATS = {Kind.DATE: DATE_FORMAT, Kind.NUMBER: NUMBER_FORMAT, Kind.INTEGER: "0"}


def _write_sheet(
    ws: Worksheet,
    styles: _Styles,
    sheet: SheetLayout,
    snapshot: Metadati,
    window: tuple[date, date],
    notes: dict[tuple[int, int], Annotation],
) -> None:
    for col, column in enumerate(sheet.spec.columns):
        _width(ws, col, column.width)
    validations: dict[str, tuple[dict[str, Any], list[str]]] = {}
    known: dict[str, dict[str, Any]] = {}
    formats: dict[tuple[object, ...], Format] = {}
    testi = snapshot.testi
    dates = tuple(d.strftime("%d/%m/%Y") for d in window)
    for cell in sheet.cells:
        row, col = cell.row - 1, cell.col - 1
        note = notes.pop((row, col), None)
        fill = _note_fill(note, cell.locked) if note else None
        style_key = (cell.row if cell.row <= HEADER_ROW else 0, cell.kind, cell.locked, cell.column, fill)
        cell_format = formats.get(style_key)
        if cell_format is None:
            cell_format = formats[style_key] = _cell_format(styles, cell, fill)
        value = cell.value
        if note and not cell.locked and note.typed and value in (None, ""):
            value = note.typed  # what the area typed where it was refused, shown as text beside the comment
            ws.write_string(row, col, _text(value), cell_format)
        else:
            _write_value(ws, row, col, cell, cell_format)
        if note:
            _comment(ws, row, col, note, cell.locked, testi)
        if not cell.locked and cell.row >= FIRST_DATA_ROW:
            key, options = _validation(cell, testi, window, dates, known)
            validations.setdefault(key, (options, []))[1].append(cell.coordinate)
    for (row, col), note in notes.items():  # a cell at fault outside the layout: coloured and commented
        ws.write_blank(row, col, None, styles.get(**_fill(_note_fill(note, False))))
        _comment(ws, row, col, note, False, testi)
    # One validation for the cells that share it, given all at once.
    for options, coordinates in validations.values():
        first_row, first_col = xl_cell_to_rowcol(coordinates[0])
        ws.data_validation(
            first_row, first_col, first_row, first_col, {**options, "multi_range": " ".join(coordinates)}
        )
    _fit_row_heights(ws, sheet)
    ws.freeze_panes(HEADER_ROW, sheet.spec.freeze_col)
    _page_setup(ws, snapshot.area.nome, repeat_header=True)


def _note_fill(note: Annotation, locked: bool) -> str:
    # Plan content the area cannot edit is reported, never presented as the area's to correct.
    if locked:
        return PLAN_FILL
    return ERROR_FILL if note.errore else WARNING_FILL


def _comment(ws: Worksheet, row: int, col: int, note: Annotation, locked: bool, testi: Testi) -> None:
    text = f"{testi.annotazioni.nota_piano}\n\n{note.text}" if locked else note.text
    ws.write_comment(row, col, _text(text[:2000]), {"author": "Controllo di gestione", "width": 320, "height": 160})


def _fit_row_heights(ws: Worksheet, sheet: SheetLayout) -> None:
    """Explicit heights: neither Excel nor LibreOffice grows wrapped rows of a generated file on opening."""
    counts: dict[int, int] = {}
    columns = sheet.spec.columns
    for cell in sheet.cells:
        if cell.row < HEADER_ROW or not isinstance(cell.value, str):
            continue
        header = cell.row == HEADER_ROW
        if header or (cell.column is not None and cell.column.wrap):
            count = lines(cell.value, columns[cell.col - 1].width, bold=header)
        else:
            count = 1
        if count > counts.get(cell.row, 1):
            counts[cell.row] = count
        else:
            counts.setdefault(cell.row, 1)
    for row, count in counts.items():
        ws.set_row(row - 1, height(count))


def _write_value(ws: Worksheet, row: int, col: int, cell: Cell, cell_format: Format) -> None:
    value = cell.value
    if value is None or value == "":
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        # Text is always text: never a formula, a number or a link.
        ws.write_string(row, col, _text(value[:MAX_CELL_TEXT]), cell_format)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, datetime.combine(value.date(), datetime.min.time()), cell_format)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime.combine(value, datetime.min.time()), cell_format)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, cell_format)


def _text(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _checked(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise SeregnoError(
            f"modelli/scheda.toml, [convalida] {what}: {len(text)} caratteri, Excel ne ammette al massimo {limit}"
        )
    return text


def _validation(
    cell: Cell, testi: Testi, window: tuple[date, date], dates: tuple[str, ...], known: dict[str, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """The data validation of an input cell and the key of the cells that share it (``known``: those made)."""
    c = testi.convalida
    start, end = dates
    target = ""
    if cell.kind is Kind.NUMBER and cell.data_row is not None:
        raw = getattr(cell.data_row.item, "valore_target", None)
        target = "-" if raw is None else f"{raw:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    label = cell.column.label_key if cell.column else ""
    key = f"{cell.kind}|{label}|{target}"
    if key in known:
        return key, known[key]
    options: dict[str, Any]
    if cell.kind is Kind.DATE:
        options = {
            "validate": "date",
            "criteria": "between",
            "minimum": f"=DATE({window[0].year},{window[0].month},{window[0].day})",
            "maximum": f"=DATE({window[1].year},{window[1].month},{window[1].day})",
        }
        title, prompt, error = (
            c.data_titolo,
            c.data_messaggio.format(da=start, a=end),
            c.data_errore.format(da=start, a=end),
        )
    elif cell.kind is Kind.SI_NO:
        _checked('"SI,NO"', MAX_VALIDATION_LIST, "elenco SI/NO")
        options = {"validate": "list", "source": ["SI", "NO"]}
        title, prompt, error = c.si_no_titolo, c.si_no_messaggio, c.si_no_errore
    elif cell.kind is Kind.NUMBER and label == "quota":
        options = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100}
        title, prompt, error = c.quota_titolo, c.quota_messaggio, c.quota_errore
    elif cell.kind is Kind.NUMBER:
        options = {"validate": "decimal", "criteria": ">=", "value": 0}
        title, prompt, error = c.numero_titolo, c.numero_messaggio.format(target=target), c.numero_errore
    else:
        options = {"validate": "length", "criteria": "<=", "value": 32000}
        prompts = {
            "note": c.note_messaggio,
            "evidenza": c.evidenza_messaggio,
            "compilata_da": c.compilazione_messaggio,
            "approvata_da": c.compilazione_messaggio,
        }
        title, prompt, error = c.testo_titolo, prompts.get(label, c.monitoraggio_messaggio), c.testo_errore
    options.update(
        ignore_blank=True,
        show_input=True,
        show_error=True,
        error_type="stop",
        input_title=_checked(title, MAX_VALIDATION_TITLE, "titolo"),
        input_message=_checked(prompt, MAX_VALIDATION_PROMPT, "messaggio"),
        error_title=_checked(title, MAX_VALIDATION_TITLE, "titolo"),
        error_message=_checked(error, MAX_VALIDATION_ERROR, "errore"),
    )
    known[key] = options
    return key, options


def _write_metadata(ws: Worksheet, rows: list[tuple[str, str]]) -> None:
    for n, (key, value) in enumerate(rows):
        ws.write_string(n, 0, key)
        ws.write_string(n, 1, value)
    _width(ws, 0, 20)
    _width(ws, 1, 80)
    ws.very_hidden()


def _protect(ws: Worksheet, password: str | None) -> None:
    # Staff may resize rows and columns to read long texts, and select any cell; nothing else.
    ws.protect(
        password or "",
        {
            "objects": True,
            "scenarios": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )


def _page_setup(ws: Worksheet, area: str, *, repeat_header: bool) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    if repeat_header:
        ws.repeat_rows(HEADER_ROW - 1)
    ws.set_margins(left=0.4, right=0.4, top=1, bottom=1)
    ws.set_header(f"&L{area.replace('&', '&&')}&R&A", {"margin": 0.5})
    ws.set_footer("&CPagina &P di &N", {"margin": 0.5})
