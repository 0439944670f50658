"""Hostile inputs, third round (issue 14, tried as an attacker would after round two): each defect found,
with the test that would have found it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def test_internal_error_log_is_private_and_masks_passwords(tmp_path: Path) -> None:
    """The log of a defect sits in the shared temporary folder: readable by its user only, never written
    through a link prepared there, and with the passwords typed on the command line masked."""
    code = (
        "import sys; from seregno_xlsx.cli import app, main\n"
        "@app.command('guasto')\n"
        "def guasto(password: str = '') -> None:\n"
        "    1 / 0\n"
        "sys.argv = ['seregno-xlsx', 'guasto', '--password', 'segretissima']\n"
        "main()\n"
    )
    stamp_link = tmp_path / "seregno-xlsx-errore-esca.log"
    stamp_link.symlink_to(tmp_path / "bersaglio")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Errore interno" in result.stderr
    [log] = [p for p in tmp_path.glob("seregno-xlsx-errore-*.log") if not p.is_symlink()]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text(encoding="utf-8")
    assert "ZeroDivisionError" in text and "segretissima" not in text and "--password ***" in text
    assert not (tmp_path / "bersaglio").exists()
