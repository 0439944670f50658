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


REFERENCES = st.one_of(
    st.none(),
    st.from_regex(r"[A-Z]{1,3}[0-9]{1,7}", fullmatch=True),
    st.from_regex(r"[A-Z]{1,10}[0-9]{1,12}\n?", fullmatch=True),
    st.text(alphabet="AZaz019 $\n", max_size=14),
)


@given(REFERENCES, st.integers(0, 2_000_000), st.integers(0, 20_000))
@settings(max_examples=300)
def test_a_cell_s_place_remembered_is_its_place_parsed(ref: str | None, row: int, col: int) -> None:
    """The scan remembers where each reference lies (every file of a round names the same cells): what it
    remembers is what parsing the reference gives, the first time and every time after."""
    from seregno_xlsx.ritorni.xml_scan import _CELL_REF, _column_number, cell_place

    match = _CELL_REF.fullmatch(ref or "")
    parsed = (row, col + 1) if match is None else (int(match.group(2)), _column_number(match.group(1).upper()))
    assert cell_place(ref, row, col) == parsed
    assert cell_place(ref, row, col) == parsed


def test_the_places_remembered_are_bounded(monkeypatch: Any) -> None:
    """A hostile file naming a million different cells leaves at most MAX_PLACES of them in memory."""
    from seregno_xlsx.ritorni import xml_scan

    monkeypatch.setattr(xml_scan, "_PLACES", {})
    monkeypatch.setattr(xml_scan, "MAX_PLACES", 100)
    for n in range(1, 1_000):
        assert xml_scan.cell_place(f"B{n}", 0, 0) == (n, 2)
    assert len(xml_scan._PLACES) == 100
