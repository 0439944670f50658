"""Reading and checking many returned files on every core, with the serial run's result.

Each file is read in a worker process (``processi`` of them; 1 reads in this process). The results
come back in the order of the files, each as the serial run gives it, so what follows (classification,
the master, the findings' order) is the same whatever the number of processes. A file that kills its
worker (a crash in a library, the system ending a process out of memory) is read again alone, in a
process of its own; if it kills that one too, it is that file's finding, and every other file is read.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from seregno_xlsx.findings import Gravita, finding
from seregno_xlsx.findings_store import AnomalieCompresse
from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.compresse import Deposito, compress, expand
from seregno_xlsx.piano.model import Area, Piano, Rilevazione, round_value_field
from seregno_xlsx.processes import workers_for
from seregno_xlsx.ritorni.reader import Lettura, unreadable
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.texts import Testi

# A returned file's reading as ``consolidate`` keeps it (see ``slim``).
Reader = Callable[[Path, "Richiesta"], Lettura]


@dataclass(frozen=True)
class Richiesta:
    """What every file is read and checked with: the same for all, sent to each worker once."""

    # Compact (``piano/compatto.py``): each worker holds a few KB per area, not the plan's models.
    piano: Piano | PianoCompatto | None = None
    data_riferimento: date | None = None
    password_apertura: str | None = None


def verify_for_consolidation(path: Path, richiesta: Richiesta) -> Lettura:
    """``verify_file``, then only what the master and the findings need (see ``slim``)."""
    lettura = verify_file(
        path,
        piano=richiesta.piano,
        data_riferimento=richiesta.data_riferimento,
        password_apertura=richiesta.password_apertura,
    )
    return slim(lettura)


@dataclass
class LetturaCompatta(Lettura):
    """A reading kept for ``consolida``: the compilation compressed (``compilazione`` makes it again),
    ``compilata`` only its name and code (what finds the area; ``leggibile`` holds)."""

    compressa: bytes = b""
    # The codes of the indicators whose value of each round (by field) is invalid (``invalid_codes``),
    # when the positions were let go (not for a final-round scheda, whose cells the checks name).
    non_validi: dict[str, set[str]] | None = None
    # Once back from the worker, ``compressa`` waits in a temporary file (``verify_files(cartella=)``).
    deposito: Deposito | None = field(default=None, repr=False, compare=False)
    posto: int = -1

    def compilazione(self) -> Area | None:
        """A fresh copy of the compilation, as models (nobody else holds it: it may be changed in place)."""
        blob = self.compressed()
        return expand(blob) if blob else self.compilata

    def compressed(self) -> bytes:
        """The compilation as the worker compressed it (``compress``); empty if there is none."""
        return self.deposito[self.posto] if self.deposito is not None else self.compressa

    def deposit(self, deposito: Deposito) -> None:
        """The compressed compilation into ``deposito``: a reading then holds its position, not its bytes."""
        if self.compressa and self.deposito is None:
            self.posto, self.deposito, self.compressa = deposito.append(self.compressa), deposito, b""

    def release(self) -> None:
        """The compilation let go (it is held elsewhere now): ``compilazione`` gives the stub."""
        self.compressa, self.deposito, self.posto = b"", None, -1


def compilation(lettura: Lettura) -> Area | None:
    """The compilation of any reading, compressed by ``slim`` or not."""
    return lettura.compilazione() if isinstance(lettura, LetturaCompatta) else lettura.compilata


def invalid_codes(lettura: Lettura, area: Area, field: str) -> set[str]:
    """Codes of the indicators of ``area`` (the reading's compilation) whose ``field`` cell has an ``errore``
    finding: an invalid value, which counts as a missing one (``master/scoring.py``)."""
    cells = {(a.foglio, a.cella) for a in lettura.anomalie if a.gravita is Gravita.ERRORE and a.cella}
    codes = {i.codice for o in area.obiettivi for i in o.indicatori}
    return {code for code in codes if lettura.locate("indicatori", code, field) in cells}


def slim(lettura: Lettura) -> Lettura:
    """Drop what only the reading needed: a run over thousands of files holds a few values per file.

    Kept: the compilation, compressed (``LetturaCompatta``), the findings, the snapshot without its copy
    of the area's rows (the compilation has them), and instead of the cells' positions which indicators'
    round values are invalid (``invalid_codes``).
    A final-round scheda keeps its rows and every position: the checks between rounds compare what it
    was prefilled with and name the cells (``master/rounds.py``).
    """
    lettura.griglia = None
    lettura.canonico = {}
    final = lettura.metadati is not None and lettura.metadati.rilevazione is Rilevazione.FINALE
    invalid = None
    if not final:
        if lettura.compilata is not None:
            # Only the rounds with an invalid value: an empty set is 216 bytes, thousands of readings hold them.
            compiled = lettura.compilata
            found = ((field, invalid_codes(lettura, compiled, field)) for field in map(round_value_field, Rilevazione))
            invalid = {field: codes for field, codes in found if codes}
        lettura.posizioni = {}
    if not final and lettura.metadati is not None:
        area = lettura.metadati.area
        light = area.model_construct(**{**dict(area), "obiettivi": []})
        lettura.metadati = lettura.metadati.model_construct(**{**dict(lettura.metadati), "area": light})
    # A few findings per file, each about 1.2 KB as a model: compressed, a tenth (``findings_store.py``).
    lettura.anomalie = AnomalieCompresse(lettura.anomalie).seal()
    if lettura.compilata is None:
        return lettura
    kept = LetturaCompatta(**{f.name: getattr(lettura, f.name) for f in fields(Lettura)})
    kept.compressa = compress(lettura.compilata)
    kept.non_validi = invalid
    kept.compilata = _stub(lettura.compilata)
    return kept


def _stub(area: Area) -> Area:
    return Area.model_construct(codice=area.codice, nome=area.nome, obiettivi=[])


def verify_files(
    paths: Sequence[Path],
    richiesta: Richiesta,
    *,
    processi: int | None = None,
    reader: Reader = verify_for_consolidation,
    cartella: Path | None = None,
) -> list[Lettura]:
    """Every file read with ``reader``, in the order given; ``processi`` 1 reads them here, one by one.

    ``reader`` must be a module-level function (it travels to the workers by name). With ``cartella``,
    each compressed compilation waits there, in a temporary file, as soon as its reading is back
    (``LetturaCompatta.deposit``): thousands of readings hold a few bytes each of their compilations.
    """
    keep = _keeper(cartella)
    workers = workers_for(processi, len(paths))
    if workers == 1:
        with few_collections():
            return [keep(_safely(reader, path, richiesta)) for path in paths]
    results: dict[int, Lettura] = {}
    try:
        lost = _run_pool(paths, range(len(paths)), richiesta, reader, workers, results, keep)
    except (OSError, NotImplementedError):  # no processes here (a sandbox, no semaphores): read serially
        lost = []
        results.update((i, keep(_safely(reader, p, richiesta))) for i, p in enumerate(paths) if i not in results)
    # A worker died: every file it left unread is read again, each alone in a process of its own (as many
    # at once as there are workers), so the file that kills its process is found and only it is lost.
    with ThreadPoolExecutor(max_workers=workers) as threads:
        alone = threads.map(lambda i: _run_alone(paths[i], richiesta, reader), lost)
        results.update(zip(lost, map(keep, alone), strict=True))
    return [results[i] for i in range(len(paths))]


def _run_pool(
    paths: Sequence[Path],
    indexes: Sequence[int],
    richiesta: Richiesta,
    reader: Reader,
    workers: int,
    results: dict[int, Lettura],
    keep: Callable[[Lettura], Lettura],
) -> list[int]:
    """Read ``indexes`` on ``workers`` processes; the indexes a broken pool left unread."""
    lost: list[int] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(richiesta, reader)) as pool:
        futures: list[tuple[int, Future[Lettura]]] = [(i, pool.submit(_work, paths[i])) for i in indexes]
        for index, future in futures:
            try:
                results[index] = keep(future.result())
            except BrokenProcessPool:
                lost.append(index)
    return lost


def _keeper(cartella: Path | None) -> Callable[[Lettura], Lettura]:
    """What is done to each reading as it comes back, before the next: with ``cartella`` its compilation
    goes to disk; always, its texts are the ones an earlier reading brought, if equal."""
    deposito = Deposito(cartella) if cartella is not None else None
    share = _texts_sharer()

    def keep(lettura: Lettura) -> Lettura:
        if deposito is not None and isinstance(lettura, LetturaCompatta):
            lettura.deposit(deposito)
        return share(lettura)

    return keep


def _texts_sharer() -> Callable[[Lettura], Lettura]:
    """The texts each scheda was generated with (``Metadati.testi``, some 8 KB as models) held once for all
    the readings that have the same: each file read, or each worker, made its own copy. Shared as each
    reading comes back, the copies never pile up while the rest are read (they did, until the end). Found
    by a digest of their content: files whose texts all differ (their own labels) cost one look each, not
    a comparison with every earlier one."""
    kept: dict[bytes, Testi] = {}

    def share(lettura: Lettura) -> Lettura:
        metadati = lettura.metadati
        if metadati is None:
            return lettura
        try:
            content = metadati.testi.model_dump_json().encode()
        except ValueError:  # a text JSON cannot hold (a lone surrogate): this reading keeps its own copy
            return lettura
        key = hashlib.blake2b(content, digest_size=16).digest()
        same = kept.setdefault(key, metadati.testi)
        if same is not metadati.testi and same == metadati.testi:
            lettura.metadati = metadati.model_copy(update={"testi": same})
        return lettura

    return share


def _run_alone(path: Path, richiesta: Richiesta, reader: Reader) -> Lettura:
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(richiesta, reader)) as pool:
            return pool.submit(_work, path).result()
    except BrokenProcessPool:
        return _died(path)


def _died(path: Path) -> Lettura:
    lettura = Lettura(file=path)
    lettura.anomalie.append(
        finding(
            "file-illeggibile",
            "la lettura del file ha interrotto il processo che lo leggeva (memoria esaurita o errore interno "
            "di una libreria): il file è escluso, gli altri sono letti",
            valore=path.name,
        )
    )
    return lettura


# The worker's request and reader, set once per process by ``_init``.
_REQUEST: Richiesta | None = None
_READER: Reader | None = None


def _init(richiesta: Richiesta, reader: Reader) -> None:
    global _REQUEST, _READER
    _REQUEST, _READER = richiesta, reader
    _collect_seldom()  # a worker only reads: for the rest of its life


# Net allocations between two collections of the youngest generation while files are read (Python's
# default is 700). Reading one file allocates some hundred thousand objects (cells, rows, the area's
# models) that die by reference count when the file is done, not in cycles: collecting every 700 found
# nothing and cost a tenth of the reading. Cycles still go, after 20,000 allocations (a few MB at most).
READING_THRESHOLD = 20_000


@contextmanager
def few_collections() -> Iterator[None]:
    """Files read here, serially: the garbage collector seldom, and never over what lived before.

    What lives when the reading starts (the plan, the modules) stays alive through it: frozen
    (``gc.freeze``), a collection does not walk it again and again as it did, a walk that grew with the
    plan's size. Both are undone afterwards (unless the caller had frozen objects itself: then left as
    they are). Only when collections happen changes, never what is read.
    """
    thresholds = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    _collect_seldom(freeze=ours)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if ours:
            gc.unfreeze()


def _collect_seldom(*, freeze: bool = True) -> None:
    if freeze:
        gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(READING_THRESHOLD, older, oldest)


def _work(path: Path) -> Lettura:
    assert _REQUEST is not None and _READER is not None
    return _safely(_READER, path, _REQUEST)


def _safely(reader: Reader, path: Path, richiesta: Richiesta) -> Lettura:
    """Whatever goes wrong reading one file is that file's finding, in a worker as in the serial run."""
    try:
        return reader(path, richiesta)
    except Exception as exc:
        lettura = Lettura(file=path)
        unreadable(lettura, exc)
        return lettura
