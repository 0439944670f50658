"""The reading's shortcuts give the long way's results: the layout made column by column, the compact plan's
area shown in place instead of copied, a locked text left as written, the template's sheets made once."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.ritorni.reader import Lettura, _assign, _same
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.scheda import layout as layout_module
from seregno_xlsx.scheda import metadata
from seregno_xlsx.scheda.generation import as_shown, snapshot_for
from seregno_xlsx.scheda.layout import (
    DATA_SHEETS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    LEGEND_ROW,
    RELEASED_VERSIONS,
    TEMPLATE_VERSION,
    TITLE_ROW,
    Cell,
    Header,
    Kind,
    SheetLayout,
    cell_kind,
    display_value,
    layout,
    sheet_specs,
    title_text,
)
from seregno_xlsx.simulation import Entry, fill_workbook
from seregno_xlsx.texts import load_texts

from .test_properties_plans import plans
from .test_reading_fast_paths import _shape, _varied

if TYPE_CHECKING:
    from seregno_xlsx.texts import Testi


def _reference_layout(
    testi: Testi, header: Header, area: Area, rilevazione: Rilevazione, versione: str
) -> list[SheetLayout]:
    """``layout`` as it was written first: every cell's kind and value asked of ``cell_kind`` and
    ``display_value``, the template's sheets made again for each call."""
    number = int(versione) if versione in RELEASED_VERSIONS else int(TEMPLATE_VERSION)
    specs = [
        replace(spec, columns=tuple(c for c in spec.columns if c.since <= number))
        for spec in DATA_SHEETS
        if spec.since <= number
    ]
    sheets = []
    title = title_text(testi, header, area, rilevazione)
    for spec in specs:
        name = spec.name(testi)
        labels = [testi.label(c.label_key) for c in spec.columns]
        rows = spec.rows(area)
        sheet = SheetLayout(spec, name, title, testi.titoli.legenda, labels, rows)
        sheet.cells.append(Cell(name, TITLE_ROW, 1, title, True))
        sheet.cells.append(Cell(name, LEGEND_ROW, 1, testi.titoli.legenda, True))
        for col, label in enumerate(labels, start=1):
            sheet.cells.append(Cell(name, HEADER_ROW, col, label, True))
        for r, row in enumerate(rows, start=FIRST_DATA_ROW):
            for col, column in enumerate(spec.columns, start=1):
                kind = cell_kind(column, row)
                value = display_value(kind, column.get(row))
                sheet.cells.append(Cell(name, r, col, value, not column.is_input(rilevazione), kind, spec, column, row))
        sheets.append(sheet)
    return sheets


def _cells(sheets: list[SheetLayout]) -> list[Any]:
    """Everything a layout says, with the row keys its readers compute."""
    return [
        (
            sheet.spec,
            sheet.name,
            sheet.title,
            sheet.legend,
            sheet.labels,
            [sheet.spec.row_key(row) for row in sheet.rows],
            [
                (*cell[:6], cell.column, cell.data_row, cell.coordinate, cell.obiettivo, cell.fase)
                for cell in sheet.cells
            ],
        )
        for sheet in sheets
    ]


@given(piano=plans(), data=st.data())
@settings(max_examples=30, deadline=None)
def test_the_layout_is_the_cell_by_cell_layout(piano: Piano, data: st.DataObject) -> None:
    piano = _varied(piano, data)
    testi = load_texts()
    header = Header(piano.ente, piano.anno, piano.titolo, piano.delibera)
    for area in piano.aree:
        for rilevazione in Rilevazione:
            for versione in (*RELEASED_VERSIONS, "99", ""):
                made = layout(testi, header, area, rilevazione, versione)
                assert _cells(made) == _cells(_reference_layout(testi, header, area, rilevazione, versione))


def test_the_template_s_sheets_are_made_once_and_never_changed_by_a_caller() -> None:
    """The one cache across files: a version's sheets, keyed on the version they are made for (the
    released ones; any other text, as a hostile Metadati may hold, is the current template's)."""
    for versione in (*RELEASED_VERSIONS, "99", "", "1" * 10_000):
        first = sheet_specs(versione)
        first.clear()  # a caller's own list: the next caller's is whole
        number = int(versione) if versione in RELEASED_VERSIONS else int(TEMPLATE_VERSION)
        expected = [
            replace(spec, columns=tuple(c for c in spec.columns if c.since <= number))
            for spec in DATA_SHEETS
            if spec.since <= number
        ]
        assert sheet_specs(versione) == expected
    assert layout_module._specs_of.cache_info().currsize <= len(RELEASED_VERSIONS)


@given(piano=plans(), data=st.data())
@settings(max_examples=30, deadline=None)
def test_a_snapshot_made_in_place_is_the_snapshot_made_of_a_copy(piano: Piano, data: st.DataObject) -> None:
    """``owned``: what a compact plan's reading does with the area it was given for itself."""
    piano = _varied(piano, data)
    testi = load_texts()
    for area in piano.aree:
        for rilevazione in Rilevazione:
            copied = snapshot_for(piano, area, rilevazione, testi, None)
            own = area.model_copy(deep=True)
            in_place = snapshot_for(piano, own, rilevazione, testi, None, owned=True)
            assert in_place.area is own
            assert _shape(in_place.area) == _shape(copied.area)
            assert _shape(as_shown(area.model_copy(deep=True), rilevazione, owned=True)) == _shape(
                as_shown(area, rilevazione)
            )


