"""README's year, literally: the block of «L'anno, da gennaio alla Relazione» run line by line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.piano.plan_file import read_plan

from .conftest import ROOT
from .test_readme_cycle import README, SCRIPT_DIR

# Through the installed console script, one process per line: in the full run (`pytest -m ""`, CI).
pytestmark = pytest.mark.slow


def year_lines() -> list[str]:
    start = README.index("## L'anno, da gennaio alla Relazione")
    block = re.search(r"```sh\n(.*?)```", README[start:], re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_year_runs_as_written(tmp_path: Path) -> None:
    for folder in ("esempi", "modelli"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    env = {**os.environ, "PATH": f"{SCRIPT_DIR}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "160"}
    lines = year_lines()
    assert [line.split()[1] for line in lines] == ["consolida", "importa", "genera", "consolida"]
    for line in lines:
        result = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{line}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stdout + result.stderr
    v2 = read_plan(tmp_path / "piano_2021_v2.json")
    assert v2.versione == 2 and [v.versione for v in v2.versioni] == [1]
    end = read_plan(tmp_path / "piano_2021_fine_anno.json")
    assert [r.rilevazione for r in end.rilevazioni] == [Rilevazione.INTERMEDIA, Rilevazione.FINALE]
    assert len(list((tmp_path / "schede_finale").glob("*.xlsx"))) == 3
    riepilogo = openpyxl.load_workbook(tmp_path / "finale.xlsx")["Riepilogo"]
    assert "piano versione 2" in riepilogo["B2"].value
    # The office's correction for every round (an objective left out) holds in the final round too.
    rettifiche = openpyxl.load_workbook(tmp_path / "finale.xlsx")["Rettifiche"]
    assert "Ob_Obiet0919" in [c.value for row in rettifiche.iter_rows() for c in row]
