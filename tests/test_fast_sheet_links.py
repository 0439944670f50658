"""The master's hyperlinks kept in a file until written (master/fast_sheet.py): the same bytes as XlsxWriter's
own worksheet gives, and nothing of them held in memory meanwhile (issue 13, flat memory)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import Worksheet

from seregno_xlsx.master.fast_sheet import FastWorksheet

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
