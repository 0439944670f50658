"""Row heights from the text a row holds and its column widths.

Neither Excel nor LibreOffice re-fits the height of a wrapped row of a generated file on opening:
a row left at its default height prints its second line over the next row. Both writers (the
scheda and the master) set every height from this estimate, which wraps words greedily like both
programs, with the widths of the default font's letters, and errs on the tall side.
"""

from __future__ import annotations

import functools
import math

LINE_POINTS = 15.0  # one line of 11-point text
MAX_ROW_POINTS = 409.0  # Excel's maximum row height
# Width of a character in column-width units (one unit is a "0" of the default font, Calibri or its
# metric twin Carlito), a little over the real widths; anything not listed counts as a capital.
_NARROW = frozenset("ijlfrtI.,;:!'|()[]° ")
_LOWER = frozenset('abcdeghknopqsuvxyzàèéìòù0123456789-/*+=<>?"')
_WIDE = frozenset("mwMW@%")
_CAPITAL = 1.05  # anything not listed
_USABLE = 0.92  # share of the column width that holds text (the rest is the cell's padding)


def _char(ch: str) -> float:
    if ch in _NARROW:
        return 0.55
    if ch in _LOWER:
        return 0.95
    if ch in _WIDE:
        return 1.4
    return _CAPITAL


# _char of every listed character, looked up at once (a master measures hundreds of thousands of words).
_WIDTHS = {ch: _char(ch) for ch in _NARROW | _LOWER | _WIDE}
_SPACE = _char(" ")
# The ASCII characters of each list (the lists share none) and their width: an ASCII text's count of each is
# its length less that of the text without them (bytes.translate, at C speed).
_ASCII_LISTS = [
    ("".join(sorted(ch for ch in chars if ch.isascii())).encode(), _char(next(iter(chars))))
    for chars in (_NARROW, _LOWER, _WIDE)
]


def _fits_one_line(text: str, room: float, bold: bool) -> bool:
    """Whether an ASCII text without line breaks certainly holds on one line ``room`` units wide: its width,
    from the count of each list's characters, a hair under (``_lines`` adds the same widths in another order)."""
    encoded = text.encode("ascii")
    width, others = 0.0, len(encoded)
    for chars, char_width in _ASCII_LISTS:
        count = len(encoded) - len(encoded.translate(None, chars))
        width += count * char_width
        others -= count
    width += others * _CAPITAL
    return width * (1.08 if bold else 1.0) <= room * (1 - 1e-9)


def text_width(text: str, *, bold: bool = False) -> float:
    """The text's width in column-width units."""
    width = _WIDTHS.get
    return sum(width(ch, _CAPITAL) for ch in text) * (1.08 if bold else 1.0)


# Texts and words up to this length are measured once and remembered (a master repeats them: area names,
# titles, phases on every indicator row, the office's vocabulary). Longer ones (notes, descriptions) are
# each an area's own: remembered, 65,536 of them pinned every area's texts after the area was written, and
# 65,536 notes of 32,767 characters would be 4 GB.
CACHED_TEXT = 256
# How many texts and words are remembered, the most recently measured: what repeats in a master (an area's
# titles on its rows, the office's vocabulary) repeats within a few thousand; 65,536 of each kept about
# 8 MiB of one-off texts (notes, codes joined, messages) after their rows were written.
TEXTS_REMEMBERED = 4_096
WORDS_REMEMBERED = 8_192


def one_line(width: float, *, bold: bool = False) -> int:
    """How many characters certainly hold on one line of a column ``width`` units wide: ``lines`` counts one
    for any text of at most that many characters without a line break (each no wider than the widest)."""
    room = max(1.0, width * _USABLE)
    widest = max(_WIDTHS.values()) * (1.08 if bold else 1.0)
    # A hair under: the widths ``lines`` adds are floating-point sums.
    return max(0, math.floor(room / widest * (1 - 1e-9)))


def lines(text: str, width: float, *, size: float = 11.0, bold: bool = False) -> int:
    """Lines the text takes, wrapped at spaces in a column ``width`` units wide."""
    if len(text) <= CACHED_TEXT:
        return _lines_cached(text, width, size, bold)
    return _lines(text, width, size, bold)


@functools.lru_cache(maxsize=TEXTS_REMEMBERED)
def _lines_cached(text: str, width: float, size: float, bold: bool) -> int:
    return _lines(text, width, size, bold)


def _lines(text: str, width: float, size: float, bold: bool) -> int:
    room = max(1.0, width * _USABLE * 11.0 / size)
    if text.isascii() and "\n" not in text and _fits_one_line(text, room, bold):
        return 1
    count = 0
    for part in text.split("\n"):
        count += 1
        used = 0.0
        for word in part.split(" "):
            w = _word_width_cached(word, bold) if len(word) <= CACHED_TEXT else text_width(word, bold=bold)
            space = _SPACE if used else 0.0
            if used and used + space + w > room:
                count += 1
                used = 0.0
                space = 0.0
            if w > room:  # a word longer than the column is broken
                extra = math.ceil(w / room) - 1
                count += extra
                used = w - extra * room
            else:
                used += space + w
    return count


@functools.lru_cache(maxsize=WORDS_REMEMBERED)
def _word_width_cached(word: str, bold: bool) -> float:
    return text_width(word, bold=bold)


def height(count: int, *, size: float = 11.0) -> float:
    """Points for ``count`` lines of text of ``size`` points."""
    return min(MAX_ROW_POINTS, math.ceil(count * LINE_POINTS * size / 11.0))
