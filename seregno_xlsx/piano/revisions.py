"""Plan revisions (variazioni PEG) and the link between one year's plan and the next.

``importa`` of a revised export against the plan in force writes the next version: areas and
objectives keep their stable codes (names may change), every difference is reported per objective,
phase and indicator, the values the areas already returned are carried, and the earlier version is
kept in the plan's history so that schede generated from it are still read against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from seregno_xlsx.files import ascii_words
from seregno_xlsx.piano.assegnazioni import carry_assignments
from seregno_xlsx.piano.model import (
    Area,
    Fase,
    Indicatore,
    Obiettivo,
    ObiettivoPrecedente,
    Piano,
    Rilevazione,
    Variazione,
    VersionePiano,
)

AGGIUNTO, ELIMINATO, SPOSTATO, RITARATO, RINOMINATO = "aggiunto", "eliminato", "spostato", "ritarato", "rinominato"


def area_code(nome: str) -> str:
    """A code for an area that has none: its name in capitals, ASCII, without the word «Area»."""
    words = ascii_words(nome)
    if len(words) > 1 and words[0].casefold() == "area":
        words = words[1:]
    return "_".join(words).upper()[:60] or "AREA"


def with_area_codes(piano: Piano, taken: Iterable[str] = ()) -> Piano:
    """The plan with a stable code for every area that has none (never one already used)."""
    used = set(taken) | {a.codice for a in piano.aree if a.codice}
    copy = piano.model_copy(deep=True)
    for area in copy.aree:
        if area.codice:
            continue
        code, n = area_code(area.nome), 2
        while code in used:
            code, n = f"{area_code(area.nome)}_{n}", n + 1
        area.codice = code
        used.add(code)
    return copy


@dataclass
class Revisione:
    piano: Piano
    variazioni: list[Variazione]
    nuova_versione: bool
    # Assignments that kept the share and dates the office set in the plan in force.
    assegnazioni_tenute: int = 0


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _renamed(old: str, new: str) -> str:
    return f"da «{old[:80]}» a «{new[:80]}»"


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def revise(current: Piano, new: Piano, *, delibera: str | None = None, data_delibera: date | None = None) -> Revisione:
    """``new`` (a revised export) as the next version of ``current``: codes, values and history carried.

    Without any difference and with the same delibera, the version stays the same (a re-import).
    """
    changes: list[Variazione] = []
    current = with_area_codes(current)
    revised = _match_areas(current, new, changes)
    old_objectives = {o.codice: (a, o) for a in current.aree for o in a.obiettivi}
    new_objectives = {o.codice: (a, o) for a in revised.aree for o in a.obiettivi}
    for code, (area, ob) in new_objectives.items():
        if code not in old_objectives:
            changes.append(_change(AGGIUNTO, "obiettivo", area, code, code, f"«{ob.titolo[:80]}»"))
            continue
        old_area, old = old_objectives[code]
        if old_area.codice != area.codice:
            changes.append(_change(SPOSTATO, "obiettivo", area, code, code, f"da «{old_area.nome}» a «{area.nome}»"))
        pairs = _match_indicators(old.indicatori, ob.indicatori)
        _compare_objective(old, ob, pairs, area, changes)
        _carry_objective(old, ob, pairs)
    for code, (area, ob) in old_objectives.items():
        if code not in new_objectives:
            changes.append(_change(ELIMINATO, "obiettivo", area, code, code, f"«{ob.titolo[:80]}»"))
    # The office's settings of continuing items travel like the fingerprint key: the export never has them.
    revised.chiave_impronta = current.chiave_impronta or new.chiave_impronta
    kept = carry_assignments(current, revised)
    revised.rilevazioni = [r.model_copy(deep=True) for r in current.rilevazioni]
    revised.delibera = delibera if delibera is not None else new.delibera
    revised.data_delibera = (
        data_delibera or new.data_delibera or (current.data_delibera if revised.delibera == current.delibera else None)
    )
    bumped = bool(changes) or (revised.titolo, revised.delibera) != (current.titolo, current.delibera)
    revised.versioni = [v.model_copy(deep=True) for v in current.versioni]
    if bumped:
        revised.versione = current.versione + 1
        revised.versioni.append(
            VersionePiano(
                versione=current.versione,
                titolo=current.titolo,
                delibera=current.delibera,
                data_delibera=current.data_delibera,
                variazioni=changes,
                aree={a.codice: a.nome for a in current.aree},
                variazioni_verso=revised.versione,
            )
        )
    else:
        revised.versione = current.versione
    return Revisione(revised, changes, bumped, kept)


def _change(tipo: str, elemento: str, area: Area, obiettivo: str, codice: str, dettaglio: str) -> Variazione:
    return Variazione(
        tipo=tipo, elemento=elemento, area=area.nome, obiettivo=obiettivo, codice=codice, dettaglio=dettaglio
    )


def _match_areas(current: Piano, new: Piano, changes: list[Variazione]) -> Piano:
    """``new`` with each area's stable code: same name, else the old area it shares most objectives with."""
    revised = new.model_copy(deep=True)
    by_name = {a.nome.casefold(): a for a in current.aree}
    claimed: set[str] = set()
    for area in revised.aree:
        old = by_name.get(area.nome.casefold())
        if old is not None:
            area.codice = old.codice
            claimed.add(old.codice)
    for area in revised.aree:
        if area.codice:
            continue
        codes = {o.codice for o in area.obiettivi}
        candidates = [
            (len(codes & {o.codice for o in old.obiettivi}), old)
            for old in current.aree
            if old.codice and old.codice not in claimed
        ]
        shared, old_area = max(candidates, key=lambda c: c[0], default=(0, None))
        if old_area is not None and shared * 2 > len(old_area.obiettivi):
            area.codice = old_area.codice
            claimed.add(old_area.codice)
            changes.append(_change(RINOMINATO, "area", area, "", area.codice, _renamed(old_area.nome, area.nome)))
        elif area.nome.casefold() not in by_name:
            changes.append(_change(AGGIUNTO, "area", area, "", "", ""))
    revised = with_area_codes(revised, taken={a.codice for a in current.aree if a.codice})
    for old in current.aree:
        if old.codice not in claimed:
            changes.append(_change(ELIMINATO, "area", old, "", old.codice, ""))
    return revised


