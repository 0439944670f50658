"""A round built on the previous one: what the areas returned, folded into the plan.

The data flows one way (plan → scheda → returns → master) and a round's returns feed the next
round's plan: ``consolida --piano-aggiornato`` writes the plan with the effective dates, monitoring,
notes, evidence, values and people (share, joined on, left on) the areas returned, and records the
round (``Piano.rilevazioni``). ``genera`` from
that plan shows them: the 1° rilevazione locked as context, dates and texts prefilled in the input
cells for the area to confirm or correct.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from seregno_xlsx.piano.model import (
    Area,
    EsitoRilevazione,
    Obiettivo,
    Piano,
    Rilevazione,
    ValoriArea,
    ValoriFase,
    ValoriIndicatore,
    ValoriObiettivo,
    ValoriPersona,
    round_value_field,
)
from seregno_xlsx.piano.revisions import with_area_codes


@dataclass(frozen=True)
class Ritorno:
    """One accepted return: the area as compiled, the file and the plan version it came from."""

    area: Area
    file: str = ""
    sha256: str = ""
    versione_piano: int | None = None


def returned_values(
    ritorno: Ritorno, rilevazione: Rilevazione, percentuali: Mapping[str, float | None] | None = None
) -> ValoriArea:
    """What an area returned in a round (its input cells), by code; ``percentuali`` by objective code."""
    field = round_value_field(rilevazione)
    percentuali = percentuali or {}
    return ValoriArea(
        codice=ritorno.area.codice,
        nome=ritorno.area.nome,
        file=ritorno.file,
        sha256=ritorno.sha256,
        versione_piano=ritorno.versione_piano,
        obiettivi=[
            ValoriObiettivo(
                codice=o.codice,
                data_inizio_effettiva=o.data_inizio_effettiva,
                data_fine_effettiva=o.data_fine_effettiva,
                note=o.note,
                percentuale=percentuali.get(o.codice),
                fasi=[
                    ValoriFase(
                        codice=f.codice,
                        data_inizio_effettiva=f.data_inizio_effettiva,
                        data_fine_effettiva=f.data_fine_effettiva,
                        monitoraggio=f.monitoraggio,
                        evidenza=f.evidenza,
                    )
                    for f in o.fasi
                ],
                indicatori=[
                    ValoriIndicatore(
                        codice=i.codice, descrizione=i.descrizione, valore=getattr(i, field), evidenza=i.evidenza
                    )
                    for i in o.indicatori
                ],
                persone=[
                    ValoriPersona(matricola=p.matricola, quota=p.quota, dal=p.dal, al=p.al) for p in o.risorse_umane
                ],
            )
            for o in ritorno.area.obiettivi
        ],
    )


def apply_values(obiettivo: Obiettivo, valori: ValoriObiettivo, rilevazione: Rilevazione) -> None:
    """Write a round's returned values into ``obiettivo`` (in place), matched by code."""
    field = round_value_field(rilevazione)
    obiettivo.data_inizio_effettiva = valori.data_inizio_effettiva
    obiettivo.data_fine_effettiva = valori.data_fine_effettiva
    obiettivo.note = valori.note
    fasi = {f.codice: f for f in valori.fasi}
    for fase in obiettivo.fasi:
        if fase.codice in fasi:
            got = fasi[fase.codice]
            fase.data_inizio_effettiva = got.data_inizio_effettiva
            fase.data_fine_effettiva = got.data_fine_effettiva
            fase.monitoraggio = got.monitoraggio
            fase.evidenza = got.evidenza
    indicatori = {(i.codice, i.descrizione): i for i in valori.indicatori}
    for indicatore in obiettivo.indicatori:
        hit = indicatori.get((indicatore.codice, indicatore.descrizione))
        if hit is not None:
            setattr(indicatore, field, hit.valore)
            indicatore.evidenza = hit.evidenza
    # Who left, joined or shares their time is reported by the area, like an effective date.
    persone = {p.matricola: p for p in valori.persone or ()}
    for persona in obiettivo.risorse_umane:
        reported = persone.get(persona.matricola)
        if reported is not None:
            persona.quota, persona.dal, persona.al = reported.quota, reported.dal, reported.al


@dataclass
class Riporto:
    """What folding a round did: the plan written and the returns' objectives it could not place."""

    piano: Piano
    aree: list[str]
    non_riportati: list[str]


def fold_round(
    piano: Piano,
    ritorni: Sequence[Ritorno],
    rilevazione: Rilevazione,
    *,
    percentuali: Mapping[tuple[str, str], float | None] | None = None,
    quando: datetime | None = None,
) -> Riporto:
    """The plan updated with a round's accepted returns, the round recorded in its history.

    Areas are matched by stable code (else name), objectives, phases and indicators by code: a return
    read against an older version of the plan still feeds the objectives that continue; what it holds
    for an objective the plan no longer has is listed in ``non_riportati``, never silently dropped from
    the record (the round's record keeps every value as returned). Areas that returned nothing keep
    their values. A later fold of the same round replaces the earlier record of it.
    """
    updated = with_area_codes(piano)
    percentuali = percentuali or {}
    record = EsitoRilevazione(
        rilevazione=rilevazione,
        versione_piano=piano.versione,
        consolidato_il=(quando or datetime.now()).replace(microsecond=0),
    )
    folded: list[str] = []
    lost: list[str] = []
    for ritorno in ritorni:
        try:
            area = updated.area_of(ritorno.area)
        except KeyError:
            lost.append(f"{ritorno.area.nome}: area non presente nel piano")
            continue
        pct = {code: value for (name, code), value in percentuali.items() if name == ritorno.area.nome}
        valori = returned_values(ritorno, rilevazione, pct)
        record.aree.append(valori.model_copy(update={"codice": area.codice or valori.codice}))
        by_code = {o.codice: o for o in area.obiettivi}
        for got in valori.obiettivi:
            obiettivo = by_code.get(got.codice) or _moved(updated, got.codice)
            if obiettivo is None:
                lost.append(f"{ritorno.area.nome} › {got.codice}: obiettivo non più nel piano")
                continue
            apply_values(obiettivo, got, rilevazione)
        folded.append(area.nome)
    updated.rilevazioni = [r for r in updated.rilevazioni if r.rilevazione is not rilevazione] + [record]
    return Riporto(updated, folded, lost)


def _moved(piano: Piano, codice: str) -> Obiettivo | None:
    """An objective moved to another area by a revision is still the same objective."""
    return next((o for a in piano.aree for o in a.obiettivi if o.codice == codice), None)


def recorded(piano: Piano, rilevazione: Rilevazione, area: Area) -> ValoriArea | None:
    """What ``area`` returned in ``rilevazione``, as the plan recorded it."""
    record = next((r for r in piano.rilevazioni if r.rilevazione is rilevazione), None)
    if record is None:
        return None
    for valori in record.aree:
        if (area.codice and valori.codice == area.codice) or valori.nome.casefold() == area.nome.casefold():
            return valori
    return None


def as_returned(area: Area, valori: ValoriArea, rilevazione: Rilevazione) -> Area:
    """A copy of ``area`` with what it returned in ``rilevazione`` (the previous round, for the checks)."""
    copy = area.model_copy(deep=True)
    by_code = {o.codice: o for o in valori.obiettivi}
    for obiettivo in copy.obiettivi:
        if obiettivo.codice in by_code:
            apply_values(obiettivo, by_code[obiettivo.codice], rilevazione)
    return copy
