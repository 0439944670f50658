"""What people print: the example master and a scheda as LibreOffice prints them to PDF.

No two text lines overlap on any page, and every column header is on the page whole. The check is
first run on a deliberately broken workbook (a wrapped text in a row left at its default height, a
long header in a narrow column), where it must find both faults.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter  # type: ignore[import-untyped]

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.layout import TABLES
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.texts import load_texts

from .conftest import ROOT
from .libreoffice.fixtures import soffice_fixture  # noqa: F401  (the session's soffice)
from .libreoffice.office import Soffice

pymupdf = pytest.importorskip("pymupdf")
pytestmark = pytest.mark.libreoffice


def print_to_pdf(soffice: Soffice, path: Path, outdir: Path) -> Path:
    pdf = outdir / f"{path.stem}.pdf"
    ops = [{"op": "save", "path": str(pdf), "filter": "calc_pdf_Export"}]
    report = soffice.run("edit", {"path": str(path), "ops": ops})
    assert report["interactions"] == []
    assert pdf.is_file()
    return pdf


def overlapping_lines(pdf: Path) -> list[tuple[int, str, str]]:
    """Pairs of text lines whose boxes overlap on a page (as /work/shared/tools/render-workbook counts them)."""
    found = []
    for number, page in enumerate(pymupdf.open(pdf), start=1):
        lines = []
        for block in page.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                text = "".join(span["text"] for span in line["spans"]).strip()
                if text:
                    lines.append((pymupdf.Rect(line["bbox"]), text))
        for i, (a, text_a) in enumerate(lines):
            for b, text_b in lines[i + 1 :]:
                inter = a & b
                if not inter.is_empty and inter.height > 0.3 * min(a.height, b.height) and inter.width > 2:
                    found.append((number, text_a, text_b))
    return found


def missing_headers(pdf: Path, headers: set[str]) -> set[str]:
    """Headers not found whole in the printed text (a wrapped header reads as its words in a row)."""
    text = " ".join(" ".join(page.get_text().split()) for page in pymupdf.open(pdf))
    return {h for h in headers if " ".join(h.split()) not in text}


def test_the_check_finds_a_broken_layout(soffice: Soffice, tmp_path: Path) -> None:
    path = tmp_path / "rotto.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet("Rotto")
    ws.set_column(0, 1, 10)
    ws.write_string(0, 0, "Fasi scadute non rendicontate")  # cut by the next header
    ws.write_string(0, 1, "Indicatori")
    ws.write_string(1, 0, "una nota lunga " * 8, workbook.add_format({"text_wrap": True, "valign": "top"}))
    ws.write_string(2, 0, "riga seguente")  # the wrapped text above runs over it
    workbook.close()
    pdf = print_to_pdf(soffice, path, tmp_path)
    assert overlapping_lines(pdf)
    assert missing_headers(pdf, {"Fasi scadute non rendicontate", "Indicatori"}) == {"Fasi scadute non rendicontate"}


def test_example_master_prints_whole(soffice: Soffice, tmp_path: Path) -> None:
    master = tmp_path / "consolidato.xlsx"
    piano = Piano.from_json((ROOT / "esempi" / "piano_2021.json").read_text(encoding="utf-8"))
    result = consolidate(ROOT / "esempi" / "ritorni", master, piano=piano)
    assert result.master == master
    pdf = print_to_pdf(soffice, master, tmp_path)
    assert overlapping_lines(pdf) == []
    headers = {c.header for sheet in TABLES for c in sheet.columns}
    assert missing_headers(pdf, headers) == set()
    assert len(pymupdf.open(pdf)) >= len(TABLES)


def test_scheda_prints_whole(soffice: Soffice, schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> None:
    scheda = max(schede_intermedia, key=lambda s: s.path.stat().st_size)  # the real area, the longest texts
    pdf = print_to_pdf(soffice, scheda.path, tmp_path)
    assert overlapping_lines(pdf) == []
    testi = load_texts()
    headers = set(testi.etichette.values()) | {testi.istruzioni.righe[0]}
    assert missing_headers(pdf, headers) == set()
    # The Istruzioni sheet prints on one page: its last line is on page 1.
    first_page = " ".join(pymupdf.open(pdf)[0].get_text().split())
    assert testi.istruzioni.righe[-1] in first_page
