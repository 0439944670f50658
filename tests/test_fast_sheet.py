"""FastWorksheet (master/fast_sheet.py) against XlsxWriter's own worksheet: the hyperlinks kept in a file until
written give the same bytes, and nothing of them is held in memory meanwhile (issue 13, flat memory); a formula
written through the fast path leaves what XlsxWriter's path leaves."""

from __future__ import annotations

import warnings
from datetime import datetime
from io import BytesIO
from pathlib import Path
from tempfile import TemporaryDirectory

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import Worksheet

from seregno_xlsx.master.fast_sheet import FastWorksheet

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
