"""Assegnazioni and Personale written by a forked process beside the other sheets (``master/beside.py``).

The file must be the same, byte for byte, whether one process writes every sheet or two share them; and
whatever happens to the second process (an error, a kill, a state it was not meant to touch), the parent
writes the same rows itself and the file is still the same.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter  # type: ignore[import-untyped]

from seregno_xlsx.limits import MAX_CELL_TEXT
from seregno_xlsx.master import beside as beside_module
from seregno_xlsx.master.beside import Beside
from seregno_xlsx.master.fast_sheet import FastWorksheet, Formula
from seregno_xlsx.piano.model import Piano, Rilevazione
from tests.test_master_writer import piano, write

# Linux only (elsewhere the master is written by one process); with another thread running, the tests that
# expect the child fail rather than skip.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork solo su Linux")


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as the command's is when the master is written: one thread. Another test's library
    (tqdm, through the second formula engine) leaves its monitor thread running, and with it the master is
    rightly written by one process; here, where the fork is under test, that monitor is stopped."""
    tqdm = sys.modules.get("tqdm")
    monitor = getattr(getattr(tqdm, "tqdm", None), "monitor", None)
    if monitor is not None:
        monitor.exit()
        monkeypatch.setattr(tqdm.tqdm, "monitor", None)  # type: ignore[union-attr]
        monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)  # type: ignore[union-attr]
    assert threading.active_count() == 1, threading.enumerate()


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each ``Beside`` of the test ran its job in the child (``ran_elsewhere``), in order."""
    seen: list[bool] = []
    finish = Beside.finish

    def spy(self: Beside[object]) -> object:
        value = finish(self)
        seen.append(self.ran_elsewhere)
        return value

    monkeypatch.setattr(Beside, "finish", spy)
    return seen


def _long_names(plan: Piano) -> Piano:
    """The plan with one person's name longer than a cell holds (the master cuts it and counts it) and one
    person's share and dates given (counted as values written): what the child must carry over."""
    area = plan.aree[0]
    ob = area.obiettivi[0]
    first = ob.risorse_umane[0].model_copy(update={"nome": "Rossi " + "x" * MAX_CELL_TEXT})
    second = ob.risorse_umane[1].model_copy(update={"quota": 40.0})
    ob = ob.model_copy(update={"risorse_umane": [first, second]})
    area = area.model_copy(update={"obiettivi": [ob, *area.obiettivi[1:]]})
    return plan.model_copy(update={"aree": [area, *plan.aree[1:]]})


@pytest.mark.parametrize("rilevazione", [Rilevazione.INTERMEDIA, Rilevazione.FINALE])
def test_master_written_by_two_processes_is_the_same_file(
    tmp_path: Path, rilevazione: Rilevazione, ran: list[bool]
) -> None:
    plan = _long_names(piano())
    one = write(tmp_path / "uno.xlsx", plan, rilevazione, processi=1)
    assert ran == [False]
    two = write(tmp_path / "due.xlsx", plan, rilevazione, processi=2)
    assert ran == [False, True]  # the second time, Assegnazioni and Personale came from the child
    assert (tmp_path / "uno.xlsx").read_bytes() == (tmp_path / "due.xlsx").read_bytes()
    # What the child counted reached the summary (and so Riepilogo's notes, which are in the bytes above).
    assert one == two
    assert two.testi_troncati >= 1 and two.valori_scritti > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["due.xlsx", "uno.xlsx"]  # no temporary file left


# -- Beside on a bare workbook ------------------------------------------------------------------------------


