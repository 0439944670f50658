"""The one description of the area workbook (the scheda di rilevazione).

Both the writer (``workbook_writer``) and the reader (``workbook_reader``) work
from :func:`layout`: sheets, columns, labels, which cells are input cells and
what every locked cell must contain.  Changing the workbook means changing
this module only, so writer and reader cannot drift apart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from itertools import repeat
from typing import NamedTuple, cast

from seregno_xlsx.cells import column_letter
from seregno_xlsx.piano.model import (
    Area,
    Compilazione,
    Fase,
    Indicatore,
    Obiettivo,
    Persona,
    Rilevazione,
    round_value_field,
)
from seregno_xlsx.texts import Testi

TEMPLATE_VERSION = "2"
# Every version of the scheda ever sent: a scheda of any of them is read with its own columns.
# 2: the indicators' «Come si misura» column (issue 11); the assignments in Personale, the Evidenza
# columns, the Compilazione sheet (issue 16).
RELEASED_VERSIONS = ("1", "2")
PRODUCT = "seregno_xlsx"
META_SHEET = "Metadati"

TITLE_ROW = 1
LEGEND_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5
# Metadati chunks stay well below the cell limit.
SNAPSHOT_CHUNK = 30_000


class Kind(StrEnum):
    TEXT = "testo"
    DATE = "data"
    NUMBER = "numero"
    INTEGER = "intero"
    SI_NO = "si_no"


Item = Obiettivo | Fase | Indicatore | Persona | Compilazione


class Row(NamedTuple):
    """One data row: the item it shows and the objective it belongs to.

    A named tuple, as ``Cell``: immutable and made in a fraction of a frozen dataclass's time (every
    scheda read or written makes a thousand cells and a hundred rows).
    """

    obiettivo: Obiettivo
    item: Item

    @property
    def fase(self) -> str:
        """The phase (and indicator) code a finding on this row names; "" for objectives and people."""
        return self.item.codice if isinstance(self.item, Fase | Indicatore) else ""


def _field(name: str) -> Callable[[Row], object]:
    # ``row.item.<name>`` in C: a getter runs for every cell of every scheda read or written.
    return operator.attrgetter(f"item.{name}")


def _people(row: Row) -> object:
    return "\n".join(f"{p.nome} ({p.matricola})" for p in row.obiettivo.risorse_umane)


@dataclass(frozen=True)
class Column:
    """A column: its label (a key of ``[etichette]``), type and where its value comes from."""

    label_key: str
    kind: Kind
    width: float
    get: Callable[[Row], object]
    # The model attribute the column shows (and an input cell writes back to).
    field: str | None = None
    input_in: frozenset[Rilevazione] = frozenset()
    wrap: bool = False
    # The first template version with this column.
    since: int = 1

    def is_input(self, rilevazione: Rilevazione) -> bool:
        return rilevazione in self.input_in


BOTH = frozenset(Rilevazione)


def _shown(label_key: str, kind: Kind, width: float, name: str) -> Column:
    """A locked column showing the plan's field ``name``."""
    return Column(label_key, kind, width, _field(name), field=name)


# Objectives and phases show their planned dates the same way.
_PLANNED_DATES = (
    _shown("data_inizio_prevista", Kind.DATE, 12, "data_inizio_prevista"),
    _shown("data_fine_prevista", Kind.DATE, 12, "data_fine_prevista"),
)


def _input(
    label_key: str,
    kind: Kind,
    width: float,
    name: str,
    rounds: frozenset[Rilevazione] = BOTH,
    wrap: bool = False,
    since: int = 1,
) -> Column:
    return Column(label_key, kind, width, _field(name), field=name, input_in=rounds, wrap=wrap, since=since)


_codice_obiettivo: Callable[[Row], object] = operator.attrgetter("obiettivo.codice")


def _measure(row: Row) -> object:
    """How the indicator is scored, in words: plan content, locked, beside the target."""
    return row.item.misura.descrizione() if isinstance(row.item, Indicatore) else ""


