"""A round built on the previous one: the intermediate returns fold into the plan, the final schede
show the 1° rilevazione locked and September's dates and texts prefilled, and the final round is
checked against the intermediate one."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import Consolidamento, consolidate
from seregno_xlsx.master.rounds import check_between_rounds, fold_consolidation, previous_round
from seregno_xlsx.master.scoring import Regole, area_pct, indicator_pct, objective_pct
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.piano.rounds import Ritorno
from seregno_xlsx.posta.collect import is_blank
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import generate
from seregno_xlsx.simulation import Entry, fill_workbook, sample_entries

from .cli_runner import run
from .conftest import REAL_AREA
from .test_master_writer import piano as master_plan
from .test_master_writer import rows, write


def _round(piano: Piano, rilevazione: Rilevazione, folder: Path, seed: int = 1) -> Consolidamento:
    generated = generate(piano, folder / "schede", rilevazione=rilevazione)
    (folder / "ritorni").mkdir()
    for n, item in enumerate(generated, start=seed):
        area = piano.area(item.area)
        entries = sample_entries(area, rilevazione, seed=n, anno=piano.anno)
        if item.area == REAL_AREA:  # September's report on two phases, whatever the sample drew
            fasi = [f.codice for o in area.obiettivi for f in o.fasi][:2]
            entries = [e for e in entries if e.code not in fasi] + [
                Entry("fasi", fasi[0], "data_inizio_effettiva", date(piano.anno, 2, 1)),
                Entry("fasi", fasi[0], "data_fine_effettiva", date(piano.anno, 5, 31)),
                Entry("fasi", fasi[0], "monitoraggio", "Conclusa a maggio"),
                Entry("fasi", fasi[1], "data_inizio_effettiva", date(piano.anno, 6, 1)),
            ]
        fill_workbook(item.path, folder / "ritorni" / item.path.name, entries)
    return consolidate(folder / "ritorni", folder / "master.xlsx", piano=piano)


@pytest.fixture(scope="module")
def intermedia(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> tuple[Consolidamento, Piano]:
    result = _round(piano, Rilevazione.INTERMEDIA, tmp_path_factory.mktemp("intermedia"))
    riporto = fold_consolidation(piano, result.ritorni, result.rilevazione, result.regole)
    assert riporto.non_riportati == []
    return result, riporto.piano


def test_the_plan_takes_what_the_areas_returned(piano: Piano, intermedia: tuple[Consolidamento, Piano]) -> None:
    result, updated = intermedia
    assert len(result.ritorni) == len(piano.aree) == len(updated.rilevazioni[0].aree)
    record = updated.rilevazioni[0]
    assert record.rilevazione is Rilevazione.INTERMEDIA and record.versione_piano == piano.versione
    for ritorno in result.ritorni:
        area = updated.area(ritorno.area.nome)
        returned = {
            (i.codice, i.descrizione): i.prima_rilevazione for o in ritorno.area.obiettivi for i in o.indicatori
        }
        assert {
            (i.codice, i.descrizione): i.prima_rilevazione for o in area.obiettivi for i in o.indicatori
        } == returned
        assert any(v is not None for v in returned.values())
        fasi = {f.codice: (f.data_fine_effettiva, f.monitoraggio) for o in ritorno.area.obiettivi for f in o.fasi}
        assert {f.codice: (f.data_fine_effettiva, f.monitoraggio) for o in area.obiettivi for f in o.fasi} == fasi
    # Every objective's % of the round is on record, as scoring computed it.
    assert any(o.percentuale is not None for a in record.aree for o in a.obiettivi)
    # The plan read is left as it was: folding makes a new plan.
    assert piano.rilevazioni == []
    first = [i.prima_rilevazione for a in piano.aree for o in a.obiettivi for i in o.indicatori]
    assert first != [i.prima_rilevazione for a in updated.aree for o in a.obiettivi for i in o.indicatori]


def test_final_scheda_shows_first_reading_locked_and_prefills_september(
    intermedia: tuple[Consolidamento, Piano], tmp_path: Path
) -> None:
    _, updated = intermedia
    item = next(g for g in generate(updated, tmp_path, rilevazione=Rilevazione.FINALE) if g.area == REAL_AREA)
    area = updated.area(REAL_AREA)
    lettura = read_workbook(item.path, piano=updated)
    wb = openpyxl.load_workbook(item.path)
    ind = next(i for o in area.obiettivi for i in o.indicatori if i.prima_rilevazione is not None)
    sheet, cell = lettura.locate("indicatori", ind.codice, "prima_rilevazione")
    shown = wb[sheet][cell]
    assert shown.value == pytest.approx(ind.prima_rilevazione) or shown.value in ("SI", "NO")
    assert shown.protection.locked, "the 1° rilevazione is context in the final round, never an input"
    sheet, cell = lettura.locate("indicatori", ind.codice, "valore_raggiunto")
    assert wb[sheet][cell].value is None and not wb[sheet][cell].protection.locked
    fase = next(f for o in area.obiettivi for f in o.fasi if f.data_fine_effettiva)
    sheet, cell = lettura.locate("fasi", fase.codice, "data_fine_effettiva")
    assert wb[sheet][cell].value.date() == fase.data_fine_effettiva and not wb[sheet][cell].protection.locked
    fase = next(f for o in area.obiettivi for f in o.fasi if f.monitoraggio)
    sheet, cell = lettura.locate("fasi", fase.codice, "monitoraggio")
    assert wb[sheet][cell].value == fase.monitoraggio and not wb[sheet][cell].protection.locked
    # Read back untouched, the scheda confirms September's values.
    compiled = lettura.compilata
    assert compiled is not None and compiled == lettura.metadati.area  # type: ignore[union-attr]
    assert not [a for a in lettura.anomalie if a.gravita == "errore"]


def test_prefilled_scheda_saved_unchanged_is_a_return_our_attachment_is_not(
    intermedia: tuple[Consolidamento, Piano], tmp_path: Path
) -> None:
    _, updated = intermedia
    item = generate(updated, tmp_path / "schede", aree=[REAL_AREA], rilevazione=Rilevazione.FINALE)[0]
    assert is_blank(read_workbook(item.path, piano=updated)), "our own attachment, byte for byte, is blank"
    saved = tmp_path / "salvata.xlsx"
    _saved_later(item.path, saved, hours=3)  # the area opened it, changed nothing, saved it
    lettura = read_workbook(saved, piano=updated)
    assert lettura.compilata == lettura.metadati.area  # type: ignore[union-attr]  # nothing changed...
    assert not is_blank(lettura), "...and yet it is a return that confirms the prefilled values"


def _saved_later(source: Path, target: Path, *, hours: int) -> None:
    """The file as Excel saves it ``hours`` later, its content unchanged (openpyxl would stamp «now»)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/core.xml":
                later = (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + later.encode(), data)
            zout.writestr(info, data)


