"""Assignments: a person on an objective, with a share of their time and the dates they were on it.

The share and the time in the year weigh the objective in the person's % (``master/scoring.person_pct``
is the reference, the master's «Assegnazioni» sheet the live formula). One person is one matricola
across the whole plan: a person in several areas gets one figure, and their shares add up across areas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date

from seregno_xlsx.findings import Anomalia, Locate, finding, no_location
from seregno_xlsx.piano.model import Area, Obiettivo, Persona, Piano

# The whole of a person's time, in percent.
FULL_SHARE = 100.0


@dataclass(frozen=True)
class Assegnazione:
    """One person on one objective (the first entry, if the plan names them twice on it)."""

    area: Area
    obiettivo: Obiettivo
    persona: Persona

    @property
    def codice(self) -> str:
        """The row's code in the scheda's Personale sheet: objective and matricola."""
        return f"{self.obiettivo.codice}/{self.persona.matricola}"


def assignments(areas: Iterable[Area]) -> dict[str, list[Assegnazione]]:
    """Every person's assignments, by matricola, in plan order (the master's rows follow it)."""
    people: dict[str, list[Assegnazione]] = {}
    for area in areas:  # may be read one at a time (``piano/compresse.py``): nothing keyed by ``id``
        for obiettivo in area.obiettivi:
            seen: set[str] = set()
            for persona in obiettivo.risorse_umane:
                if persona.matricola in seen:
                    continue
                seen.add(persona.matricola)
                people.setdefault(persona.matricola, []).append(Assegnazione(area, obiettivo, persona))
    return people


def effective_shares(assigned: Sequence[Assegnazione]) -> list[float]:
    """Each assignment's share in percent: the given one, else an equal part of what the given ones leave.

    A share outside 0-100% counts as not given (never better than a blank). Summed in row order, as the
    master's SUMPRODUCT sums them.
    """
    quotas = [a.persona.quota if valid_share(a.persona.quota) else None for a in assigned]
    given = 0.0
    for quota in quotas:
        if quota is not None:
            given += quota
    blanks = quotas.count(None)
    rest = max(0.0, FULL_SHARE - given) / blanks if blanks else 0.0
    return [rest if quota is None else quota for quota in quotas]


def year_bounds(anno: int) -> tuple[date, date]:
    return date(anno, 1, 1), date(anno, 12, 31)


def year_fraction(persona: Persona, anno: int) -> float:
    """The part of the year the person was on the objective: days from ``dal`` to ``al`` (both included,
    each held within the year) over the days of the year. A pair in the wrong order counts as not given."""
    start, end = year_bounds(anno)
    dal, al = (None, None) if reversed_dates(persona) else (persona.dal, persona.al)
    first = max(dal or start, start)
    last = min(al or end, end)
    return max(0, (last - first).days + 1) / ((end - start).days + 1)


# --- findings ------------------------------------------------------------------------------------------


def check_assignments(
    areas: Iterable[Area],
    anno: int,
    *,
    locate_for: Callable[[str], Locate] | None = None,
    only_across_areas: bool = False,
) -> list[Anomalia]:
    """Shares outside 0-100% or adding up above 100%, a leaving date before the joining one, a date
    outside the year. ``only_across_areas``: just the sums of people in several areas (each area's own
    findings were reported with its file)."""
    if only_across_areas:
        across = QuoteTraAree()
        for area in areas:
            across.add(area, (locate_for or (lambda _: no_location))(area.nome))
        return across.anomalie()
    found: list[Anomalia] = []
    for matricola, assigned in assignments(areas).items():
        for a in assigned:
            found.extend(_assignment_findings(a, anno, (locate_for or (lambda _: no_location))(a.area.nome)))
        total = sum(a.persona.quota or 0.0 for a in assigned if valid_share(a.persona.quota))
        first = assigned[0]
        where = (locate_for or (lambda _: no_location))(first.area.nome)
        codes = [a.obiettivo.codice for a in assigned]
        found.extend(_over_full(matricola, first.persona.nome, total, codes, len(codes), first.area.nome, where))
    return found


@dataclass(slots=True)
class _Somma:
    """One person's assignments across areas, as ``QuoteTraAree`` keeps them: a few values."""

    nome: str
    area: str
    where: Locate
    total: float = 0.0
    n: int = 0
    # The first codes only: the finding lists ten.
    codes: list[str] = default(default_factory=list)
    # In another area than the first (only then are the shares checked here).
    altrove: bool = False


