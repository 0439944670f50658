"""Memory bounded by the size limits (issue 14, point 8), measured: the peak memory of reading one file
within the limits, in a process of its own, against the bound README states.

The bound has two terms, both checked before the reader allocates anything:
- ``FILE_MULTIPLE`` times the file's size: the bytes read, what is inflated from them (in 64 KB
  chunks), the values turned into Python objects;
- ``CELL_BYTES`` per cell of the rectangle the reader (calamine) allocates for each sheet, from A1 to
  the last cell holding a value: at most ``MAX_GRID_CELLS`` cells in all.
The second term is not a multiple of the size: one value on the last row of a formatted column (which
LibreOffice may leave, and which is read) costs its rectangle whatever the file weighs. The test shows
that case too, so the statement in README cannot quietly become false.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seregno_xlsx.ritorni.bounds import MAX_GRID_CELLS
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import fill_workbook

from .hostile.round2 import add_to_sheet_data, sheet_part

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="serve Linux per misurare il picco"),
]

FILE_MULTIPLE = 100
# calamine's cell (32 bytes) and its share of the row it sits in.
CELL_BYTES = 40
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
from python_calamine import CalamineWorkbook
workbook = CalamineWorkbook.from_path(sys.argv[1])
box = 0
for name in workbook.sheet_names:
    sheet = workbook.get_sheet_by_name(name)
    box += sheet.total_height * sheet.total_width
print(json.dumps({"extra": peak - before, "box": box, "codes": codes}))
"""


def _measure(path: Path, warm_up: Path) -> dict[str, object]:
    """Peak memory added by reading ``path`` (Linux's VmHWM, reset after a first read of ``warm_up``, in a
    fresh process), and the rectangle the reader allocates for it."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(warm_up)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured: dict[str, object] = json.loads(result.stdout)
    return measured


def _bound(size: int, box: int) -> int:
    return FILE_MULTIPLE * size + CELL_BYTES * box


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
    mark = '<row r="1048576"><c r="J1048576" t="inlineStr"><is><t> </t></is></c></row>'
    return {
        "reale": real,
        "480.000 numeri": add_to_sheet_data(real, folder / "numeri.xlsx", part, numbers),
        "100.000 testi": add_to_sheet_data(real, folder / "testi.xlsx", part, texts),
        "segno sull'ultima riga": add_to_sheet_data(real, folder / "segno.xlsx", part, mark),
    }


@pytest.mark.parametrize("name", ["reale", "480.000 numeri", "100.000 testi", "segno sull'ultima riga"])
def test_peak_memory_of_a_file_within_the_limits(files: dict[str, Path], name: str) -> None:
    path = files[name]
    measured = _measure(path, files["reale"])
    extra, box = int(measured["extra"]), int(measured["box"])  # type: ignore[call-overload]
    assert not set(measured["codes"]) & {"file-troppo-grande", "cella-fuori-limiti"}  # type: ignore[arg-type]
    assert box <= MAX_GRID_CELLS
    size = path.stat().st_size
    assert extra <= _bound(size, box), f"{name}: {extra / MB:.0f} MB per un file di {size / MB:.2f} MB"
    if name == "segno sull'ultima riga":
        # The rectangle, not the size, is what costs here: the multiple alone would not hold.
        assert extra > FILE_MULTIPLE * size and box > 5_000_000
