"""Opens an untrusted returned workbook as a grid of values, safely.

Nothing in the file is ever executed: macros are reported, not run; formulas
are never recalculated (the value the client's program saved is used). The
file is read into memory once (at most ``MAX_FILE_BYTES``); the zip's central
directory is measured before anything is inflated; then every entry is
inflated by this module in small chunks, counting the bytes actually produced
(not the sizes the archive declares) and stopping at the bound, and every XML
part is parsed as a stream through defusedxml (no DTD, no entities, no external
references). Only a file that passed all of this is handed to calamine.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

from seregno_xlsx.files import sha256_bytes

# Limits well above any real scheda (a few MB) and well below harm.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200
MAX_ENTRIES = 5_000
# LibreOffice may report a used range down to row 1,048,576; data rows end far earlier.
MAX_EMPTY_RUN = 2_000
# Formulas and merged ranges remembered per file (a scheda has a few hundred input cells).
MAX_RECORDED = 10_000
# Password hashing rounds of an encrypted file: Excel uses 100,000; more is a denial of service.
MAX_SPIN_COUNT = 1_000_000
CHUNK = 64 * 1024
# The reader allocates a sheet's whole bounding box (first to last cell holding a value), so the box is
# measured in the scan, before the reader runs: a scheda has a few hundred rows and a dozen columns.
# LibreOffice may leave a mark on row 1,048,576 of a formatted column (read, not refused); a value
# beyond column 1,024 (LibreOffice's last) or a box of more than 16 columns' worth of full rows is.
MAX_ROWS = 1_048_576
MAX_COLS = 1_024
MAX_GRID_CELLS = 16 * 1_048_576
# Cells holding a value (what the reader turns into Python objects): a scheda has a few thousand.
MAX_VALUE_CELLS = 500_000

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

_NS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


class UnreadableFile(Exception):
    """The file cannot be read as a workbook: ``codice`` is a catalogue code, ``dettaglio`` Italian."""

    def __init__(self, codice: str, dettaglio: str) -> None:
        super().__init__(dettaglio)
        self.codice = codice
        self.dettaglio = dettaglio


@dataclass(frozen=True)
class Formula:
    """A formula found in a cell: its text and whether the file also stores the value it computed."""

    testo: str
    valore_salvato: bool


@dataclass
class Grid:
    """Every sheet's values (0-based rows and columns), as the client last saved them."""

    sheets: dict[str, list[list[object]]] = field(default_factory=dict)
    visibility: dict[str, str] = field(default_factory=dict)
    date1904: bool = False
    has_macros: bool = False
    format: str = "xlsx"
    # When the client last saved it (document properties), used to pick the newest of two replies.
    modified: datetime | None = None
    # Sheet name -> A1 cell -> formula typed there: the grid holds only the value the client saved.
    formulas: dict[str, dict[str, Formula]] = field(default_factory=dict)
    # Sheet name -> merged ranges ("B5:C5"); a generated scheda has none.
    merged: dict[str, list[str]] = field(default_factory=dict)
    # Sheet name -> A1 cell -> error the cell shows (#VALUE!): calamine reads such cells as empty.
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    # Active content found and ignored (never run), in Italian: "progetto VBA", "fogli macro Excel 4"...
    active_content: list[str] = field(default_factory=list)
    # The file was encrypted and opened with the password given.
    decrypted: bool = False
    # SHA-256 of the very bytes read and parsed, and the file's time when it was read.
    sha256: str = ""
    mtime: datetime | None = None

    def value(self, sheet: str, row: int, col: int) -> object:
        """1-based, like A1 references; outside the data it is None."""
        rows = self.sheets[sheet]
        if 0 < row <= len(rows) and 0 < col <= len(rows[row - 1]):
            return rows[row - 1][col - 1]
        return None


def open_grid(path: Path, *, password: str | None = None) -> Grid:
    """The workbook at ``path`` as a grid; ``password`` is the password to open (encrypted files only)."""
    data, grid = _load(Path(path), password)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for meta in workbook.sheets_metadata:
            grid.visibility[meta.name] = str(meta.visible).rsplit(".", 1)[-1].lower()
            sheet = workbook.get_sheet_by_name(meta.name)
            grid.sheets[meta.name] = _sheet_rows(sheet)
        if grid.format == "ods":
            _restore_ods_line_breaks(data, grid)
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own errors for every kind of damage
        raise UnreadableFile("file-illeggibile", f"il file è danneggiato o incompleto ({type(exc).__name__})") from None
    return grid


