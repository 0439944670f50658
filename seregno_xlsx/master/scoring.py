"""The rules of % raggiungimento: the single reference for every computed percentage.

The master workbook writes these rules as live formulas and caches the values
computed here; a test recalculates the master with LibreOffice and checks that
both agree. Percentages are fractions (0.8 = 80%); ``None`` means "does not
count" (excluded from every mean above it), never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from seregno_xlsx.choices import MissingValue as MissingValue
from seregno_xlsx.piano.assegnazioni import FULL_SHARE, Assegnazione, assignments, effective_shares, year_fraction
from seregno_xlsx.piano.model import Area, Indicatore, Obiettivo, Piano, Rilevazione, round_value_field
from seregno_xlsx.piano.regola import Direzione, Regola


class Regole(BaseModel):
    """The scoring options of a consolidation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limite_100: bool = True
    mancante_intermedia: MissingValue = MissingValue.ESCLUSO
    mancante_finale: MissingValue = MissingValue.ZERO
    pesi_aree: Literal["stelle", "uguali"] = "stelle"

    def mancante(self, rilevazione: Rilevazione) -> MissingValue:
        if rilevazione is Rilevazione.INTERMEDIA:
            return self.mancante_intermedia
        return self.mancante_finale

    def peso_obiettivo(self, obiettivo: Obiettivo) -> float:
        """The objective's weight in area, person and plan means."""
        return float(obiettivo.peso) if self.pesi_aree == "stelle" else 1.0

    def descrizione(self) -> list[str]:
        """The rules in words, for the master's Riepilogo."""
        return [
            "% indicatore = valore della rilevazione / valore target"
            + (", limitata tra 0% e 100%" if self.limite_100 else ", minimo 0% (senza limite al 100%)"),
            "Indicatore SI/NO: SI = 100, NO = 0, target 100",
            "Target mancante o zero: indicatore escluso",
            f"Valore mancante, rilevazione intermedia: {_missing_words(self.mancante_intermedia)}",
            f"Valore mancante, rilevazione finale: {_missing_words(self.mancante_finale)}",
            f"Valore con un'anomalia di tipo errore: «{INVALID_VALUE}», conta come un valore mancante",
            "% obiettivo = media delle % dei suoi indicatori "
            "(ponderata con il peso degli indicatori se tutti ne hanno uno)",
            "% area e totale = media delle % degli obiettivi "
            + ("ponderata con le stelle" if self.pesi_aree == "stelle" else "con pesi uguali")
            + "; obiettivi senza % esclusi",
            "Indicatori con una regola di misura (decrescente, target esatto, soglia, fasce): "
            "la regola è nella colonna «Regola di misura» del foglio Indicatori",
            "Rettifiche dell'ufficio (file delle rettifiche): la % usa il valore o la % rettificati, "
            "un obiettivo escluso non conta; originale, rettifica e motivo sono nelle righe rettificate",
            "% persona = media delle % dei suoi obiettivi (in tutte le aree) ponderata con "
            + ("stelle × " if self.pesi_aree == "stelle" else "")
            + "quota del tempo × tempo nell'anno; quota vuota: parti uguali di quanto resta fino al 100%",
        ]


INVALID_VALUE = "valore non valido"


def without_invalid_values(area: Area, rilevazione: Rilevazione, invalid: Collection[str]) -> Area:
    """The area with the round's values of the ``invalid`` indicators (codes) removed.

    A value with an ``errore`` finding (-5, «forse», #DIV/0!) never counts as a number: it counts
    exactly as a missing one under the round's missing policy, never better than an honest blank,
    until the area corrects it; the master shows it as «valore non valido».
    """
    if not invalid:
        return area
    copy = area.model_copy(deep=True)
    for obiettivo in copy.obiettivi:
        for indicatore in obiettivo.indicatori:
            if indicatore.codice in invalid:
                setattr(indicatore, round_value_field(rilevazione), None)
    return copy


def counted_areas(
    areas: Iterable[Area], rilevazione: Rilevazione, invalid: Mapping[str, Collection[str]]
) -> tuple[list[Area], dict[str, dict[str, float | None]]]:
    """The areas as they count (``without_invalid_values``, each copied once at most) and, per area, what was
    read for each invalid value (code -> value): the master shows it beside the value that counts as missing."""
    counted: list[Area] = []
    read: dict[str, dict[str, float | None]] = {}
    for area in areas:
        wanted = invalid.get(area.nome, ())
        read[area.nome] = {
            i.codice: read_value(i, rilevazione) for o in area.obiettivi for i in o.indicatori if i.codice in wanted
        }
        counted.append(without_invalid_values(area, rilevazione, read[area.nome]))
    return counted, read


