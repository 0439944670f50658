"""The plan as ``consolida`` holds it (``piano/compatto.py``): read area by area, the same plan and the
same errors as ``read_plan``, the same master, a fraction of the memory."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from seregno_xlsx.errors import PlanError
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.compatto import PianoCompatto, read_plan_compact
from seregno_xlsx.piano.model import Area, Piano, VersionePiano
from seregno_xlsx.piano.plan_file import read_plan

from .conftest import ROOT
from .test_properties_plans import plans

PIANO = ROOT / "esempi" / "piano_2021.json"
RITORNI = ROOT / "esempi" / "ritorni"


def test_the_example_plan_is_the_same_plan() -> None:
    compact = read_plan_compact(PIANO)
    assert compact.intero() == read_plan(PIANO)
    assert compact.nomi == [a.nome for a in read_plan(PIANO).aree]
    assert len(compact) == len(compact.nomi) >= 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(piano=plans())
def test_any_plan_reads_back_the_same(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("piano") / "piano.json"
    path.write_text(piano.to_json(), encoding="utf-8")
    compact = read_plan_compact(path)
    assert compact.intero() == read_plan(path) == piano
    assert compact.matricole == {p.matricola for a in piano.aree for o in a.obiettivi for p in o.risorse_umane}


def _broken_plans() -> dict[str, str]:
    text = PIANO.read_text(encoding="utf-8")
    data = json.loads(text)
    first, second = data["aree"][0], data["aree"][1]
    twice = {**data, "aree": [first, {**second, "nome": first["nome"]}]}
    objective = dict(first["obiettivi"][0])
    repeated = {**data, "aree": [{**first, "obiettivi": [objective, objective]}, second]}
    not_a_list = {**data, "aree": {"nome": "x"}}
    missing = {k: v for k, v in data.items() if k != "ente"}
    bad_type = {**data, "aree": [{**first, "obiettivi": [{**objective, "peso": "tanti"}]}]}
    return {
        "json non valido": text[:-20],
        "NaN": text.replace('"anno": 2021', '"anno": NaN', 1),
        "area ripetuta": json.dumps(twice, indent=2, ensure_ascii=False),
        "obiettivo ripetuto": json.dumps(repeated, indent=2, ensure_ascii=False),
        "aree non elenco": json.dumps(not_a_list, indent=2),
        "ente mancante": json.dumps(missing, indent=2, ensure_ascii=False),
        "tipo sbagliato": json.dumps(bad_type, indent=2, ensure_ascii=False),
        "elenco al posto del piano": "[1, 2]",
        "numero di 100.000 cifre": text.replace('"anno": 2021', '"anno": 1' + "0" * 100_000, 1),
        "annidato nelle versioni": text.rstrip()[:-1] + ', "versioni": ' + "[" * 200_000 + "]" * 200_000 + "}",
        "annidato in un'area": json.dumps({**data, "aree": []}).replace(
            '"aree": []', '"aree": [' + "[" * 200_000 + "]" * 200_000 + "]"
        ),
        "testo dopo la fine": text + "\n{}",
        "vuoto": "",
    }


@pytest.mark.parametrize("case", sorted(_broken_plans()))
def test_a_broken_plan_is_named_as_read_plan_names_it(case: str, tmp_path: Path) -> None:
    path = tmp_path / "piano.json"
    path.write_text(_broken_plans()[case], encoding="utf-8")
    with pytest.raises(PlanError) as expected:
        read_plan(path)
    with pytest.raises(PlanError) as got:
        read_plan_compact(path)
    assert got.value.messaggio == expected.value.messaggio


def test_what_json_loads_accepts_the_stream_reads_alike(tmp_path: Path) -> None:
    """Quirks the stream does not take are read by ``read_plan``: the plan is the same."""
    text = PIANO.read_text(encoding="utf-8")
    data = json.loads(text)
    later = dict(data)
    later["aree"] = data["aree"][:1]
    # Two «aree» keys: json.loads keeps the last (the stream would have read both). The two lists share no
    # area: no other check (two areas with one name) sends the plan to read_plan in its place.
    first = json.dumps({**data, "aree": data["aree"][:1]}, ensure_ascii=False)
    doubled = first[:-1] + ', "aree": ' + json.dumps(data["aree"][1:], ensure_ascii=False) + "}"
    cases = {"bom": "\ufeff" + text, "aree due volte": doubled}
    for name, content in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(content, encoding="utf-8")
        assert read_plan_compact(path).intero() == read_plan(path), name
    assert len(read_plan_compact(tmp_path / "aree due volte.json")) == len(data["aree"]) - 1


def test_an_area_is_found_as_the_plan_finds_it_and_is_a_fresh_copy() -> None:
    piano = read_plan(PIANO)
    first = piano.aree[0]
    renamed = piano.model_copy(
        update={
            "aree": [first.model_copy(update={"codice": "A1", "nome": "Nuovo nome"}), *piano.aree[1:]],
            "versioni": [VersionePiano(versione=1, titolo="", delibera="", aree={"A1": first.nome})],
            "versione": 2,
        }
    )
    compact = PianoCompatto.from_piano(renamed)
    for asked in (Area(nome=first.nome), Area(nome="x", codice="A1"), Area(nome="nuovo NOME")):
        assert compact.area_of(asked) == renamed.area_of(asked)
        assert compact.per_area(asked).aree == [renamed.area_of(asked)]
    with pytest.raises(KeyError):
        compact.area_of(Area(nome="Area che non c'è"))
    assert compact.per_area(Area(nome="Area che non c'è")).aree == []
    one = compact.area_of(Area(nome=first.nome))
    one.obiettivi.clear()  # the reading fills its copy in place: the plan is untouched
    assert compact.area_of(Area(nome=first.nome)).obiettivi == first.obiettivi
    header = compact.per_area()
    assert header.aree == [] and header.versioni == renamed.versioni and header.chiave_impronta == piano.chiave_impronta


def _large_plan(folder: Path, copies: int) -> Path:
    """The example's areas copied under other names: a plan of a few dozen areas."""
    piano = read_plan(PIANO)
    aree = [
        area.model_copy(update={"nome": f"{area.nome} {n}", "codice": f"{area.codice}{n}" if area.codice else ""})
        for n in range(copies)
        for area in piano.aree
    ]
    path = folder / "piano_grande.json"
    path.write_text(piano.model_copy(update={"aree": aree}).to_json(), encoding="utf-8")
    return path


