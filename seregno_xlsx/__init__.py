"""seregno_xlsx: the yearly Piano degli Obiettivi, collected safely in spreadsheets.

The public surface is what this module exports; a test guards it.
"""

from .consolidation import Consolidamento, consolidate
from .errors import OutputError, PlanError, SeregnoError, SourceError
from .export_parser import parse_exports
from .findings import CATALOGO, Anomalia, Gravita
from .generation import GeneratedWorkbook, generate
from .model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione, plan_json_schema
from .scoring import MissingValue, Regole
from .verification import Verifica, verify, verify_file
from .workbook_reader import Lettura, read_workbook

__version__ = "0.1.0"

__all__ = [
    "CATALOGO",
    "Anomalia",
    "Area",
    "Consolidamento",
    "Fase",
    "GeneratedWorkbook",
    "Gravita",
    "Indicatore",
    "Lettura",
    "MissingValue",
    "Obiettivo",
    "OutputError",
    "Persona",
    "Piano",
    "PlanError",
    "Regole",
    "Rilevazione",
    "SeregnoError",
    "SourceError",
    "Verifica",
    "consolidate",
    "generate",
    "parse_exports",
    "plan_json_schema",
    "read_workbook",
    "verify",
    "verify_file",
]
