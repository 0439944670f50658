"""The closed sets of values the command line offers as choices, defined where importing is cheap.

Options are typed with these enumerations, so every command registers (and ``seregno-xlsx --help``
prints) without importing pydantic, openpyxl or the mail modules. Each is re-exported by the module
whose concept it is (``piano.model``, ``master.scoring``, ``posta.send``): import it from there.
"""

from __future__ import annotations

from enum import StrEnum


class Rilevazione(StrEnum):
    """The round of collection: mid-year or year-end."""

    INTERMEDIA = "intermedia"
    FINALE = "finale"


class MissingValue(StrEnum):
    """How an indicator without a value for the round counts."""

    ESCLUSO = "escluso"  # left out of the objective's mean
    ZERO = "zero"  # counts as 0%


class Sicurezza(StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NESSUNA = "nessuna"
