"""Indicator rules (issue 11, point 4): the model, scoring, the master's formula, importa's rules file, the scheda."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.master.formula_regola import indicator_formula, literal
from seregno_xlsx.master.scoring import MissingValue, Regole, indicator_pct, rule_pct
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Indicatore, Piano, Rilevazione
from seregno_xlsx.piano.regola import Direzione, Fascia, Regola
from seregno_xlsx.piano.regole_indicatori import apply_rules, load_rules
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.scheda.layout import FIRST_DATA_ROW, HEADER_ROW, INDICATORI

from .cli_runner import run
from .conftest import FONTI, ROOT

FINALE = Rilevazione.FINALE
CRESCENTE, DECRESCENTE = Direzione.CRESCENTE, Direzione.DECRESCENTE


def pct(regola: Regola, value: float, target: float = 40, limite_100: bool = True) -> float:
    return rule_pct(regola, value, target, limite_100)


def test_readme_rules_table_examples() -> None:
    """Every example of README's rules table (target 40), as written there."""
    assert (pct(Regola(), 30), pct(Regola(), 50)) == (0.75, 1.0)
    decrescente = Regola(direzione=DECRESCENTE)
    assert (pct(decrescente, 30), pct(decrescente, 50)) == (1.0, 0.8)
    assert pct(Regola(direzione=Direzione.SI_NO), 100) == 1.0
    esatto = Regola(direzione=Direzione.ESATTO, tolleranza=2)
    assert (pct(esatto, 41), pct(esatto, 43)) == (1.0, 0.0)
    soglia = Regola(soglia=20)
    assert (pct(soglia, 19), pct(soglia, 20)) == (0.0, 0.5)
    fasce = Regola(fasce=[Fascia(limite=20, percentuale=50), Fascia(limite=40, percentuale=100)])
    assert (pct(fasce, 25), pct(fasce, 40), pct(fasce, 10)) == (0.5, 1.0, 0.0)
    assert pct(Regola(cumulativo=True), 30) == pct(Regola(), 30)


def test_more_rules() -> None:
    decrescente = Regola(direzione=DECRESCENTE, soglia=60)
    assert (pct(decrescente, 61), pct(decrescente, 60)) == (0.0, 40 / 60)
    assert pct(Regola(direzione=DECRESCENTE), 7, target=0) == 0.0  # 0 days late was the target
    assert pct(Regola(direzione=DECRESCENTE), 0, target=0) == 1.0
    fasce = Regola(direzione=DECRESCENTE, fasce=[Fascia(limite=10, percentuale=100), Fascia(limite=20, percentuale=60)])
    assert (pct(fasce, 5), pct(fasce, 15), pct(fasce, 25)) == (1.0, 0.6, 0.0)
    assert pct(Regola(), 80, limite_100=False) == 2.0  # the cap is the consolidation's option
    assert pct(Regola(direzione=DECRESCENTE), 10, limite_100=False) == 1.0  # never above 100%
    assert pct(Regola(direzione=Direzione.ESATTO, tolleranza=0.1), 40.1) == 1.0  # as a person reads it


def test_no_rule_keeps_todays_behaviour() -> None:
    si_no = Indicatore(codice="a", descrizione="Rispetto delle previsioni (SI=100)", valore_target=100)
    numero = Indicatore(codice="b", descrizione="Pratiche evase", valore_target=120)
    assert si_no.si_no and si_no.misura.direzione is Direzione.SI_NO
    assert not numero.si_no and numero.misura == Regola()
    # The formula of an indicator without a rule is the one every earlier master had.
    formula = indicator_formula(numero.misura, "H2", "J2", '""', True)
    assert formula == '=IF(OR(H2="",H2=0),"",IF(COUNT(J2)=0,"",MIN(1,MAX(0,J2/H2))))'
    # An explicit rule wins over the description.
    crescente = si_no.model_copy(update={"regola": Regola()})
    assert not crescente.si_no


