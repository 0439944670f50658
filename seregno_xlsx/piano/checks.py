"""Checks on the plan and on what an area filled in; every problem becomes an :class:`Anomalia`.

Each check is one small generator over a context (the area, the plan year and
where a field sits in the workbook); the public functions run a list of them.
The plan checks run on ``importa`` and again on every returned workbook, the
compilation checks only on returned workbooks.
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, partial

from seregno_xlsx.findings import Anomalia, Locate, finding, no_location
from seregno_xlsx.piano.assegnazioni import check_assignments
from seregno_xlsx.piano.codici_visti import CodiciVisti
from seregno_xlsx.piano.model import (
    Area,
    Fase,
    Indicatore,
    Obiettivo,
    Persona,
    Piano,
    Rilevazione,
    date_window,
    round_value_field,
)
from seregno_xlsx.piano.regola import Direzione
from seregno_xlsx.texts import Testi, load_texts

"""(sheet_key, code, field) -> (foglio, cella).

``sheet_key`` is "obiettivi", "fasi", "indicatori" or "personale"; ``code`` the
objective, phase or indicator code (for "personale", the objective's code);
``field`` the model attribute name.
"""


@cache
def _texts() -> Testi:
    return load_texts()


def _label(field: str, item: object = None) -> str:
    """The column label of ``field`` as the scheda shows it (a phase's effective dates have their own)."""
    etichette = _texts().etichette
    return etichette.get(f"fase_{field}", etichette[field]) if isinstance(item, Fase) else etichette[field]


# "entro il 31/07/2021", "entro 15.12.2021", "(entro il 30.09.2021)", "entro il 31/12" (year: the plan's).
_DEADLINE = re.compile(r"\bentro\s+(?:il\s+)?(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?(?!\d)", re.IGNORECASE)


# --- context -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    area: Area
    anno: int
    locate: Locate

    def report(self, codice: str, o: Obiettivo, item: Item, field: str, valore: object, dettaglio: str) -> Anomalia:
        """A finding on ``item.field`` of objective ``o``, placed on the sheet that shows ``item``."""
        # Phases and indicators are rows of their own; people are listed under their objective's code.
        fase = item.codice if isinstance(item, Fase | Indicatore) else ""
        foglio, cella = self.locate(_SHEET_KEYS[type(item)], fase or o.codice, field)
        where = {
            "area": self.area.nome,
            "obiettivo": o.codice,
            "fase": fase,
            "foglio": foglio,
            "cella": cella,
        }
        return finding(codice, dettaglio, **where, valore=valore)


@dataclass(frozen=True)
class _Compilazione(_Ctx):
    rilevazione: Rilevazione
    data_riferimento: date

    @property
    def field(self) -> str:
        """The indicator field filled in this round."""
        return round_value_field(self.rilevazione)

    def value(self, indicatore: Indicatore) -> float | None:
        value: float | None = getattr(indicatore, self.field)
        return value


Item = Obiettivo | Fase | Indicatore | Persona
_SHEET_KEYS: dict[type[Item], str] = {
    Obiettivo: "obiettivi",
    Fase: "fasi",
    Indicatore: "indicatori",
    Persona: "personale",
}
Check = Callable[[_Ctx], Iterator[Anomalia]]
CompilationCheck = Callable[[_Compilazione], Iterator[Anomalia]]


# --- small helpers -------------------------------------------------------------------------------------


def _d(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _num(value: float) -> str:
    return format(value, "g").replace(".", ",")


def _show(indicatore: Indicatore, value: float) -> str:
    if indicatore.si_no and value in (0, 100):
        return "SI" if value == 100 else "NO"
    return _num(value)


def _what(item: Obiettivo | Fase) -> str:
    return "dell'obiettivo" if isinstance(item, Obiettivo) else "della fase"


def _scheduled(o: Obiettivo) -> list[Obiettivo | Fase]:
    """What carries dates: the objective and its phases."""
    return [o, *o.fasi]


def _coded(o: Obiettivo) -> list[Obiettivo | Fase | Indicatore]:
    return [o, *o.fasi, *o.indicatori]


def _name_key(nome: str) -> str:
    return " ".join(nome.split()).casefold()


def _deadline_in_text(text: str, anno: int) -> date | None:
    """The last valid 'entro il gg/mm[/aaaa]' of a text: the phase's final deadline."""
    found = None
    for m in _DEADLINE.finditer(text):
        year = int(m[3]) if m[3] else anno
        try:
            found = date(year + 2000 if year < 100 else year, int(m[2]), int(m[1]))
        except ValueError:
            continue
    return found


def _scaduta_il(f: Fase, data_riferimento: date) -> date | None:
    """The planned end of a phase that is overdue at ``data_riferimento``, else None."""
    return f.data_fine_prevista if f.scaduta(data_riferimento) else None


# --- checks on the plan --------------------------------------------------------------------------------


def _codice_duplicato(ctx: _Ctx) -> Iterator[Anomalia]:
    # Objective, phase and indicator codes are separate namespaces: an indicator shares its phase's code.
    seen: set[tuple[str, str]] = set()
    for o in ctx.area.obiettivi:
        for item in _coded(o):
            key = (type(item).__name__, item.codice)
            if key in seen:
                msg = f"il codice {item.codice} è usato più volte nell'area"
                yield ctx.report("codice-duplicato", o, item, "codice", item.codice, msg)
            seen.add(key)


def _fase_di_altro_obiettivo(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        items: list[Fase | Indicatore] = [*o.fasi, *o.indicatori]
        for item in items:
            if not item.codice.startswith(o.codice):
                msg = f"il codice {item.codice} non inizia con il codice dell'obiettivo {o.codice}"
                yield ctx.report("fase-di-altro-obiettivo", o, item, "codice", item.codice, msg)


def _indicatore_senza_fase(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        fasi = {f.codice for f in o.fasi}
        for i in o.indicatori:
            if i.codice not in fasi:
                msg = f"nessuna fase dell'obiettivo {o.codice} ha il codice {i.codice}"
                yield ctx.report("indicatore-senza-fase", o, i, "codice", i.codice, msg)


def _fase_senza_indicatore(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        # An objective with no indicator at all is reported once, by obiettivo-senza-indicatori.
        indicatori = {i.codice for i in o.indicatori}
        for f in o.fasi if indicatori else []:
            if f.codice not in indicatori:
                msg = f"nessun indicatore ha il codice {f.codice}"
                yield ctx.report("fase-senza-indicatore", o, f, "codice", f.codice, msg)


def _obiettivo_senza_indicatori(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        if not o.indicatori:
            msg = f"l'obiettivo {o.codice} non ha indicatori"
            yield ctx.report("obiettivo-senza-indicatori", o, o, "codice", o.codice, msg)


def _names_by_matricola(areas: Iterable[Area]) -> dict[str, dict[str, tuple[Obiettivo, Persona]]]:
    """matricola -> normalised name -> its first occurrence, in plan order."""
    names: dict[str, dict[str, tuple[Obiettivo, Persona]]] = defaultdict(dict)
    for area in areas:
        for o in area.obiettivi:
            for p in o.risorse_umane:
                names[p.matricola].setdefault(_name_key(p.nome), (o, p))
    return names


def _matricola_finding(ctx: _Ctx, matricola: str, occurrences: list[tuple[Obiettivo, Persona]]) -> Anomalia:
    # Placed on the first occurrence whose name differs from the first one seen.
    o, p = occurrences[1]
    msg = f"la matricola {matricola} compare con i nomi " + ", ".join(f"«{q.nome}»" for _, q in occurrences)
    return ctx.report("matricola-nomi-diversi", o, p, "matricola", matricola, msg)


def _matricola_nomi_diversi(ctx: _Ctx) -> Iterator[Anomalia]:
    for matricola, names in _names_by_matricola([ctx.area]).items():
        if len(names) > 1:
            yield _matricola_finding(ctx, matricola, list(names.values()))


def _target_mancante(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for i in o.indicatori:
            if not i.valore_target:
                msg = f"il valore target dell'indicatore «{i.descrizione}» " + (
                    "manca" if i.valore_target is None else "è zero"
                )
                valore = None if i.valore_target is None else _num(i.valore_target)
                yield ctx.report("target-mancante", o, i, "valore_target", valore, msg)


def _peso_mancante(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        if o.peso == 0:
            yield ctx.report("peso-mancante", o, o, "peso", o.peso, f"l'obiettivo {o.codice} ha peso 0")


def _fine_prima_di_inizio(ctx: _Ctx, tipo: str) -> Iterator[Anomalia]:
    """``tipo`` is "prevista" (the plan) or "effettiva" (the compilation)."""
    start, end = f"data_inizio_{tipo}", f"data_fine_{tipo}"
    for o in ctx.area.obiettivi:
        for item in _scheduled(o):
            inizio, fine = getattr(item, start), getattr(item, end)
            if inizio and fine and fine < inizio:
                msg = f"la {_label(end, item)} {_what(item)} {_d(fine)} precede la {_label(start, item)} {_d(inizio)}"
                yield ctx.report("fine-prima-di-inizio", o, item, end, fine, msg)


def _fase_fuori_obiettivo(ctx: _Ctx, tipo: str) -> Iterator[Anomalia]:
    """A phase starting before or ending after its objective (each side only when both dates are set)."""
    sides = (
        (f"data_inizio_{tipo}", operator.lt, "precede"),
        (f"data_fine_{tipo}", operator.gt, "è successiva a"),
    )
    for o in ctx.area.obiettivi:
        for f in o.fasi:
            for field, outside, verbo in sides:
                fase_date, ob_date = getattr(f, field), getattr(o, field)
                if fase_date and ob_date and outside(fase_date, ob_date):
                    msg = f"la {_label(field, f)} della fase {_d(fase_date)} {verbo} quella dell'obiettivo "
                    yield ctx.report("fase-fuori-obiettivo", o, f, field, fase_date, msg + _d(ob_date))


def _scadenza_testo_diversa(ctx: _Ctx) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for f in o.fasi:
            scadenza = _deadline_in_text(f.descrizione, ctx.anno)
            if scadenza and f.data_fine_prevista and scadenza != f.data_fine_prevista:
                msg = f"il testo indica la scadenza {_d(scadenza)}, la {_label('data_fine_prevista', f)} è "
                msg += _d(f.data_fine_prevista)
                yield ctx.report("scadenza-testo-diversa", o, f, "descrizione", scadenza, msg)


def _data_implausibile(ctx: _Ctx, tipo: str) -> Iterator[Anomalia]:
    first, last = date_window(ctx.anno)
    for o in ctx.area.obiettivi:
        for item in _scheduled(o):
            for field in (f"data_inizio_{tipo}", f"data_fine_{tipo}"):
                value = getattr(item, field)
                if value and not first <= value <= last:
                    msg = (
                        f"la {_label(field, item)} {_what(item)} {_d(value)} è fuori dal periodo "
                        f"{_d(first)}–{_d(last)} del piano {ctx.anno}"
                    )
                    yield ctx.report("data-implausibile", o, item, field, value, msg)


_PLAN_CHECKS: tuple[Check, ...] = (
    _codice_duplicato,
    _fase_di_altro_obiettivo,
    _indicatore_senza_fase,
    _fase_senza_indicatore,
    _obiettivo_senza_indicatori,
    _matricola_nomi_diversi,
    _target_mancante,
    _peso_mancante,
    partial(_fine_prima_di_inizio, tipo="prevista"),
    partial(_fase_fuori_obiettivo, tipo="prevista"),
    _scadenza_testo_diversa,
    partial(_data_implausibile, tipo="prevista"),
)


# --- checks across areas -------------------------------------------------------------------------------


def _codice_gia_usato(ctx: _Ctx, seen: CodiciVisti, names: list[str]) -> Iterator[Anomalia]:
    """``seen``: every code of the areas before (``names``, by the order they were claimed)."""
    # Only an area's first use of a code: its later ones are reported by the area's own check.
    in_area: set[tuple[str, str]] = set()
    first: list[tuple[Obiettivo, Obiettivo | Fase | Indicatore]] = []
    for o in ctx.area.obiettivi:
        for item in _coded(o):
            key = (type(item).__name__, item.codice)
            if key not in in_area:
                in_area.add(key)
                first.append((o, item))
    # A code is unique within its kind of row (objective, phase, indicator), as the check on one area takes it.
    owners = seen.claim([f"{type(item).__name__}\0{item.codice}" for _, item in first])
    names.append(ctx.area.nome)
    for (o, item), owner in zip(first, owners, strict=True):
        if owner is not None:
            msg = f"il codice {item.codice} è già usato nell'area «{names[owner]}»"
            yield ctx.report("codice-duplicato", o, item, "codice", item.codice, msg)


class TraAree:
    """The checks across areas (codes and matricole) fed one area at a time (``add``): of each area only
    its codes and its people's names are kept, so a run over thousands of areas never holds them all."""

    def __init__(self, anno: int) -> None:
        self.anno = anno
        self._codes = CodiciVisti()  # every code seen, about 20 bytes each
        self._names: list[str] = []
        self._codici: list[Anomalia] = []
        # Matricole with several names inside one area: already reported by that area's check.
        self._flagged: set[str] = set()
        # matricola -> its first occurrence (normalised name, area, where, objective's code, name); the
        # occurrences of the other names of a matricola that has several, by normalised name.
        self._first: dict[str, _Occurrence] = {}
        self._more: dict[str, dict[str, _Occurrence]] = {}

    def add(self, area: Area, locate: Locate = no_location) -> None:
        ctx = _Ctx(area, self.anno, locate)
        self._codici.extend(_codice_gia_usato(ctx, self._codes, self._names))
        for matricola, names in _names_by_matricola([area]).items():
            if len(names) > 1:
                self._flagged.add(matricola)
            for key, (o, p) in names.items():
                seen = (key, area.nome, locate, o.codice, p.nome)
                first = self._first.setdefault(matricola, seen)
                if first[0] != key:
                    self._more.setdefault(matricola, {}).setdefault(key, seen)

    def anomalie(self) -> list[Anomalia]:
        found = list(self._codici)
        for matricola, first in self._first.items():
            if matricola in self._more and matricola not in self._flagged:
                seen = [first, *self._more[matricola].values()]
                # Light models with just what the finding names: the objective's code, the person's name.
                occurrences = [
                    (Obiettivo.model_construct(codice=codice), Persona.model_construct(matricola=matricola, nome=nome))
                    for _, _, _, codice, nome in seen
                ]
                _, area, locate, _, _ = seen[1]  # placed where the second name is seen, as _matricola_finding says
                ctx = _Ctx(Area.model_construct(nome=area, obiettivi=[]), self.anno, locate)
                found.append(_matricola_finding(ctx, matricola, occurrences))
        return found


# Where a matricola is seen with a name: the name normalised, the area, where, the objective's code, the name.
_Occurrence = tuple[str, str, Locate, str, str]


# --- checks on the compilation -------------------------------------------------------------------------


def _data_dopo_riferimento(ctx: _Compilazione) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for item in _scheduled(o):
            for field in ("data_inizio_effettiva", "data_fine_effettiva"):
                value = getattr(item, field)
                if value and value > ctx.data_riferimento:
                    msg = (
                        f"la {_label(field, item)} {_d(value)} è successiva alla data di riferimento "
                        f"{_d(ctx.data_riferimento)}"
                    )
                    yield ctx.report("data-dopo-riferimento", o, item, field, value, msg)


def _fase_in_ritardo(ctx: _Compilazione) -> Iterator[Anomalia]:
    # Phases only: an objective's dates summarise its phases, whose delays are reported one by one.
    for o in ctx.area.obiettivi:
        for f in o.fasi:
            fine, prevista = f.data_fine_effettiva, f.data_fine_prevista
            if f.in_ritardo and fine and prevista:
                end, planned = _label("data_fine_effettiva", f), _label("data_fine_prevista", f)
                msg = f"la {end} {_d(fine)} è successiva alla {planned} {_d(prevista)}"
                yield ctx.report("fase-in-ritardo", o, f, "data_fine_effettiva", fine, msg)


def _fase_scaduta(ctx: _Compilazione) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for f in o.fasi:
            if scadenza := _scaduta_il(f, ctx.data_riferimento):
                msg = (
                    f"la {_label('data_fine_prevista', f)} {_d(scadenza)} è passata alla data di riferimento "
                    f"{_d(ctx.data_riferimento)} e la {_label('data_fine_effettiva', f)} è vuota"
                )
                yield ctx.report("fase-scaduta", o, f, "data_fine_effettiva", None, msg)


def _fine_senza_valore(ctx: _Compilazione) -> Iterator[Anomalia]:
    """Finale round only: mid-year, a completed phase may be measured later."""
    if ctx.rilevazione is not Rilevazione.FINALE:
        return
    for o in ctx.area.obiettivi:
        concluse = {f.codice: f.data_fine_effettiva for f in o.fasi if f.data_fine_effettiva}
        for i in o.indicatori:
            if (fine := concluse.get(i.codice)) and ctx.value(i) is None:
                msg = f"la fase è conclusa il {_d(fine)} ma l'indicatore «{i.descrizione}» non ha valore"
                yield ctx.report("fine-senza-valore", o, i, ctx.field, None, msg)


def _valore_senza_fine(ctx: _Compilazione) -> Iterator[Anomalia]:
    """Finale round only: mid-year, a value for a phase in progress is a normal partial value.

    A SI/NO answered NO (0) is no achievement, so it does not call for an end date.
    """
    if ctx.rilevazione is not Rilevazione.FINALE:
        return
    for o in ctx.area.obiettivi:
        aperte = {f.codice: f for f in o.fasi if f.data_fine_effettiva is None}
        for i in o.indicatori:
            value = ctx.value(i)
            if (f := aperte.get(i.codice)) and value is not None and value > 0:
                end = _label("data_fine_effettiva", f)
                msg = f"l'indicatore «{i.descrizione}» vale {_show(i, value)} ma la {end} è vuota"
                yield ctx.report("valore-senza-fine", o, f, "data_fine_effettiva", None, msg)


def _valore_oltre_target(ctx: _Compilazione) -> Iterator[Anomalia]:
    # Only where higher is better: SI/NO is 0 or 100 by construction, and above the target is the
    # expected kind of miss for a «decrescente» or «esatto» indicator, which its rule scores.
    for o in ctx.area.obiettivi:
        for i in o.indicatori:
            value = ctx.value(i)
            higher_is_better = i.misura.direzione is Direzione.CRESCENTE
            if higher_is_better and value is not None and i.valore_target and value > i.valore_target:
                msg = f"il valore {_num(value)} supera il target {_num(i.valore_target)}"
                yield ctx.report("valore-oltre-target", o, i, ctx.field, _num(value), msg)


def _valore_negativo(ctx: _Compilazione) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for i in o.indicatori:
            if (value := ctx.value(i)) is not None and value < 0:
                msg = f"l'indicatore «{i.descrizione}» vale {_num(value)}"
                yield ctx.report("valore-negativo", o, i, ctx.field, _num(value), msg)


def _monitoraggio_mancante(ctx: _Compilazione) -> Iterator[Anomalia]:
    for o in ctx.area.obiettivi:
        for f in o.fasi:
            if f.monitoraggio.strip():
                continue
            if f.data_fine_effettiva:
                perche = f"la fase è conclusa il {_d(f.data_fine_effettiva)}"
            elif scadenza := _scaduta_il(f, ctx.data_riferimento):
                perche = f"la fase è scaduta il {_d(scadenza)} ({_label('data_fine_prevista', f)})"
            else:
                continue
            yield ctx.report("monitoraggio-mancante", o, f, "monitoraggio", "", f"{perche} e il Monitoraggio è vuoto")


_COMPILATION_CHECKS: tuple[CompilationCheck, ...] = (
    partial(_fine_prima_di_inizio, tipo="effettiva"),
    partial(_fase_fuori_obiettivo, tipo="effettiva"),
    partial(_data_implausibile, tipo="effettiva"),
    _data_dopo_riferimento,
    _fase_in_ritardo,
    _fase_scaduta,
    _fine_senza_valore,
    _valore_senza_fine,
    _valore_oltre_target,
    _valore_negativo,
    _monitoraggio_mancante,
)


# --- public API ----------------------------------------------------------------------------------------


def check_area_plan(area: Area, anno: int, *, locate: Locate = no_location) -> list[Anomalia]:
    """The checks on one area's part of the plan."""
    ctx = _Ctx(area, anno, locate)
    return [a for check in _PLAN_CHECKS for a in check(ctx)]


def check_plan(piano: Piano, *, locate_for: Callable[[str], Locate] | None = None) -> list[Anomalia]:
    """Every area's plan checks, then duplicate codes and matricole across areas."""
    contexts = _contexts(piano, locate_for)
    anomalie = [a for ctx in contexts for check in _PLAN_CHECKS for a in check(ctx)]
    return anomalie + _across_areas(contexts) + check_assignments(piano.aree, piano.anno)


def check_across_areas(piano: Piano, *, locate_for: Callable[[str], Locate] | None = None) -> list[Anomalia]:
    """Only what spans areas (codes and matricole), for areas already checked one by one."""
    return _across_areas(_contexts(piano, locate_for))


def _contexts(piano: Piano, locate_for: Callable[[str], Locate] | None) -> list[_Ctx]:
    return [_Ctx(a, piano.anno, locate_for(a.nome) if locate_for else no_location) for a in piano.aree]


def _across_areas(contexts: list[_Ctx]) -> list[Anomalia]:
    across = TraAree(contexts[0].anno if contexts else 0)
    for ctx in contexts:
        across.add(ctx.area, ctx.locate)
    return across.anomalie()


def check_compilation(
    area: Area, *, anno: int, rilevazione: Rilevazione, data_riferimento: date, locate: Locate = no_location
) -> list[Anomalia]:
    """The checks on what the area filled in: effective dates, the round's values, monitoring.

    "fine-senza-valore" and "valore-senza-fine" run in the finale round only: in the intermedia round
    a phase in progress normally has a partial value and no end date yet.
    """
    ctx = _Compilazione(area, anno, locate, rilevazione, data_riferimento)
    return [a for check in _COMPILATION_CHECKS for a in check(ctx)]
