"""The master workbook: live formulas, their cached values, and LibreOffice's recalculation."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from seregno_xlsx.errors import OutputError
from seregno_xlsx.findings import finding
from seregno_xlsx.master.scoring import (
    MissingValue,
    Regole,
    area_pct,
    indicator_pct,
    objective_pct,
    person_pct,
    total_pct,
)
from seregno_xlsx.master.writer import MAX_CELL_TEXT, TRUNCATED, Fonte, MasterSummary, write_master
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione

FINALE, INTERMEDIA = Rilevazione.FINALE, Rilevazione.INTERMEDIA
RIF = date(2021, 12, 31)
INJECTION = '=HYPERLINK("http://x")'
SHEETS = ["Riepilogo", "Obiettivi", "Indicatori", "Fasi", "Personale", "Assegnazioni", "Anomalie", "Fonti"]
# Everything Excel 2010 and LibreOffice both compute the same way; nothing else may appear.
ALLOWED_FUNCTIONS = {"IF", "OR", "MIN", "MAX", "SUM", "COUNT", "SUMPRODUCT"}
Value = float | str | None
Cells = dict[tuple[str, str], Value]


def _ind(codice: str, target: float | None, prima: float | None, finale: float | None, **kw: object) -> Indicatore:
    return Indicatore.model_validate(
        {"codice": codice, "descrizione": f"Indicatore {codice}", "valore_target": target,
         "prima_rilevazione": prima, "valore_raggiunto": finale, **kw}
    )  # fmt: skip


def _fase(codice: str, fine_prev: date, fine_eff: date | None = None, monitoraggio: str = "") -> Fase:
    return Fase(
        codice=codice,
        descrizione=f"Fase {codice}",
        data_fine_prevista=fine_prev,
        data_fine_effettiva=fine_eff,
        monitoraggio=monitoraggio,
    )


ROSSI = Persona(categoria="D1", matricola="00002311", nome="Rossi Maria")
BIANCHI = Persona(categoria="C1", matricola="00004417", nome="Bianchi Luca")
VERDI = Persona(categoria="B3", matricola="2311", nome="Verdi Ada")  # same digits as Rossi, another person


def piano(lp011_finale: float = 50) -> Piano:
    si_no = "Rispetto delle previsioni (SI=100)"
    servizi = Area(
        nome="Servizi alla Persona",
        obiettivi=[
            Obiettivo(
                codice="Ob_SP01",
                titolo="Sportello unico",
                peso=5,
                fasi=[
                    _fase("Ob_SP0101", date(2021, 6, 30), date(2021, 7, 15), "Concluso con ritardo"),
                    _fase("Ob_SP0102", date(2021, 9, 30)),
                ],
                indicatori=[
                    _ind("Ob_SP0101", 10, 4, 8),
                    _ind("Ob_SP0102", 100, None, 100, descrizione=si_no),
                ],
                risorse_umane=[ROSSI, BIANCHI],
            ),
            Obiettivo(
                codice="Ob_SP02",
                titolo="Indicatori pesati",
                peso=2,
                fasi=[_fase("Ob_SP0201", date(2021, 12, 31), date(2021, 12, 1), "+cmd|' /C calc'!A0")],
                indicatori=[
                    _ind("Ob_SP0201", 5, 7, 10, peso=3),  # capped at 100% unless the cap is lifted
                    _ind("Ob_SP0202", 20, 5, None, peso=1),  # missing at year end: 0% or excluded
                ],
                risorse_umane=[BIANCHI, VERDI],
            ),
            Obiettivo(
                codice="Ob_SP03",
                titolo=INJECTION,
                peso=3,
                note="@SUM(1)",
                indicatori=[_ind("Ob_SP0301", None, 3, 3)],  # no target: objective excluded
                risorse_umane=[VERDI],
            ),
        ],
    )
    lavori = Area(
        nome="Lavori Pubblici",
        obiettivi=[
            Obiettivo(
                codice="Ob_LP01",
                titolo="Manutenzione strade",
                peso=4,
                fasi=[_fase("Ob_LP0101", date(2021, 10, 31), monitoraggio=INJECTION)],
                indicatori=[_ind("Ob_LP0101", 100, 20, lp011_finale), _ind("Ob_LP0102", 0, 1, 1)],
                risorse_umane=[ROSSI],
            ),
            Obiettivo(
                codice="Ob_LP02",
                titolo="Nessun indicatore con valore",
                peso=1,
                data_fine_effettiva=date(2021, 11, 30),
                indicatori=[_ind("Ob_LP0201", 3, None, 0)],
                risorse_umane=[ROSSI],
            ),
        ],
    )
    return Piano(ente="Città di Seregno", anno=2021, aree=[servizi, lavori])


ANOMALIE = [
    finding("fase-in-ritardo", "conclusa il 15/07/2021", area="Servizi alla Persona", obiettivo="Ob_SP01",
            fase="Ob_SP0101", foglio="Fasi", cella="F3"),
    finding("fase-senza-indicatore", "nessun indicatore", area="Lavori Pubblici", obiettivo="Ob_LP01",
            fase="Ob_XX9999"),
    finding("area-senza-risposta", "manca la scheda", area="Lavori Pubblici"),
    finding("file-illeggibile", INJECTION),
]  # fmt: skip
FONTI = [
    Fonte(
        "servizi.xlsx",
        "Servizi alla Persona",
        "finale",
        "1",
        "ab" * 32,
        datetime(2022, 1, 10, 9, 30),
        "accettato",
    ),
    Fonte("vecchio.xlsx", "Servizi alla Persona", "finale", "1", "cd" * 32, None, "sostituito", "più recente"),
]


def write(path: Path, plan: Piano, rilevazione: Rilevazione = FINALE, regole: Regole | None = None) -> MasterSummary:
    return write_master(
        path,
        ente=plan.ente,
        anno=plan.anno,
        aree=plan.aree,
        rilevazione=rilevazione,
        regole=regole or Regole(),
        anomalie=ANOMALIE,
        fonti=FONTI,
        data_riferimento=RIF,
        valori_letti=14,
    )


def rows(ws: Worksheet) -> Iterator[tuple[int, list[object]]]:
    """Data rows of the sheet's table (header in row 1), stopping at the first empty row."""
    for r in range(2, ws.max_row + 1):
        values: list[object] = [c.value for c in ws[r]]
        if values[0] is None:
            return
        yield r, values


