"""Findings kept compressed, with the file each was found in: what a run over thousands of files holds.

A finding as a model is about 1.2 KB (its message names the sheet, the cell, the value and the fix);
``consolida`` keeps every finding of every file until the master and the summary are written, so at a
few thousand files they were the largest thing alive. Here they are kept in chunks, pickled and
compressed (a chunk of findings of one kind and file compresses to a tenth), and made into models
again one chunk at a time.

The chunks are made here from our own models and never leave the process: nothing read from a file is
ever unpickled.
"""

from __future__ import annotations

import bisect
import pickle
import zlib
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from typing import Any, overload

from seregno_xlsx.findings import Anomalia
from seregno_xlsx.lazy_sequence import LazySequence

# Findings per chunk: large enough to compress well (messages repeat their wording), small enough that
# the one chunk held as models while it is read stays a few hundred KB.
CHUNK = 256


def _pack(anomalie: list[Anomalia]) -> bytes:
    return zlib.compress(pickle.dumps(anomalie, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _unpack(blob: bytes) -> list[Anomalia]:
    anomalie: list[Anomalia] = pickle.loads(zlib.decompress(blob))
    return anomalie


class AnomalieCompresse(LazySequence[Anomalia], MutableSequence[Anomalia]):
    """Findings in order, each with the file it was found in ("" for findings across files).

    Each access gives models equal to those added, not the same objects: nothing may key them by ``id``.
    Adding at the end (``append``, ``extend``) is what it is made for; changing a finding in place or in
    the middle makes the whole list again (correct, and slow: nothing in a run does it).
    """

    def __init__(self, anomalie: Iterable[Anomalia] = (), file: str = "") -> None:
        self._clear()
        self.extend(anomalie, file)

    def _clear(self) -> None:
        self._chunks: list[bytes] = []
        self._starts: list[int] = []  # the index of each chunk's first finding
        self._pending: list[Anomalia] = []
        # The file of each finding, as an index into the distinct names (a name repeats for a file's findings).
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}
        self._file_of: list[int] = []
        # The one chunk last made into models by an index (reading in order makes each chunk once).
        self._cached: tuple[int, list[Anomalia]] | None = None

    def append(self, anomalia: Anomalia, file: str = "") -> None:
        index = self._file_index.get(file)
        if index is None:
            index = self._file_index[file] = len(self._files)
            self._files.append(file)
        self._file_of.append(index)
        self._pending.append(anomalia)
        if len(self._pending) == CHUNK:
            self.seal()

    def extend(self, anomalie: Iterable[Anomalia], file: str = "") -> None:
        for anomalia in list(anomalie) if anomalie is self else anomalie:
            self.append(anomalia, file)

    def seal(self) -> AnomalieCompresse:
        """Compress what was added since the last chunk, however few (a file's findings, kept for a run)."""
        if self._pending:
            self._starts.append(len(self) - len(self._pending))
            self._chunks.append(_pack(self._pending))
            self._pending = []
        return self

    def file_of(self, index: int) -> str:
        """The file the finding at ``index`` was found in ("" for a finding across files)."""
        return self._files[self._file_of[index]]

    def files(self) -> list[str]:
        """The file of each finding, in the findings' order."""
        return [self._files[i] for i in self._file_of]

    def __len__(self) -> int:
        return len(self._file_of)

    def _item(self, position: int) -> Anomalia:
        pending_from = len(self) - len(self._pending)
        if position >= pending_from:
            return self._pending[position - pending_from]
        number = bisect.bisect_right(self._starts, position) - 1
        if self._cached is None or self._cached[0] != number:
            self._cached = (number, _unpack(self._chunks[number]))
        return self._cached[1][position - self._starts[number]]

    def __iter__(self) -> Iterator[Anomalia]:
        for blob in list(self._chunks):
            # Each chunk made once, and let go when the next one is made: not kept in ``_cached``.
            yield from _unpack(blob)
        yield from list(self._pending)

    # Changes in place or in the middle: the list made again (see the class).
    @overload
    def __setitem__(self, index: int, value: Anomalia) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[Anomalia]) -> None: ...

    def __setitem__(self, index: int | slice, value: Anomalia | Iterable[Anomalia]) -> None:
        pairs = self._pairs()
        if isinstance(index, slice):
            assert not isinstance(value, Anomalia)
            start, stop, step = index.indices(len(pairs))
            if step != 1:
                raise ValueError("assegnazione a passo diverso da 1 non ammessa")
            pairs[start:stop] = [(a, "") for a in value]  # a finding put in place names no file
        else:
            assert isinstance(value, Anomalia)
            position = self._position(index)
            pairs[position] = (value, pairs[position][1])
        self._rebuild(pairs)

    @overload
    def __delitem__(self, index: int) -> None: ...

    @overload
    def __delitem__(self, index: slice) -> None: ...

    def __delitem__(self, index: int | slice) -> None:
        pairs = self._pairs()
        del pairs[index if isinstance(index, slice) else self._position(index)]
        self._rebuild(pairs)

    def insert(self, index: int, value: Anomalia) -> None:
        pairs = self._pairs()
        pairs.insert(index, (value, ""))
        self._rebuild(pairs)

    def reverse(self) -> None:
        """In place, each finding with its file (once, not one change at a time)."""
        self._rebuild(self._pairs()[::-1])

    def sort(self, *, key: Callable[[Anomalia], Any], reverse: bool = False) -> None:
        """As ``list.sort`` (stable), each finding with its file."""
        pairs = self._pairs()
        pairs.sort(key=lambda pair: key(pair[0]), reverse=reverse)
        self._rebuild(pairs)

    def __add__(self, other: Iterable[Anomalia]) -> list[Anomalia]:
        return [*self, *other]

    def __radd__(self, other: Iterable[Anomalia]) -> list[Anomalia]:
        return [*other, *self]

    def _pairs(self) -> list[tuple[Anomalia, str]]:
        """Every finding with its file: what a change in place or in the middle makes the list again from."""
        return list(zip(self, self.files(), strict=True))

    def _rebuild(self, pairs: list[tuple[Anomalia, str]]) -> None:
        sealed = bool(self._chunks)
        self._clear()
        for anomalia, file in pairs:
            self.append(anomalia, file)
        if sealed:
            self.seal()

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_cached": None}  # a worker sends the compressed chunks, never the models

    def __repr__(self) -> str:
        return f"AnomalieCompresse({len(self)} anomalie)"
