"""A worksheet read from its bytes in one pass of one regular expression, when its bytes provably say
nothing more than that pass reads: the scan of ``Scan._worksheet_fast`` (expat's callbacks, one Python
call per element) without a Python call per element.

The part must parse whole through expat with defusedxml's refusals (well-formed, no DTD, no entity, every
prefix bound); what does not goes through the callbacks, which meet its error where they meet it. Then:

- it is UTF-8 (an optional byte order mark; a declaration, if any, of version 1.0 naming UTF-8 or no
  encoding; the root's name begins with an ASCII letter): no UTF-16, no other encoding;
- the pass meets no ``<!`` (comment, CDATA section, DOCTYPE), no ``<?`` after the declaration, no element
  name with a prefix (``<x:c>``): in well-formed XML every ``<`` then opens a tag (a text or an attribute
  value cannot hold one), so the pass sees every element, by the local name the scan compares;
- every <c>, <v>, <is>, <f>, <mergeCell> and <row> is met in the form writers save (``_CELL``, ``_MERGE``,
  ``_ROW``): a cell with its own reference first, attributes in double quotes without references or
  white space that expat would change, and at most one value, <v> with a plain text or <is> with one
  <t>; no formula. Any other form, anywhere, sends the whole part to the callbacks.

In that form every cell stands alone (no cell inside another, no value outside a cell) and names its own
place, so what the callbacks leave at each element's end is what this pass reads off each match. A part
whose cells reach a bound (a value beyond the last row or column, more values or more formulas, errors
and merges than allowed) goes to the callbacks too, which stop where the bound is crossed.
tests/test_fast_scan.py compares this with the tree's scan on the hostile corpus and on generated
worksheets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from seregno_xlsx.ritorni.bounds import MAX_COLS, MAX_ROWS
from seregno_xlsx.ritorni.xml_events import safe_parser

# Parts up to this size are read from their bytes (held whole, a few times over); larger ones stream.
MAX_PART_BYTES = 4 * 1024 * 1024
# The bytes one search of the pass reads at a time (between one and two blocks).
_BLOCK = 128 * 1024

# An optional byte order mark (UTF-8's), an optional declaration of version 1.0 naming UTF-8 or no encoding,
# white space: where the pass begins, before the root (a name beginning with an ASCII letter).
_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:\"1\.0\"|'1\.0')"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:\"(?:yes|no)\"|'(?:yes|no)'))?[ \t\r\n]*\?>)?"
    rb"[ \t\r\n]*(?=<[A-Za-z_])"
)
# Attributes as writers save them: a space, a plain name, a value in double quotes that expat gives as it
# stands (no reference, no tab or line end, which it would turn into spaces).
_ATTRIBUTES = rb'(?: [A-Za-z]{1,32}="[^"<&\t\n\r]*")* ?'
# After the "<": a cell: its column, its row, its attributes; for a value, "<v>" and its text, "<is>", "<v/>".
_CELL = (
    rb'c r="([A-Z]{1,3})([0-9]{1,7})"(' + _ATTRIBUTES + rb")(?:/>|>(?:(<v>)([^<&\r]*)</v>"
    rb'|(<is>)<t(?: xml:space="preserve")?>[^<]*</t></is>|(<v/>))?</c>)'
)
_MERGE = rb'(mergeCell) ref="([^"<&\t\n\r]*)" ?/>'
_ROW = rb'row r="[0-9]{1,7}"' + _ATTRIBUTES + rb"/?>"
# What the pass must not go past: an element the scan reads in another form, a comment, a CDATA section,
# a processing instruction, a prefixed name.
_OTHER = rb"((?:c|v|is|f|mergeCell|row)[ \t\r\n/>]|!|\?|/?[^ \t\r\n/>]*:)"
# Every alternative after the "<" each match begins with (the search then looks for that byte alone).
_PASS = re.compile(rb"<(?:" + rb"|".join([_CELL, _MERGE, _ROW, _OTHER]) + rb")")
_CUT = re.compile(rb"<[^vit/]")

# How ``xml_scan`` reads a shared string's index (given by it: one code for both scans).
SharedKey = Callable[[str], str | None]


@dataclass
class SheetScan:
    """What ``Scan._worksheet`` leaves for one worksheet, gathered before anything of the scan changes."""

    errors: dict[str, str] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    recorded: int = 0  # errors and merges met (each counted as ``Scan._record`` counts it)
    values: int = 0  # cells holding a value (<v> or <is>)
    rows: int = 0  # the box of those cells
    cols: int = 0
    shared_refs: dict[str, int] = field(default_factory=dict)


def scan_sheet(data: bytes, shared_key: SharedKey) -> SheetScan | None:
    """The scan of worksheet ``data``, or None where only expat's callbacks are sure to read it right (or a
    value lies beyond the last row or column: they say where)."""
    prolog = _PROLOG.match(data)
    if prolog is None:
        return None
    try:
        safe_parser().Parse(data, True)
    except Exception:
        return None  # an error or a refusal: the callbacks meet it where they meet it
    found = SheetScan()
    errors, merged, shared_refs = found.errors, found.merged, found.shared_refs
    rows = cols = values = recorded = 0
    columns: dict[bytes, int] = {}
    for block in _blocks(data, prolog.end()):  # the matches of a block in a list: no call per match
        for letters, digits, attributes, v, text, inline, v_empty, merge, ref, other in block:
            if letters:
                if not (v or inline or v_empty):
                    continue  # a cell without a value: its end reads nothing
                values += 1
                row = int(digits)
                col = columns.get(letters) or columns.setdefault(letters, _column_number(letters))
                if row > MAX_ROWS or col > MAX_COLS:
                    return None
                if row > rows:
                    rows = row
                if col > cols:
                    cols = col
                if text:
                    # The attributes are ' name="value"' one after another, values without quotes: ' t="e"' is
                    # the attribute t and nothing else.
                    if b' t="e"' in attributes:
                        recorded += 1
                        errors[(letters + digits).decode()] = text.decode()[:40]
                    elif b' t="s"' in attributes and (key := shared_key(text.decode())):
                        shared_refs[key] = shared_refs.get(key, 0) + 1
            elif merge:
                recorded += 1
                merged.append(ref.decode())
            elif other:
                return None
            # else a row: it places only cells without their own reference, which this pass never meets
    found.rows, found.cols, found.values, found.recorded = rows, cols, values, recorded
    return found


def _blocks(data: bytes, start: int) -> Iterator[list[tuple[bytes, ...]]]:
    """``_PASS``'s matches, a block at a time: what they hold stays a few times a block, not the part.

    A block ends before a tag no match holds but at its start (``_CUT``: a cell holds only <v>, <is>, <t>
    and end tags); failing one, before any tag: a cell cut there leaves "<c " to ``_OTHER``, and the part
    to the callbacks."""
    end = len(data)
    while start < end:
        if end - start <= 2 * _BLOCK:
            cut = end
        else:
            found = _CUT.search(data, start + _BLOCK, start + 2 * _BLOCK)
            cut = found.start() if found else data.find(b"<", start + 2 * _BLOCK)
            cut = end if cut == -1 else cut
        yield _PASS.findall(data, start, cut)
        start = cut


def _column_number(letters: bytes) -> int:
    number = 0
    for code in letters:
        number = number * 26 + code - 64
    return number
