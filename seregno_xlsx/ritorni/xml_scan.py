"""Every XML part of a returned file parsed once, as a stream, with defusedxml's refusals (no DTD, no
entities, no external references): the workbook's structure, the formulas, merged and error cells of the
sheets, the save stamp, and the box of cells holding values, bounded before the reader allocates it.

A worksheet up to ``sheet_bytes.MAX_PART_BYTES`` whose bytes are in the form writers save is read from them
in one pass of a regular expression, after expat with defusedxml's refusals parsed it whole
(``sheet_bytes``); any other worksheet on expat's own callbacks (``Scan._worksheet_fast``: no event, no
tree); the workbook, its relationships, the shared strings and the save stamp on the events of those
callbacks (``xml_events.fast_events``); the parts only checked by expat alone (``xml_events.check_only``),
all with defusedxml's refusals; an .ods's content through defusedxml's iterparse. ``FAST_SCAN = False``
scans everything through the tree, the reference the tests compare the fast scans with."""

from __future__ import annotations

import io
import posixpath
import re
from array import array
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from seregno_xlsx.files import OFFICE_TZ
from seregno_xlsx.ritorni.bounds import (
    CHUNK,
    MAX_COLS,
    MAX_RECORDED,
    MAX_ROWS,
    MAX_VALUE_CELLS,
    UnreadableFile,
)
from seregno_xlsx.ritorni.grid import Formula, Grid
from seregno_xlsx.ritorni.inflation import Inflated, Inflater, safe_name
from seregno_xlsx.ritorni.sheet_bytes import MAX_PART_BYTES, scan_sheet
from seregno_xlsx.ritorni.xml_events import (
    CharRefsCleaned,
    Event,
    check_only,
    fast_events,
    parse_all,
    safe_parser,
    tree_events,
)

NS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"

# Worksheets and the parts only checked are scanned on expat's callbacks (see the module's docstring),
# the rest through defusedxml's tree; False scans everything through the tree (the tests compare both).
FAST_SCAN = True

# A cell's own reference as calamine reads it: letters in either case, then ASCII digits (leading zeros too).
_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)")