_TABLE_NS = f"{{{_NS_TABLE}}}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_WHITESPACE = re.compile(r"\s+")


def _restore_ods_line_breaks(data: bytes, grid: Grid) -> None:
    """Put back the line breaks of multi-line .ods texts.

    An .ods cell holds each line as its own ``<text:p>`` (or a ``<text:line-break/>``);
    calamine joins them without a separator, so "riga 1⏎riga 2" came back as
    "riga 1riga 2". Only cells whose text then differs by whitespace alone are
    replaced. ``data`` is the package ``_load`` already inflated under its limits.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = SafeET.fromstring(archive.read("content.xml"))
    except Exception:
        return  # unreadable here means calamine's text stays as it is
    for table in root.iter(f"{_TABLE_NS}table"):
        rows = grid.sheets.get(table.get(f"{_TABLE_NS}name", ""))
        if rows is None:
            continue
        row = 0
        for row_element in table.iter(f"{_TABLE_NS}table-row"):
            repeated_rows = int(row_element.get(f"{_TABLE_NS}number-rows-repeated", "1"))
            col = 0
            for cell in row_element:
                repeated_cols = int(cell.get(f"{_TABLE_NS}number-columns-repeated", "1"))
                paragraphs = [p for p in cell if p.tag == f"{_TEXT_NS}p"]
                if len(paragraphs) > 1 or any(e.tag == f"{_TEXT_NS}line-break" for p in paragraphs for e in p.iter()):
                    text = "\n".join(_ods_paragraph(p) for p in paragraphs)
                    for r in range(row, min(row + repeated_rows, len(rows))):
                        for c in range(col, min(col + repeated_cols, len(rows[r]))):
                            value = rows[r][c]
                            if isinstance(value, str) and _WHITESPACE.sub("", value) == _WHITESPACE.sub("", text):
                                rows[r][c] = text
                col += repeated_cols
            row += repeated_rows
            if row >= len(rows):
                break


def _ods_paragraph(element: Any) -> str:
    parts = [element.text or ""]
    for child in element:
        name = child.tag.rsplit("}", 1)[-1]
        if name == "s":
            parts.append(" " * int(child.get(f"{_TEXT_NS}c", "1")))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name != "annotation":
            parts.append(_ods_paragraph(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _load(path: Path, password: str | None) -> tuple[bytes, Grid]:
    if not path.exists():
        raise UnreadableFile("file-illeggibile", "il file non esiste")
    if path.is_dir():
        raise UnreadableFile("file-illeggibile", "è una cartella, non un file")
    if not path.is_file():
        raise UnreadableFile("file-illeggibile", "non è un file regolare")
    stat = path.stat()
    size = stat.st_size
    if size == 0:
        raise UnreadableFile("file-illeggibile", "il file è vuoto (0 byte)")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile("file-troppo-grande", f"il file pesa {size // 1_048_576} MB")
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile("file-troppo-grande", "il file supera i limiti di dimensione")
    if not data:
        raise UnreadableFile("file-illeggibile", "il file è vuoto (0 byte)")
    grid = Grid(sha256=sha256_bytes(data), mtime=_from_timestamp(stat.st_mtime))
    if data.startswith(OLE_MAGIC):
        data = _decrypt(data, password)
        grid.decrypted = True
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableFile("file-illeggibile", _not_a_workbook(data[:2048]))
    _inspect_zip(data, grid)
    return data, grid


def _sheet_rows(sheet: Any) -> list[list[object]]:
    """Rows from A1, streamed: a used range reaching row 1,048,576 is never materialised."""
    if sheet.start is None:
        return []
    first_row, first_col = sheet.start
    kept: list[list[object]] = []
    empty_run = 0
    seen = 0
    for row in sheet.iter_rows():
        seen += 1
        # calamine yields rows from A1 but columns from the used range's first column.
        values = [""] * first_col + list(row)
        if any(v not in ("", None) for v in values):
            kept.extend([] for _ in range(empty_run))
            kept.append(values)
            empty_run = 0
        else:
            empty_run += 1
            if empty_run > MAX_EMPTY_RUN:
                break
    if seen == sheet.height and first_row:  # a calamine that starts at the used range instead
        kept[:0] = [[] for _ in range(first_row)]
    return kept


# --- what the file is, when it is not a workbook -------------------------------------------------


def _not_a_workbook(head: bytes) -> str:
    """An Italian description of a file that is neither a zip nor an OLE container."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = stripped[:512].lower()
    if stripped.startswith(b"%PDF"):
        return "è un documento PDF, non una cartella di lavoro: inviare il file .xlsx"
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "è un foglio «XML 2003» di Excel, formato non supportato: salvarlo come .xlsx"
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "è una pagina HTML salvata con l'estensione del foglio di calcolo: salvarlo come .xlsx"
    if stripped.startswith(b"{\\rtf"):
        return "è un documento RTF, non una cartella di lavoro"
    if stripped.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "è un'immagine, non una cartella di lavoro"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("utf-16") if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        except UnicodeDecodeError:
            text = ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:1000]):
        if any(sep in text for sep in (";", ",", "\t")):
            return "è un file di testo (CSV) con l'estensione del foglio di calcolo: inviare il file .xlsx originale"
        return "è un file di testo, non una cartella di lavoro"
    return "il contenuto non è una cartella di lavoro .xlsx o .ods"


