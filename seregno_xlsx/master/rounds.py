"""The final round against the intermediate one: checks between rounds, and the round folded into the plan.

The previous round is what the area sent then: the plan's record of it (``Piano.rilevazioni``) when
the plan has one, else what the final scheda was generated with (its prefilled, authenticated snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from seregno_xlsx.findings import Anomalia, Locate, finding, no_location
from seregno_xlsx.master.scoring import Regole, objective_pct
from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.model import Area, Indicatore, Piano, Rilevazione
from seregno_xlsx.piano.rounds import Riporto, Ritorno, apply_values, as_returned, fold_round, recorded, returned_values
from seregno_xlsx.ritorni.pool import compilation
from seregno_xlsx.ritorni.reader import Lettura, older_version
from seregno_xlsx.scheda.generation import snapshot_for


def is_cumulative(indicatore: Indicatore) -> bool:
    """The indicator's rule says its value accumulates over the year (``regola.cumulativo``)."""
    return indicatore.regola is not None and indicatore.regola.cumulativo


def previous_round(piano: Piano | None, shown: Area) -> Area:
    """What the area sent in the intermediate round: the plan's record of it, else the scheda's snapshot."""
    valori = recorded(piano, Rilevazione.INTERMEDIA, shown) if piano is not None else None
    return as_returned(shown, valori, Rilevazione.INTERMEDIA) if valori is not None else shown


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "vuota"


def check_between_rounds(
    previous: Area,
    current: Area,
    regole: Regole,
    calo_massimo: float,
    *,
    locate: Locate = no_location,
) -> list[Anomalia]:
    """Findings of the final round's ``current`` compilation against the intermediate round's ``previous``."""
    found: list[Anomalia] = []
    area = current.nome
    before = {o.codice: o for o in previous.obiettivi}
    for ob in current.obiettivi:
        old = before.get(ob.codice)
        if old is None:
            continue

        def add(
            codice: str,
            dettaglio: str,
            sheet: str,
            code: str,
            field: str,
            valore: object,
            fase: str = "",
            obiettivo: str = ob.codice,
        ) -> None:
            foglio, cella = locate(sheet, code, field)
            found.append(
                finding(
                    codice,
                    dettaglio,
                    area=area,
                    obiettivo=obiettivo,
                    fase=fase,
                    foglio=foglio,
                    cella=cella,
                    valore=valore,
                )
            )

        for name in ("data_inizio_effettiva", "data_fine_effettiva"):
            was, now = getattr(old, name), getattr(ob, name)
            if was is not None and now != was:
                label = name.replace("_", " ")
                add(
                    "data-effettiva-cambiata",
                    f"{label}: era {_d(was)}, ora {_d(now)}",
                    "obiettivi",
                    ob.codice,
                    name,
                    _d(now),
                )
        fasi = {f.codice: f for f in old.fasi}
        for fase in ob.fasi:
            was_fase = fasi.get(fase.codice)
            if was_fase is None:
                continue
            if was_fase.data_fine_effettiva is not None and fase.data_fine_effettiva is None:
                add(
                    "fase-non-piu-conclusa",
                    f"conclusa il {_d(was_fase.data_fine_effettiva)}, ora senza data di fine effettiva",
                    "fasi",
                    fase.codice,
                    "data_fine_effettiva",
                    "",
                    fase.codice,
                )
            for name in ("data_inizio_effettiva", "data_fine_effettiva"):
                was, now = getattr(was_fase, name), getattr(fase, name)
                # A date changed or cleared, as for objectives; a cleared end is said above, more plainly.
                if was is not None and now != was and not (now is None and name == "data_fine_effettiva"):
                    add(
                        "data-effettiva-cambiata",
                        f"{name.replace('_', ' ')}: era {_d(was)}, ora {_d(now)}",
                        "fasi",
                        fase.codice,
                        name,
                        _d(now),
                        fase.codice,
                    )
        indicatori = {(i.codice, i.descrizione): i for i in old.indicatori}
        for ind in ob.indicatori:
            was_ind = indicatori.get((ind.codice, ind.descrizione))
            if was_ind is None or not is_cumulative(ind):
                continue
            first, final = was_ind.prima_rilevazione, ind.valore_raggiunto
            if first is not None and final is not None and final < first:
                add(
                    "valore-cumulativo-in-calo",
                    f"«{ind.descrizione}»: 1° rilevazione {first:g}, ora {final:g}",
                    "indicatori",
                    ind.codice,
                    "valore_raggiunto",
                    f"{final:g}",
                    ind.codice,
                )
        p0 = objective_pct(old, Rilevazione.INTERMEDIA, regole)
        p1 = objective_pct(ob, Rilevazione.FINALE, regole)
        if p0 is not None and p1 is not None and p0 - p1 > calo_massimo + 1e-9:
            add(
                "percentuale-in-calo",
                f"{p0:.0%} alla rilevazione intermedia, {p1:.0%} alla finale (soglia {calo_massimo:.0%})",
                "obiettivi",
                ob.codice,
                "codice",
                f"{p1:.0%}",
            )
    return found


def fold_consolidation(
    piano: Piano,
    ritorni: Sequence[Ritorno],
    rilevazione: Rilevazione,
    regole: Regole,
    quando: datetime | None = None,
) -> Riporto:
    """The plan updated with the round's accepted returns, each objective's % of the round recorded."""
    percentuali = {
        (r.area.nome, o.codice): objective_pct(o, rilevazione, regole) for r in ritorni for o in r.area.obiettivi
    }
    return fold_round(piano, ritorni, rilevazione, percentuali=percentuali, quando=quando)


class OntoCurrentVersion:
    """The accepted compilations as the plan in force has them, one area at a time (``carry``).

    A scheda of an earlier version of the plan is read against the version it names; here what it
    returned is carried, by code, into the area of the version in force: an objective moved to another
    area counts there, a dropped one no longer counts (its values stay in the round's record), the
    locked content (targets, dates, names) is the version in force's.

    ``older``: the indexes in ``accepted`` of the schede of an earlier version. What each returned is
    read once, here, for its own area and for an objective moved away: only those areas are made into
    models together.
    """

    def __init__(
        self, plan: PianoCompatto, accepted: Sequence[Lettura], older: Sequence[int], rilevazione: Rilevazione
    ) -> None:
        compiled = {i: compilation(accepted[i]) for i in older}
        old = {i: area for i, area in compiled.items() if area is not None}
        self.piano = plan.per_area(*old.values())
        self.rilevazione = rilevazione
        self.accepted = accepted
        self.values = {
            i: {o.codice: o for o in returned_values(Ritorno(area), rilevazione).obiettivi} for i, area in old.items()
        }
        self.returned = {code: o for own in self.values.values() for code, o in own.items()}

    def carry(self, index: int, area: Area) -> Area:
        """The area of ``accepted[index]`` (``area``, its compilation) as the version in force has it."""
        own = self.values.get(index)
        metadati = self.accepted[index].metadati
        if own is None or metadati is None or not older_version(metadati, self.piano):
            return area
        try:
            current = self.piano.area_of(area)
        except KeyError:
            return area
        shown = snapshot_for(self.piano, current, self.rilevazione, metadati.testi, None).area
        # The area's own return first; an objective moved in from another area, from that area's return.
        for obiettivo in shown.obiettivi:
            got = own.get(obiettivo.codice) or self.returned.get(obiettivo.codice)
            if got is not None:
                apply_values(obiettivo, got, self.rilevazione)
        return shown
