"""Opens an untrusted returned workbook as a grid of values, safely.

Nothing in the file is ever executed: macros are reported, not run; the zip is
measured before anything is inflated; XML read here goes through defusedxml.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

# Limits well above any real scheda (a few MB) and well below harm.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200
MAX_ENTRIES = 5_000
# LibreOffice may report a used range down to row 1,048,576; data rows end far earlier.
MAX_EMPTY_RUN = 2_000

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableFile(Exception):
    """The file cannot be read as a workbook: ``codice`` is a catalogue code, ``dettaglio`` Italian."""

    def __init__(self, codice: str, dettaglio: str) -> None:
        super().__init__(dettaglio)
        self.codice = codice
        self.dettaglio = dettaglio


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

    def value(self, sheet: str, row: int, col: int) -> object:
        """1-based, like A1 references; outside the data it is None."""
        rows = self.sheets[sheet]
        if 0 < row <= len(rows) and 0 < col <= len(rows[row - 1]):
            return rows[row - 1][col - 1]
        return None


def open_grid(path: Path) -> Grid:
    if not path.exists():
        raise UnreadableFile("file-illeggibile", "il file non esiste")
    if path.is_dir():
        raise UnreadableFile("file-illeggibile", "è una cartella, non un file")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("file-illeggibile", "il file è vuoto (0 byte)")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile("file-troppo-grande", f"il file pesa {size // 1_048_576} MB")
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(OLE_MAGIC):
        raise _ole_error(path)
    if not magic.startswith(ZIP_MAGIC):
        raise UnreadableFile("file-illeggibile", "il contenuto non è una cartella di lavoro .xlsx o .ods")
    grid = Grid()
    _inspect_zip(path, grid)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        for meta in workbook.sheets_metadata:
            grid.visibility[meta.name] = str(meta.visible).rsplit(".", 1)[-1].lower()
            sheet = workbook.get_sheet_by_name(meta.name)
            grid.sheets[meta.name] = _sheet_rows(sheet)
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own errors for every kind of damage
        raise UnreadableFile("file-illeggibile", f"il file è danneggiato o incompleto ({type(exc).__name__})") from None
    return grid


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


def _inspect_zip(path: Path, grid: Grid) -> None:
    """Refuse zip bombs from the central directory, before inflating anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise UnreadableFile("file-troppo-grande", f"l'archivio contiene {len(infos)} elementi")
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > MAX_UNCOMPRESSED_BYTES or (ratio > MAX_RATIO and info.file_size > 1_048_576):
                    raise UnreadableFile(
                        "file-troppo-grande",
                        f"l'elemento {info.filename} si espande oltre i limiti di sicurezza",
                    )
            if total > MAX_UNCOMPRESSED_BYTES:
                raise UnreadableFile("file-troppo-grande", "il contenuto decompresso supera i limiti di sicurezza")
            names = {info.filename for info in infos}
            grid.has_macros = any(n.lower().endswith("vbaproject.bin") for n in names)
            if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:100]:
                grid.format = "ods"
                if "meta.xml" in names:
                    grid.modified = _modified(archive.read("meta.xml"), "date")
            elif "xl/workbook.xml" in names:
                grid.date1904 = _is_1904(archive.read("xl/workbook.xml"))
                if "docProps/core.xml" in names:
                    grid.modified = _modified(archive.read("docProps/core.xml"), "modified")
            else:
                raise UnreadableFile("file-illeggibile", "l'archivio non contiene una cartella di lavoro")
    except zipfile.BadZipFile:
        raise UnreadableFile("file-illeggibile", "il file è danneggiato o troncato (archivio zip non valido)") from None


def _is_1904(workbook_xml: bytes) -> bool:
    try:
        root = SafeET.fromstring(workbook_xml)
    except Exception:
        raise UnreadableFile("file-illeggibile", "la struttura interna del file non è valida o non è sicura") from None
    for element in root.iter():
        if element.tag.endswith("}workbookPr") or element.tag == "workbookPr":
            return element.get("date1904", "0").lower() in ("1", "true")
    return False


def _modified(xml: bytes, tag: str) -> datetime | None:
    try:
        root = SafeET.fromstring(xml)
    except Exception:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == tag and element.text:
            try:
                stamp = datetime.fromisoformat(element.text.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            return stamp.replace(tzinfo=None) if stamp.tzinfo is None else stamp.astimezone().replace(tzinfo=None)
    return None


def _ole_error(path: Path) -> UnreadableFile:
    """An OLE container is either a password-encrypted workbook or an old .xls."""
    data = path.read_bytes()[:65536]
    if "EncryptionInfo".encode("utf-16-le") in data or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in data:
        return UnreadableFile("file-protetto-password", "il file è protetto da password di apertura")
    return UnreadableFile(
        "file-illeggibile",
        "è un file Excel 97-2003 (.xls) o un altro formato non supportato: salvarlo come .xlsx",
    )
