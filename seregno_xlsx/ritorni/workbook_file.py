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
from datetime import datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

from seregno_xlsx.files import sha256_bytes
from seregno_xlsx.piano.regola import numero
from seregno_xlsx.ritorni.bounds import (
    CHUNK,
    DENSE_CELLS_PER_BYTE,
    MAX_EMPTY_RUN,
    MAX_FILE_BYTES,
    MAX_TOTAL_RATIO,
    STRING_CHARS_PER_BYTE,
    VALUES_PER_BYTE,
    UnreadableFile,
)
from seregno_xlsx.ritorni.decryption import decrypt
from seregno_xlsx.ritorni.file_type import OLE_MAGIC, ZIP_MAGIC, not_a_workbook
from seregno_xlsx.ritorni.grid import Grid, Rows, SparseRows
from seregno_xlsx.ritorni.inflation import Inflater, check_directory, inflate_all, safe_name
from seregno_xlsx.ritorni.sparse_sheet import Places, compact, refuse_beyond_empty_run, sparse_rows
from seregno_xlsx.ritorni.values import is_blank
from seregno_xlsx.ritorni.xml_scan import NS_TABLE, Scan


def open_grid(path: Path, *, password: str | None = None) -> Grid:
    """The workbook at ``path`` as a grid; ``password`` is the password to open (encrypted files only)."""
    data, grid, scan, size = _load(Path(path), password)
    sparse = _sparse_parts(grid, scan, size)
    try:
        # What calamine reads: the file, or the file with its sparse sheets rewritten.
        read = compact(data, sparse) if sparse else (data, {})
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(read[0]))
        places = read[1]
        for meta in workbook.sheets_metadata:
            grid.visibility[meta.name] = str(meta.visible).rsplit(".", 1)[-1].lower()
            sheet = workbook.get_sheet_by_name(meta.name)
            if meta.name in sparse:
                grid.sheets[meta.name] = sparse_rows(sheet, places.get(meta.name, Places()), meta.name)
            else:
                grid.sheets[meta.name] = _sheet_rows(sheet, meta.name)
            del sheet  # calamine's rectangle of this sheet goes before the next one is read
        if grid.format == "ods":
            _restore_ods_line_breaks(data, grid)
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own errors for every kind of damage
        raise UnreadableFile("file-illeggibile", f"il file è danneggiato o incompleto ({type(exc).__name__})") from None
    return grid


_TABLE_NS = f"{{{NS_TABLE}}}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_WHITESPACE = re.compile(r"\s+")