Pairs = list[tuple[Indicatore | None, Indicatore]]


def _compare_objective(old: Obiettivo, ob: Obiettivo, pairs: Pairs, area: Area, changes: list[Variazione]) -> None:
    code = ob.codice
    if old.titolo != ob.titolo:
        changes.append(_change(RINOMINATO, "obiettivo", area, code, code, _renamed(old.titolo, ob.titolo)))
    if old.peso != ob.peso:
        changes.append(_change(RITARATO, "obiettivo", area, code, code, f"peso da {old.peso} a {ob.peso} stelle"))
    for name in ("data_inizio_prevista", "data_fine_prevista"):
        was, now = getattr(old, name), getattr(ob, name)
        if was != now:
            changes.append(
                _change(RITARATO, "obiettivo", area, code, code, f"{name.replace('_', ' ')} da {_d(was)} a {_d(now)}")
            )
    old_phases = {f.codice: f for f in old.fasi}
    for fase in ob.fasi:
        before = old_phases.pop(fase.codice, None)
        if before is None:
            changes.append(_change(AGGIUNTO, "fase", area, code, fase.codice, fase.descrizione[:80]))
            continue
        if before.descrizione != fase.descrizione:
            detail = _renamed(before.descrizione, fase.descrizione)
            changes.append(_change(RINOMINATO, "fase", area, code, fase.codice, detail))
        for name in ("data_inizio_prevista", "data_fine_prevista"):
            was, now = getattr(before, name), getattr(fase, name)
            if was != now:
                detail = f"{name.replace('_', ' ')} da {_d(was)} a {_d(now)}"
                changes.append(_change(RITARATO, "fase", area, code, fase.codice, detail))
    changes.extend(_change(ELIMINATO, "fase", area, code, f.codice, f.descrizione[:80]) for f in old_phases.values())
    for before_ind, ind in pairs:
        if before_ind is None:
            changes.append(_change(AGGIUNTO, "indicatore", area, code, ind.codice, ind.descrizione[:80]))
            continue
        if before_ind.descrizione != ind.descrizione:
            detail = _renamed(before_ind.descrizione, ind.descrizione)
            changes.append(_change(RINOMINATO, "indicatore", area, code, ind.codice, detail))
        if before_ind.valore_target != ind.valore_target:
            detail = f"target da {_n(before_ind.valore_target)} a {_n(ind.valore_target)}"
            changes.append(_change(RITARATO, "indicatore", area, code, ind.codice, detail))
    matched = {id(b) for b, _ in pairs if b is not None}
    changes.extend(
        _change(ELIMINATO, "indicatore", area, code, i.codice, i.descrizione[:80])
        for i in old.indicatori
        if id(i) not in matched
    )