def expected_from_scoring(path: Path, plan: Piano, ril: Rilevazione, regole: Regole) -> Cells:
    """Every % cell of the master, with the value scoring.py gives for its row."""
    wb = openpyxl.load_workbook(path, read_only=False)
    aree = plan.aree
    objectives = {(a.nome, o.codice): o for a in aree for o in a.obiettivi}
    indicators = [(a.nome, o.codice, i) for a in aree for o in a.obiettivi for i in o.indicatori]
    out: Cells = {}
    ind_rows = list(rows(wb["Indicatori"]))
    assert len(ind_rows) == len(indicators)
    for (r, values), (area, codice_ob, ind) in zip(ind_rows, indicators, strict=True):
        assert values[:3] == [area, codice_ob, ind.codice]
        out["Indicatori", f"K{r}"] = indicator_pct(ind, ril, regole)
    for r, values in rows(wb["Obiettivi"]):
        out["Obiettivi", f"F{r}"] = objective_pct(objectives[str(values[0]), str(values[1])], ril, regole)
    for r, values in rows(wb["Personale"]):
        out["Personale", f"G{r}"] = person_pct(aree, str(values[0]), ril, regole)
    for r, values in rows(wb["Assegnazioni"]):
        out["Assegnazioni", f"F{r}"] = objective_pct(objectives[str(values[2]), str(values[3])], ril, regole)
    by_area = {a.nome: a for a in aree}
    for r, values in rows(wb["Riepilogo"]):
        if values[0] == "Totale":
            out["Riepilogo", f"G{r}"] = total_pct(aree, ril, regole)
        else:
            out["Riepilogo", f"G{r}"] = area_pct(by_area[str(values[0])], ril, regole)
    return out


def formula_cells(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, cell.coordinate): str(cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }


def cached_values(path: Path) -> Cells:
    wb = openpyxl.load_workbook(path, data_only=True)
    out: Cells = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                out[ws.title, cell.coordinate] = None if value == "" else value  # type: ignore[assignment]
    return out


