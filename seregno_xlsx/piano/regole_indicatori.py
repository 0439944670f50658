"""The office's file of indicator rules (``modelli/regole_indicatori.toml``), applied by ``importa``.

The management system's export says nothing of how an indicator is measured: the office writes it once
here, by indicator code or by a pattern on the indicator's name, and every import of the export gives
each indicator its rule (see ``piano/regola.py``). A code wins over a pattern; among patterns, the first
that matches. An indicator that nothing matches keeps no rule (SI/NO or higher-is-better, as always).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from seregno_xlsx.findings import Anomalia, finding
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.piano.regola import Regola
from seregno_xlsx.texts import default_templates_dir, load_toml

FILE_NAME = "regole_indicatori.toml"


class Voce(Regola):
    """A rule and what it applies to: an indicator code, or a pattern on the name (``*`` any text)."""

    codice: str = ""
    nome: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> Voce:
        if bool(self.codice) == bool(self.nome):
            raise ValueError("indicare il codice dell'indicatore oppure un modello del nome (nome), uno dei due")
        return self

    def regola(self) -> Regola:
        return Regola.model_validate(self.model_dump(exclude={"codice", "nome"}))

    def matches_name(self, descrizione: str) -> bool:
        return bool(self.nome) and fnmatchcase(descrizione.casefold().strip(), self.nome.casefold().strip())


class RegoleIndicatori(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    regola: list[Voce] = Field(default_factory=list)


def default_rules_file() -> Path:
    return default_templates_dir() / FILE_NAME


def load_rules(path: Path | None = None) -> RegoleIndicatori:
    """The rules file (``modelli/`` by default); a missing default file means no rules."""
    if path is None:
        path = default_rules_file()
        if not path.is_file():
            return RegoleIndicatori()
    return load_toml(path, RegoleIndicatori, "file delle regole degli indicatori")


def apply_rules(piano: Piano, regole: RegoleIndicatori) -> tuple[Piano, list[Anomalia]]:
    """The plan with each indicator's rule from the file; a rule by code that matches no indicator is reported."""
    piano = piano.model_copy(deep=True)
    by_code = {v.codice: v for v in reversed(regole.regola) if v.codice}  # the first one wins
    patterns = [v for v in regole.regola if v.nome]
    used: set[str] = set()
    for area in piano.aree:
        for obiettivo in area.obiettivi:
            for indicatore in obiettivo.indicatori:
                voce = by_code.get(indicatore.codice) or next(
                    (v for v in patterns if v.matches_name(indicatore.descrizione)), None
                )
                if voce is not None:
                    indicatore.regola = voce.regola()
                    used.add(indicatore.codice)
    findings = [
        finding(
            "regola-senza-indicatore",
            f"la regola per il codice {codice} non corrisponde a nessun indicatore del piano",
            valore=codice,
        )
        for codice in by_code
        if codice not in used
    ]
    return piano, findings
