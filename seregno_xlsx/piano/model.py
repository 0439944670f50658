"""The plan (Piano degli Obiettivi), named as on the scheda.

% raggiungimento is never stored here: it is derived (see ``scoring``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from copy import deepcopy
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator

from seregno_xlsx.choices import Rilevazione as Rilevazione
from seregno_xlsx.piano.regola import CRESCENTE, SI_NO, Direzione, Regola

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


# One set per distinct combination of fields given (see ``_Model.model_post_init``).
_FIELDS_GIVEN: dict[frozenset[str], set[str]] = {}


def _shared_fields_set(model: BaseModel) -> None:
    given = model.__pydantic_fields_set__
    object.__setattr__(model, "__pydantic_fields_set__", _FIELDS_GIVEN.setdefault(frozenset(given), given))


class _Model(BaseModel):
    # NaN and infinities are refused: no figure of a plan or of a return may be one.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    # Pydantic gives every instance its own set of the fields given (about 800 bytes: over half of a
    # plan's memory, 20,000 rows a hundred areas); rows given the same fields share one. Pydantic adds an
    # assigned field to the set in place: ``__setattr__`` gives the row its own set first (copy on
    # write), so no row ever sees another's assignment as its own.
    def model_post_init(self, context: Any, /) -> None:
        _shared_fields_set(self)

    def __setattr__(self, name: str, value: Any) -> None:
        given = self.__pydantic_fields_set__
        if name not in given:
            object.__setattr__(self, "__pydantic_fields_set__", set(given))
            super().__setattr__(name, value)
            _shared_fields_set(self)
        else:
            super().__setattr__(name, value)

    def __setstate__(self, state: dict[Any, Any]) -> None:  # a compilation back from a reading process
        super().__setstate__(state)
        _shared_fields_set(self)

    def __copy__(self) -> Self:
        copied = super().__copy__()
        _shared_fields_set(copied)
        return copied

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Pydantic's copy, except that the fields updated go into the copy's own set: pydantic adds them in
        place, to the set every row given the same fields shares (``piano.model_copy(update={"aree": []})``
        marked «aree» as given in every plan)."""
        copied = self.__deepcopy__() if deep else self.__copy__()
        if update:
            copied.__dict__.update(update)  # as pydantic does (extra fields are forbidden here)
            object.__setattr__(copied, "__pydantic_fields_set__", copied.__pydantic_fields_set__ | set(update))
            _shared_fields_set(copied)
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """pydantic's deep copy, without ``copy.deepcopy``'s dispatch on every text, number and date.

        The same new objects (shared ones stay shared, through ``memo``), the same fields set and private
        values: only values that cannot change (texts, numbers, dates, enums) are shared with the original
        instead of copied. Reading a returned scheda copies the plan's area: through ``copy.deepcopy``, copies
        were a fifth of the reading (tests/test_reading_fast_paths.py compares the two).
        """
        if memo is None:
            memo = {}
        copied = self.__copy__()  # pydantic's: the fields set, extra and private values as its deep copy has them
        memo[id(self)] = copied
        for values in (copied.__dict__, copied.__pydantic_extra__, copied.__pydantic_private__):
            for key, value in (values or {}).items():
                values[key] = _deep(value, memo)  # type: ignore[index]
        return copied


# Values no one can change in place: a deep copy shares them (``copy.deepcopy`` returns texts, numbers and
# enums themselves, and equal dates).
_IMMUTABLE = (str, int, float, type(None), date, Enum)


