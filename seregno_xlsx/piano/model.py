"""The plan (Piano degli Obiettivi), named as on the scheda.

% raggiungimento is never stored here: it is derived (see ``scoring``).
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

# A matricola is an identifier, not a number: "00002311" keeps its zeros.
Matricola = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

PLAN_FORMAT_VERSION = 1


class Rilevazione(StrEnum):
    """The round of collection: mid-year or year-end."""

    INTERMEDIA = "intermedia"
    FINALE = "finale"


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
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Persona(_Model):
    """One row of 'Budget risorse umane'."""

    categoria: str = ""
    matricola: Matricola
    nome: str

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
    codice: str
    descrizione: str
    data_inizio_prevista: date | None = None
    data_fine_prevista: date | None = None
    data_inizio_effettiva: date | None = None
    data_fine_effettiva: date | None = None
    monitoraggio: str = ""

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

    codice: str
    fase: str = Field(default="", description="Testo della fase a cui l'indicatore si riferisce")
    descrizione: str
    anno: int | None = None
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

    codice: str
    titolo: str
    peso: int = Field(ge=0, description="Numero di stelle davanti al titolo")
    linea_strategica: str = ""
    azione_strategica: str = ""
    missione: str = ""
    programma: str = ""
    cdc_associato: str = ""
    responsabile: str = ""
    indirizzi_dup: str = ""
    definizione: str = ""
    risultato_atteso: str = ""
    data_inizio_prevista: date | None = None
    data_fine_prevista: date | None = None
    data_inizio_effettiva: date | None = None
    data_fine_effettiva: date | None = None
    condizione: str = ""
    note: str = ""
    fasi: list[Fase] = Field(default_factory=list)
    indicatori: list[Indicatore] = Field(default_factory=list)
    risorse_umane: list[Persona] = Field(default_factory=list)
    risorse_strumentali: RisorseStrumentali = Field(default_factory=RisorseStrumentali)
    risorse_finanziarie: RisorseFinanziarie = Field(default_factory=RisorseFinanziarie)


class Area(_Model):
    nome: str
    responsabile: str = ""
    obiettivi: list[Obiettivo] = Field(default_factory=list)


class Piano(_Model):
    """The whole yearly plan: several areas, one JSON file."""

    formato: int = PLAN_FORMAT_VERSION
    ente: str
    anno: int = Field(ge=1990, le=2100)
    titolo: str = ""
    delibera: str = ""
    aree: list[Area] = Field(default_factory=list)

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


def plan_json_schema() -> str:
    """The published JSON Schema of the plan file."""
    schema = Piano.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Piano degli Obiettivi (seregno_xlsx)"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
