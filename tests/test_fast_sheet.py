"""FastWorksheet (master/fast_sheet.py) against XlsxWriter's own worksheet: the hyperlinks kept in a file until
written give the same bytes, and nothing of them is held in memory meanwhile (issue 13, flat memory); a formula
written through the fast path leaves what XlsxWriter's path leaves."""

from __future__ import annotations

import warnings
from datetime import datetime
from io import BytesIO, StringIO
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
import xlsxwriter
from hypothesis import example, given, settings
from hypothesis import strategies as st
from xlsxwriter.utility import _preserve_whitespace
from xlsxwriter.worksheet import Worksheet

from seregno_xlsx.master.fast_sheet import FastWorksheet, Formula

from .test_performance import FORMULA_PIECES

# (rows down from the previous link, column, url, text shown or None, tip or None)
Link = tuple[int, int, str, str | None, str | None]

URLS = st.sampled_from(
    [
        "internal:'Fasi'!A12",
        "internal:Obiettivi!B3",
        "https://example.org/a?b=1&c=<2>",
        "mailto:ufficio@example.org",
        "external:c:\\temp\\piano.xlsx#Foglio1!A1",
    ]
)
LINKS = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 5),
        URLS,
        st.none() | st.text(max_size=20),
        st.none() | st.text(min_size=1, max_size=20),
    ),
    max_size=12,
)


def _workbook(path: Path, sheet_class: type[Worksheet], links: list[Link], folder: Path) -> bytes:
    options = {"constant_memory": True, "tmpdir": str(folder), "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.worksheet_class = sheet_class
    workbook.set_properties({"created": datetime(2021, 9, 30)})
    sheet = workbook.add_worksheet("Anomalie")
    workbook.add_worksheet("Fasi")
    row = 1
    for down, col, url, text, tip in links:
        row += down
        sheet.write_string(row, 6, "riga")
        sheet.write_url(row, col, url, None, text, tip)
    workbook.close()
    return path.read_bytes()


def _same(links: list[Link], folder: Path) -> None:
    fast = _workbook(folder / "fast.xlsx", FastWorksheet, links, folder)
    plain = _workbook(folder / "plain.xlsx", Worksheet, links, folder)
    assert fast == plain


def test_links_kept_in_a_file_give_xlsxwriter_s_bytes(tmp_path: Path) -> None:
    links: list[Link] = [
        (0, 3, "internal:'Fasi'!A12", "Fasi!A12", None),
        (0, 1, "internal:'Fasi'!A13", None, "vai alla fase"),  # same row, an earlier column
        (0, 3, "internal:'Fasi'!A14", "di nuovo", None),  # the same cell again: the last one stays
        (2, 0, "https://example.org/?a=1&b=2", "sito", None),
        (1, 5, "internal:Obiettivi!B3", "Ob & «codice»", None),
    ]
    _same(links, tmp_path)


@given(LINKS)
@settings(max_examples=40, deadline=None)
def test_any_links_give_xlsxwriter_s_bytes(links: list[Link]) -> None:
    with TemporaryDirectory() as folder:
        _same(links, Path(folder))


def test_links_are_not_held_as_objects(tmp_path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(tmp_path / "m.xlsx"), {"constant_memory": True, "tmpdir": str(tmp_path)})
    workbook.worksheet_class = FastWorksheet
    sheet = workbook.add_worksheet()
    for row in range(1, 500):
        sheet.write_url(row, 0, f"internal:'Fasi'!A{row}", None, f"Fasi!A{row}")
    assert not sheet.hyperlinks  # in the file, not in memory
    workbook.close()


def test_no_plain_function_is_a_dynamic_array_function() -> None:
    """FastWorksheet._write_formula leaves out XlsxWriter's search for dynamic array functions on the formulas
    whose every call is to a function of PLAIN: none of them is one, whatever comes before it."""
    from xlsxwriter.worksheet import re_dynamic_function

    from seregno_xlsx.master.fast_sheet import PLAIN

    for name in PLAIN:
        for before in ("", "=", "A", " ", "(", '"', ".", "_", "\\"):
            assert re_dynamic_function.search(f"{before}{name}(") is None, name


@given(st.lists(st.sampled_from(FORMULA_PIECES), max_size=12), st.booleans())
@settings(max_examples=150, deadline=None)
def test_fast_formula_writing_is_xlsxwriter_s(pieces: list[str], future: bool) -> None:
    """What a formula leaves in the worksheet: the same through the fast path as through XlsxWriter's."""
    formula = "".join(pieces)
    sheets = []
    for sheet_class in (FastWorksheet, Worksheet):
        workbook = xlsxwriter.Workbook(BytesIO(), {"in_memory": True})
        workbook.worksheet_class = sheet_class
        sheet = workbook.add_worksheet()
        sheet.use_future_functions = future
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty formula: XlsxWriter warns, both times
            result = sheet.write_formula(3, 2, formula, None, 7)
        sheets.append((result, dict(sheet.table), sheet.dim_rowmax, sheet.dim_colmax))
    assert sheets[0] == sheets[1]


CELL_TEXTS = st.one_of(
    st.text(max_size=20),
    st.lists(st.sampled_from(["a", " ", "<r>", "</r>", "&", "<", ">", '"', "\n", "\x01", "_x0041_", "\ufffe"])).map(
        "".join
    ),
)
CELL_VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.sampled_from(["", "#N/A", "#DIV/0!", "testo", "a<b"]),
    CELL_TEXTS,
)


