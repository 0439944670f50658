"""Each reader their remit (issue 16): beside the office's full master, one extract per area for its
dirigente and one without personal data for the Giunta and for publication.

An extract is the master itself, written by the same writer from the same content, filtered:
- an area's extract holds that area only (its objectives, phases, indicators, its people and their
  assignments, its findings and files); the names and matricole of everyone else are cleaned from
  every text (``master/remit.py``). A person's % there is computed on the area's objectives;
- the extract without personal data holds every area, with people as counts (per area and
  category, per objective), no findings (what an area typed in a cell stays in the office), every
  name and matricola of the plan and every name of the sign-off cleaned from every text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seregno_xlsx.atomic import output_folder
from seregno_xlsx.errors import OutputError
from seregno_xlsx.findings import Anomalia
from seregno_xlsx.master.layout import is_master_sheets
from seregno_xlsx.master.remit import Remit, people, signers
from seregno_xlsx.master.writer import Fonte, SintesiMaster
from seregno_xlsx.outputs import refuse_to_replace, short_stem
from seregno_xlsx.piano.model import Area
from seregno_xlsx.scheda.generation import area_slug

PUBLIC = "Giunta e pubblicazione"
PUBLIC_NAME = "Estratto_senza_dati_personali.xlsx"


def extract_name(area: str, taken: Collection[str] = ()) -> str:
    """``Estratto_<area>.xlsx``; two areas whose names read alike in a file name («Servizi/Persona» and
    «Servizi Persona») never share one: each dirigente gets their own extract, never the other's."""
    stem = short_stem(f"Estratto_{area_slug(area)}")
    name, n = f"{stem}.xlsx", 1
    while name.casefold() in {t.casefold() for t in taken} or name.casefold() == PUBLIC_NAME.casefold():
        n += 1
        name = f"{stem}_{n}.xlsx"
    return name


@dataclass(frozen=True)
class Estratto:
    """One extract written: who it is for (an area's dirigente, or the Giunta and publication)."""

    destinatario: str
    path: Path


def write_extracts(
    folder: Path,
    write: Callable[..., SintesiMaster],
    content: Mapping[str, Any],
    *,
    valori_letti: Mapping[str, int],
    cartella_schede: Path | None = None,
    master: Path | None = None,
) -> list[Estratto]:
    """Write the extracts into ``folder`` with ``write``: ``write_master`` with ``content``, the master's
    whole content, bound; each extract filters it (``valori_letti``: the values read per area). The folder
    of the returns is refused: the next run would read the extracts as returns."""
    aree: Sequence[Area] = content["aree"]
    anomalie: Sequence[Anomalia] = content["anomalie"]
    file_anomalie: Sequence[str] = content.get("file_anomalie", ())
    fonti: Sequence[Fonte] = content["fonti"]
    non_validi: Mapping[str, Mapping[str, float | None]] = content.get("non_validi") or {}
    folder = output_folder(folder)
    if cartella_schede is not None and _same_path(folder, cartella_schede):
        raise OutputError(f"{folder}: è la cartella delle schede lette; indicare un'altra cartella per gli estratti")
    names: list[str] = []
    for area in aree:
        names.append(extract_name(area.nome, names))
    if master is not None and any(_same_path(folder / name, master) for name in [*names, PUBLIC_NAME]):
        raise OutputError(f"{master}: il master avrebbe lo stesso nome di un estratto; indicare un'altra cartella")
    # Nothing is written until every extract's name is free or holds an earlier extract (or a master):
    # a colleague's workbook of the same name in the folder is never replaced.
    for name in [*names, PUBLIC_NAME]:
        refuse_to_replace(folder / name, is_master_sheets, what="un estratto di seregno-xlsx")
    everyone = people(aree)
    signed = signers(aree)
    done: list[Estratto] = []
    # Each area's findings by position, gathered in one pass: looking for them over every finding, area by
    # area, made each of thousands of findings again for each of thousands of areas.
    by_area: dict[str, list[int]] = {}
    for n, x in enumerate(anomalie):
        by_area.setdefault(x.area.casefold(), []).append(n)
    for area, name in zip(aree, names, strict=True):
        key = area.nome.casefold()
        mine = by_area.get(key, [])
        mine_only: dict[str, Any] = {
            "aree": [area],
            "anomalie": [anomalie[n] for n in mine],
            "file_anomalie": [file_anomalie[n] if n < len(file_anomalie) else "" for n in mine],
            "fonti": [f for f in fonti if f.area.casefold() == key],
            "aree_mancanti": [],
            "non_validi": {area.nome: non_validi.get(area.nome, {})},
            "valori_letti": valori_letti.get(area.nome, 0),
            "rettifiche": [x for x in content.get("rettifiche", ()) if x.area.nome.casefold() == key],
        }
        remit = Remit(
            f"Estratto per {area.nome}: i suoi obiettivi e il suo personale",
            omessi=(everyone - people([area])) | (signed - signers([area])),
            breve="Estratto per il dirigente",
        )
        path = folder / name
        write(path, remit=remit, **mine_only)
        done.append(Estratto(area.nome, path))
    public = Remit(
        "Estratto senza dati personali: le persone solo come conteggi",
        nominativi=False,
        omessi=everyone | signed,
        breve="Senza dati personali",
    )
    path = folder / PUBLIC_NAME
    write(path, anomalie=[], file_anomalie=[], remit=public)
    done.append(Estratto(PUBLIC, path))
    return done


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False
