"""The checks on the plan and on the compilation: one test per finding code, plus the edge cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seregno_xlsx.findings import CATALOGO, Anomalia
from seregno_xlsx.piano.checks import check_area_plan, check_compilation, check_plan, no_location
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione

ANNO = 2021
OB = "Ob_A"
F1 = "Ob_A01"
FINALE, INTERMEDIA = Rilevazione.FINALE, Rilevazione.INTERMEDIA
RIFERIMENTO = date(2021, 12, 31)


# --- a small, clean, compiled plan; every test changes one thing ---------------------------------------


def fase(codice: str = F1, **changes: Any) -> Fase:
    values: dict[str, Any] = {
        "codice": codice,
        "descrizione": "Istruttoria delle pratiche entro il 30/06/2021",
        "data_inizio_prevista": date(2021, 2, 1),
        "data_fine_prevista": date(2021, 6, 30),
        "data_inizio_effettiva": date(2021, 2, 1),
        "data_fine_effettiva": date(2021, 6, 20),
        "monitoraggio": "Pratiche istruite nei tempi.",
    }
    return Fase(**values | changes)


def indicatore(codice: str = F1, **changes: Any) -> Indicatore:
    values: dict[str, Any] = {
        "codice": codice,
        "descrizione": "Numero pratiche istruite",
        "valore_target": 10,
        "prima_rilevazione": 5,
        "valore_raggiunto": 10,
    }
    return Indicatore(**values | changes)


def persona(matricola: str = "00002311", nome: str = "Rossi Mario") -> Persona:
    return Persona(matricola=matricola, nome=nome)


def obiettivo(codice: str = OB, **changes: Any) -> Obiettivo:
    values: dict[str, Any] = {
        "codice": codice,
        "titolo": "Semplificare le pratiche",
        "peso": 3,
        "data_inizio_prevista": date(2021, 1, 1),
        "data_fine_prevista": date(2021, 12, 31),
        "data_inizio_effettiva": date(2021, 1, 10),
        "data_fine_effettiva": date(2021, 12, 20),
        "fasi": [fase(codice + "01")],
        "indicatori": [indicatore(codice + "01")],
        "risorse_umane": [persona()],
    }
    return Obiettivo(**values | changes)


def area(*obiettivi: Obiettivo, nome: str = "Servizi Demografici") -> Area:
    return Area(nome=nome, obiettivi=list(obiettivi) or [obiettivo()])


def fake_locate(sheet_key: str, code: str, field: str) -> tuple[str, str]:
    """Stands in for the reader's: the cell names what it was asked for."""
    return sheet_key.capitalize(), f"{field}@{code}"


def compile_(a: Area, rilevazione: Rilevazione = FINALE, riferimento: date = RIFERIMENTO) -> list[Anomalia]:
    return check_compilation(a, anno=ANNO, rilevazione=rilevazione, data_riferimento=riferimento, locate=fake_locate)


def only(anomalie: list[Anomalia], codice: str) -> Anomalia:
    found = [a for a in anomalie if a.codice == codice]
    assert len(found) == 1, anomalie
    return found[0]


def assert_finding(
    a: Anomalia, codice: str, sheet_key: str, fase_: str, field: str, valore: str, obiettivo_: str = OB
) -> None:
    assert a.codice == codice
    assert a.gravita is CATALOGO[codice].gravita
    assert (a.area, a.obiettivo, a.fase) == ("Servizi Demografici", obiettivo_, fase_)
    assert (a.foglio, a.cella) == (sheet_key.capitalize(), f"{field}@{fase_ or obiettivo_}")
    assert a.valore == valore
    assert a.messaggio.startswith(f"Foglio «{sheet_key.capitalize()}»")
    assert CATALOGO[codice].rimedio in a.messaggio


# --- clean ---------------------------------------------------------------------------------------------


def test_clean_plan_has_no_findings() -> None:
    piano = Piano(ente="Città di Seregno", anno=ANNO, aree=[area(), area(obiettivo("Ob_B"), nome="Ragioneria")])
    assert check_plan(piano) == []
    assert check_area_plan(area(), ANNO, locate=fake_locate) == []


