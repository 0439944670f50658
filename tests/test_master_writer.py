"""The master workbook: live formulas, their cached values, and LibreOffice's recalculation."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from seregno_xlsx.errors import OutputError
from seregno_xlsx.findings import finding
from seregno_xlsx.master.layout import (
    ANOMALIE as ANOMALIE_SHEET,
)
from seregno_xlsx.master.layout import (
    ASSEGNAZIONI,
    COUNTS,
    FASI,
    INDICATORI,
    OBIETTIVI,
    PERSONALE,
    RIEPILOGO,
    SHEET_ORDER,
    Kind,
    Sheet,
)
from seregno_xlsx.master.scoring import (
    MissingValue,
    Regole,
    area_pct,
    assignment_weights,
    counts,
    indicator_pct,
    objective_pct,
    person_pct,
    total_pct,
)
from seregno_xlsx.master.writer import MAX_CELL_TEXT, TRUNCATED, Fonte, SintesiMaster, stato, write_master
from seregno_xlsx.piano.assegnazioni import assignments, effective_shares, year_fraction
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione

FINALE, INTERMEDIA = Rilevazione.FINALE, Rilevazione.INTERMEDIA
RIF = date(2021, 12, 31)
INJECTION = '=HYPERLINK("http://x")'
SHEETS = list(SHEET_ORDER)
TABLES = [s for s in SHEETS if s != "Pagine per area"]
# Everything Excel 2010 and LibreOffice both compute the same way; nothing else may appear.
ALLOWED_FUNCTIONS = {
    "IF",
    "OR",
    "MIN",
    "MAX",
    "SUM",
    "COUNT",
    "SUMPRODUCT",
    "ISTEXT",
    "ISNUMBER",
    "ABS",
    "ROUND",
    "DATE",
}
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


def write(
    path: Path, plan: Piano, rilevazione: Rilevazione = FINALE, regole: Regole | None = None, processi: int = 1
) -> SintesiMaster:
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
        processi=processi,
    )


def rows(ws: Worksheet, sheet: Sheet | None = None) -> Iterator[tuple[int, dict[str, object]]]:
    """Data rows of the sheet's table by column key (1-based row), stopping at the first empty row."""
    sheet = sheet or next(s for s in (RIEPILOGO, OBIETTIVI, INDICATORI, FASI, PERSONALE, ASSEGNAZIONI, ANOMALIE_SHEET)
                          if s.name == ws.title)  # fmt: skip
    for r in range(sheet.first_row + 1, ws.max_row + 1):
        values = {key: ws.cell(r, i + 1).value for i, key in enumerate(sheet.keys)}
        if values[sheet.keys[0]] is None:
            return
        yield r, values


def ref(sheet: Sheet, key: str, row: int) -> tuple[str, str]:
    """(sheet, A1) of the column ``key`` on the 1-based ``row``."""
    return sheet.name, f"{sheet.letter(key)}{row}"


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
        assert [values["area"], values["codice_obiettivo"], values["codice"]] == [area, codice_ob, ind.codice]
        out[ref(INDICATORI, "pct", r)] = indicator_pct(ind, ril, regole)
    for r, values in rows(wb["Obiettivi"]):
        out[ref(OBIETTIVI, "pct", r)] = objective_pct(
            objectives[str(values["area"]), str(values["codice"])], ril, regole
        )
    phases = iter(f for a in aree for o in a.obiettivi for f in o.fasi)
    for r, _ in rows(wb["Fasi"]):
        out[ref(FASI, "stato", r)] = stato(next(phases), RIF)
    for r, values in rows(wb["Personale"]):
        out[ref(PERSONALE, "pct", r)] = person_pct(aree, str(values["matricola"]), ril, regole, anno=plan.anno)
    people, seen = assignments(aree), Counter[str]()
    for r, values in rows(wb["Assegnazioni"]):
        ob = objectives[str(values["area"]), str(values["codice_obiettivo"])]
        out[ref(ASSEGNAZIONI, "pct", r)] = objective_pct(ob, ril, regole)
        matricola = str(values["matricola"])
        mine, k = people[matricola], seen[matricola]
        seen[matricola] += 1
        assert mine[k].obiettivo is ob
        out[ref(ASSEGNAZIONI, "quota_usata", r)] = effective_shares(mine)[k]
        out[ref(ASSEGNAZIONI, "tempo", r)] = year_fraction(mine[k].persona, plan.anno)
        out[ref(ASSEGNAZIONI, "peso", r)] = assignment_weights(mine, plan.anno, regole)[k]
    by_area = {a.nome: a for a in aree}
    for r, values in rows(wb["Riepilogo"]):
        if values["area"] == "Totale":
            out[ref(RIEPILOGO, "pct", r)] = total_pct(aree, ril, regole)
        elif values["stato"] == "pervenuta":
            area = by_area[str(values["area"])]
            out[ref(RIEPILOGO, "pct", r)] = area_pct(area, ril, regole)
            for count in COUNTS:
                out[ref(RIEPILOGO, count.key, r)] = getattr(counts(area, ril, RIF), count.key)
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
        elif isinstance(want, str):
            assert got == want, (key, got, want)
        else:
            assert isinstance(got, int | float), (key, got)
            assert abs(got - float(want)) <= 1e-9, (key, got, want)


