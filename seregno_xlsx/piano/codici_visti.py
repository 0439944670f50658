"""Every code seen across the areas of a run, with the first area that used it: about 20 bytes a code.

The check that no code is used by two areas (``checks.TraAree``) must remember every code of every area:
a region's thousands of areas have hundreds of thousands of them. As Python strings in a dict each cost
about 110 bytes and stayed scattered among the short-lived models of each area (memory the process then
could not give back). Here each code is an 8-byte digest in sorted arrays, with the area that owns it;
a digest found again is confirmed on the owner's own codes (kept compressed, one blob per area), so two
codes that merely share a digest are never taken for the same code.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # numpy is imported by the first claim: ``verifica`` of one file never pays for it
    import numpy as np
    import numpy.typing as npt

    Digests: TypeAlias = npt.NDArray[np.uint64]
    Owners: TypeAlias = npt.NDArray[np.uint32]


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class CodiciVisti:
    """``claim`` each area's codes in turn; it says, for each, which earlier area already used it."""

    def __init__(self) -> None:
        # Sorted runs of digests with their owners, merged as they grow (each merge at least doubles a
        # run): a lookup searches a few runs, and the runs' sorting costs about N log N in all.
        self._runs: list[tuple[Digests, Owners]] = []
        self._codes: list[bytes] = []  # per area, its codes as JSON, compressed
        self._opened: tuple[int, frozenset[str]] | None = None
        # The rare code whose digest another code already has: kept as it is.
        self._exact: dict[str, int] = {}

    def __len__(self) -> int:
        """The areas claimed so far."""
        return len(self._codes)

    def claim(self, codes: Sequence[str]) -> list[int | None]:
        """The next area's codes (each once): for each, the index of the earlier area that used it, or
        ``None`` (the code is this area's from now on). Areas are numbered 0, 1, ... in the order claimed."""
        import numpy as np

        area = len(self._codes)
        self._codes.append(zlib.compress(json.dumps(list(codes)).encode("utf-8", "surrogatepass"), 1))
        digests = np.fromiter((_digest(code) for code in codes), dtype=np.uint64, count=len(codes))
        found = self._owners(digests)
        owners: list[int | None] = []
        # Two codes of this area may share a digest: it names this area, where both are found.
        new: set[int] = set()
        for code, digest, owner in zip(codes, digests.tolist(), found.tolist(), strict=True):
            exact = self._exact.get(code)
            if exact is not None:
                owners.append(exact)
            elif owner >= 0 and code in self._codes_of(owner):
                owners.append(owner)
            elif owner >= 0:  # an earlier area's code has this digest: this one is kept as it is
                self._exact[code] = area
                owners.append(None)
            else:
                new.add(digest)
                owners.append(None)
        if new:
            self._add_run(np.fromiter(new, dtype=np.uint64, count=len(new)), area)
        return owners

    def _owners(self, digests: Digests) -> npt.NDArray[np.int64]:
        import numpy as np

        owners = np.full(len(digests), -1, dtype=np.int64)
        for run, run_owners in self._runs:
            at = np.minimum(np.searchsorted(run, digests), len(run) - 1)
            hit = run[at] == digests
            owners[hit] = run_owners[at[hit]]
        return owners

    def _add_run(self, digests: Digests, area: int) -> None:
        import numpy as np

        run: tuple[Digests, Owners] = (np.sort(digests), np.full(len(digests), area, dtype=np.uint32))
        while self._runs and len(self._runs[-1][0]) <= 2 * len(run[0]):
            last = self._runs.pop()
            merged = np.concatenate((last[0], run[0]))
            order = np.argsort(merged, kind="stable")
            run = (merged[order], np.concatenate((last[1], run[1]))[order])
        self._runs.append(run)

    def _codes_of(self, area: int) -> frozenset[str]:
        if self._opened is None or self._opened[0] != area:
            codes = json.loads(zlib.decompress(self._codes[area]).decode("utf-8", "surrogatepass"))
            self._opened = (area, frozenset(codes))
        return self._opened[1]
