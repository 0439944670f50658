"""A1 column letters, without loading openpyxl (reading and checking a return never needs it)."""

from __future__ import annotations

import functools


@functools.cache
def column_letter(col: int) -> str:
    """1 → A, 27 → AA: openpyxl's ``get_column_letter`` (a test compares every column)."""
    if not 1 <= col <= 18_278:
        raise ValueError(f"Invalid column index {col}")
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
