"""Outputs are written atomically: a temporary file beside the target, then a rename.

A failed run therefore leaves the previous output intact.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from seregno_xlsx.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target``."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: è una cartella, indicare il nome di un file")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"{parent}: la cartella di destinazione non esiste")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=parent)
    except OSError as exc:
        raise OutputError(f"{parent}: impossibile scrivere nella cartella ({_reason(exc)})") from None
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        # mkstemp makes the file private (0600); the output gets the permissions a plain write would.
        os.chmod(temp, _mode_for(target))
        os.replace(temp, target)
    except OSError as exc:
        raise OutputError(
            f"{target}: impossibile scrivere il file ({_reason(exc)}); il file precedente è intatto"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _mode_for(target: Path) -> int:
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(target: Path, text: str) -> None:
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disco pieno"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permesso negato o file aperto da un altro programma"
    return exc.strerror or str(exc)
