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
