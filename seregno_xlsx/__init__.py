"""seregno_xlsx: the yearly Piano degli Obiettivi, collected safely in spreadsheets.

The public surface is what this module exports; a test guards it.
"""

from seregno_xlsx.errors import OutputError, PlanError, SeregnoError, SourceError
from seregno_xlsx.findings import CATALOGO, Anomalia, Gravita
from seregno_xlsx.master.consolidation import Consolidamento, consolidate
from seregno_xlsx.master.scoring import MissingValue, Regole
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione, plan_json_schema
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import Verifica, verify, verify_file
from seregno_xlsx.scheda.generation import GeneratedWorkbook, generate
from seregno_xlsx.version import __version__ as __version__

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