@st.composite
def _cells(draw: st.DrawFn) -> tuple[str, object, object, bool]:
    kind = draw(st.sampled_from(["String", "Number", "Datetime", "Formula", "Blank", "Boolean"]))
    return kind, draw(CELL_TEXTS), draw(CELL_VALUES), draw(st.booleans())


class _TextOnly(Worksheet):  # type: ignore[misc]
    """XlsxWriter's worksheet with every text escaped: it writes a text from «<r>» to «</r>» as it is (its
    prepared rich text), which the master never writes and an area's note must never become."""

    def _xml_rich_inline_string(self, string: str, attributes: list[tuple[str, object]]) -> None:
        self._xml_inline_string(string, _preserve_whitespace(string), attributes)


@given(st.lists(_cells(), min_size=1, max_size=8), st.integers(0, 1_048_575), st.integers(0, 16_383))
@example([("String", "<r><t>x</t></r></is></c><c><f>A1</f></c><is><r>", "", False)], 0, 0)
@example([("String", "<r> </r>", "", True)], 5, 5)
@example([("String", "<r><t>x</t></r><r><t>y</t></r>", "", False)], 0, 0)  # rich-looking, without a format
@settings(max_examples=200, deadline=None)
def test_fast_cell_writing_is_xlsxwriter_s(cells: list[tuple[str, object, object, bool]], row: int, col: int) -> None:
    """The XML of a cell written by FastWorksheet._write_cell is XlsxWriter's, for every kind of cell, with
    and without a format (constant_memory: texts in line), every text escaped."""
    from xlsxwriter import worksheet as xw

    workbook = xlsxwriter.Workbook(BytesIO(), {"in_memory": True})
    formats = [workbook.add_format({"bold": True}), workbook.add_format({"num_format": "0.00%"})]
    made = {
        "String": lambda text, value, fmt: xw.CellStringTuple(text, fmt),
        "Number": lambda text, value, fmt: xw.CellNumberTuple(value if type(value) in (int, float) else 1.5, fmt),
        "Datetime": lambda text, value, fmt: xw.CellDatetimeTuple(44470.25, fmt),
        "Formula": lambda text, value, fmt: xw.CellFormulaTuple(text, fmt, value),
        "Blank": lambda text, value, fmt: xw.CellBlankTuple(fmt),
        "Boolean": lambda text, value, fmt: xw.CellBooleanTuple(bool(value), fmt),
    }
    written = []
    for sheet_class in (FastWorksheet, _TextOnly):
        sheet = sheet_class()
        sheet.constant_memory = True
        sheet.fh = StringIO()
        for i, (kind, text, value, formatted) in enumerate(cells):
            fmt = formats[i % 2] if formatted else None
            sheet._write_cell(row, col, made[kind](text, value, fmt))
        written.append(sheet.fh.getvalue())
    assert written[0] == written[1]


# write_cells against XlsxWriter's public writers: (rows down, [(columns right, value, format index)], height,
# a link's column or None, a height set before the cells or None, one set after them or None)
TableRow = tuple[int, list[tuple[int, object, int]], float | None, int | None, float | None, float | None]

ROW_VALUES = st.one_of(
    CELL_TEXTS,
    st.sampled_from(["=1+1", '=HYPERLINK("http://evil.example")', "  spazi  ", "\tTab", "riga\n", "@SUM(A1)"]),
    st.floats(),  # NaN and infinities too: XlsxWriter's error formulas (nan_inf_to_errors)
    st.integers(-(10**15), 10**15),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.builds(Formula, st.lists(st.sampled_from(FORMULA_PIECES), min_size=1, max_size=8).map("".join), CELL_VALUES),
    st.builds(Formula, st.just('=IF(A1="","",A1)'), st.none()),
)
TABLE_ROWS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.lists(st.tuples(st.integers(1, 3), ROW_VALUES, st.integers(0, 2)), max_size=8),
        st.none() | st.floats(0, 409) | st.sampled_from([15.0, 14.7, 15.2, 0.2]),
        st.none() | st.integers(0, 3),
        st.none() | st.floats(0, 409),
        st.none() | st.floats(0, 409),
    ),
    max_size=8,
)