# --- OLE containers: encrypted workbooks and old .xls ----------------------------------------------


def _decrypt(data: bytes, password: str | None) -> bytes:
    """An encrypted workbook decrypted with ``password``; an OLE file that is not one is refused."""
    try:
        import olefile
    except ImportError:  # pragma: no cover - olefile comes with msoffcrypto-tool
        olefile = None
    streams: set[str] = set()
    if olefile is not None:
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
                info = ole.openstream("EncryptionInfo").read(1_048_576) if "EncryptionInfo" in streams else b""
        except Exception:
            raise UnreadableFile("file-illeggibile", "il file è danneggiato (contenitore OLE non valido)") from None
    else:
        info = b""
    if "EncryptionInfo" not in streams or "EncryptedPackage" not in streams:
        if streams & {"Workbook", "Book"}:
            return _refuse_xls()
        if "WordDocument" in streams:
            raise UnreadableFile("file-illeggibile", "è un documento Word, non una cartella di lavoro")
        if "PowerPoint Document" in streams:
            raise UnreadableFile("file-illeggibile", "è una presentazione PowerPoint, non una cartella di lavoro")
        return _refuse_xls()
    if password is None:
        raise UnreadableFile(
            "file-protetto-password",
            "il file è protetto da password di apertura: indicarla con --password-apertura "
            "oppure salvare il file senza password",
        )
    _check_encryption_info(info)
    try:
        import msoffcrypto
        from msoffcrypto.exceptions import InvalidKeyError
    except ImportError:  # pragma: no cover - a declared dependency
        raise UnreadableFile(
            "file-protetto-password", "il file è protetto da password e manca il modulo msoffcrypto-tool"
        ) from None
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password, verify_password=True)
        out = io.BytesIO()
        office.decrypt(out)
    except InvalidKeyError:
        raise UnreadableFile("file-protetto-password", "la password di apertura indicata non è corretta") from None
    except Exception as exc:
        if "password" in str(exc).lower() or "key" in type(exc).__name__.lower():
            raise UnreadableFile("file-protetto-password", "la password di apertura indicata non è corretta") from None
        raise UnreadableFile(
            "file-illeggibile",
            f"il file cifrato è danneggiato o usa una cifratura non supportata ({type(exc).__name__})",
        ) from None
    decrypted = out.getvalue()
    if len(decrypted) > MAX_FILE_BYTES:
        raise UnreadableFile("file-troppo-grande", "il contenuto decifrato supera i limiti di dimensione")
    if decrypted.startswith(OLE_MAGIC):
        return _refuse_xls()
    return decrypted


def _refuse_xls() -> bytes:
    raise UnreadableFile(
        "file-illeggibile",
        "è un file Excel 97-2003 (.xls) o un altro formato non supportato: salvarlo come .xlsx",
    )


def _check_encryption_info(info: bytes) -> None:
    """The agile encryption descriptor is XML: parse it safely and bound its hashing rounds first."""
    if len(info) < 8:
        raise UnreadableFile("file-illeggibile", "il file cifrato è danneggiato (descrittore di cifratura mancante)")
    major, minor = struct.unpack("<HH", info[:4])
    if (major, minor) != (4, 4):
        return  # standard encryption: a binary header, no XML
    try:
        root = SafeET.fromstring(info[8:], forbid_dtd=True)
    except Exception:
        raise UnreadableFile(
            "file-illeggibile", "il descrittore di cifratura del file non è valido o non è sicuro"
        ) from None
    for element in root.iter():
        spin = element.get("spinCount")
        if spin is not None and (not spin.isdigit() or int(spin) > MAX_SPIN_COUNT):
            raise UnreadableFile(
                "file-troppo-grande", "la cifratura del file richiede un calcolo oltre i limiti di sicurezza"
            )


