"""The zip of a returned file: its directory measured before anything is inflated, then each entry
inflated in small chunks, counting the bytes actually produced (not the sizes the archive declares)
and stopping at the bound."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from seregno_xlsx.ritorni.bounds import CHUNK, MAX_ENTRIES, MAX_RATIO, MAX_UNCOMPRESSED_BYTES, UnreadableFile
from seregno_xlsx.ritorni.file_type import ZIP_MAGIC

# What ``Inflater.saw_dtd`` looks for (each shorter than the 16 bytes kept of the previous chunk).
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")


def check_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise UnreadableFile("file-troppo-grande", f"l'archivio contiene {len(infos)} elementi")
    total = 0
    seen: set[str] = set()
    for info in infos:
        # Two entries of one name (part names ignore case): programs disagree on which one they read, so
        # what the office sees in LibreOffice could differ from what is consolidated. No program saves that.
        if info.filename.casefold() in seen:
            raise UnreadableFile(
                "file-illeggibile",
                f"l'archivio contiene due volte l'elemento {safe_name(info.filename)}: "
                "non è un file salvato da Excel o LibreOffice",
            )
        seen.add(info.filename.casefold())
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_UNCOMPRESSED_BYTES or (ratio > MAX_RATIO and info.file_size > 1_048_576):
            raise UnreadableFile(
                "file-troppo-grande",
                f"l'elemento {safe_name(info.filename)} si espande oltre i limiti di sicurezza",
            )
        if info.flag_bits & 0x1:
            raise UnreadableFile("file-illeggibile", "l'archivio zip è cifrato: salvare il file senza password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableFile(
                "file-illeggibile", f"l'elemento {safe_name(info.filename)} usa una compressione non supportata"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFile("file-troppo-grande", "il contenuto decompresso supera i limiti di sicurezza")


def safe_name(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:120]


class Inflater(io.RawIOBase):
    """One zip entry inflated in chunks, refusing more bytes than declared, than the limits, or a bad CRC."""

    def __init__(self, data: bytes, info: zipfile.ZipInfo) -> None:
        super().__init__()
        self.info = info
        offset = info.header_offset
        if data[offset : offset + 4] != ZIP_MAGIC:
            raise zipfile.BadZipFile(info.filename)
        name_len, extra_len = struct.unpack("<HH", data[offset + 26 : offset + 30])
        start = offset + 30 + name_len + extra_len
        self.raw = memoryview(data)[start : start + info.compress_size]
        if len(self.raw) != info.compress_size:
            raise zipfile.BadZipFile(info.filename)
        self.limit = min(info.file_size, MAX_UNCOMPRESSED_BYTES)
        self.produced = 0
        self.crc = 0
        self.pos = 0
        self.inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        self.pending = b""
        self.done = False
        self.saw_dtd = False
        self.tail = b""

    @property
    def name(self) -> str:
        """The entry's name as the messages show it: made only for a message (most entries never need one)."""
        return safe_name(self.info.filename)

    def _next(self) -> bytes:
        if self.done:
            return b""
        # Never more than one byte past the declared size, whatever the compressed stream says.
        room = min(CHUNK, self.limit - self.produced + 1)
        if self.inflater is None:
            chunk = bytes(self.raw[self.pos : self.pos + room])
            self.pos += len(chunk)
            finished = not chunk
        else:
            source = self.inflater.unconsumed_tail
            if not source:
                source = bytes(self.raw[self.pos : self.pos + CHUNK])
                self.pos += len(source)
            try:
                chunk = self.inflater.decompress(source, room) if source else b""
            except zlib.error:
                raise UnreadableFile(
                    "file-illeggibile", f"il file è danneggiato: l'elemento {self.name} non si decomprime"
                ) from None
            finished = not chunk and (
                self.inflater.eof or (self.pos >= len(self.raw) and not self.inflater.unconsumed_tail)
            )
        self.produced += len(chunk)
        if self.produced > self.limit:
            if self.info.file_size > MAX_UNCOMPRESSED_BYTES:
                raise UnreadableFile("file-troppo-grande", f"l'elemento {self.name} supera i limiti di sicurezza")
            raise UnreadableFile(
                "file-troppo-grande",
                f"l'elemento {self.name} si espande oltre la dimensione dichiarata (archivio manipolato)",
            )
        self.crc = zlib.crc32(chunk, self.crc)
        if chunk:
            self.saw_dtd = self.saw_dtd or _dtd_mark(self.tail, chunk)
            self.tail = chunk[-16:]
        if finished:
            self.done = True
            if self.produced != self.info.file_size or (self.crc & 0xFFFFFFFF) != self.info.CRC:
                raise UnreadableFile(
                    "file-illeggibile", f"il file è danneggiato: l'elemento {self.name} è incompleto o alterato"
                )
        return chunk

    def chunks(self) -> Iterator[bytes]:
        while True:
            chunk = self._next()
            if not chunk:
                if self.done:
                    return
                continue
            yield chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.pending:
            while not self.pending and not self.done:
                self.pending = self._next()
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _dtd_mark(tail: bytes, chunk: bytes) -> bool:
    """Whether ``tail + chunk`` holds a mark of ``_DTD_MARKS``, without joining them (the chunk is never
    copied): a mark lies in the chunk, or begins in the tail, within the tail and the chunk's first bytes."""
    if b"<!" in chunk and any(mark in chunk for mark in _DTD_MARKS):
        return True
    if b"<" not in tail:
        return False
    window = tail + chunk[: max(map(len, _DTD_MARKS)) - 1]
    return any(mark in window for mark in _DTD_MARKS)


def inflate_all(data: bytes, info: zipfile.ZipInfo, limit: int = 4096) -> bytes:
    if info.file_size > limit:
        return b""
    return b"".join(Inflater(data, info).chunks())


class Inflated:
    """An entry inflated whole now (never more than its declared size), then given again as the
    ``Inflater`` gave it: the same chunks, the same error after them; ``saw_dtd`` over all of it."""

    def __init__(self, source: Inflater) -> None:
        self.source = source
        self.kept: list[bytes] = []
        self.error: UnreadableFile | None = None
        self.position = 0  # chunks already given again: a second ``chunks()`` goes on from there
        try:
            for chunk in source.chunks():
                self.kept.append(chunk)
        except UnreadableFile as exc:
            self.error = exc

    @property
    def saw_dtd(self) -> bool:
        return self.source.saw_dtd

    def chunks(self) -> Iterator[bytes]:
        while self.position < len(self.kept):
            self.position += 1
            yield self.kept[self.position - 1]
        if self.error is not None:
            raise self.error
