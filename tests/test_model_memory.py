"""The plan's rows share one set of the fields given per combination (issue 13, point 1): pydantic keeps
one per instance, over half of a plan's memory. Copies (a compilation starts as a deep copy of the plan's
area) and compilations back from a reading process (pickled) share them too; equality is unchanged."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from seregno_xlsx.piano.model import Piano

PIANO = Path(__file__).resolve().parents[1] / "esempi" / "piano_2021.json"


def _sets(piano: Piano) -> list[int]:
    rows = [p for a in piano.aree for o in a.obiettivi for p in o.risorse_umane]
    rows += [f for a in piano.aree for o in a.obiettivi for f in o.fasi]
    return [id(r.__pydantic_fields_set__) for r in rows]


def test_rows_share_their_fields_given() -> None:
    piano = Piano.from_json(PIANO.read_text(encoding="utf-8"))
    sets = _sets(piano)
    assert len(sets) > 100 and len(set(sets)) <= 10
    for again in (copy.deepcopy(piano), pickle.loads(pickle.dumps(piano)), piano.model_copy(deep=True)):
        assert again == piano
        assert set(_sets(again)) <= set(sets)  # the very same sets, not copies
    # A field assigned on one row changes that row only.
    changed = copy.deepcopy(piano)
    changed.aree[0].obiettivi[0].fasi[0].monitoraggio = "fatto"
    assert changed.aree[0].obiettivi[0].fasi[0].monitoraggio == "fatto"
    assert piano.aree[0].obiettivi[0].fasi[0].monitoraggio != "fatto"
    assert changed.aree[0].obiettivi[0].fasi[1] == piano.aree[0].obiettivi[0].fasi[1]


def test_an_assignment_never_writes_the_shared_set() -> None:
    """Pydantic adds an assigned field to the set in place: the row gets its own set first."""
    from seregno_xlsx.piano.model import Fase

    one, two = (Fase(codice=c, descrizione="fase") for c in ("A", "B"))
    assert one.model_fields_set is two.model_fields_set
    one.monitoraggio = "fatto"
    assert one.model_fields_set == {"codice", "descrizione", "monitoraggio"}
    assert two.model_fields_set == {"codice", "descrizione"}
    assert Fase(codice="C", descrizione="fase").model_fields_set == {"codice", "descrizione"}


def test_a_copy_with_updates_never_writes_the_shared_set() -> None:
    """Pydantic's ``model_copy(update=...)`` adds the updated fields to the set in place: the copy gets its own."""
    from seregno_xlsx.piano.model import Persona

    one, two = (Persona(matricola=m, nome="N") for m in ("00000001", "00000002"))
    assert one.model_fields_set is two.model_fields_set
    copied = one.model_copy(update={"quota": 50.0})
    assert copied.quota == 50.0 and copied.model_fields_set == {"matricola", "nome", "quota"}
    assert one.model_fields_set == two.model_fields_set == {"matricola", "nome"}
    assert Persona(matricola="00000003", nome="N").model_dump(exclude_unset=True) == {
        "matricola": "00000003",
        "nome": "N",
    }
    deep = one.model_copy(update={"nome": "M"}, deep=True)
    assert deep.nome == "M" and deep.model_fields_set == {"matricola", "nome"} and one.nome == "N"
