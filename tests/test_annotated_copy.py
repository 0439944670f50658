"""The annotated copy sent back to an area: what was typed stays visible, colours say what to do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl

from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.ritorni.verification import annotate, verify_file
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.scheda.layout import FIRST_DATA_ROW, INDICATORI, layout
from seregno_xlsx.scheda.writer import ERROR_FILL, PLAN_FILL, WARNING_FILL
from seregno_xlsx.simulation import Entry, fill_workbook
from seregno_xlsx.texts import load_texts


def _colour(cell: object) -> str:
    return str(cell.fill.fgColor.rgb)[-6:]  # type: ignore[attr-defined]


def test_annotated_copy_keeps_what_was_typed(scheda_reale: Path, tmp_path: Path) -> None:
    filled = tmp_path / "ritorno.xlsx"
    entries = [
        Entry("fasi", "Ob_Obiet093701", "data_fine_effettiva", "31/13/2021"),  # not a date: an error
        Entry("indicatori", "Ob_Obiet093701", "prima_rilevazione", "FORSE"),  # not SI/NO: an error
        Entry("fasi", "Ob_Obiet093901", "data_fine_effettiva", date(2021, 9, 1)),  # warnings
    ]
    fill_workbook(scheda_reale, filled, entries)
    wb = openpyxl.load_workbook(filled)
    wb["Obiettivi"][f"B{FIRST_DATA_ROW}"] = "Titolo cambiato"  # plan content the area cannot edit
    wb.save(filled)
    lettura = verify_file(filled, data_riferimento=date(2021, 9, 30))
    copy = annotate(lettura, tmp_path / "annotate")
    assert copy is not None
    annotated = openpyxl.load_workbook(copy)
    by_code = {a.codice: a for a in lettura.anomalie}

    for code, typed in (("data-non-valida", "31/13/2021"), ("si-no-non-valido", "FORSE")):
        finding = by_code[code]
        cell = annotated[finding.foglio][finding.cella]
        assert (cell.value, cell.data_type) == (typed, "s")  # visible as typed, not an empty red cell
        assert _colour(cell) == ERROR_FILL
        assert cell.comment is not None and finding.messaggio in cell.comment.text

    errors = {(a.foglio, a.cella) for a in lettura.anomalie if a.gravita == "errore"}
    warnings = [a for a in lettura.anomalie if a.gravita == "avviso" and a.cella and (a.foglio, a.cella) not in errors]
    assert warnings
    for warning in warnings:
        cell = annotated[warning.foglio][warning.cella]
        assert _colour(cell) in (WARNING_FILL, PLAN_FILL)
    assert any(_colour(annotated[w.foglio][w.cella]) == WARNING_FILL for w in warnings)

    locked = by_code["cella-bloccata-modificata"]
    cell = annotated[locked.foglio][locked.cella]
    testi = load_texts()
    assert _colour(cell) == PLAN_FILL
    assert cell.comment is not None and cell.comment.text.startswith(testi.annotazioni.nota_piano)
    assert cell.value != "Titolo cambiato"  # the copy shows the plan's content again

    legend = [c.value for c in annotated[testi.fogli.istruzioni]["A"]]
    for text in (testi.annotazioni.errore, testi.annotazioni.avviso, testi.annotazioni.piano):
        assert text in legend
    # A scheda as generated has no legend of annotation colours.
    assert testi.annotazioni.errore not in [c.value for c in openpyxl.load_workbook(scheda_reale)["Istruzioni"]["A"]]


def test_intermedia_context_value_is_empty_until_measured(schede_intermedia: list[SchedaGenerata]) -> None:
    """The export carries 0 (shown as «0,00» or «NO») where nothing was measured yet: the scheda shows nothing."""
    testi = load_texts()
    column = [c.label_key for c in INDICATORI.columns].index("valore_raggiunto") + 1
    for scheda in schede_intermedia:
        ws = openpyxl.load_workbook(scheda.path)[testi.fogli.indicatori]
        values = [ws.cell(r, column).value for r in range(FIRST_DATA_ROW, ws.max_row + 1)]
        assert values and not {"NO", 0} & set(values), scheda.area


def test_rows_of_the_scheda_fit_their_text(scheda_reale: Path) -> None:
    """Every row holding a wrapped text longer than one line has a height for all its lines."""
    from seregno_xlsx.ritorni.reader import read_workbook
    from seregno_xlsx.scheda.fit import lines

    snapshot = read_workbook(scheda_reale).metadati
    assert snapshot is not None
    wb = openpyxl.load_workbook(scheda_reale)
    checked = 0
    for sheet in layout(snapshot.testi, snapshot.header, snapshot.area, Rilevazione.INTERMEDIA):
        ws = wb[sheet.name]
        for cell in sheet.cells:
            if cell.column is None or not cell.column.wrap or not isinstance(cell.value, str):
                continue
            need = lines(cell.value, cell.column.width)
            if need > 1 and 15 * need <= 409:  # Excel's highest row
                checked += 1
                assert (ws.row_dimensions[cell.row].height or 15) >= 15 * need, (sheet.name, cell.coordinate)
    assert checked > 10


def test_annotated_copy_of_an_over_long_text(scheda_reale: Path, tmp_path: Path) -> None:
    """A text past Excel's limit still gets its copy: the cell commented, the text not carried over (an
    invalid value counts as a blank one, and the plan's texts alone are refused when over the limit)."""
    filled = tmp_path / "ritorno.xlsx"
    fill_workbook(scheda_reale, filled, [Entry("fasi", "Ob_Obiet093701", "monitoraggio", "x" * 40_000)])
    lettura = verify_file(filled, data_riferimento=date(2021, 9, 30))
    [finding] = [a for a in lettura.anomalie if a.codice == "testo-troppo-lungo"]
    copy = annotate(lettura, tmp_path / "annotate")
    assert copy is not None
    cell = openpyxl.load_workbook(copy)[finding.foglio][finding.cella]
    assert cell.value is None
    assert cell.comment is not None and finding.messaggio in cell.comment.text


def test_annotated_copy_keeps_xml_looking_text_as_text(scheda_reale: Path, tmp_path: Path) -> None:
    """A note from «<r>» to «</r>» was written into the copy's shared strings as it is: a part no longer
    well-formed (openpyxl could not open the copy) or one with what the area chose to add."""
    rich = "<r><t>x</t></r></si><si><t>aggiunto</t></si><si><r><t>y</t></r>"
    filled = tmp_path / "ritorno.xlsx"
    entries = [
        Entry("fasi", "Ob_Obiet093701", "data_fine_effettiva", "31/13/2021"),  # an error: the copy is made
        Entry("fasi", "Ob_Obiet093701", "monitoraggio", rich),
    ]
    fill_workbook(scheda_reale, filled, entries)
    lettura = verify_file(filled, data_riferimento=date(2021, 9, 30))
    copy = annotate(lettura, tmp_path / "annotate")
    assert copy is not None
    annotated = openpyxl.load_workbook(copy)
    values = [c.value for ws in annotated.worksheets for row in ws.iter_rows() for c in row]
    assert rich in values and "aggiunto" not in values