def _missing_words(value: MissingValue) -> str:
    return "indicatore escluso" if value is MissingValue.ESCLUSO else "conta come 0%"


Sent = TypeVar("Sent", Area, Obiettivo, Indicatore)


def as_sent(model: Sent) -> Sent:
    """A copy without the office's corrections (they live in private attributes, which a dump leaves out):
    the figures of an earlier round, which this round's rettifiche do not touch."""
    return type(model).model_validate(model.model_dump())


def read_value(ind: Indicatore, rilevazione: Rilevazione) -> float | None:
    """The value of the round as the area sent it: the first reading mid-year, the achieved value at year end."""
    value: float | None = getattr(ind, round_value_field(rilevazione))
    return value


def indicator_value(ind: Indicatore, rilevazione: Rilevazione) -> float | None:
    """The value of the round that counts: the office's correction (rettifica) if any, else the one sent."""
    corrected = ind.valore_rettificato
    return corrected if corrected is not None else read_value(ind, rilevazione)


# Differences are rounded to this many decimals before a tolerance compares them: 40,1 is within 0,1 of 40
# for a person, and for the master's formula ROUND(ABS(v-t),9), whatever the last bit of the subtraction.
TOLERANCE_DECIMALS = 9


def indicator_pct(ind: Indicatore, rilevazione: Rilevazione, regole: Regole) -> float | None:
    """The indicator's % under its rule (``Indicatore.misura``); None when it does not count.

    A missing target excludes it; so does a target of 0, except when lower is better or exact.
    """
    regola = ind.misura
    target = ind.valore_target
    if target is None or (target == 0 and not regola.target_zero_counts()):
        return None
    value = indicator_value(ind, rilevazione)
    if value is None:
        return 0.0 if regole.mancante(rilevazione) is MissingValue.ZERO else None
    return rule_pct(regola, value, target, regole.limite_100)


def rule_pct(regola: Regola, value: float, target: float, limite_100: bool) -> float:
    """The % of a value under a rule: the same operations, in the same order, as ``master/formula_regola.py``.

    - crescente: value / target, at least 0; decrescente: 100% up to the target, then target / value;
    - a threshold: worse than it (below; above when lower is better) is 0%;
    - bands: the best step reached (at least its limit; at most when lower is better), none is 0%;
    - si_no: SI (100) is 100%, NO is 0%; esatto: 100% within the tolerance of the target, else 0%.
    The cap at 100% (``limite_100``) applies to crescente and to bands (decrescente never exceeds 100%).
    """
    if regola.direzione is Direzione.SI_NO:
        return 1.0 if value >= 100 else 0.0
    if regola.direzione is Direzione.ESATTO:
        return 1.0 if round(abs(value - target), TOLERANCE_DECIMALS) <= (regola.tolleranza or 0.0) else 0.0
    lower = regola.decrescente
    if regola.soglia is not None and (value > regola.soglia if lower else value < regola.soglia):
        return 0.0
    if regola.fasce:
        reached = [f.percentuale / 100 for f in regola.fasce if (value <= f.limite if lower else value >= f.limite)]
        pct = max([0.0, *reached])
    elif lower:
        pct = max(0.0, 1.0 if value <= target else (target / value if value > 0 else 0.0))
    else:
        pct = max(0.0, value / target)
    return min(1.0, pct) if limite_100 else pct


def indicator_weight(ind: Indicatore, obiettivo: Obiettivo) -> float:
    """Indicators weigh by ``peso`` only when every indicator of the objective has one."""
    if all(i.peso is not None for i in obiettivo.indicatori):
        return float(ind.peso or 0.0)
    return 1.0


def objective_pct(obiettivo: Obiettivo, rilevazione: Rilevazione, regole: Regole) -> float | None:
    """The objective's % as it counts: the office's rettifica (a corrected %, or left out) if any."""
    if obiettivo.esclusa:
        return None
    if obiettivo.pct_rettificata is not None:
        return obiettivo.pct_rettificata
    return computed_objective_pct(obiettivo, rilevazione, regole)


def computed_objective_pct(obiettivo: Obiettivo, rilevazione: Rilevazione, regole: Regole) -> float | None:
    """The mean of the objective's indicators, before any rettifica of the objective's %."""
    pairs = [(indicator_pct(i, rilevazione, regole), indicator_weight(i, obiettivo)) for i in obiettivo.indicatori]
    return weighted_mean(pairs)


def area_pct(area: Area, rilevazione: Rilevazione, regole: Regole) -> float | None:
    return objectives_pct(area.obiettivi, rilevazione, regole)


def total_pct(areas: Iterable[Area], rilevazione: Rilevazione, regole: Regole) -> float | None:
    """The whole plan: all objectives of all areas, weighted as within an area."""
    return objectives_pct([o for a in areas for o in a.obiettivi], rilevazione, regole)


