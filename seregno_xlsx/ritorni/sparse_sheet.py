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
from functools import partial
from typing import IO, Any
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from defusedxml.ElementTree import DefusedXMLParser

from seregno_xlsx.cells import column_letter
from seregno_xlsx.piano.regola import numero
from seregno_xlsx.ritorni.bounds import CHUNK, MAX_EMPTY_RUN, UnreadableFile
from seregno_xlsx.ritorni.grid import COL_BITS, SparseRows
from seregno_xlsx.ritorni.inflation import Inflater, safe_name
from seregno_xlsx.ritorni.values import is_blank
from seregno_xlsx.ritorni.xml_events import CharRefsCleaned, fast_events
from seregno_xlsx.ritorni.xml_scan import cell_place  # the scan's own placement

_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_TAIL = b"</sheetData></worksheet>"
# The first rewritten row holds a text, so calamine's used range starts on A1 whatever the cells hold:
# the rewritten cells are then on rows 2, 3... whichever way a calamine version counts its rows.
_FIRST_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>.</t></is></c></row>'
_ODS_FIRST_ROW = (
    '<table:table-row><table:table-cell office:value-type="string"><text:p>.</text:p></table:table-cell>'
    "</table:table-row>"
)
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


@dataclass
class Places:
    """Where each rewritten cell stood (1-based), in the order of the rewritten rows, and the sheet's
    width: the last column of a cell calamine keeps (a value, an inline text, even empty, an error)."""

    rows: array[int] = field(default_factory=lambda: array("I"))
    cols: array[int] = field(default_factory=lambda: array("H"))
    width: int = 0


def compact(data: bytes, sheets: dict[str, str]) -> tuple[bytes, dict[str, Places]]:
    """The package ``data`` with each sheet in ``sheets`` (name -> part) rewritten as one column of its
    cells; the places by sheet name. An .ods names content.xml, which holds every table.

    ``data`` already passed the checks of the scan (sizes, ratios, CRCs, safe XML): every entry is
    inflated again under the same bounds, in chunks, and written to the new package as it comes."""
    places: dict[str, Places] = {}
    parts = {part: name for name, part in sheets.items()}
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
                    if info.filename == "content.xml" and info.filename in parts:
                        tables = {name for name, part in sheets.items() if part == "content.xml"}
                        places.update(_compact_ods(Inflater(data, info), sink, tables))
                    elif info.filename in parts:
                        places[parts[info.filename]] = _compact_sheet(Inflater(data, info), sink)
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
    sink.write(_HEAD + _FIRST_ROW.encode())
    row_number, col_number, cell_row = 1, 0, 0
    cell: list[str] | None = None  # the cell being copied, its XML so far
    cell_attributes: dict[str, str] = {}
    opened: list[bool] = []  # per element open inside the cell: whether a child began (its text is whitespace)
    skipped = 0  # depth inside a formula, which the values do not need
    has_value = kept = False
    for kind, tag, attributes, text in fast_events(io.BufferedReader(CharRefsCleaned(source.chunks()), CHUNK)):
        if cell is None:
            if kind != "start":
                if tag == "row":
                    row_number, col_number = row_number + 1, 0
                continue
            if tag == "row":
                row_number = int(attributes.get("r") or row_number)
                col_number = 0
            elif tag == "c":
                cell_row, col_number = cell_place(attributes.get("r"), row_number, col_number)
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
            places.rows.append(cell_row)
            places.cols.append(col_number)
            if kept:
                places.width = max(places.width, col_number)
            at = len(places.rows) + 1
            own = {k: v for k, v in cell_attributes.items() if k != "r"}
            sink.write(f'<row r="{at}"><c r="A{at}"{_attributes(own)}>{"".join(cell)}</c></row>'.encode())
        cell = None
    sink.write(_TAIL)
    return places


_ODS_DROPPED = {
    "table:number-columns-repeated",
    "table:number-columns-spanned",
    "table:number-rows-spanned",
    "table:formula",
}


