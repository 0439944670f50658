"""The rows of each area's first findings for its page in the master (``master/area_findings.py``): the same
as grouping every finding by area and taking the first ones, whatever the order the findings come in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from seregno_xlsx.findings import Anomalia, Gravita
from seregno_xlsx.findings_store import AnomalieCompresse
from seregno_xlsx.master.area_findings import PrimeAnomalie, Row
from seregno_xlsx.master.layout import AREE_NAME
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import MAX_AREA_FINDINGS, write_master
from seregno_xlsx.piano.model import Piano, Rilevazione

from .conftest import ROOT

PIANO = ROOT / "esempi" / "piano_2021.json"

_text = st.text(max_size=8)
_row = st.tuples(_text, _text, _text, _text, _text, _text)
_pairs = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), _row), max_size=80)


@given(_pairs, st.integers(min_value=0, max_value=6))
def test_the_same_as_grouping_everything(pairs: list[tuple[str, Row]], limit: int) -> None:
    grouped: dict[str, list[Row]] = {}
    for key, row in pairs:
        grouped.setdefault(key, []).append(row)
    prime = PrimeAnomalie(limit).extend(pairs)
    for key in ("a", "b", "c", "d", "assente"):
        every = grouped.get(key, [])
        assert prime.rows(key) == every[:limit]
        assert prime.count(key) == len(every)


def test_an_area_met_again_keeps_its_first_rows_in_order() -> None:
    """A file's findings come together, then the checks across areas add more to an area met before."""
    row = ("F1", "messaggio", "avviso", "Fasi", "H7", "codice")
    prime = PrimeAnomalie(3)
    prime.add("a", row)
    prime.add("b", row)
    prime.add("a", ("F2", *row[1:]))
    prime.add("a", ("F3", *row[1:]))
    prime.add("a", ("F4", *row[1:]))  # beyond the limit: counted only
    assert [r[0] for r in prime.rows("a")] == ["F1", "F2", "F3"]
    assert prime.count("a") == 4 and prime.count("b") == 1


def test_an_area_page_lists_its_first_findings_and_says_how_many(tmp_path: Path) -> None:
    piano = Piano.from_json(PIANO.read_text(encoding="utf-8"))
    area = piano.aree[0]
    other = piano.aree[1]

    def finding(area_name: str, n: int) -> Anomalia:
        return Anomalia(
            codice="data-fine-mancante",
            gravita=Gravita.AVVISO,
            area=area_name,
            foglio="Fasi",
            cella=f"H{n + 7}",
            messaggio=f"messaggio {n}",
        )

    # The area's findings, another's in between, then more of the first (as the checks across areas add).
    found = [finding(area.nome, n) for n in range(20)] + [finding(other.nome, 0)]
    found += [finding(area.nome.upper(), n) for n in range(20, 30)]
    master = tmp_path / "master.xlsx"
    write_master(
        master,
        ente=piano.ente,
        anno=piano.anno,
        aree=[area, other],
        rilevazione=Rilevazione.INTERMEDIA,
        regole=Regole(),
        anomalie=AnomalieCompresse(found).seal(),
        fonti=[],
        data_riferimento=date(piano.anno, 9, 30),
        valori_letti=0,
    )
    ws = openpyxl.load_workbook(master, read_only=True)[AREE_NAME]
    texts = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert f"Anomalie aperte (le prime {MAX_AREA_FINDINGS} di 30: tutte nel foglio «Anomalie»)" in texts
    assert [t for t in texts if t.startswith("messaggio ")] == [f"messaggio {n}" for n in range(25)] + ["messaggio 0"]