def test_target_zero_and_missing_value() -> None:
    regole = Regole(mancante_finale=MissingValue.ZERO)
    zero = Indicatore(codice="a", descrizione="Giorni", valore_target=0, valore_raggiunto=0)
    assert indicator_pct(zero, FINALE, regole) is None  # higher is better: a zero target excludes
    zero.regola = Regola(direzione=DECRESCENTE)
    assert indicator_pct(zero, FINALE, regole) == 1.0
    zero.valore_raggiunto = None
    assert indicator_pct(zero, FINALE, regole) == 0.0


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"direzione": "si_no", "soglia": 1}, "soglia e fasce"),
        ({"direzione": "esatto", "fasce": [{"limite": 1, "percentuale": 1}]}, "soglia e fasce"),
        ({"direzione": "crescente", "tolleranza": 1}, "tolleranza"),
        ({"direzione": "obliquo"}, "direzione"),
        ({"fasce": [{"limite": 1, "percentuale": -5}]}, "percentuale"),
    ],
)
def test_inconsistent_rules_are_refused(data: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        Regola.model_validate(data)
    assert words in str(info.value)


def test_rule_in_words() -> None:
    fasce = Regola(fasce=[Fascia(limite=750, percentuale=50), Fascia(limite=1500, percentuale=100)], cumulativo=True)
    assert fasce.descrizione() == (
        "Più alto è meglio, a fasce: da 750: 50%; da 1.500: 100%; altrimenti 0%; valore cumulato dall'inizio dell'anno"
    )
    assert Regola(direzione=Direzione.ESATTO, tolleranza=0.5).descrizione().startswith("Target esatto")
    assert "0,5" in Regola(direzione=Direzione.ESATTO, tolleranza=0.5).descrizione()
    assert Regola(direzione=DECRESCENTE, soglia=30).descrizione().endswith("sopra 30: 0%")


def test_literals_read_back_as_the_same_double() -> None:
    for value in (0.00001, 1e22, 33.3, -5.0, 0.1 + 0.2, 1234567.891):
        assert float(literal(value)) == value and "e" not in literal(value).lower()


# -- property: scoring.rule_pct and the master's formula, evaluated by `formulas`, agree ----------------

# Figures as an office types them: up to two decimals, so a tolerance compares as a person reads it.
decimals = st.integers(0, 2_000_000).map(lambda n: n / 100)


@st.composite
def rules_and_values(draw: st.DrawFn) -> tuple[Regola, float, float, bool]:
    direzione = draw(st.sampled_from(list(Direzione)))
    target = draw(st.one_of(st.just(0.0), decimals))
    data: dict[str, object] = {"direzione": direzione, "cumulativo": draw(st.booleans())}
    if direzione is Direzione.ESATTO:
        data["tolleranza"] = draw(st.one_of(st.just(0.0), st.integers(0, 500).map(lambda n: n / 100)))
    if direzione in (CRESCENTE, DECRESCENTE):
        if draw(st.booleans()):
            data["soglia"] = draw(decimals)
        bands = draw(st.lists(st.tuples(decimals, st.integers(0, 1500).map(lambda n: n / 10)), max_size=4))
        data["fasce"] = [{"limite": limit, "percentuale": share} for limit, share in bands]
    regola = Regola.model_validate(data)
    # The boundaries of the rule are the interesting values.
    edges = [target, target + 0.01, max(0.0, target - 0.01), 100.0, 0.0]
    edges += [x for x in (regola.soglia, *(f.limite for f in regola.fasce)) if x is not None]
    if regola.tolleranza is not None:
        edges += [target + regola.tolleranza, max(0.0, target - regola.tolleranza)]
    value = draw(st.one_of(decimals, st.sampled_from([round(e, 2) for e in edges])))
    return regola, value, target, draw(st.booleans())


def formula_engine(formula: str, target: float, value: float) -> object:
    formulas = pytest.importorskip("formulas")
    compiled = formulas.Parser().ast(formula)[1].compile()
    inputs = {"H2": target, "J2": value}
    result = compiled(*(inputs[name] for name in compiled.inputs))
    return result.item() if hasattr(result, "item") else result


# `formulas` takes seconds to load: the property runs with the slow tests (pytest -m "", CI).
@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_and_values())
def test_scoring_and_formula_agree_many(case: tuple[Regola, float, float, bool]) -> None:
    scoring_and_formula_agree(case)


def scoring_and_formula_agree(case: tuple[Regola, float, float, bool]) -> None:
    regola, value, target, limite_100 = case
    indicatore = Indicatore(codice="x", descrizione="x", valore_target=target, valore_raggiunto=value, regola=regola)
    want = indicator_pct(indicatore, FINALE, Regole(limite_100=limite_100))
    got = formula_engine(indicator_formula(regola, "H2", "J2", '""', limite_100), target, value)
    if want is None:
        assert got == ""
    else:
        assert got == pytest.approx(want, abs=1e-12), (regola, value, target)


# -- the rules file applied by importa ----------------------------------------------------------------


