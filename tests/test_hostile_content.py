"""Edited structure, formulas, odd texts and formula injection: decided, reported, never executed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.ritorni.verification import annotate, verify, verify_file

from .hostile import corpus

FASE = "Ob_Obiet093701"
OBIETTIVO = "Ob_Obiet0937"


def _where(scheda: Path, key: str, code: str, field: str) -> tuple[str, str]:
    return read_workbook(scheda).locate(key, code, field)


def test_sheet_deleted_renamed_reordered(scheda_reale: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    del wb["Personale"]
    wb.save(tmp_path / "senza.xlsx")
    [missing] = [a for a in verify_file(tmp_path / "senza.xlsx").anomalie if a.codice == "foglio-mancante"]
    assert "Personale" in missing.messaggio
    wb = openpyxl.load_workbook(scheda_reale)
    wb.move_sheet("Indicatori", offset=-2)
    wb.save(tmp_path / "riordinata.xlsx")
    lettura = verify_file(tmp_path / "riordinata.xlsx")
    assert lettura.compilata == verify_file(scheda_reale).compilata
    assert "foglio-mancante" not in {a.codice for a in lettura.anomalie}


def test_merged_cells_over_inputs_are_reported(scheda_reale: Path, tmp_path: Path) -> None:
    sheet, start = _where(scheda_reale, "fasi", FASE, "data_inizio_effettiva")
    _, end = _where(scheda_reale, "fasi", FASE, "data_fine_effettiva")
    wb = openpyxl.load_workbook(scheda_reale)
    wb[sheet].merge_cells(f"{start}:{end}")
    wb.save(tmp_path / "unite.xlsx")
    [merge] = [a for a in verify_file(tmp_path / "unite.xlsx").anomalie if "unite" in a.messaggio]
    assert merge.codice == "cella-bloccata-modificata" and (merge.foglio, merge.cella) == (sheet, start)


def test_formula_without_cached_value_reads_empty_and_says_so(scheda_reale: Path, tmp_path: Path) -> None:
    sheet, cell = _where(scheda_reale, "fasi", FASE, "data_fine_effettiva")
    wb = openpyxl.load_workbook(scheda_reale)
    wb[sheet][cell] = "=TODAY()"
    wb.save(tmp_path / "formula.xlsx")
    lettura = verify_file(tmp_path / "formula.xlsx")
    [f] = [a for a in lettura.anomalie if a.codice == "formula-in-cella"]
    assert (f.foglio, f.cella, f.valore, f.gravita) == (sheet, cell, "=TODAY()", "avviso")
    assert "letta vuota" in f.messaggio
    assert lettura.compilata is not None and lettura.compilata.obiettivi[0].fasi[0].data_fine_effettiva is None


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice non installato")
def test_formula_with_value_computed_by_the_client_is_used(scheda_reale: Path, tmp_path: Path) -> None:
    fase_sheet, fase_cell = _where(scheda_reale, "fasi", FASE, "data_fine_effettiva")
    ind_sheet, ind_cell = _where(scheda_reale, "indicatori", FASE, "prima_rilevazione")
    wb = openpyxl.load_workbook(scheda_reale)
    wb[fase_sheet][fase_cell] = "=DATE(2021,6,30)+0*TODAY()"
    wb[ind_sheet][ind_cell] = "=A1*2"  # A1 is text: the client's program shows #VALUE!
    wb.save(tmp_path / "in.xlsx")
    subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(tmp_path / "in.xlsx")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    lettura = verify_file(tmp_path / "out" / "in.xlsx")
    formulas = {a.cella: a for a in lettura.anomalie if a.codice == "formula-in-cella"}
    assert set(formulas) == {fase_cell, ind_cell}
    assert "valore calcolato salvato" in formulas[fase_cell].messaggio
    assert lettura.compilata is not None
    from datetime import date

    assert lettura.compilata.obiettivi[0].fasi[0].data_fine_effettiva == date(2021, 6, 30)
    # The client's program shows #VALUE!: no number is read, and the finding names the formula.
    assert lettura.compilata.obiettivi[0].indicatori[0].prima_rilevazione is None
    assert formulas[ind_cell].valore == "=A1*2"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("#DIV/0!", "valore-errore"), ("x" * 40_000, "testo-troppo-lungo")],
    ids=["errore", "40000-caratteri"],
)
def test_bad_texts(scheda_reale: Path, tmp_path: Path, typed: str, code: str) -> None:
    target = corpus.fill(scheda_reale, tmp_path / "t.xlsx", [corpus_entry("fasi", FASE, "monitoraggio", typed)])
    assert code in {a.codice for a in verify_file(target).anomalie}


def corpus_entry(key: str, code: str, field: str, value: object) -> object:
    from seregno_xlsx.simulation import Entry

    return Entry(key, code, field, value)


PAYLOADS = [
    '=HYPERLINK("http://esempio.invalid","clic")',
    "+SUM(1)",
    "-2+3",
    "@SUM(1)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
    "Emoji 🎉👍🏽 e arabo: مرحبا بالعالم، עברית",
]


def test_formula_injection_stays_text_everywhere(scheda_reale: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    lettura0 = read_workbook(scheda_reale)
    assert lettura0.metadati is not None
    fasi = [f.codice for o in lettura0.metadati.area.obiettivi for f in o.fasi]
    obiettivi = [o.codice for o in lettura0.metadati.area.obiettivi]
    entries = [corpus_entry("fasi", code, "monitoraggio", p) for code, p in zip(fasi, PAYLOADS, strict=False)]
    entries += [corpus_entry("obiettivi", code, "note", p) for code, p in zip(obiettivi, PAYLOADS[::-1], strict=False)]
    target = corpus.fill(scheda_reale, folder / scheda_reale.name, entries)  # type: ignore[arg-type]
    before = corpus.digests(folder)
    expected = {p.strip() for p in PAYLOADS[: len(fasi)]} | {p.strip() for p in PAYLOADS[::-1][: len(obiettivi)]}
    [report] = verify([target])
    lettura = report.lettura
    assert lettura.compilata is not None
    read = {f.monitoraggio for o in lettura.compilata.obiettivi for f in o.fasi} | {
        o.note for o in lettura.compilata.obiettivi
    }
    assert expected <= read  # JSON, library: the texts exactly as typed (trimmed)
    master = tmp_path / "m.xlsx"
    consolidate(folder, master)
    annotated = annotate(lettura, tmp_path / "annotate")
    assert annotated is not None
    for workbook in (master, annotated):
        wb = openpyxl.load_workbook(workbook)
        cells = [
            c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value in expected
        ]
        assert {c.value for c in cells} >= expected - {""}, workbook
        assert all(c.data_type == "s" for c in cells), workbook
    assert corpus.digests(folder) == before
