"""An XlsxWriter worksheet that prepares the master's formulas without dozens of regular expressions each.

XlsxWriter rewrites every formula through one regular expression per newer function (29 of them for
dynamic arrays, ``FILTER(`` → ``_xlfn._xlws.FILTER(``…, about 150 in conditional formats), even when
the formula calls none of them: the master's tens of thousands of formulas pay for nothing. Here a
formula whose every call is to a function of ``PLAIN`` (none of which those expressions can match:
a test checks each of them against each name) is only stripped of its ``=`` and braces, which is
exactly what XlsxWriter returns for it; any other formula goes to XlsxWriter's own code. A property
test compares the two on the master's formulas and on arbitrary ones; such a formula is also written without
XlsxWriter's search for dynamic array functions. The XML escaping of every cell's attributes and text takes the
same shortcut (a text with nothing to escape is returned as it is), and the XML of a formatted text, number,
date, formula or blank cell is made in one piece (property tests compare each with XlsxWriter's own). And
``write_cells`` makes a whole table row (the master's rows: almost all of its cells) in one piece, without
XlsxWriter's calls, cell object and table entry per cell, its ``<row>`` tag and height too where ``set_row``
would give only a height: the bytes XlsxWriter's own writers give for the same cells (a property test), with
one difference on purpose: a format first used by a cell that is then written over is numbered all the same
(XlsxWriter numbers a format when it writes out a cell using it). Every text stays text, escaped (never
XlsxWriter's rich text), and a cell it cannot place (outside the sheet, on a row written out, without a format,
an empty formula) is an error.

In ``constant_memory`` mode (the master's) XlsxWriter silently drops a cell or a row height given to a row
already written out; here that is an error: the master never loses a cell unnoticed. And the height of a
row written out is let go with it (XlsxWriter keeps every one until the end), except on a sheet whose
objects (the chart) are placed by the heights of the rows under them. So are its hyperlinks: XlsxWriter keeps
an object of each (about 700 bytes) until it writes them after the rows; here each is a line in a file of
the workbook's temporary folder, read back then one at a time (the rows, and so the links, come in order).
"""

from __future__ import annotations

import functools
import json
import math
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from xlsxwriter.url import Url, UrlTypes  # type: ignore[import-untyped]
from xlsxwriter.utility import (  # type: ignore[import-untyped]
    _preserve_whitespace,
    xl_col_to_name,
    xl_rowcol_to_cell_fast,
)
from xlsxwriter.worksheet import CellFormulaTuple, Worksheet  # type: ignore[import-untyped]

# Functions the master writes (master/writer.py); a name outside this set takes XlsxWriter's own path.
PLAIN = frozenset(
    {
        "ABS",
        "AND",
        "COUNT",
        "COUNTA",
        "COUNTIF",
        "COUNTIFS",
        "DATE",
        "HYPERLINK",
        "IF",
        "IFERROR",
        "ISBLANK",
        "ISNUMBER",
        "ISTEXT",
        "MAX",
        "MIN",
        "NOT",
        "OR",
        "ROUND",
        "SUM",
        "SUMIFS",
        "SUMPRODUCT",
        "TODAY",
    }
)
# Anything that can precede "(": a name with dots and digits, as XlsxWriter's patterns see it.
_CALL = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*(?=\()")


# The cached values XlsxWriter marks as errors (``Worksheet._write_cell``).
_ERROR_CODES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))