@given(text=st.text(max_size=30), kind=st.sampled_from(list(Kind)), date1904=st.booleans())
def test_a_locked_text_left_as_written_is_the_same(text: str, kind: Kind, date1904: bool) -> None:
    """The reader skips ``_same`` for a text cell equal to the layout's value: ``_same`` says so too."""
    assert _same(Cell("Obiettivi", 5, 1, text, True, kind), text, date1904)


def _reading(lettura: Lettura) -> Any:
    return (
        _shape(lettura.compilata),
        _shape(lettura.metadati),
        [a.model_dump() for a in lettura.anomalie],
        lettura.valori_letti,
        lettura.posizioni,
        lettura.canonico,
    )


def test_a_compact_plan_reads_as_the_plan_and_neither_is_changed(
    scheda_reale: Path, piano: Piano, tmp_path: Path
) -> None:
    """A file with findings of every kind the cell loop makes, read with the whole plan (its area copied)
    and with the compact plan (its area shown in place): the same reading, the plans as they were."""
    filled = tmp_path / "compilata.xlsx"
    fill_workbook(
        scheda_reale,
        filled,
        [
            Entry("fasi", "Ob_Obiet093701", "data_fine_effettiva", date(2021, 6, 15)),
            Entry("fasi", "Ob_Obiet093701", "monitoraggio", "fatto"),
            Entry("indicatori", "Ob_Obiet093701", "prima_rilevazione", "forse"),
            Entry("obiettivi", "Ob_Obiet0937", "data_fine_effettiva", "31/02/2021"),
        ],
    )
    wb = openpyxl.load_workbook(filled)
    wb["Obiettivi"]["B5"] = "Un altro titolo"  # a locked text
    wb["Obiettivi"]["C5"] = 99  # a locked number
    wb["Fasi"].insert_rows(7)  # rows moved
    wb["Fasi"]["A7"] = "Ob_Estraneo"
    wb["Fasi"]["B7"] = "Ob_Estraneo01"
    path = tmp_path / "modificata.xlsx"
    wb.save(path)
    compact = PianoCompatto.from_piano(piano)
    # Taken after the compact plan is made: making it (``model_copy(update=...)``) adds «aree» to the fields
    # set the plan shares with every plan given the same fields (seen, left to the model's owner).
    before = _shape(piano)
    whole = verify_file(path, piano=piano, data_riferimento=date(2021, 7, 15))
    codes = {a.codice for a in whole.anomalie}
    assert {"cella-bloccata-modificata", "riga-spostata", "riga-estranea", "data-non-valida"} <= codes, codes
    for _ in range(2):  # the second reading of the same area: the first did not change what it is given
        assert _reading(verify_file(path, piano=compact, data_riferimento=date(2021, 7, 15))) == _reading(whole)
    assert _shape(piano) == before
    assert _shape(compact.intero()) == before


def _attempt(item: Any, name: str, value: object, assign: Any) -> Any:
    try:
        assign(item, name, value)
    except ValidationError as exc:
        return [e["type"] for e in exc.errors()]
    return None


@given(piano=plans(), data=st.data())
@settings(max_examples=30, deadline=None)
def test_an_empty_value_left_as_it_is_is_the_value_assigned(piano: Piano, data: st.DataObject) -> None:
    """``_assign`` leaves an empty value the field holds and was given: ``setattr`` would change nothing."""
    piano = _varied(piano, data)
    testi = load_texts()
    header = Header(piano.ente, piano.anno, piano.titolo, piano.delibera)
    for area in piano.aree:
        rilevazione = data.draw(st.sampled_from(list(Rilevazione)))
        ours, theirs = area.model_copy(deep=True), area.model_copy(deep=True)
        cells = [
            (sheet.spec, index, cell)
            for sheet in layout(testi, header, area, rilevazione)
            for index, row in enumerate(sheet.rows)
            for cell in sheet.cells
            if not cell.locked and cell.data_row is row
        ]
        for spec, index, cell in cells:
            assert cell.column is not None and cell.column.field is not None
            name = cell.column.field
            mine, other = spec.rows(ours)[index].item, spec.rows(theirs)[index].item
            held = getattr(mine, name)
            value = data.draw(st.sampled_from([None, "", held, 3.0, "testo"]))
            assert _attempt(mine, name, value, _assign) == _attempt(other, name, value, setattr)
        assert _shape(ours) == _shape(theirs)


def _pruned_reference(data: dict[str, Any], level: str) -> dict[str, Any]:
    added = metadata.ADDED_FIELDS[level]
    return {k: v for k, v in data.items() if not (k in added and any(v == d for d in metadata._DEFAULTS))}


@given(piano=plans(), data=st.data())
@settings(max_examples=30, deadline=None)
def test_the_fingerprint_leaves_out_the_same_defaults(piano: Piano, data: st.DataObject) -> None:
    """``_pruned`` keeps a row it has nothing to drop from as it is: the fingerprint's bytes are the same."""
    piano = _varied(piano, data)
    testi = load_texts()
    for area in piano.aree:
        snapshot = snapshot_for(piano, area, data.draw(st.sampled_from(list(Rilevazione))), testi, None)
        # Some added fields at their defaults, some not: both ways through ``_pruned``.
        for obiettivo in snapshot.area.obiettivi:
            for persona in obiettivo.risorse_umane:
                persona.quota = data.draw(st.sampled_from([None, 50.0]))
        dump = snapshot.model_dump(mode="json", exclude={"testi"})
        with patch.object(metadata, "_pruned", _pruned_reference):
            expected = metadata._JSON.dump_json(metadata._without_added_defaults(copy.deepcopy(dump)))
        assert metadata._JSON.dump_json(metadata._without_added_defaults(copy.deepcopy(dump))) == expected
