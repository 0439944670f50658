"""The ``seregno-xlsx`` command line: a thin layer over the library, in Italian.

One module per command (or family of commands); each registers itself on the shared app.
Exit statuses (documented in README):
0 done, no errors (warnings allowed); 1 done, errors found in the data or a file
rejected; 2 nothing could be done (unreadable input, misuse, output not writable).
"""

from __future__ import annotations

import io
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(f"module 'seregno_xlsx.cli' has no attribute {name!r}")


@cache
def _app() -> Any:
    """The typer app with every command registered: loaded only when a command (or its help) runs."""
    from seregno_xlsx.cli import (  # noqa: F401  (register the commands)
        consolida,
        distribuisci,
        genera,
        importa,
        raccogli,
        solleciti,
        verifica,
    )
    from seregno_xlsx.cli.app import app
    from seregno_xlsx.cli.italiano import Comando

    # Every command's help and usage mistakes in Italian: one class for all, set where they are all known.
    for info in app.registered_commands:
        info.cls = Comando
    globals()["app"] = app  # importing the submodule cli.app bound its name here: the app is meant
    return app


def _quiet_os_errors(unraisable: sys.UnraisableHookArgs) -> None:
    """A writer's file closed late on a full disk: the error is already reported, in Italian, once."""
    if isinstance(unraisable.exc_value, OSError):
        return
    sys.__unraisablehook__(unraisable)


# What the shell reports for a command stopped by Ctrl-C; typer returns it for an interruption.
_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: Italian messages, never a traceback."""
    try:
        _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while the command starts (imports), before its own handling
        _interrupted()


def _interrupted() -> None:
    sys.stderr.write("Interrotto.\n")
    sys.exit(2)


def _main(argv: Sequence[str] | None) -> None:
    sys.unraisablehook = _quiet_os_errors
    if hasattr(signal, "SIGXFSZ"):
        # Over a file-size limit (ulimit -f) a write fails with an error we report, not a killed process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    args = list(sys.argv[1:] if argv is None else argv)
    _tolerant_console()
    if args == ["--help"] and _static_help_fits():
        # The text click would print (a test keeps them equal), without loading typer, rich or a command.
        from seregno_xlsx.cli.aiuto import GRUPPO

        sys.stdout.write(GRUPPO)
        sys.exit(0)
    import typer

    from seregno_xlsx.atomic import describe_os_error
    from seregno_xlsx.cli.app import err, styled
    from seregno_xlsx.cli.italiano import ClickException, UsageError, group_help, show_usage_error
    from seregno_xlsx.errors import SeregnoError

    command = typer.main.get_command(_app())
    if not args:
        sys.stdout.write(group_help(command) + "\n")
        sys.exit(2)
    try:
        code = command.main(args, prog_name="seregno-xlsx", standalone_mode=False, windows_expand_args=False)
    except UsageError as exc:
        show_usage_error(exc, err, command, args)
        sys.exit(2)
    except SeregnoError as exc:
        err.print(styled("Errore:", "bold red", exc.messaggio))
        sys.exit(2)
    except OSError as exc:  # the system refused (disk full, read-only, too long a name): said in Italian
        err.print(styled("Errore:", "bold red", describe_os_error(exc) + ": operazione interrotta"))
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt, EOFError):
        _interrupted()
    except ClickException as exc:
        err.print(styled("Errore:", "bold red", str(getattr(exc, "message", exc))))
        sys.exit(2)
    except Exception as exc:  # a bug must still not show a traceback to the office
        log = _log_traceback(exc)
        where = f" I dettagli tecnici sono in {log}: inviare quel file a chi mantiene seregno-xlsx." if log else ""
        err.print(
            styled("Errore interno", "bold red", f"(un difetto del programma): {type(exc).__name__}: {exc}.{where}")
        )
        sys.exit(2)
    # The work is done and said: a Ctrl-C now must not turn its status into «killed by a signal».
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == _INTERRUPTED:  # typer's answer to Ctrl-C inside a command: no command exits 130 itself
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def _static_help_fits() -> bool:
    """click wraps help at the terminal's width up to 80 columns: the stored text is for 80 or more."""
    import shutil

    return shutil.get_terminal_size().columns >= 80


def _tolerant_console() -> None:
    """A console that is not UTF-8 (Windows cp1252/cp850, a redirected file) prints «?», never fails."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def _log_traceback(exc: BaseException) -> Path | None:
    """The details of a defect, for whoever maintains the program: readable by this user only (the
    temporary folder is shared), a new file never a link someone prepared, passwords masked."""
    from seregno_xlsx.audit import mask_secrets

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"seregno-xlsx-errore-{stamp}-", suffix=".log")
        text = "".join(traceback.format_exception(exc))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"seregno-xlsx {' '.join(mask_secrets(sys.argv[1:]))}\n\n{text}")
    except OSError:
        return None
    return Path(name)


if __name__ == "__main__":
    main()