# --- the zip: measured, inflated under a bound, every XML part parsed safely ----------------------


def _inspect_zip(data: bytes, grid: Grid) -> None:
    """Refuse zip bombs and unsafe XML before calamine reads anything; collect formulas and merges."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_directory(infos)
            names = {info.filename for info in infos}
            if "mimetype" in names and b"opendocument" in _inflate_all(data, archive.getinfo("mimetype"))[:100]:
                grid.format = "ods"
            elif "xl/workbook.xml" in names:
                grid.format = "xlsm" if any(n.lower().endswith("vbaproject.bin") for n in names) else "xlsx"
            else:
                raise UnreadableFile("file-illeggibile", "l'archivio non contiene una cartella di lavoro")
            _active_content(names, grid)
            scan = _Scan(grid)
            for info in infos:
                if info.is_dir():
                    continue
                if info.filename.lower().endswith((".xml", ".rels")):
                    scan.part(info.filename, _Inflater(data, info))
                else:
                    for _ in _Inflater(data, info).chunks():
                        pass
            scan.finish()
    except zipfile.BadZipFile:
        raise UnreadableFile("file-illeggibile", "il file è danneggiato o troncato (archivio zip non valido)") from None
    except (zipfile.LargeZipFile, NotImplementedError, struct.error, ValueError, EOFError, OSError):
        raise UnreadableFile("file-illeggibile", "il file è danneggiato o troncato (archivio zip non valido)") from None


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise UnreadableFile("file-troppo-grande", f"l'archivio contiene {len(infos)} elementi")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_UNCOMPRESSED_BYTES or (ratio > MAX_RATIO and info.file_size > 1_048_576):
            raise UnreadableFile(
                "file-troppo-grande",
                f"l'elemento {_safe_name(info.filename)} si espande oltre i limiti di sicurezza",
            )
        if info.flag_bits & 0x1:
            raise UnreadableFile("file-illeggibile", "l'archivio zip è cifrato: salvare il file senza password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableFile(
                "file-illeggibile", f"l'elemento {_safe_name(info.filename)} usa una compressione non supportata"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFile("file-troppo-grande", "il contenuto decompresso supera i limiti di sicurezza")


def _active_content(names: set[str], grid: Grid) -> None:
    lowered = [n.lower() for n in names]
    found = []
    if any(n.endswith("vbaproject.bin") for n in lowered):
        found.append("progetto VBA")
    if any(n.startswith(("xl/macrosheets/", "xl/dialogsheets/")) for n in lowered):
        found.append("fogli macro Excel 4")
    if any(n.startswith(("basic/", "scripts/")) for n in lowered):
        found.append("macro LibreOffice")
    grid.has_macros = bool(found)
    if any(n.startswith("xl/activex/") for n in lowered):
        found.append("controlli ActiveX")
    if any(n.startswith(("xl/embeddings/", "object")) and not n.endswith(".xml") for n in lowered):
        found.append("oggetti incorporati")
    if any(n.startswith("xl/externallinks/") for n in lowered):
        found.append("collegamenti ad altri file")
    grid.active_content = found


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:120]


class _Inflater(io.RawIOBase):
    """One zip entry inflated in chunks, refusing more bytes than declared, than the limits, or a bad CRC."""

    def __init__(self, data: bytes, info: zipfile.ZipInfo) -> None:
        super().__init__()
        self.info = info
        self.name = _safe_name(info.filename)
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
            window = self.tail + chunk
            self.saw_dtd = self.saw_dtd or b"<!DOCTYPE" in window or b"<!ENTITY" in window
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


def _inflate_all(data: bytes, info: zipfile.ZipInfo, limit: int = 4096) -> bytes:
    if info.file_size > limit:
        return b""
    return b"".join(_Inflater(data, info).chunks())


_CELL_REF = re.compile(r"^([A-Z]{1,10})(\d{1,12})$")


class _Scan:
    """Streams every XML part once: workbook structure, formulas and merged cells of the sheets."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.sheet_parts: dict[str, str] = {}  # r:id -> sheet name (xl/workbook.xml)
        self.rels: dict[str, str] = {}  # r:id -> part path (xl/_rels/workbook.xml.rels)
        self.formulas: dict[str, dict[str, Formula]] = {}  # part -> cell -> formula
        self.merged: dict[str, list[str]] = {}
        self.errors: dict[str, dict[str, str]] = {}
        self.recorded = 0
        self.box = _Box()

    def part(self, name: str, source: _Inflater) -> None:
        stream = io.BufferedReader(source, CHUNK)
        try:
            events = SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True)
            if name == "xl/workbook.xml":
                self._workbook(events)
            elif name == "xl/_rels/workbook.xml.rels":
                self._rels(events)
            elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                self._worksheet(name, events)
            elif name == "content.xml" and self.grid.format == "ods":
                self._ods_content(events)
            elif name in ("docProps/core.xml", "meta.xml"):
                self._modified(events, "modified" if name == "docProps/core.xml" else "date")
            else:
                _drain(events)
        except UnreadableFile:
            raise
        except SafeET.ParseError:
            # Not well-formed XML (e.g. "&#x7;" that Excel tolerates): leave judging it to calamine,
            # but never let a DTD through, and still inflate the rest under the bound.
            _refuse_dtd_in_rest(name, source)
        except DefusedXmlException:
            raise UnreadableFile(
                "file-illeggibile",
                f"la struttura interna del file non è sicura (elemento {_safe_name(name)}: DTD o entità)",
            ) from None
        except Exception:
            raise UnreadableFile(
                "file-illeggibile", f"il file è danneggiato (elemento {_safe_name(name)} non valido)"
            ) from None

    def finish(self) -> None:
        for rid, sheet in self.sheet_parts.items():
            target = self.rels.get(rid, "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if self.formulas.get(part):
                self.grid.formulas[sheet] = self.formulas[part]
            if self.merged.get(part):
                self.grid.merged[sheet] = self.merged[part]
            if self.errors.get(part):
                self.grid.errors[sheet] = self.errors[part]

    def _record(self) -> bool:
        self.recorded += 1
        return self.recorded <= MAX_RECORDED

    def _workbook(self, events: Iterator[tuple[str, Element]]) -> None:
        for event, element in _pruned(events):
            if event != "end":
                continue
            tag = _local(element.tag)
            if tag == "workbookPr":
                self.grid.date1904 = element.get("date1904", "0").lower() in ("1", "true")
            elif tag == "sheet":
                rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
                self.sheet_parts[rid] = element.get("name") or ""

    def _rels(self, events: Iterator[tuple[str, Element]]) -> None:
        for event, element in _pruned(events):
            if event == "end" and _local(element.tag) == "Relationship":
                self.rels[element.get("Id") or ""] = element.get("Target") or ""

    def _worksheet(self, part: str, events: Iterator[tuple[str, Element]]) -> None:
        box = self.box
        formulas = self.formulas.setdefault(part, {})
        merged = self.merged.setdefault(part, [])
        errors = self.errors.setdefault(part, {})
        row_number = 0
        col_number = 0
        # Children are detached when they end, so a cell's formula and value are noted as they pass.
        formula: str | None = None
        cached = False
        is_error = False
        value_text = ""
        for event, element in _pruned(events):
            tag = _local(element.tag)
            if event == "start":
                if tag == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    col_number = 0
                elif tag == "c":
                    match = _CELL_REF.match(element.get("r") or "")
                    col_number = _column_number(match.group(1)) if match else col_number + 1
                    if match:
                        row_number = int(match.group(2))
                    formula, cached = None, False
                    is_error, value_text = element.get("t") == "e", ""
                elif tag in ("v", "is"):
                    box.extend(part, row_number, col_number)
                continue
            if tag == "f":
                formula = (element.text or "").strip()
            elif tag == "v":
                cached = bool(element.text)  # openpyxl writes an empty <v/> after a formula
                value_text = (element.text or "")[:40]
            elif tag == "is":
                cached = True
            elif tag == "c":
                if formula is not None and self._record():
                    ref = element.get("r") or f"{_column_letter(col_number)}{row_number}"
                    formulas[ref] = Formula("=" + formula if formula else "=(formula condivisa)", cached)
                if is_error and value_text and self._record():
                    errors[element.get("r") or f"{_column_letter(col_number)}{row_number}"] = value_text
                formula, cached = None, False
            elif tag == "mergeCell" and self._record():
                merged.append(element.get("ref") or "")

    def _ods_content(self, events: Iterator[tuple[str, Element]]) -> None:
        table = ""
        row = 0
        col = 0
        row_repeat = 1
        t = f"{{{_NS_TABLE}}}"
        for event, element in _pruned(events):
            tag = element.tag
            if event == "start":
                if tag == f"{t}table":
                    table = element.get(f"{t}name") or ""
                    row = 0
                elif tag == f"{t}table-row":
                    row_repeat = int(element.get(f"{t}number-rows-repeated") or 1)
                    col = 0
                continue
            if tag in (f"{t}table-cell", f"{t}covered-table-cell"):
                repeat = int(element.get(f"{t}number-columns-repeated") or 1)
                if element.get(_VALUE_TYPE) is not None or len(element):
                    self.box.extend(table, row + row_repeat, col + repeat, row_repeat * repeat)
                formula = element.get(f"{t}formula")
                coordinate = f"{_column_letter(col + 1)}{row + 1}"
                if formula and self._record():
                    text = formula.split(":", 1)[1] if formula.startswith("of:") else formula
                    cached = element.get(_VALUE_TYPE) is not None
                    self.grid.formulas.setdefault(table, {})[coordinate] = Formula(
                        text if text.startswith("=") else "=" + text, cached
                    )
                spans = (element.get(f"{t}number-columns-spanned"), element.get(f"{t}number-rows-spanned"))
                if any(s not in (None, "1") for s in spans) and self._record():
                    last = f"{_column_letter(col + int(spans[0] or 1))}{row + int(spans[1] or 1)}"
                    self.grid.merged.setdefault(table, []).append(f"{coordinate}:{last}")
                col += repeat
            elif tag == f"{t}table-row":
                row += row_repeat

    def _modified(self, events: Iterator[tuple[str, Element]], tag: str) -> None:
        for event, element in _pruned(events):
            if event == "end" and _local(element.tag) == tag and element.text and self.grid.modified is None:
                self.grid.modified = _parse_stamp(element.text)


_VALUE_TYPE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"


class _Box:
    """The cells a sheet gives values to, bounded before the reader allocates its grid for them."""

    def __init__(self) -> None:
        self.sheets: dict[str, tuple[int, int]] = {}
        self.total = 0
        self.values = 0

    def extend(self, sheet: str, row: int, col: int, count: int = 1) -> None:
        self.values += count
        if self.values > MAX_VALUE_CELLS:
            raise UnreadableFile(
                "file-troppo-grande", f"i fogli contengono più di {MAX_VALUE_CELLS:,} valori".replace(",", ".")
            )
        rows, cols = self.sheets.get(sheet, (0, 0))
        if row <= rows and col <= cols:
            return
        if row > MAX_ROWS or col > MAX_COLS:
            raise UnreadableFile(
                "cella-fuori-limiti",
                f"la cella {_column_letter(col)}{row} contiene un valore oltre i limiti di una scheda "
                f"(al massimo {MAX_ROWS:,} righe e {MAX_COLS:,} colonne)".replace(",", "."),
            )
        new_rows, new_cols = max(rows, row), max(cols, col)
        self.total += new_rows * new_cols - rows * cols
        self.sheets[sheet] = (new_rows, new_cols)
        if self.total > MAX_GRID_CELLS:
            raise UnreadableFile(
                "file-troppo-grande",
                "i valori dei fogli occupano un'area oltre i limiti di una scheda (celle lontanissime tra loro)",
            )


def _refuse_dtd_in_rest(name: str, source: _Inflater) -> None:
    """After a parse error: inflate the rest under the bound and refuse a DTD seen anywhere in the part."""
    for _ in source.chunks():
        pass
    if source.saw_dtd:
        raise UnreadableFile(
            "file-illeggibile",
            f"la struttura interna del file non è sicura (elemento {_safe_name(name)}: DTD o entità)",
        )


def _pruned(events: Iterator[tuple[str, Element]]) -> Iterator[tuple[str, Element]]:
    """Yield parse events, then detach each finished element: memory stays flat on any size."""
    stack: list[Element] = []
    for event, element in events:
        if event == "start":
            stack.append(element)
            yield event, element
        else:
            yield event, element
            stack.pop()
            if stack:
                stack[-1].remove(element)


def _drain(events: Iterator[tuple[str, Element]]) -> None:
    for _ in _pruned(events):
        pass


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _column_letter(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def _parse_stamp(text: str) -> datetime | None:
    """A save stamp as local time; one that cannot be (year 9999 in UTC+1, garbage) is no stamp."""
    try:
        stamp = datetime.fromisoformat(text.strip()[:40].replace("Z", "+00:00"))
        return stamp.replace(tzinfo=None) if stamp.tzinfo is None else stamp.astimezone().replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


def _from_timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds).replace(microsecond=0)
    except (ValueError, OverflowError, OSError):
        return None
