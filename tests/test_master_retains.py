"""Flat memory of the master writer (issue 13, point 1): what it keeps of each area while it writes.

The areas come as ``consolida`` gives them (``piano/compresse.py``: each read makes new models, so every text
the writer keeps of an area is memory of its own), each with texts, codes and people of its own and a few
findings pointing to its rows. The texts remembered for row heights (a bounded cache) are filled to their
bound first. The peak of what Python allocates while the master is written, for 40 areas less that for 10,
over 30, is what the writer keeps per area: about 58 KiB when it kept the link target of every row, each
indicator's row, every assignment as a record and every hyperlink as XlsxWriter's object; about 22 with the
targets the findings ask for, the assignments and the hyperlinks in files of the scratch folder (what is
left: an index of the people, by name, for Personale, and the findings' own links). With 32 findings per
area (more than a page shows), given compressed as ``consolida`` gives them: about 64 KiB when the area pages
grouped every finding as a model at once, about 28 with only the rows each page shows (``area_findings.py``).
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from seregno_xlsx.findings import Anomalia, Gravita
from seregno_xlsx.findings_store import AnomalieCompresse
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import MAX_AREA_FINDINGS, Fonte, write_master
from seregno_xlsx.piano.compresse import AreeCompresse
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.scheda import fit

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PIANO = ROOT / "esempi" / "piano_2021.json"
# What writing the master may keep per area (KiB): measured about 28 (32 findings per area), 64 before.
KIB_PER_AREA = 35


def _area(model: Area, n: int) -> Area:
    """``model`` as area «Area n»: codes, texts and people of its own, nothing shared with the others."""
    area = model.model_copy(update={"nome": f"Area {n:04d}"}, deep=True)
    for o in area.obiettivi:
        o.titolo = f"{o.titolo} ({n})"
        for item in (o, *o.fasi, *o.indicatori):
            item.codice = f"{n}-{item.codice}"
        for f in o.fasi:
            f.descrizione = f"{f.descrizione} ({n})"
            f.monitoraggio = f"Monitoraggio della fase {f.codice}: in linea con il cronoprogramma"
        for p in o.risorse_umane:
            p.matricola = f"{n}-{p.matricola}"
            p.nome = f"{p.nome} {n}"
    return area


def _findings(area: Area) -> list[Anomalia]:
    """Findings on the area's rows, as a return has: each links to its row. More than an area's page
    shows (``MAX_AREA_FINDINGS``): the page takes the first ones, never all of the run's at once."""
    found = []
    for o in area.obiettivi[:5]:
        for f in o.fasi[:2]:
            for what in ("data di fine effettiva", "nota di monitoraggio", "valore raggiunto", "data di inizio"):
                found.append(
                    Anomalia(
                        codice="data-fine-mancante",
                        gravita=Gravita.AVVISO,
                        area=area.nome,
                        obiettivo=o.codice,
                        fase=f.codice,
                        foglio="Fasi",
                        cella="H7",
                        messaggio=f"Fase {f.codice}: manca la {what}",
                    )
                )
    return found


def _fill_remembered() -> None:
    """Row heights remember the texts they measure, as many as a bound: filled to it before measuring (as a
    large master fills them), what grows after is what the writer keeps of each area."""
    bounds = [cache.cache_info().maxsize for cache in (fit._lines_cached, fit._word_width_cached)]
    assert None not in bounds  # remembering without a bound would keep every text of every area
    for i in range(max(b or 0 for b in bounds)):
        fit.lines(f"riempitivo{i}", 10.0)


def _peak(model: Area, n: int, folder: Path) -> int:
    aree = AreeCompresse(_area(model, i) for i in range(n))
    # As consolida gives them: compressed (``findings_store.py``), each made a model again when read.
    anomalie = AnomalieCompresse(x for area in aree for x in _findings(area)).seal()
    assert len(anomalie) > MAX_AREA_FINDINGS * n
    fonti = [Fonte(f"{a.nome}.xlsx", a.nome, "intermedia", "1", "0" * 64, None, "accettato") for a in aree]
    gc.collect()
    tracemalloc.start()
    try:
        _fill_remembered()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        summary = write_master(
            folder / f"master_{n}.xlsx",
            ente="Comune",
            anno=2021,
            aree=aree,
            rilevazione=Rilevazione.INTERMEDIA,
            regole=Regole(),
            anomalie=anomalie,
            fonti=fonti,
            data_riferimento=date(2021, 9, 30),
            valori_letti=0,
        )
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert summary.righe["Obiettivi"] == n * len(model.obiettivi)  # the work did grow
    assert summary.righe["Anomalie"] == len(anomalie)
    return peak


def test_the_writer_keeps_little_of_each_area(tmp_path: Path) -> None:
    piano = Piano.from_json(PIANO.read_text(encoding="utf-8"))
    model = max(piano.aree, key=lambda a: sum(len(o.risorse_umane) for o in a.obiettivi))
    assert sum(len(o.risorse_umane) for o in model.obiettivi) > 10  # people, in Assegnazioni and Personale
    _peak(model, 2, tmp_path)  # what any master loads, loaded before measuring
    small, large = _peak(model, 10, tmp_path), _peak(model, 40, tmp_path)
    per_area = (large - small) / 30 / 1024
    assert per_area <= KIB_PER_AREA, (small, large, per_area)
