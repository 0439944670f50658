"""Random valid plans, their workbooks, random fills: read back and consolidated, nothing changes."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.master import scoring
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.layout import OBIETTIVI, RIEPILOGO
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione, round_value_field
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.ritorni.values import parse_text
from seregno_xlsx.scheda.generation import generate
from seregno_xlsx.simulation import Entry, fill_workbook

YEAR = 2021
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
NAME = st.text(st.characters(whitelist_categories=("Lu",)), min_size=2, max_size=12)
DAY = st.integers(min_value=0, max_value=364).map(lambda d: date(YEAR, 1, 1) + timedelta(days=d))


@st.composite
def plans(draw: st.DrawFn) -> Piano:
    people = draw(
        st.lists(
            st.tuples(st.integers(1, 99_999_999).map(lambda n: f"{n:08d}"), NAME),
            min_size=1,
            max_size=5,
            unique_by=lambda p: p[0],
        )
    )
    aree = []
    for a in range(draw(st.integers(1, 2))):
        obiettivi = []
        for o in range(draw(st.integers(1, 3))):
            code = f"Ob_P{a}{o:02d}"
            fasi, indicatori = [], []
            for f in range(draw(st.integers(1, 3))):
                start, end = sorted((draw(DAY), draw(DAY)))
                phase = f"{code}{f + 1:02d}"
                fasi.append(
                    Fase(
                        codice=phase,
                        descrizione=draw(TEXT) or "fase",
                        data_inizio_prevista=start,
                        data_fine_prevista=end,
                    )
                )
                si_no = draw(st.booleans())
                indicatori.append(
                    Indicatore(
                        codice=phase,
                        fase=fasi[-1].descrizione,
                        descrizione="Rispetto delle previsioni (SI=100)" if si_no else "Pratiche evase",
                        anno=YEAR,
                        valore_target=100.0 if si_no else draw(st.integers(1, 10_000).map(float)),
                    )
                )
            team = draw(st.lists(st.sampled_from(people), min_size=1, max_size=3, unique=True))
            obiettivi.append(
                Obiettivo(
                    codice=code,
                    titolo=draw(TEXT) or "obiettivo",
                    peso=draw(st.integers(1, 5)),
                    definizione=draw(TEXT),
                    data_inizio_prevista=date(YEAR, 1, 1),
                    data_fine_prevista=date(YEAR, 12, 31),
                    fasi=fasi,
                    indicatori=indicatori,
                    risorse_umane=[Persona(categoria="Categoria C", matricola=m, nome=n) for m, n in team],
                )
            )
        aree.append(Area(nome=f"Area Casuale {a + 1}", responsabile="R", obiettivi=obiettivi))
    return Piano(ente="Città di Prova", anno=YEAR, titolo="Piano casuale", delibera="GC 1/2021", aree=aree)


@pytest.mark.slow
@pytest.mark.parametrize("rilevazione", list(Rilevazione))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(piano=plans(), data=st.data())
def test_random_plan_round_trip_and_consolidation(
    piano: Piano, data: st.DataObject, rilevazione: Rilevazione, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("casuale")
    field = round_value_field(rilevazione)
    typed: dict[str, tuple[object, object, str]] = {}
    returned = folder / "ritorni"
    returned.mkdir()
    for scheda in generate(piano, folder / "schede", rilevazione=rilevazione):
        entries = []
        for obiettivo in piano.area(scheda.area).obiettivi:
            for indicatore in obiettivo.indicatori:
                if indicatore.si_no:
                    value: object = data.draw(st.sampled_from(["SI", "NO", None]))
                else:
                    value = data.draw(st.one_of(st.none(), st.integers(0, 20_000).map(float)))
                end = data.draw(st.one_of(st.none(), DAY))
                note = data.draw(TEXT)
                typed[indicatore.codice] = (value, end, note)
                entries += [
                    Entry("indicatori", indicatore.codice, field, value),
                    Entry("fasi", indicatore.codice, "data_fine_effettiva", end),
                    Entry("fasi", indicatore.codice, "monitoraggio", note),
                ]
        fill_workbook(scheda.path, returned / scheda.path.name, entries)

    compiled: dict[str, Area] = {}
    for path in sorted(returned.iterdir()):
        lettura = read_workbook(path)
        assert lettura.compilata is not None
        compiled[lettura.area] = lettura.compilata
        for obiettivo in lettura.compilata.obiettivi:
            fasi = {f.codice: f for f in obiettivo.fasi}
            for indicatore in obiettivo.indicatori:
                value, end, note = typed[indicatore.codice]
                expected = {None: None, "SI": 100.0, "NO": 0.0}.get(value, value)  # type: ignore[call-overload]
                assert getattr(indicatore, field) == expected
                assert fasi[indicatore.codice].data_fine_effettiva == end
                assert fasi[indicatore.codice].monitoraggio == parse_text(note).value

    master = folder / "consolidato.xlsx"
    result = consolidate(returned, master, data_riferimento=date(YEAR, 12, 31))
    assert [f.stato for f in result.fonti] == ["accettato"] * len(piano.aree)
    assert result.summary is not None and result.summary.valori_scritti == result.valori_letti
    regole = scoring.Regole()
    sheets = openpyxl.load_workbook(master, data_only=True)
    ob_area, ob_code, ob_pct = (OBIETTIVI.index(k) for k in ("area", "codice", "pct"))
    obiettivi = {
        (r[ob_area], r[ob_code]): r[ob_pct]
        for r in sheets["Obiettivi"].iter_rows(min_row=2, values_only=True)
        if r[ob_code]
    }
    for area in compiled.values():
        for obiettivo in area.obiettivi:
            expected = scoring.objective_pct(obiettivo, rilevazione, regole)
            got = obiettivi[(area.nome, obiettivo.codice)]
            assert (got in (None, "")) if expected is None else got == pytest.approx(expected)
    first, pct = RIEPILOGO.first_row + 1, RIEPILOGO.index("pct")
    riepilogo = {r[0]: r[pct] for r in sheets["Riepilogo"].iter_rows(min_row=first, values_only=True) if r[0]}
    for area in compiled.values():
        expected = scoring.area_pct(area, rilevazione, regole)
        got = riepilogo[area.nome]
        assert (got in (None, "")) if expected is None else got == pytest.approx(expected)
