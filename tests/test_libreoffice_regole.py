"""Property: a random plan of random rules, values and corrections; the master's formulas recalculated by
LibreOffice and by the `formulas` package give the values `scoring` cached (issue 11, point 7)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.master import scoring
from seregno_xlsx.master.layout import INDICATORI, OBIETTIVI
from seregno_xlsx.master.rettifiche import Rettifica, apply_rettifiche
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import write_master
from seregno_xlsx.piano.model import Area, Indicatore, Obiettivo, Persona, Rilevazione

from .libreoffice.fixtures import soffice_fixture  # noqa: F401  (the session's soffice)
from .libreoffice.office import Soffice
from .test_libreoffice_master import differences, formula_expectations, formulas_values, libreoffice_values
from .test_regole_indicatori import decimals, rules_and_values

FINALE = Rilevazione.FINALE
AREA = "Area Prove"
Case = tuple[Area, Regole, list[Rettifica]]
PEOPLE = [Persona(matricola=f"{n:05d}", nome=f"Persona {n}") for n in range(3)]


@st.composite
def random_master(draw: st.DrawFn) -> tuple[Area, Regole, list[Rettifica]]:
    cases = draw(st.lists(rules_and_values(), min_size=8, max_size=24))
    obiettivi: list[Obiettivo] = []
    corrections: list[Rettifica] = []
    while cases:
        size = draw(st.integers(1, 3))
        chunk, cases = cases[:size], cases[size:]
        code = f"Ob_{len(obiettivi):02d}"
        indicatori = []
        for k, (regola, value, target, _) in enumerate(chunk, start=1):
            missing = draw(st.integers(0, 9)) == 0
            indicatori.append(
                Indicatore(
                    codice=f"{code}{k:02d}",
                    descrizione=f"Indicatore {k}",
                    valore_target=target,
                    valore_raggiunto=None if missing else value,
                    regola=regola,
                )
            )
            if draw(st.integers(0, 5)) == 0:
                corrections.append(_row(code, f"{code}{k:02d}", "valore", draw(decimals)))
        kind = draw(st.sampled_from(["", "", "", "percentuale", "esclusione"]))
        if kind:
            corrections.append(_row(code, "", kind, draw(st.integers(0, 120)) if kind == "percentuale" else None))
        people = draw(st.lists(st.sampled_from(PEOPLE), max_size=2, unique_by=lambda p: p.matricola))
        peso = draw(st.integers(0, 5))
        obiettivi.append(Obiettivo(codice=code, titolo=code, peso=peso, indicatori=indicatori, risorse_umane=people))
    regole = Regole(limite_100=draw(st.booleans()), mancante_finale=draw(st.sampled_from(list(scoring.MissingValue))))
    return Area(nome=AREA, obiettivi=obiettivi), regole, corrections


def _row(obiettivo: str, indicatore: str, tipo: str, valore: object) -> Rettifica:
    return Rettifica(2, "Rettifiche", AREA, obiettivo, indicatore, "", tipo, valore, "Motivo", "OIV", date(2022, 1, 10))


def write(case: tuple[Area, Regole, list[Rettifica]], folder: Path) -> Path:
    area, regole, corrections = case
    area = area.model_copy(deep=True)
    applied, findings = apply_rettifiche(corrections, [area], FINALE, file="rettifiche.csv")
    assert not findings
    path = folder / "master.xlsx"
    write_master(
        path,
        ente="Comune di prova",
        anno=2021,
        aree=[area],
        rilevazione=FINALE,
        regole=regole,
        anomalie=[],
        fonti=[],
        data_riferimento=date(2021, 12, 31),
        valori_letti=0,
        rettifiche=applied,
    )
    # The cached values are scoring's own: the reference every engine is compared with.
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[INDICATORI.name]
    pct = INDICATORI.index("pct") + 1
    for r, ind in enumerate((i for o in area.obiettivi for i in o.indicatori), start=INDICATORI.first_row + 1):
        want = scoring.indicator_pct(ind, FINALE, regole)
        assert _cell(ws.cell(r, pct).value) == want
    ws = wb[OBIETTIVI.name]
    pct = OBIETTIVI.index("pct") + 1
    for r, ob in enumerate(area.obiettivi, start=OBIETTIVI.first_row + 1):
        want = scoring.objective_pct(ob, FINALE, regole)
        assert _cell(ws.cell(r, pct).value) == (None if want is None else pytest.approx(want))
    return path


def _cell(value: object) -> object:
    """A cached empty text reads back as an empty cell."""
    return None if value == "" else value


SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.libreoffice
@SETTINGS
@given(random_master())
def test_libreoffice_recalculates_what_scoring_cached(soffice: Soffice, case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(case, Path(folder))
        want = formula_expectations(path)
        report = soffice.run("master", {"path": str(path)})
        got = libreoffice_values(report["recalc"])
        assert set(got) == set(want)
        assert differences(got, want) == []


@pytest.mark.slow
@SETTINGS
@given(random_master())
def test_second_engine_computes_what_scoring_cached(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(case, Path(folder))
        want = formula_expectations(path)
        got = formulas_values(path)
        assert set(want) <= set(got)
        assert differences(got, want) == []
