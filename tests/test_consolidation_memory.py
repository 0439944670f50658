"""Flat memory of ``consolida`` (issue 13, point 1): what it holds per area, from the readings to the master.

One returned scheda of the example (Servizi alla Persona, 12 objectives and 21 indicators) is read once
and copied under N area names (codes and matricole of their own), each copy kept as the pool keeps a
reading (``ritorni/pool.slim``); the consolidation then runs on those readings (the reading itself is
measured in test_performance.py). The peak of what Python allocates until the master is written (the
readings, the checks across areas, the corrections, the areas as they count), for 40 areas less that for
10, over 30, is what one more area costs; test_master_memory.py measures the writer.
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from seregno_xlsx.master import consolidation
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.pool import slim
from seregno_xlsx.ritorni.reader import Lettura
from seregno_xlsx.ritorni.verification import verify_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PIANO = ROOT / "esempi" / "piano_2021.json"
SCHEDA = ROOT / "esempi" / "ritorni" / "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia.xlsx"
# What one more area may cost until the master is written (KiB): measured about 31 with the findings
# compressed (``findings_store.py``), each area counted as it is carried and the compiled areas in a
# temporary file; about 71 with the findings as models and every area compressed twice in memory; about
# 108 with every area's models held (and all of them at once in the checks across areas).
KIB_PER_AREA = 45


def _copy(read: Lettura, n: int) -> Lettura:
    """``read`` as if area «Area n» had sent it: its own models, nothing shared with the others."""
    assert read.compilata is not None and read.metadati is not None
    nome = f"Area {n:04d}"
    area = read.compilata.model_copy(update={"nome": nome, "codice": ""}, deep=True)
    for o in area.obiettivi:  # codes and people of its own, as another area has
        for item in (o, *o.fasi, *o.indicatori):
            item.codice = f"{n}-{item.codice}"
        for p in o.risorse_umane:
            p.matricola = f"{n}-{p.matricola}"
    shown = read.metadati.area.model_copy(update={"nome": nome, "codice": ""}, deep=True)
    metadati = read.metadati.model_copy(update={"area": shown})
    anomalie = [a.model_copy(update={"area": nome}) for a in read.anomalie]
    copy = dataclasses.replace(
        read, file=read.file.with_name(f"{nome}.xlsx"), compilata=area, metadati=metadati, anomalie=anomalie
    )
    copy.posizioni = dict(read.posizioni)
    return slim(copy)


def _peak(n: int, read: Lettura, folder: Path, monkeypatch: Any) -> int:
    returns = folder / f"ritorni_{n}"
    returns.mkdir()
    gc.collect()
    tracemalloc.start()
    try:
        letture = [_copy(read, i) for i in range(n)]
        monkeypatch.setattr(consolidation, "verify_files", lambda *args, **kwargs: letture)
        peaks: list[int] = []
        write = consolidation.write_master

        def measured(*args: Any, **kwargs: Any) -> Any:
            peaks.append(tracemalloc.get_traced_memory()[1])  # the peak so far: everything before the master
            return write(*args, **kwargs)

        monkeypatch.setattr(consolidation, "write_master", measured)
        result = consolidation.consolidate(returns, folder / f"master_{n}.xlsx", processi=1)
    finally:
        tracemalloc.stop()
    assert result.master is not None and len(result.aree) == n
    assert result.summary is not None and result.summary.righe["Obiettivi"] == 12 * n  # the work did grow
    [peak] = peaks
    return peak


def test_consolidation_holds_little_per_area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = verify_file(SCHEDA, piano=Piano.from_json(PIANO.read_text(encoding="utf-8")))
    _peak(2, read, tmp_path, monkeypatch)  # caches (texts, settings, formats) filled before measuring
    small, large = _peak(10, read, tmp_path, monkeypatch), _peak(40, read, tmp_path, monkeypatch)
    per_area = (large - small) / 30 / 1024
    assert per_area <= KIB_PER_AREA, (small, large, per_area)
