"""Running the command line in tests: in-process where a test checks logic, the installed script where it
checks the installation itself (a fresh install is the truth: the console script must start)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

# The environment of a run: nothing of the developer's own (no SEREGNO_* variable leaks in).
BASE_ENV = {"PATH": "/usr/bin:/bin", "COLUMNS": "250"}


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``seregno-xlsx ARGS`` in this process: same entry point (``cli.main``), same exit statuses and output."""
    from seregno_xlsx.cli import main
    from seregno_xlsx.cli.app import err, out

    environment = {**BASE_ENV, **(env or {})}
    saved_env, saved_cwd, saved_argv, saved_stdin = dict(os.environ), Path.cwd(), sys.argv, sys.stdin
    saved_sigint = signal.getsignal(signal.SIGINT)  # main() ignores Ctrl-C once its work is done
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    width = int(environment["COLUMNS"])
    saved_widths = (out._width, err._width)
    try:
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(cwd)
        sys.argv = ["seregno-xlsx", *map(str, args)]
        sys.stdin = io.StringIO()  # not a terminal: passwords only from the environment
        out.width = err.width = width
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.argv, sys.stdin = saved_argv, saved_stdin
        signal.signal(signal.SIGINT, saved_sigint)
        out._width, err._width = saved_widths
    result = subprocess.CompletedProcess(sys.argv, code, stdout.getvalue(), stderr.getvalue())
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def script() -> str:
    """The console script installed next to this Python (the project's virtual environment)."""
    found = shutil.which("seregno-xlsx", path=str(Path(sys.executable).parent))
    assert found is not None, "seregno-xlsx non installato: python3 -m pip install -e '.[dev]'"
    return found


def run_script(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """The installed ``seregno-xlsx`` in its own process, as the office runs it."""
    result = subprocess.run(
        [script(), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**BASE_ENV, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result
