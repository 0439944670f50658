"""A worksheet read from its bytes (``sheet_bytes``) leaves what the tree's scan leaves, or nothing (the
callbacks then read it): compared on generated worksheets, in the form writers save and in every other."""

from __future__ import annotations

import io
import operator
from typing import IO
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .hostile.corpus import BILLION_LAUGHS
from .test_fast_scan import NS, SHEET, _scan_outcome

PREFIXED = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


class _NotRead(Exception):
    pass


def _cleaned(document: bytes) -> bytes:
    from seregno_xlsx.ritorni.xml_events import CharRefsCleaned

    return io.BufferedReader(CharRefsCleaned(iter([document])), 1 << 16).read()


def _outcome(document: bytes, way: str) -> object:
    """What scanning ``document`` as a worksheet leaves, and how it ended (``_scan_outcome``): ``way``
    "bytes" (from the bytes where they allow it, else on the callbacks, as ``Scan.part``), "bytes only"
    or "tree"."""
    from seregno_xlsx.ritorni.xml_scan import Scan

    if way == "tree":
        # As ``Scan.part`` parses every part: the character references calamine tolerates cleaned first
        # (an invalid one, «&#x7;», is no error there, before the bytes' pass as after it).
        return _scan_outcome(_cleaned(document), False)
    callbacks = Scan._worksheet_fast

    def from_bytes(scan: Scan, part: str, stream: IO[bytes]) -> None:
        data = stream.read()
        if scan._worksheet_bytes(part, [data]):
            return
        if way == "bytes only":
            raise _NotRead
        callbacks(scan, part, io.BytesIO(_cleaned(data)))

    with mock.patch.object(Scan, "_worksheet_fast", from_bytes):
        try:
            return _scan_outcome(document, True)
        except _NotRead:
            return ("not read",)


def _read_from_bytes(document: bytes) -> bool:
    return _outcome(document, "bytes only") != ("not read",)


_refs = st.sampled_from(["A1", "B7", "H5", "XFD3", "AMJ4", "AMK4", "A1048576", "A1048577", "A0", "A007", "a1", "AAAA1"])
_attributes = st.builds(
    operator.add,
    st.sampled_from(["", ' s="3"', ' x:t="e"']),
    st.sampled_from(["", ' t="e"', ' t="s"', ' t="n"', ' t="inlineStr"', ' t="&#101;"', ' t="e "', "\tt='s'"]),
)
_texts = st.sampled_from(
    ["", "1", "0", "+0", "0007", "#N/A", "#DIV/0!", "&amp;", "&#49;", "&#x7;", "a\r\nb", "a\rb", "è", " 12 ", "]]>"]
)


@st.composite
def _cell(draw: st.DrawFn) -> str:
    ref, attrs, text = draw(_refs), draw(_attributes), draw(_texts)
    form = draw(st.integers(0, 13))
    return [
        f'<c r="{ref}"{attrs}/>',
        f'<c r="{ref}"{attrs} />',
        f'<c r="{ref}"{attrs}><v>{text}</v></c>',
        f'<c r="{ref}"{attrs}><v/></c>',
        f'<c r="{ref}"{attrs}><is><t>{text}</t></is></c>',
        f'<c r="{ref}"{attrs}><is><t xml:space="preserve">{text}</t></is></c>',
        f'<c r="{ref}"{attrs}><f>SUM(A1)</f><v>{text}</v></c>',
        f"<x:c r='{ref}'{attrs}><x:f>1/0</x:f><x:v>{text}</x:v></x:c>",
        f'<c{attrs} r="{ref}"><v>{text}</v></c>',
        f"<c r='{ref}'{attrs}><v>{text}</v></c>",
        f'<c r="{ref}"{attrs}>\n<v>{text}</v></c>',
        f'<c r="{ref}"{attrs}><c r="B1"{attrs}><v>1</v></c><v>{text}</v></c>',
        f"<c{attrs}><v>{text}</v></c>",
        f'<c r="{ref}"{attrs}><v>{text}</v><v>2</v></c>',
    ][form]