def _final(updated: Piano, folder: Path, entries: list[Entry]) -> Consolidamento:
    item = generate(updated, folder / "schede", aree=[REAL_AREA], rilevazione=Rilevazione.FINALE)[0]
    (folder / "ritorni").mkdir()
    fill_workbook(item.path, folder / "ritorni" / item.path.name, entries)
    return consolidate(folder / "ritorni", folder / "master.xlsx", piano=updated)


def test_final_round_checked_against_the_intermediate(intermedia: tuple[Consolidamento, Piano], tmp_path: Path) -> None:
    _, updated = intermedia
    area = updated.area(REAL_AREA)
    fase = next(f for o in area.obiettivi for f in o.fasi if f.data_fine_effettiva)
    other = next(f for o in area.obiettivi for f in o.fasi if f.data_inizio_effettiva and f.codice != fase.codice)
    moved = other.data_inizio_effettiva + timedelta(days=3)  # type: ignore[operator]
    entries = [
        Entry("fasi", fase.codice, "data_fine_effettiva", None),
        Entry("fasi", other.codice, "data_inizio_effettiva", moved),
    ]
    result = _final(updated, tmp_path, entries)
    codes = {(a.codice, a.fase) for a in result.anomalie}
    assert ("fase-non-piu-conclusa", fase.codice) in codes
    assert ("data-effettiva-cambiata", other.codice) in codes
    found = next(a for a in result.anomalie if a.codice == "fase-non-piu-conclusa")
    assert found.foglio == "Fasi" and found.cella, "named by the cell of the returned file"


