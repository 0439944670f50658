"""seregno_xlsx: the yearly Piano degli Obiettivi, collected safely in spreadsheets.

The public surface is what this module exports; a test guards it. README's «Libreria Python»
shows it in use.
"""

from typing import TYPE_CHECKING, Any

from seregno_xlsx.errors import OutputError, PlanError, SeregnoError, SourceError
from seregno_xlsx.findings import CATALOGO, Anomalia, Gravita
from seregno_xlsx.master.consolidation import Consolidamento, consolidate
from seregno_xlsx.master.scoring import MissingValue, Regole
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione, plan_json_schema
from seregno_xlsx.posta.collect import ImapConfig, Raccolta, collect
from seregno_xlsx.posta.distribute import Distribuzione, distribute
from seregno_xlsx.posta.remind import Solleciti, remind
from seregno_xlsx.posta.send import Sicurezza, SmtpConfig
from seregno_xlsx.ritorni.classification import Classificazione, classify
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import Verifica, verify, verify_file
from seregno_xlsx.scheda.generation import SchedaGenerata, generate
from seregno_xlsx.version import __version__ as __version__

if TYPE_CHECKING:
    from seregno_xlsx.master.frames import Tabelle, frames, read_master

# pandas is imported only when the frames are asked for: the command line never pays for it.
_FRAMES = ("Tabelle", "frames", "read_master")


def __getattr__(name: str) -> Any:
    if name in _FRAMES:
        from seregno_xlsx.master import frames as module

        return getattr(module, name)
    raise AttributeError(f"module 'seregno_xlsx' has no attribute {name!r}")


__all__ = [
    "CATALOGO",
    "Anomalia",
    "Area",
    "Classificazione",
    "Consolidamento",
    "Distribuzione",
    "Fase",
    "Gravita",
    "ImapConfig",
    "Indicatore",
    "Lettura",
    "MissingValue",
    "Obiettivo",
    "OutputError",
    "Persona",
    "Piano",
    "PlanError",
    "Raccolta",
    "Regole",
    "Rilevazione",
    "SchedaGenerata",
    "SeregnoError",
    "Sicurezza",
    "SmtpConfig",
    "Solleciti",
    "SourceError",
    "Tabelle",
    "Verifica",
    "classify",
    "collect",
    "consolidate",
    "distribute",
    "frames",
    "generate",
    "parse_exports",
    "plan_json_schema",
    "read_master",
    "read_workbook",
    "remind",
    "verify",
    "verify_file",
]