def test_rules_file_by_code_and_by_pattern(tmp_path: Path) -> None:
    piano, _ = parse_exports(FONTI)
    rules = tmp_path / "regole.toml"
    rules.write_text(
        '[[regola]]\ncodice = "Ob_Obiet130102"\ndirezione = "crescente"\nsoglia = 60\n\n'
        '[[regola]]\nnome = "numero *"\ndirezione = "esatto"\ntolleranza = 1\n\n'
        '[[regola]]\ncodice = "Ob_Nessuno"\ndirezione = "decrescente"\n',
        encoding="utf-8",
    )
    applied, findings = apply_rules(piano, load_rules(rules))
    by_code = {i.codice: i for a in applied.aree for o in a.obiettivi for i in o.indicatori}
    assert by_code["Ob_Obiet130102"].regola == Regola(soglia=60)  # the code wins over the pattern
    assert by_code["Ob_Obiet120302"].regola == Regola(direzione=Direzione.ESATTO, tolleranza=1)  # «Numero di…»
    assert by_code["Ob_Obiet130101"].regola is None  # SI=100: nothing matched, SI/NO as ever
    assert [(f.codice, f.valore) for f in findings] == [("regola-senza-indicatore", "Ob_Nessuno")]
    assert all(i.regola is None for a in piano.aree for o in a.obiettivi for i in o.indicatori)  # input untouched


def test_bad_rules_file_is_an_italian_message(tmp_path: Path) -> None:
    rules = tmp_path / "regole.toml"
    rules.write_text('[[regola]]\nnome = "x*"\ndirezione = "si_no"\nsoglia = 3\n', encoding="utf-8")
    with pytest.raises(SeregnoError, match=r"regole\.toml: voce «regola\.0»"):
        load_rules(rules)
    rules.write_text('[[regola]]\ndirezione = "decrescente"\n', encoding="utf-8")
    with pytest.raises(SeregnoError, match="codice dell'indicatore oppure un modello"):
        load_rules(rules)


def test_shipped_rules_file_loads() -> None:
    assert all(v.nome for v in load_rules().regola)  # patterns only: no office's codes ship with the package


def test_importa_applies_the_default_rules_file(tmp_path: Path) -> None:
    out = tmp_path / "piano.json"
    result = run("importa", *FONTI, "-o", out)
    assert result.returncode == 0, result.stderr
    plan = Piano.from_json(out.read_text(encoding="utf-8"))
    giorni = next(i for a in plan.aree for o in a.obiettivi for i in o.indicatori if i.codice == "Ob_Obiet120202")
    assert giorni.regola == Regola(direzione=DECRESCENTE)  # «Giorni *» in modelli/regole_indicatori.toml


def test_example_plan_has_an_indicator_of_each_kind() -> None:
    plan = Piano.from_json((ROOT / "esempi" / "piano_2021.json").read_text(encoding="utf-8"))
    rules = [i.misura for a in plan.aree for o in a.obiettivi for i in o.indicatori]
    assert {r.direzione for r in rules} == set(Direzione)
    assert any(r.soglia is not None for r in rules) and any(r.fasce for r in rules) and any(r.cumulativo for r in rules)


# -- the scheda shows the rule beside the target, locked ------------------------------------------------


def test_scheda_shows_the_rule_beside_the_target(schede_intermedia: list[SchedaGenerata], piano: Piano) -> None:
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    ws = openpyxl.load_workbook(scheda.path)["Indicatori"]
    keys = [c.label_key for c in INDICATORI.columns]
    target, rule = keys.index("valore_target") + 1, keys.index("regola") + 1
    assert rule == target + 1
    assert ws.cell(HEADER_ROW, rule).value == "Come si misura"
    indicatori = [i for o in piano.area("Area Affari Generali").obiettivi for i in o.indicatori]
    for offset, indicatore in enumerate(indicatori):
        cell = ws.cell(FIRST_DATA_ROW + offset, rule)
        assert cell.value == indicatore.misura.descrizione() and cell.protection.locked
    assert any("a fasce" in str(ws.cell(FIRST_DATA_ROW + o, rule).value) for o in range(len(indicatori)))


def test_above_target_is_a_warning_only_where_higher_is_better() -> None:
    from seregno_xlsx.piano.checks import check_compilation
    from seregno_xlsx.piano.model import Area, Obiettivo

    def warned(regola: Regola | None) -> bool:
        ind = Indicatore(codice="Ob_X01", descrizione="Giorni", valore_target=10, prima_rilevazione=15, regola=regola)
        area = Area(nome="A", obiettivi=[Obiettivo(codice="Ob_X", titolo="t", peso=1, indicatori=[ind])])
        rif = date(2021, 9, 30)
        found = check_compilation(area, anno=2021, rilevazione=Rilevazione.INTERMEDIA, data_riferimento=rif)
        return any(a.codice == "valore-oltre-target" for a in found)

    assert warned(None) and warned(Regola(soglia=3))
    assert not warned(Regola(direzione=DECRESCENTE)) and not warned(Regola(direzione=Direzione.ESATTO, tolleranza=1))
