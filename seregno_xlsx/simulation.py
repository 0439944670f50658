"""Fills a generated workbook as area staff would, for the examples, tests and benchmarks.

It writes through openpyxl into the input cells only, found by code and field
through the reader's own positions, so it never depends on fixed coordinates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from seregno_xlsx.piano.model import Area, Indicatore, Rilevazione, round_value_field
from seregno_xlsx.ritorni.reader import read_workbook


@dataclass(frozen=True)
class Entry:
    """One value typed into an input cell: sheet key, row code, model field, value."""

    sheet_key: str
    code: str
    field: str
    value: object


def fill_workbook(source: Path, target: Path, entries: list[Entry]) -> None:
    lettura = read_workbook(source)
    if lettura.metadati is None:
        raise ValueError(f"{source}: non è una scheda di seregno_xlsx")
    workbook = openpyxl.load_workbook(source)
    for entry in entries:
        sheet, cell = lettura.locate(entry.sheet_key, entry.code, entry.field)
        if not sheet:
            raise KeyError((entry.sheet_key, entry.code, entry.field))
        target_cell = workbook[sheet][cell]
        target_cell.value = entry.value
        if isinstance(entry.value, str):
            target_cell.data_type = "s"
    workbook.save(target)


def sample_entries(area: Area, rilevazione: Rilevazione, *, seed: int, anno: int) -> list[Entry]:
    """Plausible answers: some phases done (a few late), values, monitoring notes."""
    rng = random.Random(seed)
    entries: list[Entry] = []
    cutoff = date(anno, 6, 30) if rilevazione is Rilevazione.INTERMEDIA else date(anno, 12, 31)
    value_field = round_value_field(rilevazione)
    for obiettivo in area.obiettivi:
        if obiettivo.data_inizio_prevista and obiettivo.data_inizio_effettiva is None:
            entries.append(
                Entry("obiettivi", obiettivo.codice, "data_inizio_effettiva", obiettivo.data_inizio_prevista)
            )
        done = True
        for fase in obiettivo.fasi:
            start = fase.data_inizio_prevista or date(anno, 1, 1)
            end = fase.data_fine_prevista or date(anno, 12, 31)
            if start <= cutoff:
                entries.append(Entry("fasi", fase.codice, "data_inizio_effettiva", start))
            finished = end <= cutoff and rng.random() < 0.8
            if finished:
                delay = rng.choice([0, 0, 0, -10, 15])
                entries.append(
                    Entry("fasi", fase.codice, "data_fine_effettiva", min(end + timedelta(days=delay), cutoff))
                )
            done = done and finished
            note = rng.choice(
                [
                    "Attività svolta come previsto; atti approvati con determinazione dirigenziale.",
                    "In corso: raccolta dati completata all'80%, «relazione» in bozza.",
                    "Ritardo dovuto all'emergenza sanitaria; recupero previsto entro l'anno.\nSeconda riga.",
                ]
            )
            if finished or end <= cutoff:
                entries.append(Entry("fasi", fase.codice, "monitoraggio", note))
        for indicatore in obiettivo.indicatori:
            value = _value(indicatore, rng)
            if value is not None:
                entries.append(Entry("indicatori", indicatore.codice, value_field, value))
        if done and obiettivo.data_fine_prevista and obiettivo.data_fine_prevista <= cutoff:
            entries.append(Entry("obiettivi", obiettivo.codice, "data_fine_effettiva", obiettivo.data_fine_prevista))
        if rng.random() < 0.3:
            entries.append(
                Entry("obiettivi", obiettivo.codice, "note", "Nota dell'area: risorse confermate (€ 1.000).")
            )
    return entries


def _value(indicatore: Indicatore, rng: random.Random) -> object:
    if rng.random() < 0.1:
        return None
    if indicatore.si_no:
        return rng.choice(["SI", "SI", "NO"])
    target = indicatore.valore_target or 100.0
    return round(target * rng.choice([0.5, 0.8, 1.0, 1.0]), 2)
