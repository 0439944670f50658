"""Closing a round (consolida --chiudi): the official master, its PDF and manifest, never overwritten."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from seregno_xlsx.errors import OutputError, SeregnoError
from seregno_xlsx.master.closure import MISSING_LIBREOFFICE, close_round, closed_stem
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano, Rilevazione

from .cli_runner import run
from .conftest import ROOT

ESEMPI = ROOT / "esempi"
WHEN = date(2021, 10, 5)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ritorni"
    shutil.copytree(ESEMPI / "ritorni", folder)
    shutil.copy(ESEMPI / "piano_2021.json", tmp_path / "piano_2021.json")
    return folder


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_without_libreoffice_nothing_is_closed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    master = tmp_path / "master.xlsx"
    result = run("consolida", folder, "-o", master, "--chiudi", env={"PATH": str(tmp_path / "vuota")})
    assert result.returncode == 2
    assert "LibreOffice non è installato" in result.stderr and "non è stata chiusa" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert master.is_file()  # the working master is written; no official file is
    assert not list(tmp_path.glob("Master_*"))


@pytest.mark.libreoffice
def test_a_closed_round_is_never_overwritten(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    plan = tmp_path / "piano_2021.json"
    master = tmp_path / "master.xlsx"
    result = consolidate(folder, master)
    assert result.master == master and result.anno == 2021
    sources = result.letti
    closed = close_round(master, anno=2021, rilevazione=result.rilevazione, sources=sources, plan_file=plan, when=WHEN)
    stem = closed_stem(2021, Rilevazione.INTERMEDIA, WHEN)
    assert (closed.master.name, closed.pdf.name, closed.manifesto.name) == (
        f"{stem}.xlsx",
        f"{stem}.pdf",
        f"{stem}.sha256",
    )
    assert closed.master.read_bytes() == master.read_bytes()
    assert closed.pdf.read_bytes().startswith(b"%PDF")
    assert all(not p.stat().st_mode & 0o222 for p in (closed.master, closed.pdf, closed.manifesto))
    # The manifest: every return, the plan and both outputs, checked by the standard tool.
    listed = closed.manifesto.read_text(encoding="utf-8").splitlines()
    assert len(listed) == 3 + 1 + 2
    check = subprocess.run(["sha256sum", "-c", closed.manifesto.name], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    frozen = _hashes(tmp_path)

    # Closing again (another day too), or writing a master onto the official one: refused, nothing changes.
    for when in (WHEN, date(2021, 10, 6)):
        with pytest.raises(OutputError, match="già chiusa"):
            close_round(master, anno=2021, rilevazione=result.rilevazione, sources=sources, when=when)
    with pytest.raises(OutputError, match="rilevazione chiusa"):
        consolidate(folder, closed.master)
    again = run("consolida", folder, "-o", master, "--chiudi")
    assert again.returncode == 2 and "già chiusa" in again.stderr
    official = {k: v for k, v in _hashes(tmp_path).items() if k.startswith("Master_")}
    assert official == {k: v for k, v in frozen.items() if k.startswith("Master_")}
    assert sorted(p.name for p in tmp_path.glob("Master_*")) == sorted(official)


def test_a_return_changed_after_reading_is_not_closed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    master = tmp_path / "master.xlsx"
    result = consolidate(folder, master)
    changed = result.letti[0][0]
    changed.write_bytes(changed.read_bytes() + b"\0")
    with pytest.raises(SeregnoError, match="è cambiato dopo essere stato letto"):
        close_round(master, anno=2021, rilevazione=result.rilevazione, sources=result.letti, soffice="/bin/true")
    assert not list(tmp_path.glob("Master_*"))


def test_closed_masters_in_the_returns_folder_are_not_returns(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    name = f"{closed_stem(2021, Rilevazione.INTERMEDIA, WHEN)}.xlsx"
    shutil.copy(ESEMPI / "schede" / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx", folder / name)
    result = consolidate(
        folder, tmp_path / "master.xlsx", piano=Piano.from_json((ESEMPI / "piano_2021.json").read_text("utf-8"))
    )
    assert name not in {f.file for f in result.fonti}
    assert MISSING_LIBREOFFICE.startswith("LibreOffice non è installato")
