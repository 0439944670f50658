"""The findings of a run kept compressed: the same findings, in order, each with its file, for less memory."""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seregno_xlsx.findings import CATALOGO, Anomalia, finding
from seregno_xlsx.findings_store import CHUNK, AnomalieCompresse

CODES = sorted(CATALOGO)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
findings = st.builds(
    lambda codice, dettaglio, area, cella, valore: finding(codice, dettaglio, area=area, cella=cella, valore=valore),
    st.sampled_from(CODES),
    texts,
    texts,
    st.sampled_from(["", "B7", "XFD1048576"]),
    texts,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(findings, st.sampled_from(["", "a.xlsx", "b.xlsx"])), max_size=CHUNK * 2 + 7))
def test_the_same_findings_in_order_each_with_its_file(pairs: list[tuple[Anomalia, str]]) -> None:
    kept = AnomalieCompresse()
    for anomalia, file in pairs:
        kept.append(anomalia, file)
    expected = [a for a, _ in pairs]
    assert len(kept) == len(expected)
    assert list(kept) == expected
    assert kept == expected
    assert [kept[n] for n in range(len(kept))] == expected
    assert kept[::-3] == expected[::-3]
    assert kept.files() == [f for _, f in pairs]
    assert [kept.file_of(n) for n in range(len(kept))] == [f for _, f in pairs]
    # Exactly as given, down to which fields were set (``--json`` and ``model_dump`` see no difference).
    assert [a.model_dump(exclude_unset=True) for a in kept] == [a.model_dump(exclude_unset=True) for a in expected]
    if expected:
        assert kept[-1] == expected[-1]


def test_an_index_outside_is_an_index_error() -> None:
    kept = AnomalieCompresse([finding("area-senza-risposta", "x", area="A")], "f.xlsx")
    assert kept[0].area == "A" and kept.file_of(0) == "f.xlsx"
    with pytest.raises(IndexError):
        kept[1]
    with pytest.raises(IndexError):
        kept[-2]


def _findings(count: int) -> Iterator[tuple[Anomalia, str]]:
    for n in range(count):
        yield (
            finding(
                "numero-non-valido",
                f"«{n % 97}x» non è un numero",
                area=f"Area {n // 10}",
                foglio="Indicatori",
                cella=f"H{n % 40 + 5}",
                valore=f"{n % 97}x",
            ),
            f"scheda_{n // 10}.xlsx",
        )


def _held(make: Callable[[], object]) -> tuple[int, object]:
    gc.collect()
    tracemalloc.start()
    try:
        made = make()
        gc.collect()
        return tracemalloc.get_traced_memory()[0], made
    finally:
        tracemalloc.stop()


def test_thousands_of_findings_hold_a_fraction_of_their_models() -> None:
    """20,000 findings, as a run over 2,000 files gives them: kept, they hold a small part of what the same
    findings hold as a list of models. Fails if the store keeps the models (or every message) alive."""

    def store() -> AnomalieCompresse:
        kept = AnomalieCompresse()
        for anomalia, file in _findings(20_000):
            kept.append(anomalia, file)
        return kept

    as_list, models = _held(lambda: list(_findings(20_000)))
    as_store, kept = _held(store)
    assert as_store < as_list / 5, (as_store, as_list)
    assert isinstance(kept, AnomalieCompresse) and isinstance(models, list)
    assert kept[12_345] == models[12_345][0] and kept.file_of(12_345) == "scheda_1234.xlsx"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(findings, max_size=12),
    st.lists(
        st.tuples(st.sampled_from(["set", "del", "insert", "slice", "extend"]), st.integers(-15, 15), findings),
        max_size=6,
    ),
    st.booleans(),
)
def test_changes_in_place_as_a_list_makes_them(
    start: list[Anomalia], changes: list[tuple[str, int, Anomalia]], sealed: bool
) -> None:
    """A reading's findings are kept in the store while checks still add to them (``cap_findings`` puts a
    new list in place): every change a list allows gives what the list gives."""
    kept, model = AnomalieCompresse(start), list(start)
    if sealed:
        kept.seal()
    for change, index, anomalia in changes:
        for target in (kept, model):
            try:
                if change == "set":
                    target[index] = anomalia
                elif change == "del":
                    del target[index]
                elif change == "insert":
                    target.insert(index, anomalia)
                elif change == "slice":
                    target[: abs(index)] = [anomalia]
                else:
                    target.extend([anomalia, anomalia])
            except IndexError:
                continue
        assert list(kept) == model
    assert len(kept) == len(model)


def test_a_sealed_store_travels_compressed_and_whole() -> None:
    """What a worker sends for a file's findings: the compressed chunk, never the models it made."""
    made = [
        finding("numero-non-valido", f"«{n}x» non è un numero", foglio="Indicatori", cella=f"H{n}") for n in range(11)
    ]
    kept = AnomalieCompresse(made).seal()
    assert kept[3] == made[3]  # an index makes its chunk into models, kept for the next index...
    travelled = pickle.loads(pickle.dumps(kept))
    assert travelled == made and travelled._cached is None  # ...which do not travel
    assert len(pickle.dumps(kept)) < len(pickle.dumps(made)) / 3


def test_as_a_list_for_a_library_user() -> None:
    """``Consolidamento.anomalie`` was a list: reversing and sorting move each finding with its file, in
    one pass; ``+`` gives a list."""
    made = [finding("area-senza-risposta", f"area {n}", area=f"Area {n}") for n in range(600)]
    kept = AnomalieCompresse()
    for n, anomalia in enumerate(made):
        kept.append(anomalia, f"f{n}.xlsx")
    kept.reverse()
    assert list(kept) == made[::-1] and kept.file_of(0) == "f599.xlsx" and kept.file_of(599) == "f0.xlsx"
    kept.sort(key=lambda a: int(a.area.split()[1]) % 7)
    backwards = made[::-1]  # ties keep this order: the sort is stable
    expected = sorted(backwards, key=lambda a: int(a.area.split()[1]) % 7)
    assert list(kept) == expected
    assert [kept.file_of(n) for n in range(600)] == [f"f{a.area.split()[1]}.xlsx" for a in expected]
    assert kept + made[:1] == [*expected, made[0]] and made[:1] + kept == [made[0], *expected]
