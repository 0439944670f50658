"""Areas kept compressed, made into models again one at a time: what a run over thousands of areas holds.

An area as models is about 115 KB (12 objectives, 21 phases and indicators); pickled and compressed,
a few KB. ``consolida`` keeps each returned compilation so from the moment its file is verified (in the
worker, so it also travels compressed) until the master is written.

The blobs are made here from validated models and never leave the process but to this run's own
workers: nothing read from a file is ever unpickled.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from seregno_xlsx.piano.model import Area


def compress(area: Area) -> bytes:
    return zlib.compress(pickle.dumps(area, protocol=pickle.HIGHEST_PROTOCOL), 1)


def expand(blob: bytes) -> Area:
    """A fresh copy of the area nobody else holds: it may be changed in place."""
    area: Area = pickle.loads(zlib.decompress(blob))
    return area


class AreeCompresse(Sequence[Area]):
    """A read-only sequence of areas kept compressed: each access gives fresh models of one area.

    Two reads of one area give two equal copies, never the same object: code that matches areas or
    objectives by ``id`` must key them by position instead.
    """

    def __init__(self, aree: Iterable[Area] = ()) -> None:
        self._blobs: list[bytes] = [compress(area) for area in aree]

    @classmethod
    def of_blobs(cls, blobs: Iterable[bytes]) -> AreeCompresse:
        made = cls()
        made._blobs = list(blobs)
        return made

    def append(self, area: Area) -> None:
        self._blobs.append(compress(area))

    def drain(self) -> Iterator[Area]:
        """Each area once, in order, each let go as it is given: the sequence is empty afterwards."""
        for index, blob in enumerate(self._blobs):
            self._blobs[index] = b""
            yield expand(blob)
        self._blobs.clear()

    def __len__(self) -> int:
        return len(self._blobs)

    @overload
    def __getitem__(self, index: int) -> Area: ...

    @overload
    def __getitem__(self, index: slice) -> list[Area]: ...

    def __getitem__(self, index: int | slice) -> Area | list[Area]:
        if isinstance(index, slice):
            return [expand(blob) for blob in self._blobs[index]]
        return expand(self._blobs[index])

    def __iter__(self) -> Iterator[Area]:
        return (expand(blob) for blob in self._blobs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"AreeCompresse({len(self)} aree)"
