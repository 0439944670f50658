"""The plan (Piano degli Obiettivi), named as on the scheda.

% raggiungimento is never stored here: it is derived (see ``scoring``).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from seregno_xlsx.choices import Rilevazione as Rilevazione

# Bounds of every text of a plan (and of the snapshot a scheda carries): a name fits on one line,
# a description in one cell; neither holds control characters (only a description may hold line breaks).
MAX_NAME = 200
MAX_DESCRIPTION = 100_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contiene caratteri di controllo (a capo, tabulazioni o caratteri invisibili)")
    return value


def _no_control_in_text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("contiene caratteri di controllo invisibili")
    return value


# Dates of a plan and of a return: the years a plan can speak of, never year 1 or 9999.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)


def _plausible(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"data {value:%d/%m/%Y} fuori dagli anni ammessi (1900-2199)")
    return value


Data = Annotated[date, AfterValidator(_plausible)]
Nome = Annotated[str, StringConstraints(max_length=MAX_NAME), AfterValidator(_no_control)]
Testo = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION), AfterValidator(_no_control_in_text)]
# A matricola is an identifier, not a number: "00002311" keeps its zeros.
Matricola = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME), AfterValidator(_no_control)
]

PLAN_FORMAT_VERSION = 1


def round_value_field(rilevazione: Rilevazione) -> str:
    """The indicator field staff fill in this round: the first reading mid-year, the achieved value at year end."""
    return "prima_rilevazione" if rilevazione is Rilevazione.INTERMEDIA else "valore_raggiunto"


def date_window(anno: int) -> tuple[date, date]:
    """The dates a plan of ``anno`` may carry; outside it a date is a typing error (2201 for 2021), not a plan."""
    return date(anno - 1, 1, 1), date(anno + 1, 12, 31)


class StatoFase(StrEnum):
    """Where a phase stands at a reference date."""

    CONCLUSA = "conclusa"
    IN_RITARDO = "in ritardo"  # ended after its planned end
    SCADUTA = "scaduta"  # planned end passed, no effective end reported
    IN_CORSO = "in corso"


class _Model(BaseModel):
    # NaN and infinities are refused: no figure of a plan or of a return may be one.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Persona(_Model):
    """One row of 'Budget risorse umane'."""

    categoria: Nome = ""
    matricola: Matricola
    nome: Nome

    @field_validator("matricola", mode="before")
    @classmethod
    def _matricola_is_text(cls, value: object) -> object:
        if isinstance(value, int | float):
            raise ValueError('la matricola deve essere testo (es. "00002311"), non un numero')
        return value


class RisorseStrumentali(_Model):
    spazi: str = ""
    dotazione_informatica: str = ""
    altro: str = ""


class RisorseFinanziarie(_Model):
    descrizione: str = ""
    entrate_previste: str = ""
    entrate_effettive: str = ""
    spese_previste: str = ""
    spese_effettive: str = ""


class Fase(_Model):
    codice: Nome
    descrizione: Testo
    data_inizio_prevista: Data | None = None
    data_fine_prevista: Data | None = None
    data_inizio_effettiva: Data | None = None
    data_fine_effettiva: Data | None = None
    monitoraggio: Testo = ""

    @property
    def in_ritardo(self) -> bool:
        """Ended after its planned end."""
        fine, prevista = self.data_fine_effettiva, self.data_fine_prevista
        return fine is not None and prevista is not None and fine > prevista

    def scaduta(self, data_riferimento: date) -> bool:
        """Its planned end has passed at ``data_riferimento`` and no effective end is reported."""
        prevista = self.data_fine_prevista
        return self.data_fine_effettiva is None and prevista is not None and prevista < data_riferimento

    def stato(self, data_riferimento: date) -> StatoFase:
        if self.data_fine_effettiva is not None:
            return StatoFase.IN_RITARDO if self.in_ritardo else StatoFase.CONCLUSA
        return StatoFase.SCADUTA if self.scaduta(data_riferimento) else StatoFase.IN_CORSO


class Indicatore(_Model):
    """A performance indicator; ``codice`` is the scheda's 'Codice Attività' (its phase's code)."""

    codice: Nome
    fase: Testo = Field(default="", description="Testo della fase a cui l'indicatore si riferisce")
    descrizione: Testo
    anno: int | None = Field(default=None, ge=1990, le=2100)
    valore_target: float | None = None
    prima_rilevazione: float | None = None
    valore_raggiunto: float | None = None
    peso: float | None = Field(default=None, ge=0, description="Peso dell'indicatore nell'obiettivo")

    @property
    def si_no(self) -> bool:
        """'Rispetto delle previsioni (SI=100)': answered SI (100) or NO (0)."""
        return "SI=100" in self.descrizione.upper().replace(" ", "")


class Obiettivo(_Model):
    """An operational objective (OBIETTIVO OPERATIVO)."""

    codice: Nome
    titolo: Testo
    peso: int = Field(ge=0, le=100, description="Numero di stelle davanti al titolo")
    linea_strategica: str = ""
    azione_strategica: str = ""
    missione: str = ""
    programma: str = ""
    cdc_associato: str = ""
    responsabile: Testo = ""
    indirizzi_dup: str = ""
    definizione: Testo = ""
    risultato_atteso: Testo = ""
    data_inizio_prevista: Data | None = None
    data_fine_prevista: Data | None = None
    data_inizio_effettiva: Data | None = None
    data_fine_effettiva: Data | None = None
    condizione: str = ""
    note: Testo = ""
    fasi: list[Fase] = Field(default_factory=list)
    indicatori: list[Indicatore] = Field(default_factory=list)
    risorse_umane: list[Persona] = Field(default_factory=list)
    risorse_strumentali: RisorseStrumentali = Field(default_factory=RisorseStrumentali)
    risorse_finanziarie: RisorseFinanziarie = Field(default_factory=RisorseFinanziarie)


class Area(_Model):
    nome: Nome = Field(min_length=1)
    responsabile: Testo = ""
    obiettivi: list[Obiettivo] = Field(default_factory=list)


class Piano(_Model):
    """The whole yearly plan: several areas, one JSON file."""

    formato: int = PLAN_FORMAT_VERSION
    ente: Nome
    anno: int = Field(ge=1990, le=2100)
    titolo: Testo = ""
    delibera: Testo = ""
    aree: list[Area] = Field(default_factory=list)
    # The key of the schede's fingerprint (HMAC-SHA256), created with the plan: only whoever holds the
    # plan file can produce or check a fingerprint. Never written into a scheda.
    chiave_impronta: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    def area(self, nome: str) -> Area:
        for area in self.aree:
            if area.nome.casefold() == nome.casefold():
                return area
        raise KeyError(nome)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Piano:
        return cls.model_validate_json(text)


def new_fingerprint_key() -> str:
    """A fresh key for a new plan's fingerprints (256 bits)."""
    return secrets.token_hex(32)


def plan_json_schema() -> str:
    """The published JSON Schema of the plan file."""
    schema = Piano.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Piano degli Obiettivi (seregno_xlsx)"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