def _deep(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if type(value) is list:
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(_deep(v, memo) for v in value)
        return items
    return deepcopy(value, memo)


class Persona(_Model):
    """One row of 'Budget risorse umane'."""

    categoria: Nome = ""
    matricola: Matricola
    nome: Nome
    # The assignment (this person on this objective): the share of their time, in percent (None: an
    # equal part of what their other assignments leave), and when they joined and left it (None: the
    # whole year). Unbounded here: a return's 150% is a finding (``piano/assegnazioni.py``), not a crash.
    quota: float | None = None
    dal: Data | None = None
    al: Data | None = None

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
    # The evidence of a concluded phase (the act, a protocol number, a link), typed by the area: text only.
    evidenza: Testo = ""

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
    regola: Regola | None = Field(default=None, description="Come si misura: senza regola, SI/NO o crescente")
    # A corrected value of the round, set by «consolida» from the office's rettifiche file only: a private
    # attribute, so neither a plan file nor the snapshot in a returned scheda can carry one.
    _rettifica: float | None = PrivateAttr(default=None)
    # What the value rests on (the act, a protocol number, a link), typed by the area: text only.
    evidenza: Testo = ""

    @property
    def si_no(self) -> bool:
        """'Rispetto delle previsioni (SI=100)': answered SI (100) or NO (0)."""
        if self.regola is not None:
            return self.regola.direzione is Direzione.SI_NO
        return "SI=100" in self.descrizione.upper().replace(" ", "")

    @property
    def misura(self) -> Regola:
        """The rule the indicator is scored by: its own, else SI/NO or higher-is-better as before rules existed."""
        if self.regola is not None:
            return self.regola
        return SI_NO if self.si_no else CRESCENTE

    @property
    def valore_rettificato(self) -> float | None:
        return self._rettifica

    def rettifica_valore(self, valore: float) -> None:
        self._rettifica = valore


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
    # The office's correction of the objective's %, set by «consolida» from the rettifiche file only (never
    # from a plan or a scheda): a fraction, or None with ``_esclusa`` for an objective left out of the evaluation.
    _rettifica_pct: float | None = PrivateAttr(default=None)
    _esclusa: bool = PrivateAttr(default=False)

    @property
    def rettificato(self) -> bool:
        return self._esclusa or self._rettifica_pct is not None

    @property
    def esclusa(self) -> bool:
        return self._esclusa

    @property
    def pct_rettificata(self) -> float | None:
        return self._rettifica_pct

    def rettifica_pct(self, pct: float | None, *, esclusa: bool = False) -> None:
        self._rettifica_pct, self._esclusa = (None, True) if esclusa else (pct, False)

    # The same objective in last year's plan (multi-year objectives), linked by ``importa --anno-precedente``.
    anno_precedente: ObiettivoPrecedente | None = None


class Compilazione(_Model):
    """Who filled the area's scheda and the dirigente's approval: typed by the area, never from file properties."""

    compilata_da: Testo = ""
    approvata_da: Testo = ""
    data_approvazione: Data | None = None

    @property
    def approvata(self) -> bool:
        return bool(self.approvata_da.strip()) and self.data_approvazione is not None


class Area(_Model):
    nome: Nome = Field(min_length=1)
    responsabile: Testo = ""
    obiettivi: list[Obiettivo] = Field(default_factory=list)
    # Stable across versions of the plan (the name may change): contacts, returns and history follow it.
    codice: Nome = ""

    compilazione: Compilazione = Field(default_factory=Compilazione)


class ObiettivoPrecedente(_Model):
    """The objective as it was in last year's plan, and its final % there (None: not measured)."""

    anno: int = Field(ge=1990, le=2100)
    codice: Nome
    titolo: Testo = ""
    percentuale_finale: float | None = None


class Variazione(_Model):
    """One difference between a version of the plan and the one before (a «variazione PEG»)."""

    tipo: Nome  # aggiunto, eliminato, spostato, ritarato, rinominato
    elemento: Nome  # area, obiettivo, fase, indicatore
    area: Nome = ""
    obiettivo: Nome = ""
    codice: Nome = ""
    dettaglio: Testo = ""


class VersionePiano(_Model):
    """A version the plan had before the one in force: what schede generated from it name."""

    versione: int = Field(ge=1)
    titolo: Testo = ""
    delibera: Testo = ""
    data_delibera: Data | None = None
    # What changed in the version that followed it.
    variazioni: list[Variazione] = Field(default_factory=list)
    # Its areas' names by stable code: a contact or a scheda naming an area as it was then is still found.
    aree: dict[str, Nome] = Field(default_factory=dict)
    # The version ``variazioni`` led to (``versione`` + 1): the changes are stored with the version
    # they changed, and this says which version they made. None in plans written before it was recorded.
    variazioni_verso: int | None = None


class ValoriFase(_Model):
    codice: Nome
    data_inizio_effettiva: Data | None = None
    data_fine_effettiva: Data | None = None
    monitoraggio: Testo = ""
    evidenza: Testo = ""


class ValoriIndicatore(_Model):
    codice: Nome
    descrizione: Testo
    valore: float | None = None
    evidenza: Testo = ""


class ValoriPersona(_Model):
    """What an area reported in Personale for one person on an objective: share, joined on, left on."""

    matricola: Matricola
    quota: float | None = None
    dal: Data | None = None
    al: Data | None = None


class ValoriObiettivo(_Model):
    """What an area returned for one objective in a round, and the objective's % then."""

    codice: Nome
    data_inizio_effettiva: Data | None = None
    data_fine_effettiva: Data | None = None
    note: Testo = ""
    percentuale: float | None = None
    fasi: list[ValoriFase] = Field(default_factory=list)
    indicatori: list[ValoriIndicatore] = Field(default_factory=list)
    # None: the scheda had no Personale (template version 1), the plan's assignments stand.
    persone: list[ValoriPersona] | None = None


class ValoriArea(_Model):
    codice: Nome = ""
    nome: Nome
    file: Testo = ""
    sha256: Nome = ""
    # The version of the plan the area's scheda was generated from.
    versione_piano: int | None = None
    obiettivi: list[ValoriObiettivo] = Field(default_factory=list)


class EsitoRilevazione(_Model):
    """A round folded into the plan (``consolida --piano-aggiornato``): what each area returned."""

    rilevazione: Rilevazione
    versione_piano: int = Field(ge=1)
    consolidato_il: datetime
    aree: list[ValoriArea] = Field(default_factory=list)


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
    # The history of the year (one history: versions and rounds travel in the plan file).
    versione: int = Field(default=1, ge=1)
    data_delibera: Data | None = None
    versioni: list[VersionePiano] = Field(default_factory=list)
    rilevazioni: list[EsitoRilevazione] = Field(default_factory=list)

    def area(self, nome: str) -> Area:
        for area in self.aree:
            if area.nome.casefold() == nome.casefold():
                return area
        raise KeyError(nome)

    def area_of(self, other: Area) -> Area:
        """This plan's area for ``other`` (of a scheda, of another version): by stable code, else by name."""
        if other.codice:
            for area in self.aree:
                if area.codice == other.codice:
                    return area
        return self.area_named(other.nome)

    def area_named(self, nome: str) -> Area:
        """The area called ``nome`` now, by its code, or in an earlier version of the plan (renamed since)."""
        for candidate in (nome, *(a.nome for a in self.aree if a.codice.casefold() == nome.casefold() and a.codice)):
            try:
                return self.area(candidate)
            except KeyError:
                pass
        for version in reversed(self.versioni):
            for codice, earlier in version.aree.items():
                if earlier.casefold() == nome.casefold():
                    found = next((a for a in self.aree if a.codice == codice), None)
                    if found is not None:
                        return found
        raise KeyError(nome)

    def version_of(self, titolo: str, delibera: str) -> VersionePiano | None:
        """The earlier version of this plan with that title and delibera, if any."""
        return next((v for v in self.versioni if (v.titolo, v.delibera) == (titolo, delibera)), None)

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