@pytest.fixture
def master(tmp_path: Path) -> Path:
    path = tmp_path / "master.xlsx"
    write(path, piano())
    return path


def test_temporary_files_go_beside_the_master_never_to_the_system_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written row by row, the master's rows (personal data) pass through temporary files: beside the output,
    removed when it is done; a system temp folder that is missing (or full, or shared) plays no part."""
    missing = tmp_path / "tmp-di-sistema-che-non-esiste"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))  # what TMPDIR names, as tempfile has taken it
    folder = tmp_path / "uscita"
    folder.mkdir()
    summary = write(folder / "master.xlsx", piano())
    assert summary.righe[INDICATORI.name] > 0
    assert [p.name for p in folder.iterdir()] == ["master.xlsx"]
    assert not missing.exists()


# -- (a) formulas ------------------------------------------------------------


def test_every_pct_cell_is_a_formula_with_allowed_functions(master: Path) -> None:
    formulas = formula_cells(master)
    expected = expected_from_scoring(master, piano(), FINALE, Regole())
    # indicators, objectives, phase states, people, assignments (4 formulas each), areas (% and 7 counts) + total
    assert len(expected) == 8 + 5 + 4 + 3 + 4 * 7 + 2 * 8 + 1
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
    assert formulas["Indicatori", "L2"] == '=IF(OR(H2="",H2=0),"",IF(COUNT(J2)=0,0,MIN(1,MAX(0,J2/H2))))'
    # The final round beside the intermediate one: the change, and the % the 1° rilevazione scored.
    assert formulas["Indicatori", "K2"] == '=IF(OR(COUNT(I2)=0,COUNT(J2)=0),"",J2-I2)'
    assert formulas["Indicatori", "N2"] == '=IF(OR(H2="",H2=0),"",IF(COUNT(I2)=0,"",MIN(1,MAX(0,I2/H2))))'
    assert "Indicatori!$N$2:$N$9" in formulas["Obiettivi", "G2"]
    assert "Indicatori!$L$2:$L$9" in formulas["Obiettivi", "F2"]
    assert formulas["Assegnazioni", "L2"].startswith("=IF(Obiettivi!F")
    # Weight = stars × share / 100 × time in the year; an empty share splits what the given ones leave.
    assert formulas["Assegnazioni", "K2"] == "=E2*G2/100*J2"
    assert formulas["Assegnazioni", "G2"] == (
        "=IF(ISNUMBER(F2),F2,MAX(0,100-SUMPRODUCT((Assegnazioni!$A$2:$A$8=A2)*1,Assegnazioni!$F$2:$F$8))"
        "/SUMPRODUCT((Assegnazioni!$A$2:$A$8=A2)*(1-ISNUMBER(Assegnazioni!$F$2:$F$8))))"
    )
    assert "Assegnazioni!$L$2:$L$8" in formulas["Personale", "G2"]
    assert "Obiettivi!$F$2:$F$6" in formulas["Riepilogo", "H7"]
    # The counts are formulas over the detail sheets; the overdue phases depend on the reference date.
    assert formulas["Riepilogo", "C7"] == "=SUMPRODUCT((Obiettivi!$A$2:$A$6=A7)*1)"
    assert formulas["Riepilogo", "F7"] == (
        '=SUMPRODUCT((Fasi!$A$2:$A$5=A7)*(Fasi!$H$2:$H$5="")*(Fasi!$F$2:$F$5<>"")*(Fasi!$F$2:$F$5<Riepilogo!$B$3))'
    )
    assert formulas["Fasi", "I2"].startswith('=IF(H2<>"",')


def test_layout_names_columns_by_key() -> None:
    """Headers hold their longest word (no header cut mid-word) and each sheet fits an A4 page's width."""
    from seregno_xlsx.master.layout import TABLES
    from seregno_xlsx.scheda.fit import text_width

    for sheet in TABLES:
        assert len(set(sheet.keys)) == len(sheet.keys), sheet.name
        assert sum(c.width for c in sheet.columns) <= 175, sheet.name
        for column in sheet.columns:
            longest = max(text_width(word, bold=True) for word in column.header.split())
            assert longest <= column.width * 0.92, (sheet.name, column.header)
    assert INDICATORI.range("pct", 3) == "Indicatori!$L$2:$L$4"
    assert RIEPILOGO.cell("pct", 6) == "H7"


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
    row = next(r for r, values in rows(ws) if values["codice"] == codice)
    return f"{INDICATORI.letter('valore_raggiunto')}{row}"


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
    indicatori_xml = f"xl/worksheets/sheet{SHEETS.index('Indicatori') + 1}.xml"  # numbered in creation order

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
    for key in [("Obiettivi", "F5"), ("Personale", "G3"), ("Riepilogo", "H8"), ("Riepilogo", "H9")]:
        assert expected[key] is not None, key
        assert before[key] != pytest.approx(expected[key]), key


