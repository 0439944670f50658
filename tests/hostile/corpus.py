"""Builds bad inputs by code: every file of the hostile corpus is made here, none is stored."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

from seregno_xlsx.simulation import Entry, fill_workbook

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>\n"
)
EXTERNAL_ENTITY = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def sheet_part(scheda: Path, index: int = 1) -> str:
    return f"xl/worksheets/sheet{index}.xml"


def with_prolog(scheda: Path, target: Path, prolog: bytes, part: str = "xl/worksheets/sheet2.xml") -> Path:
    """The scheda with a DTD put in front of one sheet's XML (billion laughs, external entity)."""
    parts = entries(scheda)
    body = parts[part].split(b"?>", 1)[-1] if parts[part].startswith(b"<?xml") else parts[part]
    root_end = body.index(b">", body.index(b"<worksheet"))
    # Use the entity in the sheet so a parser that expands it would do the work.
    reference = b"&lol9;" if b"lol9" in prolog else b"&xxe;"
    parts[part] = (
        prolog
        + body[: root_end + 1]
        + b"<!--"
        + b"-->"
        + body[root_end + 1 :].replace(b"<sheetData>", b"<sheetData>", 1)
    )
    parts[part] = parts[part].replace(b"</worksheet>", b"<extLst><x>" + reference + b"</x></extLst></worksheet>")
    return write_zip(target, parts)


def zip_bomb(target: Path, size: int = 1024 * 1024 * 1024) -> Path:
    """A workbook-looking zip with one sheet that inflates to ``size`` bytes of zeros (about 1 MB stored)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"\0" * (1 << 20)
    compressed = io.BytesIO()
    crc = 0
    for _ in range(size // len(block)):
        compressed.write(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    compressed.write(compressor.flush())
    return _raw_zip(
        target,
        [
            ("xl/workbook.xml", b"<workbook/>", None, None),
            ("xl/worksheets/sheet1.xml", compressed.getvalue(), size, crc),
        ],
    )


def lying_zip(target: Path, real: bytes, declared: int) -> Path:
    """An entry whose central directory declares ``declared`` bytes while it inflates to ``len(real)``."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(real) + compressor.flush()
    crc = zlib.crc32(real[:declared])  # the CRC of what a reader trusting the size would see
    return _raw_zip(
        target,
        [("xl/workbook.xml", b"<workbook/>", None, None), ("xl/worksheets/sheet1.xml", data, declared, crc)],
    )


def _raw_zip(target: Path, items: list[tuple[str, bytes, int | None, int | None]]) -> Path:
    """A zip written byte by byte, so sizes and CRCs can be whatever the test needs."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, payload, size, crc in items:
        method = 8
        if size is None:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            size, crc, payload = len(payload), zlib.crc32(payload), compressor.compress(payload) + compressor.flush()
        offset = out.tell()
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc or 0, len(payload), size, len(encoded), 0
        )
        out.write(header + encoded + payload)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc or 0,
                len(payload),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(items), len(items), len(directory), start, 0))
    target.write_bytes(out.getvalue())
    return target


def encrypt(source: Path, target: Path, password: str) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain, target.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return target


def as_xlsm(source: Path, target: Path) -> Path:
    """The scheda with a VBA project (an auto-run macro name) and an Excel 4 macro sheet added."""
    parts = entries(source)
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1Attribute VB_Name = Auto_Open Shell calc.exe"
    parts["xl/macrosheets/sheet1.xml"] = b'<?xml version="1.0"?><xm:macrosheet xmlns:xm="urn:x"/>'
    return write_zip(target, parts)


def fill(source: Path, target: Path, entries_: list[Entry]) -> Path:
    fill_workbook(source, target, entries_)
    return target


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (not folders) by relative path -> SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def ods_package(path: Path, content: str, extra: dict[str, bytes] | None = None) -> Path:
    """An .ods of ``content.xml`` as given, with its mimetype and manifest (and ``extra`` entries, stored)."""
    office = "urn:oasis:names:tc:opendocument:xmlns"
    manifest = (
        f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="{office}:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
        for name, data in (extra or {}).items():
            archive.writestr(name, data, zipfile.ZIP_STORED)
    return path
