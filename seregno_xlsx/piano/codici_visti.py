"""Every code seen across the areas of a run, with the first area that used it: about 30 bytes a code.

The check that no code is used by two areas (``checks.TraAree``) must remember every code of every area:
a region's thousands of areas have hundreds of thousands of them. As Python strings in a dict each cost
about 110 bytes and stayed scattered among the short-lived models of each area (memory the process then
could not give back). Here each code is an 8-byte digest in a flat hash table (two arrays, open
addressing), with the area that owns it; a digest found again is confirmed on the owner's own codes
(kept compressed, one blob per area), so two codes that merely share a digest are never taken for the
same code. Plain arrays rather than numpy: importing numpy alone costs 14 MiB.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Sequence

# Slots per code at most: the table doubles before it is half full (short probes).
_LOAD = 2


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _pack(codes: Sequence[str]) -> bytes:
    """Each code exactly, length first (JSON would make two lone surrogates one character)."""
    parts = [code.encode("utf-8", "surrogatepass") for code in codes]
    return b"".join(len(part).to_bytes(4, "little") + part for part in parts)


def _unpack(packed: bytes) -> list[str]:
    codes, at = [], 0
    while at < len(packed):
        size = int.from_bytes(packed[at : at + 4], "little")
        codes.append(packed[at + 4 : at + 4 + size].decode("utf-8", "surrogatepass"))
        at += 4 + size
    return codes


class CodiciVisti:
    """``claim`` each area's codes in turn; it says, for each, which earlier area already used it."""

    def __init__(self) -> None:
        self._digests = array("Q", bytes(8 * 1024))
        self._owners = array("I", bytes(4 * 1024))  # the owner's index + 1; 0: an empty slot
        self._used = 0
        self._codes: list[bytes] = []  # per area, its codes (``_pack``), compressed
        self._opened: tuple[int, frozenset[str]] | None = None
        # The rare code whose digest another area's code already has: kept as it is.
        self._exact: dict[str, int] = {}

    def __len__(self) -> int:
        """The areas claimed so far."""
        return len(self._codes)

    def claim(self, codes: Sequence[str]) -> list[int | None]:
        """The next area's codes (each once): for each, the index of the earlier area that used it, or
        ``None`` (the code is this area's from now on). Areas are numbered 0, 1, ... in the order claimed."""
        area = len(self._codes)
        self._codes.append(zlib.compress(_pack(codes), 1))
        owners: list[int | None] = []
        for code in codes:
            exact = self._exact.get(code)
            if exact is not None:
                owners.append(exact)
                continue
            digest = _digest(code)
            slot = self._slot(digest)
            owner = self._owners[slot] - 1
            if owner < 0:  # a digest never seen: this area's
                self._put(slot, digest, area)
                owners.append(None)
            elif owner == area or code in self._codes_of(owner):
                # The owner's own code (or, for this area, a code of its own with the same digest).
                owners.append(None if owner == area else owner)
            else:  # an earlier area's code has this digest: this one is kept as it is
                self._exact[code] = area
                owners.append(None)
        return owners

    def _slot(self, digest: int) -> int:
        """The slot holding ``digest``, or the empty one where it would go."""
        mask = len(self._digests) - 1
        slot = digest & mask
        while self._owners[slot] and self._digests[slot] != digest:
            slot = (slot + 1) & mask
        return slot

    def _put(self, slot: int, digest: int, area: int) -> None:
        self._digests[slot], self._owners[slot] = digest, area + 1
        self._used += 1
        if self._used * _LOAD > len(self._digests):
            digests, owners = self._digests, self._owners
            self._digests = array("Q", bytes(16 * len(digests)))
            self._owners = array("I", bytes(8 * len(digests)))
            for old, owner in zip(digests, owners, strict=True):
                if owner:
                    new = self._slot(old)
                    self._digests[new], self._owners[new] = old, owner

    def _codes_of(self, area: int) -> frozenset[str]:
        if self._opened is None or self._opened[0] != area:
            self._opened = (area, frozenset(_unpack(zlib.decompress(self._codes[area]))))
        return self._opened[1]
