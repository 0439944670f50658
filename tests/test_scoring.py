"""The rules of % raggiungimento."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seregno_xlsx.master.scoring import (
    MissingValue,
    Regole,
    area_pct,
    counts,
    indicator_pct,
    indicator_value,
    objective_pct,
    person_pct,
    total_pct,
)
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione

INTERMEDIA, FINALE = Rilevazione.INTERMEDIA, Rilevazione.FINALE
DEFAULT = Regole()


def ind(
    codice: str = "O1.1",
    target: float | None = 10,
    prima: float | None = None,
    finale: float | None = None,
    descrizione: str = "Numero pratiche",
    peso: float | None = None,
) -> Indicatore:
    return Indicatore(
        codice=codice,
        descrizione=descrizione,
        valore_target=target,
        prima_rilevazione=prima,
        valore_raggiunto=finale,
        peso=peso,
    )


def obiettivo(codice: str, peso: int, *indicatori: Indicatore, persone: tuple[str, ...] = ()) -> Obiettivo:
    return Obiettivo(
        codice=codice,
        titolo=f"Obiettivo {codice}",
        peso=peso,
        indicatori=list(indicatori),
        risorse_umane=[Persona(matricola=m, nome=f"Persona {m}") for m in persone],
    )


def test_round_value() -> None:
    i = ind(prima=3, finale=7)
    assert indicator_value(i, INTERMEDIA) == 3
    assert indicator_value(i, FINALE) == 7


def test_pct_is_value_over_target() -> None:
    assert indicator_pct(ind(target=10, finale=8), FINALE, DEFAULT) == pytest.approx(0.8)
    assert indicator_pct(ind(target=10, prima=2.5), INTERMEDIA, DEFAULT) == pytest.approx(0.25)


def test_cap_at_100_and_lifted() -> None:
    over = ind(target=10, finale=15)
    assert indicator_pct(over, FINALE, DEFAULT) == 1.0
    assert indicator_pct(over, FINALE, Regole(limite_100=False)) == pytest.approx(1.5)


def test_never_below_zero() -> None:
    negative = ind(target=10, finale=-5)
    assert indicator_pct(negative, FINALE, DEFAULT) == 0.0
    assert indicator_pct(negative, FINALE, Regole(limite_100=False)) == 0.0


@pytest.mark.parametrize("target", [None, 0])
def test_missing_or_zero_target_excludes(target: float | None) -> None:
    assert indicator_pct(ind(target=target, finale=5), FINALE, DEFAULT) is None
    # Even when a missing value would count as zero: without target nothing is computable.
    assert indicator_pct(ind(target=target), FINALE, Regole(mancante_finale=MissingValue.ZERO)) is None


def test_si_no() -> None:
    si = ind(target=100, finale=100, descrizione="Rispetto delle previsioni (SI=100)")
    no = ind(target=100, finale=0, descrizione="Rispetto delle previsioni (SI=100)")
    assert si.si_no
    assert indicator_pct(si, FINALE, DEFAULT) == 1.0
    assert indicator_pct(no, FINALE, DEFAULT) == 0.0


def test_missing_value_per_round_defaults() -> None:
    empty = ind(target=10)
    assert DEFAULT.mancante(INTERMEDIA) is MissingValue.ESCLUSO
    assert DEFAULT.mancante(FINALE) is MissingValue.ZERO
    assert indicator_pct(empty, INTERMEDIA, DEFAULT) is None
    assert indicator_pct(empty, FINALE, DEFAULT) == 0.0


def test_missing_value_per_round_configured() -> None:
    empty = ind(target=10)
    regole = Regole(mancante_intermedia=MissingValue.ZERO, mancante_finale=MissingValue.ESCLUSO)
    assert indicator_pct(empty, INTERMEDIA, regole) == 0.0
    assert indicator_pct(empty, FINALE, regole) is None


def test_regole_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        DEFAULT.limite_100 = False


def test_objective_equal_mean_and_exclusion() -> None:
    ob = obiettivo("O1", 3, ind(finale=10), ind(finale=5), ind(target=None, finale=3))
    assert objective_pct(ob, FINALE, DEFAULT) == pytest.approx(0.75)
    # Mid-year, missing values are excluded: only the one with a first reading counts.
    ob_i = obiettivo("O1", 3, ind(prima=4), ind())
    assert objective_pct(ob_i, INTERMEDIA, DEFAULT) == pytest.approx(0.4)
    assert objective_pct(obiettivo("O2", 1, ind()), INTERMEDIA, DEFAULT) is None
    assert objective_pct(obiettivo("O3", 1), FINALE, DEFAULT) is None


def test_objective_weighted_only_when_all_indicators_have_peso() -> None:
    weighted = obiettivo("O1", 1, ind(finale=10, peso=3), ind(finale=0, peso=1))
    assert objective_pct(weighted, FINALE, DEFAULT) == pytest.approx(0.75)
    partial = obiettivo("O1", 1, ind(finale=10, peso=3), ind(finale=0))
    assert objective_pct(partial, FINALE, DEFAULT) == pytest.approx(0.5)
    all_zero = obiettivo("O1", 1, ind(finale=10, peso=0), ind(finale=0, peso=0))
    assert objective_pct(all_zero, FINALE, DEFAULT) is None


def _area() -> Area:
    return Area(
        nome="Area A",
        obiettivi=[
            obiettivo("O1", 3, ind(finale=10), persone=("00002311",)),  # 100%
            obiettivo("O2", 1, ind(finale=0), persone=("00002311", "7")),  # 0%
            obiettivo("O3", 5, ind(target=None)),  # excluded
        ],
    )


def test_area_weighted_by_stars() -> None:
    assert area_pct(_area(), FINALE, DEFAULT) == pytest.approx(0.75)


def test_area_equal_weights() -> None:
    assert area_pct(_area(), FINALE, Regole(pesi_aree="uguali")) == pytest.approx(0.5)


def test_area_none_when_no_objective_counts_or_weights_zero() -> None:
    assert area_pct(Area(nome="Vuota"), FINALE, DEFAULT) is None
    zero_stars = Area(nome="Z", obiettivi=[obiettivo("O1", 0, ind(finale=5))])
    assert area_pct(zero_stars, FINALE, DEFAULT) is None
    assert area_pct(zero_stars, FINALE, Regole(pesi_aree="uguali")) == pytest.approx(0.5)


def test_person_and_total() -> None:
    other = Area(nome="Area B", obiettivi=[obiettivo("B1", 4, ind(finale=5), persone=("00002311",))])
    piano = Piano(ente="Comune", anno=2021, aree=[_area(), other])
    # 3 stars at 100%, 1 star at 0%, 4 stars at 50%: (3 + 0 + 2) / 8.
    assert person_pct(piano, "00002311", FINALE, DEFAULT) == pytest.approx(5 / 8)
    assert person_pct(piano.aree, "00002311", FINALE, Regole(pesi_aree="uguali")) == pytest.approx(0.5)
    assert person_pct(piano, "7", FINALE, DEFAULT) == 0.0
    assert person_pct(piano, "2311", FINALE, DEFAULT) is None  # a matricola is text: no leading-zero match
    assert total_pct(piano.aree, FINALE, DEFAULT) == pytest.approx(5 / 8)


def test_counts() -> None:
    fasi = [
        Fase(
            codice="O1.1",
            descrizione="a",
            data_fine_prevista=date(2021, 6, 30),
            data_fine_effettiva=date(2021, 6, 1),
        ),
        Fase(
            codice="O1.2",
            descrizione="b",
            data_fine_prevista=date(2021, 6, 30),
            data_fine_effettiva=date(2021, 7, 1),
        ),
        Fase(codice="O1.3", descrizione="c", data_fine_prevista=date(2021, 6, 30)),
        Fase(codice="O1.4", descrizione="d", data_fine_prevista=date(2021, 12, 31)),
    ]
    ob = obiettivo("O1", 1, ind("O1.1", finale=1), ind("O1.2"), ind("O1.3", prima=2))
    area = Area(nome="A", obiettivi=[ob.model_copy(update={"fasi": fasi})])
    c = counts(area, FINALE, date(2021, 9, 30))
    assert (c.obiettivi, c.fasi_concluse, c.fasi_in_ritardo, c.fasi_scadute, c.indicatori_senza_valore) == (
        1,
        2,
        1,
        1,
        2,
    )
    assert counts(area, INTERMEDIA, date(2021, 9, 30)).indicatori_senza_valore == 2


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
targets = st.one_of(st.none(), st.just(0.0), st.floats(min_value=1e-3, max_value=1e6))
values = st.one_of(st.none(), finite)


@given(target=targets, value=values, zero=st.booleans())
def test_pct_within_bounds_when_capped(target: float | None, value: float | None, zero: bool) -> None:
    regole = Regole(mancante_finale=MissingValue.ZERO if zero else MissingValue.ESCLUSO)
    pct = indicator_pct(ind(target=target, finale=value), FINALE, regole)
    assert pct is None or 0.0 <= pct <= 1.0
    uncapped = indicator_pct(ind(target=target, finale=value), FINALE, Regole(limite_100=False))
    assert uncapped is None or uncapped >= 0.0


@given(
    # Weights below the smallest normal float (5e-324) underflow in sum(w*p) here as in Excel's SUMPRODUCT.
    pairs=st.lists(
        st.tuples(targets, values, st.floats(min_value=0, max_value=100, allow_subnormal=False)), min_size=1, max_size=8
    ),
    capped=st.booleans(),
)
def test_objective_between_min_and_max(pairs: list[tuple[float | None, float | None, float]], capped: bool) -> None:
    regole = Regole(limite_100=capped)
    ob = obiettivo("O1", 1, *[ind(target=t, finale=v, peso=w) for t, v, w in pairs])
    pcts = [p for i in ob.indicatori if (p := indicator_pct(i, FINALE, regole)) is not None]
    result = objective_pct(ob, FINALE, regole)
    if result is None:
        return
    # A weighted mean of large uncapped % is exact only to a relative rounding error.
    tol = 1e-9 * max(1.0, max(abs(p) for p in pcts))
    assert min(pcts) - tol <= result <= max(pcts) + tol
