"""Each area's first findings, as its page in the master shows them, and how many it has.

The master's per-area pages list an area's first findings (``limit`` of them) and say how many there are.
Gathering them by holding every finding of the run grouped by area took, for a moment, every finding as a
model at once (about 1.2 KB each: 16 MiB at 800 areas, the writer's peak). Here one pass keeps of each
area only the rows its page shows, compressed as soon as the findings move on to another area (a file's
findings come together), and the count.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable

# What a page shows of a finding: fase or obiettivo, message, gravity, sheet, cell, code.
Row = tuple[str, str, str, str, str, str]


class PrimeAnomalie:
    """The first ``limit`` rows of each area (by its key), in the order met, and each area's count."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._blobs: dict[str, bytes] = {}
        self._counts: dict[str, int] = {}
        self._open: str | None = None
        self._rows: list[Row] = []

    def add(self, key: str, row: Row) -> None:
        count = self._counts.get(key, 0)
        self._counts[key] = count + 1
        if count >= self.limit:
            return
        if key != self._open:
            self._close()
            self._open, self._rows = key, self._load(key)
        self._rows.append(row)

    def extend(self, pairs: Iterable[tuple[str, Row]]) -> PrimeAnomalie:
        for key, row in pairs:
            self.add(key, row)
        self._close()
        return self

    def rows(self, key: str) -> list[Row]:
        if key == self._open:
            return list(self._rows)
        return self._load(key)

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def _close(self) -> None:
        if self._open is not None:
            self._blobs[self._open] = zlib.compress(pickle.dumps(self._rows, protocol=pickle.HIGHEST_PROTOCOL), 1)
            self._open, self._rows = None, []

    def _load(self, key: str) -> list[Row]:
        blob = self._blobs.get(key)
        rows: list[Row] = pickle.loads(zlib.decompress(blob)) if blob is not None else []
        return rows