def test_no_check_fires_on_a_final_round_that_confirms(
    intermedia: tuple[Consolidamento, Piano], tmp_path: Path
) -> None:
    _, updated = intermedia
    result = _final(updated, tmp_path, [])
    between = {"fase-non-piu-conclusa", "data-effettiva-cambiata", "valore-cumulativo-in-calo"}
    assert not [a for a in result.anomalie if a.codice in between]


def _area(
    first: float | None, final: float | None, *, target: float = 100, fine: date | None = None, cumulativo: bool = False
) -> Area:
    return Area.model_validate(
        {
            "nome": "Area Prova",
            "obiettivi": [
                {
                    "codice": "Ob_1",
                    "titolo": "Obiettivo",
                    "peso": 3,
                    "fasi": [{"codice": "Ob_1 FASE 1", "descrizione": "Fase", "data_fine_effettiva": fine}],
                    "indicatori": [
                        {
                            "codice": "Ob_1 FASE 1",
                            "descrizione": "Pratiche evase (cumulato)",
                            "valore_target": target,
                            "prima_rilevazione": first,
                            "valore_raggiunto": final,
                            "regola": {"cumulativo": True} if cumulativo else None,
                        }
                    ],
                }
            ],
        }
    )


def test_cumulative_value_lower_than_the_previous_round() -> None:
    # The indicator's rule (piano/regola.py) says it is cumulative.
    down = check_between_rounds(_area(60, None), _area(60, 50, cumulativo=True), Regole(), 1.0)
    assert [a.codice for a in down] == ["valore-cumulativo-in-calo"]
    assert not check_between_rounds(_area(60, None), _area(60, 70, cumulativo=True), Regole(), 1.0)
    # Not cumulative: a lower value is no finding (a stock, a time, a rate may go down).
    assert not check_between_rounds(_area(60, None), _area(60, 50), Regole(), 1.0)


def test_objective_pct_falling_beyond_the_threshold() -> None:
    # 80% in September, 50% at year end: a fall of 30 points.
    assert [a.codice for a in check_between_rounds(_area(80, None), _area(80, 50), Regole(), 0.2)] == [
        "percentuale-in-calo"
    ]
    assert not check_between_rounds(_area(80, None), _area(80, 50), Regole(), 0.3)
    assert not check_between_rounds(_area(80, None), _area(80, 65), Regole(), 0.2)


def test_phase_concluded_then_reopened() -> None:
    before, after = _area(1, 1, fine=date(2021, 6, 1)), _area(1, 1, fine=None)
    assert [a.codice for a in check_between_rounds(before, after, Regole(), 1.0)] == ["fase-non-piu-conclusa"]
    changed = _area(1, 1, fine=date(2021, 6, 2))
    assert [a.codice for a in check_between_rounds(before, changed, Regole(), 1.0)] == ["data-effettiva-cambiata"]


def test_a_cleared_start_date_is_said_for_phases_as_for_objectives() -> None:
    before, after = _area(1, 1), _area(1, 1)
    for area in (before, after):
        area.obiettivi[0].data_inizio_effettiva = date(2021, 2, 1)
    before.obiettivi[0].fasi[0].data_inizio_effettiva = date(2021, 3, 1)
    found = check_between_rounds(before, after, Regole(), 1.0)
    assert [(a.codice, a.fase) for a in found] == [("data-effettiva-cambiata", "Ob_1 FASE 1")]
    assert "era 01/03/2021, ora vuota" in found[0].messaggio
    after.obiettivi[0].data_inizio_effettiva = None
    assert [a.fase for a in check_between_rounds(before, after, Regole(), 1.0)] == ["", "Ob_1 FASE 1"]
    # A date entered only now is what the final round is for: no finding.
    first_time = _area(1, 1)
    first_time.obiettivi[0].fasi[0].data_inizio_effettiva = date(2021, 3, 1)
    assert check_between_rounds(_area(1, 1), first_time, Regole(), 1.0) == []