def _book(path: Path, how: Callable[[list[FastWorksheet], Callable[[], int]], int]) -> int:
    """A workbook of two sheets, «Qui» written by this process, «Accanto» by ``job`` as ``how`` runs it."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    workbook.worksheet_class = FastWorksheet
    workbook.set_properties({"created": datetime(2021, 12, 31)})  # else the time it is: bytes to compare
    fmt = workbook.add_format({"bold": True})
    fmt._get_xf_index()
    here, there = workbook.add_worksheet("Qui"), workbook.add_worksheet("Accanto")
    there.write_string(0, 0, "intestazione", fmt)  # pending when the child starts
    there.set_column(0, 0, 12)
    there.fmt, there.book = fmt, workbook

    def job() -> int:
        for r in range(1, 400):
            there.write_cells(r, [(0, f"riga {r}", fmt), (1, r * 1.5, fmt), (2, Formula(f"=B{r + 1}*2", r * 3.0), fmt)])
        return 399

    try:
        return how([there], job)
    finally:
        for r in range(300):
            here.write_cells(r, [(0, f"qui {r}", fmt)])
        workbook.close()


def _serial(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
    return job()


def _beside(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
    started = Beside(sheets, job, elsewhere=True, workbook=sheets[0].book)
    started.start()
    value = started.finish()
    assert started.ran_elsewhere and not started.motivo
    return value


def _fallback(sheets: list[FastWorksheet], job: Callable[[], int], why: str = "") -> int:
    """The job run by the parent, after the child (if any) did not: ``why`` is in the reason kept."""
    started = Beside(sheets, job, elsewhere=True, workbook=sheets[0].book)
    started.start()
    value = started.finish()
    assert not started.ran_elsewhere and why in started.motivo
    return value


def _reference(tmp_path: Path) -> bytes:
    assert _book(tmp_path / "riferimento.xlsx", _serial) == 399
    return (tmp_path / "riferimento.xlsx").read_bytes()


def test_a_sheet_written_beside_is_the_same(tmp_path: Path) -> None:
    expected = _reference(tmp_path)
    assert _book(tmp_path / "accanto.xlsx", _beside) == 399
    assert (tmp_path / "accanto.xlsx").read_bytes() == expected


def _in_child_only(action: Callable[[], None], job: Callable[[], int]) -> Callable[[], int]:
    parent = os.getpid()

    def wrapped() -> int:
        value = job()
        if os.getpid() != parent:
            action()
        return value

    return wrapped


def test_an_error_in_the_child_leaves_the_rows_to_the_parent(tmp_path: Path) -> None:
    """The child wrote every row, then failed: its rows are cut off the file, the parent writes them again."""
    expected = _reference(tmp_path)

    def fail() -> None:
        raise RuntimeError("guasto nel processo accanto")

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        return _fallback(sheets, _in_child_only(fail, job), "guasto nel processo accanto")

    assert _book(tmp_path / "errore.xlsx", how) == 399
    assert (tmp_path / "errore.xlsx").read_bytes() == expected


def test_a_child_killed_leaves_the_rows_to_the_parent(tmp_path: Path) -> None:
    expected = _reference(tmp_path)

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        return _fallback(sheets, _in_child_only(die, job), "stato di uscita")

    assert _book(tmp_path / "ucciso.xlsx", how) == 399
    assert (tmp_path / "ucciso.xlsx").read_bytes() == expected


def test_a_child_that_changes_more_than_rows_is_not_trusted(tmp_path: Path) -> None:
    """A column width set by the job would be lost with the child: the parent does the job again itself."""

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        def wider() -> int:
            sheets[0].set_column(5, 5, 30)
            return job()

        return _fallback(sheets, wider, "è cambiato anche col_info")

    def serial(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        sheets[0].set_column(5, 5, 30)
        return job()

    _book(tmp_path / "riferimento.xlsx", serial)
    _book(tmp_path / "colonna.xlsx", how)
    assert (tmp_path / "colonna.xlsx").read_bytes() == (tmp_path / "riferimento.xlsx").read_bytes()


def test_the_parent_cannot_write_a_sheet_written_beside(tmp_path: Path) -> None:
    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        started = Beside(sheets, job, elsewhere=True)
        started.start()
        try:
            sheets[0].write_cells(500, [(0, "di nascosto", sheets[0].fmt)])  # made, written out below
            with pytest.raises(ValueError, match="closed file"):
                sheets[0].write_out_rows()
        finally:
            value = started.finish()
        return value

    _book(tmp_path / "vietato.xlsx", how)


def test_abandon_stops_the_child_at_once(tmp_path: Path) -> None:
    pids: list[int] = []

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        started = Beside(sheets, lambda: time.sleep(60) or 0, elsewhere=True)
        started.start()
        pids.append(started._pid)
        began = time.monotonic()
        started.abandon()
        assert time.monotonic() - began < 10
        return 0  # the workbook given up (closed here all the same, with the rows written before)

    _book(tmp_path / "lasciato.xlsx", how)
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(pids[0], os.WNOHANG)


def test_without_fork_the_parent_writes_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _reference(tmp_path)
    monkeypatch.setattr(beside_module, "can_fork", lambda: False)
    assert _book(tmp_path / "senza.xlsx", _fallback) == 399
    assert (tmp_path / "senza.xlsx").read_bytes() == expected


def test_with_another_thread_running_the_parent_writes_the_rows(tmp_path: Path) -> None:
    """A library caller's thread may hold a lock at the moment of a fork: then no fork, the same file."""
    import threading

    expected = _reference(tmp_path)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _book(tmp_path / "thread.xlsx", _fallback) == 399
    finally:
        stop.set()
        other.join()
    assert (tmp_path / "thread.xlsx").read_bytes() == expected


