"""People on objectives: shares of time and dates (issue 16), in scoring, findings, scheda and master."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.findings import CATALOGO, Locate
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.scoring import Regole, objective_pct, objectives_pct, person_pct
from seregno_xlsx.piano.assegnazioni import assignments, check_assignments, effective_shares, year_fraction
from seregno_xlsx.piano.model import Area, Indicatore, Obiettivo, Persona, Piano, Rilevazione
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.scheda.generation import generate
from seregno_xlsx.simulation import Entry, fill_workbook

from .test_master_writer import cached_values, expected_from_scoring, write

FINALE = Rilevazione.FINALE
ANNO = 2021
# Objective i of area a scores PCTS[i] (target 100, the value is the %).
PCTS = (1.0, 0.5, 0.25, 0.8, 0.0, 0.6)


def _objective(n: int, stars: int, people: list[Persona]) -> Obiettivo:
    value = PCTS[n] * 100
    return Obiettivo(
        codice=f"Ob_{n:02d}",
        titolo=f"Obiettivo {n}",
        peso=stars,
        indicatori=[
            Indicatore(codice=f"Ob_{n:02d}01", descrizione="Pratiche", valore_target=100, valore_raggiunto=value)
        ],
        risorse_umane=people,
    )


def plan_of(people: dict[str, list[tuple[int, Persona]]], stars: list[int]) -> Piano:
    """Two areas of three objectives each; ``people``: matricola -> (objective number, assignment)."""
    on: dict[int, list[Persona]] = {n: [] for n in range(6)}
    for assigned in people.values():
        for n, persona in assigned:
            on[n].append(persona)
    areas = [
        Area(nome=name, obiettivi=[_objective(n, stars[n], on[n]) for n in numbers])
        for name, numbers in (("Area Uno", range(3)), ("Area Due", range(3, 6)))
    ]
    return Piano(ente="Comune", anno=ANNO, aree=areas)


dates = st.one_of(st.none(), st.dates(date(2020, 6, 1), date(2022, 6, 30)))
shares = st.one_of(
    st.none(),
    st.integers(0, 10_000).map(lambda n: n / 100),  # 0-100% with two decimals
    st.sampled_from([150.0, -5.0]),  # invalid: counts as not given
)


@st.composite
def assignment_plans(draw: st.DrawFn, people: int = 6) -> Piano:
    stars = draw(st.lists(st.integers(0, 5), min_size=6, max_size=6))
    chosen: dict[str, list[tuple[int, Persona]]] = {}
    for m in range(people):
        objectives = draw(st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True))
        chosen[f"{m:05d}"] = [
            (n, Persona(matricola=f"{m:05d}", nome=f"Persona {m}", quota=draw(shares), dal=draw(dates), al=draw(dates)))
            for n in objectives
        ]
    return plan_of(chosen, stars)


def _reference(piano: Piano, matricola: str, regole: Regole) -> float | None:
    """The rule as README states it, computed the long way: days counted one by one, in exact fractions."""
    from fractions import Fraction

    assigned = assignments(piano.aree)[matricola]
    valid = [a.persona.quota if a.persona.quota is not None and 0 <= a.persona.quota <= 100 else None for a in assigned]
    given = sum(Fraction(q) for q in valid if q is not None)
    blanks = valid.count(None)
    year = [date(ANNO, 1, 1) + timedelta(days=d) for d in range(365)]
    numerator = denominator = Fraction(0)
    for a, quota in zip(assigned, valid, strict=True):
        share = Fraction(quota) if quota is not None else max(Fraction(0), 100 - given) / blanks
        p = a.persona
        dal, al = (p.dal, p.al) if not (p.dal and p.al and p.al < p.dal) else (None, None)
        days = sum((dal is None or day >= dal) and (al is None or day <= al) for day in year)
        weight = a.obiettivo.peso * share / 100 * Fraction(days, 365)
        pct = objective_pct(a.obiettivo, FINALE, regole)
        if pct is not None:
            numerator += weight * Fraction(pct)
            denominator += weight
    return None if denominator == 0 else float(numerator / denominator)


@settings(max_examples=60, deadline=None)
@given(assignment_plans())
def test_person_pct_is_the_rule_of_readme(piano: Piano) -> None:
    """stars × share × time in the year, one figure across areas, invalid parts counted as not given."""
    regole = Regole()
    for matricola in assignments(piano.aree):
        got, want = person_pct(piano, matricola, FINALE, regole), _reference(piano, matricola, regole)
        assert (got is None) == (want is None), matricola
        if got is not None and want is not None:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), matricola


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=6, max_size=6), st.lists(st.integers(0, 5), min_size=1, unique=True))
def test_equal_shares_for_the_whole_year_are_the_star_weighted_mean(stars: list[int], objectives: list[int]) -> None:
    """Without shares and dates a person's % is what it always was: the star-weighted mean of their objectives."""
    people = {"1": [(n, Persona(matricola="1", nome="Uno")) for n in objectives]}
    piano = plan_of(people, stars)
    mine = [o for a in piano.aree for o in a.obiettivi if o.risorse_umane]
    got, want = person_pct(piano, "1", FINALE, Regole()), objectives_pct(mine, FINALE, Regole())
    assert (got is None) == (want is None)
    if got is not None and want is not None:
        assert math.isclose(got, want, rel_tol=1e-12)


