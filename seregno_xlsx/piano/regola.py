"""How an indicator is measured (its «regola»): plan content, shown in the scheda beside the target.

The export does not carry it: ``importa`` takes it from ``modelli/regole_indicatori.toml`` (see
``piano/regole_indicatori.py``), or the office sets it in the plan file. An indicator without a rule is
measured as before: «Rispetto delle previsioni (SI=100)» as SI/NO, every other one higher-is-better.
The % it yields is computed by ``master/scoring.py`` (the reference) and by the master's formulas.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bands an indicator may have: a few steps, never a table the master's formula would choke on.
MAX_FASCE = 10


class Direzione(StrEnum):
    CRESCENTE = "crescente"  # higher is better: value / target
    DECRESCENTE = "decrescente"  # lower is better (days, costs): 100% up to the target, then target / value
    SI_NO = "si_no"  # SI (100) is 100%, NO (0) is 0%
    ESATTO = "esatto"  # 100% within the tolerance around the target, 0% outside


class Fascia(BaseModel):
    """A step of a band table: reaching ``limite`` (at least it, or at most it when lower is better) scores
    ``percentuale`` (in percent, 50 = 50%)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    limite: float
    percentuale: float = Field(ge=0, le=1000)


class Regola(BaseModel):
    """Direction, optional threshold (worse than it: 0%), optional band table, cumulative flag."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    direzione: Direzione = Direzione.CRESCENTE
    # «esatto»: how far from the target still counts as reached, in the indicator's unit.
    tolleranza: float | None = Field(default=None, ge=0)
    # Worse than this (below it, or above it when lower is better): 0%.
    soglia: float | None = None
    # Steps instead of the proportional %: the best step reached counts, none reached is 0%.
    fasce: list[Fascia] = Field(default_factory=list, max_length=MAX_FASCE)
    # The value is the total since the start of the year (it cannot go down between rounds).
    cumulativo: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        graded = self.direzione in (Direzione.CRESCENTE, Direzione.DECRESCENTE)
        if not graded and (self.soglia is not None or self.fasce):
            raise ValueError(
                f"soglia e fasce valgono solo per gli indicatori crescenti o decrescenti, non «{self.direzione}»"
            )
        if self.tolleranza is not None and self.direzione is not Direzione.ESATTO:
            raise ValueError("la tolleranza vale solo per gli indicatori «esatto»")
        return self

    @property
    def decrescente(self) -> bool:
        return self.direzione is Direzione.DECRESCENTE

    def target_zero_counts(self) -> bool:
        """A target of 0 is a real target when lower is better or exact (0 days late); else it excludes."""
        return self.direzione in (Direzione.DECRESCENTE, Direzione.ESATTO)

    def descrizione(self) -> str:
        """The rule in words, as the scheda and the master show it beside the target."""
        if self.direzione is Direzione.SI_NO:
            text = "SI/NO: SI = 100%, NO = 0%"
        elif self.direzione is Direzione.ESATTO:
            scarto = numero(self.tolleranza or 0)
            text = f"Target esatto: 100% se lo scarto dal target è al massimo {scarto}, altrimenti 0%"
        elif self.fasce:
            word = "fino a" if self.decrescente else "da"
            steps = "; ".join(f"{word} {numero(f.limite)}: {numero(f.percentuale)}%" for f in self.fasce)
            better = "Più basso è meglio" if self.decrescente else "Più alto è meglio"
            text = f"{better}, a fasce: {steps}; altrimenti 0%"
        elif self.decrescente:
            text = "Più basso è meglio: 100% fino al target, oltre target / valore"
        else:
            text = "Più alto è meglio: valore / target"
        if self.soglia is not None:
            text += f"; {'sopra' if self.decrescente else 'sotto'} {numero(self.soglia)}: 0%"
        if self.cumulativo:
            text += "; valore cumulato dall'inizio dell'anno"
        return text


def numero(value: float) -> str:
    """A figure as an Italian reads it: 1.500, 7,5, 0,25."""
    if abs(value) < 1e15:
        text = f"{value:,.10g}"
    elif abs(value) < 1e21 and value == int(value):  # as typed, not as 1e+16
        text = f"{value:,.0f}"
    else:
        text = f"{value:.10g}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


SI_NO = Regola(direzione=Direzione.SI_NO)
CRESCENTE = Regola()