_extras = st.sampled_from(
    [
        "",
        "<v>1</v>",
        "<is><t>x</t></is>",
        '<mergeCells count="1"><mergeCell ref="A1:B2"/></mergeCells>',
        '<mergeCell ref="C3:D4" />',
        '<mergeCell ref=""/>',
        "<mergeCell/>",
        "<x:mergeCell ref='A1:A2'/>",
        '<!-- <c r="A9"><v>1</v></c> -->',
        '<t><![CDATA[<c r="A9"><v>1</v></c>]]></t>',
        "<?pi x?>",
        "<t>testo &amp; altro &lt;c&gt;</t>",
        "&#x1F600;",
        "<dimension ref='A1:XFD1048576'/>",
    ]
)


@st.composite
def _row(draw: st.DrawFn) -> str:
    starts = ['<row r="{n}">', '<row r="{n}" spans="1:3">', "<row>", "<row r='{n}'>", '<row r="x">']
    start = draw(st.sampled_from(starts))
    cells = "".join(draw(st.lists(_cell(), max_size=4)))
    return start.format(n=draw(st.sampled_from([1, 5, 1048576, 1048577]))) + cells + draw(_extras) + "</row>"


_PROLOGS = [
    "",
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n',
    "<?xml version='1.0'?>",
    '<?xml version="1.0" encoding="utf-8"?>',
    "\ufeff",
    "<!DOCTYPE worksheet>",
    '<!DOCTYPE w [<!ENTITY e "x">]>',
    BILLION_LAUGHS.decode(),
]


@st.composite
def _worksheet(draw: st.DrawFn) -> bytes:
    rows = "".join(draw(st.lists(_row(), max_size=5)))
    namespaces = draw(st.sampled_from([NS, f"{NS} {PREFIXED}", PREFIXED, ""]))
    text = f"<worksheet {namespaces}><sheetData>{rows}</sheetData>{draw(_extras)}</worksheet>"
    prolog = draw(st.sampled_from(_PROLOGS))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "utf-16-le", "latin-1"]))
    if encoding == "utf-8":
        return (prolog + text).encode()
    if encoding == "latin-1":
        return (f'<?xml version="1.0" encoding="ISO-8859-1"?>{text}').encode("latin-1", "replace")
    # UTF-16 with its byte order mark, or without one but declared
    declaration = '<?xml version="1.0" encoding="UTF-16"?>'
    return (declaration + text).encode(encoding)


_writers_attributes = st.builds(
    operator.add, st.sampled_from(["", ' s="3"']), st.sampled_from(["", ' t="e"', ' t="s"', ' t="n"', ' t="inlineStr"'])
)
# Seldom beyond the last column or row (AMK4, A1048577): one such cell leaves the whole part to the callbacks.
_writers_refs = st.sampled_from(
    ["A1", "B7", "H5", "C2", "XFD3", "AMJ4", "A1048576", "A007", "A0"] * 3 + ["AMK4", "A1048577"]
)
_writers_texts = st.sampled_from(["", "1", "0", "+0", "0007", "12", "#N/A", "#DIV/0!", "è", " 12 ", "9" * 25, "3.5"])


@st.composite
def _writers_cell(draw: st.DrawFn) -> str:
    ref, attrs, text = draw(_writers_refs), draw(_writers_attributes), draw(_writers_texts)
    if ' t="s"' in attrs and draw(st.booleans()):
        text = draw(st.sampled_from(["0", "+0", "0007", "12", "3"]))  # an index of a shared string
    return draw(
        st.sampled_from(
            [
                f'<c r="{ref}"{attrs}/>',
                f'<c r="{ref}"{attrs} />',
                f'<c r="{ref}"{attrs}><v>{text}</v></c>',
                f'<c r="{ref}"{attrs}><v>{text}</v></c>',
                f'<c r="{ref}"{attrs}><v>{text}</v></c>',
                f'<c r="{ref}"{attrs}><v/></c>',
                f'<c r="{ref}"{attrs}><is><t>{text} &amp; x</t></is></c>',
                f'<c r="{ref}"{attrs}><is><t xml:space="preserve">{text}</t></is></c>',
            ]
        )
    )