def assert_values(actual: Cells, expected: Cells) -> None:
    for key, want in expected.items():
        got = actual.get(key)
        if want is None:
            assert got is None, (key, got)
        else:
            assert isinstance(got, int | float), (key, got)
            assert abs(got - float(want)) <= 1e-9, (key, got, want)


@pytest.fixture
def master(tmp_path: Path) -> Path:
    path = tmp_path / "master.xlsx"
    write(path, piano())
    return path


# -- (a) formulas ------------------------------------------------------------


def test_every_pct_cell_is_a_formula_with_allowed_functions(master: Path) -> None:
    formulas = formula_cells(master)
    expected = expected_from_scoring(master, piano(), FINALE, Regole())
    assert len(expected) == 8 + 5 + 3 + 7 + 3  # indicators, objectives, people, assignments, areas + total
    for key in expected:
        assert key in formulas, key
    for key, formula in formulas.items():
        assert formula.startswith("="), key
        assert "_xlfn" not in formula, key  # no function newer than Excel 2010
        assert "[" not in formula, key  # no structured references
        used = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", formula))
        assert used <= ALLOWED_FUNCTIONS, (key, used - ALLOWED_FUNCTIONS)


def test_formula_examples(master: Path) -> None:
    formulas = formula_cells(master)
    assert formulas["Indicatori", "K2"] == '=IF(OR(H2="",H2=0),"",IF(COUNT(J2)=0,0,MIN(1,MAX(0,J2/H2))))'
    assert formulas["Assegnazioni", "F2"].startswith("=IF(Obiettivi!F")
    assert "Indicatori!$K$2:$K$9" in formulas["Obiettivi", "F2"]
    assert "Assegnazioni!$F$2:$F$8" in formulas["Personale", "G2"]
    assert "Obiettivi!$F$2:$F$6" in formulas["Riepilogo", "G2"]


# -- (b) cached values -------------------------------------------------------


@pytest.mark.parametrize(
    ("rilevazione", "regole"),
    [
        (FINALE, Regole()),
        (INTERMEDIA, Regole()),
        (FINALE, Regole(limite_100=False, pesi_aree="uguali", mancante_finale=MissingValue.ESCLUSO)),
        (INTERMEDIA, Regole(mancante_intermedia=MissingValue.ZERO)),
    ],
)
def test_cached_values_equal_scoring(tmp_path: Path, rilevazione: Rilevazione, regole: Regole) -> None:
    path = tmp_path / "master.xlsx"
    write(path, piano(), rilevazione, regole)
    expected = expected_from_scoring(path, piano(), rilevazione, regole)
    assert_values(cached_values(path), expected)
    # Not all empty, nor all equal: the plan exercises the rules.
    assert len(set(expected.values())) >= 4


def test_cached_values_through_pandas(master: Path) -> None:
    obiettivi = pd.read_excel(master, sheet_name="Obiettivi", dtype={"Codice": str}, engine="openpyxl")
    pcts = dict(zip(obiettivi["Codice"], obiettivi["% raggiungimento"], strict=True))
    plan, regole = piano(), Regole()
    for area in plan.aree:
        for ob in area.obiettivi:
            want = objective_pct(ob, FINALE, regole)
            got = pcts[ob.codice]
            assert pd.isna(got) if want is None else got == pytest.approx(want)


# -- (c, d) LibreOffice recalculation -------------------------------------------


