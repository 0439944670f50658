"""The audit log (registro) of a run, for the office's records: JSON lines, appended.

Every line is one JSON object with at least ``ora`` (ISO 8601 with the UTC
offset), ``esecuzione`` (an id shared by the lines of one run), ``comando``
and ``evento``. Events:

- ``avvio``: ``argomenti`` (the command line, passwords masked), ``versione``;
- ``file``: one file read: ``file``, ``sha256``, ``byte``, ``area``, ``esito``,
  ``stato`` and ``motivo`` (``consolida``), ``errori``, ``avvisi``, ``codici``;
- ``scritto``: one output written: ``file``, ``sha256``, ``byte``, ``tipo``;
- ``fine``: ``uscita`` (the exit status) and, if the run stopped, ``messaggio``.

The log is a context object passed down to the library, never a global;
:data:`NESSUN_REGISTRO` records nothing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from seregno_xlsx.atomic import describe_os_error
from seregno_xlsx.errors import OutputError, SeregnoError
from seregno_xlsx.files import sha256_file
from seregno_xlsx.version import __version__

SECRET_OPTIONS = ("--password", "--password-apertura")


class Registro:
    """Appends one JSON object per event to ``path``; with no path it records nothing."""

    def __init__(self, path: Path | None, comando: str) -> None:
        self.path = Path(path) if path is not None else None
        self.comando = comando
        self.esecuzione = uuid.uuid4().hex[:12]
        self._handle: IO[str] | None = None
        self._ended = False

    def __enter__(self) -> Registro:
        if self.path is not None:
            if self.path.is_dir():
                raise OutputError(f"{self.path}: il registro è una cartella, indicare il nome di un file")
            if not self.path.parent.is_dir():
                raise OutputError(f"{self.path.parent}: la cartella del registro non esiste")
            refuse_other_file(self.path)
            try:
                self._handle = self.path.open("a", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"{self.path}: impossibile scrivere il registro ({describe_os_error(exc)})") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._ended:
            if exc is None:
                self.end(0)
            elif isinstance(getattr(exc, "exit_code", None), int):  # typer/click Exit
                self.end(int(getattr(exc, "exit_code", 0)))
            elif isinstance(exc, SeregnoError):
                self.end(2, exc.messaggio)
            else:
                self.end(2, f"interrotto: {type(exc).__name__}")
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None

    def event(self, evento: str, **fields: Any) -> None:
        if self._handle is None:
            return
        record = {
            "ora": datetime.now().astimezone().isoformat(timespec="seconds"),
            "esecuzione": self.esecuzione,
            "comando": self.comando,
            "evento": evento,
            **{k: _plain(v) for k, v in fields.items()},
        }
        try:
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise OutputError(f"{self.path}: impossibile scrivere il registro ({describe_os_error(exc)})") from None

    def start(self, argomenti: Sequence[str]) -> None:

        self.event("avvio", argomenti=mask_secrets(argomenti), versione=__version__)

    def file_read(
        self, path: Path, *, sha256: str, area: str, esito: str, anomalie: Sequence[Any], **extra: Any
    ) -> None:
        if not self.active:
            return
        codes = sorted({a.codice for a in anomalie})
        errori = sum(str(a.gravita) == "errore" for a in anomalie)
        self.event(
            "file",
            file=str(path),
            sha256=sha256 or _sha256(path),
            byte=_size(path),
            area=area,
            esito=esito,
            errori=errori,
            avvisi=len(anomalie) - errori,
            codici=codes,
            **extra,
        )

    def written(self, path: Path, tipo: str) -> None:
        if self.active:
            self.event("scritto", file=str(path), tipo=tipo, sha256=_sha256(path), byte=_size(path))

    def end(self, uscita: int, messaggio: str = "") -> None:
        self._ended = True
        self.event("fine", uscita=uscita, **({"messaggio": messaggio} if messaggio else {}))


NESSUN_REGISTRO: Registro = Registro(None, "")

# A log's first line is short; a returned scheda, a plan or a master are not logs whatever they hold there.
_FIRST_LINE_BYTES = 64 * 1024


def refuse_other_file(path: Path) -> None:
    """Lines are only ever appended to a log: an existing file that is not one (a returned scheda, the
    plan, a master given by mistake) is refused before a byte is added to it."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(_FIRST_LINE_BYTES)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: impossibile leggere il registro ({describe_os_error(exc)})") from None
    if not first.strip():
        return
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and "esecuzione" in record and "evento" in record):
        raise OutputError(
            f"{path}: il file esiste e non è un registro di seregno-xlsx (righe JSON): il registro si aggiunge "
            "solo a un registro; indicare un altro nome. Il file è intatto"
        )


def mask_secrets(argomenti: Sequence[str]) -> list[str]:
    """The command line with the values of password options replaced by ***."""
    masked: list[str] = []
    hide_next = False
    for arg in argomenti:
        if hide_next:
            masked.append("***")
            hide_next = False
        elif arg in SECRET_OPTIONS:
            masked.append(arg)
            hide_next = True
        elif arg.startswith(tuple(f"{o}=" for o in SECRET_OPTIONS)):
            masked.append(arg.split("=", 1)[0] + "=***")
        else:
            masked.append(arg)
    return masked


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _size(path: Path) -> int | None:
    try:
        return Path(path).stat().st_size if Path(path).is_file() else None
    except OSError:
        return None


def _plain(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value