# The kinds of cell ``FastWorksheet._write_cell`` writes itself.
_FAST_CELLS = frozenset(("String", "Formula", "Blank", "Number", "Datetime"))


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula and the value it shows until recalculated (what a reader without a calculation engine sees)."""

    text: str
    cached: Any


@functools.cache
def _column_name(col: int) -> str:
    return str(xl_col_to_name(col))


def _looks_rich(text: str) -> bool:
    """What XlsxWriter takes for prepared rich text, written unescaped (control characters do not change
    either end: they become _xHHHH_ escapes inside)."""
    return text.startswith("<r>") and text.endswith("</r>")


# A formula's shape: its digits all 0. The master's formulas differ mostly by their rows' numbers.
_SHAPE = str.maketrans("123456789", "000000000")
# The same for an ASCII formula (almost all), on its bytes: a table of 256 bytes, a tenth of the time.
_SHAPE_BYTES = bytes.maketrans(b"123456789", b"000000000")
# Whether each shape met is plain (``_plain``), a few hundred at most in a master (bounded all the same);
# an ASCII formula's shape is kept as bytes, any other's as text (the two never equal).
_PLAIN_SHAPES: dict[str | bytes, bool] = {}
PLAIN_SHAPES_REMEMBERED = 1_024


def _plain(formula: str) -> bool:
    """Whether every call in ``formula`` is to a function of ``PLAIN``: then none of XlsxWriter's expressions
    (the newer functions' renames, the dynamic array functions) can match it.

    Answered once per shape: a digit changed into another leaves every name where it was (the pattern of a
    name takes any digit alike), a name without digits as it was and one with digits outside ``PLAIN``
    (no name there has one), and neither «_xlfn.» nor «INGLE(» has a digit."""
    key = formula.encode().translate(_SHAPE_BYTES) if formula.isascii() else formula.translate(_SHAPE)
    known = _PLAIN_SHAPES.get(key)
    if known is None:
        if len(_PLAIN_SHAPES) >= PLAIN_SHAPES_REMEMBERED:
            _PLAIN_SHAPES.clear()
        shape = formula.translate(_SHAPE)
        known = _PLAIN_SHAPES[key] = (
            "_xlfn." not in shape
            and "INGLE(" not in shape  # XlsxWriter's "\SINGLE(" matches any character before "INGLE("
            and PLAIN.issuperset(_CALL.findall(shape))
        )
    return known


def _escaped(text: str) -> str:
    """XlsxWriter's ``_escape_data`` of a text: ``&``, ``<`` and ``>`` escaped (its expression also looks for
    ``"`` and a newline, which it leaves as they are)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _stripped(formula: str) -> str:
    """What XlsxWriter's ``_prepare_formula`` returns for a formula calling only ``PLAIN`` functions."""
    if formula.startswith("{"):
        formula = formula[1:]
    if formula.startswith("="):
        formula = formula[1:]
    if formula.endswith("}"):
        formula = formula[:-1]
    return formula


def _needs_xml_escape(text: str) -> bool:
    """Whether XlsxWriter's ``xml_escapes`` (one of ``"&<>`` or a newline) finds anything in ``text``."""
    return '"' in text or "&" in text or "<" in text or ">" in text or "\n" in text


class FastWorksheet(Worksheet):  # type: ignore[misc]
    # False on a sheet holding a chart or an image: XlsxWriter sizes them from the rows' heights at the end.
    forget_written_rows = True
    # The hyperlinks given as text, one line each ([row, col, url, text, tip]), in the order of their rows.
    _links: IO[bytes] | None = None
    row_data_fh: IO[str]  # XlsxWriter's temporary file of the rows (constant_memory)
    previous_row: int  # XlsxWriter's: the row being written (constant_memory), the rows above it written out
    # The row ``write_cells`` made, until the next row starts (a link may still be written on it): its
    # cells' columns and XML, in column order, and its <row> tag when made too.
    _made: tuple[list[int], list[str], str | None] | None = None

    def _initialize(self, init_data: Any) -> None:
        super()._initialize(init_data)
        if self.constant_memory:
            # The rows' temporary file opened for writing only: XlsxWriter's "w+" makes every write reset a
            # text decoder (hundreds of thousands of writes); it is opened again to be read (``_opt_reopen``).
            self.row_data_fh.close()
            self.row_data_fh = self.fh = open(self.row_data_filename, "w", encoding="utf-8")  # noqa: SIM115

    def _opt_reopen(self) -> None:
        if not self.row_data_fh_closed and not self.row_data_fh.readable():
            self._opt_close()  # XlsxWriter opens it again to append and read
        super()._opt_reopen()

    def _write_single_row(self, current_row_num: int = 0) -> None:
        written = self.previous_row
        if self._made is not None:  # always the row written out now: no other row starts meanwhile
            self._write_made_row(current_row_num)
        else:
            super()._write_single_row(current_row_num)
        if self.forget_written_rows:
            self.row_info.pop(written, None)
            self.row_sizes.pop(written, None)

    def write_out_rows(self) -> None:
        """The row being written, if any, written out to the rows' file (constant_memory): nothing of the
        rows stays in memory, and no row above the next may be written any more."""
        if self.constant_memory:
            self._write_single_row(self.previous_row + 1)

    def write_cells(self, row: int, cells: Sequence[tuple[int, object, Any]], height: float | None = None) -> None:
        """One row's cells, (column, value, format) in increasing column order, and its height in points.

        A value is a text (written as text, whatever it looks like: a formula, XlsxWriter's rich text), a
        ``Formula``, a number, a date or a datetime, or None (a blank cell keeping its format); every cell has
        a format. What XlsxWriter's
        ``write_string``, ``write_formula``, ``write_number``, ``write_datetime``, ``write_blank`` and ``set_row``
        would write (property tests compare the bytes), made in one piece in ``constant_memory`` mode: each
        cell's XML at once, without a cell object, the row's table and XlsxWriter's calls per cell and per
        attribute. A cell outside the sheet is an error, never dropped.
        """
        if not cells:
            if height is not None:
                self.set_row(row, height)
            return
        last = cells[-1][0]
        if self._check_dimensions(row, last) or self._check_dimensions(row, cells[0][0]):
            raise RuntimeError(f"{self.name}: la cella {xl_rowcol_to_cell_fast(row, last)} è fuori dal foglio")
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        elif not self.constant_memory or self._made is not None or self.table.get(row):
            # Cells already on this row (never in the master): XlsxWriter's way, cell by cell.
            for col, value, fmt in cells:
                self.write_value(row, col, value, fmt)
            if height is not None:
                self.set_row(row, height)
            return
        number, cols, parts, previous = str(row + 1), list[int](), list[str](), -1
        longest = self.xls_strmax // 2  # a longer text XlsxWriter may have to shorten: its own way
        for col, value, fmt in cells:
            if col <= previous:
                raise ValueError(f"{self.name}: le celle della riga {number} vanno date in ordine di colonna")
            if fmt is None:
                raise ValueError(f"{self.name}: la cella {_column_name(col)}{number} è senza formato")
            previous, kind = col, type(value)
            # Numbered in column order, even a cell written XlsxWriter's way below: as XlsxWriter numbers
            # formats, when it writes out a cell.
            xf = fmt.xf_index
            if xf is None:
                xf = fmt._get_xf_index()
            start = f'<c r="{_column_name(col)}{number}" s="{xf}"'
            if kind is str and len(value) <= longest:  # type: ignore[arg-type]
                text: str = value  # type: ignore[assignment]
                if not text.isprintable() or "_x" in text:  # as _escape_control_characters
                    text = Worksheet._escape_control_characters(text)
                if "&" in text or "<" in text or ">" in text:  # as _escaped
                    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                # XlsxWriter's _preserve_whitespace: "^\s" or "\s$" (either is the text's first or last character).
                if text[:1].isspace() or text[-1:].isspace():
                    parts.append(f'{start} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
                else:
                    parts.append(f'{start} t="inlineStr"><is><t>{text}</t></is></c>')
            elif kind is Formula:
                formula, cached = value.text, value.cached  # type: ignore[attr-defined]
                shown = cached
                if not formula:  # XlsxWriter would leave the cell out
                    raise ValueError(f"{self.name}: la cella {_column_name(col)}{number} ha una formula vuota")
                shown_kind = type(shown)
                # As _write_formula and _write_cell (any other formula or value: XlsxWriter's way, below).
                if formula[0] == "{" or shown_kind not in (str, int, float) or not _plain(formula):
                    self.write_value(row, col, value, fmt)
                    continue
                if shown_kind is str:
                    if "&" in shown or "<" in shown or ">" in shown:
                        shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    if shown:
                        start += ' t="e"' if cached in _ERROR_CODES else ' t="str"'
                parts.append(f"{start}><f>{_escaped(_stripped(formula))}</f><v>{shown}</v></c>")
            elif value is None:
                parts.append(f"{start}/>")
            elif (kind is float and math.isfinite(value)) or kind is int:  # type: ignore[arg-type]
                parts.append(f"{start}><v>{value:.16G}</v></c>")
            elif kind is date or kind is datetime:
                parts.append(f"{start}><v>{self._convert_date_time(value):.16G}</v></c>")
            else:  # to the row's table: written with the row's made cells, in column order
                self.write_value(row, col, value, fmt)
                continue
            cols.append(col)
        tag = self._row_tag(number, height) if row not in self.row_info else None
        if tag is None and height is not None:
            self.set_row(row, height)
        self._made = (cols, parts, tag)

    def _row_tag(self, number: str, height: float | None) -> str | None:
        """The ``<row>`` tag XlsxWriter writes for a row of ``height`` points (None: the default) given by
        ``set_row`` alone, without keeping the height until the row is written out; None where the row needs
        more (a hidden row, a sheet with other defaults, a sheet whose chart is placed by its rows' heights)."""
        if not self.forget_written_rows or self.excel_version == 2010:
            return None
        if self.default_row_height != self.original_row_height:
            return None
        if height is None:
            return f'<row r="{number}">'
        pixels = int(height * 4.0 / 3.0 + 0.5)  # as set_row
        if pixels == 0:  # hidden
            return None
        if pixels == self.original_row_height:
            return f'<row r="{number}">'
        return f'<row r="{number}" ht="{pixels * 0.75:.16g}" customHeight="1">'

    def write_value(self, row: int, col: int, value: object, fmt: Any) -> None:
        """One cell by the kind of ``value`` (see ``write_cells``), through XlsxWriter's writers."""
        if isinstance(value, Formula):
            self._write_formula(row, col, value.text, fmt, value.cached)
        elif isinstance(value, str):
            self._write_string(row, col, value, fmt)
        elif isinstance(value, date):
            self._write_datetime(row, col, value, fmt)
        elif isinstance(value, int | float):
            self._write_number(row, col, value, fmt)
        elif value is None:
            self._write_blank(row, col, None, fmt)
        else:
            raise TypeError(f"{self.name}: valore non scrivibile {value!r}")

    def _write_made_row(self, current_row_num: int) -> None:
        """``_write_single_row`` for the row ``write_cells`` made, with any cell written on it since."""
        assert self._made is not None
        row_num = self.previous_row
        cols, parts, tag = self._made
        self._made = None
        self.previous_row = current_row_num
        info = self.row_info.get(row_num)  # a set_row after write_cells replaces its height, as in XlsxWriter
        if tag is None or info is not None:
            self._write_row(row_num, None, info)
        else:
            self.fh.write(tag)
        later = self.table.get(row_num)
        if not later:
            self.fh.write("".join(parts))
        else:  # in column order; a cell written again is its last value, as XlsxWriter keeps it
            made = dict(zip(cols, parts, strict=True))
            for col in sorted(made.keys() | later.keys()):
                if col in later:
                    self._write_cell(row_num, col, later[col])
                else:
                    self.fh.write(made[col])
        self._xml_end_tag("row")
        self.table.clear()

    def _write_url(
        self, row: int, col: int, url: Any, cell_format: Any = None, string: Any = None, tip: Any = None
    ) -> int:
        result = int(super()._write_url(row, col, url, cell_format, string, tip))
        if result == 0 and self.constant_memory and isinstance(url, str):
            # What XlsxWriter made of the text is made again from it when written (``_write_hyperlinks``).
            del self.hyperlinks[row][col]
            if not self.hyperlinks[row]:
                del self.hyperlinks[row]
            if self._links is None:
                # In the workbook's own temporary folder (the master's scratch folder), gone when closed.
                self._links = tempfile.TemporaryFile(dir=self.tmpdir)  # noqa: SIM115 (closed once written)
            self._links.write(json.dumps([row, col, url, string, tip]).encode() + b"\n")
        return result

    def _written_links(self) -> Iterator[tuple[int, dict[int, Url]]]:
        """The hyperlinks kept in the file, a row at a time (a cell's last link, as XlsxWriter keeps it)."""
        assert self._links is not None
        self._links.seek(0)
        row, cells = -1, dict[int, Url]()
        for line in self._links:
            at, col, link, string, tip = json.loads(line)
            if at != row and cells:
                yield row, cells
                cells = {}
            row = at
            url = Url(link)  # as XlsxWriter's _write_url makes it
            if string is not None:
                url._text = string
            if tip is not None:
                url.tip = tip
            cells[col] = url
        if cells:
            yield row, cells
        self._links.close()
        self._links = None

    def _write_hyperlinks(self) -> None:
        if self._links is None:
            super()._write_hyperlinks()
            return
        if self.hyperlinks:  # a link given as an object too (never in the master): all of them XlsxWriter's way
            for row, cells in self._written_links():
                self.hyperlinks[row].update(cells)
            super()._write_hyperlinks()
            return
        # XlsxWriter's own loop, over the rows read back.
        self._xml_start_tag("hyperlinks")
        for row_num, cells in self._written_links():
            for col_num in sorted(cells):
                url = cells[col_num]
                if self.table and self.table[row_num] and self.table[row_num][col_num]:
                    cell = self.table[row_num][col_num]
                    if cell.__class__.__name__ != "String":
                        url._is_object_link = True
                if url._link_type in (UrlTypes.URL, UrlTypes.EXTERNAL):
                    self.rel_count += 1
                    self._write_hyperlink_external(row_num, col_num, self.rel_count, url)
                    self.external_hyper_links.append(["/hyperlink", url._target(), "External"])
                else:
                    self._write_hyperlink_internal(row_num, col_num, url)
        self._xml_end_tag("hyperlinks")

    def _check_dimensions(self, row: int, col: int, ignore_row: bool = False, ignore_col: bool = False) -> int:
        # The cheapest test first: on almost every call the row is the current one or a later one.
        if row < self.previous_row and row >= 0 and self.constant_memory and not (ignore_row or ignore_col):
            raise RuntimeError(f"{self.name}: riga {row + 1} già scritta (le righe vanno scritte in ordine)")
        return int(Worksheet._check_dimensions(self, row, col, ignore_row, ignore_col))

    def _write_text_as_text(self, row: int, col: int, cell: Any) -> None:
        """A text that looks like XlsxWriter's rich text (``<r>…</r>``), escaped as any other text.

        XlsxWriter writes such a string into the sheet's XML as it is, taking it for the runs that
        ``write_rich_string`` prepared: a note typed by an area could close its cell and open another with
        a formula. The master never writes rich text, so every text is escaped (the cell's style found as
        XlsxWriter finds it).
        """
        attributes: list[tuple[str, Any]] = [("r", xl_rowcol_to_cell_fast(row, col))]
        style = cell.format
        if style is None and row in self.row_info and self.row_info[row].row_format:
            style = self.row_info[row].row_format
        elif style is None and col in self.col_info:
            style = self.col_info[col].column_format
        if style is not None:
            attributes.append(("s", style._get_xf_index()))
        string = self._escape_control_characters(cell.string)
        self._xml_inline_string(string, _preserve_whitespace(string), attributes)

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        # XlsxWriter's innermost loop, for the cells of almost every row of the master (a formatted text in
        # line, number, date, formula or blank, in constant_memory mode): the same XML in one write, without
        # the list of attributes and the calls per element; any other cell goes to XlsxWriter's own code (a
        # property test compares the two).
        fmt, kind = cell.format, cell.__class__.__name__
        if kind == "String" and self.constant_memory and _looks_rich(cell.string):
            self._write_text_as_text(row, col, cell)
            return
        if fmt is None or not self.constant_memory or kind not in _FAST_CELLS:
            super()._write_cell(row, col, cell)
            return
        attributes = f' r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
        if kind == "String":
            string = self._escape_control_characters(cell.string)
            preserve = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
            self.fh.write(f'<c{attributes} t="inlineStr"><is><t{preserve}>{self._escape_data(string)}</t></is></c>')
        elif kind == "Formula":
            value = cell.value
            if isinstance(value, bool):
                super()._write_cell(row, col, cell)
                return
            if isinstance(value, str) and value:
                attributes += ' t="e"' if value in _ERROR_CODES else ' t="str"'
            formula = self._escape_data(cell.formula)
            self.fh.write(f"<c{attributes}><f>{formula}</f><v>{self._escape_data(value)}</v></c>")
        elif kind == "Blank":
            self.fh.write(f"<c{attributes}/>")
        else:  # Number, Datetime
            self.fh.write(f"<c{attributes}><v>{cell.number:.16G}</v></c>")

    # XML escaping, cell by cell: XlsxWriter runs regular expressions on every attribute (an exception for
    # each number, the style index of every formatted cell) and on every in-line string (two substitutions
    # for control characters). Here a text that cannot need them is returned as it is, which is what those
    # expressions return for it; any other goes to XlsxWriter's own code (a property test compares them).

    def _escape_attributes(self, attribute: Any) -> Any:
        if type(attribute) is int or (type(attribute) is str and not _needs_xml_escape(attribute)):
            return attribute
        return super()._escape_attributes(attribute)

    def _escape_data(self, data: Any) -> Any:
        if type(data) is str:
            return _escaped(data)
        return super()._escape_data(data)

    @staticmethod
    def _escape_control_characters(data: Any) -> Any:
        # isprintable() is False for every control character and for U+FFFE and U+FFFF (not characters);
        # "_x" starts every escape XlsxWriter would protect.
        if type(data) is str and data.isprintable() and "_x" not in data:
            return data
        return Worksheet._escape_control_characters(data)

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> Any:
        if not _plain(formula):
            return super()._prepare_formula(formula, expand_future_functions)
        return _stripped(formula)

    def _write_formula(self, row: int, col: int, formula: str, cell_format: Any = None, value: Any = 0) -> int:
        # XlsxWriter's own steps for a formula calling only PLAIN functions (almost every formula of the
        # master), its regular expression for dynamic array functions left out: none of them is one (a test
        # checks); an array formula ("{...}") or any other takes XlsxWriter's whole path.
        if not formula or formula.startswith("{") or not _plain(formula):
            return int(super()._write_formula(row, col, formula, cell_format, value))
        if self._check_dimensions(row, col):
            return -1
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        self.table[row][col] = CellFormulaTuple(_stripped(formula), cell_format, value)
        return 0