def test_a_child_that_does_not_finish_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the wait (here shortened), the child is stopped and the parent writes the rows: the same file."""
    expected = _reference(tmp_path)
    monkeypatch.setattr(beside_module, "MIN_WAIT", 1.0)
    monkeypatch.setattr(beside_module, "WAIT_FACTOR", 0.0)

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        return _fallback(sheets, _in_child_only(lambda: time.sleep(60), job), "non ha finito in 1 s")

    began = time.monotonic()
    assert _book(tmp_path / "fermo.xlsx", how) == 399
    assert time.monotonic() - began < 30
    assert (tmp_path / "fermo.xlsx").read_bytes() == expected


@pytest.mark.parametrize("change", ["larghezza", "collegamento", "formato"])
def test_a_child_that_changes_what_is_not_a_row_is_not_trusted(tmp_path: Path, change: str) -> None:
    """A width changed on a column that had one, a link (kept in a file of its own), a format first numbered
    in the child: each would be lost with the child, so the parent does the job itself, the same file."""

    def extra(sheet: FastWorksheet) -> None:
        if change == "larghezza":
            sheet.set_column(0, 0, 30)  # as many columns as before: their content differs
        elif change == "collegamento":
            sheet.write_url(450, 0, "internal:Qui!A1", sheet.fmt, "vai")
        else:
            sheet.write_cells(450, [(0, "in corsivo", sheet.book.add_format({"italic": True}))])

    def serial(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        value = job()
        extra(sheets[0])
        return value

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        def more() -> int:
            value = job()
            extra(sheets[0])
            return value

        why = {"larghezza": "col_info", "collegamento": "_links", "formato": "formati"}[change]
        return _fallback(sheets, more, why)

    _book(tmp_path / "riferimento.xlsx", serial)
    _book(tmp_path / "accanto.xlsx", how)
    assert (tmp_path / "accanto.xlsx").read_bytes() == (tmp_path / "riferimento.xlsx").read_bytes()


def test_with_sigchld_ignored_the_parent_writes_the_rows(tmp_path: Path) -> None:
    """A caller that ignores SIGCHLD (it survives exec): the system would reap the child before it is waited
    for, so no fork; the same file."""
    expected = _reference(tmp_path)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert _book(tmp_path / "sigchld.xlsx", _fallback) == 399
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert (tmp_path / "sigchld.xlsx").read_bytes() == expected


def test_consolida_started_with_sigchld_ignored_writes_the_master(tmp_path: Path) -> None:
    """The installed command, exec'd by a process that ignores SIGCHLD, with two processes."""
    import shutil
    import subprocess

    script = shutil.which("seregno-xlsx", path=str(Path(sys.executable).parent))
    assert script is not None
    master = tmp_path / "m.xlsx"
    launcher = (
        "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
    )
    returns = Path(__file__).resolve().parents[1] / "esempi" / "ritorni"
    done = subprocess.run(
        [sys.executable, "-c", launcher, script, "consolida", str(returns), "-o", str(master), "--processi", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    assert master.exists()


def test_the_child_ignores_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the group: the parent, interrupted, stops the child; the child itself
    goes on (an interrupt there would unwind it through the caller's code)."""
    expected = _reference(tmp_path)

    def interrupt() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # delivered meanwhile, if it were not ignored

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        parent = os.getpid()

        def job_interrupted() -> int:
            if os.getpid() != parent:
                interrupt()
            return job()

        return _beside(sheets, job_interrupted)

    assert _book(tmp_path / "ctrl-c.xlsx", how) == 399
    assert (tmp_path / "ctrl-c.xlsx").read_bytes() == expected


def test_when_the_parent_fails_too_its_error_is_the_one_raised(tmp_path: Path) -> None:
    """The child failed and the parent's own run of the job fails (a full disk fails both): the parent's
    error comes out, and giving up afterwards closes nothing the sheets still use."""

    def how(sheets: list[FastWorksheet], job: Callable[[], int]) -> int:
        def failing() -> int:
            raise OSError(28, "disco pieno")

        started = Beside(sheets, failing, elsewhere=True, workbook=sheets[0].book)
        started.start()
        with pytest.raises(OSError, match="disco pieno"):
            started.finish()
        assert "disco pieno" in started.motivo
        started.abandon()
        return job()  # its rows' file still open, not closed by mistake: the rows written after all

    expected = _reference(tmp_path)
    assert _book(tmp_path / "entrambi.xlsx", how) == 399
    assert (tmp_path / "entrambi.xlsx").read_bytes() == expected
