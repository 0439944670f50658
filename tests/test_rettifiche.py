"""The office's justified corrections (issue 11, point 5): the file, consolida, the master.

Each test consolidates the example returns (about a second): the rarer cases are `slow` ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from pydantic import ValidationError

from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.master import scoring
from seregno_xlsx.master.consolidation import Consolidamento, consolidate
from seregno_xlsx.master.layout import INDICATORI, OBIETTIVI, RETTIFICHE, RIEPILOGO
from seregno_xlsx.master.rettifiche import COLONNE, read_rettifiche
from seregno_xlsx.piano.model import Indicatore, Obiettivo, Piano, Rilevazione
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import fill_workbook, sample_entries

from .cli_runner import run
from .conftest import ROOT

INTERMEDIA = Rilevazione.INTERMEDIA
AG, LP, SP = "Area Affari Generali", "Area Lavori Pubblici e Manutenzioni", "Area Servizi alla Persona"
HEADER = ";".join(COLONNE)
GOOD = [
    f"{LP};Ob_Obiet1202;Ob_Obiet120202;intermedia;valore;9,5;Giorni festivi esclusi (verbale 3);"
    "Controllo di gestione;05/10/2021",
    f"{AG};Ob_Obiet1302;;;percentuale;80;Normativa regionale cambiata;Segretario generale;06/10/2021",
    f"{SP};Ob_Obiet0919;;;esclusione;;Bando regionale annullato;OIV;07/10/2021",
]


@pytest.fixture(scope="module")
def ritorni(piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("consolida") / "ritorni"
    folder.mkdir()
    for seed, scheda in enumerate(schede_intermedia, start=1):
        entries = sample_entries(piano.area(scheda.area), INTERMEDIA, seed=seed, anno=piano.anno)
        fill_workbook(scheda.path, folder / scheda.path.name, entries)
    return folder


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def _consolidate(ritorni: Path, piano: Piano, tmp_path: Path, *rows: str) -> Consolidamento:
    return consolidate(ritorni, tmp_path / "m.xlsx", piano=piano, rettifiche=_csv(tmp_path / "rettifiche.csv", *rows))


def _table(path: Path, name: str, *, formulas: bool = False) -> list[dict[str, object]]:
    sheet = {s.name: s for s in (INDICATORI, OBIETTIVI, RETTIFICHE, RIEPILOGO)}[name]
    ws = openpyxl.load_workbook(path, data_only=not formulas)[name]
    out = []
    for row in ws.iter_rows(min_row=sheet.first_row + 1, values_only=True):
        if row[0] in (None, "Totale"):
            break
        out.append(dict(zip(sheet.keys, row, strict=False)))
    return out


def test_corrections_applied_shown_and_counted(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    result = _consolidate(ritorni, piano, tmp_path, *GOOD)
    assert not [a for a in result.anomalie if a.codice.startswith("rettifica")]
    assert [x.tipo for x in result.rettifiche] == ["valore", "percentuale", "esclusione"]
    assert result.to_json()["rettifiche"][1] == {
        "area": AG, "obiettivo": "Ob_Obiet1302", "indicatore": "", "tipo": "percentuale", "valore": 80.0,
        "motivo": "Normativa regionale cambiata", "deciso_da": "Segretario generale", "data": "2021-10-06",
    }  # fmt: skip
    master = tmp_path / "m.xlsx"
    rows = _table(master, "Rettifiche")
    assert [(r["area"], r["obiettivo"], r["indicatore"], r["tipo"]) for r in rows] == [
        (LP, "Ob_Obiet1202", "Ob_Obiet120202", "valore"),
        (AG, "Ob_Obiet1302", None, "percentuale"),
        (SP, "Ob_Obiet0919", None, "esclusione"),
    ]
    assert [r["rettificato"] for r in rows] == [9.5, 0.8, "esclusa dalla valutazione"]
    assert rows[0]["motivo"] == "Giorni festivi esclusi (verbale 3)"
    assert [r["deciso_da"] for r in rows] == ["Controllo di gestione", "Segretario generale", "OIV"]
    # The original: the value the area sent and the % computed before the correction.
    area = {a.nome: a for a in result.aree}
    giorni = next(i for o in area[LP].obiettivi for i in o.indicatori if i.codice == "Ob_Obiet120202")
    assert rows[0]["originale"] == scoring.read_value(giorni, INTERMEDIA)
    carte = next(o for o in area[AG].obiettivi if o.codice == "Ob_Obiet1302")
    computed = scoring.computed_objective_pct(carte, INTERMEDIA, result.regole)
    assert rows[1]["originale"] == ("" if computed is None else pytest.approx(computed))
    # The formulas take the corrected figure from «Rettifiche».
    indicatori = {r["codice"]: r for r in _table(master, "Indicatori", formulas=True)}
    assert "Rettifiche!F2" in str(indicatori["Ob_Obiet120202"]["pct"])
    obiettivi = {r["codice"]: r for r in _table(master, "Obiettivi", formulas=True)}
    assert obiettivi["Ob_Obiet1302"]["pct"] == '=IF(ISNUMBER(Rettifiche!F3),Rettifiche!F3,"")'
    cached = {r["codice"]: r for r in _table(master, "Obiettivi")}
    assert cached["Ob_Obiet1302"]["pct"] == 0.8 and cached["Ob_Obiet0919"]["pct"] in ("", None)
    # The scoring reference counts them the same way: an excluded objective is out of the area's mean.
    without = area[SP].model_copy(deep=True)
    without.obiettivi = [o for o in without.obiettivi if o.codice != "Ob_Obiet0919"]
    assert scoring.area_pct(area[SP], INTERMEDIA, result.regole) == scoring.area_pct(without, INTERMEDIA, result.regole)
    page = [str(c.value) for row in openpyxl.load_workbook(master)["Pagine per area"].iter_rows() for c in row]
    assert any(t.endswith("[% rettificata dall'ufficio: vedi «Rettifiche»]") for t in page)
    assert any(t.endswith("[esclusa dalla valutazione: vedi «Rettifiche»]") for t in page)
    riepilogo = {r["area"]: r for r in _table(master, "Riepilogo")}
    assert {k: v["rettifiche"] for k, v in riepilogo.items()} == {AG: 1, LP: 1, SP: 1}
    for nome, a in area.items():
        assert riepilogo[nome]["pct"] == pytest.approx(scoring.area_pct(a, INTERMEDIA, result.regole))


def test_corrected_value_moves_the_indicator(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    row = f"{LP};Ob_Obiet1202;Ob_Obiet120202;;valore;45;Ricalcolo;Controllo di gestione;05/10/2021"
    result = _consolidate(ritorni, piano, tmp_path, row)
    indicatori = {r["codice"]: r for r in _table(tmp_path / "m.xlsx", "Indicatori")}
    # Decrescente with a threshold of 30 days (esempi/regole_indicatori.toml): 45 days is 0%.
    assert indicatori["Ob_Obiet120202"]["pct"] == 0
    giorni = next(i for a in result.aree for o in a.obiettivi for i in o.indicatori if i.codice == "Ob_Obiet120202")
    assert giorni.valore_rettificato == 45 and scoring.indicator_pct(giorni, INTERMEDIA, result.regole) == 0


def test_corrections_read_numbers_as_the_returns_do(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    # «1.500» is fifteen hundred in Italian, as in a scheda's cell: never one and a half.
    row = f"{LP};Ob_Obiet1202;Ob_Obiet120202;;valore;1.500;Ricalcolo;Controllo di gestione;2021-10-05"
    result = _consolidate(ritorni, piano, tmp_path, row)
    giorni = next(i for a in result.aree for o in a.obiettivi for i in o.indicatori if i.codice == "Ob_Obiet120202")
    assert giorni.valore_rettificato == 1500
    assert [x.data for x in result.rettifiche] == [date(2021, 10, 5)]


BAD = [
    (f"{AG};Ob_Obiet9999;;;percentuale;80;Motivo;OIV;01/10/2021", "rettifica-senza-riscontro"),
    ("Area Inesistente;Ob_Obiet1302;;;percentuale;80;Motivo;OIV;01/10/2021", "rettifica-senza-riscontro"),
    (f"{AG};Ob_Obiet1302;Ob_Obiet9;;valore;3;Motivo;OIV;01/10/2021", "rettifica-senza-riscontro"),
    (f"{AG};Ob_Obiet1302;;;percentuale;80;;OIV;01/10/2021", "rettifica-senza-motivo"),
    (f"{AG};Ob_Obiet1302;;;percentuale;80;Motivo;;01/10/2021", "rettifica-incompleta"),
    (f"{AG};Ob_Obiet1302;;;percentuale;80;Motivo;OIV;ieri", "rettifica-incompleta"),
    (f"{AG};Ob_Obiet1302;;;percentuale;80;Motivo;OIV;31/12/9999", "rettifica-incompleta"),
    (f"{AG};Ob_Obiet1302;;;aumento;80;Motivo;OIV;01/10/2021", "rettifica-non-valida"),
    (f"{AG};Ob_Obiet1302;;;percentuale;molto;Motivo;OIV;01/10/2021", "rettifica-non-valida"),
    (f"{AG};Ob_Obiet1302;;;percentuale;-5;Motivo;OIV;01/10/2021", "rettifica-non-valida"),
    (f"{AG};Ob_Obiet1302;;annuale;percentuale;80;Motivo;OIV;01/10/2021", "rettifica-non-valida"),
]


def test_bad_corrections_are_errors_and_not_applied(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    result = _consolidate(ritorni, piano, tmp_path, *(row for row, _ in BAD))
    found = [a for a in result.anomalie if a.codice.startswith("rettifica")]
    assert [a.codice for a in found] == [codice for _, codice in BAD]
    for line, a in enumerate(found, start=2):  # one finding per row, naming it
        assert a.gravita == "errore" and f"riga {line}:" in a.messaggio
        # A CSV has no sheet: the row of the file, never «Foglio «Rettifiche», cella riga N».
        assert a.foglio == "" and a.cella == f"riga {line}" and "Foglio" not in a.messaggio
    assert result.rettifiche == [] and result.exit_code == 1
    assert _table(tmp_path / "m.xlsx", "Rettifiche") == []
    assert all(v["rettifiche"] == 0 for v in _table(tmp_path / "m.xlsx", "Riepilogo"))
    anomalie = openpyxl.load_workbook(tmp_path / "m.xlsx")["Anomalie"]
    assert any(str(c.value).startswith("rettifiche.csv") for c in anomalie["F"])  # the file it was found in


@pytest.mark.slow
def test_same_item_twice_and_other_round(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    first = f"{AG};Ob_Obiet1302;;;percentuale;80;Motivo;OIV;01/10/2021"
    again = f"{AG};Ob_Obiet1302;;;esclusione;;Altro motivo;OIV;02/10/2021"
    finale = f"{SP};Ob_Obiet0919;;finale;esclusione;;Per la finale;OIV;02/10/2021"
    result = _consolidate(ritorni, piano, tmp_path, first, again, finale)
    assert [a.codice for a in result.anomalie if a.codice.startswith("rettifica")] == ["rettifica-doppia"]
    assert [(x.tipo, x.valore) for x in result.rettifiche] == [("percentuale", 0.8)]  # the first one counts


@pytest.mark.slow
def test_area_without_return_waits_with_a_warning(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    folder = tmp_path / "due"
    folder.mkdir()
    for path in ritorni.iterdir():
        if "Affari" not in path.name:
            (folder / path.name).write_bytes(path.read_bytes())
    rettifiche = _csv(tmp_path / "rettifiche.csv", GOOD[1])
    result = consolidate(folder, tmp_path / "m.xlsx", piano=piano, rettifiche=rettifiche)
    [found] = [a for a in result.anomalie if a.codice.startswith("rettifica")]
    assert found.codice == "rettifica-area-non-pervenuta" and found.gravita == "avviso"


@pytest.mark.slow
def test_file_beside_the_returns_is_found_and_never_read_as_a_scheda(
    ritorni: Path, piano: Piano, tmp_path: Path
) -> None:
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for path in ritorni.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    _csv(folder / "Rettifiche_2021.csv", *GOOD)
    result = consolidate(folder, tmp_path / "m.xlsx", piano=piano)
    assert result.file_rettifiche == folder / "Rettifiche_2021.csv" and len(result.rettifiche) == 3
    [fonte] = [f for f in result.fonti if f.file == "Rettifiche_2021.csv"]
    assert fonte.stato == "ignorato" and "rettifiche" in fonte.motivo


@pytest.mark.slow
def test_workbook_file_with_percent_cells(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Area", "Obiettivo", "Indicatore", "Rilevazione", "Tipo", "Valore", "Motivo", "Deciso da", "Data"])
    ws.append([AG, "Ob_Obiet1302", None, None, "percentuale", 0.75, "Motivo", "OIV", "06/10/2021"])
    ws["F2"].number_format = "0%"  # shown as 75%: taken as 75%
    ws.append([AG, "Ob_Obiet1301", None, None, "percentuale", 60, "Motivo", "OIV", "2021-10-06"])
    path = tmp_path / "rettifiche.xlsx"
    wb.save(path)
    result = consolidate(ritorni, tmp_path / "m.xlsx", piano=piano, rettifiche=path)
    assert [x.valore for x in result.rettifiche] == [0.75, 0.6]


def test_a_returned_scheda_cannot_create_a_correction(
    ritorni: Path, piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    # Neither a plan file nor the snapshot a scheda carries can hold one: they are not fields.
    for data in ({"_rettifica": 5}, {"rettifica": 5}, {"valore_rettificato": 5}):
        with pytest.raises(ValidationError):
            Indicatore.model_validate({"codice": "a", "descrizione": "b", **data})
    for data in ({"_esclusa": True}, {"esclusa": True}, {"pct_rettificata": 0.5}):
        with pytest.raises(ValidationError):
            Obiettivo.model_validate({"codice": "a", "titolo": "b", "peso": 1, **data})
    # A scheda saved under the corrections file's name is refused, not applied.
    scheda = tmp_path / "rettifiche.xlsx"
    scheda.write_bytes(schede_intermedia[0].path.read_bytes())
    with pytest.raises(SeregnoError, match="è una scheda restituita"):
        read_rettifiche(scheda)


@pytest.mark.slow
def test_cli_option_and_unreadable_file(ritorni: Path, tmp_path: Path) -> None:
    missing_columns = tmp_path / "rettifiche.csv"
    missing_columns.write_text("area;obiettivo;motivo\nx;y;z\n", encoding="utf-8")
    result = run("consolida", ritorni, "-o", tmp_path / "m.xlsx", "--rettifiche", missing_columns)
    assert result.returncode == 2 and "mancano le colonne" in result.stderr and "deciso_da" in result.stderr
    assert not (tmp_path / "m.xlsx").exists()
    good = _csv(tmp_path / "buone.csv", *GOOD)
    plan = ROOT / "esempi" / "piano_2021.json"
    result = run("consolida", ritorni, "-o", tmp_path / "m.xlsx", "--rettifiche", good, "--piano", plan)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rettifiche:" in result.stdout and "applicate 3" in result.stdout


def test_no_corrections_file_is_said(ritorni: Path, tmp_path: Path) -> None:
    result = run("consolida", ritorni, "-o", tmp_path / "m.xlsx")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rettifiche: nessun file delle rettifiche trovato accanto alle schede" in " ".join(result.stdout.split())
    # What the figures rest on is said before the findings; the master's line closes the summary.
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("Rilevazione:", "Rettifiche:", "Anomalie", "Master:"))
    ]
    assert [line.split(":")[0].split()[0] for line in lines] == ["Rilevazione", "Rettifiche", "Anomalie", "Master"]


def test_messages_name_the_file_as_it_is_and_suggest_the_name_meant(
    ritorni: Path, piano: Piano, tmp_path: Path
) -> None:
    rows = [
        f"{AG};Ob_Obiet1302;;;percentuale;80;Normativa regionale cambiata;Segretario generale;7/10/21",
        f"{SP};Ob_Obiet0919;;;esclusione;;Bando annullato;OIV;31/13/21",
        "Area Afari Generali;Ob_Obiet1301;;;percentuale;60;Motivo;OIV;07/10/2021",
        f"{AG};Ob_Obiet13O1;;;percentuale;60;Motivo;OIV;07/10/2021",
    ]
    path = _csv(tmp_path / "review-rett.csv", *rows)
    result = consolidate(ritorni, tmp_path / "m.xlsx", piano=piano, rettifiche=path)
    # «7/10/21» is a date (d/m/yy); a date that is none is said to be invalid, with what was written.
    assert [(x.obiettivo.codice, x.data) for x in result.rettifiche] == [("Ob_Obiet1302", date(2021, 10, 7))]
    found = [a for a in result.anomalie if a.codice.startswith("rettifica")]
    assert [a.cella for a in found] == ["riga 3", "riga 4", "riga 5"]
    assert all("Nel file «review-rett.csv», riga" in a.messaggio for a in found)
    assert "data non valida «31/13/21»" in found[0].messaggio and "manca" not in found[0].messaggio
    assert f"forse intendevi «{AG}»" in found[1].messaggio
    assert "forse intendevi «Ob_Obiet1301»" in found[2].messaggio
    # --json gives a «percentuale» in the file's unit: points (80 = 80%).
    assert result.to_json()["rettifiche"][0]["valore"] == 80.0  # type: ignore[index]