@pytest.mark.parametrize("rilevazione", list(Rilevazione))
def test_clean_compilation_has_no_findings(rilevazione: Rilevazione) -> None:
    assert compile_(area(), rilevazione) == []


# --- the plan: one case per code -----------------------------------------------------------------------

PLAN_CASES: list[tuple[str, Callable[[], Obiettivo], tuple[str, str, str, str]]] = [
    # (codice, the objective, (sheet_key, fase, field, valore))
    (
        "codice-duplicato",
        lambda: obiettivo(fasi=[fase(), fase(descrizione="Altro")]),
        ("fasi", F1, "codice", F1),
    ),
    (
        "fase-di-altro-obiettivo",
        lambda: obiettivo(fasi=[fase("Ob_B01")], indicatori=[indicatore()]),
        ("fasi", "Ob_B01", "codice", "Ob_B01"),
    ),
    (
        "indicatore-senza-fase",
        lambda: obiettivo(indicatori=[indicatore(), indicatore("Ob_A02")]),
        ("indicatori", "Ob_A02", "codice", "Ob_A02"),
    ),
    (
        "fase-senza-indicatore",
        lambda: obiettivo(fasi=[fase(), fase("Ob_A02")]),
        ("fasi", "Ob_A02", "codice", "Ob_A02"),
    ),
    ("obiettivo-senza-indicatori", lambda: obiettivo(indicatori=[]), ("obiettivi", "", "codice", OB)),
    (
        "matricola-nomi-diversi",
        lambda: obiettivo(risorse_umane=[persona(), persona(nome="Bianchi Luca")]),
        ("personale", "", "matricola", "00002311"),
    ),
    (
        "target-mancante",
        lambda: obiettivo(indicatori=[indicatore(valore_target=0)]),
        ("indicatori", F1, "valore_target", "0"),
    ),
    ("peso-mancante", lambda: obiettivo(peso=0), ("obiettivi", "", "peso", "0")),
    (
        "fine-prima-di-inizio",
        lambda: obiettivo(fasi=[fase(data_fine_prevista=date(2021, 1, 31))]),
        ("fasi", F1, "data_fine_prevista", "31/01/2021"),
    ),
    (
        "fase-fuori-obiettivo",
        lambda: obiettivo(fasi=[fase(data_fine_prevista=date(2022, 1, 31), descrizione="Istruttoria")]),
        ("fasi", F1, "data_fine_prevista", "31/01/2022"),
    ),
    (
        "scadenza-testo-diversa",
        lambda: obiettivo(fasi=[fase(descrizione="Approvazione entro il 31/07/2021")]),
        ("fasi", F1, "descrizione", "31/07/2021"),
    ),
    (
        "data-implausibile",
        lambda: obiettivo(data_inizio_prevista=date(2101, 1, 1), data_fine_prevista=date(2101, 12, 31)),
        ("obiettivi", "", "data_inizio_prevista", "01/01/2101"),
    ),
]


