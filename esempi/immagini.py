"""Renders the README pictures from the bundled examples, as LibreOffice prints them.

    python esempi/immagini.py

1. consolidates esempi/ritorni into a master (as README's first command does);
2. prints the master and the Affari Generali scheda to PDF with LibreOffice (soffice, headless);
3. saves three pages as PNG in docs/immagini/: the master's Riepilogo, its first per-area page and
   the scheda's Fasi sheet;
4. writes docs/immagini/immagini.json: for each picture the workbook it was rendered from and that
   workbook's SHA-256. tests/test_immagini.py fails when an example no longer matches its picture:
   run this script again and commit the pictures.

Needs soffice and pymupdf (a dev dependency: pip install -e ".[dev]").
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "docs" / "immagini"
INDEX = OUT / "immagini.json"
MASTER = "master: seregno-xlsx consolida esempi/ritorni --piano esempi/piano_2021.json"
SCHEDA = "esempi/schede/Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
DPI = 90  # legible, and a few hundred KB at most
# picture -> (workbook, sheet name printed in the page header, which page of that sheet)
PICTURES = {
    "master_riepilogo.png": (MASTER, "Riepilogo", 0),
    "master_pagina_area.png": (MASTER, "Pagine per area", 0),
    "scheda_fasi.png": (SCHEDA, "Fasi", 0),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_master(folder: Path) -> Path:
    """The example master, byte for byte what README's first command writes."""
    from seregno_xlsx.master.consolidation import consolidate
    from seregno_xlsx.piano.model import Piano

    piano = Piano.from_json((HERE / "piano_2021.json").read_text(encoding="utf-8"))
    master = folder / "consolidato.xlsx"
    result = consolidate(HERE / "ritorni", master, piano=piano)
    assert result.master == master
    return master


def workbook(name: str, folder: Path) -> Path:
    return build_master(folder) if name == MASTER else ROOT / name


def _pdf(path: Path, folder: Path) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("soffice non trovato: installare LibreOffice")
    profile = folder / "profilo"
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    subprocess.run([*command, "--convert-to", "pdf", "--outdir", str(folder), str(path)], check=True, timeout=300)
    return folder / f"{path.stem}.pdf"


def _used(page: object, pymupdf: object) -> object:
    """The page down to its last text or drawing above the footer: no half-page of white."""
    rect = page.rect  # type: ignore[attr-defined]
    footer = rect.y1 - 60
    boxes = [pymupdf.Rect(b[:4]) for b in page.get_text("blocks")]  # type: ignore[attr-defined]
    boxes += [d["rect"] for d in page.get_drawings()]  # type: ignore[attr-defined]
    bottom = max((r.y1 for r in boxes if r.y1 < footer), default=footer)
    return pymupdf.Rect(rect.x0, rect.y0, rect.x1, min(rect.y1, bottom + 20))  # type: ignore[attr-defined]


def main() -> None:
    import pymupdf  # type: ignore[import-not-found,unused-ignore]

    OUT.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[str, str | int]] = {}
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        rendered: dict[str, tuple[Path, object]] = {}
        for picture, (name, sheet, nth) in PICTURES.items():
            if name not in rendered:
                path = workbook(name, folder)
                rendered[name] = (path, pymupdf.open(_pdf(path, folder)))
            path, document = rendered[name]
            pages = [page for page in document if sheet in page.get_text().split("\n")[:3]]  # type: ignore[attr-defined]
            page = pages[nth]
            page.get_pixmap(dpi=DPI, clip=_used(page, pymupdf)).save(OUT / picture)
            index[picture] = {"workbook": name, "sha256": sha256(path), "pagina": page.number + 1}
            print(f"{picture}: {name}, pagina {page.number + 1}")
    INDEX.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
