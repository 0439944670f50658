"""Sheets whose cells lie far apart, read in memory that follows the cells, not the rectangle they span.

calamine allocates a sheet's whole bounding rectangle (A1 to the last cell) before giving any value: one
cell on row 1,048,576 costs the rectangle whatever the file weighs. Such a sheet is rewritten before
calamine sees it: each cell holding a value, copied as it is (type, style, value, inline text), moves to
the next row of column A, and its true place is remembered. calamine then reads a rectangle of one
column and as many rows as cells, with its own conversions (dates, numbers, booleans, shared strings,
errors): the values are those of the dense reading by construction, and go back to their places in a
``SparseRows``, with the same rows kept (up to the first run of more than ``MAX_EMPTY_RUN`` empty rows)
and the same width.
"""

from __future__ import annotations

import io
import zipfile
from array import array
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from seregno_xlsx.cells import column_letter
from seregno_xlsx.ritorni.bounds import CHUNK, MAX_EMPTY_RUN, UnreadableFile
from seregno_xlsx.ritorni.grid import COL_BITS, SparseRows
from seregno_xlsx.ritorni.inflation import Inflater, safe_name
from seregno_xlsx.ritorni.values import is_blank
from seregno_xlsx.ritorni.xml_events import fast_events
from seregno_xlsx.ritorni.xml_scan import _CELL_REF, _column_number  # the scan's own placement

_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_TAIL = b"</sheetData></worksheet>"
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


@dataclass
class Places:
    """Where each rewritten cell stood (1-based), in the order of the rewritten rows, and the sheet's
    width: the last column of a cell calamine keeps (a value, an inline text, even empty, an error)."""

    rows: array[int] = field(default_factory=lambda: array("I"))
    cols: array[int] = field(default_factory=lambda: array("H"))
    width: int = 0


def compact(data: bytes, parts: set[str]) -> tuple[bytes, dict[str, Places]]:
    """The package ``data`` with each worksheet part in ``parts`` rewritten as one column of its cells.

    ``data`` already passed the checks of the scan (sizes, ratios, CRCs, safe XML): every entry is
    inflated again under the same bounds, in chunks, and written to the new package as it comes."""
    places: dict[str, Places] = {}
    out = io.BytesIO()
    try:
        with (
            zipfile.ZipFile(io.BytesIO(data)) as source,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
        ):
            for info in source.infolist():
                if info.is_dir():
                    continue
                with target.open(info.filename, "w") as sink:
                    if info.filename in parts:
                        places[info.filename] = _compact_sheet(Inflater(data, info), sink)
                    else:
                        for chunk in Inflater(data, info).chunks():
                            sink.write(chunk)
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile("file-illeggibile", "il file è danneggiato (un foglio non è XML valido)") from None
    return out.getvalue(), places


def _compact_sheet(source: Inflater, sink: IO[bytes]) -> Places:
    """Rewrite one worksheet; cells are placed as the scan places them (``xml_scan.Scan._worksheet``)."""
    places = Places()
    sink.write(_HEAD)
    row_number = col_number = 0
    cell: list[str] | None = None  # the cell being copied, its XML so far
    cell_attributes: dict[str, str] = {}
    opened: list[bool] = []  # per element open inside the cell: whether a child began (its text is whitespace)
    skipped = 0  # depth inside a formula, which the values do not need
    has_value = kept = False
    for kind, tag, attributes, text in fast_events(io.BufferedReader(source, CHUNK)):
        if cell is None:
            if kind != "start":
                continue
            if tag == "row":
                row_number = int(attributes.get("r") or row_number + 1)
                col_number = 0
            elif tag == "c":
                match = _CELL_REF.match(attributes.get("r") or "")
                col_number = _column_number(match.group(1)) if match else col_number + 1
                if match:
                    row_number = int(match.group(2))
                cell, cell_attributes, opened, has_value, kept = [], attributes, [], False, False
            continue
        if kind == "start":
            if skipped or tag == "f":
                skipped += 1
                continue
            if opened:
                opened[-1] = True
            opened.append(False)
            cell.append(f"<{tag}{_attributes(attributes)}>")
            if tag in ("v", "is"):
                has_value = True
                kept = kept or tag == "is"
            continue
        if skipped:
            skipped -= 1
            continue
        if opened:
            if not opened.pop() and text:
                cell.append(escape(text))
                kept = kept or tag == "v"
            cell.append(f"</{tag}>")
            continue
        # The cell ends.
        if has_value:
            places.rows.append(row_number)
            places.cols.append(col_number)
            if kept:
                places.width = max(places.width, col_number)
            at = len(places.rows)
            own = {k: v for k, v in cell_attributes.items() if k != "r"}
            sink.write(f'<row r="{at}"><c r="A{at}"{_attributes(own)}>{"".join(cell)}</c></row>'.encode())
        cell = None
    sink.write(_TAIL)
    return places


def _attributes(attributes: dict[str, str]) -> str:
    """Plain attributes as they were; of the namespaced ones only xml:space, which says to keep spaces."""
    parts = []
    for key, value in attributes.items():
        if key.startswith(_XML_NS):
            key = "xml:" + key[len(_XML_NS) :]
        elif key.startswith("{"):
            continue
        parts.append(f" {key}={quoteattr(value)}")
    return "".join(parts)


def sparse_rows(sheet: Any, places: Places, name: str) -> SparseRows:
    """The rewritten sheet's values back in their places, keeping what the dense reading keeps."""
    cells: dict[int, object] = {}
    if sheet.start is not None:
        first_row = sheet.start[0]
        values = [row[0] if row else "" for row in sheet.iter_rows()]
        offset = first_row if len(values) == sheet.height and first_row else 0  # as in _sheet_rows
        if offset + len(values) > len(places.rows):
            raise UnreadableFile("file-illeggibile", f"il foglio «{safe_name(name)[:60]}» non si legge")
        rows, cols = places.rows, places.cols
        for index, value in enumerate(values, start=offset):
            if value != "" and value is not None:
                cells[((rows[index] - 1) << COL_BITS) | (cols[index] - 1)] = value
    # The dense reading stops at the first run of more than MAX_EMPTY_RUN rows without a value.
    height = 0
    for row in sorted({key >> COL_BITS for key in cells}):
        if row - height > MAX_EMPTY_RUN:
            break
        height = row + 1
    beyond = sorted(key for key in cells if key >> COL_BITS >= height)
    for key in beyond:
        refuse_beyond_empty_run(cells[key], key >> COL_BITS, key & ((1 << COL_BITS) - 1))
    for key in beyond:
        del cells[key]
    return SparseRows(cells, height, places.width)


def refuse_beyond_empty_run(value: object, row: int, col: int) -> None:
    """A value after the rows the reader keeps (0-based ``row``, ``col``) is never dropped in silence: a
    mark LibreOffice may leave there (blank) is, anything else makes the file a finding."""
    if not is_blank(value):
        raise UnreadableFile(
            "cella-fuori-limiti",
            f"la cella {column_letter(col + 1)}{row + 1} contiene un valore dopo più di "
            f"{MAX_EMPTY_RUN:,} righe vuote, fuori dalla scheda".replace(",", "."),
        )