def poison(source: Path, target: Path, edit: Callable[[str, str], str] | None = None) -> int:
    """Copy the file with every formula's cached value set to -999 (and optional edits per sheet XML)."""
    pattern = re.compile(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")?( t="str")?><f>(.*?)</f><v>.*?</v></c>')
    poisoned = 0
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text, n = pattern.subn(r'<c r="\1"\2><f>\4</f><v>-999</v></c>', data.decode("utf-8"))
                poisoned += n
                data = (edit(item.filename, text) if edit else text).encode("utf-8")
            zout.writestr(item, data)
    return poisoned


def recalc_with_libreoffice(files: list[Path], outdir: Path, profile: Path) -> list[Path]:
    # 0 = always recalculate xlsx on load (the default trusts the cached values).
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
        "</oor:items>\n",
        encoding="utf-8",
    )
    outdir.mkdir(parents=True, exist_ok=True)
    soffice = shutil.which("soffice")
    assert soffice is not None
    command = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    subprocess.run(
        [*command, "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, files)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    converted = [outdir / f.name for f in files]
    for path in converted:
        assert path.is_file(), path
    return converted


def _indicator_value_cell(path: Path, codice: str) -> str:
    ws = openpyxl.load_workbook(path)["Indicatori"]
    row = next(r for r, values in rows(ws) if values[2] == codice)
    return f"J{row}"


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) non installato")
def test_libreoffice_recalculation_matches_scoring(tmp_path: Path) -> None:
    variants = {
        "finale": (FINALE, Regole()),
        "intermedia": (INTERMEDIA, Regole()),
        "senza_limite": (
            FINALE,
            Regole(limite_100=False, pesi_aree="uguali", mancante_finale=MissingValue.ESCLUSO),
        ),
    }
    originals, poisoned = {}, []
    for name, (ril, regole) in variants.items():
        originals[name] = tmp_path / f"{name}.xlsx"
        write(originals[name], piano(), ril, regole)
        poisoned.append(tmp_path / "poisoned" / f"{name}.xlsx")
        poisoned[-1].parent.mkdir(exist_ok=True)
        assert poison(originals[name], poisoned[-1]) == len(formula_cells(originals[name]))

    # (d) A value corrected in Indicatori flows through Obiettivi, Assegnazioni, Personale and Riepilogo.
    cell = _indicator_value_cell(originals["finale"], "Ob_LP0101")
    indicatori_xml = "xl/worksheets/sheet3.xml"  # sheets are numbered in creation order

    def edit(name: str, xml: str) -> str:
        if name != indicatori_xml:
            return xml
        edited, n = re.subn(rf'(<c r="{cell}" s="[0-9]+"><v>)50(</v>)', r"\g<1>90\2", xml)
        assert n == 1
        return edited

    poisoned.append(tmp_path / "poisoned" / "modificato.xlsx")
    poison(originals["finale"], poisoned[-1], edit)

    converted = recalc_with_libreoffice(poisoned, tmp_path / "ricalcolati", tmp_path / "profilo")

    for (name, (ril, regole)), path in zip(variants.items(), converted, strict=False):
        original = cached_values(originals[name])
        recalculated = cached_values(path)
        # Every formula cell, helpers and totals included, equals the value written by write_master...
        assert_values(recalculated, {k: original[k] for k in formula_cells(originals[name])})
        # ...which is scoring.py's.
        assert_values(recalculated, expected_from_scoring(originals[name], piano(), ril, regole))

    changed_plan = piano(lp011_finale=90)
    expected = expected_from_scoring(originals["finale"], changed_plan, FINALE, Regole())
    recalculated = cached_values(converted[-1])
    assert_values(recalculated, expected)
    before = cached_values(originals["finale"])
    for key in [("Obiettivi", "F5"), ("Personale", "G3"), ("Riepilogo", "G3"), ("Riepilogo", "G4")]:
        assert expected[key] is not None, key
        assert before[key] != pytest.approx(expected[key]), key


# -- (e, f) text stays text ----------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    cells = {
        ("Obiettivi", 2): INJECTION,  # titolo of Ob_SP03
        ("Obiettivi", 9): "@SUM(1)",  # note of Ob_SP03
        ("Indicatori", 13): INJECTION,  # monitoraggio of Ob_LP0101
        ("Fasi", 9): "+cmd|' /C calc'!A0",
    }
    for (sheet, col), text in cells.items():
        matches = [c for row in wb[sheet].iter_rows() for c in row if c.column == col + 1 and c.value == text]
        assert matches, (sheet, text)
        assert all(c.data_type == "s" for c in matches)
    message = wb["Anomalie"]["I5"]
    assert message.data_type == "s"
    assert INJECTION in str(message.value)