@pytest.mark.parametrize("regole", [Regole(), Regole(limite_100=False, pesi_aree="uguali")])
def test_final_master_shows_both_rounds_as_scoring_computes_them(tmp_path: Path, regole: Regole) -> None:
    """1° rilevazione and valore raggiunto side by side, the change, the % at each round: cached = scoring."""
    plan = master_plan()
    path = tmp_path / "finale.xlsx"
    write(path, plan, Rilevazione.FINALE, regole)
    wb = openpyxl.load_workbook(path, data_only=True)
    indicators = {values["codice"]: values for _, values in rows(wb["Indicatori"])}
    checked = 0
    for area in plan.aree:
        for ob in area.obiettivi:
            for ind in ob.indicatori:
                got = indicators[ind.codice]
                first = indicator_pct(ind, Rilevazione.INTERMEDIA, regole)
                assert (got["pct_prima"] in ("", None)) if first is None else got["pct_prima"] == pytest.approx(first)
                if ind.prima_rilevazione is not None and ind.valore_raggiunto is not None:
                    assert got["variazione"] == pytest.approx(ind.valore_raggiunto - ind.prima_rilevazione)
                    checked += 1
    assert checked >= 3
    objectives = {values["codice"]: values for _, values in rows(wb["Obiettivi"])}
    for area in plan.aree:
        for ob in area.obiettivi:
            want = objective_pct(ob, Rilevazione.INTERMEDIA, regole)
            got = objectives[ob.codice]["pct_prima"]
            assert (got in ("", None)) if want is None else got == pytest.approx(want)
    riepilogo = {values["area"]: values for _, values in rows(wb["Riepilogo"])}
    for area in plan.aree:
        want = area_pct(area, Rilevazione.INTERMEDIA, regole)
        got = riepilogo[area.nome]["pct_prima"]
        assert (got in ("", None)) if want is None else got == pytest.approx(want)
    # In the intermediate round these columns stay empty: there is no earlier round to show.
    write(path, plan, Rilevazione.INTERMEDIA, regole)
    wb = openpyxl.load_workbook(path, data_only=True)
    assert {values["pct_prima"] for _, values in rows(wb["Indicatori"])} <= {None, ""}


def _mixed_folder(piano: Piano, updated: Piano, folder: Path) -> Path:
    """Two intermediate schede (left over from September) and one final scheda, of three areas."""
    intermediate = generate(piano, folder / "schede_i", rilevazione=Rilevazione.INTERMEDIA)
    final = generate(updated, folder / "schede_f", rilevazione=Rilevazione.FINALE)
    returns = folder / "ritorni"
    returns.mkdir()
    names = [a.nome for a in piano.aree]
    assert len(names) >= 3
    for n, item in enumerate([*(g for g in intermediate if g.area in names[:2]), final[2]]):
        rilevazione = Rilevazione.FINALE if item in final else Rilevazione.INTERMEDIA
        entries = sample_entries(piano.area(item.area), rilevazione, seed=n, anno=piano.anno)
        fill_workbook(item.path, returns / f"{n}_{item.path.name}", entries)
    return returns


