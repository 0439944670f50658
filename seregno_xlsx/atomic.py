"""Outputs are written atomically: a temporary file beside the target, then a rename.

A failed run therefore leaves the previous output intact. The output-path policy every command
follows (folders created, the extension, never over a file someone has open) is here too.
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
    refuse_if_open(target)
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
    except Exception as exc:
        # A writer may wrap the system's error in its own (XlsxWriter's FileCreateError on a full disk).
        cause = os_error_of(exc)
        if cause is None:
            raise
        raise OutputError(
            f"{target}: impossibile scrivere il file ({_reason(cause)}); il file precedente è intatto"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


# Formats a name may already claim: writing xlsx content under them would mislead Excel and the office.
_OTHER_FORMATS = frozenset(
    {
        ".xls",
        ".xlsx",
        ".xlsm",
        ".xlsb",
        ".xltx",
        ".ods",
        ".csv",
        ".json",
        ".jsonl",
        ".toml",
        ".txt",
        ".pdf",
        ".eml",
        ".msg",
    }
)


def output_file(target: Path, suffix: str) -> tuple[Path, str]:
    """The path a command writes ``-o`` to, and a note to say aloud ("" if none).

    A name without ``suffix`` gets it (said in the note); a name claiming another format is refused;
    missing folders are created; a file open in Excel or LibreOffice is never overwritten.
    """
    target = Path(target)
    note = ""
    if target.is_dir():  # «-o schede/»: a folder is not the file's name, nor is a name beside it
        raise OutputError(
            f"{target}: è una cartella, indicare il nome di un file (per esempio {target / ('nome' + suffix)})"
        )
    if target.suffix.lower() != suffix:
        if target.suffix.lower() in _OTHER_FORMATS:
            raise OutputError(
                f"{target}: il file scritto è in formato {suffix}, indicare un nome che termina in {suffix}"
            )
        target = target.with_name(target.name + suffix)
        note = f"il nome non terminava in {suffix}: il file si chiama {target}"
    if target.is_dir():
        raise OutputError(f"{target}: è una cartella, indicare il nome di un file")
    output_folder(target.parent)
    refuse_if_open(target)
    return target, note


def output_folder(folder: Path) -> Path:
    """An output folder, created with its parents when missing: the same for every command."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{folder}: esiste già un file con questo nome, indicare una cartella") from None
    except OSError as exc:
        raise OutputError(f"{folder}: impossibile creare la cartella ({_reason(exc)})") from None
    return folder


def lock_files(target: Path) -> list[Path]:
    """The lock files Excel (``~$name``, first two letters dropped on long names) and LibreOffice
    (``.~lock.name#``) keep beside a workbook while it is open."""
    name = target.name
    candidates = {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"}
    return sorted(path for c in candidates if (path := target.with_name(c)).exists())


def refuse_if_open(target: Path) -> None:
    """Never replace a file someone has open: the program that holds it would overwrite it again."""
    locks = lock_files(target) if target.exists() else []
    if locks:
        raise OutputError(
            f"{target}: il file è aperto in Excel o LibreOffice (file di blocco {locks[0].name}); chiuderlo e "
            "rilanciare il comando; il file precedente è intatto. Se nessuno lo ha aperto, eliminare il file di blocco."
        )


def _mode_for(target: Path) -> int:
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(target: Path, text: str) -> None:
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")


def os_error_of(exc: BaseException) -> OSError | None:
    """The system error behind ``exc``, however many libraries wrapped it."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OSError):
            return current
        wrapped = next((a for a in getattr(current, "args", ()) if isinstance(a, OSError)), None)
        current = wrapped or current.__cause__ or current.__context__
        seen += 1
    return None


_REASONS = {
    errno.ENOSPC: "disco pieno",
    errno.EDQUOT: "spazio disponibile esaurito (quota)",
    errno.EFBIG: "file più grande di quanto il sistema consente",
    errno.EROFS: "il disco è in sola lettura",
    errno.EACCES: "permesso negato o file aperto da un altro programma",
    errno.EPERM: "permesso negato o file aperto da un altro programma",
    errno.ENAMETOOLONG: "nome del file troppo lungo",
    errno.ELOOP: "collegamento simbolico circolare",
    errno.ENOENT: "file o cartella inesistente",
    errno.ENOTDIR: "un elemento del percorso non è una cartella",
    errno.EISDIR: "è una cartella",
    errno.EEXIST: "esiste già un file con questo nome",
    errno.ENOTEMPTY: "la cartella non è vuota",
    errno.EBUSY: "in uso da un altro programma",
    errno.ETXTBSY: "in uso da un altro programma",
    errno.EMFILE: "troppi file aperti",
    errno.ENFILE: "troppi file aperti",
    errno.ENOMEM: "memoria esaurita",
    errno.EIO: "errore di lettura o scrittura del disco",
    errno.EXDEV: "su un disco diverso",
    errno.ECONNREFUSED: "connessione rifiutata: nessun server in ascolto su quella porta",
    errno.ECONNRESET: "connessione interrotta dal server",
    errno.ECONNABORTED: "connessione interrotta",
    errno.ETIMEDOUT: "il server non risponde (tempo scaduto)",
    errno.EHOSTUNREACH: "server non raggiungibile",
    errno.ENETUNREACH: "rete non raggiungibile",
    errno.EPIPE: "connessione interrotta",
}


def _reason(exc: OSError) -> str:
    """Why the system refused, in Italian; never the system's own English text."""
    import socket
    import ssl

    if isinstance(exc, socket.gaierror):  # its errno is the resolver's, not the system's
        return "nome del server sconosciuto o rete non raggiungibile"
    if isinstance(exc, TimeoutError):
        return "il server non risponde (tempo scaduto)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "il certificato del server non è valido"
    if isinstance(exc, ssl.SSLError):
        return "connessione cifrata non riuscita (TLS): verificare la porta e la cifratura indicate"
    known = _REASONS.get(exc.errno or 0)
    if known:
        return known
    return f"errore del sistema n. {exc.errno}" if exc.errno else "errore del sistema"


def os_reason(exc: OSError) -> str:
    """Why the system refused, in Italian, without the file name (for a message that already names it)."""
    return _reason(exc)


def describe_os_error(exc: OSError) -> str:
    """An Italian message for a system error: the file it concerns and why."""
    where = exc.filename if exc.filename is not None else ""
    shown = os.fsdecode(where).encode("utf-8", "surrogateescape").decode("utf-8", "replace") if where else ""
    return f"{shown}: {_reason(exc)}" if shown else _reason(exc)