def _restore_ods_line_breaks(data: bytes, grid: Grid) -> None:
    """Put back the line breaks of multi-line .ods texts.

    An .ods cell holds each line as its own ``<text:p>`` (or a ``<text:line-break/>``);
    calamine joins them without a separator, so "riga 1⏎riga 2" came back as
    "riga 1riga 2". Only cells whose text then differs by whitespace alone are
    replaced. ``data`` is the package ``_load`` already inflated under its limits; content.xml is
    streamed, each cell detached once read, so memory stays that of one cell.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("content.xml")
        stream = io.BufferedReader(Inflater(data, info), CHUNK)
        events = SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True)
        stack: list[Any] = []
        rows: Rows | None = None
        row = col = 0
        repeated_rows = 1
        cells_open = 0  # a cell's paragraphs are kept until the cell ends
        for event, element in events:
            tag = element.tag
            if event == "start":
                stack.append(element)
                if tag == f"{_TABLE_NS}table" and not cells_open:
                    rows, row = grid.sheets.get(element.get(f"{_TABLE_NS}name", "")), 0
                elif tag == f"{_TABLE_NS}table-row" and not cells_open:
                    repeated_rows, col = int(element.get(f"{_TABLE_NS}number-rows-repeated", "1")), 0
                elif tag in _ODS_CELLS:
                    cells_open += 1
                continue
            stack.pop()
            if tag in _ODS_CELLS:
                cells_open -= 1
                if not cells_open:
                    repeated_cols = int(element.get(f"{_TABLE_NS}number-columns-repeated", "1"))
                    if rows is not None and row < len(rows):
                        _restore_cell(element, rows, (row, repeated_rows), (col, repeated_cols))
                    col += repeated_cols
            elif tag == f"{_TABLE_NS}table-row" and not cells_open:
                row += repeated_rows
            if stack and not cells_open:
                stack[-1].remove(element)
    except Exception:
        return  # unreadable here means calamine's text stays as it is


_ODS_CELLS = (f"{_TABLE_NS}table-cell", f"{_TABLE_NS}covered-table-cell")


def _restore_cell(cell: Any, rows: Rows, rows_span: tuple[int, int], cols_span: tuple[int, int]) -> None:
    paragraphs = [p for p in cell if p.tag == f"{_TEXT_NS}p"]
    if len(paragraphs) < 2 and not any(e.tag == f"{_TEXT_NS}line-break" for p in paragraphs for e in p.iter()):
        return
    text = "\n".join(_ods_paragraph(p) for p in paragraphs)
    (row, repeated_rows), (col, repeated_cols) = rows_span, cols_span
    for r in range(row, min(row + repeated_rows, len(rows))):
        current = rows[r]
        for c in range(col, min(col + repeated_cols, len(current))):
            value = current[c]
            if isinstance(value, str) and _WHITESPACE.sub("", value) == _WHITESPACE.sub("", text):
                if isinstance(rows, SparseRows):
                    rows.replace(r, c, text)
                else:
                    current[c] = text


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


def _sparse_parts(grid: Grid, scan: Scan, size: int) -> dict[str, str]:
    """The sheets (name -> part) read sparsely: those beyond the cells calamine may allocate whole;
    refused, a file that would cost more than a multiple of its size.

    Memory then follows the size: calamine's rectangles stay within ``DENSE_CELLS_PER_BYTE`` cells per
    byte of the file, and the values within ``VALUES_PER_BYTE``, both known from the scan."""
    inflated = scan.inflated
    if inflated > MAX_TOTAL_RATIO * size:
        raise UnreadableFile(
            "file-troppo-grande",
            f"il contenuto si espande a {inflated // size} volte la dimensione del file (al massimo {MAX_TOTAL_RATIO})",
        )
    declared = scan.shared_declared
    number = int(declared) if declared and declared.isascii() and declared.isdigit() and len(declared) < 19 else -1
    if declared is not None and not 0 <= number <= VALUES_PER_BYTE * size:
        # calamine reserves 24 bytes per declared string before reading one: 2,000,000,000 asked for 48 GB.
        shown = numero(number) if number >= 0 else f"«{safe_name(declared)[:20]}»"
        raise UnreadableFile(
            "file-troppo-grande",
            f"la tabella dei testi condivisi dichiara {shown} testi in un file di {numero(size)} byte: più di "
            "quanti ne possa contenere un file salvato da Excel o LibreOffice",
        )
    copied = scan.shared_chars() + scan.repeated_chars
    if copied > STRING_CHARS_PER_BYTE * size:
        raise UnreadableFile(
            "file-troppo-grande",
            f"i testi ripetuti nelle celle (testi condivisi, celle o spazi ripetuti) occupano {numero(copied)} "
            f"caratteri in un file di {numero(size)} byte: più di quanti ne possa contenere un file salvato da "
            "Excel o LibreOffice",
        )
    if scan.box.values > VALUES_PER_BYTE * size:
        raise UnreadableFile(
            "file-troppo-grande",
            f"i fogli contengono {scan.box.values:,} valori in {size:,} byte: più di quanti ne possa contenere "
            "un file di queste dimensioni salvato da Excel o LibreOffice".replace(",", "."),
        )
    budget = DENSE_CELLS_PER_BYTE * size
    sparse: dict[str, str] = {}
    boxes = scan.box.sheets
    # An .ods keeps every table in content.xml, and its box under the table's name.
    named = scan.parts if grid.format != "ods" else {name: name for name in boxes}
    for name, part in named.items():
        rows, cols = boxes.get(part, (0, 0))
        if rows * cols <= budget:
            budget -= rows * cols
        else:
            sparse[name] = part if grid.format != "ods" else "content.xml"
    return sparse


def _load(path: Path, password: str | None) -> tuple[bytes, Grid, Scan, int]:
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
    size = len(data)  # the bytes read: the bounds on memory are multiples of it
    grid = Grid(sha256=sha256_bytes(data), mtime=_from_timestamp(stat.st_mtime))
    if data.startswith(OLE_MAGIC):
        data = decrypt(data, password)
        grid.decrypted = True
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableFile("file-illeggibile", not_a_workbook(data[:2048]))
    scan = _inspect_zip(data, grid)
    return data, grid, scan, size


def _sheet_rows(sheet: Any, name: str) -> list[list[object]]:
    """Rows from A1, streamed: a used range reaching row 1,048,576 is never materialised."""
    if sheet.start is None:
        return []
    first_row, first_col = sheet.start
    kept: list[list[object]] = []
    empty_run = 0
    seen = 0
    rows = sheet.iter_rows()
    for row in rows:
        seen += 1
        # calamine yields rows from A1 but columns from the used range's first column; each row a list of
        # its own (kept as it is when nothing goes before it).
        values = row if not first_col and type(row) is list else [""] * first_col + list(row)
        # A value other than "" and None (``v not in ("", None)`` for some v), counted in C.
        if values.count("") + values.count(None) != len(values):
            if empty_run:
                kept.extend([] for _ in range(empty_run))
            kept.append(values)
            empty_run = 0
        else:
            empty_run += 1
            if empty_run > MAX_EMPTY_RUN:
                break
    beyond: tuple[object, int, int] | None = None  # the first value after the rows kept
    for index, row in enumerate(rows, start=seen):
        seen = index + 1
        if beyond is None:
            beyond = next(((v, index, c) for c, v in enumerate(row, start=first_col) if not is_blank(v)), None)
    offset = first_row if seen == sheet.height and first_row else 0  # a calamine that starts at the used range
    if beyond is not None:
        refuse_beyond_empty_run(beyond[0], beyond[1] + offset, beyond[2], name)
    if offset:
        kept[:0] = [[] for _ in range(first_row)]
    return kept


def _inspect_zip(data: bytes, grid: Grid) -> Scan:
    """Refuse zip bombs and unsafe XML before calamine reads anything; collect formulas and merges."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            check_directory(infos)
            names = {info.filename for info in infos}
            opendocument = (
                "mimetype" in names and b"opendocument" in inflate_all(data, archive.getinfo("mimetype"))[:100]
            )
            _one_kind(names, opendocument)
            if opendocument:
                grid.format = "ods"
            elif "xl/workbook.xml" in names:
                grid.format = "xlsm" if any(n.lower().endswith("vbaproject.bin") for n in names) else "xlsx"
            else:
                raise UnreadableFile("file-illeggibile", "l'archivio non contiene una cartella di lavoro")
            _active_content(names, grid)
            scan = Scan(grid)
            scan.entries = names
            scan.inflated = sum(info.file_size for info in infos)  # each entry inflates to at most that
            for info in infos:
                if info.is_dir():
                    continue
                if info.filename.lower().endswith((".xml", ".rels")):
                    scan.part(info.filename, Inflater(data, info))
                else:
                    for _ in Inflater(data, info).chunks():
                        pass
            scan.finish()
            return scan
    except zipfile.BadZipFile:
        raise UnreadableFile("file-illeggibile", "il file è danneggiato o troncato (archivio zip non valido)") from None
    except (zipfile.LargeZipFile, NotImplementedError, struct.error, ValueError, EOFError, OSError):
        raise UnreadableFile("file-illeggibile", "il file è danneggiato o troncato (archivio zip non valido)") from None


def _one_kind(names: set[str], opendocument: bool) -> None:
    """One kind of workbook per package. calamine tries Excel, then Excel binary, then OpenDocument, and
    reads the first that opens: an .ods holding an Excel workbook was scanned as .ods and read as Excel,
    with none of its sheets bounded (a far cell aborted the process)."""
    folded = {name.casefold() for name in names}
    kinds = [
        kind
        for kind, found in (
            ("Excel", "xl/workbook.xml" in folded),
            ("Excel binario", "xl/workbook.bin" in folded),
            (
                "OpenDocument",
                "content.xml" in folded or opendocument,
            ),
        )
        if found
    ]
    if len(kinds) > 1:
        raise UnreadableFile(
            "file-illeggibile",
            f"l'archivio contiene più cartelle di lavoro ({', '.join(kinds)}): non è un file salvato da Excel o "
            "LibreOffice",
        )


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


def _from_timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds).replace(microsecond=0)
    except (ValueError, OverflowError, OSError):
        return None
