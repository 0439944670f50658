"""What a returned workbook gives the reader: every sheet's values, as the client last saved them,
and what the values alone do not show (formulas, merged cells, error cells, active content)."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

# A sparse sheet's cell key: row and column (0-based) in one int; columns stay below 2**COL_BITS.
COL_BITS = 14


@dataclass(frozen=True)
class Formula:
    """A formula found in a cell: its text and whether the file also stores the value it computed."""

    testo: str
    valore_salvato: bool


class SparseRows(Sequence[list[object]]):
    """A sheet's rows as a sequence, holding only the cells with a value: memory follows the cells the
    file holds (16 bytes each beside the value), not the rectangle they span. A row is made when asked
    for as the dense reading makes it: as wide as the sheet and padded with "" if it holds a value,
    else empty."""

    def __init__(self, keys: array[int], values: list[object], height: int, width: int) -> None:
        # keys ascending: (row << COL_BITS) | col, 0-based; values: the cell's, never "" or None.
        self.keys = keys
        self.values = values
        self.height = height
        self.width = width

    def __len__(self) -> int:
        return self.height

    @overload
    def __getitem__(self, index: int) -> list[object]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[object]]: ...

    def __getitem__(self, index: int | slice) -> list[object] | list[list[object]]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self.height))]
        if index < 0:
            index += self.height
        if not 0 <= index < self.height:
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[list[object]]:
        return (self._row(i) for i in range(self.height))

    def _span(self, index: int) -> tuple[int, int]:
        return bisect_left(self.keys, index << COL_BITS), bisect_left(self.keys, (index + 1) << COL_BITS)

    def _row(self, index: int) -> list[object]:
        first, last = self._span(index)
        if first == last:
            return []
        row: list[object] = [""] * self.width
        mask = (1 << COL_BITS) - 1
        for at in range(first, last):
            row[self.keys[at] & mask] = self.values[at]
        return row

    def _at(self, row: int, col: int) -> int | None:
        key = (row << COL_BITS) | col
        at = bisect_left(self.keys, key)
        return at if at < len(self.keys) and self.keys[at] == key else None

    def cell(self, row: int, col: int) -> object:
        """1-based, as ``Grid.value``."""
        if not (0 < row <= self.height and 0 < col <= self.width):
            return None
        first, last = self._span(row - 1)
        if first == last:
            return None
        at = self._at(row - 1, col - 1)
        return "" if at is None else self.values[at]

    def replace(self, row: int, col: int, value: object) -> None:
        """0-based: a value held by the cell is replaced (the line breaks of an .ods text put back)."""
        at = self._at(row, col)
        if at is not None:
            self.values[at] = value


Rows = list[list[object]] | SparseRows


@dataclass
class Grid:
    """Every sheet's values (0-based rows and columns), as the client last saved them."""

    # Rows from A1, each as wide as the sheet; a sheet whose cells lie far apart is kept sparse.
    sheets: dict[str, Rows] = field(default_factory=dict)
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
        if isinstance(rows, SparseRows):
            return rows.cell(row, col)
        if 0 < row <= len(rows) and 0 < col <= len(rows[row - 1]):
            return rows[row - 1][col - 1]
        return None

    def values(self, sheet: str) -> Iterator[object]:
        """Every value the sheet holds (a dense sheet also gives its empty cells, as "")."""
        rows = self.sheets[sheet]
        if isinstance(rows, SparseRows):
            return iter(rows.values)
        return (value for row in rows for value in row)
