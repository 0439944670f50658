"""The shortcuts the reading of a returned scheda takes are the long way's results, proven here:
a model's deep copy, the plan comparison's early exit, the garbage collector's pauses."""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from seregno_xlsx.piano import model
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.pool import READING_THRESHOLD, few_collections
from seregno_xlsx.scheda.generation import as_shown, snapshot_for
from seregno_xlsx.texts import load_texts

from .test_properties_plans import plans


@contextmanager
def _pydantic_deep_copy() -> Iterator[None]:
    """pydantic's own ``__deepcopy__`` (``copy.deepcopy`` on every value) in place of the package's."""
    ours = model._Model.__deepcopy__
    del model._Model.__deepcopy__  # type: ignore[attr-defined]
    try:
        yield
    finally:
        model._Model.__deepcopy__ = ours  # type: ignore[method-assign]


def _shape(value: Any) -> Any:
    """Everything a copy carries: types, values, the fields set and the private values of every model."""
    if isinstance(value, BaseModel):
        return (
            type(value),
            sorted(value.model_fields_set),
            _shape(value.__pydantic_private__),
            {k: _shape(v) for k, v in value.__dict__.items()},
        )
    if isinstance(value, list | tuple):
        return [type(value), *(_shape(v) for v in value)]
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return (type(value), value)


def _mutable_ids(value: Any, found: set[int]) -> set[int]:
    if isinstance(value, BaseModel):
        found.add(id(value))
        for v in (*value.__dict__.values(), *(value.__pydantic_private__ or {}).values()):
            _mutable_ids(v, found)
    elif isinstance(value, list | dict):
        found.add(id(value))
        for v in value.values() if isinstance(value, dict) else value:
            _mutable_ids(v, found)
    return found


def _varied(piano: Piano, data: st.DataObject) -> Piano:
    """Phases and indicators out of code order, achieved values of 0, private values set: what
    ``as_shown`` and a copy must handle."""
    for area in piano.aree:
        for obiettivo in area.obiettivi:
            obiettivo.fasi.reverse()
            obiettivo.indicatori[:] = data.draw(st.permutations(obiettivo.indicatori))
            obiettivo._esclusa = data.draw(st.booleans())
            for indicatore in obiettivo.indicatori:
                indicatore.valore_raggiunto = data.draw(st.sampled_from([None, 0.0, 40.0]))
                indicatore._rettifica = data.draw(st.sampled_from([None, 12.5]))
    return piano


@given(piano=plans(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_the_deep_copy_of_a_plan_is_pydantics(piano: Piano, data: st.DataObject) -> None:
    piano = _varied(piano, data)
    ours = piano.model_copy(deep=True)
    with _pydantic_deep_copy():
        theirs = piano.model_copy(deep=True)
        plain = copy.deepcopy(piano)
    assert ours == theirs == plain == piano
    assert _shape(ours) == _shape(theirs) == _shape(piano)
    # A copy shares nothing that can change with the original.
    assert not _mutable_ids(ours, set()) & _mutable_ids(piano, set())
    ours.aree[0].obiettivi[0].fasi[0].monitoraggio = "cambiato"
    assert piano.aree[0].obiettivi[0].fasi[0].monitoraggio != "cambiato"


def test_a_copy_keeps_what_is_shared_shared() -> None:
    """As ``copy.deepcopy``: one object reached twice is copied once, and reached twice in the copy."""
    fase = model.Fase(codice="F1", descrizione="d")
    obiettivo = model.Obiettivo(codice="O", titolo="t", peso=1, fasi=[fase, fase])
    copied = obiettivo.model_copy(deep=True)
    assert copied.fasi[0] is copied.fasi[1] and copied.fasi[0] is not fase


@given(piano=plans(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_as_shown_leaves_the_area_it_made_as_it_is(piano: Piano, data: st.DataObject) -> None:
    """The plan comparison's early exit (``compare_with_plan``): an area equal to the plan's snapshot shows
    as the snapshot, since showing the snapshot's own area changes nothing."""
    piano = _varied(piano, data)
    testi = load_texts()
    for area in piano.aree:
        for rilevazione in Rilevazione:
            snapshot = snapshot_for(piano, area, rilevazione, testi, None)
            assert as_shown(snapshot.area, rilevazione) == snapshot.area
            assert _shape(as_shown(snapshot.area, rilevazione)) == _shape(snapshot.area)


def test_few_collections_restores_the_collector() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with few_collections():
        assert gc.get_threshold()[0] == READING_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    # A caller's own frozen objects stay frozen.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with few_collections():
            pass
        assert gc.get_freeze_count() == frozen and gc.get_threshold() == before
    finally:
        gc.unfreeze()
