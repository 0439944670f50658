"""Errors that stop a command: each carries an Italian message for the user.

Problems found *in the data* are not errors but findings (see ``findings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


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


# Why pydantic refused a value, by its error type, as the office reads it (pydantic's texts are English).
_VALIDATION_REASONS = {
    "missing": "voce obbligatoria mancante",
    "extra_forbidden": "voce non prevista",
    "string_type": "deve essere un testo (tra virgolette)",
    "string_too_long": "testo troppo lungo",
    "string_too_short": "testo vuoto o troppo corto",
    "string_pattern_mismatch": "formato non valido",
    "int_type": "deve essere un numero intero",
    "int_parsing": "deve essere un numero intero",
    "int_from_float": "deve essere un numero intero, senza decimali",
    "float_type": "deve essere un numero",
    "float_parsing": "deve essere un numero",
    "finite_number": "deve essere un numero finito (non NaN né infinito)",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "date_type": "deve essere una data AAAA-MM-GG",
    "date_parsing": "deve essere una data AAAA-MM-GG",
    "date_from_datetime_parsing": "deve essere una data AAAA-MM-GG",
    "date_from_datetime_inexact": "deve essere una data AAAA-MM-GG, senza ora",
    "datetime_type": "deve essere una data e ora",
    "datetime_parsing": "deve essere una data e ora",
    "list_type": "deve essere un elenco [ … ]",
    "dict_type": "deve essere un oggetto { … }",
    "model_type": "deve essere un oggetto { … }",
    "model_attributes_type": "deve essere un oggetto { … }",
    "too_short": "elenco con troppo pochi elementi",
    "too_long": "elenco con troppi elementi",
    "enum": "valore non ammesso",
    "literal_error": "valore non ammesso",
    "none_required": "deve essere vuoto (null)",
}


def validation_reason(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) said in Italian: our own validators
    already write Italian (``value_error``); bounds name the bound; anything else is «valore non valido»."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    bounds = {
        "greater_than": ("maggiore di", "gt"),
        "greater_than_equal": ("almeno", "ge"),
        "less_than": ("minore di", "lt"),
        "less_than_equal": ("al massimo", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"deve essere {words} {ctx.get(key, '')}".rstrip()
    if kind in ("enum", "literal_error") and ctx.get("expected"):
        return f"valore non ammesso: scrivere {ctx['expected']}".replace(" or ", " o ")
    if kind in ("value_error", "assertion_error"):
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _VALIDATION_REASONS.get(kind, "valore non valido")