@pytest.mark.parametrize(("codice", "build", "expected"), PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_plan_check(codice: str, build: Callable[[], Obiettivo], expected: tuple[str, str, str, str]) -> None:
    anomalie = check_area_plan(area(build()), ANNO, locate=fake_locate)
    matching = [a for a in anomalie if a.codice == codice]
    assert matching, anomalie
    assert_finding(matching[0], codice, *expected)


def test_plan_findings_also_come_from_check_plan_with_the_areas_locate() -> None:
    piano = Piano(ente="Città di Seregno", anno=ANNO, aree=[area(obiettivo(peso=0))])
    asked: list[str] = []

    def locate_for(nome: str) -> Callable[[str, str, str], tuple[str, str]]:
        asked.append(nome)
        return fake_locate

    a = only(check_plan(piano, locate_for=locate_for), "peso-mancante")
    assert asked == ["Servizi Demografici"]
    assert_finding(a, "peso-mancante", "obiettivi", "", "peso", "0")


def test_no_location_leaves_foglio_and_cella_empty() -> None:
    a = only(check_area_plan(area(obiettivo(peso=0)), ANNO), "peso-mancante")
    assert (a.foglio, a.cella) == ("", "")
    assert no_location("fasi", F1, "codice") == ("", "")


def test_duplicate_objective_and_indicator_codes() -> None:
    b = obiettivo(indicatori=[indicatore(), indicatore(descrizione="Tempo medio")])
    anomalie = check_area_plan(area(obiettivo(), b), ANNO, locate=fake_locate)
    found = sorted((a.fase, a.foglio) for a in anomalie if a.codice == "codice-duplicato")
    # The second objective Ob_A, its phase Ob_A01, and its indicator Ob_A01 (twice: once per repeat).
    assert found == [("", "Obiettivi"), (F1, "Fasi"), (F1, "Indicatori"), (F1, "Indicatori")]


def test_duplicate_code_across_areas_is_reported_once_in_the_later_area() -> None:
    piano = Piano(ente="Seregno", anno=ANNO, aree=[area(), area(obiettivo(), nome="Ragioneria")])
    found = [a for a in check_plan(piano) if a.codice == "codice-duplicato"]
    assert {(a.area, a.fase) for a in found} == {("Ragioneria", ""), ("Ragioneria", F1)}
    assert len(found) == 3  # objective, phase, indicator
    assert all("Servizi Demografici" in a.messaggio for a in found)


def test_matricola_names_compared_ignoring_case_and_spaces() -> None:
    o = obiettivo(risorse_umane=[persona(), persona(nome="  ROSSI   mario ")])
    assert check_area_plan(area(o), ANNO) == []


def test_matricola_with_different_names_across_areas_gives_one_finding() -> None:
    other = obiettivo("Ob_B", risorse_umane=[persona(nome="Rossi Maria")])
    piano = Piano(ente="Seregno", anno=ANNO, aree=[area(), area(other, nome="Ragioneria")])
    a = only(check_plan(piano, locate_for=lambda nome: fake_locate), "matricola-nomi-diversi")
    assert (a.area, a.obiettivo, a.foglio, a.cella) == ("Ragioneria", "Ob_B", "Personale", "matricola@Ob_B")
    assert "«Rossi Mario»" in a.messaggio
    assert "«Rossi Maria»" in a.messaggio


def test_target_missing_when_none() -> None:
    a = only(check_area_plan(area(obiettivo(indicatori=[indicatore(valore_target=None)])), ANNO), "target-mancante")
    assert a.valore == ""


def test_objective_without_indicators_does_not_also_flag_its_phases() -> None:
    codici = {a.codice for a in check_area_plan(area(obiettivo(indicatori=[])), ANNO)}
    assert codici == {"obiettivo-senza-indicatori"}


# --- deadlines written in the phase text ---------------------------------------------------------------


@pytest.mark.parametrize(
    "testo",
    [
        "Approvazione entro il 31/07/2021",
        "Approvazione entro il 31.07.2021",
        "Approvazione entro 31-07-2021",
        "Approvazione ENTRO il 31/07/2021",
        "Approvazione (entro il 31.07.2021)",
        "Approvazione entro il 31/07",
        "Approvazione entro il 31/7/21",
    ],
)
def test_deadline_in_text_forms(testo: str) -> None:
    differs = obiettivo(fasi=[fase(descrizione=testo)])
    a = only(check_area_plan(area(differs), ANNO), "scadenza-testo-diversa")
    assert a.valore == "31/07/2021"
    assert "31/07/2021" in a.messaggio
    assert "30/06/2021" in a.messaggio
    agrees = obiettivo(fasi=[fase(descrizione=testo, data_fine_prevista=date(2021, 7, 31))])
    assert check_area_plan(area(agrees), ANNO) == []


def test_last_deadline_in_text_wins() -> None:
    testo = "A) bozza (entro il 30.09.2021); B) approvazione (entro il 31.12.2021)"
    agrees = obiettivo(fasi=[fase(descrizione=testo, data_fine_prevista=date(2021, 12, 31))])
    assert check_area_plan(area(agrees), ANNO) == []
    differs = obiettivo(fasi=[fase(descrizione=testo, data_fine_prevista=date(2021, 9, 30))])
    assert only(check_area_plan(area(differs), ANNO), "scadenza-testo-diversa").valore == "31/12/2021"


def test_deadline_without_year_is_in_the_plan_year() -> None:
    agrees = obiettivo(fasi=[fase(descrizione="Rendiconto entro il 31/12", data_fine_prevista=date(2021, 12, 31))])
    assert check_area_plan(area(agrees), ANNO) == []


@pytest.mark.parametrize("testo", ["Istruttoria entro il 31/02/2021", "Istruttoria senza scadenza", "Rif. 31/07/2021"])
def test_no_or_invalid_deadline_in_text_is_ignored(testo: str) -> None:
    assert check_area_plan(area(obiettivo(fasi=[fase(descrizione=testo)])), ANNO) == []


# --- the compilation: one case per code ----------------------------------------------------------------

COMPILATION_CASES: list[tuple[str, Callable[[], Obiettivo], Rilevazione, tuple[str, str, str, str]]] = [
    # (codice, the objective, the round, (sheet_key, fase, field, valore))
    (
        "fine-prima-di-inizio",
        lambda: obiettivo(data_inizio_effettiva=date(2021, 3, 1), data_fine_effettiva=date(2021, 2, 1)),
        FINALE,
        ("obiettivi", "", "data_fine_effettiva", "01/02/2021"),
    ),
    (
        "fase-fuori-obiettivo",
        lambda: obiettivo(fasi=[fase(data_inizio_effettiva=date(2021, 1, 5))]),
        FINALE,
        ("fasi", F1, "data_inizio_effettiva", "05/01/2021"),
    ),
    (
        "data-implausibile",
        lambda: obiettivo(data_inizio_effettiva=date(2019, 1, 10)),
        FINALE,
        ("obiettivi", "", "data_inizio_effettiva", "10/01/2019"),
    ),
    (
        "data-dopo-riferimento",
        lambda: obiettivo(data_fine_effettiva=date(2022, 1, 15)),
        FINALE,
        ("obiettivi", "", "data_fine_effettiva", "15/01/2022"),
    ),
    (
        "fase-in-ritardo",
        lambda: obiettivo(fasi=[fase(data_fine_effettiva=date(2021, 7, 15))]),
        FINALE,
        ("fasi", F1, "data_fine_effettiva", "15/07/2021"),
    ),
    (
        "fase-scaduta",
        lambda: obiettivo(fasi=[fase(data_fine_effettiva=None)], indicatori=[indicatore(valore_raggiunto=None)]),
        FINALE,
        ("fasi", F1, "data_fine_effettiva", ""),
    ),
    (
        "fine-senza-valore",
        lambda: obiettivo(indicatori=[indicatore(valore_raggiunto=None)]),
        FINALE,
        ("indicatori", F1, "valore_raggiunto", ""),
    ),
    (
        "valore-senza-fine",
        lambda: obiettivo(fasi=[fase(data_fine_effettiva=None, data_fine_prevista=None, descrizione="X")]),
        FINALE,
        ("fasi", F1, "data_fine_effettiva", ""),
    ),
    (
        "valore-oltre-target",
        lambda: obiettivo(indicatori=[indicatore(prima_rilevazione=12.5)]),
        INTERMEDIA,
        ("indicatori", F1, "prima_rilevazione", "12,5"),
    ),
    (
        "valore-negativo",
        lambda: obiettivo(indicatori=[indicatore(valore_raggiunto=-3)]),
        FINALE,
        ("indicatori", F1, "valore_raggiunto", "-3"),
    ),
    (
        "monitoraggio-mancante",
        lambda: obiettivo(fasi=[fase(monitoraggio="  \n ")]),
        FINALE,
        ("fasi", F1, "monitoraggio", ""),
    ),
]


@pytest.mark.parametrize(
    ("codice", "build", "rilevazione", "expected"), COMPILATION_CASES, ids=[c[0] for c in COMPILATION_CASES]
)
def test_compilation_check(
    codice: str, build: Callable[[], Obiettivo], rilevazione: Rilevazione, expected: tuple[str, str, str, str]
) -> None:
    assert_finding(only(compile_(area(build()), rilevazione), codice), codice, *expected)


def test_date_after_reference_states_both_dates() -> None:
    o = obiettivo(data_fine_effettiva=None, fasi=[fase(data_fine_effettiva=date(2021, 6, 20))])
    a = only(compile_(area(o), INTERMEDIA, date(2021, 6, 15)), "data-dopo-riferimento")
    assert a.fase == F1
    assert "20/06/2021" in a.messaggio
    assert "15/06/2021" in a.messaggio


def test_overdue_phase_without_monitoring() -> None:
    o = obiettivo(
        fasi=[fase(data_fine_effettiva=None, monitoraggio="")], indicatori=[indicatore(valore_raggiunto=None)]
    )
    codici = sorted(a.codice for a in compile_(area(o)))
    assert codici == ["fase-scaduta", "monitoraggio-mancante"]


def test_phase_not_due_yet_needs_nothing() -> None:
    o = obiettivo(
        data_fine_effettiva=None,
        fasi=[fase(data_fine_effettiva=None, monitoraggio="")],
        indicatori=[indicatore(prima_rilevazione=None)],
    )
    assert compile_(area(o), INTERMEDIA, date(2021, 6, 15)) == []


def test_value_and_end_date_mismatch_is_not_flagged_in_intermedia() -> None:
    # Mid-year a phase in progress has a partial value, and a completed one may be measured later.
    open_with_value = obiettivo(fasi=[fase(data_fine_effettiva=None, data_fine_prevista=None, descrizione="X")])
    closed_without_value = obiettivo("Ob_B", indicatori=[indicatore("Ob_B01", prima_rilevazione=None)])
    assert compile_(area(open_with_value, closed_without_value), INTERMEDIA) == []


def test_si_no_answered_no_does_not_need_an_end_date() -> None:
    si_no = "Rispetto delle previsioni (SI=100)"
    aperta = fase(data_fine_effettiva=None, data_fine_prevista=None, descrizione="X")
    no = obiettivo(fasi=[aperta], indicatori=[indicatore(descrizione=si_no, valore_target=100, valore_raggiunto=0)])
    assert compile_(area(no)) == []
    si = obiettivo(fasi=[aperta], indicatori=[indicatore(descrizione=si_no, valore_target=1, valore_raggiunto=100)])
    # SI is a value without an end date; 100 over a target of 1 is not "oltre target" for a SI/NO.
    assert [a.codice for a in compile_(area(si))] == ["valore-senza-fine"]
    assert "vale SI" in compile_(area(si))[0].messaggio


def test_phase_outside_objective_needs_the_objective_dates() -> None:
    o = obiettivo(
        data_inizio_effettiva=None,
        data_fine_effettiva=None,
        fasi=[fase(data_inizio_effettiva=date(2021, 1, 2))],
    )
    assert compile_(area(o)) == []


# --- properties ----------------------------------------------------------------------------------------

_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2022, 12, 31))


@given(start=_dates, days=st.integers(min_value=0, max_value=1000), effettiva=st.booleans())
def test_end_on_or_after_start_never_gives_fine_prima_di_inizio(start: date, days: int, effettiva: bool) -> None:
    end = start + timedelta(days=days)
    tipo = "effettiva" if effettiva else "prevista"
    dates: dict[str, Any] = {f"data_inizio_{tipo}": start, f"data_fine_{tipo}": end}
    o = obiettivo(**dates, fasi=[fase(**dates)])
    anomalie = compile_(area(o)) if effettiva else check_area_plan(area(o), ANNO)
    assert "fine-prima-di-inizio" not in {a.codice for a in anomalie}