def _traced(read: object, path: Path) -> tuple[int, int, object]:
    tracemalloc.start()
    try:
        plan = read(path)  # type: ignore[operator]
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held, peak, plan


def test_the_compact_plan_holds_a_fraction_of_the_models(tmp_path: Path) -> None:
    path = _large_plan(tmp_path, 30)
    held_models, peak_models, piano = _traced(read_plan, path)
    held_compact, peak_compact, compact = _traced(read_plan_compact, path)
    assert isinstance(compact, PianoCompatto) and compact.intero() == piano
    # Measured at 60 and 120 areas: the models hold 6-8 times what the compact plan holds (about 10 KB
    # an area of the example, compressed), and reading them peaks at 7-15 times the compact reading's
    # peak (one area and the header at a time). Both ratios grow with the plan.
    assert held_compact * 5 < held_models, (held_compact, held_models)
    assert peak_compact * 5 < peak_models, (peak_compact, peak_models)


def test_consolida_with_the_compact_plan_writes_the_same_master(tmp_path: Path) -> None:
    returns = tmp_path / "ritorni"
    shutil.copytree(RITORNI, returns)
    given = consolidate(returns, tmp_path / "con_piano.xlsx", piano=read_plan(PIANO), processi=1)
    compact = consolidate(returns, tmp_path / "compatto.xlsx", piano=read_plan_compact(PIANO), processi=1)
    assert given.master and compact.master
    assert {**given.to_json(), "master": None} == {**compact.to_json(), "master": None}
    assert given.master.read_bytes() == compact.master.read_bytes()
    # The next round's plan is written from the whole plan, made again from the compact one.
    assert compact.piano == given.piano == read_plan(PIANO)