class Scan:
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
        self.parts: dict[str, str] = {}  # sheet name -> its part, whose box the reader looks up
        self.entries: set[str] = set()  # every entry of the package
        self.worksheet_parts: set[str] = set()  # the entries scanned as worksheets
        # What the reader's strings will cost: each cell gets its own copy of the shared string it names.
        self.shared_refs: dict[str, int] = {}  # index of a shared string (``_shared_key``) -> cells naming it
        self.shared_lengths = array("I")  # length of each shared string
        # How many shared strings the table says it holds: calamine reserves room for that many up front.
        self.shared_declared: str | None = None
        self.repeated_chars = 0  # characters an .ods cell repeated over many cells adds
        self.inflated = 0  # bytes the package inflates to (the sizes its directory declares)

    def part(self, name: str, source: Inflater | Inflated) -> None:
        if (
            FAST_SCAN
            and _is_worksheet(name)
            and isinstance(source, Inflater)
            and source.info.file_size <= MAX_PART_BYTES
        ):
            # From its bytes where they allow it (``sheet_bytes``); else read again below, as inflated.
            source = Inflated(source)
            if source.error is None and self._worksheet_bytes(name, source.kept):
                return
        stream = io.BufferedReader(CharRefsCleaned(source.chunks()), CHUNK)

        def parsed() -> Iterator[Event]:
            return fast_events(stream) if FAST_SCAN else tree_events(stream)

        try:
            # calamine opens these entries whatever the case of their names, as the worksheets.
            if name.casefold() == "xl/workbook.xml":
                self._workbook(parsed())
            elif name.casefold() == "xl/_rels/workbook.xml.rels":
                self._rels(parsed())
            elif name.casefold() == "xl/sharedstrings.xml":
                self._shared_strings(parsed())
            elif _is_worksheet(name):
                self.worksheet_parts.add(name)
                if FAST_SCAN:
                    self._worksheet_fast(name, stream)
                else:
                    self._worksheet(name, tree_events(stream))
            elif name == "content.xml" and self.grid.format == "ods":
                events = SafeET.iterparse(stream, events=("start", "end", "start-ns"), forbid_dtd=True)
                self._ods_content(_standard_prefixes(events))
            elif name in ("docProps/core.xml", "meta.xml"):
                self._modified(parsed(), "modified" if name == "docProps/core.xml" else "date")
            elif FAST_SCAN:
                check_only(stream)
            else:
                for _ in tree_events(stream):
                    pass
        except UnreadableFile:
            raise
        except SafeET.ParseError:
            # Not well-formed XML even with the references calamine tolerates cleaned: what calamine would
            # make of it is beyond the scan's bounds, so the file is refused (a DTD said as such).
            _refuse_dtd_in_rest(name, source)
            raise UnreadableFile(
                "file-illeggibile", f"il file è danneggiato (elemento {safe_name(name)}: XML non ben formato)"
            ) from None
        except DefusedXmlException:
            raise UnreadableFile(
                "file-illeggibile",
                f"la struttura interna del file non è sicura (elemento {safe_name(name)}: DTD o entità)",
            ) from None
        except Exception:
            raise UnreadableFile(
                "file-illeggibile", f"il file è danneggiato (elemento {safe_name(name)} non valido)"
            ) from None

    def finish(self) -> None:
        shown: dict[str, str] = {}  # part -> the sheet that shows it
        folded = {entry.casefold(): entry for entry in sorted(self.entries, reverse=True)}
        for rid, sheet in self.sheet_parts.items():
            target = self.rels.get(rid, "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            _one_sheet_per_part(shown, posixpath.normpath(part).casefold(), sheet)
            if part not in self.entries:
                # calamine finds the entry whatever the case of its name: the bounds are that entry's.
                part = folded.get(part.casefold(), part)
            if part in self.entries and part not in self.worksheet_parts:
                # calamine reads the sheet where the workbook points; the scan bounds only worksheets.
                raise UnreadableFile(
                    "file-illeggibile",
                    f"il foglio «{safe_name(sheet)[:60]}» è nell'elemento {safe_name(part)}, fuori da "
                    "xl/worksheets/: non è un file salvato da Excel o LibreOffice",
                )
            self.parts[sheet] = part
            if self.formulas.get(part):
                self.grid.formulas[sheet] = self.formulas[part]
            if self.merged.get(part):
                self.grid.merged[sheet] = self.merged[part]
            if self.errors.get(part):
                self.grid.errors[sheet] = self.errors[part]
        if self.grid.format == "ods":
            self.box.refuse_beyond({table: table for table in self.box.beyond})
        else:
            self.box.refuse_beyond({part: sheet for sheet, part in self.parts.items()})

    def _record(self) -> bool:
        self.recorded += 1
        return self.recorded <= MAX_RECORDED

    def _workbook(self, events: Iterator[Event]) -> None:
        for event, tag, attributes, _ in events:
            if event != "end":
                continue
            if tag == "workbookPr":
                self.grid.date1904 = attributes.get("date1904", "0").lower() in ("1", "true")
            elif tag == "sheet":
                name = attributes.get("name") or ""
                # calamine takes the last attribute called id, whatever its prefix: one only, so both read it.
                ids = [v for k, v in attributes.items() if _local(k) == "id"]
                if len(ids) > 1:
                    raise UnreadableFile(
                        "file-illeggibile",
                        f"il foglio «{safe_name(name)[:60]}» indica {len(ids)} elementi (attributi id): non è un "
                        "file salvato da Excel o LibreOffice",
                    )
                rid = ids[0] if ids else ""
                if rid in self.sheet_parts:
                    _one_sheet_per_part({rid: self.sheet_parts[rid]}, rid, name)
                if name.casefold() in (n.casefold() for n in self.sheet_parts.values()):
                    _same_name(name)
                self.sheet_parts[rid] = name

    def _rels(self, events: Iterator[Event]) -> None:
        for event, tag, attributes, _ in events:
            if event == "end" and tag == "Relationship":
                self.rels[attributes.get("Id") or ""] = attributes.get("Target") or ""

    def _worksheet(self, part: str, events: Iterator[Event]) -> None:
        box = self.box
        formulas = self.formulas.setdefault(part, {})
        merged = self.merged.setdefault(part, [])
        errors = self.errors.setdefault(part, {})
        row_number = 1  # the row a cell without a reference lies on (see ``cell_place``)
        col_number = 0
        cell_row = 0
        # Children are detached when they end, so a cell's formula and value are noted as they pass.
        formula: str | None = None
        cached = False
        is_error = False
        value_text = ""
        for event, tag, attributes, text in events:
            if event == "start":
                if tag == "row":
                    row_number = int(attributes.get("r") or row_number)
                    col_number = 0
                elif tag == "c":
                    cell_row, col_number = cell_place(attributes.get("r"), row_number, col_number)
                    formula, cached = None, False
                    is_error, value_text = attributes.get("t") == "e", ""
                elif tag in ("v", "is"):
                    box.extend(part, cell_row, col_number)
                continue
            if tag == "row":
                row_number, col_number = row_number + 1, 0
            elif tag == "f":
                formula = (text or "").strip()
            elif tag == "v":
                cached = bool(text)  # openpyxl writes an empty <v/> after a formula
                value_text = text or ""
            elif tag == "is":
                cached = True
            elif tag == "c":
                if formula is not None and self._record():
                    ref = attributes.get("r") or f"{_column_letter(col_number)}{cell_row}"
                    formulas[ref] = Formula("=" + formula if formula else "=(formula condivisa)", cached)
                if is_error and value_text and self._record():
                    errors[attributes.get("r") or f"{_column_letter(col_number)}{cell_row}"] = value_text[:40]
                elif value_text and attributes.get("t") == "s" and (key := _shared_key(value_text)):
                    self.shared_refs[key] = self.shared_refs.get(key, 0) + 1
                formula, cached = None, False
            elif tag == "mergeCell" and self._record():
                merged.append(attributes.get("ref") or "")

    def _worksheet_bytes(self, part: str, chunks: list[bytes]) -> bool:
        """``_worksheet`` on the part's bytes (``sheet_bytes.scan_sheet``); False, with nothing changed,
        where they do not allow it or a bound is reached (the callbacks then stop where it is crossed)."""
        data = b"".join(chunks)
        if b"&#" in data:  # the bytes the callbacks would parse
            data = io.BufferedReader(CharRefsCleaned(iter(chunks)), CHUNK).read()
        found = scan_sheet(data, _shared_key)
        if (
            found is None
            or self.box.values + found.values > MAX_VALUE_CELLS
            or self.recorded + found.recorded > MAX_RECORDED
        ):
            return False
        self.worksheet_parts.add(part)
        self.formulas.setdefault(part, {})
        self.merged.setdefault(part, []).extend(found.merged)
        self.errors.setdefault(part, {}).update(found.errors)
        self.recorded += found.recorded
        self.box.absorb(part, found.values, found.rows, found.cols)
        for key, count in found.shared_refs.items():
            self.shared_refs[key] = self.shared_refs.get(key, 0) + count
        return True

    def _shared_strings(self, events: Iterator[Event]) -> None:
        length = 0
        in_text = False
        for event, tag, attributes, text in events:
            if event == "start":
                if in_text:
                    # calamine takes all the text inside a <t>, the events only what comes before a child.
                    raise UnreadableFile(
                        "file-illeggibile",
                        "il file è danneggiato (testi condivisi: un elemento dentro un testo, che Excel e "
                        "LibreOffice non scrivono)",
                    )
                in_text = tag == "t"
                if tag == "sst" and self.shared_declared is None:
                    self.shared_declared = attributes.get("uniqueCount")
            elif event == "end":
                in_text = False
                if tag == "t":
                    length += len(text or "")
                elif tag == "si":
                    self.shared_lengths.append(min(length, 0xFFFFFFFF))
                    length = 0

    def shared_chars(self) -> int:
        """Characters of the shared strings the cells name, each counted once per cell naming it."""
        lengths = self.shared_lengths
        return sum(
            lengths[int(index)] * count
            for index, count in self.shared_refs.items()
            if index.isdigit() and int(index) < len(lengths)
        )

    def _worksheet_fast(self, part: str, stream: IO[bytes]) -> None:
        """``_worksheet`` on expat's callbacks: the same checks, as each element is met, with no event made.

        The state ``_worksheet`` keeps between events is kept here between callbacks. Per open element
        only what ``_worksheet`` reads at its end is kept: the text of <f> and <v> up to their first child
        (ElementTree's ``text``), the "r" of <c>, the "ref" of <mergeCell>. tests/test_fast_scan.py
        compares this with ``_worksheet`` on the tree's events, on the hostile corpus and on generated
        worksheets.
        """
        box = self.box
        formulas = self.formulas.setdefault(part, {})
        merged = self.merged.setdefault(part, [])
        errors = self.errors.setdefault(part, {})
        record = self._record
        row_number = 1  # as in ``_worksheet``
        col_number = 0
        cell_row = 0
        formula: str | None = None
        cached = False
        is_error = False
        value_text = ""
        shared_refs = self.shared_refs
        # Per open element: a list of texts while gathered (<f>, <v>), the joined text once a child began;
        # (reference, names a shared string) for <c>, (reference,) for <mergeCell>; None for every other element.
        kept: list[list[str] | str | tuple[str | None] | tuple[str | None, bool] | None] = []
        names: dict[str, str] = {}

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal row_number, col_number, cell_row, formula, cached, is_error, value_text
            tag = names.get(name)
            if tag is None:
                tag = _local(name)
                if len(names) < 1_000:
                    names[name] = tag
            if kept:
                top = kept[-1]
                if type(top) is list:
                    kept[-1] = "".join(top)  # a child began: what was gathered is the parent's text
            if tag == "c":
                ref = attributes.get("r")
                cell_row, col_number = cell_place(ref, row_number, col_number)
                formula, cached = None, False
                kind = attributes.get("t")
                is_error, value_text = kind == "e", ""
                # whether it names a shared string is the cell's own, as the full scan reads it at its end
                kept.append((ref, kind == "s"))
            elif tag == "v":
                box.extend(part, cell_row, col_number)
                kept.append([])
            elif tag == "f":
                kept.append([])
            elif tag == "row":
                row_number = int(attributes.get("r") or row_number)
                col_number = 0
                kept.append(None)
            elif tag == "mergeCell":
                kept.append((attributes.get("ref"),))
            else:
                if tag == "is":
                    box.extend(part, cell_row, col_number)
                kept.append(None)

        def end(name: str) -> None:
            nonlocal formula, cached, value_text, row_number, col_number
            top = kept.pop()
            tag = names.get(name) or _local(name)
            if tag == "row":
                row_number, col_number = row_number + 1, 0
            elif tag == "f":
                formula = _text(top).strip()
            elif tag == "v":
                text = _text(top)
                cached = bool(text)  # openpyxl writes an empty <v/> after a formula
                value_text = text
            elif tag == "is":
                cached = True
            elif tag == "c":
                ref = top[0] if type(top) is tuple else None
                if formula is not None and record():
                    formulas[ref or f"{_column_letter(col_number)}{cell_row}"] = Formula(
                        "=" + formula if formula else "=(formula condivisa)", cached
                    )
                if is_error and value_text and record():
                    errors[ref or f"{_column_letter(col_number)}{cell_row}"] = value_text[:40]
                elif (
                    value_text and type(top) is tuple and len(top) == 2 and top[1] and (key := _shared_key(value_text))
                ):
                    shared_refs[key] = shared_refs.get(key, 0) + 1
                formula, cached = None, False
            elif tag == "mergeCell" and record():
                merged.append((top[0] if type(top) is tuple else None) or "")

        def data(text: str) -> None:
            if kept:
                top = kept[-1]
                if type(top) is list:
                    top.append(text)

        parser = safe_parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        parse_all(parser, stream)

    def _ods_content(self, events: Iterator[tuple[str, Element]]) -> None:
        table = ""
        row = 0
        col = 0
        row_repeat = 1
        t = f"{{{NS_TABLE}}}"
        tables: dict[str, str] = {}  # the bounds are kept per table name, the reader allocates per table
        chars = 0  # text of the cell being read: a repeated cell repeats it
        for event, element in _pruned(events):
            tag = element.tag
            if event == "start":
                if tag == f"{t}table":
                    table = element.get(f"{t}name") or ""
                    if table in tables:
                        _same_name(table)
                    tables[table] = table
                    row = 0
                elif tag == f"{t}table-row":
                    row_repeat = _repeat(element.get(f"{t}number-rows-repeated"))
                    col = 0
                continue
            if tag in (f"{t}table-cell", f"{t}covered-table-cell"):
                repeat = _repeat(element.get(f"{t}number-columns-repeated"))
                if element.get(_VALUE_TYPE) is not None or len(element):
                    self.box.extend(table, row + row_repeat, col + repeat, row_repeat * repeat)
                    # calamine copies a value given as an attribute (office:string-value, date-value...) too
                    chars += sum(
                        len(v) for k, v in element.attrib.items() if k.startswith(_OFFICE) and k.endswith("-value")
                    )
                    self.repeated_chars += (row_repeat * repeat - 1) * chars
                chars = 0
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
            else:
                chars += len(element.text or "") + len(element.tail or "")
                if tag == _SPACES:
                    # <text:s text:c="N"/>: N spaces calamine writes out, a few bytes in the file.
                    spaces = _repeat(element.get(_SPACES_COUNT))
                    chars += spaces
                    self.repeated_chars += spaces

    def _modified(self, events: Iterator[Event], wanted: str) -> None:
        for event, tag, _, text in events:
            if event == "end" and tag == wanted and text and self.grid.modified is None:
                self.grid.modified = parse_stamp(text)


_ODF = "urn:oasis:names:tc:opendocument:xmlns"
_OFFICE = f"{{{_ODF}:office:1.0}}"
_VALUE_TYPE = f"{_OFFICE}value-type"
_SPACES = f"{{{_ODF}:text:1.0}}s"
_SPACES_COUNT = f"{{{_ODF}:text:1.0}}c"
# calamine finds an .ods's tables, rows, cells, values and spaces by these literal prefixes, the scan by
# namespace: the two agree only while each prefix names its own namespace.
_ODS_PREFIXES = {"table": NS_TABLE, "office": f"{_ODF}:office:1.0", "text": f"{_ODF}:text:1.0"}


def _standard_prefixes(events: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Element]]:
    for event, item in events:
        if event == "start-ns":
            prefix, uri = item
            if prefix in _ODS_PREFIXES and uri != _ODS_PREFIXES[prefix]:
                raise UnreadableFile(
                    "file-illeggibile",
                    f"il file è danneggiato (content.xml: il prefisso «{prefix}:» non indica lo spazio dei nomi "
                    "di OpenDocument)",
                )
            continue
        yield event, item