def person_pct(
    piano_or_areas: Piano | Iterable[Area],
    matricola: str,
    rilevazione: Rilevazione,
    regole: Regole,
    *,
    anno: int | None = None,
) -> float | None:
    """Mean of the % of the objectives the person works on, each weighted by stars × share × time.

    One figure across every area of the plan. ``anno`` (a Piano's own year by default) holds the
    assignment dates within the year; without it the dates are not counted.
    """
    areas = piano_or_areas.aree if isinstance(piano_or_areas, Piano) else list(piano_or_areas)
    year = piano_or_areas.anno if isinstance(piano_or_areas, Piano) and anno is None else anno
    return assigned_pct(assignments(areas).get(matricola.strip(), []), rilevazione, regole, year)


def assigned_pct(
    assigned: list[Assegnazione],
    rilevazione: Rilevazione,
    regole: Regole,
    anno: int | None,
    *,
    pct: Callable[[Obiettivo], float | None] | None = None,
) -> float | None:
    """:func:`person_pct` of one person's assignments (``piano.assegnazioni.assignments``), gathered once
    for everyone: a master of thousands of people never rescans the plan for each of them.
    ``pct``: :func:`objective_pct` of an objective as the caller keeps it (each computed once)."""
    weights = assignment_weights(assigned, anno, regole)
    of = pct or (lambda obiettivo: objective_pct(obiettivo, rilevazione, regole))
    return weighted_mean([(of(a.obiettivo), w) for a, w in zip(assigned, weights, strict=True)])


def assignment_weights(assigned: Sequence[Assegnazione], anno: int | None, regole: Regole) -> list[float]:
    """stars × share / 100 × time in the year, in this order (the master's «Peso» formula computes the same)."""
    shares = effective_shares(assigned)
    return [
        regole.peso_obiettivo(a.obiettivo)
        * share
        / FULL_SHARE
        * (1.0 if anno is None else year_fraction(a.persona, anno))
        for a, share in zip(assigned, shares, strict=True)
    ]


def objectives_pct(obiettivi: Iterable[Obiettivo], rilevazione: Rilevazione, regole: Regole) -> float | None:
    """Weighted mean of the given objectives, in their order (as the master's formulas sum them)."""
    return weighted_mean([(objective_pct(o, rilevazione, regole), regole.peso_obiettivo(o)) for o in obiettivi])


def weighted_mean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    """sum(w * p) / sum(w) over the p that count; None if none counts or the weights sum to 0.

    Summed in row order like the master's SUMPRODUCT, so cached and recalculated values agree.
    """
    numerator = 0.0
    denominator = 0.0
    for pct, weight in pairs:
        if pct is not None:
            numerator += pct * weight
            denominator += weight
    if denominator == 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Conteggi:
    """The counts of an area shown in the master's Riepilogo."""

    obiettivi: int = 0
    fasi_concluse: int = 0
    fasi_in_ritardo: int = 0
    fasi_scadute: int = 0  # planned end passed, no effective end reported
    indicatori_senza_valore: int = 0
    valori_non_validi: int = 0  # values with an errore finding: counted as missing, shown apart
    rettifiche: int = 0  # the office's corrections applied (objectives' % or exclusions, indicators' values)

    def __add__(self, other: Conteggi) -> Conteggi:
        return Conteggi(
            self.obiettivi + other.obiettivi,
            self.fasi_concluse + other.fasi_concluse,
            self.fasi_in_ritardo + other.fasi_in_ritardo,
            self.fasi_scadute + other.fasi_scadute,
            self.indicatori_senza_valore + other.indicatori_senza_valore,
            self.valori_non_validi + other.valori_non_validi,
            self.rettifiche + other.rettifiche,
        )


def counts(
    area: Area, rilevazione: Rilevazione, data_riferimento: date, invalid: Collection[str] = frozenset()
) -> Conteggi:
    """``invalid``: codes of the indicators whose value was invalid (already removed from ``area``)."""
    fasi = [f for o in area.obiettivi for f in o.fasi]
    indicatori = [i for o in area.obiettivi for i in o.indicatori]
    return Conteggi(
        obiettivi=len(area.obiettivi),
        fasi_concluse=sum(f.data_fine_effettiva is not None for f in fasi),
        fasi_in_ritardo=sum(f.in_ritardo for f in fasi),
        fasi_scadute=sum(f.scaduta(data_riferimento) for f in fasi),
        indicatori_senza_valore=sum(read_value(i, rilevazione) is None and i.codice not in invalid for i in indicatori),
        valori_non_validi=sum(i.codice in invalid for i in indicatori),
        rettifiche=sum(o.rettificato for o in area.obiettivi)
        + sum(i.valore_rettificato is not None for i in indicatori),
    )
