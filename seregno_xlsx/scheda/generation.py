"""``genera``: one locked workbook per area of the plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from seregno_xlsx.atomic import output_folder
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import ascii_words, office_now
from seregno_xlsx.piano.model import Area, Piano, Rilevazione, round_value_field
from seregno_xlsx.processes import ordered_map, workers_for
from seregno_xlsx.scheda.layout import TEMPLATE_VERSION
from seregno_xlsx.scheda.metadata import Metadati
from seregno_xlsx.texts import Testi, load_texts


@dataclass(frozen=True)
class SchedaGenerata:
    area: str
    path: Path
    impronta: str


def area_slug(area: str) -> str:
    """The area's name in a file name: ASCII letters and digits, the rest one underscore."""
    return "_".join(ascii_words(area)) or "area"


def workbook_filename(anno: int, area: str, rilevazione: Rilevazione) -> str:
    """A name a person recognises in an e-mail: year, area and round, ASCII only."""
    return f"Obiettivi_{anno}_{area_slug(area)}_{rilevazione.value}.xlsx"


def code_order(codice: str) -> tuple[tuple[int, int | str], ...]:
    """Codes in natural order: Ob_SP0102 before Ob_SP0110, and «FASE 2» before «FASE 10»."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold()) for part in re.split(r"(\d+)", codice) if part
    )


def as_shown(area: Area, rilevazione: Rilevazione, *, owned: bool = False) -> Area:
    """A copy of the area as a scheda shows it: phases and indicators in code order, and mid-year
    no achieved value where nothing was measured yet (the export's 0).

    ``owned``: the area is the caller's own, held by nothing else (a compact plan's fresh area): it is
    changed in place and returned, instead of copied first.
    """
    shown = area if owned else area.model_copy(deep=True)
    for obiettivo in shown.obiettivi:
        obiettivo.fasi.sort(key=lambda f: code_order(f.codice))
        obiettivo.indicatori.sort(key=lambda i: code_order(i.codice))
        for indicatore in obiettivo.indicatori:
            if rilevazione is Rilevazione.INTERMEDIA and not indicatore.valore_raggiunto:
                indicatore.valore_raggiunto = None
    return shown


def snapshot_for(
    piano: Piano, area: Area, rilevazione: Rilevazione, testi: Testi, scadenza: date | None, *, owned: bool = False
) -> Metadati:
    """The snapshot a workbook is generated from: the round's own value starts empty.

    Phases and indicators are listed in code order. Mid-year, the achieved value (context only)
    is empty where nothing was measured yet: the export carries 0 there, which the scheda would
    show as «0,00» or «NO». ``owned``: as ``as_shown``'s (the snapshot's area is then ``area`` itself).
    """
    blank = as_shown(area, rilevazione, owned=owned)
    field = round_value_field(rilevazione)
    for obiettivo in blank.obiettivi:
        for indicatore in obiettivo.indicatori:
            setattr(indicatore, field, None)
    return Metadati(
        versione_modello=TEMPLATE_VERSION,
        ente=piano.ente,
        anno=piano.anno,
        titolo=piano.titolo,
        delibera=piano.delibera,
        area=blank,
        rilevazione=rilevazione,
        scadenza=scadenza,
        generato_il=office_now(),
        testi=testi,
        versione_piano=piano.versione,
    )


def select_areas(piano: Piano, names: Sequence[str]) -> list[Area]:
    if not names:
        return list(piano.aree)
    selected: list[Area] = []
    for name in names:
        try:
            area = piano.area(name)
        except KeyError:
            known = ", ".join(a.nome for a in piano.aree)
            raise SeregnoError(f"area «{name}» non presente nel piano (aree: {known})") from None
        if all(area is not chosen for chosen in selected):  # «--area X --area x»: one workbook, one message
            selected.append(area)
    return selected


def generate(
    piano: Piano,
    out_dir: Path,
    *,
    aree: Sequence[str] = (),
    rilevazione: Rilevazione = Rilevazione.INTERMEDIA,
    password: str | None = None,
    scadenza: date | None = None,
    testi: Testi | None = None,
    processi: int | None = 1,
) -> list[SchedaGenerata]:
    """One workbook per area; ``processi`` of them written at once (None: one per core), the same files."""
    # openpyxl is loaded here, once, before any worker starts (they inherit it), and only to write.
    from seregno_xlsx.scheda.writer import write_workbook  # noqa: F401

    testi = testi or load_texts()
    out_dir = output_folder(out_dir)
    job = _Job(piano, select_areas(piano, aree), out_dir, rilevazione, password, scadenza, testi)
    workers = workers_for(processi, len(job.areas))
    if workers == 1:
        return [job.write(i) for i in range(len(job.areas))]
    return ordered_map(_write_one, len(job.areas), workers=workers, initializer=_set_job, initargs=(job,))


@dataclass(frozen=True)
class _Job:
    piano: Piano
    areas: list[Area]
    out_dir: Path
    rilevazione: Rilevazione
    password: str | None
    scadenza: date | None
    testi: Testi

    def write(self, index: int) -> SchedaGenerata:
        from seregno_xlsx.scheda.writer import write_workbook  # openpyxl: loaded only to write

        area = self.areas[index]
        path = self.out_dir / workbook_filename(self.piano.anno, area.nome, self.rilevazione)
        snapshot = snapshot_for(self.piano, area, self.rilevazione, self.testi, self.scadenza)
        impronta = write_workbook(path, snapshot, password=self.password, key=self.piano.chiave_impronta)
        return SchedaGenerata(area.nome, path, impronta)


# The job of a worker process, set once by ``_set_job`` (the plan reaches each worker once).
_JOB: _Job | None = None


def _set_job(job: _Job) -> None:
    global _JOB
    _JOB = job


def _write_one(index: int) -> SchedaGenerata:
    assert _JOB is not None
    return _JOB.write(index)
