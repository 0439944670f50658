"""The reading's shortcuts give the long way's results: the layout made column by column, the compact plan's
area shown in place instead of copied, a locked text left as written, the template's sheets made once."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seregno_xlsx.cells import column_letter
from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.reader import Lettura, _assign, _same
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.scheda import layout as layout_module
from seregno_xlsx.scheda import metadata
from seregno_xlsx.scheda.generation import as_shown, snapshot_for
from seregno_xlsx.scheda.layout import (
    DATA_SHEETS,
    FIRST_DATA_ROW,
    RELEASED_VERSIONS,
    TEMPLATE_VERSION,
    Cell,
    Header,
    Kind,
    SheetLayout,
    SheetSpec,
    cell_kind,
    display_value,
    layout,
    sheet_specs,
)
from seregno_xlsx.simulation import Entry, fill_workbook
from seregno_xlsx.texts import load_texts

from .test_properties_plans import plans
from .test_reading_fast_paths import _shape, _varied


def _uncached_specs(versione: str) -> list[SheetSpec]:
    """The template's sheets of ``versione`` made anew, as ``sheet_specs`` made them on every call."""
    number = int(versione) if versione in RELEASED_VERSIONS else int(TEMPLATE_VERSION)
    return [
        replace(spec, columns=tuple(c for c in spec.columns if c.since <= number))
        for spec in DATA_SHEETS
        if spec.since <= number
    ]


def _cell_by_cell(sheet: SheetLayout, rilevazione: Rilevazione) -> list[Cell]:
    """A sheet's data cells as ``layout`` first made them: each cell's kind and value asked of
    ``cell_kind`` and ``display_value``."""
    return [
        Cell(
            sheet.name,
            r,
            col,
            display_value(cell_kind(column, row), column.get(row)),
            not column.is_input(rilevazione),
            cell_kind(column, row),
            sheet.spec,
            column,
            row,
        )
        for r, row in enumerate(sheet.rows, start=FIRST_DATA_ROW)
        for col, column in enumerate(sheet.spec.columns, start=1)
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
                assert [sheet.spec for sheet in made] == _uncached_specs(versione)
                for sheet in made:
                    assert sheet.rows == sheet.spec.rows(area)
                    data_cells = [cell for cell in sheet.cells if cell.row >= FIRST_DATA_ROW]
                    assert data_cells == _cell_by_cell(sheet, rilevazione)
                    assert [c.coordinate for c in data_cells] == [f"{column_letter(c.col)}{c.row}" for c in data_cells]
                    # A row's key, from the getters found once, is its key columns' values as text.
                    for row in sheet.rows:
                        columns = [
                            next(c for c in sheet.spec.columns if c.label_key == k) for k in sheet.spec.key_labels
                        ]
                        assert sheet.spec.row_key(row) == tuple(str(c.get(row)) for c in columns)


def test_the_template_s_sheets_are_made_once_and_never_changed_by_a_caller() -> None:
    """The one cache across files: a version's sheets, keyed on the version they are made for (the
    released ones; any other text, as a hostile Metadati may hold, is the current template's)."""
    for versione in (*RELEASED_VERSIONS, "99", "", "1" * 10_000):
        first = sheet_specs(versione)
        first.clear()  # a caller's own list: the next caller's is whole
        assert sheet_specs(versione) == _uncached_specs(versione)
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
    before = _shape(piano)
    compact = PianoCompatto.from_piano(piano)
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
