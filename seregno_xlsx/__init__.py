"""seregno_xlsx: the yearly Piano degli Obiettivi, collected safely in spreadsheets.

The public surface is what this module exports; a test guards it. README's «Libreria Python»
shows it in use.

Every name is imported on first use (module ``__getattr__``): ``import seregno_xlsx`` and the
command line's start-up pay only for what a command needs, never for openpyxl, pandas or the
consolidation when they are not used.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from seregno_xlsx.version import __version__ as __version__

if TYPE_CHECKING:
    from seregno_xlsx.errors import OutputError, PlanError, SeregnoError, SourceError
    from seregno_xlsx.findings import CATALOGO, Anomalia, Gravita
    from seregno_xlsx.master.consolidation import Consolidamento, consolidate
    from seregno_xlsx.master.frames import Tabelle, frames, read_master
    from seregno_xlsx.master.scoring import MissingValue, Regole
    from seregno_xlsx.piano.compatto import PianoCompatto, read_plan_compact
    from seregno_xlsx.piano.export_parser import parse_exports
    from seregno_xlsx.piano.model import (
        Area,
        Fase,
        Indicatore,
        Obiettivo,
        Persona,
        Piano,
        Rilevazione,
        plan_json_schema,
    )
    from seregno_xlsx.posta.collect import ImapConfig, Raccolta, collect
    from seregno_xlsx.posta.distribute import Distribuzione, distribute
    from seregno_xlsx.posta.remind import Solleciti, remind
    from seregno_xlsx.posta.send import Sicurezza, SmtpConfig
    from seregno_xlsx.ritorni.classification import Classificazione, classify
    from seregno_xlsx.ritorni.reader import Lettura, read_workbook
    from seregno_xlsx.ritorni.verification import Verifica, verify, verify_file
    from seregno_xlsx.scheda.generation import SchedaGenerata, generate

# Public name -> the module that defines it.
_WHERE = {
    "seregno_xlsx.errors": ("OutputError", "PlanError", "SeregnoError", "SourceError"),
    "seregno_xlsx.findings": ("CATALOGO", "Anomalia", "Gravita"),
    "seregno_xlsx.master.consolidation": ("Consolidamento", "consolidate"),
    "seregno_xlsx.master.frames": ("Tabelle", "frames", "read_master"),
    "seregno_xlsx.master.scoring": ("MissingValue", "Regole"),
    "seregno_xlsx.piano.compatto": ("PianoCompatto", "read_plan_compact"),
    "seregno_xlsx.piano.export_parser": ("parse_exports",),
    "seregno_xlsx.piano.model": (
        "Area",
        "Fase",
        "Indicatore",
        "Obiettivo",
        "Persona",
        "Piano",
        "Rilevazione",
        "plan_json_schema",
    ),
    "seregno_xlsx.posta.collect": ("ImapConfig", "Raccolta", "collect"),
    "seregno_xlsx.posta.distribute": ("Distribuzione", "distribute"),
    "seregno_xlsx.posta.remind": ("Solleciti", "remind"),
    "seregno_xlsx.posta.send": ("Sicurezza", "SmtpConfig"),
    "seregno_xlsx.ritorni.classification": ("Classificazione", "classify"),
    "seregno_xlsx.ritorni.reader": ("Lettura", "read_workbook"),
    "seregno_xlsx.ritorni.verification": ("Verifica", "verify", "verify_file"),
    "seregno_xlsx.scheda.generation": ("SchedaGenerata", "generate"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'seregno_xlsx' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])


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
    "PianoCompatto",
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
    "read_plan_compact",
    "read_workbook",
    "remind",
    "verify",
    "verify_file",
]
