"""``importa`` against the plan in force: the next version of the plan, and last year's plan linked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.table import Table

from seregno_xlsx.cli.app import err, out, styled
from seregno_xlsx.errors import PlanError
from seregno_xlsx.piano.model import Piano, Variazione
from seregno_xlsx.piano.plan_file import read_plan, replaceable_plan
from seregno_xlsx.piano.revisions import link_previous_year, revise, with_area_codes


@dataclass
class Storia:
    """The imported plan as the next step of the year's history, and what changed."""

    piano: Piano
    variazioni: list[Variazione] = field(default_factory=list)
    rispetto_a: int | None = None  # the version the differences are against
    collegati: int | None = None  # objectives linked to last year's plan
    assegnazioni_tenute: int = 0  # assignments that kept the office's share and dates


def into_history(
    piano: Piano,
    output: Path,
    *,
    piano_attuale: Path | None,
    delibera: str | None,
    data_delibera: date | None,
    anno_precedente: Path | None,
) -> Storia:
    """The plan in force is ``piano_attuale`` or, failing that, the plan file ``output`` replaces (same
    ente and year): the import becomes its next version. Otherwise the import is a new plan (version 1)."""
    current = _current(piano, output, piano_attuale)
    if current is not None:
        revision = revise(current, piano, delibera=delibera, data_delibera=data_delibera)
        storia = Storia(
            revision.piano, revision.variazioni, current.versione, assegnazioni_tenute=revision.assegnazioni_tenute
        )
        if current.chiave_impronta and revision.piano.chiave_impronta == current.chiave_impronta:
            err.print(styled("Nota:", "yellow", "tenuta la chiave dell'impronta del piano in vigore"))
    else:
        update: dict[str, object] = {}
        if delibera is not None:
            update["delibera"] = delibera
        if data_delibera is not None:
            update["data_delibera"] = data_delibera
        storia = Storia(with_area_codes(piano).model_copy(update=update))
    if anno_precedente is not None:
        previous = read_plan(anno_precedente)
        if previous.anno >= storia.piano.anno:
            raise PlanError(
                f"{anno_precedente}: --anno-precedente vuole il piano di un anno precedente "
                f"({previous.anno}, il piano importato è del {storia.piano.anno})"
            )
        storia.piano, storia.collegati = link_previous_year(storia.piano, previous)
    return storia


def _current(piano: Piano, output: Path, given: Path | None) -> Piano | None:
    if given is not None:
        current = read_plan(given)
        if (current.ente, current.anno) != (piano.ente, piano.anno):
            raise PlanError(
                f"{given}: il piano in vigore è «{current.ente} {current.anno}», l'esportazione è "
                f"«{piano.ente} {piano.anno}»: per collegare l'anno precedente usare --anno-precedente"
            )
        return current
    return replaceable_plan(output, piano.ente, piano.anno)


def print_history(storia: Storia) -> None:
    piano = storia.piano
    delibera = f" – {piano.delibera}" if piano.delibera else ""
    if storia.rispetto_a is not None:
        if not storia.variazioni and piano.versione == storia.rispetto_a:
            out.print(f"Piano versione {piano.versione}{delibera}: nessuna variazione.", highlight=False)
        else:
            table = Table(
                title=f"Piano versione {piano.versione}{delibera}: variazioni dalla versione {storia.rispetto_a}"
            )
            for column in ("variazione", "elemento", "area", "obiettivo", "codice", "dettaglio"):
                table.add_column(column, overflow="fold")
            for v in storia.variazioni:
                table.add_row(v.tipo, v.elemento, v.area, v.obiettivo, v.codice, v.dettaglio)
            out.print(table)
    if storia.collegati is not None:
        out.print(f"Obiettivi collegati all'anno precedente: {storia.collegati}", highlight=False)