def test_a_person_who_left_in_june_weighs_that_objective_half() -> None:
    left = Persona(matricola="7", nome="Sette", quota=50, al=date(2021, 7, 2))  # 183 days of 365
    stayed = Persona(matricola="7", nome="Sette", quota=50)
    piano = plan_of({"7": [(0, left), (1, stayed)]}, [1] * 6)
    weights = [183 / 365 * 0.5, 0.5]
    assert year_fraction(left, ANNO) == 183 / 365
    expected = (PCTS[0] * weights[0] + PCTS[1] * weights[1]) / sum(weights)
    assert person_pct(piano, "7", FINALE, Regole()) == pytest.approx(expected)
    # Shares left empty split what the given ones leave: 60% given, two others 20% each.
    three = [
        Persona(matricola="8", nome="Otto", quota=60),
        Persona(matricola="8", nome="Otto"),
        Persona(matricola="8", nome="Otto"),
    ]
    piano = plan_of({"8": list(zip((0, 3, 4), three, strict=True))}, [1] * 6)
    assert effective_shares(assignments(piano.aree)["8"]) == [60, 20, 20]


def test_findings_of_assignments() -> None:
    people = {
        "1": [(0, Persona(matricola="1", nome="Uno", quota=80)), (3, Persona(matricola="1", nome="Uno", quota=40))],
        "2": [(1, Persona(matricola="2", nome="Due", quota=150, dal=date(2021, 9, 1), al=date(2021, 3, 1)))],
        "3": [(2, Persona(matricola="3", nome="Tre", dal=date(2020, 12, 1)))],
    }
    piano = plan_of(people, [1] * 6)
    codes = sorted(a.codice for a in check_assignments(piano.aree, ANNO))
    assert codes == ["assegnazione-fuori-anno", "fine-prima-di-inizio", "quota-non-valida", "quote-oltre-100"]
    # Across areas only: the person on objectives of two areas, once.
    across = check_assignments(piano.aree, ANNO, only_across_areas=True)
    assert [(a.codice, a.valore) for a in across] == [("quote-oltre-100", "120%")]
    assert all(code in CATALOGO for code in [*codes, "matricola-sconosciuta", "approvazione-mancante"])


def test_each_assignment_finding_names_its_cell_and_value() -> None:
    people = {
        "1": [(0, Persona(matricola="1", nome="Uno", quota=80)), (3, Persona(matricola="1", nome="Uno", quota=40))],
        "2": [(1, Persona(matricola="2", nome="Due", quota=150, dal=date(2021, 9, 1), al=date(2021, 3, 1)))],
        "3": [(2, Persona(matricola="3", nome="Tre", dal=date(2020, 12, 31), al=date(2022, 1, 1)))],
        # The first and last day of the year are in it.
        "4": [(4, Persona(matricola="4", nome="Quattro", dal=date(2021, 1, 1), al=date(2021, 12, 31)))],
    }
    piano = plan_of(people, [1] * 6)

    def locate_for(area: str) -> Locate:
        return lambda sheet, code, field: (f"{area}:{sheet}", f"{code}:{field}")

    found = [
        (a.codice, a.area, a.obiettivo, a.foglio, a.cella, a.valore)
        for a in check_assignments(piano.aree, ANNO, locate_for=locate_for)
    ]
    assert sorted(found) == sorted(
        [
            ("quota-non-valida", "Area Uno", "Ob_01", "Area Uno:personale", "Ob_01/2:quota", "150%"),
            ("fine-prima-di-inizio", "Area Uno", "Ob_01", "Area Uno:personale", "Ob_01/2:al", "01/03/2021"),
            ("assegnazione-fuori-anno", "Area Uno", "Ob_02", "Area Uno:personale", "Ob_02/3:dal", "31/12/2020"),
            ("assegnazione-fuori-anno", "Area Uno", "Ob_02", "Area Uno:personale", "Ob_02/3:al", "01/01/2022"),
            ("quote-oltre-100", "Area Uno", "Ob_00", "Area Uno:personale", "Ob_00/1:quota", "120%"),
        ]
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(piano=assignment_plans(people=8))
def test_master_caches_what_scoring_computes(piano: Piano, tmp_path: Path) -> None:
    """Assegnazioni (share used, time, weight) and Personale (%) hold scoring's values (LibreOffice
    recalculates them in test_libreoffice_assegnazioni)."""
    path = tmp_path / "master.xlsx"
    write(path, piano, FINALE, Regole())
    cached = cached_values(path)
    expected = expected_from_scoring(path, piano, FINALE, Regole())
    for key, want in expected.items():
        got = cached.get(key)
        if want is None:
            assert got is None, key
        elif isinstance(want, float):
            assert isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15), key
    # An invalid share or pair of dates is shown as text, which the formulas take as not given.
    texts = [v for (sheet, _), v in cached.items() if sheet == "Assegnazioni" and isinstance(v, str)]
    invalid = [a for m in assignments(piano.aree).values() for a in m if a.persona.quota in (150.0, -5.0)]
    assert sum(t.startswith("valore non valido") for t in texts) >= len(invalid)