# -- (e, f) text stays text ----------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    cells = [
        (OBIETTIVI, "titolo", INJECTION),  # titolo of Ob_SP03
        (OBIETTIVI, "note", "@SUM(1)"),  # note of Ob_SP03
        (FASI, "monitoraggio", INJECTION),  # monitoraggio of Ob_LP0101
        (FASI, "monitoraggio", "+cmd|' /C calc'!A0"),
    ]
    for sheet, key, text in cells:
        col = sheet.index(key) + 1
        matches = [c for row in wb[sheet.name].iter_rows() for c in row if c.column == col and c.value == text]
        assert matches, (sheet, text)
        assert all(c.data_type == "s" for c in matches)
    message = wb["Anomalie"][f"{ANOMALIE_SHEET.letter('messaggio')}5"]
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
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9
        setup = ws.sheet_properties.pageSetUpPr
        assert setup is not None
        assert setup.fitToPage  # one page wide: fitToWidth 1 is the default, so not written
        assert ws.page_setup.fitToHeight == 0
        assert ws.oddFooter is not None
        assert ws.oddFooter.center.text == "Pagina &P di &N"
        assert ws.oddHeader is not None
        assert "Piano degli obiettivi 2021" in str(ws.oddHeader.left.text)
        assert "data di riferimento 31/12/2021" in str(ws.oddHeader.right.text)
        if ws.title not in TABLES:
            continue
        header = 6 if ws.title == "Riepilogo" else 1
        # Each table: a filter over its header and data rows, a bold shaded header, odd data rows banded
        # (plain cells written row by row, not an Excel table: the master is written in constant memory).
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(f"A{header}:"), ws.title
        last = int("".join(ch for ch in ws.auto_filter.ref.split(":")[1] if ch.isdigit()))
        assert last >= header + 1
        if ws.title == "Riepilogo":  # two areas; the total row below, bold, outside the filter
            assert last == header + 2 and ws.cell(last + 1, 1).value == "Totale" and ws.cell(last + 1, 1).font.b
        assert ws.cell(header, 1).font.b and ws.cell(header, 1).fill.fgColor.rgb.endswith("D9E1F2")
        if ws.cell(header + 1, 1).value is not None:
            assert ws.cell(header + 1, 1).fill.fgColor.rgb.endswith("EEF3FA"), ws.title
        if ws.cell(header + 2, 1).value is not None:
            assert ws.cell(header + 2, 1).fill.fill_type is None, ws.title
        assert ws.freeze_panes == f"A{header + 1}"
        assert ws.print_title_rows == f"${header}:${header}"
    assert wb["Indicatori"][f"{INDICATORI.letter('pct')}2"].number_format == "0.00%"
    assert wb["Fasi"]["F2"].number_format == "dd/mm/yyyy"
    assert wb["Fonti"]["G2"].value == datetime(2022, 1, 10, 9, 30)
    with zipfile.ZipFile(master) as z:
        assert "xl/charts/chart1.xml" in z.namelist()
        anchor = re.search(
            r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>",
            z.read("xl/drawings/drawing1.xml").decode(),
        )
    # The chart sits below the table and its notes, never beside: the page prints as wide as the table.
    riepilogo = wb["Riepilogo"]
    last_note = max(c.row for row in riepilogo.iter_rows() for c in row if c.value not in (None, ""))
    assert anchor is not None and anchor[1] == "0" and int(anchor[2]) + 1 > last_note