def _repeat(text: str | None) -> int:
    """A repeat count of an .ods (rows, columns, spaces): digits only, as calamine reads it; at least one."""
    if text is None:
        return 1
    if not (text.isascii() and text.isdigit()):
        raise UnreadableFile(
            "file-illeggibile", f"il file è danneggiato (content.xml: ripetizione «{safe_name(text)[:20]}»)"
        )
    return max(int(text), 1)


class _Box:
    """The cells a sheet gives values to, bounded before the reader allocates its grid for them."""

    def __init__(self) -> None:
        self.sheets: dict[str, tuple[int, int]] = {}
        self.values = 0
        # The first cell beyond the limits, per sheet: refused once the scan knows the sheet's name
        # (a package may hold its worksheets before the workbook that names them).
        self.beyond: dict[str, tuple[int, int]] = {}

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
            self.beyond.setdefault(sheet, (row, col))
            return
        self.sheets[sheet] = (max(rows, row), max(cols, col))

    def absorb(self, sheet: str, values: int, rows: int, cols: int) -> None:
        """``extend`` for ``values`` cells within the limits whose box is ``rows`` by ``cols``."""
        self.values += values
        if values:
            known_rows, known_cols = self.sheets.get(sheet, (0, 0))
            self.sheets[sheet] = (max(known_rows, rows), max(known_cols, cols))

    def refuse_beyond(self, names: dict[str, str]) -> None:
        """``names``: the sheet's name per key of ``sheets`` (its part, or an .ods table's own name)."""
        for sheet, (row, col) in self.beyond.items():
            raise UnreadableFile(
                "cella-fuori-limiti",
                f"una scheda usa solo le righe fino alla {MAX_ROWS:,} e le colonne fino alla "
                f"{_column_letter(MAX_COLS)}".replace(",", "."),
                foglio=names.get(sheet, ""),
                cella=f"{_column_letter(col)}{row}",
            )