# -- the scheda and the master --------------------------------------------------------------------------


def _people_plan() -> Piano:
    rossi = Persona(matricola="00002311", nome="Rossi Maria", categoria="D1")
    bianchi = Persona(matricola="00004417", nome="Bianchi Luca", categoria="C1")
    uno = Area(
        nome="Area Uno",
        responsabile="Dott. Neri",
        obiettivi=[_objective(0, 3, [rossi, bianchi]), _objective(1, 2, [rossi])],
    )
    due = Area(nome="Area Due", obiettivi=[_objective(3, 4, [rossi])])
    # Through its file, as the office keeps it: one object per row (here Rossi is one object thrice).
    return Piano.from_json(Piano(ente="Comune", anno=ANNO, aree=[uno, due], chiave_impronta="ab" * 32).to_json())


def _returns(tmp_path: Path, piano: Piano, rilevazione: Rilevazione, extra: dict[str, list[Entry]]) -> Path:
    schede = generate(piano, tmp_path / "schede", rilevazione=rilevazione)
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for scheda in schede:
        fill_workbook(scheda.path, folder / scheda.path.name, extra.get(scheda.area, []))
    return folder


HYPERLINK = '=HYPERLINK("http://x.example/","atto")'


def test_scheda_reports_people_evidence_and_sign_off(tmp_path: Path) -> None:
    piano = _people_plan()
    entries = {
        "Area Uno": [
            Entry("personale", "Ob_00/00002311", "al", date(2021, 6, 30)),
            Entry("personale", "Ob_00/00002311", "quota", 60),
            Entry("personale", "Ob_01/00002311", "quota", 20),
            Entry("personale", "Ob_00/00004417", "dal", date(2021, 3, 1)),
            Entry("indicatori", "Ob_0001", "evidenza", HYPERLINK),
            Entry("compilazione", "Area Uno", "compilata_da", "Bianchi Luca"),
            Entry("compilazione", "Area Uno", "approvata_da", "Dott. Neri"),
            Entry("compilazione", "Area Uno", "data_approvazione", date(2022, 1, 20)),
        ],
        "Area Due": [Entry("personale", "Ob_03/00002311", "quota", 40)],
    }
    folder = _returns(tmp_path, piano, FINALE, entries)
    uno = verify_file(folder / "Obiettivi_2021_Area_Uno_finale.xlsx", piano=piano)
    assert uno.compilata is not None
    rossi = uno.compilata.obiettivi[0].risorse_umane[0]
    assert (rossi.al, rossi.quota) == (date(2021, 6, 30), 60)
    assert uno.compilata.obiettivi[0].indicatori[0].evidenza == HYPERLINK
    assert uno.compilata.compilazione.approvata
    assert "approvazione-mancante" not in {a.codice for a in uno.anomalie}
    due = verify_file(folder / "Obiettivi_2021_Area_Due_finale.xlsx", piano=piano)
    assert "approvazione-mancante" in {a.codice for a in due.anomalie}  # the final round, nobody signed
    # One area alone is within 100%; across the two areas Rossi has 60 + 20 + 40 = 120%.
    assert "quote-oltre-100" not in {a.codice for a in uno.anomalie + due.anomalie}
    result = consolidate(folder, tmp_path / "master.xlsx", piano=piano)
    across = [a for a in result.anomalie if a.codice == "quote-oltre-100"]
    assert len(across) == 1 and across[0].valore == "120%"
    wb = openpyxl.load_workbook(tmp_path / "master.xlsx")
    personale = {row[0].value: row for row in wb["Personale"].iter_rows(min_row=2) if row[0].value}
    assert set(personale) == {"00002311", "00004417"}  # one row per person, across areas
    cached = openpyxl.load_workbook(tmp_path / "master.xlsx", data_only=True)["Personale"]
    pct = {row[0].value: row[6].value for row in cached.iter_rows(min_row=2) if row[0].value}
    compiled = Piano(ente="Comune", anno=ANNO, aree=result.aree)
    assert pct["00002311"] == pytest.approx(person_pct(compiled, "00002311", FINALE, Regole()))
    evidenza = next(c for row in wb["Indicatori"].iter_rows() for c in row if c.value == HYPERLINK)
    assert evidenza.data_type == "s"  # typed by the area: text, never a formula
    riepilogo = [c.value for row in wb["Riepilogo"].iter_rows() for c in row]
    assert "Bianchi Luca" in riepilogo and "Dott. Neri (20/01/2022)" in riepilogo


