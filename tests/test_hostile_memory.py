"""Memory bounded by the size limits (issue 14, point 8), measured: the peak memory of reading one file
within the limits, in a process of its own, is at most ``FILE_MULTIPLE`` times the file's size, as README
states. Every allocation the reader makes follows the size and is bounded by the scan, before it is made:
what is inflated (at most ``MAX_TOTAL_RATIO`` times the size, in 64 KB chunks), calamine's rectangles (at
most ``DENSE_CELLS_PER_BYTE`` cells per byte: a sheet beyond is read sparsely), the values (at most
``VALUES_PER_BYTE`` per byte), the text copied into cells (``STRING_CHARS_PER_BYTE``). The worst cases of
each are here: far cells, many tiny cells, long texts, numbers and notes by the hundred thousand.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from seregno_xlsx.cells import column_letter
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import fill_workbook

from .hostile.corpus import entries, ods_package, write_zip
from .hostile.round2 import add_to_sheet_data, sheet_part, with_shared_strings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="serve Linux per misurare il picco"),
]

FILE_MULTIPLE = 300
MB = 1024 * 1024

MEASURE = """
import gc, json, sys
from pathlib import Path
from seregno_xlsx.ritorni.reader import read_workbook

def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

read_workbook(Path(sys.argv[2]))  # a real scheda first: what the first read imports is not the file's cost
gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
before = status("VmRSS")
lettura = read_workbook(Path(sys.argv[1]))
peak = status("VmHWM")
codes = [a.codice for a in lettura.anomalie]
del lettura
print(json.dumps({"extra": peak - before, "codes": codes}))
"""


def _measure(path: Path, warm_up: Path) -> dict[str, object]:
    """Peak memory added by reading ``path`` (Linux's VmHWM, reset after a first read of ``warm_up``, in a
    fresh process)."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(warm_up)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured: dict[str, object] = json.loads(result.stdout)
    return measured


@pytest.fixture(scope="module")
def files(schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("memoria")
    source = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    real = folder / "reale.xlsx"
    fill_workbook(source, real, [])
    part = sheet_part(real, "Fasi")
    numbers = "".join(f'<row r="{n}"><c r="M{n}"><v>{n}.5</v></c></row>' for n in range(300, 300 + 480_000))
    texts = "".join(
        f'<row r="{n}"><c r="M{n}" t="inlineStr"><is><t>{f"nota {n} " * 10}</t></is></c></row>'
        for n in range(300, 300 + 100_000)
    )
    mark = '<row r="1048576"><c r="AMJ1048576" t="inlineStr"><is><t> </t></is></c></row>'
    # Tiny identical cells compress to almost nothing: random bytes beside them bring the file to one
    # value per byte, the most the reader accepts; a far mark makes the sheet sparse, the costlier way.
    tiny = "".join(f'<row r="{n}">' + "<c><v>1</v></c>" * 1_000 + "</row>" for n in range(300, 360)) + mark
    padded = add_to_sheet_data(real, folder / "minuscole.xlsx", part, tiny)
    dense = add_to_sheet_data(real, folder / "minuscole_intere.xlsx", part, tiny.replace(mark, ""))
    for path in (padded, dense):
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("xl/media/image1.png", os.urandom(20_000))
    # A long text in one cell: the sheet inflates to almost 1 MB, beyond which MAX_RATIO applies.
    long_texts = f'<row r="300"><c r="M300" t="inlineStr"><is><t>{"x" * 950_000}</t></is></c></row>'
    # One shared string named by 45,000 cells: each cell gets its own copy of it.
    shared = with_shared_strings(real, folder / "condivisi.xlsx")
    index = _add_shared_string(shared, "abcdefghij0123456789")
    named = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{column_letter(c)}{r}" t="s"><v>{index}</v></c>' for c in range(1, 1_001))
        + "</row>"
        for r in range(300, 345)
    )
    return {
        "reale": real,
        "480.000 numeri": add_to_sheet_data(real, folder / "numeri.xlsx", part, numbers),
        "100.000 testi": add_to_sheet_data(real, folder / "testi.xlsx", part, texts),
        "segno sull'ultima riga": add_to_sheet_data(real, folder / "segno.xlsx", part, mark),
        "60.000 celle minuscole": padded,
        "60.000 celle minuscole, lette intere": dense,
        "testo lungo": add_to_sheet_data(real, folder / "lunghi.xlsx", part, long_texts),
        "45.000 testi condivisi": add_to_sheet_data(shared, folder / "nominati.xlsx", part, named + mark),
        "60.000 celle .ods ripetute": _repeated_ods(folder / "ripetute.ods"),
        "60.000 celle .ods ripetute, sparse": _repeated_ods(folder / "ripetute_lontane.ods", far=True),
    }


def _add_shared_string(path: Path, text: str) -> int:
    parts = entries(path)
    table = parts["xl/sharedStrings.xml"].decode()
    index = table.count("<si>")
    table = re.sub(r'(count|uniqueCount)="\d+"', rf'\1="{index + 1}"', table)
    parts["xl/sharedStrings.xml"] = table.replace("</sst>", f"<si><t>{text}</t></si></sst>").encode()
    write_zip(path, parts)
    return index


def _repeated_ods(path: Path, *, far: bool = False) -> Path:
    """One .ods cell of 20 characters repeated over 60 rows of 1,000 columns: a few hundred bytes of XML,
    random bytes beside them bring the file to one value per byte and 20 copied characters per byte; with
    ``far``, a mark on row 1,048,576 makes the table sparse."""
    mark = (
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell>'
        "</table:table-row>"
    )
    office = "urn:oasis:names:tc:opendocument:xmlns"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office}:office:1.0" '
        f'xmlns:table="{office}:table:1.0" xmlns:text="{office}:text:1.0" office:version="1.2"><office:body>'
        '<office:spreadsheet><table:table table:name="Foglio1"><table:table-row table:number-rows-repeated="60">'
        '<table:table-cell table:number-columns-repeated="1000" office:value-type="string">'
        "<text:p>abcdefghij0123456789</text:p></table:table-cell></table:table-row>"
        + (mark if far else "")
        + "</table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    return ods_package(path, content, {"Pictures/image1.png": os.urandom(61_000)})


NAMES = [
    "reale",
    "480.000 numeri",
    "100.000 testi",
    "segno sull'ultima riga",
    "60.000 celle minuscole",
    "60.000 celle minuscole, lette intere",
    "testo lungo",
    "45.000 testi condivisi",
    "60.000 celle .ods ripetute",
    "60.000 celle .ods ripetute, sparse",
]


@pytest.mark.parametrize("name", NAMES)
def test_peak_memory_of_a_file_within_the_limits(files: dict[str, Path], name: str) -> None:
    path = files[name]
    measured = _measure(path, files["reale"])
    extra = int(measured["extra"])  # type: ignore[call-overload]
    codes = set(measured["codes"])  # type: ignore[call-overload]
    assert not codes & {"file-troppo-grande", "cella-fuori-limiti"}, codes
    size = path.stat().st_size
    print(f"{name}: {extra / MB:.1f} MB, {size / MB:.3f} MB, {extra / size:.0f} volte")
    assert extra <= FILE_MULTIPLE * size, f"{name}: {extra / MB:.0f} MB per un file di {size / MB:.2f} MB"
