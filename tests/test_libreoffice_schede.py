"""The area workbooks in LibreOffice: opened, typed into as staff would, saved, read back.

Everything runs in one headless soffice (``tests/libreoffice``). Typing goes through a
cell's input line (``FormulaLocal``) with an Italian profile, so LibreOffice itself turns
"31/12/2021" into a date and "80,5" into a number, as it does for the office's staff.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from seregno_xlsx.findings import Anomalia
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.layout import ANOMALIE, OBIETTIVI
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.ritorni.workbook_file import open_grid
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.scheda.layout import META_SHEET, Kind, layout
from seregno_xlsx.simulation import Entry, fill_workbook

from .libreoffice.fixtures import soffice_fixture  # noqa: F401  (the session's soffice)
from .libreoffice.office import Soffice
from .test_consolidation import STRUCTURAL

pytestmark = pytest.mark.libreoffice

XLSX, ODS = "Calc MS Excel 2007 XML", "calc8"
RIFERIMENTO = date(2021, 9, 30)
LAST_ROW = 1_048_576
# LibreOffice's com.sun.star.sheet.ValidationType for each kind of input cell.
VALIDATION_TYPE = {Kind.DATE: "DATE", Kind.NUMBER: "DECIMAL", Kind.SI_NO: "LIST", Kind.TEXT: "TEXT_LEN"}
LONG_NOTE = (
    "Monitoraggio al 30/06: l'attività è proseguita come da cronoprogramma. "
    "Spesa impegnata € 12.345,67 su «capitolo 1010», determinazione n. 123 del 15/05/2021.\n"
) * 40 + 'Fine della nota: ultimo paragrafo, con l\'apostrofo e le "virgolette".'


@dataclass(frozen=True)
class Typed:
    """A value typed into an input cell: what the model should hold and the keystrokes."""

    entry: Entry
    text: str


def _it_date(d: date, style: int) -> str:
    return [f"{d:%d/%m/%Y}", f"{d.day}/{d.month}/{d.year}", f"{d:%d/%m/%y}"][style % 3]


def _it_number(value: float) -> str:
    text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return text.removesuffix(",00")


def staff_typing(area: Area, anno: int) -> list[Typed]:
    """What a person fills in: dates in three Italian forms, decimals with a comma, SI/NO,
    texts with accents, «€», quotes, line breaks and text that looks like a formula."""
    typed: list[Typed] = []
    texts = [
        "Attività svolta: perché è già così? Sì, «tutto» a posto; costo € 1.234,50.",
        'Ritardo dovuto al fornitore "Edilizia Srl".\nRecupero previsto entro l\'anno.\nTerza riga.',
        "=SOMMA(A1:A3) non è una formula ma il testo di un verbale",
        "Nessuna criticità – l'ufficio è al completo (100%).",
    ]
    n = 0
    for o_index, obiettivo in enumerate(area.obiettivi):
        start = obiettivo.data_inizio_prevista or date(anno, 1, 15)
        typed.append(Typed(Entry("obiettivi", obiettivo.codice, "data_inizio_effettiva", start), _it_date(start, n)))
        note = LONG_NOTE if o_index == 0 else texts[o_index % len(texts)]
        typed.append(Typed(Entry("obiettivi", obiettivo.codice, "note", note), note))
        for fase in obiettivo.fasi:
            n += 1
            inizio = fase.data_inizio_prevista or date(anno, 2, 1)
            typed.append(Typed(Entry("fasi", fase.codice, "data_inizio_effettiva", inizio), _it_date(inizio, n)))
            fine = fase.data_fine_prevista
            if fine is not None and fine <= date(anno, 6, 30):
                typed.append(Typed(Entry("fasi", fase.codice, "data_fine_effettiva", fine), _it_date(fine, n + 1)))
            text = texts[n % len(texts)]
            typed.append(Typed(Entry("fasi", fase.codice, "monitoraggio", text), text))
        for i, indicatore in enumerate(obiettivo.indicatori):
            n += 1
            if indicatore.si_no:
                answer = "NO" if n % 4 == 0 else "SI"
                typed.append(Typed(Entry("indicatori", indicatore.codice, "prima_rilevazione", answer), answer))
            elif i % 5 != 4:  # now and then a value is still missing
                value = round((indicatore.valore_target or 100) * [0.5, 0.805, 1.0, 1.25][n % 4] + 0.25, 2)
                typed.append(
                    Typed(Entry("indicatori", indicatore.codice, "prima_rilevazione", value), _it_number(value))
                )
    return typed


def expected_value(entry: Entry) -> object:
    if entry.value == "SI":
        return 100.0
    if entry.value == "NO":
        return 0.0
    return entry.value


def model_value(area: Area, entry: Entry) -> object:
    for obiettivo in area.obiettivi:
        items = {"obiettivi": [obiettivo], "fasi": obiettivo.fasi, "indicatori": obiettivo.indicatori}[entry.sheet_key]
        for item in items:
            if item.codice == entry.code:
                return getattr(item, entry.field)
    raise KeyError(entry)


def key(a: Anomalia) -> tuple[str, ...]:
    return (a.codice, a.area, a.obiettivo, a.fase, a.foglio, a.cella, a.messaggio)


# -- 2. the templates --------------------------------------------------------------------------


@pytest.mark.parametrize("rilevazione", [Rilevazione.INTERMEDIA, Rilevazione.FINALE])
def test_templates_open_protected_with_inputs_and_validations(
    soffice: Soffice,
    rilevazione: Rilevazione,
    schede_intermedia: list[SchedaGenerata],
    schede_finale: list[SchedaGenerata],
    tmp_path: Path,
) -> None:
    schede = schede_intermedia if rilevazione is Rilevazione.INTERMEDIA else schede_finale
    assert len(schede) == 3
    for scheda in schede:
        path = tmp_path / scheda.path.name
        shutil.copy(scheda.path, path)
        report = soffice.run("inspect", {"path": str(path), "probes": ["A1", "A5", "Z200"]})
        # Opened at the first attempt: no repair prompt, no warning of any kind.
        assert report["interactions"] == [], scheda.area
        snapshot = read_workbook(path).metadati
        assert snapshot is not None
        sheets = {s["name"]: s for s in report["sheets"]}
        data = layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione)
        assert list(sheets) == [snapshot.testi.fogli.istruzioni, *(s.name for s in data), META_SHEET]
        assert all(s["protected"] for s in sheets.values()), scheda.area
        assert sheets[META_SHEET]["visible"] is False  # very hidden in the file: LibreOffice shows it hidden
        assert sheets[snapshot.testi.fogli.istruzioni]["unlocked"] == []
        assert sheets[META_SHEET]["unlocked"] == []
        c = snapshot.testi.convalida
        for sheet in data:
            inputs = {(cell.row, cell.col): cell for cell in sheet.cells if not cell.locked}
            # Input cells unlocked, every other cell of the sheet (all 1,048,576 rows) locked.
            assert {tuple(rc) for rc in sheets[sheet.name]["unlocked"]} == set(inputs), (scheda.area, sheet.name)
            if sheet.spec.key in ("obiettivi", "fasi", "indicatori"):
                assert inputs, sheet.name
            assert set(sheets[sheet.name]["probe_validation"].values()) == {"ANY"}
            for (row, col), cell in inputs.items():
                v = sheets[sheet.name]["validations"][f"{row},{col}"]
                assert v["type"] == VALIDATION_TYPE[cell.kind], (sheet.name, cell.coordinate)
                assert v["show_input"] and v["show_error"] and v["error_style"] == "STOP"
                assert v["ignore_blank"]
                title = {
                    Kind.DATE: c.data_titolo,
                    Kind.NUMBER: c.numero_titolo,
                    Kind.SI_NO: c.si_no_titolo,
                    Kind.TEXT: c.testo_titolo,
                }[cell.kind]
                assert v["input_title"] == v["error_title"] == title
                assert v["input_message"] and v["error_message"]
                if cell.kind is Kind.SI_NO:
                    assert v["formula1"] == '"SI";"NO"'
                if cell.kind is Kind.DATE:
                    assert v["formula1"] == f"DATE({snapshot.anno - 1};1;1)"
                    assert v["formula2"] == f"DATE({snapshot.anno + 1};12;31)"


# -- 3. filled as staff would --------------------------------------------------------------------


@dataclass
class Returned:
    piano: Piano
    typed: dict[str, list[Typed]]  # area -> what was typed
    reference: dict[str, Path]  # area -> the same values written by openpyxl (fill_workbook)
    lo: dict[str, dict[str, Path]]  # format -> area -> saved by LibreOffice
    reports: dict[str, dict[str, object]]  # area -> driver report
    folders: dict[str, Path]


@pytest.fixture(scope="module")
def returned(
    soffice: Soffice, piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory
) -> Returned:
    base = tmp_path_factory.mktemp("lo_ritorni")
    folders = {name: base / name for name in ("sorgenti", "riferimento", "xlsx", "ods")}
    for folder in folders.values():
        folder.mkdir()
    out = Returned(piano, {}, {}, {"xlsx": {}, "ods": {}}, {}, folders)
    for scheda in schede_intermedia:
        source = folders["sorgenti"] / scheda.path.name
        shutil.copy(scheda.path, source)
        lettura = read_workbook(source)
        assert lettura.metadati is not None
        typed = staff_typing(lettura.metadati.area, piano.anno)
        out.typed[scheda.area] = typed
        ops: list[dict[str, object]] = []
        for t in typed:
            sheet, cell = lettura.locate(t.entry.sheet_key, t.entry.code, t.entry.field)
            ops.append({"op": "type", "sheet": sheet, "cell": cell, "text": t.text})
        # Someone also tries a locked cell: the code of the first objective.
        obiettivo = lettura.metadati.area.obiettivi[0].codice
        sheet, cell = lettura.locate("obiettivi", obiettivo, "codice")
        ops.append({"op": "type", "sheet": sheet, "cell": cell, "text": "XX"})
        xlsx = folders["xlsx"] / scheda.path.name
        ods = folders["ods"] / scheda.path.with_suffix(".ods").name
        ops += [{"op": "save", "path": str(xlsx), "filter": XLSX}, {"op": "save", "path": str(ods), "filter": ODS}]
        out.reports[scheda.area] = soffice.run("edit", {"path": str(source), "ops": ops})
        out.lo["xlsx"][scheda.area], out.lo["ods"][scheda.area] = xlsx, ods
        reference = folders["riferimento"] / scheda.path.name
        fill_workbook(source, reference, [t.entry for t in typed])
        out.reference[scheda.area] = reference
    return out


def test_typing_lands_as_values_and_locked_cells_refuse_it(returned: Returned) -> None:
    for area, report in returned.reports.items():
        assert report["interactions"] == []
        results = report["results"]  # type: ignore[index]
        typed = returned.typed[area]
        for t, result in zip(typed, results, strict=False):
            after = result["after"]
            if isinstance(t.entry.value, date | float):
                assert after["type"] == "VALUE", (area, t.text, after)  # LibreOffice parsed the typing
            else:
                assert after["type"] == "TEXT" and after["string"] == t.text, (area, t.text, after)
        locked = results[len(typed)]
        assert locked["changed"] is False and locked["after"]["string"] != "XX"


@pytest.mark.parametrize("formato", ["xlsx", "ods"])
def test_verifica_reads_exactly_what_was_typed(returned: Returned, formato: str) -> None:
    for area, path in returned.lo[formato].items():
        lettura = verify_file(path, data_riferimento=RIFERIMENTO)
        reference = verify_file(returned.reference[area], data_riferimento=RIFERIMENTO)
        assert lettura.formato == formato
        assert lettura.compilata is not None and reference.compilata is not None
        for t in returned.typed[area]:
            assert model_value(lettura.compilata, t.entry) == expected_value(t.entry), (area, t.entry)
        # Nothing else changed: the whole compiled area equals the same values written by the library.
        assert lettura.compilata == reference.compilata
        assert lettura.valori_letti == reference.valori_letti >= len(returned.typed[area])
        # Only the findings the values themselves cause (the same as for the library's own file).
        assert not STRUCTURAL & {a.codice for a in lettura.anomalie}, area
        assert sorted(map(key, lettura.anomalie)) == sorted(map(key, reference.anomalie)), area


def _master_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {
        name: [tuple("" if v is None else v for v in row) for row in wb[name].iter_rows(values_only=True)]
        for name in ("Riepilogo", "Obiettivi", "Indicatori", "Fasi", "Personale", "Assegnazioni", "Anomalie")
    }


@pytest.mark.parametrize("formato", ["xlsx", "ods"])
def test_consolida_reads_exactly_what_was_typed(returned: Returned, formato: str, tmp_path: Path) -> None:
    master, reference = tmp_path / "master.xlsx", tmp_path / "riferimento.xlsx"
    result = consolidate(returned.folders[formato], master, data_riferimento=RIFERIMENTO)
    expected = consolidate(returned.folders["riferimento"], reference, data_riferimento=RIFERIMENTO)
    assert [f.stato for f in result.fonti] == ["accettato"] * 3
    assert result.valori_letti == expected.valori_letti >= sum(map(len, returned.typed.values()))
    assert result.summary is not None and result.summary.valori_scritti == result.valori_letti
    got, want = _master_rows(master), _master_rows(reference)
    for sheet in got:
        if sheet == "Anomalie":  # the same findings; "Vai a", order and the file named in "Dove" follow the files
            dove = ANOMALIE.index("dove")
            same = [sorted(str(row[:dove] + row[dove + 1 :]) for row in rows) for rows in (got[sheet], want[sheet])]
            assert same[0] == same[1]
        else:
            assert got[sheet] == want[sheet], sheet
    notes = [row[OBIETTIVI.index("note")] for row in got["Obiettivi"][1:]]
    assert LONG_NOTE in notes


# -- 6. what LibreOffice does on saving ----------------------------------------------------------


def _variant(soffice: Soffice, source: Path, target: Path, ops: list[dict[str, object]]) -> dict[str, object]:
    fmt = XLSX if target.suffix == ".xlsx" else ODS
    report = soffice.run(
        "edit", {"path": str(source), "ops": [*ops, {"op": "save", "path": str(target), "filter": fmt}]}
    )
    assert report["interactions"] == []
    return report


def _assert_reads_clean(path: Path, expected: dict[tuple[str, str, str], object]) -> Lettura:
    lettura = read_workbook(path)
    assert lettura.compilata is not None, [a.messaggio for a in lettura.anomalie]
    assert [a for a in lettura.anomalie if a.codice in STRUCTURAL] == [], path.name
    for (sheet_key, code, field), value in expected.items():
        assert model_value(lettura.compilata, Entry(sheet_key, code, field, None)) == value, (path.name, code, field)
    return lettura


@pytest.fixture(scope="module")
def sorgente(schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory) -> Path:
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    path = tmp_path_factory.mktemp("lo_varianti") / scheda.path.name
    shutil.copy(scheda.path, path)
    return path


def _typing(source: Path) -> tuple[list[dict[str, object]], dict[tuple[str, str, str], object]]:
    """A few values typed into every kind of input cell, and what they must read as."""
    lettura = read_workbook(source)
    assert lettura.metadati is not None
    obiettivo = lettura.metadati.area.obiettivi[0]
    fase, indicatore = obiettivo.fasi[0], obiettivo.indicatori[0]
    wanted = {
        ("fasi", fase.codice, "data_inizio_effettiva"): ("15/03/2021", date(2021, 3, 15)),
        ("fasi", fase.codice, "data_fine_effettiva"): ("30/06/2021", date(2021, 6, 30)),
        ("fasi", fase.codice, "monitoraggio"): ("Fatto.\nSeconda riga «€»", "Fatto.\nSeconda riga «€»"),
        ("obiettivi", obiettivo.codice, "data_inizio_effettiva"): ("1/2/2021", date(2021, 2, 1)),
        ("indicatori", indicatore.codice, "prima_rilevazione"): ("SI", 100.0) if indicatore.si_no else ("7,5", 7.5),
    }
    ops: list[dict[str, object]] = []
    for (sheet_key, code, field), (text, _) in wanted.items():
        sheet, cell = lettura.locate(sheet_key, code, field)
        ops.append({"op": "type", "sheet": sheet, "cell": cell, "text": text})
    return ops, {k: v for k, (_, v) in wanted.items()}


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_used_range_down_to_the_last_row(soffice: Soffice, sorgente: Path, tmp_path: Path, suffix: str) -> None:
    """Someone unprotects Fasi, colours the whole Monitoraggio column and leaves a mark on the last row."""
    typing, expected = _typing(sorgente)
    target = tmp_path / sorgente.with_suffix(suffix).name
    ops = [*typing, {"op": "format_column", "sheet": "Fasi", "col": 10, "last_row_text": " "}]
    report = _variant(soffice, sorgente, target, ops)
    assert report["results"][len(typing)]["used_end_row"] == LAST_ROW  # type: ignore[index]
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Fasi")
    assert sheet.height == LAST_ROW  # the used range really reaches row 1,048,576
    _assert_reads_clean(target, expected)


@pytest.mark.parametrize(("visible", "suffix"), [(None, ".xlsx"), (False, ".ods"), (True, ".xlsx"), (True, ".ods")])
def test_metadata_sheet_hidden_or_visible(
    soffice: Soffice, sorgente: Path, tmp_path: Path, visible: bool | None, suffix: str
) -> None:
    """LibreOffice has no 'very hidden': saving makes the sheet hidden; staff may also show it."""
    typing, expected = _typing(sorgente)
    ops = typing + ([{"op": "visible", "sheet": META_SHEET, "visible": visible}] if visible is not None else [])
    target = tmp_path / sorgente.with_suffix(suffix).name
    _variant(soffice, sorgente, target, ops)
    grid = open_grid(target)
    assert grid.visibility[META_SHEET] == ("visible" if visible else "hidden")
    _assert_reads_clean(target, expected)


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_1904_date_system(soffice: Soffice, sorgente: Path, tmp_path: Path, suffix: str) -> None:
    """The workbook switched to the 1904 date system (every date kept), then dates typed."""
    typing, expected = _typing(sorgente)
    target = tmp_path / sorgente.with_suffix(suffix).name
    report = _variant(soffice, sorgente, target, [{"op": "null_date_1904"}, *typing])
    assert report["results"][0]["dates_moved"] > 0  # type: ignore[index]
    if suffix == ".xlsx":
        assert open_grid(target).date1904
    _assert_reads_clean(target, expected)


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_dates_typed_as_text(soffice: Soffice, sorgente: Path, tmp_path: Path, suffix: str) -> None:
    """Dates that stay text: pasted, or typed where LibreOffice does not read them as dates."""
    lettura = read_workbook(sorgente)
    assert lettura.metadati is not None
    texts = ["31/12/2021", "1.7.2021", "2021-03-15", " 05/02/21 "]
    wanted = [date(2021, 12, 31), date(2021, 7, 1), date(2021, 3, 15), date(2021, 2, 5)]
    fasi = [f for o in lettura.metadati.area.obiettivi for f in o.fasi][: len(texts)]
    ops: list[dict[str, object]] = []
    expected: dict[tuple[str, str, str], object] = {}
    for fase, text, want in zip(fasi, texts, wanted, strict=True):
        sheet, cell = lettura.locate("fasi", fase.codice, "data_inizio_effettiva")
        ops.append({"op": "set_string", "sheet": sheet, "cell": cell, "text": text})
        expected["fasi", fase.codice, "data_inizio_effettiva"] = want
    target = tmp_path / sorgente.with_suffix(suffix).name
    report = _variant(soffice, sorgente, target, ops)
    assert all(r["after"]["type"] == "TEXT" for r in report["results"][:-1])  # type: ignore[index]
    _assert_reads_clean(target, expected)
