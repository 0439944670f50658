"""The parse events of an untrusted XML part, two ways that give the same events.

An event is ``(kind, name, attributes, text)``: kind "start" or "end", the element's local name
(namespace dropped), its attributes, and at "end" the text before its first child (None if none).

- ``tree_events``: defusedxml's iterparse, building (and pruning) an element tree: the reference.
- ``fast_events``: the same expat parser with the same refusals (DTD, entity declarations, external
  references: defusedxml's own handlers), calling back into Python once per element and building no
  tree: several times faster on a worksheet of thousands of cells.

Both read the part in the same 16 KiB pieces and give a piece's events once the piece is parsed, as
iterparse does: a syntax error comes after the events before it, a refusal (DTD, entity) drops the
piece's events. Tests compare the two on the hostile corpus and on generated XML.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from functools import partial
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from defusedxml import ElementTree as SafeET
from defusedxml.ElementTree import DefusedXMLParser

Event = tuple[str, str, dict[str, str], str | None]

# What iterparse reads at a time (xml.etree.ElementTree.iterparse): the same pieces, the same events.
PIECE = 16 * 1024


def tree_events(stream: IO[bytes]) -> Iterator[Event]:
    """Events through defusedxml's iterparse; finished elements are detached, so memory stays flat."""
    stack: list[Element] = []
    for event, element in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            stack.append(element)
            yield "start", _local(element.tag), dict(element.attrib), None
        else:
            yield "end", _local(element.tag), dict(element.attrib), element.text
            stack.pop()
            if stack:
                stack[-1].remove(element)


def fast_events(stream: IO[bytes]) -> Iterator[Event]:
    """The same events from expat's callbacks, with defusedxml's refusals installed on the parser."""
    parser = safe_parser()
    pending: list[Event] = []
    # Per open element: its attributes, its text so far, and whether a child has begun (text after
    # a child is that child's tail, not the element's text).
    attributes: list[dict[str, str]] = []
    texts: list[list[str]] = []
    closed: list[bool] = []
    # Local names by expat's name ("uri}c" -> "c"): a worksheet repeats a handful of them.
    names: dict[str, str] = {}

    def local(name: str) -> str:
        found = names.get(name)
        if found is None:
            found = _local(name)
            if len(names) < 1_000:
                names[name] = found
        return found

    def start(name: str, attrs: dict[str, str]) -> None:
        if attrs and any("}" in key for key in attrs):  # a namespaced attribute, named as ElementTree does
            attrs = {"{" + key if "}" in key else key: value for key, value in attrs.items()}
        if closed:
            closed[-1] = True
        attributes.append(attrs)
        texts.append([])
        closed.append(False)
        pending.append(("start", local(name), attrs, None))

    def end(name: str) -> None:
        parts = texts.pop()
        closed.pop()
        pending.append(("end", local(name), attributes.pop(), "".join(parts) if parts else None))

    def data(text: str) -> None:
        if texts and not closed[-1]:
            texts[-1].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    while True:
        piece = stream.read(PIECE)
        error = _parse(parser, piece, final=not piece)
        yield from pending
        pending.clear()
        if error is not None:
            raise error
        if not piece:
            return


def safe_parser() -> expat.XMLParserType:
    """An expat parser with defusedxml's refusals (forbid_dtd, as in ``tree_events``); names as "uri}local"."""
    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    # defusedxml's own handlers. They only raise, using nothing of their instance: taken from the class,
    # so no parser instance (and no reference cycle) is made per part.
    parser.StartDoctypeDeclHandler = partial(DefusedXMLParser.defused_start_doctype_decl, None)
    parser.EntityDeclHandler = partial(DefusedXMLParser.defused_entity_decl, None)
    parser.UnparsedEntityDeclHandler = partial(DefusedXMLParser.defused_unparsed_entity_decl, None)
    parser.ExternalEntityRefHandler = partial(DefusedXMLParser.defused_external_entity_ref_handler, None)
    return parser


def parse_all(parser: expat.XMLParserType, stream: IO[bytes]) -> None:
    """Feed ``stream`` to ``parser`` in the pieces iterparse reads; a syntax error as iterparse raises it.

    The parser's own handlers see each element as expat meets it: a handler that raises stops the parse
    there, as the same check run on ``fast_events`` would stop at that event. A refusal (DTD, entity) can
    only come before the first element (a DOCTYPE after it is a syntax error), so no handler has run.
    """
    while True:
        piece = stream.read(PIECE)
        error = _parse(parser, piece, final=not piece)
        if error is not None:
            raise error
        if not piece:
            return


def check_only(stream: IO[bytes]) -> None:
    """A part only checked: the refusals and syntax errors of ``fast_events``, without an event made."""
    parse_all(safe_parser(), stream)


def _parse(parser: expat.XMLParserType, data: bytes, *, final: bool) -> ParseError | None:
    """A syntax error is returned, to be raised after the piece's events (as iterparse queues it);
    defusedxml's refusals are raised at once (iterparse drops the piece's events)."""
    try:
        parser.Parse(data, final)
    except expat.ExpatError as exc:
        error = ParseError(f"{expat.ErrorString(exc.code)}: line {exc.lineno}, column {exc.offset}")
        error.code = exc.code
        error.position = (exc.lineno, exc.offset)
        return error
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# A character reference XML 1.0 forbids (&#x7;): some writers put them in a cell's text and calamine reads
# them, where expat stops. Digits bounded: a longer reference is left to fail the parse.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
# What such a reference is read as: DEL, a character XML allows and the reader flags and removes as it
# does the control character calamine reads from the original, so every reading of the cell agrees.
_FLAGGED_REF = b"&#x7F;"


def _xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _cleaned_ref(match: re.Match[bytes]) -> bytes:
    hexa, decimal = match.groups()
    return match.group(0) if _xml_char(int(hexa, 16) if hexa else int(decimal)) else _FLAGGED_REF


class CharRefsCleaned(io.RawIOBase):
    """An XML part read with each character reference XML forbids as ``&#x7F;``: the scan then parses
    what calamine reads, and every other syntax error means a damaged file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self.chunks = chunks
        self.pending = b""
        self.carry = b""  # a reference cut by the end of a chunk, completed by the next one

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                data, self.carry = self.carry, b""
                if not data:
                    return 0
            else:
                data = self.carry + chunk
                cut = data.rfind(b"&", max(0, len(data) - 24))
                if cut != -1 and b";" not in data[cut:]:
                    data, self.carry = data[:cut], data[cut:]
                else:
                    self.carry = b""
            self.pending = _CHAR_REF.sub(_cleaned_ref, data) if b"&#" in data else data
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
