"""What a returned workbook gives the reader: every sheet's values, as the client last saved them,
and what the values alone do not show (formulas, merged cells, error cells, active content)."""

from __future__ import annotations

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
    file holds, not the rectangle they span. A row is made when asked for as the dense reading makes
    it: as wide as the sheet and padded with "" if it holds a value, else empty."""

    def __init__(self, cells: dict[int, object], height: int, width: int) -> None:
        self.cells = cells  # (row << COL_BITS) | col -> value, 0-based; only values not "" or None
        self.filled = {key >> COL_BITS for key in cells}
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

    def _row(self, index: int) -> list[object]:
        if index not in self.filled:
            return []
        base, get = index << COL_BITS, self.cells.get
        return [get(base | col, "") for col in range(self.width)]

    def cell(self, row: int, col: int) -> object:
        """1-based, as ``Grid.value``."""
        if 0 < row <= self.height and row - 1 in self.filled and 0 < col <= self.width:
            return self.cells.get(((row - 1) << COL_BITS) | (col - 1), "")
        return None


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
            return iter(rows.cells.values())
        return (value for row in rows for value in row)