def test_wrapped_rows_are_tall_enough(master: Path) -> None:
    """A text longer than its column grows its row: nothing prints over the next row."""
    plan = piano()
    plan.aree[0].obiettivi[0].note = "una nota lunga " * 20
    path = master.with_name("alta.xlsx")
    write(path, plan)
    ws = openpyxl.load_workbook(path)["Obiettivi"]
    assert (ws.row_dimensions[2].height or 0) >= 15 * 8  # 300 characters in a column 34 wide
    assert ws.row_dimensions[3].height is None  # one line: the default height
    assert ws.cell(2, OBIETTIVI.index("note") + 1).alignment.wrap_text


def test_riepilogo_counts_rules_and_reconciliation(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    summary = write(path, piano())
    ws = openpyxl.load_workbook(path, data_only=True)["Riepilogo"]
    assert ws["A1"].value == "Città di Seregno – Piano degli obiettivi 2021"
    assert ws["B2"].value == "finale"
    assert ws["B3"].value == datetime(2021, 12, 31)  # data di riferimento
    assert ws["B4"].value == "2 aree di 2, 5 obiettivi"
    assert [c.value for c in ws[7]][:7] == ["Servizi alla Persona", "pervenuta", 3, 2, 1, 1, 1]
    assert [c.value for c in ws[8]][:7] == ["Lavori Pubblici", "pervenuta", 2, 0, 0, 1, 0]
    assert [c.value for c in ws[9]][:7] == ["Totale", "2 di 2 aree", 5, 2, 1, 2, 1]
    formulas = openpyxl.load_workbook(path)["Riepilogo"]
    assert [c.value for c in formulas[9]][2:4] == ["=SUM(C7:C8)", "=SUM(D7:D8)"]
    texts = [str(c.value) for c in ws["B"] if c.value is not None]
    assert any("Valore mancante, rilevazione finale: conta come 0%" in t for t in texts)
    assert any("verde da 90% in su, giallo da 60%" in t for t in texts)  # modelli/master.toml
    # Compiled values in the master: 1 objective end and 1 note, 2 phase ends and 3 monitoring notes,
    # 7 indicator values of the round.
    assert summary.valori_scritti == 14
    assert summary.riconciliazione in texts
    assert summary.riconciliazione == "valori letti 14, scritti 14"
    assert summary.righe == {"Obiettivi": 5, "Indicatori": 8, "Fasi": 4, "Personale": 3, "Assegnazioni": 7,
                             "Anomalie": 4, "Fonti": 2, "Riepilogo": 2, "Pagine per area": 2,
                             "Rettifiche": 0}  # fmt: skip


def test_area_without_a_return_stays_in_the_riepilogo(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    plan = piano()
    write_master(path, ente=plan.ente, anno=plan.anno, aree=plan.aree, rilevazione=FINALE, regole=Regole(),
                 anomalie=ANOMALIE, fonti=FONTI, data_riferimento=RIF, valori_letti=14,
                 aree_mancanti=["Affari Generali"])  # fmt: skip
    ws = openpyxl.load_workbook(path, data_only=True)["Riepilogo"]
    assert [c.value for c in ws[9]][:8] == ["Affari Generali", "non pervenuta", *[None] * 6]
    assert [c.value for c in ws[10]][:2] == ["Totale", "2 di 3 aree"]
    assert ws["B4"].value == "2 aree di 3, 5 obiettivi; non pervenute: 1"


def test_area_pages(master: Path) -> None:
    """One page per area: its summary, objectives with stars and %, late and overdue phases, findings."""
    ws = openpyxl.load_workbook(master)["Pagine per area"]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert texts.index("Servizi alla Persona") < texts.index("Lavori Pubblici")
    assert "★★★★★" in texts  # Ob_SP01, 5 stars
    assert any("Conclusa il 15/07/2021" in t for t in texts)  # its finding
    assert "scaduta" in texts and "in ritardo" in texts
    assert [b.id for b in ws.row_breaks.brk] == [texts and next(
        r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Lavori Pubblici") - 1]  # fmt: skip
    pct = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "Obiettivi!F" in c.value]
    assert len(pct) == 5  # each objective's % is the live one of «Obiettivi»


def test_anomalie_link_to_their_row_and_name_the_file(tmp_path: Path) -> None:
    extra = finding("numero-non-valido", "x", area="Servizi alla Persona", obiettivo="Ob_SP01", fase="Ob_SP0102",
                    foglio="Indicatori", cella="G6")  # fmt: skip
    path = tmp_path / "master.xlsx"
    plan = piano()
    write_master(path, ente=plan.ente, anno=plan.anno, aree=plan.aree, rilevazione=FINALE, regole=Regole(),
                 anomalie=[*ANOMALIE, extra], fonti=FONTI, data_riferimento=RIF, valori_letti=14)  # fmt: skip
    ws = openpyxl.load_workbook(path)["Anomalie"]
    col = ANOMALIE_SHEET.index("vai_a") + 1
    links = [ws.cell(r, col).hyperlink for r in range(2, 7)]
    locations = [link.location if link is not None else None for link in links]
    # A phase finding goes to Fasi, an indicator finding to Indicatori, an objective's to Obiettivi.
    assert locations == ["'Fasi'!A2", "'Obiettivi'!A5", "'Riepilogo'!A8", None, "'Indicatori'!A3"]
    assert ws.cell(2, ANOMALIE_SHEET.index("dove") + 1).value == "servizi.xlsx › Fasi › F3"


def test_long_text_is_truncated_with_marker(tmp_path: Path) -> None:
    plan = piano()
    plan.aree[0].obiettivi[0].note = "x" * (MAX_CELL_TEXT + 10)
    path = tmp_path / "master.xlsx"
    summary = write(path, plan)
    note = openpyxl.load_workbook(path)["Obiettivi"][f"{OBIETTIVI.letter('note')}2"].value
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


def test_counts_are_centred_never_against_the_next_columns_text(tmp_path: Path) -> None:
    """A right-aligned count touched the name beside it («1Bonfanti Carla» in Riepilogo): LibreOffice
    ignores a right indent, so counts are centred."""
    write(tmp_path / "m.xlsx", piano())
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx")[RIEPILOGO.name]
    counts = [c for c in RIEPILOGO.columns if c.kind is Kind.NUM]
    assert any(c.key == "rettifiche" for c in counts)
    for r, _ in rows(ws):
        for column in counts:
            cell = ws[f"{RIEPILOGO.letter(column.key)}{r}"]
            assert cell.alignment.horizontal == "center", (column.key, r)


@given(st.lists(st.integers(0, 0x10FFFF), max_size=12).map(lambda points: "".join(map(chr, points))))
@settings(max_examples=300, deadline=None)
def test_printable_holds_any_text(text: str) -> None:
    """Every text can be written: a lone surrogate (a plan's JSON «\\ud800») too; a text with none is kept."""
    from seregno_xlsx.findings import printable

    shown = printable(text)
    shown.encode("utf-8")  # never raises
    if not any("\ud800" <= c <= "\udfff" for c in text):
        assert shown == text


def test_a_name_with_a_lone_surrogate_is_written(tmp_path: Path) -> None:
    """A plan's JSON may hold «\\ud800» in a name: the master shows U+FFFD there, never «Errore interno»."""
    plan = piano()
    area = plan.aree[0]
    ob = area.obiettivi[0]
    odd = ob.risorse_umane[0].model_copy(update={"nome": "Rossi \ud800 Mario"})
    ob = ob.model_copy(update={"risorse_umane": [odd, *ob.risorse_umane[1:]]})
    area = area.model_copy(update={"obiettivi": [ob, *area.obiettivi[1:]]})
    write(tmp_path / "m.xlsx", plan.model_copy(update={"aree": [area, *plan.aree[1:]]}))
    names = {row["nome"] for _, row in rows(openpyxl.load_workbook(tmp_path / "m.xlsx")["Personale"], PERSONALE)}
    assert "Rossi \ufffd Mario" in names