def _compact_ods(source: Inflater, sink: IO[bytes], tables: set[str]) -> dict[str, Places]:
    """Rewrite content.xml: the tables named in ``tables`` as one column of their cells holding a value,
    everything else copied as it is. Names are read as written,
    prefixes included, as calamine reads them; defusedxml's refusals are installed on the parser."""
    parser = expat.ParserCreate()
    # defusedxml's refusals, as xml_events.fast_events installs them (the scan has already refused a DTD
    # or an entity in this part: these stand guard in case the part's bytes were not what it read).
    parser.StartDoctypeDeclHandler = partial(DefusedXMLParser.defused_start_doctype_decl, None)
    parser.EntityDeclHandler = partial(DefusedXMLParser.defused_entity_decl, None)
    parser.UnparsedEntityDeclHandler = partial(DefusedXMLParser.defused_unparsed_entity_decl, None)
    parser.ExternalEntityRefHandler = partial(DefusedXMLParser.defused_external_entity_ref_handler, None)
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    found: dict[str, Places] = {}
    current: Places | None = None  # the sparse table being rewritten
    inner = 0  # elements open inside it, outside any cell
    row = col = 0
    row_repeat = col_repeat = 1
    cell: list[str] | None = None
    cell_name, cell_attributes, cell_depth, cell_children = "", {}, 0, False

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal current, inner, row, col, row_repeat, col_repeat, cell, cell_name, cell_attributes
        nonlocal cell_depth, cell_children
        if current is None:
            out.append(f"<{name}{_ods_attributes(attributes, set())}>")
            if name == "table:table" and attributes.get("table:name") in tables:
                current = found[attributes["table:name"]] = Places()
                inner, row = 0, 0
                out.append(_ODS_FIRST_ROW)
            return
        if cell is not None:
            cell.append(f"<{name}{_ods_attributes(attributes, set())}>")
            cell_depth += 1
            cell_children = True
        elif name == "table:table-row":
            row_repeat, col = int(attributes.get("table:number-rows-repeated") or 1), 0
            inner += 1
        elif name in ("table:table-cell", "table:covered-table-cell"):
            col_repeat = int(attributes.get("table:number-columns-repeated") or 1)
            cell, cell_name, cell_attributes, cell_depth, cell_children = [], name, attributes, 0, False
        else:
            inner += 1

    def end(name: str) -> None:
        nonlocal current, inner, row, col, cell, cell_depth
        if current is None:
            out.append(f"</{name}>")
        elif cell is not None and cell_depth:
            cell.append(f"</{name}>")
            cell_depth -= 1
        elif cell is not None:
            typed = "office:value-type" in cell_attributes
            if typed or cell_children:
                # A repeated cell stays one cell, repeated down the column: the rewritten XML is no
                # longer than the original, and calamine gives each place its copy, as it would.
                count = row_repeat * col_repeat
                repeated = f' table:number-rows-repeated="{count}"' if count > 1 else ""
                attributes = _ods_attributes(cell_attributes, _ODS_DROPPED)
                out.append(f"<table:table-row{repeated}><{cell_name}{attributes}>{''.join(cell)}</{cell_name}>")
                out.append("</table:table-row>")
                for r in range(row + 1, row + row_repeat + 1):
                    for c in range(col + 1, col + col_repeat + 1):
                        current.rows.append(r)
                        current.cols.append(c)
                if typed:
                    current.width = max(current.width, col + col_repeat)
            col += col_repeat
            cell = None
        elif inner:
            inner -= 1
            if name == "table:table-row":
                row += row_repeat
        else:
            out.append(f"</{name}>")
            current = None
        if len(out) > 1_000:
            sink.write("".join(out).encode())
            out.clear()

    def text(data: str) -> None:
        if current is None:
            out.append(escape(data))
        elif cell is not None:
            cell.append(escape(data))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    cleaned = CharRefsCleaned(source.chunks())  # as the scan read it
    while chunk := cleaned.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    sink.write("".join(out).encode())
    return found


def _ods_attributes(attributes: dict[str, str], dropped: set[str]) -> str:
    return "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items() if key not in dropped)


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
    keys: array[int] = array("q")
    values: list[object] = []
    if sheet.start is not None:
        rows = sheet.iter_rows()
        next(rows, None)  # the first row, written to start the used range on A1
        for index, row in enumerate(rows):
            if index >= len(places.rows):
                raise UnreadableFile("file-illeggibile", f"il foglio «{safe_name(name)[:60]}» non si legge")
            keys.append(((places.rows[index] - 1) << COL_BITS) | (places.cols[index] - 1))
            values.append(row[0] if row else "")
    if any(keys[i] >= keys[i + 1] for i in range(len(keys) - 1)):
        # Rows or cells out of order, or one place twice: sorted, the last value of a place kept (even an
        # empty one), as in calamine's rectangle.
        latest = dict(zip(keys, values, strict=True))
        order = sorted(latest)
        keys, values = array("q", order), [latest[key] for key in order]
    if any(value == "" or value is None for value in values):
        kept = [at for at, value in enumerate(values) if value != "" and value is not None]
        keys, values = array("q", (keys[at] for at in kept)), [values[at] for at in kept]
    # The dense reading stops at the first run of more than MAX_EMPTY_RUN rows without a value.
    height = 0
    cut = len(keys)
    for at, key in enumerate(keys):
        row = key >> COL_BITS
        if row - height > MAX_EMPTY_RUN:
            cut = at
            break
        height = row + 1
    for at in range(cut, len(keys)):
        refuse_beyond_empty_run(values[at], keys[at] >> COL_BITS, keys[at] & ((1 << COL_BITS) - 1), name)
    if cut < len(keys):
        del keys[cut:], values[cut:]
    return SparseRows(keys, values, height, places.width)


def refuse_beyond_empty_run(value: object, row: int, col: int, sheet: str) -> None:
    """A value after the rows the reader keeps (0-based ``row``, ``col``) is never dropped in silence: a
    mark LibreOffice may leave there (blank) is, anything else makes the file a finding."""
    if not is_blank(value):
        raise UnreadableFile(
            "cella-fuori-limiti",
            f"il valore viene dopo più di {numero(MAX_EMPTY_RUN)} righe vuote, fuori dalla tabella",
            foglio=sheet,
            cella=f"{column_letter(col + 1)}{row + 1}",
        )
