"""Areas kept compressed (``piano/compresse.py``): a read-only sequence giving fresh models on each read,
and a master written from it identical to one written from the models."""

from __future__ import annotations

import gc
import os
import pickle
import tracemalloc
from datetime import date
from pathlib import Path

from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import Fonte, write_master
from seregno_xlsx.piano.compresse import AreeCompresse, compress
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.simulation import sample_entries

from .hostile.disk import ROOT_ONLY, Mount, fill

ROOT = Path(__file__).resolve().parents[1]
PIANO = Piano.from_json((ROOT / "esempi" / "piano_2021.json").read_text(encoding="utf-8"))


def test_a_lazy_sequence_of_fresh_copies() -> None:
    aree = AreeCompresse(PIANO.aree)
    assert len(aree) == len(PIANO.aree) and aree == PIANO.aree and list(aree) == PIANO.aree
    assert aree[0] == PIANO.aree[0] and aree[0] is not aree[0]  # a new copy on each read
    assert aree[-1] == PIANO.aree[-1] and aree[1:] == PIANO.aree[1:]
    changed = aree[0]
    changed.nome = "altro"
    assert aree[0] == PIANO.aree[0]  # a copy may be changed in place: the sequence is not
    assert aree != PIANO.aree[1:] and aree != "testo"
    # The indicators in all, kept as areas are added (the master needs it before reading any area).
    total = sum(len(o.indicatori) for a in PIANO.aree for o in a.obiettivi)
    assert total > 0 and aree.indicatori == total and pickle.loads(pickle.dumps(aree)).indicatori == total
    assert list(aree.drain()) == PIANO.aree and len(aree) == 0 and aree.indicatori == 0


def _filled(n: int) -> list[Area]:
    """The example's largest area copied under n names, its values filled as an area would."""
    model = max(PIANO.aree, key=lambda a: len(a.obiettivi))
    aree = []
    for i in range(n):
        area = model.model_copy(update={"nome": f"Area {i}"}, deep=True)
        rows: dict[tuple[str, str], object] = {}
        for o in area.obiettivi:
            rows["obiettivi", o.codice] = o
            rows.update((("indicatori", x.codice), x) for x in o.indicatori)
        for entry in sample_entries(area, Rilevazione.INTERMEDIA, seed=i, anno=PIANO.anno):
            if (entry.sheet_key, entry.code) in rows and not isinstance(entry.value, str):
                setattr(rows[entry.sheet_key, entry.code], entry.field, entry.value)
        aree.append(area)
    return aree


def test_the_master_from_compressed_areas_is_the_same(tmp_path: Path) -> None:
    """The writer reads the areas again for each sheet: nothing it keeps may be keyed by the models' ids
    (a new copy may take the id of one let go), so the bytes are those written from the models."""
    aree = _filled(6)
    masters = []
    # With 2 processes too: Assegnazioni and Personale read the compressed areas in the process beside.
    for name, given, processi in (
        ("modelli", aree, 1),
        ("compresse", AreeCompresse(aree), 1),
        ("compresse-2", AreeCompresse(aree), 2),
    ):
        path = tmp_path / f"{name}.xlsx"
        fonti = [Fonte(f"{a.nome}.xlsx", a.nome, "intermedia", "1", "0" * 64, None, "accettato") for a in aree]
        write_master(
            path,
            ente=PIANO.ente,
            anno=PIANO.anno,
            aree=given,
            rilevazione=Rilevazione.INTERMEDIA,
            regole=Regole(),
            anomalie=[],
            fonti=fonti,
            data_riferimento=date(PIANO.anno, 9, 30),
            valori_letti=0,
            processi=processi,
        )
        masters.append(path.read_bytes())
    assert masters[0] == masters[1] == masters[2]


def _held_by(aree: AreeCompresse, areas: list[Area], repeat: int) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(repeat):
            for area in areas:
                aree.append(area)
        gc.collect()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_the_areas_wait_on_disk_a_few_bytes_each_in_memory() -> None:
    """3,000 compressed areas (a few KB each) hold well under 100 bytes each in memory: what a run over
    thousands of areas keeps of each is where it is in the temporary file."""
    areas = _filled(3)
    aree = AreeCompresse()
    held = _held_by(aree, areas, 1_000)
    assert len(aree) == 3_000 and aree[1_501] == areas[1_501 % 3] and aree[-1] == areas[2]
    assert held < 3_000 * 100, held
    # In memory the same blobs hold some KB each: the bound above cannot be met by keeping them.
    assert min(len(compress(area)) for area in areas) > 1_000


@ROOT_ONLY
def test_a_full_disk_keeps_the_areas_in_memory(small_disk: Mount) -> None:
    """The master's folder fills up halfway: every area is still there, the same, and nothing stops."""
    disk = small_disk("size=64k")
    fill(disk, 8192)
    areas = _filled(3)
    aree = AreeCompresse(areas * 10, cartella=disk)
    try:
        assert aree == areas * 10 and aree._blobs._memory is not None  # the disk was too small for 30
        assert list(aree.drain()) == areas * 10 and len(aree) == 0
    finally:
        aree._blobs.clear()  # no file left open on the small disk: it is unmounted next


def test_the_areas_wait_beside_the_master_and_leave_nothing(tmp_path: Path) -> None:
    """In the folder given (``consolida``: the master's), in a file without a name: the folder lists nothing,
    during the run and after; a folder that cannot be written keeps them in memory."""
    areas = _filled(2)
    aree = AreeCompresse(areas, cartella=tmp_path)
    assert aree._blobs._file is not None and aree._blobs._memory is None and list(tmp_path.iterdir()) == []
    assert list(aree) == areas
    aree._blobs.clear()
    assert list(tmp_path.iterdir()) == []
    nowhere = AreeCompresse(areas, cartella=tmp_path / "non esiste")
    assert nowhere._blobs._memory is not None and list(nowhere) == areas


def test_a_worker_gets_the_areas_themselves(tmp_path: Path) -> None:
    """Sent to a worker process, the sequence carries its blobs, not the name of a file it cannot open."""
    aree = AreeCompresse(_filled(2))
    travelled = pickle.loads(pickle.dumps(aree))
    assert travelled == aree and travelled._blobs._file is not aree._blobs._file


def test_reading_and_writing_never_move_the_shared_offset(tmp_path: Path) -> None:
    """A worker forked while the file is open shares its offset with this process: the plan's areas, read
    in every worker as here, once came back wrong when both moved it at once (a return rejected now and
    then). Reading and writing by position leave the offset where it was, whoever reads."""
    areas = _filled(3)
    aree = AreeCompresse(areas, cartella=tmp_path)
    assert aree._blobs._file is not None
    fd = aree._blobs._file.fileno()
    assert os.lseek(fd, 0, os.SEEK_CUR) == 0
    assert aree[2] == areas[2] and aree[0] == areas[0]
    aree.append(areas[1])
    assert os.lseek(fd, 0, os.SEEK_CUR) == 0
    os.lseek(fd, 5, os.SEEK_SET)  # as a worker would move it
    assert list(aree) == [*areas, areas[1]]