def _refuse_dtd_in_rest(name: str, source: Inflater | Inflated) -> None:
    """After a parse error: inflate the rest under the bound and refuse a DTD seen anywhere in the part."""
    for _ in source.chunks():
        pass
    if source.saw_dtd:
        raise UnreadableFile(
            "file-illeggibile",
            f"la struttura interna del file non è sicura (elemento {safe_name(name)}: DTD o entità)",
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


def _shared_key(text: str) -> str | None:
    """The index a shared-string cell names, as calamine reads it (Rust's usize: an optional «+», ASCII
    digits, leading zeros): «+0» and «0000…05» named a long string the scan did not count, copied into every
    such cell (2.6 GB for a 266 KB file)."""
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        return None
    digits = digits.lstrip("0") or "0"
    return digits if len(digits) < 20 else None


def _text(kept: object) -> str:
    """The text ``_worksheet_fast`` kept for an element (gathered, or joined when a child began)."""
    if type(kept) is list:
        return "".join(kept)
    return kept if type(kept) is str else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def cell_place(ref: str | None, row: int, col: int) -> tuple[int, int]:
    """Where a <c> lies, as calamine places it: its own reference, else the cell after the previous one on
    ``row``, the row its <row> says (or the one after the previous <row>), never a reference's row.

    calamine reads ``amj1048576`` as ``AMJ1048576`` and ``A0001`` as ``A1``: the scan read either as the next
    cell of its row, and calamine allocated a box of a billion cells the scan had not counted."""
    if ref is None:
        return row, col + 1
    place = _PLACES.get(ref)
    if place is not None:
        return place
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        return row, col + 1
    place = int(match.group(2)), _column_number(match.group(1).upper())
    if len(_PLACES) < MAX_PLACES and len(ref) <= 24:
        _PLACES[ref] = place
    return place


# Every file of a round names the same cells (one scheda): a reference is parsed once per process. Bounded,
# so that a hostile file holds at most this many short keys (24 characters at most).
MAX_PLACES = 20_000
_PLACES: dict[str, tuple[int, int]] = {}


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


def parse_stamp(text: str) -> datetime | None:
    """A save stamp on the office's clock; one that cannot be (year 9999 in UTC+1, garbage) is no stamp.
    Excel's stamp is UTC; LibreOffice's has no zone: the time of the PC that saved it, in the area's office."""
    try:
        stamp = datetime.fromisoformat(text.strip()[:40].replace("Z", "+00:00"))
        return stamp if stamp.tzinfo is None else stamp.astimezone(OFFICE_TZ).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


def _is_worksheet(name: str) -> bool:
    """A worksheet part, whatever the case of its path (calamine opens the part the workbook names)."""
    lowered = name.casefold()
    return lowered.startswith("xl/worksheets/") and lowered.endswith(".xml")


def _one_sheet_per_part(shown: dict[str, str], part: str, sheet: str) -> None:
    """Each sheet its own content: the reader allocates a sheet's grid once per name, so one content
    behind many names would cost its grid as many times as the bounds, measured once, allowed."""
    if part in shown:
        first, second = (safe_name(name)[:60] for name in (shown[part], sheet))
        raise UnreadableFile(
            "file-illeggibile",
            f"i fogli «{first}» e «{second}» mostrano lo stesso contenuto: "
            "non è un file salvato da Excel o LibreOffice",
        )
    shown[part] = sheet


def _same_name(sheet: str) -> None:
    """Two sheets of one name: the reader reads the first under both, as many times as the name recurs."""
    raise UnreadableFile(
        "file-illeggibile",
        f"due fogli si chiamano «{safe_name(sheet)[:60]}»: non è un file salvato da Excel o LibreOffice",
    )