@st.composite
def _writers_worksheet(draw: st.DrawFn) -> bytes:
    """In the form writers save; at times with one element in another form (any of ``_worksheet``'s)."""
    rows = [
        f'<row r="{n}">' + "".join(draw(st.lists(_writers_cell(), min_size=1, max_size=6))) + "</row>"
        for n in draw(st.lists(st.integers(1, 30), min_size=1, max_size=6))
    ]
    merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in draw(st.lists(st.sampled_from(["A1:B2", "", "C3"]))))
    if draw(st.integers(0, 2)) == 0:
        foreign = draw(st.one_of(_cell(), _extras, _row()))
        rows.insert(draw(st.integers(0, len(rows))), foreign)
    prolog = draw(st.sampled_from(_PROLOGS[:5]))
    namespaces = draw(st.sampled_from([NS, f"{NS} {PREFIXED}"]))
    body = "".join(rows)
    merged = f"<mergeCells>{merges}</mergeCells>"
    return f"{prolog}<worksheet {namespaces}><sheetData>{body}</sheetData>{merged}</worksheet>".encode()


@given(st.one_of(_worksheet(), _writers_worksheet()))
@settings(max_examples=400, deadline=None)
def test_worksheets_read_from_bytes_scan_as_the_tree(document: bytes) -> None:
    from_bytes = _outcome(document, "bytes")
    assert from_bytes == _outcome(document, "tree")
    if _read_from_bytes(document):
        assert from_bytes[0] == ""  # read from the bytes only what the tree reads without an error


@pytest.mark.fuzz
@given(st.one_of(_worksheet(), _writers_worksheet()))
@settings(max_examples=5000, deadline=None)
def test_worksheets_read_from_bytes_scan_as_the_tree_at_length(document: bytes) -> None:
    assert _outcome(document, "bytes") == _outcome(document, "tree")


CANONICAL = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet {NS}><dimension ref="A1:C3"/>'
    '<sheetData><row r="1" spans="1:3"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="2" t="n" />'
    '<c r="C1" t="e"><v>#N/A</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>x &amp; y</t></is></c>'
    '<c r="C3" t="s"><v>0007</v></c><c r="B3"><v></v></c></row></sheetData>'
    '<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells><pageMargins left="0.7"/></worksheet>'
)


def test_the_form_writers_save_is_read_from_the_bytes() -> None:
    document = CANONICAL.encode()
    assert _read_from_bytes(document)
    outcome = _outcome(document, "bytes")
    assert outcome == _outcome(document, "tree")
    assert outcome[2] == {SHEET: {"C1": "#N/A"}} and outcome[3] == {SHEET: ["A1:B1"]}
    assert outcome[4] == {SHEET: (3, 3)} and outcome[6] == 5
    assert outcome[8] == {"0": 1, "7": 1}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('<c r="C1" t="e"><v>#N/A</v></c>', '<c r="C1" t="e"><f>NA()</f><v>#N/A</v></c>'),  # a formula
        ('<c r="C1" t="e">', '<x:c xmlns:x="u" r="C1" t="e">'),  # a prefix (unbalanced: an error)
        ("<sheetData>", '<sheetData><x:c xmlns:x="u" r="D9"><x:v>1</x:v></x:c>'),  # a prefix
        ("<sheetData>", "<sheetData><!-- c -->"),
        ("<sheetData>", "<sheetData><![CDATA[<c r='D9'><v>1</v></c>]]>"),
        ("<sheetData>", "<sheetData><?pi?>"),
        ('<row r="3">', "<row r='3'>"),
        ('<c r="A3" t="inlineStr">', '<c t="inlineStr" r="A3">'),
        ('<c r="B3"><v></v></c>', '<c r="B3"><v>1</v><v>2</v></c>'),
        ('<c r="B3"><v></v></c>', '<c r="B3"><c r="D1"><v>1</v></c></c>'),
        ('<c r="B3"><v></v></c>', '<c r="B3"><v>&#49;</v></c>'),
        ('<c r="B3"><v></v></c>', '<c r="B3" t="&#115;"><v>1</v></c>'),
        ('<c r="B3"><v></v></c>', '<c r="XFE3"><v>1</v></c>'),
        ("</sheetData>", "</sheetData><v>1</v>"),
        ("standalone", "encoding='ISO-8859-1' standalone"),
        ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "<!DOCTYPE worksheet>"),
    ],
)
def test_any_other_form_is_left_to_the_callbacks(old: str, new: str) -> None:
    assert old in CANONICAL
    document = CANONICAL.replace(old, new, 1).encode()
    assert not _read_from_bytes(document)
    assert _outcome(document, "bytes") == _outcome(document, "tree")