class QuoteTraAree:
    """``check_assignments(..., only_across_areas=True)`` fed one area at a time (``add``): of each person
    only the sum of their shares, whether they are in several areas and the first objectives' codes are
    kept, never the areas' models."""

    def __init__(self) -> None:
        self._people: dict[str, _Somma] = {}

    def add(self, area: Area, locate: Locate = no_location) -> None:
        key = area.nome.casefold()
        for obiettivo in area.obiettivi:
            seen: set[str] = set()
            for persona in obiettivo.risorse_umane:
                if persona.matricola in seen:  # the first entry, as ``assignments`` takes it
                    continue
                seen.add(persona.matricola)
                somma = self._people.get(persona.matricola)
                if somma is None:
                    somma = self._people[persona.matricola] = _Somma(persona.nome, area.nome, locate)
                somma.altrove = somma.altrove or key != somma.area.casefold()
                somma.n += 1
                if len(somma.codes) <= MAX_LISTED:
                    somma.codes.append(obiettivo.codice)
                if valid_share(persona.quota):
                    somma.total += persona.quota or 0.0

    def anomalie(self) -> list[Anomalia]:
        found: list[Anomalia] = []
        for matricola, s in self._people.items():
            if s.altrove:
                found.extend(_over_full(matricola, s.nome, s.total, s.codes, s.n, s.area, s.where))
        return found


MAX_LISTED = 10


def _over_full(
    matricola: str, nome: str, total: float, codes: list[str], n: int, area: str, where: Locate
) -> list[Anomalia]:
    """A person's shares adding up above 100%, placed on their first assignment."""
    if total <= FULL_SHARE + 1e-9:
        return []
    foglio, cella = where("personale", f"{codes[0]}/{matricola}", "quota")
    listed = ", ".join(codes[:MAX_LISTED]) + (" …" if n > MAX_LISTED else "")
    return [
        finding(
            "quote-oltre-100",
            f"le quote di {nome} ({matricola}) sui suoi {n} obiettivi sommano {_pct(total)} ({listed})",
            area=area,
            obiettivo=codes[0],
            foglio=foglio,
            cella=cella,
            valore=_pct(total),
        )
    ]


def _assignment_findings(a: Assegnazione, anno: int, locate: Locate) -> Iterator[Anomalia]:
    p = a.persona
    start, end = year_bounds(anno)

    def at(codice: str, field: str, dettaglio: str, valore: object) -> Anomalia:
        foglio, cella = locate("personale", a.codice, field)
        return finding(
            codice, dettaglio, area=a.area.nome, obiettivo=a.obiettivo.codice, foglio=foglio, cella=cella, valore=valore
        )

    if p.quota is not None and not valid_share(p.quota):
        yield at("quota-non-valida", "quota", f"quota di {p.nome} ({p.matricola}): {_pct(p.quota)}", _pct(p.quota))
    if p.dal is not None and p.al is not None and p.al < p.dal:
        yield at(
            "fine-prima-di-inizio",
            "al",
            f"{p.nome} ({p.matricola}) risulta sull'obiettivo fino al {p.al:%d/%m/%Y}, "
            f"prima della data di inizio {p.dal:%d/%m/%Y}: le due date non contano (tutto l'anno)",
            f"{p.al:%d/%m/%Y}",
        )
    for field, value in (("dal", p.dal), ("al", p.al)):
        if value is not None and not start <= value <= end:
            yield at(
                "assegnazione-fuori-anno",
                field,
                f"la data {value:%d/%m/%Y} di {p.nome} ({p.matricola}) è fuori dall'anno {anno}: "
                f"si conta dal {start:%d/%m/%Y} al {end:%d/%m/%Y}",
                f"{value:%d/%m/%Y}",
            )


def valid_share(quota: float | None) -> bool:
    return quota is None or 0.0 <= quota <= FULL_SHARE


def reversed_dates(p: Persona) -> bool:
    return p.dal is not None and p.al is not None and p.al < p.dal


def _pct(value: float) -> str:
    return f"{value:g}%".replace(".", ",")


def known_matricole(areas: Iterable[Area]) -> set[str]:
    return {p.matricola for area in areas for o in area.obiettivi for p in o.risorse_umane}


def carry_assignments(old: Piano, piano: Piano) -> int:
    """Give ``piano`` (in place) the shares and dates the office set in ``old`` for every person still on
    the same objective and without their own: the export never carries them, so a re-import or a
    revision (``piano/revisions.py``) must not drop them. Returns how many assignments kept theirs."""
    set_before = {
        (o.codice, p.matricola): p
        for area in old.aree
        for o in area.obiettivi
        for p in o.risorse_umane
        if (p.quota, p.dal, p.al) != (None, None, None)
    }
    kept = 0
    for area in piano.aree:
        for obiettivo in area.obiettivi:
            for persona in obiettivo.risorse_umane:
                before = set_before.get((obiettivo.codice, persona.matricola))
                if before is not None and (persona.quota, persona.dal, persona.al) == (None, None, None):
                    persona.quota, persona.dal, persona.al = before.quota, before.dal, before.al
                    kept += 1
    return kept