def test_round_comes_from_the_plan_then_the_option_then_the_files(
    piano: Piano, intermedia: tuple[Consolidamento, Piano], tmp_path: Path
) -> None:
    _, updated = intermedia
    returns = _mixed_folder(piano, updated, tmp_path)
    # The plan records the intermediate round as consolidated: the final one is expected, whatever most files say.
    result = consolidate(returns, tmp_path / "m1.xlsx", piano=updated)
    assert result.rilevazione is Rilevazione.FINALE
    assert [f.stato for f in result.fonti].count("accettato") == 1
    rejected = [f for f in result.fonti if f.stato == "rifiutato"]
    assert len(rejected) == 2
    rule = "attesa finale (il piano registra già consolidata la rilevazione intermedia"
    assert all(rule in f.motivo for f in rejected)
    assert "intermedia" in result.regola_rilevazione and result.to_json()["rilevazione"] == "finale"
    # Stated, the round wins over the plan's record.
    stated = consolidate(returns, tmp_path / "m2.xlsx", piano=updated, rilevazione=Rilevazione.INTERMEDIA)
    assert stated.rilevazione is Rilevazione.INTERMEDIA and len(stated.aree) == 2
    assert stated.regola_rilevazione == "indicata con --rilevazione"
    # No round on record: today's rule, the round of most schede, and it says so.
    most = consolidate(returns, tmp_path / "m3.xlsx", piano=piano)
    assert most.rilevazione is Rilevazione.INTERMEDIA and len(most.aree) == 2
    assert all("maggior parte delle schede" in f.motivo for f in most.fonti if f.stato == "rifiutato")
    # From the command line: the option, and the rule that decided, in the terminal.
    plan_file = tmp_path / "piano.json"
    plan_file.write_text(piano.to_json(), encoding="utf-8")
    cli = run("consolida", returns, "-o", tmp_path / "m4.xlsx", "--piano", plan_file, "--rilevazione", "finale")
    assert "Rilevazione: finale (indicata con --rilevazione)" in cli.stdout, cli.stdout + cli.stderr
    assert cli.returncode == 1  # the two intermediate schede are rejected


def test_each_finding_names_its_own_file_after_findings_across_files(tmp_path: Path) -> None:
    """A finding across files (an area that did not answer) comes before the checks between rounds: each
    row of «Anomalie» still names the file it was read from (the file list is derived, never kept apart)."""
    import shutil

    from seregno_xlsx.master.layout import ANOMALIE
    from seregno_xlsx.piano.plan_file import read_plan

    returns = tmp_path / "ritorni"
    returns.mkdir()
    for path in sorted((Path(__file__).parent.parent / "esempi" / "finale" / "ritorni").glob("*.xlsx"))[:2]:
        shutil.copy(path, returns)
    piano = read_plan(Path(__file__).parent.parent / "esempi" / "finale" / "piano_2021.json")
    result = consolidate(returns, tmp_path / "m.xlsx", piano=piano, processi=1)
    codes = [a.codice for a in result.anomalie]
    assert "area-senza-risposta" in codes and "data-effettiva-cambiata" in codes
    assert codes.index("area-senza-risposta") < codes.index("data-effettiva-cambiata")
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True)[ANOMALIE.name]
    rows = list(sheet.iter_rows(min_row=ANOMALIE.header_row + 2, values_only=True))
    where = ANOMALIE.index("dove")
    for row, finding in zip(rows, result.anomalie, strict=False):
        if finding.codice in ("data-effettiva-cambiata", "percentuale-in-calo"):
            assert str(row[where]).startswith(f"Obiettivi_2021_{finding.area.replace(' ', '_')}_finale.xlsx"), row
        if finding.codice == "area-senza-risposta":
            assert not str(row[where] or "").startswith("Obiettivi_2021_"), row


def test_the_previous_round_is_the_plans_record_and_its_percentages() -> None:
    """The checks compare with what the plan recorded of the intermediate round, not with the scheda's copy."""
    piano = Piano(ente="Comune", anno=2021, aree=[_area(None, None)])
    when = datetime(2021, 10, 1, 9, 0, tzinfo=UTC)
    folded = fold_consolidation(piano, [Ritorno(_area(60, None))], Rilevazione.INTERMEDIA, Regole(), quando=when)
    [record] = folded.piano.rilevazioni
    assert record.consolidato_il == when
    assert [o.percentuale for o in record.aree[0].obiettivi] == [pytest.approx(0.6)]
    # The final scheda's prefilled copy says 55: the plan's record (60) is the previous round.
    shown = _area(55, None)
    assert previous_round(folded.piano, shown).obiettivi[0].indicatori[0].prima_rilevazione == 60
    assert previous_round(None, shown).obiettivi[0].indicatori[0].prima_rilevazione == 55
    assert previous_round(piano, shown).obiettivi[0].indicatori[0].prima_rilevazione == 55  # nothing recorded