@dataclass(frozen=True)
class SheetSpec:
    key: str
    columns: tuple[Column, ...]
    # Columns whose values identify a row (its "code").
    key_labels: tuple[str, ...]
    rows: Callable[[Area], list[Row]]
    freeze_col: int = 2
    since: int = 1  # the first template version with this sheet

    # The getters of ``key_labels``' columns, found once (``row_key`` runs for every row of every file).
    _key_getters: tuple[Callable[[Row], object], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key_getters", tuple(self.column(k).get for k in self.key_labels))

    def name(self, testi: Testi) -> str:
        return str(getattr(testi.fogli, self.key))

    def column(self, label_key: str) -> Column:
        return next(c for c in self.columns if c.label_key == label_key)

    def row_key(self, row: Row) -> tuple[str, ...]:
        return tuple([str(get(row)) for get in self._key_getters])


# A ``Row`` made in C (the named tuple's own ``__new__`` is a Python function): a scheda read makes its rows
# four times (its layout, the compilation's, the keys of the file's and of the plan's area).
_row = cast(Callable[[tuple[Obiettivo, Item]], Row], functools.partial(tuple.__new__, Row))


def _objective_rows(area: Area) -> list[Row]:
    return [_row((o, o)) for o in area.obiettivi]


def _phase_rows(area: Area) -> list[Row]:
    return [_row((o, f)) for o in area.obiettivi for f in o.fasi]


def _indicator_rows(area: Area) -> list[Row]:
    return [_row((o, i)) for o in area.obiettivi for i in o.indicatori]


def _person_rows(area: Area) -> list[Row]:
    return [_row((o, p)) for o in area.obiettivi for p in o.risorse_umane]


OBIETTIVI = SheetSpec(
    key="obiettivi",
    key_labels=("codice",),
    rows=_objective_rows,
    columns=(
        Column("codice", Kind.TEXT, 15, _field("codice"), field="codice"),
        Column("titolo", Kind.TEXT, 40, _field("titolo"), field="titolo", wrap=True),
        Column("peso", Kind.INTEGER, 8, _field("peso"), field="peso"),
        Column("responsabile", Kind.TEXT, 16, _field("responsabile"), field="responsabile", wrap=True),
        Column("definizione", Kind.TEXT, 60, _field("definizione"), field="definizione", wrap=True),
        Column("risultato_atteso", Kind.TEXT, 40, _field("risultato_atteso"), field="risultato_atteso", wrap=True),
        Column("persone", Kind.TEXT, 28, _people, wrap=True),
        *_PLANNED_DATES,
        _input("data_inizio_effettiva", Kind.DATE, 13, "data_inizio_effettiva"),
        _input("data_fine_effettiva", Kind.DATE, 13, "data_fine_effettiva"),
        _input("note", Kind.TEXT, 45, "note", wrap=True),
    ),
)

FASI = SheetSpec(
    key="fasi",
    key_labels=("codice_fase",),
    rows=_phase_rows,
    columns=(
        Column("codice_obiettivo", Kind.TEXT, 15, _codice_obiettivo),
        Column("codice_fase", Kind.TEXT, 17, _field("codice"), field="codice"),
        Column("descrizione_fase", Kind.TEXT, 50, _field("descrizione"), field="descrizione", wrap=True),
        *_PLANNED_DATES,
        _input("fase_data_inizio_effettiva", Kind.DATE, 13, "data_inizio_effettiva"),
        _input("fase_data_fine_effettiva", Kind.DATE, 13, "data_fine_effettiva"),
        _input("monitoraggio", Kind.TEXT, 55, "monitoraggio", wrap=True),
        _input("evidenza", Kind.TEXT, 30, "evidenza", wrap=True, since=2),
    ),
    freeze_col=3,
)

INDICATORI = SheetSpec(
    key="indicatori",
    key_labels=("codice_attivita",),
    rows=_indicator_rows,
    columns=(
        Column("codice_obiettivo", Kind.TEXT, 15, _codice_obiettivo),
        Column("codice_attivita", Kind.TEXT, 17, _field("codice"), field="codice"),
        Column("descrizione_fase", Kind.TEXT, 40, _field("fase"), field="fase", wrap=True),
        Column("indicatore", Kind.TEXT, 28, _field("descrizione"), field="descrizione", wrap=True),
        Column("anno", Kind.INTEGER, 7, _field("anno"), field="anno"),
        Column("valore_target", Kind.NUMBER, 12, _field("valore_target"), field="valore_target"),
        Column("regola", Kind.TEXT, 26, _measure, wrap=True, since=2),
        _input("prima_rilevazione", Kind.NUMBER, 13, "prima_rilevazione", frozenset({Rilevazione.INTERMEDIA})),
        _input("valore_raggiunto", Kind.NUMBER, 13, "valore_raggiunto", frozenset({Rilevazione.FINALE})),
        _input("evidenza", Kind.TEXT, 30, "evidenza", wrap=True, since=2),
    ),
    freeze_col=3,
)

PERSONALE = SheetSpec(
    key="personale",
    key_labels=("codice_obiettivo", "matricola"),
    rows=_person_rows,
    columns=(
        Column("codice_obiettivo", Kind.TEXT, 15, _codice_obiettivo),
        Column("categoria", Kind.TEXT, 16, _field("categoria"), field="categoria"),
        Column("matricola", Kind.TEXT, 12, _field("matricola"), field="matricola"),
        Column("nome", Kind.TEXT, 34, _field("nome"), field="nome"),
        # The assignment as the area reports it: when the person joined and left the objective, their share.
        _input("persona_dal", Kind.DATE, 13, "dal", since=2),
        _input("persona_al", Kind.DATE, 13, "al", since=2),
        _input("quota", Kind.NUMBER, 11, "quota", since=2),
    ),
)


def _compilation_rows(area: Area) -> list[Row]:
    # One row, keyed by the area's name: a stand-in objective carries it, as every row names an objective.
    return [Row(Obiettivo(codice=area.nome, titolo="", peso=0), area.compilazione)]


COMPILAZIONE = SheetSpec(
    key="compilazione",
    key_labels=("area_compilazione",),
    rows=_compilation_rows,
    columns=(
        Column("area_compilazione", Kind.TEXT, 34, _codice_obiettivo, wrap=True),
        _input("compilata_da", Kind.TEXT, 30, "compilata_da", wrap=True),
        _input("approvata_da", Kind.TEXT, 30, "approvata_da", wrap=True),
        _input("data_approvazione", Kind.DATE, 14, "data_approvazione"),
    ),
    freeze_col=1,
    since=2,
)

DATA_SHEETS: tuple[SheetSpec, ...] = (OBIETTIVI, FASI, INDICATORI, PERSONALE, COMPILAZIONE)


# The indicator fields staff fill, one per round (1° rilevazione, valore raggiunto).
_ROUND_VALUE_FIELDS = frozenset(round_value_field(r) for r in Rilevazione)


def cell_kind(column: Column, row: Row) -> Kind:
    """SI/NO indicators take SI or NO where other indicators take a number."""
    is_value = column.field in _ROUND_VALUE_FIELDS
    if is_value and isinstance(row.item, Indicatore) and row.item.si_no:
        return Kind.SI_NO
    return column.kind


def display_value(kind: Kind, value: object) -> object:
    """The value as the cell shows it (SI/NO indicators show SI or NO)."""
    if kind is Kind.SI_NO and isinstance(value, int | float):
        return "SI" if value >= 100 else "NO" if value == 0 else value
    return value


class Cell(NamedTuple):
    """One cell of the layout, 1-based row and column (a named tuple: see ``Row``)."""

    sheet: str
    row: int
    col: int
    value: object
    locked: bool
    kind: Kind = Kind.TEXT
    spec: SheetSpec | None = None
    column: Column | None = None
    data_row: Row | None = None

    @property
    def obiettivo(self) -> str:
        return self.data_row.obiettivo.codice if self.data_row else ""

    @property
    def fase(self) -> str:
        return self.data_row.fase if self.data_row else ""

    @property
    def coordinate(self) -> str:
        return f"{column_letter(self.col)}{self.row}"


# A ``Cell`` of all its fields, made in C: the named tuple's own ``__new__`` is a Python function, called for
# every cell of every scheda read (a thousand each).
_cell = cast(Callable[[tuple[object, ...]], Cell], functools.partial(tuple.__new__, Cell))


@dataclass
class SheetLayout:
    spec: SheetSpec
    name: str
    title: str
    legend: str
    labels: list[str]
    rows: list[Row]
    cells: list[Cell] = field(default_factory=list)

    def row_cells(self, index: int) -> list[Cell]:
        """The cells of data row ``index`` (0 the first), in column order: ``layout`` makes the title, legend
        and header cells, then each row's cells in column order, one per column."""
        width = len(self.spec.columns)
        start = len(self.cells) - (len(self.rows) - index) * width
        return self.cells[start : start + width]


@dataclass(frozen=True)
class Header:
    """What identifies a plan: the parts of the Piano that are not areas."""

    ente: str
    anno: int
    titolo: str
    delibera: str

    @property
    def piano_id(self) -> str:
        text = json.dumps([self.ente, self.anno, self.titolo, self.delibera], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def title_text(testi: Testi, header: Header, area: Area, rilevazione: Rilevazione) -> str:
    """The office's template (``modelli/``) filled with plain texts: never a template from a workbook."""
    return testi.titoli.scheda.format(
        ente=header.ente, anno=str(header.anno), area=area.nome, rilevazione=rilevazione.value
    )


def sheet_specs(versione: str = TEMPLATE_VERSION) -> list[SheetSpec]:
    """The data sheets of a template version, each with the columns that version has."""
    return list(_specs_of(int(versione) if versione in RELEASED_VERSIONS else int(TEMPLATE_VERSION)))


@functools.cache  # one entry per released version: the specs are immutable and made from constants only
def _specs_of(number: int) -> tuple[SheetSpec, ...]:
    return tuple(
        replace(spec, columns=tuple(c for c in spec.columns if c.since <= number))
        for spec in DATA_SHEETS
        if spec.since <= number
    )


def layout(
    testi: Testi, header: Header, area: Area, rilevazione: Rilevazione, versione: str = TEMPLATE_VERSION
) -> list[SheetLayout]:
    """Every data sheet with every cell it holds, in order, as the scheda of ``versione`` has them."""
    sheets = []
    title = title_text(testi, header, area, rilevazione)
    for spec in sheet_specs(versione):
        name = spec.name(testi)
        labels = [testi.label(c.label_key) for c in spec.columns]
        rows = spec.rows(area)
        sheet = SheetLayout(spec, name, title, testi.titoli.legenda, labels, rows)
        sheet.cells.append(Cell(name, TITLE_ROW, 1, title, True))
        sheet.cells.append(Cell(name, LEGEND_ROW, 1, testi.titoli.legenda, True))
        for col, label in enumerate(labels, start=1):
            sheet.cells.append(Cell(name, HEADER_ROW, col, label, True))
        # Per column, what does not depend on the row: only a round's value column has a kind (and a value
        # shown) of its row's own; every other column's cells have its kind and show the value as it is.
        # A row's cells are then made in C (``zip`` of the columns' own and the row's values, ``_cell``).
        columns = spec.columns
        getters = [column.get for column in columns]
        numbers = range(1, len(columns) + 1)
        locked = [not column.is_input(rilevazione) for column in columns]
        kinds = [column.kind for column in columns]
        values_at = [i for i, column in enumerate(columns) if column.field in _ROUND_VALUE_FIELDS]
        cells = sheet.cells
        for r, row in enumerate(rows, start=FIRST_DATA_ROW):
            values = [get(row) for get in getters]
            row_kinds = kinds
            if values_at:
                row_kinds = kinds.copy()
                for i in values_at:
                    row_kinds[i] = kind = cell_kind(columns[i], row)
                    values[i] = display_value(kind, values[i])
            made = zip(repeat(name), repeat(r), numbers, values, locked, row_kinds, repeat(spec), columns, repeat(row))
            cells.extend(map(_cell, made))
        sheets.append(sheet)
    return sheets


def locked_cells(sheets: list[SheetLayout]) -> Iterator[Cell]:
    for sheet in sheets:
        yield from (c for c in sheet.cells if c.locked)


def canonical(value: object) -> str:
    """A value as text, equal for equal values however a client stored them."""
    if type(value) is str:  # the usual value (codes, labels), asked first
        return value.replace("\r\n", "\n").strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, int | float):
        number = float(value)
        return str(int(number)) if number.is_integer() else format(number, ".10g")
    return str(value).replace("\r\n", "\n").strip()


def fingerprint(sheets: list[SheetLayout]) -> str:
    """SHA-256 of every locked cell: position and canonical content."""
    items = [[c.sheet, c.coordinate, canonical(c.value)] for c in locked_cells(sheets)]
    payload = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
