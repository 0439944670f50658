"""Some sheets of a workbook written by a forked process beside the one writing the others.

The master's sheets are written row by row to temporary files (XlsxWriter's ``constant_memory``), one
per sheet, and put together when the workbook closes: so two processes can write different sheets at
once, each to its own files, and the workbook is the same as if one had written them all. Here the
process writing the workbook forks; the child writes the rows of the given sheets with a copy of
everything the parent knew at that moment, appends them to those sheets' files and sends back what
writing them changed in each sheet (its dimensions, its last row): nothing else of the parent changes.

Where the child cannot do it (no ``fork`` here, a crash, a state it was not meant to touch, no answer in
time), the parent writes the same rows itself, from the same point: the file is the same either way,
only slower. A sheet written beside cannot be written by the parent meanwhile (its file is closed there).
The child ignores Ctrl-C (the parent, interrupted, stops it) and never returns into the caller's code.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from .fast_sheet import FastWorksheet

T = TypeVar("T")

# What writing rows may change of a sheet, sent back to the parent: single values only. Anything else of
# the sheet (its column widths, merged ranges, links, validations: compared by content, or by identity
# where it is an object such as a file of links) must be as it was, and so must the workbook's numbering
# of formats, or the rows are written again by the parent.
_SCALARS = (int, float, str, bool, type(None))
_CONTAINERS = (dict, list, set, tuple)
# Containers that writing rows fills and empties again row by row (the row being written).
_TRANSIENT = frozenset({"table", "row_info", "row_sizes"})
# The rows' file, opened again in the child (and in the parent once the child is done).
_OWN = frozenset({"fh", "row_data_fh"})
# How long the parent waits for the child once its own sheets are written: as many times the time it took
# itself since the fork (the child's share is of the same order), never less than a floor. A child that
# has not finished by then is stopped, and the parent writes the rows.
WAIT_FACTOR = 4.0
MIN_WAIT = 120.0


def can_fork() -> bool:
    """Whether this process may fork cheaply and safely: on Linux (macOS's frameworks do not survive a fork);
    with no other Python thread running (a lock one holds would stay held in the child, which has no such
    thread; a numerical library's pool of native threads, idle, prepares itself for a fork as the reading
    processes' fork already needs); with its children's exit reported (with SIGCHLD ignored the system
    reaps them and the child's end could not be waited for: a caller may set it, and it survives ``exec``)."""
    if not (hasattr(os, "fork") and sys.platform.startswith("linux")):
        return False
    return signal.getsignal(signal.SIGCHLD) is not signal.SIG_IGN and threading.active_count() == 1


class Beside(Generic[T]):
    """``job()`` writes the rows of ``sheets`` (nothing else), run in a child process when ``elsewhere``.

    ``start()`` forks; ``finish()`` waits and returns the job's value; ``ran_elsewhere`` says whether the
    child's value is the one returned (then what the job changed in the parent's objects, beyond the sheets,
    must be carried over from its value by the caller) or the parent ran it itself.
    """

    def __init__(
        self, sheets: Sequence[FastWorksheet], job: Callable[[], T], *, elsewhere: bool, workbook: Any = None
    ) -> None:
        """``workbook``: the sheets' XlsxWriter workbook, whose numbering of formats the job must not change."""
        self.sheets, self.job, self.workbook = list(sheets), job, workbook
        self.elsewhere = elsewhere and can_fork()
        self.ran_elsewhere = False
        self.motivo = ""  # why the child did not write the rows, if it did not (its traceback, its exit status)
        self._pid = 0
        self._read = -1
        self._marks: list[int] = []
        self._started = 0.0

    def start(self) -> None:
        if not self.elsewhere:
            return
        for ws in self.sheets:
            ws.write_out_rows()
            ws._opt_close()  # and so its rows cannot be written here until finish(): the file is closed
            self._marks.append(os.path.getsize(ws.row_data_filename))
        read, write = os.pipe()
        self._started = time.monotonic()
        # No Ctrl-C between the fork and the child's own handling of it: an interrupt there would unwind the
        # child through the caller's code (closing the workbook, removing the scratch folder).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read)
            os.close(write)
            self._reopen()
            self.elsewhere = False
            return
        if pid == 0:  # the child: never returns
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                os.close(read)
                self._child(write)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # an interrupt held meanwhile is raised here
        os.close(write)
        self._pid, self._read = pid, read

    def _child(self, write: int) -> None:
        status = 1
        try:
            # Whatever the parent left for the collector stays uncollected here: a file object among it would
            # flush the parent's buffer into a shared file.
            gc.freeze()
            before = [_state(ws) for ws in self.sheets]
            formats = _formats(self.workbook)
            self._reopen()
            value = self.job()
            changes = []
            for ws, was in zip(self.sheets, before, strict=True):
                ws.write_out_rows()
                ws.row_data_fh.close()
                changes.append(_changes(ws, was))
            if _formats(self.workbook) != formats:
                raise RuntimeError("scrivendo le righe è cambiata la numerazione dei formati")
            message = pickle.dumps(("fatto", value, changes))
            status = 0
        except BaseException:  # told to the parent, which writes the rows itself
            message = pickle.dumps(("errore", traceback.format_exc(), None))
        try:
            with os.fdopen(write, "wb") as pipe:
                pipe.write(message)
        finally:
            os._exit(status)

    def _reopen(self) -> None:
        for ws in self.sheets:
            ws.row_data_fh = ws.fh = open(ws.row_data_filename, "a", encoding="utf-8")  # noqa: SIM115
            ws.row_data_fh_closed = False

    def finish(self) -> T:
        if not self.elsewhere:
            return self.job()
        read, self._read = self._read, -1  # closed below, whatever happens (never twice: it may be reused)
        waited = max(MIN_WAIT, WAIT_FACTOR * (time.monotonic() - self._started))
        with os.fdopen(read, "rb", buffering=0) as pipe:
            message = _read_until(pipe, time.monotonic() + waited)
        if message is None:
            os.kill(self._pid, signal.SIGKILL)
        try:
            status = os.waitpid(self._pid, 0)[1]
        except ChildProcessError:  # reaped by the system after all (SIGCHLD ignored since the fork)
            status = 0 if message else -1
        self._pid = 0
        try:
            kind, value, changes = pickle.loads(message or b"")
        except Exception:  # a child that died before saying anything, or was stopped
            late = f"non ha finito in {waited:.0f} s" if message is None else ""
            kind, value, changes = "errore", late or f"stato di uscita {status}", None
        if kind == "fatto" and status == 0:
            for ws, change in zip(self.sheets, changes, strict=True):
                for key, item in change.items():
                    setattr(ws, key, item)
            self._reopen()
            self.ran_elsewhere = True
            return value  # type: ignore[no-any-return]
        # The rows again, here, from where the child started (why the child did not: ``motivo``).
        self.motivo = str(value)
        for ws, mark in zip(self.sheets, self._marks, strict=True):
            os.truncate(ws.row_data_filename, mark)
        self._reopen()
        return self.job()

    def abandon(self) -> None:
        """The child stopped and waited for, when the parent gives up the workbook (an error, an interrupt)."""
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._pid = 0
        if self._read >= 0:
            with contextlib.suppress(OSError):
                os.close(self._read)
            self._read = -1


def _read_until(pipe: Any, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None if ``deadline`` (monotonic) comes first."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
            return None
        chunk = pipe.read(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _state(ws: FastWorksheet) -> dict[str, Any]:
    """Each attribute of ``ws``: a single value as it is, a container by what it shows (``repr``: its items,
    and the identity of any object among them), any other object by its identity."""
    state: dict[str, Any] = {}
    for key, value in vars(ws).items():
        if key in _OWN:
            continue
        if isinstance(value, _SCALARS):
            state[key] = value
        elif isinstance(value, _CONTAINERS):
            state[key] = ("contenuto", len(value) if key in _TRANSIENT else repr(value))
        else:
            state[key] = ("oggetto", id(value))
    return state


def _changes(ws: FastWorksheet, before: dict[str, Any]) -> dict[str, Any]:
    """What writing the rows changed of ``ws``: single values; anything else changed is an error (a transient
    container must be empty again)."""
    changes: dict[str, Any] = {}
    after = _state(ws)
    for key in before.keys() | after.keys():
        value = after.get(key, ("assente",))
        if before.get(key, ("assente",)) == value:
            continue
        if key in after and isinstance(value, _SCALARS):
            changes[key] = value
        elif key not in _TRANSIENT or value != ("contenuto", 0):
            raise RuntimeError(f"{ws.name}: scrivendo le righe è cambiato anche {key}")
    return changes


def _formats(workbook: Any) -> tuple[int, ...]:
    """How many formats the workbook has numbered (cells, conditional formats, number formats)."""
    if workbook is None:
        return ()
    return tuple(
        len(getattr(workbook, name, ())) for name in ("xf_format_indices", "dxf_format_indices", "num_formats")
    )