def test_a_utf16_worksheet_is_left_to_the_callbacks() -> None:
    document = CANONICAL.replace("UTF-8", "UTF-16").encode("utf-16")
    assert not _read_from_bytes(document)
    assert _outcome(document, "bytes") == _outcome(document, "tree")
    assert _outcome(document, "tree")[0] == "" and _outcome(document, "tree")[2] == {SHEET: {"C1": "#N/A"}}


def test_bounds_reached_are_left_to_the_callbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from seregno_xlsx.ritorni import xml_scan

    cells = "".join(f'<c r="A{n}"><v>1</v></c>' for n in range(1, 41))
    document = f"<worksheet {NS}><sheetData>{cells}</sheetData></worksheet>".encode()
    assert _read_from_bytes(document)
    monkeypatch.setattr(xml_scan, "MAX_VALUE_CELLS", 30)
    assert not _read_from_bytes(document)
    assert _outcome(document, "bytes") == _outcome(document, "tree")
    assert _outcome(document, "bytes")[0] == "file-troppo-grande"
    merges = "".join(f'<mergeCell ref="A{n}:B{n}"/>' for n in range(1, 41))
    document = f"<worksheet {NS}><mergeCells>{merges}</mergeCells></worksheet>".encode()
    monkeypatch.setattr(xml_scan, "MAX_RECORDED", 30)
    assert not _read_from_bytes(document)
    assert _outcome(document, "bytes") == _outcome(document, "tree")


@given(st.one_of(_worksheet(), _writers_worksheet()), st.sampled_from([16, 40, 100]))
@settings(max_examples=150, deadline=None)
def test_small_blocks_scan_as_the_tree(document: bytes, block: int) -> None:
    """The pass reads the part a block at a time: cut anywhere, it reads the same or leaves the part."""
    from seregno_xlsx.ritorni import sheet_bytes

    with mock.patch.object(sheet_bytes, "_BLOCK", block):
        assert _outcome(document, "bytes") == _outcome(document, "tree")


def test_a_large_worksheet_is_read_a_block_at_a_time() -> None:
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n % 7}</v></c><c r="B{n}" s="2"/><c r="C{n}"><v>{n}.5</v></c></row>'
        for n in range(1, 12_000)
    )
    document = f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>".encode()
    assert len(document) > 6 * 128 * 1024
    assert _read_from_bytes(document)
    outcome = _outcome(document, "bytes")
    assert outcome == _outcome(document, "tree")
    assert outcome[4] == {SHEET: (11_999, 3)} and outcome[6] == 2 * 11_999
    # values outside cells, no tag to cut before for many blocks: left to the callbacks
    stray = f"<worksheet {NS}><sheetData>{'<v>1</v>' * 60_000}</sheetData></worksheet>".encode()
    assert not _read_from_bytes(stray)
    assert _outcome(stray, "bytes") == _outcome(stray, "tree")