def test_a_share_typed_wrong_counts_as_not_given(tmp_path: Path) -> None:
    """Prefilled with the plan's 70%, overwritten with a word: the share is not given (equal parts), never 70%."""
    piano = _people_plan()
    piano.aree[0].obiettivi[0].risorse_umane[0].quota = 70
    folder = _returns(
        tmp_path, piano, Rilevazione.INTERMEDIA, {"Area Uno": [Entry("personale", "Ob_00/00002311", "quota", "molto")]}
    )
    lettura = verify_file(folder / "Obiettivi_2021_Area_Uno_intermedia.xlsx", piano=piano)
    assert lettura.compilata is not None
    assert lettura.compilata.obiettivi[0].risorse_umane[0].quota is None
    assert [a.valore for a in lettura.anomalie if a.codice == "numero-non-valido"] == ["molto"]


def test_unknown_matricola_in_personale(tmp_path: Path) -> None:
    piano = _people_plan()
    folder = _returns(tmp_path, piano, Rilevazione.INTERMEDIA, {})
    path = folder / "Obiettivi_2021_Area_Uno_intermedia.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Personale"]
    ws.append(["Ob_00", "C1", "99999", "Nuovo Assunto", date(2021, 5, 1), None, 50])
    ws.append(["Ob_01", "C1", "00004417", "Bianchi Luca", None, None, 30])  # known person, new objective
    wb.save(path)
    lettura = verify_file(path, piano=piano)
    codes = [a.codice for a in lettura.anomalie]
    assert codes.count("matricola-sconosciuta") == 1 and codes.count("riga-estranea") == 1
    unknown = next(a for a in lettura.anomalie if a.codice == "matricola-sconosciuta")
    assert unknown.valore == "99999" and unknown.foglio == "Personale"


def test_a_scheda_of_the_previous_version_is_read_with_its_own_columns(tmp_path: Path) -> None:
    """Schede of version 1 (before issue 16) still circulate: read without the new columns and sheet,
    never reported as altered, and never asked for an approval they had no place for."""
    from seregno_xlsx.scheda.generation import snapshot_for
    from seregno_xlsx.scheda.writer import write_workbook
    from seregno_xlsx.texts import load_texts

    piano = _people_plan()
    area = piano.aree[0]
    snapshot = snapshot_for(piano, area, FINALE, load_texts(), None).model_copy(update={"versione_modello": "1"})
    path = tmp_path / "Obiettivi_2021_Area_Uno_finale.xlsx"
    write_workbook(path, snapshot, key=piano.chiave_impronta)
    wb = openpyxl.load_workbook(path)
    assert "Compilazione" not in wb.sheetnames
    assert [c.value for c in wb["Personale"][4]] == ["Codice Obiettivo", "Categoria", "Matricola", "Cognome Nome"]
    lettura = verify_file(path, piano=piano)
    assert lettura.leggibile
    codes = {a.codice for a in lettura.anomalie}
    assert not codes & {"intestazione-alterata", "foglio-mancante", "versione-modello-diversa", "approvazione-mancante"}
    # The current version: the new columns and sheet, and the approval asked for in the final round.
    current = tmp_path / "corrente" / path.name
    current.parent.mkdir()
    write_workbook(current, snapshot_for(piano, area, FINALE, load_texts(), None), key=piano.chiave_impronta)
    assert "approvazione-mancante" in {a.codice for a in verify_file(current, piano=piano).anomalie}


def test_a_reimport_keeps_the_shares_and_dates_the_office_set() -> None:
    from seregno_xlsx.piano.revisions import revise

    previous = _people_plan()
    rossi = previous.aree[0].obiettivi[0].risorse_umane[0]
    rossi.quota, rossi.al = 70, date(2021, 6, 30)
    revision = revise(previous, _people_plan())
    assert revision.assegnazioni_tenute == 1
    again = revision.piano.aree[0].obiettivi[0].risorse_umane[0]
    assert (again.quota, again.al) == (70, date(2021, 6, 30))
    # What the new plan itself says wins.
    given = _people_plan()
    given.aree[0].obiettivi[0].risorse_umane[0].quota = 40
    revision = revise(previous, given)
    assert revision.assegnazioni_tenute == 0 and revision.piano.aree[0].obiettivi[0].risorse_umane[0].quota == 40
