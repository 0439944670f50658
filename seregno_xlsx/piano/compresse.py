"""Areas kept compressed, made into models again one at a time: what a run over thousands of areas holds.

An area as models is about 115 KB (12 objectives, 21 phases and indicators); pickled and compressed,
a few KB, kept in a temporary file: in memory, 16 bytes per area. ``consolida`` keeps each returned
compilation so from the moment its file is verified (in the worker, so it also travels compressed)
until the master is written.

The blobs are made here from validated models and never leave the process but to this run's own
workers; the temporary file they wait in has no name (nothing else can open it): nothing read from a
returned file or a plan is ever unpickled.
"""

from __future__ import annotations

import array
import os
import pickle
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from seregno_xlsx.lazy_sequence import LazySequence
from seregno_xlsx.piano.model import Area


def compress(area: Area) -> bytes:
    return zlib.compress(pickle.dumps(area, protocol=pickle.HIGHEST_PROTOCOL), 1)


def expand(blob: bytes) -> Area:
    """A fresh copy of the area nobody else holds: it may be changed in place."""
    area: Area = pickle.loads(zlib.decompress(blob))
    return area


class Deposito:
    """Compressed areas in a temporary file: of each only where it is (16 bytes) stays in memory; ``append``
    gives its position, ``deposito[position]`` its bytes.

    The file is made in ``cartella`` (``consolida``: the master's folder, where its other temporary files
    go; else the system's temporary folder) and has no name: nothing is left behind, whatever ends the
    run, and nothing else can open it. Should it fail (a full disk, a folder that cannot be written), the
    blobs are kept in memory instead: a run is never stopped by it.
    """

    def __init__(self, cartella: Path | None = None) -> None:
        self.cartella = cartella
        self._file: IO[bytes] | None = None
        self._spans = array.array("Q")  # offset and length of each blob, in pairs
        self._end = 0
        self._memory: list[bytes] | None = None

    def append(self, blob: bytes) -> int:
        position = len(self)
        if self._memory is not None:
            self._memory.append(blob)
            return position
        try:
            if self._file is None:
                # Open as long as the sequence lives (closed by ``clear`` or when it is let go).
                self._file = tempfile.TemporaryFile(prefix=".seregno-xlsx-aree-", dir=self.cartella)  # noqa: SIM115
            _write_at(self._file, blob, self._end)
        except OSError:
            self._memory = [self[i] for i in range(len(self))] + [blob]
            self._close()
            return position
        self._spans.extend((self._end, len(blob)))
        self._end += len(blob)
        return position

    def __len__(self) -> int:
        return len(self._memory) if self._memory is not None else len(self._spans) // 2

    def __getitem__(self, index: int) -> bytes:
        if self._memory is not None:
            return self._memory[index]
        offset, length = self._spans[2 * index], self._spans[2 * index + 1]
        assert self._file is not None
        blob = _read_at(self._file, length, offset)
        if len(blob) != length:
            raise OSError(f"file temporaneo delle aree troncato (area {index + 1})")
        return blob

    def clear(self) -> None:
        self._memory = None if self._memory is None else []
        self._spans = array.array("Q")
        self._end = 0
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# By position, never by the file's offset: a worker process forked while the file is open shares its offset
# with this one (the plan's areas, read in every worker), and a seek here would move the worker's read.
def _write_at(file: IO[bytes], blob: bytes, offset: int) -> None:
    if hasattr(os, "pwrite"):
        if os.pwrite(file.fileno(), blob, offset) != len(blob):  # a full disk writes part of it
            raise OSError("disco pieno")
    else:  # Windows: no pwrite, and its workers are started afresh (nothing shared)
        file.seek(offset)
        file.write(blob)
        file.flush()  # a full disk says so now, not at a later read


def _read_at(file: IO[bytes], length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(file.fileno(), length, offset)
    file.seek(offset)
    return file.read(length)


class AreeCompresse(LazySequence[Area]):
    """A read-only sequence of areas kept compressed: each access gives fresh models of one area.

    Two reads of one area give two equal copies, never the same object: code that matches areas or
    objectives by ``id`` must key them by position instead. The compressed areas are kept in a temporary
    file (``Deposito``); a copy sent to a worker process carries them with it.
    """

    def __init__(self, aree: Iterable[Area] = (), *, cartella: Path | None = None) -> None:
        self._blobs = Deposito(cartella)
        # How many indicators the areas have in all (the master needs it before it reads the first area).
        self.indicatori = 0
        for area in aree:
            self.append(area)

    def append(self, area: Area, compressed: bytes = b"") -> None:
        """``compressed``: ``compress(area)`` if already made (a worker compressed the compilation that
        counts as it is): kept as it is, not made again."""
        self._blobs.append(compressed or compress(area))
        self.indicatori += sum(len(ob.indicatori) for ob in area.obiettivi)

    def drain(self) -> Iterator[Area]:
        """Each area once, in order: the sequence is empty afterwards."""
        for index in range(len(self._blobs)):
            yield expand(self._blobs[index])
        self._blobs.clear()
        self.indicatori = 0

    def __len__(self) -> int:
        return len(self._blobs)

    def _item(self, position: int) -> Area:
        return expand(self._blobs[position])

    def __iter__(self) -> Iterator[Area]:
        return (expand(self._blobs[i]) for i in range(len(self._blobs)))

    def __getstate__(self) -> dict[str, object]:
        blobs = [self._blobs[i] for i in range(len(self._blobs))]
        return {"blobs": blobs, "cartella": self._blobs.cartella, "indicatori": self.indicatori}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._blobs = Deposito(state["cartella"])
        self.indicatori = state["indicatori"]
        for blob in state["blobs"]:
            self._blobs.append(blob)

    def __repr__(self) -> str:
        return f"AreeCompresse({len(self)} aree)"
