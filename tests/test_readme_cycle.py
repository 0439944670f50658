"""README's cycle, literally: every line of its code block run in a scratch copy with the installed script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from .conftest import ROOT

# Through the installed console script, one process per case: in the full run (`pytest -m ""`, CI).
pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text(encoding="utf-8")
SCRIPT_DIR = Path(sys.executable).parent


def cycle_lines() -> list[str]:
    start = README.index("## Il ciclo, passo per passo")
    block = re.search(r"```sh\n(.*?)```", README[start:], re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_cycle_runs_as_written(tmp_path: Path) -> None:
    assert (SCRIPT_DIR / "seregno-xlsx").exists(), "the console script is installed (pip install -e .)"
    for folder in ("esempi", "modelli"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    env = {**os.environ, "PATH": f"{SCRIPT_DIR}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "160"}
    lines = cycle_lines()
    assert [line.split()[1] for line in lines] == [
        "importa",
        "genera",
        "distribuisci",
        "raccogli",
        "solleciti",
        "verifica",
        "consolida",
    ]
    for line in lines:
        result = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        # The example returns carry warnings only: every step is done (0); 1 or 2 would be a broken README.
        assert result.returncode == 0, f"{line}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stdout + result.stderr and "Errore interno" not in result.stderr
    # Re-imported over the example plan: the same plan, and its fingerprint key kept.
    plan = "esempi/piano_2021.json"
    assert (tmp_path / plan).read_text(encoding="utf-8") == (ROOT / plan).read_text(encoding="utf-8")
    assert len(list((tmp_path / "schede" / "posta").glob("*.eml"))) == 3
    assert len(list((tmp_path / "ritorni").glob("*.xlsx"))) == 3
    master = openpyxl.load_workbook(tmp_path / "consolidato.xlsx", read_only=True)
    assert "Riepilogo" in master.sheetnames
    # The example's three corrections (esempi/rettifiche_2021.csv) are in the master, each with its reason.
    rows = list(master["Rettifiche"].iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == ["valore", "percentuale", "esclusione"] and all(r[6] for r in rows)


def test_readme_first_commands_pin_the_tested_versions_and_run(tmp_path: Path) -> None:
    """Both opening commands install with constraints.txt; the first one's job runs from a fresh copy."""
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    install, test = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert "pip install -c constraints.txt -e ." in install and "pip install -c constraints.txt -e" in test
    assert "pip install -q -c constraints.txt -e" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pinned = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(r"^typer==\d", pinned, re.M) and not re.search(r"^seregno", pinned, re.M | re.I)
    shutil.copytree(ROOT / "esempi", tmp_path / "esempi")
    job = install.split("&& ", 1)[1]  # no «mkdir»: the output folder is created by the command
    env = {**os.environ, "PATH": f"{SCRIPT_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", job], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    assert (tmp_path / "uscita" / "consolidato.xlsx").exists() and "valori letti" in result.stdout
