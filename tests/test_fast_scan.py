"""The fast XML scan gives the events (and the refusals) of the defusedxml tree scan it replaces."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from defusedxml import DefusedXmlException
from hypothesis import given, settings
from hypothesis import strategies as st

from seregno_xlsx.ritorni.xml_events import PIECE, ParseError, fast_events, tree_events

from .conftest import ROOT
from .hostile.corpus import BILLION_LAUGHS, EXTERNAL_ENTITY

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _outcome(events: object) -> tuple[list[object], str]:
    """The events given before the end, and how it ended (the exception's class)."""
    seen: list[object] = []
    try:
        for event in events:  # type: ignore[attr-defined]
            seen.append(event)
    except (ParseError, DefusedXmlException) as exc:
        return seen, type(exc).__name__
    return seen, ""


def _same(data: bytes) -> None:
    assert _outcome(tree_events(io.BytesIO(data))) == _outcome(fast_events(io.BytesIO(data)))


def test_every_part_of_the_example_returns() -> None:
    count = 0
    for path in sorted((ROOT / "esempi" / "ritorni").glob("*.xlsx")) + sorted((ROOT / "esempi" / "schede").glob("*")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith((".xml", ".rels")):
                    _same(archive.read(name))
                    count += 1
    assert count > 30


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS + b"<worksheet>&lol9;</worksheet>",
        EXTERNAL_ENTITY + b"<worksheet>&xxe;</worksheet>",
        b'<?xml version="1.0"?><!DOCTYPE w SYSTEM "http://example.com/x.dtd"><w/>',
        b'<!DOCTYPE w [<!ENTITY % p "x">]><w/>',
        b'<!DOCTYPE w [<!ENTITY u SYSTEM "x" NDATA gif>]><w/>',
        b"<w>&undefined;</w>",
        b"<w><c r='A1'><v>1</v></c>",  # unclosed
        b"<w><c r='A1'><v>1</w>",  # mismatched
        b"<w>\x07</w>",
        b"",
        b"<a:w xmlns:a='u' a:r='1'><a:c a:t='e'><a:v>#N/A</a:v></a:c></a:w>",
        b"<w><x:c/></w>",  # unbound prefix
        b"<w><f>SUM(A1)<x/>tail</f><!-- c --><?pi x?><![CDATA[<c>]]></w>",
        b"<w>" + b"<c r='A1'><v>1</v></c>" * 3000 + b"<bad",  # an error pieces after a good start
        b"<w>" + b"<c r='A1'><v>1</v></c>" * (PIECE // 22) + b"<!DOCTYPE x>",
    ],
)
def test_hostile_and_malformed_xml(data: bytes) -> None:
    _same(data)


_names = st.sampled_from(["row", "c", "v", "f", "is", "t", "mergeCell", "x:c", "sheetData"])
_attrs = st.dictionaries(
    st.sampled_from(["r", "t", "ref", "s", "x:r"]), st.sampled_from(["A1", "e", "B2:C3", "1", "&amp;", "<"]), max_size=3
)
_texts = st.sampled_from(
    ["", "1", "=SUM(A1)", "#VALUE!", "&amp;", "&lt;", "&#7;", "&#x41;", "&bad;", "<", "]]>", "è", " "]
)


@st.composite
def _xml(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(_names)
    attrs = "".join(f' {k}="{v}"' for k, v in draw(_attrs).items())
    if depth > 3 or draw(st.booleans()):
        return f"<{name}{attrs}/>" if draw(st.booleans()) else f"<{name}{attrs}>{draw(_texts)}</{name}>"
    children = "".join(draw(st.lists(_xml(depth + 1), max_size=4)))
    return f"<{name}{attrs}>{draw(_texts)}{children}{draw(_texts)}</{name}>"


_DOCUMENTS = st.builds(
    lambda body, namespaces, prolog, cut: _document(body, namespaces, prolog, cut),
    _xml(),
    st.sampled_from(["", NS, 'xmlns:x="u"', f'{NS} xmlns:x="u"']),
    st.sampled_from(["", "<?xml version='1.0'?>", "<!DOCTYPE w>"]),
    st.integers(0, 3),
)


def _document(body: str, namespaces: str, prolog: str, cut: int) -> bytes:
    document = f"{prolog}<w {namespaces}>{body}</w>".encode()
    if cut == 3:  # padded past one piece, so that what follows is parsed in a later piece
        return document.replace(b"<w ", b"<w " + b" " * PIECE, 1)
    return document[: len(document) * cut // 4] if cut else document  # or cut short


@given(_DOCUMENTS)
@settings(max_examples=60, deadline=None)
def test_generated_xml(document: bytes) -> None:
    _same(document)


@pytest.mark.fuzz
@given(_DOCUMENTS)
@settings(max_examples=3000, deadline=None)
def test_generated_xml_at_length(document: bytes) -> None:
    _same(document)


# --- whole files: the scan with fast events against the scan with defusedxml's tree ---------------

SHEET = "xl/worksheets/sheet2.xml"


def _grid_outcome(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    from seregno_xlsx.ritorni import xml_scan
    from seregno_xlsx.ritorni.bounds import UnreadableFile
    from seregno_xlsx.ritorni.workbook_file import open_grid

    monkeypatch.setattr(xml_scan, "FAST_SCAN", fast)
    try:
        grid = open_grid(path)
    except UnreadableFile as exc:
        return ("illeggibile", exc.codice, exc.dettaglio)
    return (grid.sheets, grid.formulas, grid.errors, grid.merged, grid.date1904, grid.format, grid.modified)


def _hostile_files(scheda: Path, folder: Path) -> list[Path]:
    from .hostile.corpus import with_prolog
    from .hostile.round2 import add_to_sheet_data, edit_xml, set_cell

    made = [scheda]
    made.append(with_prolog(scheda, folder / "risate.xlsx", BILLION_LAUGHS))
    made.append(with_prolog(scheda, folder / "esterna.xlsx", EXTERNAL_ENTITY))
    made.append(set_cell(scheda, folder / "formula.xlsx", SHEET, "H5", "<f>SUM(1,2)</f><v>3</v>"))
    made.append(set_cell(scheda, folder / "formula_vuota.xlsx", SHEET, "H5", "<f>1/0</f><v></v>"))
    made.append(set_cell(scheda, folder / "errore.xlsx", SHEET, "H5", "<v>#DIV/0!</v>", ' t="e"'))
    made.append(
        add_to_sheet_data(
            scheda, folder / "lontana.xlsx", SHEET, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        )
    )
    made.append(
        add_to_sheet_data(
            scheda,
            folder / "righe.xlsx",
            SHEET,
            "".join(f'<row r="{n}"><c r="H{n}"><v>{n}</v></c></row>' for n in range(200, 3_200)),
        )
    )
    made.append(
        edit_xml(
            scheda,
            folder / "unite.xlsx",
            SHEET,
            lambda t: t.replace(
                "</sheetData>",
                '</sheetData><mergeCells count="2"><mergeCell ref="G5:H6"/><mergeCell ref="A:A"/></mergeCells>',
                1,
            ),
        )
    )
    made.append(
        edit_xml(scheda, folder / "malformata.xlsx", SHEET, lambda t: t.replace("</sheetData>", "<row></sheetData>", 1))
    )
    made.append(
        edit_xml(scheda, folder / "entita.xlsx", SHEET, lambda t: t.replace("</sheetData>", "&ignota;</sheetData>", 1))
    )
    made.append(
        edit_xml(scheda, folder / "stili.xlsx", "xl/styles.xml", lambda t: t.replace("?>", "?><!DOCTYPE s>", 1))
    )
    made.append(
        edit_xml(
            scheda,
            folder / "prefissi.xlsx",
            SHEET,
            lambda t: t.replace(
                "</sheetData>",
                '<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="900">'
                '<x:c r="B900" t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c></x:row></sheetData>',
                1,
            ),
        )
    )
    return made


def test_hostile_files_scan_the_same_fast_and_full(
    scheda_reale: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _hostile_files(scheda_reale, tmp_path)
    outcomes = set()
    for path in files:
        fast = _grid_outcome(path, True, monkeypatch)
        full = _grid_outcome(path, False, monkeypatch)
        assert fast == full, path.name
        outcomes.add(fast[0] if isinstance(fast[0], str) else "letta")
    assert outcomes == {"illeggibile", "letta"}  # the corpus has both kinds


# --- a worksheet scanned on expat's callbacks against the scan of the tree's events ---------------------


def _scan_outcome(document: bytes, fast: bool) -> object:
    """What scanning ``document`` as a worksheet leaves (formulas, errors, merges, the box), or how it ended."""
    from seregno_xlsx.ritorni.bounds import UnreadableFile
    from seregno_xlsx.ritorni.grid import Grid
    from seregno_xlsx.ritorni.xml_scan import Scan

    scan = Scan(Grid())
    try:
        if fast:
            scan._worksheet_fast(SHEET, io.BytesIO(document))
        else:
            scan._worksheet(SHEET, tree_events(io.BytesIO(document)))
        ended = ""
    except UnreadableFile as exc:
        ended = exc.codice
    except (ParseError, DefusedXmlException, ValueError) as exc:
        ended = type(exc).__name__
    outcome = (
        scan.formulas,
        scan.errors,
        scan.merged,
        scan.box.sheets,
        scan.box.beyond,
        scan.box.values,
        scan.recorded,
    )
    return ended, *outcome, scan.shared_refs


def _same_scan(document: bytes) -> None:
    assert _scan_outcome(document, True) == _scan_outcome(document, False)


_cell_refs = st.sampled_from(["A1", "B7", "H5", "XFD1", "AMK3", "AML3", "A1048576", "A1048577", "a1", "", "12", "7"])
_cell_attrs = st.dictionaries(
    st.sampled_from(["r", "t", "ref", "s", "x:r"]),
    st.one_of(_cell_refs, st.sampled_from(["e", "s", "str", "B2:C3", "A:A", "&amp;"])),
    max_size=3,
)
_cell_texts = st.sampled_from(["", "1", " SUM(A1) ", "#VALUE!", "#N/A" * 20, "&amp;", "&#x41;", "è", " "])


@st.composite
def _sheet_xml(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(["row", "c", "v", "f", "is", "t", "mergeCell", "x:c", "x:v", "sheetData", "r"]))
    attrs = "".join(f' {k}="{v}"' for k, v in draw(_cell_attrs).items())
    if depth > 3 or draw(st.booleans()):
        return f"<{name}{attrs}/>" if draw(st.booleans()) else f"<{name}{attrs}>{draw(_cell_texts)}</{name}>"
    children = "".join(draw(st.lists(_sheet_xml(depth + 1), max_size=4)))
    return f"<{name}{attrs}>{draw(_cell_texts)}{children}{draw(_cell_texts)}</{name}>"


_SHEETS = st.builds(
    lambda body, namespaces, prolog, cut: _document(body, namespaces, prolog, cut),
    st.lists(_sheet_xml(), max_size=6).map("".join),
    st.sampled_from(["", NS, 'xmlns:x="u"', f'{NS} xmlns:x="u"']),
    st.sampled_from(["", "<?xml version='1.0'?>", "<!DOCTYPE w>"]),
    st.integers(0, 3),
)


@given(_SHEETS)
@settings(max_examples=150, deadline=None)
def test_generated_worksheets_scan_the_same_fast_and_full(document: bytes) -> None:
    _same_scan(document)


@pytest.mark.fuzz
@given(st.one_of(_SHEETS, _DOCUMENTS))
@settings(max_examples=3000, deadline=None)
def test_generated_worksheets_scan_the_same_at_length(document: bytes) -> None:
    _same_scan(document)


@pytest.mark.parametrize(
    "body",
    [
        '<sheetData><row r="2"><c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c><f/><v/></c></row></sheetData>'
        '<mergeCells><mergeCell ref="A1:B2"/><mergeCell/></mergeCells>',
        '<sheetData><row><c t="e"><v>#N/A</v></c><c t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        "<c r='A1'><f>SUM<x/>tail</f><v>3<x/>4</v></c><c r='A2'><v><v>1</v>2</v></c>",
        "<c r='B3'><f>a</f><f>b</f></c><c r='B4'><f><f>inner</f>outer</f></c><c r='XFE1'><v>1</v></c>",
        "<row r='x'><c><v>1</v></c></row>",
        '<row r="1048577"><c><v>1</v></c></row>',
        '<row r="5"><c r="AMK5"><v>1</v></c><c><v>1</v></c></row>',
        # Shared strings named by cells: what the reader's texts will cost is counted the same way.
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c t="s"><v>0</v></c><c t="s"><v>7<x/></v></c><c t="s"/></row>',
        # A cell inside a value names a shared string; the outer one does not (hypothesis found it).
        '<c><v>1<c t="s"></c></v></c><c t="s"><v>2<c/></v></c>',
        "<c r='A1'><v>1</v></c>" * 3000 + "<bad",
        "<c r='A1'><v>1</v></c>" * 3000 + "&ignota;",
    ],
)
def test_worksheets_scan_the_same_fast_and_full(body: str) -> None:
    _same_scan(f"<worksheet {NS}>{body}</worksheet>".encode())
    _same_scan((BILLION_LAUGHS.decode() + f"<worksheet>{body}</worksheet>").encode())


def test_too_many_values_stop_both_scans_at_the_same_cell() -> None:
    from seregno_xlsx.ritorni import xml_scan

    cells = "<c><v>1</v></c>" * 40
    rows = "<w>" + "".join(f'<row r="{n}">{cells}</row>' for n in range(1, 60)) + "</w>"
    original = xml_scan.MAX_VALUE_CELLS
    try:
        xml_scan.MAX_VALUE_CELLS = 1_000
        fast, full = _scan_outcome(rows.encode(), True), _scan_outcome(rows.encode(), False)
    finally:
        xml_scan.MAX_VALUE_CELLS = original
    assert fast == full
    assert fast[0] == "file-troppo-grande" and fast[6] == 1_001


def test_parts_only_checked_refuse_and_fail_as_the_tree() -> None:
    from seregno_xlsx.ritorni.xml_events import check_only

    def outcome(check: object, data: bytes) -> str:
        try:
            check(io.BytesIO(data))  # type: ignore[operator]
        except (ParseError, DefusedXmlException) as exc:
            return type(exc).__name__
        return ""

    def full(stream: io.BytesIO) -> None:
        for _ in tree_events(stream):
            pass

    for data in (
        BILLION_LAUGHS + b"<sst>&lol9;</sst>",
        EXTERNAL_ENTITY + b"<sst>&xxe;</sst>",
        b'<!DOCTYPE w [<!ENTITY u SYSTEM "x" NDATA gif>]><w/>',
        b"<sst><si><t>a</t></si>",
        b"<sst>" + b"<si><t>testo</t></si>" * 2000 + b"</sst>",
        b"<sst>&bad;</sst>",
        b"",
    ):
        assert outcome(check_only, data) == outcome(full, data), data[:40]
