"""Errors that stop a command: each carries an Italian message for the user.

Problems found *in the data* are not errors but findings (see ``findings``).
"""

from __future__ import annotations

from pathlib import Path


class SeregnoError(Exception):
    """Base of every error shown to the user as a message, never as a traceback."""

    def __init__(self, messaggio: str) -> None:
        super().__init__(messaggio)
        self.messaggio = messaggio


class SourceError(SeregnoError):
    """The management system's export cannot be parsed."""

    def __init__(self, file: Path | str, riga: int | None, messaggio: str) -> None:
        where = f"{file}, riga {riga}" if riga is not None else str(file)
        super().__init__(f"{where}: {messaggio}")
        self.file = str(file)
        self.riga = riga


class PlanError(SeregnoError):
    """The plan file is missing or invalid."""


class OutputError(SeregnoError):
    """An output cannot be written; the previous output is left intact."""
