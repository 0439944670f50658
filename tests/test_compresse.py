"""Areas kept compressed (``piano/compresse.py``): a read-only sequence giving fresh models on each read,
and a master written from it identical to one written from the models."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import Fonte, write_master
from seregno_xlsx.piano.compresse import AreeCompresse
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.simulation import sample_entries

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
    assert list(aree.drain()) == PIANO.aree and len(aree) == 0


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
    for name, given in (("modelli", aree), ("compresse", AreeCompresse(aree))):
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
        )
        masters.append(path.read_bytes())
    assert masters[0] == masters[1]