def _match_indicators(old: list[Indicatore], new: list[Indicatore]) -> Pairs:
    """Each new indicator with its old one: same code and text, else the only unmatched one of its code."""
    free = list(old)
    pairs: Pairs = []
    for ind in new:
        hit = next((o for o in free if (o.codice, o.descrizione) == (ind.codice, ind.descrizione)), None)
        if hit is not None:
            free.remove(hit)
        pairs.append((hit, ind))
    for n, (hit, ind) in enumerate(pairs):
        if hit is None:
            same_code = [o for o in free if o.codice == ind.codice]
            unmatched_new = [i for h, i in pairs if h is None and i.codice == ind.codice]
            if len(same_code) == 1 and len(unmatched_new) == 1:
                free.remove(same_code[0])
                pairs[n] = (same_code[0], ind)
    return pairs


def _carry_objective(old: Obiettivo, ob: Obiettivo, pairs: Pairs) -> None:
    """What the areas returned (in the plan in force) carries into the new version; the export fills the rest."""
    for name in ("data_inizio_effettiva", "data_fine_effettiva", "note"):
        if getattr(old, name) not in (None, ""):
            setattr(ob, name, getattr(old, name))
    if ob.anno_precedente is None:
        ob.anno_precedente = old.anno_precedente
    phases = {f.codice: f for f in old.fasi}
    for fase in ob.fasi:
        before: Fase | None = phases.get(fase.codice)
        if before is None:
            continue
        for name in ("data_inizio_effettiva", "data_fine_effettiva", "monitoraggio", "evidenza"):
            if getattr(before, name) not in (None, ""):
                setattr(fase, name, getattr(before, name))
    for before_ind, ind in pairs:
        if before_ind is None:
            continue
        for name in ("prima_rilevazione", "valore_raggiunto", "evidenza"):
            if getattr(before_ind, name) not in (None, ""):
                setattr(ind, name, getattr(before_ind, name))
        if ind.regola is None:  # the rules file gave none: the office's rule in the plan in force stands
            ind.regola = before_ind.regola


def _title_key(titolo: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", titolo.casefold()).split())


def link_previous_year(piano: Piano, previous: Piano) -> tuple[Piano, int]:
    """The plan with each objective that continues from ``previous`` (same code, else same title) linked,
    with its final % there (as recorded by the final round, ``None`` if not measured). Returns the count."""
    final = next((r for r in previous.rilevazioni if r.rilevazione is Rilevazione.FINALE), None)
    pct = {o.codice: o.percentuale for a in final.aree for o in a.obiettivi} if final else {}
    by_code = {o.codice: o for a in previous.aree for o in a.obiettivi}
    by_title: dict[str, Obiettivo] = {}
    for a in previous.aree:
        for o in a.obiettivi:
            by_title.setdefault(_title_key(o.titolo), o)
    linked = piano.model_copy(deep=True)
    count = 0
    for area in linked.aree:
        for ob in area.obiettivi:
            old = by_code.get(ob.codice) or by_title.get(_title_key(ob.titolo))
            if old is None:
                continue
            ob.anno_precedente = ObiettivoPrecedente(
                anno=previous.anno, codice=old.codice, titolo=old.titolo, percentuale_finale=pct.get(old.codice)
            )
            count += 1
    return linked, count