def test_matricola_is_text(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    for sheet in ("Personale", "Assegnazioni"):
        matricole = [c for c in wb[sheet]["A"][1:] if c.value is not None]
        assert "00002311" in [c.value for c in matricole]
        assert "2311" in [c.value for c in matricole]
        assert all(c.data_type == "s" for c in matricole)
    personale = pd.read_excel(master, sheet_name="Personale", dtype={"Matricola": str}, engine="openpyxl")
    rossi = personale[personale["Matricola"] == "00002311"].iloc[0]
    assert rossi["Aree"] == "Servizi alla Persona; Lavori Pubblici"
    assert rossi["N. obiettivi"] == 3
    assert rossi["% raggiungimento ponderata"] == pytest.approx(person_pct(piano(), "00002311", FINALE, Regole()))


# -- structure ---------------------------------------------------------------------


def test_sheets_tables_and_page_setup(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert list(ws.tables) == [f"Tabella_{ws.title}"], ws.title
        assert ws.freeze_panes == "A2"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9
        setup = ws.sheet_properties.pageSetUpPr
        assert setup is not None
        assert setup.fitToPage  # one page wide: fitToWidth 1 is the default, so not written
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1"
        assert ws.oddFooter is not None
        assert ws.oddFooter.center.text == "Pagina &P di &N"
    assert wb["Indicatori"]["K2"].number_format == "0.00%"
    assert wb["Fasi"]["F2"].number_format == "dd/mm/yyyy"
    assert wb["Fonti"]["F2"].value == datetime(2022, 1, 10, 9, 30)
    with zipfile.ZipFile(master) as z:
        assert "xl/charts/chart1.xml" in z.namelist()


def test_riepilogo_counts_rules_and_reconciliation(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    summary = write(path, piano())
    ws = openpyxl.load_workbook(path)["Riepilogo"]
    assert [c.value for c in ws[2]][:6] == ["Servizi alla Persona", 3, 2, 1, 1, 1]
    assert [c.value for c in ws[3]][:6] == ["Lavori Pubblici", 2, 0, 0, 1, 0]
    assert [c.value for c in ws[4]][:6] == ["Totale", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)",
                                            "=SUM(E2:E3)", "=SUM(F2:F3)"]  # fmt: skip
    texts = [str(c.value) for c in ws["A"] if c.value is not None]
    assert any("Valore mancante, rilevazione finale: conta come 0%" in t for t in texts)
    assert ws["B7"].value == datetime(2021, 12, 31)  # data di riferimento
    # Compiled values in the master: 1 objective end and 1 note, 2 phase ends and 3 monitoring notes,
    # 7 indicator values of the round.
    assert summary.valori_scritti == 14
    assert ws["B8"].value == summary.riconciliazione == "valori letti 14, scritti 14"
    assert summary.righe == {"Obiettivi": 5, "Indicatori": 8, "Fasi": 4, "Personale": 3, "Assegnazioni": 7,
                             "Anomalie": 4, "Fonti": 2, "Riepilogo": 2}  # fmt: skip


def test_anomalie_link_to_their_row(master: Path) -> None:
    ws = openpyxl.load_workbook(master)["Anomalie"]
    links = [ws.cell(r, 10).hyperlink for r in range(2, 6)]
    locations = [link.location if link is not None else None for link in links]
    assert locations == ["'Indicatori'!A2", "'Obiettivi'!A5", "'Riepilogo'!A3", None]


def test_long_text_is_truncated_with_marker(tmp_path: Path) -> None:
    plan = piano()
    plan.aree[0].obiettivi[0].note = "x" * (MAX_CELL_TEXT + 10)
    path = tmp_path / "master.xlsx"
    summary = write(path, plan)
    note = openpyxl.load_workbook(path)["Obiettivi"]["J2"].value
    assert isinstance(note, str)
    assert len(note) == MAX_CELL_TEXT
    assert note.endswith(TRUNCATED)
    assert summary.testi_troncati == 1


def test_failed_write_leaves_previous_master(master: Path) -> None:
    before = master.read_bytes()
    bad = Fonte("x.xlsx", "A", "finale", "1", "", object(), "accettato")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_master(master, ente="E", anno=2021, aree=piano().aree, rilevazione=FINALE, regole=Regole(),
                     anomalie=[], fonti=[bad], data_riferimento=RIF, valori_letti=0)  # fmt: skip
    assert master.read_bytes() == before
    assert sorted(p.name for p in master.parent.iterdir()) == ["master.xlsx"]


def test_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        write(tmp_path / "manca" / "master.xlsx", piano())


def test_empty_plan_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "vuoto.xlsx"
    summary = write(path, Piano(ente="E", anno=2021, aree=[]))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    assert summary.righe["Obiettivi"] == 0
