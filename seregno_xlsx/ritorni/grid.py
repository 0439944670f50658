"""What a returned workbook gives the reader: every sheet's values, as the client last saved them,
and what the values alone do not show (formulas, merged cells, error cells, active content)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Formula:
    """A formula found in a cell: its text and whether the file also stores the value it computed."""

    testo: str
    valore_salvato: bool


@dataclass
class Grid:
    """Every sheet's values (0-based rows and columns), as the client last saved them."""

    sheets: dict[str, list[list[object]]] = field(default_factory=dict)
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
        if 0 < row <= len(rows) and 0 < col <= len(rows[row - 1]):
            return rows[row - 1][col - 1]
        return None
