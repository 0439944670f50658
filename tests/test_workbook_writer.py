"""The generated area workbook, inspected with openpyxl: facts, not bytes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.scheda.generation import SchedaGenerata, code_order, generate, workbook_filename
from seregno_xlsx.scheda.layout import (
    DATA_SHEETS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INDICATORI,
    META_SHEET,
    TEMPLATE_VERSION,
    fingerprint,
    layout,
)
from seregno_xlsx.scheda.metadata import keyed_fingerprint, parse_metadata
from seregno_xlsx.scheda.writer import INPUT_FILL
from seregno_xlsx.texts import load_texts

TEXTS = load_texts()
DATA_SHEET_NAMES = [spec.name(TEXTS) for spec in DATA_SHEETS]


def _validated_cells(ws: Worksheet) -> dict[str, object]:
    cells: dict[str, object] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            for row in ws[cell_range.coord] if ":" in cell_range.coord else [[ws[cell_range.coord]]]:
                for cell in row:
                    cells[cell.coordinate] = dv
    return cells


def _used_cells(ws: Worksheet) -> list[openpyxl.cell.cell.Cell]:
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("rounds", ["schede_intermedia", "schede_finale"])
def test_every_input_cell_unlocked_validated_and_every_other_locked(
    rounds: str, request: pytest.FixtureRequest
) -> None:
    schede: list[SchedaGenerata] = request.getfixturevalue(rounds)
    assert len(schede) == 3
    for scheda in schede:
        wb = openpyxl.load_workbook(scheda.path)
        meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows()}
        rilevazione = Rilevazione(meta["rilevazione"])
        inputs = 0
        for name in DATA_SHEET_NAMES:
            ws = wb[name]
            validated = _validated_cells(ws)
            headers = [c.value for c in ws[HEADER_ROW]]
            for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
                for cell in row:
                    if cell.protection.locked:
                        assert cell.coordinate not in validated, (name, cell.coordinate)
                        continue
                    inputs += 1
                    assert cell.row >= FIRST_DATA_ROW
                    assert cell.coordinate in validated, (name, cell.coordinate)
                    assert cell.fill.fgColor.rgb.endswith(INPUT_FILL)
                    header = headers[cell.column - 1]
                    if header in ("1° Rilevazione", "Valore Raggiunto"):
                        expected = "1° Rilevazione" if rilevazione is Rilevazione.INTERMEDIA else "Valore Raggiunto"
                        assert header == expected
            # Every used cell that is not an input is locked.
            assert all(c.protection.locked for c in _used_cells(ws) if c.coordinate not in validated)
        assert inputs > 0


def test_every_sheet_protected_and_structure_locked(schede_finale: list[SchedaGenerata]) -> None:
    for scheda in schede_finale:
        wb = openpyxl.load_workbook(scheda.path)
        assert wb.security is not None and wb.security.lockStructure
        assert wb.security.workbookPassword  # the configured password, hashed
        for ws in wb.worksheets:
            assert ws.protection.sheet, ws.title
            assert ws.protection.password, ws.title
        assert wb[META_SHEET].sheet_state == "veryHidden"
        assert wb.sheetnames[0] == "Istruzioni"


def test_validation_messages_within_excel_limits(schede_intermedia: list[SchedaGenerata]) -> None:
    kinds = set()
    for scheda in schede_intermedia:
        wb = openpyxl.load_workbook(scheda.path)
        for name in DATA_SHEET_NAMES:
            for dv in wb[name].data_validations.dataValidation:
                kinds.add(dv.type)
                assert dv.showInputMessage and dv.showErrorMessage
                assert dv.promptTitle and len(dv.promptTitle) <= 32
                assert dv.prompt and len(dv.prompt) <= 255
                assert dv.error and len(dv.error) <= 224
                if dv.type == "list":
                    assert dv.formula1 == '"SI,NO"'
                # «between» is the schema's default operator, which a writer may leave implicit.
                if dv.type == "decimal" and dv.operator in (None, "between"):  # a person's share of time
                    assert (dv.formula1, dv.formula2) == ("0", "100")
                elif dv.type == "decimal":
                    assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
                if dv.type == "date":
                    assert dv.formula1 == "DATE(2020,1,1)" and dv.formula2 == "DATE(2022,12,31)"
    assert {"date", "list", "decimal", "textLength"} <= kinds


def test_number_formats_and_print_setup(scheda_reale: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    fasi = wb["Fasi"]
    assert fasi.cell(FIRST_DATA_ROW, 4).number_format == "DD/MM/YYYY"
    assert fasi.cell(FIRST_DATA_ROW, 6).number_format == "DD/MM/YYYY"
    assert wb["Indicatori"].cell(FIRST_DATA_ROW, 6).number_format == "#,##0.00"
    for ws in wb.worksheets[:-1]:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the schema's default
        assert "Area Servizi alla Persona" in ws.oddHeader.left.text
        assert "&P" in ws.oddFooter.center.text
    assert fasi.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert fasi.freeze_panes == "D5"


def test_scheda_labels_and_codes_in_their_own_rows(scheda_reale: Path, piano: Piano) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    fasi_headers = [c.value for c in wb["Fasi"][HEADER_ROW]]
    assert fasi_headers[1:] == [
        "Codice",
        "Fasi",
        "Data Inizio Prev.",
        "Data Fine Prev.",
        "Data Inizio Effet.",
        "Data Fine Effet.",
        "Monitoraggio",
        "Evidenza (atto, protocollo, link)",
    ]
    indicatori_headers = [c.value for c in wb["Indicatori"][HEADER_ROW]]
    assert "1° Rilevazione" in indicatori_headers and "Valore Raggiunto" in indicatori_headers
    codes = [wb["Fasi"].cell(r, 2).value for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 21)]
    area = piano.area("Area Servizi alla Persona")
    # Within each objective, in code order (the export lists Ob_Obiet093902 before Ob_Obiet093901).
    assert codes == [f.codice for o in area.obiettivi for f in sorted(o.fasi, key=lambda f: code_order(f.codice))]
    assert codes != [f.codice for o in area.obiettivi for f in o.fasi]
    obiettivi = wb["Obiettivi"]
    first = area.obiettivi[0]
    row = [c.value for c in obiettivi[FIRST_DATA_ROW]]
    assert row[0] == first.codice and row[1] == first.titolo and row[2] == first.peso
    assert row[4] == first.definizione


def test_matricola_keeps_its_zeros(scheda_reale: Path) -> None:
    ws = openpyxl.load_workbook(scheda_reale)["Personale"]
    matricole = [ws.cell(r, 3) for r in range(FIRST_DATA_ROW, ws.max_row + 1)]
    assert any(c.value == "00002311" and c.data_type == "s" for c in matricole)
    assert all(isinstance(c.value, str) for c in matricole if c.value is not None)


def test_metadata_and_fingerprint_verifiable(schede_intermedia: list[SchedaGenerata], piano: Piano) -> None:
    for scheda in schede_intermedia:
        wb = openpyxl.load_workbook(scheda.path)
        pairs = {str(r[0].value): str(r[1].value) for r in wb[META_SHEET].iter_rows()}
        snapshot, stored = parse_metadata(pairs)
        assert snapshot.area.nome == scheda.area
        assert (snapshot.ente, snapshot.anno, snapshot.rilevazione) == (
            "Città di Seregno",
            2021,
            "intermedia",
        )
        assert pairs["versione_modello"] == TEMPLATE_VERSION
        assert stored == scheda.impronta
        # Keyed with the plan's key: recomputable only with the plan file.
        assert piano.chiave_impronta is not None
        assert keyed_fingerprint(snapshot, piano.chiave_impronta) == stored
        assert fingerprint(layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione)) != stored
        props = {p.name: p.value for p in wb.custom_doc_props}
        assert props["seregno_impronta"] == stored and props["seregno_area"] == scheda.area


def test_file_name_has_year_area_and_round(schede_intermedia: list[SchedaGenerata]) -> None:
    names = sorted(s.path.name for s in schede_intermedia)
    assert names == [
        "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx",
        "Obiettivi_2021_Area_Lavori_Pubblici_e_Manutenzioni_intermedia.xlsx",
        "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia.xlsx",
    ]
    assert (
        workbook_filename(2022, "Area Città & Più", Rilevazione.FINALE) == "Obiettivi_2022_Area_Citta_Piu_finale.xlsx"
    )


def test_text_that_looks_like_a_formula_stays_text(piano: Piano, tmp_path: Path) -> None:
    hostile = piano.model_copy(deep=True)
    area = hostile.aree[0]
    area.obiettivi[0].titolo = '=HYPERLINK("http://example.invalid","x")'
    min(area.obiettivi[0].fasi, key=lambda f: code_order(f.codice)).monitoraggio = "+cmd|' /C calc'!A0"
    [scheda] = generate(hostile, tmp_path, aree=[area.nome])
    wb = openpyxl.load_workbook(scheda.path)
    title = wb["Obiettivi"].cell(FIRST_DATA_ROW, 2)
    note = wb["Fasi"].cell(FIRST_DATA_ROW, 8)
    assert (title.data_type, title.value) == ("s", '=HYPERLINK("http://example.invalid","x")')
    assert (note.data_type, note.value) == ("s", "+cmd|' /C calc'!A0")


def test_round_value_starts_empty_and_other_value_is_shown(schede_finale: list[SchedaGenerata], piano: Piano) -> None:
    scheda = next(s for s in schede_finale if s.area == "Area Affari Generali")
    ws = openpyxl.load_workbook(scheda.path)["Indicatori"]
    area = piano.area("Area Affari Generali")
    indicatori = [i for o in area.obiettivi for i in o.indicatori]
    keys = [c.label_key for c in INDICATORI.columns]
    prima, raggiunto = keys.index("prima_rilevazione") + 1, keys.index("valore_raggiunto") + 1
    for offset, indicatore in enumerate(indicatori):
        assert ws.cell(FIRST_DATA_ROW + offset, raggiunto).value is None  # Valore Raggiunto: to fill
        shown = ws.cell(FIRST_DATA_ROW + offset, prima).value  # 1° Rilevazione: context
        expected = indicatore.prima_rilevazione
        if indicatore.si_no and expected is not None:
            assert shown == ("SI" if expected >= 100 else "NO")
        else:
            assert shown == expected


def test_unknown_area_is_a_clear_error(piano: Piano, tmp_path: Path) -> None:
    from seregno_xlsx.errors import SeregnoError

    with pytest.raises(SeregnoError, match="non presente nel piano"):
        generate(piano, tmp_path, aree=["Area Inesistente"])


def test_a_text_longer_than_a_cell_is_refused_in_italian(piano: Piano, tmp_path: Path) -> None:
    """XlsxWriter cuts a text over 32,767 characters short without a word: genera refuses it, naming the cell."""
    from .cli_runner import run

    area = piano.aree[0].model_copy(deep=True)
    area.obiettivi[0].definizione = "parola " * 5000  # 35,000 characters: the plan allows 100,000
    plan = tmp_path / "piano.json"
    plan.write_text(piano.model_copy(update={"aree": [area]}).to_json(), encoding="utf-8")
    result = run("genera", plan, "-o", tmp_path / "schede")
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"area «{area.nome}», foglio «Obiettivi», cella E5" in message
    assert "35.000 caratteri" in message and "32.767" in message
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "schede").glob("*.xlsx"))