def _table(path: Path, rows: list[TableRow], made: bool, folder: Path, forget: bool = True) -> bytes:
    options = {"constant_memory": True, "tmpdir": str(folder), "nan_inf_to_errors": True, "remove_timezone": True}
    options |= {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.worksheet_class = FastWorksheet if made else _TextOnly
    workbook.set_properties({"created": datetime(2021, 9, 30)})
    formats = [workbook.add_format(spec) for spec in ({"bold": True}, {"num_format": "0.00%"}, {"italic": True})]
    sheet = workbook.add_worksheet("Tabella")
    sheet.forget_written_rows = forget
    sheet.write_string(0, 0, "intestazione", formats[0])
    row = 0
    for down, cells, height, link, before, after in rows:
        row += 1 + down
        if before is not None:
            sheet.set_row(row, before)
        placed, col = [], -1
        for right, value, fmt in cells:
            col += right
            placed.append((col, value, formats[fmt]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty formula: XlsxWriter warns, both times
            if made:
                sheet.write_cells(row, placed, height)
            else:
                for col, value, fmt in placed:
                    FastWorksheet.write_value(sheet, row, col, value, fmt)  # XlsxWriter's writer for each kind
                if height is not None:
                    sheet.set_row(row, height)
        if link is not None and placed:  # after the row, as «Anomalie» writes its «Vai a»: over its last cell
            # (with that cell's format, as there) or after it
            where, fmt = (col, placed[-1][2]) if link == 0 else (col + link, formats[2])
            sheet.write_url(row, where, "internal:'Tabella'!A1", fmt, "vai")
        if after is not None:
            sheet.set_row(row, after)
    workbook.close()
    return path.read_bytes()


RICH_AND_LONG = [(1, "<r><t>x</t></r></is></c><c><f>A1</f></c><is><r>", 0), (1, "x" * 20_000, 1)]
XLSXWRITER_S_OWN = [(1, Formula("=SORT(A1:A3)", 0), 0), (2, Formula("={1+1}", 2), 1), (1, float("nan"), 2)]


@given(TABLE_ROWS, st.booleans())
@example([(0, RICH_AND_LONG, 20.5, 2, None, None)], True)
@example([(0, XLSXWRITER_S_OWN, None, 0, None, None)], True)
@example([(0, [(1, "a", 0)], 30.0, None, 45.0, None), (0, [(1, "b", 0)], 30.0, None, None, 0.0)], True)
@settings(max_examples=200, deadline=None)
def test_rows_made_in_one_piece_are_xlsxwriter_s(rows: list[TableRow], forget: bool) -> None:
    """A row made by FastWorksheet.write_cells is, byte for byte, what XlsxWriter's own writers give for each of
    its cells and set_row for its height (every text escaped: _TextOnly), with a link written on the row after it
    and every kind of value: texts that look like formulas or rich text, control characters, long texts,
    formulas of every kind, NaN and infinities, dates."""
    with TemporaryDirectory() as folder:
        made = _table(Path(folder) / "made.xlsx", rows, True, Path(folder), forget)
        cell_by_cell = _table(Path(folder) / "cells.xlsx", rows, False, Path(folder))
    assert made == cell_by_cell


def test_a_made_row_refuses_what_xlsxwriter_would_drop(tmp_path: Path) -> None:
    """A cell outside the sheet, a row already written, columns out of order, a cell without format, an empty
    formula: errors."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "m.xlsx"), {"constant_memory": True, "tmpdir": str(tmp_path)})
    workbook.worksheet_class = FastWorksheet
    fmt = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet()
    sheet.write_cells(5, [(0, "a", fmt)])
    sheet.write_cells(6, [(0, "b", fmt)])
    for row, cells in (
        (1_048_576, [(0, "fuori", fmt)]),
        (7, [(16_384, "fuori", fmt)]),
        (5, [(1, "già scritta", fmt)]),
        (8, [(2, "b", fmt), (1, "a", fmt)]),
        (9, [(0, "senza formato", None)]),
        (10, [(0, Formula("", 0), fmt)]),
    ):
        with pytest.raises((RuntimeError, ValueError)):
            sheet.write_cells(row, cells)
    workbook.close()
