"""Flat memory (issue 13, point 1), measured: the master is written row by row, so writing it for four
times the areas must not take four times the memory.

Each measure runs in a process of its own: the areas are built first (the 2021 example's Servizi alla
Persona, 12 objectives and 21 indicators, copied under N names, its values filled by
``seregno_xlsx.simulation``), a one-area master is written to load what any master loads, then Linux's
high-water mark is reset and the master of the N areas written. What the writer adds is that peak less
the memory before it. With every cell held until the end (XlsxWriter's default) it grew by about 340 KiB
per area (13 MiB at 40 areas, 54 MiB at 160); written row by row, about 45 KiB (2 and 7 MiB): what stays
is a few small maps per row (the link targets, the rows of objectives and indicators, the people).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="serve Linux per misurare il picco"),
]

ROOT = Path(__file__).resolve().parents[1]
PIANO = ROOT / "esempi" / "piano_2021.json"
# What writing the master may add per area (KiB): measured about 45, against 340 with every cell held.
KIB_PER_AREA = 80

MEASURE = """
import gc, json, sys
from datetime import date
from pathlib import Path
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import Fonte, write_master
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.simulation import sample_entries

def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

piano = Piano.from_json(Path(sys.argv[1]).read_text(encoding="utf-8"))
model = max(piano.aree, key=lambda a: len(a.obiettivi))
n, out = int(sys.argv[2]), Path(sys.argv[3])

def apply_entries(area, entries):  # what the area would type, straight into the model
    rows = {}
    for o in area.obiettivi:
        rows["obiettivi", o.codice] = o
        rows.update((("fasi", f.codice), f) for f in o.fasi)
        rows.update((("indicatori", i.codice), i) for i in o.indicatori)
    for entry in entries:  # SI/NO as the scheda stores them
        value = {"SI": 100, "NO": 0}.get(entry.value, entry.value) if isinstance(entry.value, str) else entry.value
        setattr(rows[entry.sheet_key, entry.code], entry.field, value)
    return area

aree = []
for i in range(n):
    area = model.model_copy(update={"nome": f"Area {i:04d}"}, deep=True)
    aree.append(apply_entries(area, sample_entries(area, Rilevazione.INTERMEDIA, seed=i, anno=piano.anno)))

def write(path, aree):
    fonti = [Fonte(f"{a.nome}.xlsx", a.nome, "intermedia", "1", "0" * 64, None, "accettato") for a in aree]
    return write_master(path, ente=piano.ente, anno=piano.anno, aree=aree, rilevazione=Rilevazione.INTERMEDIA,
        regole=Regole(), anomalie=[], fonti=fonti, data_riferimento=date(piano.anno, 9, 30), valori_letti=0)

write(out.with_name("uno.xlsx"), aree[:1])
gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
before = status("VmRSS")
summary = write(out, aree)
print(json.dumps({"extra": status("VmHWM") - before, "righe": summary.righe}))
"""


def _extra(n: int, tmp_path: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(PIANO), str(n), str(tmp_path / f"master_{n}.xlsx")],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    measured: dict[str, object] = json.loads(result.stdout)
    return measured


def test_writing_the_master_takes_flat_memory(tmp_path: Path) -> None:
    small, large = _extra(40, tmp_path), _extra(160, tmp_path)
    rows_small, rows_large = small["righe"], large["righe"]
    assert isinstance(rows_small, dict) and isinstance(rows_large, dict)
    assert rows_large["Indicatori"] == 4 * rows_small["Indicatori"] == 160 * 21  # the work did grow fourfold
    extra_small, extra_large = int(str(small["extra"])), int(str(large["extra"]))
    per_area = (extra_large - extra_small) / 120 / 1024
    assert per_area <= KIB_PER_AREA, (extra_small, extra_large)
