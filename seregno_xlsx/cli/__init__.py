"""The ``seregno-xlsx`` command line: a thin layer over the library, in Italian.

One module per command (or family of commands); each registers itself on the shared app.
Exit statuses (documented in README):
0 done, no errors (warnings allowed); 1 done, errors found in the data or a file
rejected; 2 nothing could be done (unreadable input, misuse, output not writable).
"""

from __future__ import annotations

import signal
import sys
from datetime import datetime

import typer

from seregno_xlsx.atomic import describe_os_error
from seregno_xlsx.cli import consolida, genera, importa, posta, verifica  # noqa: F401  (register the commands)
from seregno_xlsx.cli.app import app, err, styled
from seregno_xlsx.errors import SeregnoError

__all__ = ["app", "main"]


def _quiet_os_errors(unraisable: sys.UnraisableHookArgs) -> None:
    """A writer's file closed late on a full disk: the error is already reported, in Italian, once."""
    if isinstance(unraisable.exc_value, OSError):
        return
    sys.__unraisablehook__(unraisable)


def main() -> None:
    """Entry point: Italian messages, never a traceback."""
    sys.unraisablehook = _quiet_os_errors
    if hasattr(signal, "SIGXFSZ"):
        # Over a file-size limit (ulimit -f) a write fails with an error we report, not a killed process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        code = app(standalone_mode=False)
    except SeregnoError as exc:
        err.print(styled("Errore:", "bold red", exc.messaggio))
        sys.exit(2)
    except OSError as exc:  # the system refused (disk full, read-only, too long a name): said in Italian
        err.print(styled("Errore:", "bold red", describe_os_error(exc) + ": operazione interrotta"))
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrotto.")
        sys.exit(2)
    except Exception as exc:  # a bug must still not show a traceback to the office
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        stamp = datetime.now().isoformat(timespec="seconds")
        err.print(styled("Errore interno", "bold red", f"({stamp}): {type(exc).__name__}: {exc}"))
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
