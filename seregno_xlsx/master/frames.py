"""The consolidation as tidy pandas DataFrames, for analysts; and the master read back into the same frames.

One row per indicator, objective, area, person and finding; columns named by key (``area``,
``obiettivo``, ``pct``...), the same whether the frames come from :func:`frames` (a consolidation
just run) or from :func:`read_master` (a master workbook written earlier, read from its cached
values). A percentage is a fraction (0.8 = 80%); one that does not count is NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.master import layout
from seregno_xlsx.master.consolidation import Consolidamento
from seregno_xlsx.master.scoring import (
    assigned_pct,
    counts,
    indicator_pct,
    indicator_weight,
    objective_pct,
    objectives_pct,
)
from seregno_xlsx.piano.assegnazioni import assignments

INDICATORI = [
    "area",
    "obiettivo",
    "indicatore",
    "descrizione",
    "si_no",
    "peso",
    "valore_target",
    "prima_rilevazione",
    "valore_raggiunto",
    "pct",
]
OBIETTIVI = ["area", "obiettivo", "titolo", "peso", "indicatori", "pct"]
AREE = ["area", "obiettivi", "fasi_concluse", "fasi_in_ritardo", "fasi_scadute", "indicatori_senza_valore", "pct"]
PERSONE = ["matricola", "nome", "categoria", "obiettivi", "pct"]
ANOMALIE = ["codice", "gravita", "area", "obiettivo", "fase", "foglio", "cella", "messaggio"]

# The master's sheet and column keys (master/layout.py) for each frame's columns, in the same order;
# the anomalies' sheet and cell are read back from the master's «Dove» (file › foglio › cella).
_MASTER: dict[str, tuple[layout.Sheet, list[str]]] = {
    "indicatori": (
        layout.INDICATORI,
        [
            "area",
            "codice_obiettivo",
            "codice",
            "indicatore",
            "si_no",
            "peso",
            "valore_target",
            "prima_rilevazione",
            "valore_raggiunto",
            "pct",
        ],
    ),
    "obiettivi": (layout.OBIETTIVI, ["area", "codice", "titolo", "peso", "n_indicatori", "pct"]),
    "aree": (
        layout.RIEPILOGO,
        [
            "area",
            "obiettivi",
            "fasi_concluse",
            "fasi_in_ritardo",
            "fasi_scadute",
            "indicatori_senza_valore",
            "pct",
        ],
    ),
    "persone": (layout.PERSONALE, ["matricola", "nome", "categoria", "n_obiettivi", "pct"]),
    "anomalie": (layout.ANOMALIE, ["codice", "gravita", "area", "obiettivo", "fase", "dove", "dove", "messaggio"]),
}
_CELL_REF = re.compile(r"^\$?[A-Z]{1,3}\$?[0-9]+$")


def _sheet_and_cell(dove: object) -> tuple[str, str]:
    """The sheet and cell of a master «Dove» value: «file › foglio › cella», «foglio › cella» or «foglio»."""
    if not isinstance(dove, str) or not dove:
        return "", ""
    parts = dove.split(" › ")
    if len(parts) >= 3:
        return parts[-2], parts[-1]
    if len(parts) == 2:
        return (parts[0], parts[1]) if _CELL_REF.match(parts[1]) else (parts[1], "")
    return parts[0], ""


_COLUMNS = {
    "indicatori": INDICATORI,
    "obiettivi": OBIETTIVI,
    "aree": AREE,
    "persone": PERSONE,
    "anomalie": ANOMALIE,
}
_TEXT = {"area", "obiettivo", "indicatore", "descrizione", "titolo", "matricola", "nome", "categoria", *ANOMALIE}


@dataclass(frozen=True)
class Tabelle:
    """The five tidy frames of a consolidation."""

    indicatori: pd.DataFrame
    obiettivi: pd.DataFrame
    aree: pd.DataFrame
    persone: pd.DataFrame
    anomalie: pd.DataFrame


def frames(consolidamento: Consolidamento) -> Tabelle:
    """The frames of a consolidation just run (empty frames if no master was written)."""
    c = consolidamento
    ril, regole = c.rilevazione, c.regole
    indicatori: list[list[object]] = []
    obiettivi: list[list[object]] = []
    aree: list[list[object]] = []
    persone: list[list[object]] = []
    people: dict[str, tuple[str, str]] = {}
    for area in c.aree:
        for ob in area.obiettivi:
            obiettivi.append(
                [area.nome, ob.codice, ob.titolo, ob.peso, len(ob.indicatori), objective_pct(ob, ril, regole)]
            )
            for ind in ob.indicatori:
                indicatori.append(
                    [
                        area.nome,
                        ob.codice,
                        ind.codice,
                        ind.descrizione,
                        "SI/NO" if ind.si_no else "",
                        indicator_weight(ind, ob),
                        ind.valore_target,
                        ind.prima_rilevazione,
                        ind.valore_raggiunto,
                        indicator_pct(ind, ril, regole),
                    ]
                )
            for persona in ob.risorse_umane:
                people.setdefault(persona.matricola, (persona.nome, persona.categoria))
        conteggi = counts(area, ril, c.data_riferimento or date.today(), c.non_validi.get(area.nome, set()))
        aree.append(
            [
                area.nome,
                conteggi.obiettivi,
                conteggi.fasi_concluse,
                conteggi.fasi_in_ritardo,
                conteggi.fasi_scadute,
                conteggi.indicatori_senza_valore,
                objectives_pct(area.obiettivi, ril, regole),
            ]
        )
    every = assignments(c.aree)  # once: person_pct would gather every area's again for each person
    for matricola, (nome, categoria) in people.items():
        assigned = every.get(matricola.strip(), [])  # one per objective, as assigned_objectives counts
        persone.append([matricola, nome, categoria, len(assigned), assigned_pct(assigned, ril, regole, c.anno)])
    anomalie: list[list[object]] = [
        [a.codice, a.gravita.value, a.area, a.obiettivo, a.fase, a.foglio, a.cella, a.messaggio] for a in c.anomalie
    ]
    rows: dict[str, list[list[object]]] = {
        "indicatori": indicatori,
        "obiettivi": obiettivi,
        "aree": aree,
        "persone": persone,
        "anomalie": anomalie,
    }
    return Tabelle(**{name: _tidy(pd.DataFrame(rows[name], columns=cols)) for name, cols in _COLUMNS.items()})


def read_master(path: Path) -> Tabelle:
    """The frames of a master workbook written by ``consolida`` (its cached values, no recalculation)."""
    try:
        sheets = pd.read_excel(Path(path), sheet_name=None, engine="openpyxl", dtype=object)
    except FileNotFoundError:
        raise SeregnoError(f"{path}: master non trovato") from None
    except Exception as exc:  # openpyxl and zipfile raise many kinds of errors on a damaged file
        raise SeregnoError(f"{path}: non è una cartella di lavoro leggibile ({type(exc).__name__})") from None
    found: dict[str, pd.DataFrame] = {}
    for name, (sheet, keys) in _MASTER.items():
        headers = [sheet.columns[sheet.index(key)].header for key in dict.fromkeys(keys)]
        table = sheets.get(sheet.name)
        if table is not None and sheet.header_row:
            table = table.iloc[sheet.header_row - 1 :]
            table.columns = pd.Index([str(v) for v in table.iloc[0]])
            table = table.iloc[1:]
        missing = [h for h in headers if table is None or h not in table.columns]
        if table is None or missing:
            what = missing[0] if missing else headers[0]
            raise SeregnoError(
                f"{path}: non è un master di seregno-xlsx (foglio «{sheet.name}»: manca la colonna «{what}»)"
            )
        frame = table[headers].copy()
        if name == "anomalie":
            where = [_sheet_and_cell(v) for v in frame[headers[5]]]
            frame = frame.drop(columns=[headers[5]])
            frame.insert(5, "foglio", [w[0] for w in where])
            frame.insert(6, "cella", [w[1] for w in where])
        frame.columns = pd.Index(_COLUMNS[name])
        found[name] = frame.dropna(how="all")
    # Below its table, the summary sheet explains the rules: only the areas' rows are data.
    found["aree"] = found["aree"][found["aree"]["area"].isin(set(found["obiettivi"]["area"]))]
    return Tabelle(**{name: _tidy(frame) for name, frame in found.items()})


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Text as text ("" when empty), every other column as numbers (NaN when empty)."""
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if column in _TEXT or column == "si_no":
            frame[column] = frame[column].map(lambda v: "" if v is None or v != v else str(v)).astype(object)
        else:
            frame[column] = pd.to_numeric(frame[column].map(lambda v: None if v == "" else v), errors="coerce")
    return frame
