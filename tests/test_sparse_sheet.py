"""A sheet read sparsely (``ritorni.sparse_sheet``) gives the reader what calamine's dense reading gives:
the same rows, the same values (numbers, dates, booleans, texts, shared strings, errors), the same cut
after a long run of empty rows, the same refusals and the same findings, on real generated schede with
cells moved and added (issue 14, point 8)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seregno_xlsx.ritorni import workbook_file
from seregno_xlsx.ritorni.bounds import UnreadableFile
from seregno_xlsx.ritorni.grid import Grid, SparseRows
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import fill_workbook

from .hostile.corpus import entries, write_zip
from .hostile.round2 import sheet_part, with_shared_strings

SHEETS = ["Fasi", "Indicatori", "Metadati", "Istruzioni"]


@contextmanager
def reading(dense: bool) -> Iterator[None]:
    """Every sheet read whole by calamine (``dense``), or every sheet with a value read sparsely."""
    saved = getattr(workbook_file, "DENSE_CELLS_PER_BYTE")  # noqa: B009 (the module's own binding)
    setattr(workbook_file, "DENSE_CELLS_PER_BYTE", 10**9 if dense else 0)  # noqa: B010
    try:
        yield
    finally:
        setattr(workbook_file, "DENSE_CELLS_PER_BYTE", saved)  # noqa: B010


def _grid(path: Path, *, dense: bool) -> Grid | tuple[str, str]:
    with reading(dense):
        try:
            return workbook_file.open_grid(path)
        except UnreadableFile as exc:
            return exc.codice, exc.dettaglio


def _findings(path: Path, *, dense: bool) -> list[tuple[str, str, str | None]]:
    with reading(dense):
        lettura = read_workbook(path)
    return [(a.codice, a.messaggio, a.cella) for a in lettura.anomalie]


@pytest.fixture(scope="module")
def bases(schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A filled scheda as generated (inline strings) and with its texts as shared strings, as Excel saves."""
    folder = tmp_path_factory.mktemp("sparse")
    source = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    generated = folder / "generata.xlsx"
    fill_workbook(source, generated, [])
    return {"generata": generated, "condivisi": with_shared_strings(generated, folder / "condivisi.xlsx")}


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# A value as a cell's type, style and content: %s is the style of a date cell of the sheet.
CELLS = st.sampled_from(
    [
        ("", "<v>{number}</v>"),
        (' s="{date}"', "<v>{serial}</v>"),
        (' t="b"', "<v>{bit}</v>"),
        (' t="e"', "<v>#N/A</v>"),
        (' t="str"', "<f>1+1</f><v>{text}</v>"),
        (' t="inlineStr"', '<is><r><t xml:space="preserve"> {text} </t></r><r><t>b</t></r></is>'),
        (' t="inlineStr"', "<is><t></t></is>"),
        (' t="inlineStr"', "<is><t> </t></is>"),
        (' t="s"', "<v>{shared}</v>"),
        ("", "<v></v>"),
    ]
)
Edit = tuple[str, bool, int, int, int, tuple[str, str], float]
EDITS = st.lists(
    st.tuples(
        st.sampled_from(SHEETS),
        st.booleans(),  # move an existing cell (True) or add one
        st.integers(1, 4_500),  # row
        st.integers(1, 40),  # column
        st.integers(0, 10_000),  # which cell to move; which shared string
        CELLS,
        st.floats(-1e6, 1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=6,
)


def _edit(base: Path, target: Path, edits: list[Edit]) -> None:
    parts = entries(base)
    shared = parts.get("xl/sharedStrings.xml", b"").count(b"<si>") or 1
    for sheet, move, row, col, which, (attributes, content), number in edits:
        name = sheet_part(base, sheet)
        xml = parts[name].decode()
        ref = f"{_column(col)}{row}"
        cells = list(re.finditer(r'<c r="([A-Z]+\d+)"', xml))
        if move and cells:
            found = cells[which % len(cells)]
            xml = xml[: found.start(1)] + ref + xml[found.end(1) :]
        else:
            date = re.search(r'<c r="[A-Z]+\d+" s="(\d+)"[^>]*><v>4\d{4}</v>', xml)
            cell = f'<c r="{ref}"' + attributes.format(date=date.group(1) if date else "0") + ">"
            cell += content.format(
                number=number, serial=44_000 + int(number) % 400, bit=which % 2, text=f"t{which}", shared=which % shared
            )
            xml = xml.replace("</sheetData>", f'<row r="{row}">{cell}</c></row></sheetData>', 1)
        parts[name] = xml.encode()
    write_zip(target, parts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(["generata", "condivisi"]), edits=EDITS)
# One place given a number, then an error (read as empty): the last one counts, in both readings.
@example(
    base="generata",
    edits=[
        ("Fasi", False, 15, 1, 0, ("", "<v>{number}</v>"), 0.0),
        ("Fasi", False, 15, 1, 0, (' t="e"', "<v>#N/A</v>"), 0.0),
    ],
)
def test_a_sheet_read_sparsely_reads_as_the_dense_reading(
    bases: dict[str, Path],
    tmp_path: Path,
    base: str,
    edits: list[Edit],
) -> None:
    path = tmp_path / "modificata.xlsx"
    _edit(bases[base], path, edits)
    dense, sparse = _grid(path, dense=True), _grid(path, dense=False)
    if not isinstance(dense, Grid) or not isinstance(sparse, Grid):
        assert dense == sparse  # the same refusal, with the same words
        return
    assert list(dense.sheets) == list(sparse.sheets)
    for name, rows in dense.sheets.items():
        other = sparse.sheets[name]
        assert isinstance(other, SparseRows) or not rows
        assert len(other) == len(rows)
        assert list(other) == rows
        assert list(other[:30]) == rows[:30]
        width = max((len(r) for r in rows), default=0)
        for row, col in [(r, c) for r in range(len(rows) + 2) for c in (0, 1, 2, width, width + 1)]:
            assert sparse.value(name, row, col) == dense.value(name, row, col)
        assert sorted(map(repr, filter(None, sparse.values(name)))) == sorted(
            map(repr, filter(None, dense.values(name)))
        )
    assert _findings(path, dense=False) == _findings(path, dense=True)


def test_a_far_cell_is_read_in_memory_that_follows_the_cells(bases: dict[str, Path], tmp_path: Path) -> None:
    """A mark on row 1,048,576 of the last column: the sheet is read sparsely, what it holds is kept."""
    path = tmp_path / "lontana.xlsx"
    shutil.copy(bases["condivisi"], path)
    parts = entries(path)
    name = sheet_part(path, "Fasi")
    mark = '<row r="1048576"><c r="AMJ1048576" t="inlineStr"><is><t> </t></is></c></row>'
    parts[name] = parts[name].replace(b"</sheetData>", mark.encode() + b"</sheetData>", 1)
    write_zip(path, parts)
    grid = workbook_file.open_grid(path)
    assert isinstance(grid.sheets["Fasi"], SparseRows)
    assert grid.sheets["Fasi"].width == 1024  # the mark counts for the width, as calamine counts it
    assert all(not isinstance(rows, SparseRows) for name, rows in grid.sheets.items() if name != "Fasi")
    reference = workbook_file.open_grid(bases["condivisi"])
    rows, expected = grid.sheets["Fasi"], reference.sheets["Fasi"]
    assert len(rows) == len(expected)
    assert [row[: len(same)] for row, same in zip(rows, expected, strict=True)] == expected
    assert all(not any(row[len(same) :]) for row, same in zip(rows, expected, strict=True))
    assert _findings(path, dense=False) == _findings(bases["condivisi"], dense=False)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice non installato")
def test_an_ods_table_read_sparsely_reads_as_the_dense_reading(bases: dict[str, Path], tmp_path: Path) -> None:
    """The scheda saved as .ods by LibreOffice, with a multi-line text (its line breaks are put back) and a
    repeated value added to Fasi: every table rewritten and read sparsely reads as calamine reads it."""
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            profile,
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(bases["generata"]),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    path = tmp_path / "generata.ods"
    parts = entries(path)
    content = parts["content.xml"].decode()
    fasi = content.index('table:name="Fasi"')
    # Before the run of empty rows LibreOffice writes down to row 1,048,576.
    end = fasi + re.search(r'<table:table-row [^>]*number-rows-repeated="\d{4,}"', content[fasi:]).start()  # type: ignore[union-attr]
    added = (
        '<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string" '
        'table:number-columns-repeated="3"><text:p>riga 1</text:p><text:p>riga  2</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="2.5"><text:p>2,5</text:p></table:table-cell>'
        "</table:table-row>"
    )
    parts["content.xml"] = (content[:end] + added + content[end:]).encode()
    write_zip(path, {"mimetype": parts.pop("mimetype"), **parts})
    dense, sparse = _grid(path, dense=True), _grid(path, dense=False)
    assert isinstance(dense, Grid) and isinstance(sparse, Grid)
    assert "riga 1\nriga  2" in dense.sheets["Fasi"][-1] and 2.5 in dense.sheets["Fasi"][-1]
    for name, rows in dense.sheets.items():
        assert isinstance(sparse.sheets[name], SparseRows)
        assert list(sparse.sheets[name]) == rows, name
    assert _findings(path, dense=False) == _findings(path, dense=True)
