"""The reading's shortcuts for the usual cell give what the long way gives: a number or a date as calamine
reads it, a text, an empty cell, a row's cells of the layout taken as a slice.

The long way is asked of a value of a subclass (``float``, ``date``, ``str``): the shortcuts are taken only
for the exact types, so a subclass's value goes through every check as before."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.reader import _EMPTY, _same
from seregno_xlsx.ritorni.values import Problem, parse_date, parse_number, parse_si_no, parse_text
from seregno_xlsx.scheda.layout import (
    FIRST_DATA_ROW,
    RELEASED_VERSIONS,
    Cell,
    Header,
    Kind,
    Row,
    canonical,
    layout,
)
from seregno_xlsx.texts import load_texts

from .test_properties_plans import plans
from .test_reading_fast_paths import _varied


class _Float(float):
    pass


class _Date(date):
    pass


class _Str(str):
    __slots__ = ()


_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**16), 10**16).map(float),
    st.integers(18_000, 92_000).map(float),  # date serials, in the range and about it
    st.sampled_from([1e15, -1e15, 1e15 + 1, 0.0, -0.0, 44_249.5, 18_264.0, 91_312.0]),
)


@given(number=_floats, date1904=st.booleans())
def test_a_number_cell_parses_as_the_long_way(number: float, date1904: bool) -> None:
    slow_date = parse_date(_Float(number), date1904=date1904)
    fast_date = parse_date(number, date1904=date1904)
    assert fast_date == slow_date and type(fast_date) is type(slow_date)
    slow_number = parse_number(_Float(number))  # NaN and infinities: a Problem either way
    fast_number = parse_number(number)
    assert fast_number == slow_number
    assert type(fast_number) is (float if isinstance(slow_number, float) else type(slow_number))


@given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)), date1904=st.booleans())
def test_a_date_cell_parses_as_the_long_way(day: date, date1904: bool) -> None:
    slow = parse_date(_Date(day.year, day.month, day.day), date1904=date1904)
    fast = parse_date(day, date1904=date1904)
    assert fast == slow
    assert isinstance(fast, Problem) is isinstance(slow, Problem)
    # A datetime is not a date for the shortcut: it keeps its own path (its date part, in range).
    moment = datetime(day.year, day.month, day.day, 10, 30)
    assert parse_date(moment, date1904=date1904) == fast


@given(text=st.text(max_size=40))
def test_a_text_is_canonical_as_the_long_way(text: str) -> None:
    assert canonical(text) == canonical(_Str(text))


_blanks = st.one_of(st.none(), st.text(alphabet=" \t\r\n\u00a0\u2003", max_size=5))  # all blank


@given(raw=_blanks, kind=st.sampled_from(list(Kind)), date1904=st.booleans())
def test_an_empty_cell_reads_as_the_long_way(raw: str | None, kind: Kind, date1904: bool) -> None:
    """The reader's loop gives an empty input cell ``_EMPTY[kind]`` without parsing it, and skips an empty
    locked cell whose value is None: what ``_read_input`` and ``_same`` make of it."""
    if kind is Kind.DATE:
        expected: object = parse_date(raw, date1904=date1904)
    elif kind is Kind.SI_NO:
        expected = parse_si_no(raw)
    elif kind is Kind.NUMBER:
        expected = parse_number(raw)
    else:
        text = parse_text(raw)
        assert text.problem is None
        expected = text.value
    assert _EMPTY[kind] == expected and type(_EMPTY[kind]) is type(expected)
    assert _same(Cell("Fasi", 5, 4, None, True, kind), raw, date1904)


@given(piano=plans(), data=st.data())
@settings(max_examples=25, deadline=None)
def test_a_row_s_cells_are_its_cells_in_the_layout(piano: Piano, data: st.DataObject) -> None:
    """``SheetLayout.row_cells``, the slice the reader takes, against the layout's cells by row and column;
    the rows, made without the named tuple's ``__new__``, against the rows it makes."""
    piano = _varied(piano, data)
    testi = load_texts()
    header = Header(piano.ente, piano.anno, piano.titolo, piano.delibera)
    for area in piano.aree:
        for rilevazione in Rilevazione:
            for versione in (*RELEASED_VERSIONS, "99"):
                for sheet in layout(testi, header, area, rilevazione, versione):
                    # The rows, made in C, are the named tuples the long way makes.
                    long_way = [Row(obiettivo, item) for obiettivo, item in sheet.rows]
                    assert all(type(row) is Row for row in sheet.rows) and sheet.rows == long_way
                    assert [(r.obiettivo, r.item) for r in sheet.rows] == [(r.obiettivo, r.item) for r in long_way]
                    width = len(sheet.spec.columns)
                    for index in range(len(sheet.rows)):
                        by_place = {(c.row, c.col): c for c in sheet.cells}
                        expected = [by_place[(FIRST_DATA_ROW + index, col)] for col in range(1, width + 1)]
                        assert sheet.row_cells(index) == expected
                        assert all(cell.data_row is sheet.rows[index] for cell in expected)


_marked = st.lists(
    st.sampled_from([b"<!DOCTYPE", b"<!ENTITY", b"<!DOC", b"TYPE", b"<!", b"<", b"ENTITY", b"x", b"<!-- -->", b"\x00"]),
    max_size=8,
).map(b"".join)


@given(tail=_marked.map(lambda b: b[-16:]), chunk=_marked.filter(bool))
def test_a_dtd_mark_is_found_as_in_the_joined_bytes(tail: bytes, chunk: bytes) -> None:
    """``Inflater.saw_dtd`` searches each chunk where it is and only the seam with the previous chunk's last
    16 bytes (``_dtd_mark``): what a search of the two joined finds."""
    from seregno_xlsx.ritorni.inflation import _dtd_mark

    joined = tail + chunk
    assert _dtd_mark(tail, chunk) == (b"<!DOCTYPE" in joined or b"<!ENTITY" in joined)
