"""Reads a returned workbook back into a compilation, whatever the client did to it.

The workbook is recognised by its metadata; its expected content is rebuilt
from the snapshot with the same :func:`scheda.layout` the writer used. Rows are
found by their codes and columns by their labels, never by fixed positions, so
inserted rows or moved columns are reported and still read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, MutableSequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from seregno_xlsx.atomic import os_reason
from seregno_xlsx.cells import column_letter
from seregno_xlsx.files import on_office_clock
from seregno_xlsx.findings import Anomalia, finding, has_errors
from seregno_xlsx.piano.assegnazioni import known_matricole
from seregno_xlsx.piano.compatto import PianoCompatto
from seregno_xlsx.piano.model import Area, Piano
from seregno_xlsx.ritorni.bounds import UnreadableFile
from seregno_xlsx.ritorni.grid import Grid, SparseRows
from seregno_xlsx.ritorni.values import Problem, is_blank, parse_date, parse_number, parse_si_no, parse_text
from seregno_xlsx.ritorni.workbook_file import open_grid
from seregno_xlsx.scheda.generation import as_shown, snapshot_for, workbook_filename
from seregno_xlsx.scheda.layout import (
    DATA_SHEETS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    LEGEND_ROW,
    META_SHEET,
    RELEASED_VERSIONS,
    TEMPLATE_VERSION,
    TITLE_ROW,
    Cell,
    Header,
    Kind,
    Row,
    SheetLayout,
    canonical,
    layout,
)
from seregno_xlsx.scheda.metadata import KEY_PRODUCT, MetadataError, Metadati, fingerprint_matches, parse_metadata
from seregno_xlsx.texts import Testi, load_texts, reading_texts

Position = tuple[str, str]
# (sheet key, row code, model field) -> (sheet name, A1 cell) in the returned workbook.
Positions = dict[tuple[str, str, str], Position]


class EsitoLettura(StrEnum):
    """The verdict on one file read."""

    CONFORME = "conforme"
    CON_AVVISI = "con avvisi"
    CON_ERRORI = "con errori"
    NON_LEGGIBILE = "non leggibile"


@dataclass
class Lettura:
    """What reading one file gave: the compilation (if any) and the findings."""

    file: Path
    sha256: str = ""
    metadati: Metadati | None = None
    compilata: Area | None = None
    # A list while the file is read; kept for a run, compressed (``ritorni/pool.slim``).
    anomalie: MutableSequence[Anomalia] = field(default_factory=list)
    valori_letti: int = 0
    posizioni: Positions = field(default_factory=dict)
    # Cells of the returned workbook -> the same cells in a freshly generated one.
    canonico: dict[Position, Position] = field(default_factory=dict)
    formato: str = ""
    compilato_il: datetime | None = None
    # When the office received it: the file's time in the returns folder (raccogli sets it).
    ricevuto_il: datetime | None = None
    # The grid read, for checks on what values alone do not show (formulas, merges, error cells).
    griglia: Grid | None = field(default=None, repr=False)
    # The file's sheets in order: kept when the grid is let go (what a file is, e.g. one of our masters).
    fogli: tuple[str, ...] = ()
    # The fingerprint stored in the file and the sheet it was read from.
    impronta: str = ""
    foglio_metadati: str = ""
    # The file was generated with the office's current titles, so its title rows can be compared.
    titoli_confrontabili: bool = True

    @property
    def area(self) -> str:
        return self.metadati.area.nome if self.metadati else ""

    @property
    def leggibile(self) -> bool:
        return self.compilata is not None

    @property
    def esito(self) -> EsitoLettura:
        if not self.leggibile:
            return EsitoLettura.NON_LEGGIBILE
        if has_errors(self.anomalie):
            return EsitoLettura.CON_ERRORI
        return EsitoLettura.CON_AVVISI if self.anomalie else EsitoLettura.CONFORME

    def locate(self, sheet_key: str, code: str, field_name: str) -> Position:
        return self.posizioni.get((sheet_key, code, field_name), ("", ""))


def read_workbook(
    path: Path,
    *,
    piano: Piano | PianoCompatto | None = None,
    password: str | None = None,
    testi: Testi | None = None,
) -> Lettura:
    """``password`` is the password to open an encrypted workbook (not the sheets' protection).

    ``testi`` are the office's texts (``modelli/``, by default): the reader never takes a text from the
    file. Whatever goes wrong inside one file (an exception of any kind, a bound) is a finding on that
    file, never the end of the run.
    """
    path = Path(path)
    lettura = Lettura(file=path)
    try:
        _read(path, lettura, piano, password, testi or _office_texts())
    except RecursionError as exc:  # pragma: no cover - bounded before; the last line of defence
        unreadable(lettura, exc)
    except Exception as exc:  # a failure inside one file is that file's finding, never everyone's
        unreadable(lettura, exc)
    return lettura


def unreadable(lettura: Lettura, exc: BaseException) -> None:
    """Whatever went wrong inside one file: that file is excluded, with a finding saying so."""
    lettura.compilata = None
    lettura.anomalie.append(
        finding(
            "file-illeggibile",
            f"errore imprevisto nella lettura ({type(exc).__name__}): il file è escluso, gli altri sono letti",
            area=lettura.area,
            valore=lettura.file.name,
        )
    )


@functools.cache
def _office_texts() -> Testi:
    return load_texts()


def _read(path: Path, lettura: Lettura, plan: Piano | PianoCompatto | None, password: str | None, testi: Testi) -> None:
    try:
        grid = open_grid(path, password=password)
    except UnreadableFile as exc:
        lettura.anomalie.append(
            finding(exc.codice, exc.dettaglio, foglio=exc.foglio, cella=exc.cella, valore=path.name)
        )
        return
    except OSError as exc:
        lettura.anomalie.append(finding("file-illeggibile", f"impossibile aprire il file ({os_reason(exc)})"))
        return
    # The hash of the very bytes parsed, not of the file read again (it may have changed meanwhile).
    lettura.sha256 = grid.sha256
    lettura.formato = grid.format
    lettura.griglia = grid
    lettura.fogli = tuple(grid.sheets)
    lettura.compilato_il = grid.modified or on_office_clock(grid.mtime)
    # On the office's clock, as «raccogli» named the file: the name and the reason a reply won agree.
    lettura.ricevuto_il = on_office_clock(grid.mtime)
    if grid.has_macros or grid.active_content:
        what = ", ".join(grid.active_content) or "progetto VBA"
        lettura.anomalie.append(finding("macro-presenti", f"il file contiene: {what}", valore=path.name))
    recognised = _recognise(grid, lettura, testi)
    if recognised is None:
        return
    snapshot, stored = recognised
    # A compact plan gives this scheda's area only, as models of its own; its people by matricola.
    known = plan.matricole if isinstance(plan, PianoCompatto) else None
    piano = plan.per_area(snapshot.area) if isinstance(plan, PianoCompatto) else plan
    lettura.metadati = snapshot
    lettura.impronta = stored
    area = snapshot.area.nome
    if snapshot.versione_modello not in RELEASED_VERSIONS:
        lettura.anomalie.append(
            finding(
                "versione-modello-diversa",
                f"versione del modello {snapshot.versione_modello}, attesa {TEMPLATE_VERSION}",
                area=area,
                valore=snapshot.versione_modello,
            )
        )
    _check_file_name(path, snapshot, lettura)
    # The file's layout and the plan's snapshot are built once and shared by every check below. A compact
    # plan's area is this reading's own (``per_area`` made it for it): the snapshot is made of it in place.
    expected = _plan_snapshot(snapshot, piano, owned=isinstance(plan, PianoCompatto))
    # Whether the file's area is the plan's (the usual case): asked once, for both checks below.
    same = expected is not None and snapshot.area == expected.area
    authority = _authenticate(snapshot, stored, piano, lettura, expected, same_area=same)
    sheets = layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione, snapshot.versione_modello)
    # Compared before the reading fills the values in: the plan's area (``expected``'s own fresh copy,
    # referenced nowhere else) is then filled in place instead of copied once more.
    plan_findings = (
        compare_with_plan(snapshot, piano, expected=expected, in_file=sheets, same_area=same)
        if piano is not None
        else []
    )
    compiled = authority or snapshot.area
    if expected is None or compiled is not expected.area:
        compiled = compiled.model_copy(deep=True)
    reader = _SheetReader(grid, snapshot, compiled, lettura, sheets)
    reader.people_from = piano.aree if piano is not None else [snapshot.area]
    reader.known = known
    for sheet in sheets:
        reader.read(sheet)
    lettura.anomalie.extend(reader.unexpected_sheets())
    lettura.compilata = compiled
    lettura.anomalie.extend(structure_findings(lettura, sheets))
    lettura.anomalie.extend(plan_findings)
    # The grid is not needed any more: a run over many files holds only what was read from each.
    lettura.griglia = None
    cap_findings(lettura)


# Findings of one code in one file beyond which the rest are counted, not listed: a file pasted with
# 90,000 foreign rows is described by a few hundred lines and a count, in bounded time and memory.
MAX_FINDINGS_PER_CODE = 200


def cap_findings(lettura: Lettura) -> None:
    """Keep at most ``MAX_FINDINGS_PER_CODE`` findings of each code, and say how many more there were."""
    counts: dict[str, int] = {}
    kept: list[Anomalia] = []
    for anomalia in lettura.anomalie:
        counts[anomalia.codice] = counts.get(anomalia.codice, 0) + 1
        if counts[anomalia.codice] <= MAX_FINDINGS_PER_CODE or anomalia.codice == "anomalie-omesse":
            kept.append(anomalia)
    for codice, count in counts.items():
        if count > MAX_FINDINGS_PER_CODE and codice != "anomalie-omesse":
            kept.append(
                finding(
                    "anomalie-omesse",
                    f"altre {count - MAX_FINDINGS_PER_CODE} anomalie «{codice}» in questo file non sono elencate "
                    f"(elencate le prime {MAX_FINDINGS_PER_CODE})",
                    area=lettura.area,
                    valore=codice,
                )
            )
    lettura.anomalie[:] = kept


def _recognise(grid: Grid, lettura: Lettura, testi: Testi) -> tuple[Metadati, str] | None:
    sheet = META_SHEET if META_SHEET in grid.sheets else None
    if sheet is None:
        # A renamed metadata sheet is still found by its first key.
        sheet = next((n for n, rows in grid.sheets.items() if rows and rows[0][:1] == [KEY_PRODUCT]), None)
    if sheet is None:
        lettura.anomalie.append(
            finding(
                "file-non-riconosciuto",
                "manca il foglio «Metadati» che identifica la scheda",
                valore=lettura.file.name,
            )
        )
        return None
    lettura.foglio_metadati = sheet
    pairs = {str(row[0]).strip()[:50]: str(row[1]) for row in grid.sheets[sheet][:1_000] if len(row) >= 2 and row[0]}
    try:
        snapshot, stored = parse_metadata(pairs)
    except MetadataError as exc:
        codice = "file-non-riconosciuto" if KEY_PRODUCT in str(exc) else "metadati-alterati"
        lettura.anomalie.append(finding(codice, str(exc), foglio=sheet, valore=lettura.file.name))
        return None
    # The file's texts are data: only plain sheet names and labels are kept to find its columns; every
    # other text (titles, instructions, messages) is the office's own, and never used as a template.
    lettura.titoli_confrontabili = snapshot.testi.titoli == testi.titoli
    return snapshot.model_copy(update={"testi": reading_texts(testi, snapshot.testi)}), stored


def _plan_snapshot(snapshot: Metadati, piano: Piano | None, *, owned: bool = False) -> Metadati | None:
    """What the plan would generate for this scheda's area and round; None without plan, area or header.

    ``owned``: the plan's areas are this reading's own, referenced nowhere else: the snapshot's area is
    the plan's, put in the scheda's order in place (``as_shown``), not a copy of it.
    """
    if piano is None or Header(piano.ente, piano.anno, piano.titolo, piano.delibera) != snapshot.header:
        return None
    try:
        plan_area = piano.area_of(snapshot.area)  # as _authenticate and compare_with_plan find it
    except KeyError:
        return None
    return snapshot_for(piano, plan_area, snapshot.rilevazione, snapshot.testi, snapshot.scadenza, owned=owned)


def _authenticate(
    snapshot: Metadati,
    stored: str,
    piano: Piano | None,
    lettura: Lettura,
    expected: Metadati | None = None,
    *,
    same_area: bool = False,
) -> Area | None:
    """Check the fingerprint with the plan's key; the plan's area when its locked content is to be used.

    ``same_area``: the caller found the snapshot's area equal to ``expected``'s (its rows then are too).

    Without the plan nothing proves the locked content is the office's: the file is never «conforme».
    With the plan, a fingerprint that does not match rejects the file, and the locked values come from
    the plan (when the plan still has the scheda's rows), never from the file.
    """
    area = snapshot.area.nome
    where = {"area": area, "foglio": lettura.foglio_metadati}
    if piano is None:
        lettura.anomalie.append(
            finding(
                "impronta-non-verificabile",
                "senza il piano non si può verificare che il contenuto protetto sia quello inviato",
                **where,
            )
        )
        return None
    older = older_version(snapshot, piano)
    if Header(piano.ente, piano.anno, piano.titolo, piano.delibera) != snapshot.header and not older:
        return None  # compare_with_plan says «piano-diverso»
    try:
        plan_area = piano.area_of(snapshot.area)
    except KeyError:
        if not older:
            return None  # compare_with_plan says «area-non-nel-piano»
        plan_area = snapshot.area
    if piano.chiave_impronta is None:
        lettura.anomalie.append(
            finding(
                "impronta-non-verificabile",
                "il piano non contiene la chiave dell'impronta (creato con una versione precedente): "
                "si usano comunque i valori protetti del piano",
                **where,
            )
        )
    elif not fingerprint_matches(snapshot, piano.chiave_impronta, stored):
        lettura.anomalie.append(
            finding(
                "metadati-alterati",
                "l'impronta non corrisponde: il contenuto protetto o i dati della scheda sono stati modificati",
                valore=stored[:16],
                **where,
            )
        )
    if older:
        return None  # read against the version it names (compare_with_plan says so)
    if expected is None:
        expected = snapshot_for(piano, plan_area, snapshot.rilevazione, snapshot.testi, snapshot.scadenza)
    authority = expected.area
    if not same_area and _row_keys(authority) != _row_keys(snapshot.area):
        return None  # another version of the plan: compare_with_plan lists the differences
    return authority


def _row_keys(area: Area) -> list[list[tuple[str, ...]]]:
    return [[spec.row_key(row) for row in spec.rows(area)] for spec in DATA_SHEETS]


_FILE_NAME = re.compile(r"^Obiettivi_(\d{4})_(.+)_(intermedia|finale)$")


def _check_file_name(path: Path, snapshot: Metadati, lettura: Lettura) -> None:
    match = _FILE_NAME.match(path.stem)
    if not match:
        return
    expected = Path(workbook_filename(snapshot.anno, snapshot.area.nome, snapshot.rilevazione)).stem
    if _FILE_NAME.match(expected) and match.group(2) != _FILE_NAME.match(expected).group(2):  # type: ignore[union-attr]
        lettura.anomalie.append(
            finding(
                "nome-file-area-diversa",
                f"il file si chiama «{path.name}» ma la scheda è dell'area «{snapshot.area.nome}»",
                area=snapshot.area.nome,
                valore=path.name,
            )
        )


class _SheetReader:
    """Reads one data sheet: finds header, rows by code, compares locked cells, parses inputs."""

    def __init__(
        self, grid: Grid, snapshot: Metadati, compiled: Area, lettura: Lettura, sheets: list[SheetLayout]
    ) -> None:
        self.grid = grid
        self.sheets = sheets
        self.metadati = snapshot
        self.compiled = compiled
        self.lettura = lettura
        self.area = snapshot.area.nome
        self.used = {META_SHEET, lettura.foglio_metadati, snapshot.testi.fogli.istruzioni}
        # The people the plan knows: a Personale row naming anyone else is a person to add to the plan.
        # Gathered from these areas only when a row the scheda does not have turns up (most files have
        # none: every plan's people for every one of thousands of files would cost quadratic time).
        self.people_from: list[Area] = []
        self._matricole: set[str] | None = None
        # Every matricola of the plan, when a compact plan gathered them once for all files.
        self.known: frozenset[str] | None = None

    @property
    def matricole(self) -> AbstractSet[str]:
        if self.known is not None:
            return self.known
        if self._matricole is None:
            self._matricole = known_matricole(self.people_from)
        return self._matricole

    def _add(self, codice: str, dettaglio: str, **where: object) -> None:
        self.lettura.anomalie.append(finding(codice, dettaglio, area=self.area, **where))  # type: ignore[arg-type]

    def read(self, sheet: SheetLayout) -> None:
        actual = self._find_sheet(sheet)
        if actual is None:
            return
        self.used.add(actual)
        header_row = self._find_header(sheet, actual)
        if header_row is None:
            return
        columns = self._map_columns(sheet, actual, header_row)
        offset = header_row - HEADER_ROW
        self._compare_titles(sheet, actual, offset)
        found = self._rows_by_key(sheet, actual, header_row, columns)
        compiled_rows = sheet.spec.rows(self.compiled)
        moved_reported = False
        # Per cell below, only lookups: per column its letters (in the file, in ours), the field it fills
        # and where the file has it; the sheet's error cells and the maps, taken once. A row's cells of the
        # layout are a slice of its cells (``SheetLayout.row_cells``).
        width = len(sheet.spec.columns)
        in_files = columns[:width]
        file_letters = [_letter(col) for col in in_files]
        our_letters = [_letter(col) for col in range(1, width + 1)]
        fields = [column.field for column in sheet.spec.columns]
        with_field = [(i, name) for i, name in enumerate(fields) if name]
        error_cells = self.grid.errors.get(actual, {})
        canonico, posizioni = self.lettura.canonico, self.lettura.posizioni
        rows_in_file = self.grid.sheets[actual]
        dense = not isinstance(rows_in_file, SparseRows)
        sheet_key, sheet_name, row_key = sheet.spec.key, sheet.name, sheet.spec.row_key
        for index, (row, compiled_row) in enumerate(zip(sheet.rows, compiled_rows, strict=True)):
            key = row_key(row)
            expected_row = FIRST_DATA_ROW + index
            code = key[0] if len(key) == 1 else "/".join(key)
            if key not in found:
                self._add(
                    "riga-mancante",
                    f"nel foglio non c'è più la riga con codice {code}",
                    obiettivo=row.obiettivo.codice,
                    fase=_item_code(row.item) if row.item is not row.obiettivo else "",
                    foglio=actual,
                    cella=f"A{expected_row + offset}",
                    valore=code,
                )
                continue
            actual_row = found.pop(key)
            if actual_row != expected_row + offset and not moved_reported:
                moved_reported = True
                self._add(
                    "riga-spostata",
                    f"la riga del codice {code} è alla riga {actual_row} invece che alla {expected_row}",
                    foglio=actual,
                    cella=f"A{actual_row}",
                    valore=code,
                )
            # ``Grid.value`` of this row's cells: a dense sheet's row is taken once (``_rows_by_key`` found
            # the row among the sheet's rows); a sparse sheet's cells are looked up one by one, as there.
            line = rows_in_file[actual_row - 1] if dense else None
            in_row, ours = str(actual_row), str(expected_row)
            # Where each of the row's cells is in the file, and (``canonico``) in ours: its ``cell.coordinate``.
            wheres = [(actual, letter + in_row) for letter in file_letters]
            canonico.update(zip(wheres, [(sheet_name, letter + ours) for letter in our_letters], strict=True))
            posizioni.update([((sheet_key, code, name), wheres[i]) for i, name in with_field])
            cells = zip(wheres, in_files, fields, sheet.row_cells(index), strict=True)
            for where, in_file, field_name, cell in cells:
                if line is not None:
                    raw = line[in_file - 1] if in_file <= len(line) else None
                else:
                    raw = self.grid.value(actual, actual_row, in_file)
                blank = raw is None or (isinstance(raw, str) and not raw.strip())  # is_blank
                if blank and error_cells:
                    # calamine reads an error cell as empty: the error must not pass for "not filled".
                    raw = error_cells.get(where[1], raw)
                    blank = is_blank(raw)
                if cell.locked:
                    if type(raw) is str and raw == cell.value:
                        continue  # the text left as written (the usual case): ``_same`` would say so
                    if blank and cell.value is None:
                        continue  # an empty cell left empty: ``_same`` would say so
                    self._compare_locked(cell, raw, where, row)
                elif blank and field_name:
                    # What ``_read_input`` makes of an empty cell: no value, never a problem.
                    _assign(compiled_row.item, field_name, _EMPTY[cell.kind])
                else:
                    self._read_input(cell, raw, where, compiled_row)
        for key, actual_row in found.items():
            if sheet.spec.key == "personale" and len(key) == 2 and key[1] not in self.matricole:
                self._add(
                    "matricola-sconosciuta",
                    f"la riga {actual_row} nomina la matricola {_short(key[1])} (obiettivo {_short(key[0])}), "
                    "che il piano non conosce",
                    foglio=actual,
                    cella=f"A{actual_row}",
                    valore=key[1],
                )
                continue
            self._add(
                "riga-estranea",
                f"la riga {actual_row} ha il codice {'/'.join(key)}, che la scheda non prevede",
                foglio=actual,
                cella=f"A{actual_row}",
                valore="/".join(key),
            )

    def unexpected_sheets(self) -> list[Anomalia]:
        """Sheets the scheda does not have, holding data: never read, and said."""
        found = []
        for name in self.grid.sheets:
            if name in self.used or not any(not is_blank(v) for v in self.grid.values(name)):
                continue
            found.append(
                finding(
                    "foglio-estraneo",
                    f"il foglio «{_short(name)}» non fa parte della scheda e contiene dati: non viene letto",
                    area=self.area,
                    foglio=name,
                    valore=name,
                )
            )
        return found

    def _find_sheet(self, sheet: SheetLayout) -> str | None:
        if sheet.name in self.grid.sheets:
            return sheet.name
        known = {s.name for s in self.sheets}
        for name, rows in self.grid.sheets.items():
            if name in known or name == META_SHEET:
                continue
            if any(_matches_labels(r, sheet.labels) for r in rows[:30]):
                self._add(
                    "foglio-mancante",
                    f"il foglio «{sheet.name}» è stato rinominato in «{name}»",
                    foglio=name,
                    valore=name,
                )
                return name
        self._add("foglio-mancante", f"il foglio «{sheet.name}» non c'è più", foglio=sheet.name, valore=sheet.name)
        return None

    def _find_header(self, sheet: SheetLayout, actual: str) -> int | None:
        for number, row in enumerate(self.grid.sheets[actual][:30], start=1):
            if _matches_labels(row, sheet.labels):
                if number != HEADER_ROW:
                    self._add(
                        "riga-spostata",
                        f"l'intestazione è alla riga {number} invece che alla {HEADER_ROW}",
                        foglio=actual,
                        cella=f"A{number}",
                    )
                return number
        self._add(
            "intestazione-alterata",
            "non si trova più la riga di intestazione delle colonne",
            foglio=actual,
            cella=f"A{HEADER_ROW}",
        )
        return None

    def _map_columns(self, sheet: SheetLayout, actual: str, header_row: int) -> list[int]:
        header = [canonical(v) for v in self.grid.sheets[actual][header_row - 1]]
        columns = []
        for expected_col, label in enumerate(sheet.labels, start=1):
            if label in header:
                col = header.index(label) + 1
                if col != expected_col:
                    self._add(
                        "intestazione-alterata",
                        f"la colonna «{label}» è in colonna {_letter(col)} invece che in {_letter(expected_col)}",
                        foglio=actual,
                        cella=_coordinate(col, header_row),
                        valore=label,
                    )
            else:
                col = expected_col
                found = header[col - 1] if col <= len(header) else ""
                self._add(
                    "intestazione-alterata",
                    f"l'intestazione «{found}» sostituisce «{label}»",
                    foglio=actual,
                    cella=_coordinate(col, header_row),
                    valore=found,
                )
            columns.append(col)
        used = set(columns)
        for col, text in enumerate(header, start=1):
            if col in used or not text:
                continue
            repeated = text in sheet.labels
            self._add(
                "colonna-estranea",
                f"la colonna {_letter(col)} "
                + ("ripete l'intestazione" if repeated else "ha l'intestazione non prevista")
                + f" «{_short(text)}»: non viene letta",
                foglio=actual,
                cella=_coordinate(col, header_row),
                valore=text,
            )
        return columns

    def _compare_titles(self, sheet: SheetLayout, actual: str, offset: int) -> None:
        if not self.lettura.titoli_confrontabili:
            return  # generated with other titles: the office's are not the ones to expect
        for row, text in ((TITLE_ROW, sheet.title), (LEGEND_ROW, sheet.legend)):
            if row + offset < 1:
                continue
            raw = self.grid.value(actual, row + offset, 1)
            if canonical(raw) != canonical(text):
                self._add(
                    "cella-bloccata-modificata",
                    f"il valore originale era «{_short(text)}»",
                    foglio=actual,
                    cella=f"A{row + offset}",
                    valore=raw,
                )

    def _rows_by_key(
        self, sheet: SheetLayout, actual: str, header_row: int, columns: list[int]
    ) -> dict[tuple[str, ...], int]:
        key_cols = [columns[[c.label_key for c in sheet.spec.columns].index(k)] for k in sheet.spec.key_labels]
        found: dict[tuple[str, ...], int] = {}
        rows = self.grid.sheets[actual]
        dense = not isinstance(rows, SparseRows)
        for number in range(header_row + 1, len(rows) + 1):
            if dense:  # ``Grid.value`` of a dense sheet, its row taken once
                line = rows[number - 1]
                key = tuple([canonical(line[c - 1] if c <= len(line) else None) for c in key_cols])
            else:
                key = tuple([canonical(self.grid.value(actual, number, c)) for c in key_cols])
            if not any(key):
                continue
            if key in found:
                self._add(
                    "riga-estranea",
                    f"il codice {'/'.join(key)} compare due volte (righe {found[key]} e {number})",
                    foglio=actual,
                    cella=_coordinate(key_cols[0], number),
                    valore="/".join(key),
                )
                continue
            found[key] = number
        return found

    def _compare_locked(self, cell: Cell, raw: object, where: Position, row: Row) -> None:
        if _same(cell, raw, self.grid.date1904):
            return
        original = "(vuota)" if is_blank(cell.value) else _short(_show(cell.value))
        self._add(
            "cella-bloccata-modificata",
            f"il valore originale era «{original}»",
            obiettivo=row.obiettivo.codice,
            fase=row.fase,
            foglio=where[0],
            cella=where[1],
            valore=_short(_show(raw)),
        )

    def _read_input(self, cell: Cell, raw: object, where: Position, row: Row) -> None:
        assert cell.column is not None and cell.column.field is not None
        value: object
        blank: object = None  # what a wrong value counts as: not given
        if cell.kind is Kind.DATE:
            value = parse_date(raw, date1904=self.grid.date1904)
        elif cell.kind is Kind.SI_NO:
            value = parse_si_no(raw)
        elif cell.kind is Kind.NUMBER:
            value = parse_number(raw)
        else:
            text = parse_text(raw)
            blank = ""  # a text cell showing an error, or a text over the limit, counts as an empty one
            value = text.problem if text.problem and text.problem.codice != "carattere-non-ammesso" else text.value
            if text.problem and text.problem.codice == "carattere-non-ammesso":
                self._problem(text.problem, raw, where, row)
        if isinstance(value, Problem):
            self._problem(value, raw, where, row)
            # What the area typed wrong counts as a blank would: never the value the scheda was prefilled
            # with (the plan's, or the previous round's), which the area has overwritten.
            setattr(row.item, cell.column.field, blank)
            return
        _assign(row.item, cell.column.field, value)
        if value not in (None, ""):
            self.lettura.valori_letti += 1

    def _problem(self, problem: Problem, raw: object, where: Position, row: Row) -> None:
        self._add(
            problem.codice,
            problem.dettaglio,
            obiettivo=row.obiettivo.codice,
            fase=row.fase,
            foglio=where[0],
            cella=where[1],
            valore=_short(_show(raw)),
        )


# What an empty input cell reads as, by its kind (``_read_input``: ``parse_text`` gives "" for any other kind).
_EMPTY: dict[Kind, object] = {kind: None if kind in (Kind.DATE, Kind.SI_NO, Kind.NUMBER) else "" for kind in Kind}


def _assign(item: object, name: str, value: object) -> None:
    """``setattr`` (validated), but for an empty value the field already holds, as given: most input cells
    are left empty, and validating None or "" again gives them back with the same fields given."""
    empty = value is None or (type(value) is str and not value)
    if empty and getattr(item, name) is value and name in getattr(item, "__pydantic_fields_set__", ()):
        return
    setattr(item, name, value)


def layout_names(snapshot: Metadati) -> Iterator[SheetLayout]:
    yield from layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione, snapshot.versione_modello)


def structure_findings(lettura: Lettura, sheets: list[SheetLayout] | None = None) -> list[Anomalia]:
    """Formulas typed into input cells and merged cells over them (the grid holds values only).

    Decision: a formula in an input cell is never recalculated; its value is the one the client's
    program computed and saved (``formula-in-cella``, avviso). A formula saved without a computed
    value reads as empty, and the finding says so. A merge over an input cell is an edit of the
    protected structure (``cella-bloccata-modificata``): only the first cell of the merge keeps a value.
    """
    grid = lettura.griglia
    if lettura.metadati is None or grid is None:
        return []
    if not any(grid.formulas.values()) and not any(grid.merged.values()):
        return []  # the usual file: no formula, no merge (the map of input cells is not needed)
    inputs = _input_cells(lettura, sheets)
    area = lettura.area
    found: list[Anomalia] = []
    for sheet, cells in grid.formulas.items():
        for coordinate, formula in cells.items():
            cell = inputs.get(lettura.canonico.get((sheet, coordinate), ("", "")))
            if cell is None:
                continue
            if formula.valore_salvato:
                detail = f"la cella contiene la formula «{formula.testo}»: si usa il valore calcolato salvato nel file"
            else:
                detail = (
                    f"la cella contiene la formula «{formula.testo}» senza un valore calcolato salvato: "
                    "la cella è letta vuota; scrivere direttamente il valore"
                )
            found.append(
                finding(
                    "formula-in-cella",
                    detail,
                    area=area,
                    obiettivo=cell.obiettivo,
                    fase=cell.fase,
                    foglio=sheet,
                    cella=coordinate,
                    valore=formula.testo,
                )
            )
    found.extend(_merge_findings(lettura, grid, inputs))
    return found


def _input_cells(lettura: Lettura, sheets: list[SheetLayout] | None = None) -> dict[tuple[str, str], Cell]:
    assert lettura.metadati is not None
    return {
        (sheet.name, cell.coordinate): cell
        for sheet in (sheets if sheets is not None else layout_names(lettura.metadati))
        for cell in sheet.cells
        if not cell.locked
    }


def _merge_findings(lettura: Lettura, grid: Grid, inputs: dict[tuple[str, str], Cell]) -> list[Anomalia]:
    found: list[Anomalia] = []
    if not grid.merged:
        return found  # a generated scheda has no merge: openpyxl is loaded only for a file that has some
    from openpyxl.utils.cell import range_boundaries

    for sheet, ranges in grid.merged.items():
        for ref in ranges:
            try:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
            except (ValueError, TypeError):
                continue
            if min_col is None or min_row is None or max_col is None or max_row is None:
                continue
            if (max_col - min_col + 1) * (max_row - min_row + 1) > 10_000:
                max_row = min_row + 10_000 // (max_col - min_col + 1)
            coordinates = [f"{_letter(c)}{r}" for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]
            covered = [(c, inputs.get(lettura.canonico.get((sheet, c), ("", "")))) for c in coordinates]
            hit = next(((coord, cell) for coord, cell in covered if cell is not None), None)
            if hit is None:
                continue
            first = f"{_letter(min_col)}{min_row}"
            found.append(
                finding(
                    "cella-bloccata-modificata",
                    f"le celle {ref} sono state unite, anche su celle da compilare: si legge solo il valore "
                    f"della prima cella ({first}), le altre risultano vuote; separare le celle e ricompilarle",
                    area=lettura.area,
                    obiettivo=hit[1].obiettivo,
                    fase=hit[1].fase,
                    foglio=sheet,
                    cella=hit[0],
                    valore=ref,
                )
            )
    return found


def older_version(snapshot: Metadati, piano: Piano) -> bool:
    """The scheda was generated from an earlier version of this plan (a revision came after it)."""
    if (snapshot.ente, snapshot.anno) != (piano.ente, piano.anno):
        return False
    if snapshot.versione_piano is not None and snapshot.versione_piano < piano.versione:
        return True
    named = snapshot.header != Header(piano.ente, piano.anno, piano.titolo, piano.delibera)
    return named and piano.version_of(snapshot.titolo, snapshot.delibera) is not None


def compare_with_plan(
    snapshot: Metadati,
    piano: Piano,
    *,
    expected: Metadati | None = None,
    in_file: list[SheetLayout] | None = None,
    same_area: bool | None = None,
) -> list[Anomalia]:
    """The workbook's locked content against the plan in force (``--piano``).

    ``expected`` (the plan's snapshot for this area and round) and ``in_file`` (the file's layout) are
    the reader's own, passed so as not to build them again; ``same_area``, with ``expected``, whether the
    snapshot's area is ``expected``'s, if the reader asked already.
    """
    area = snapshot.area.nome
    if older_version(snapshot, piano):
        named = snapshot.versione_piano or piano.version_of(snapshot.titolo, snapshot.delibera).versione  # type: ignore[union-attr]
        return [
            finding(
                "scheda-versione-precedente",
                f"la scheda è della versione {named} del piano ({snapshot.delibera or 'senza delibera'}), "
                f"in vigore la versione {piano.versione} ({piano.delibera or 'senza delibera'}): "
                "valori letti secondo la versione della scheda",
                area=area,
                valore=str(named),
            )
        ]
    if (piano.ente, piano.anno, piano.titolo, piano.delibera) != (
        snapshot.ente,
        snapshot.anno,
        snapshot.titolo,
        snapshot.delibera,
    ):
        return [
            finding(
                "piano-diverso",
                f"la scheda è del piano «{snapshot.ente} {snapshot.anno}» ({snapshot.delibera}), "
                f"il piano indicato è «{piano.ente} {piano.anno}» ({piano.delibera})",
                area=area,
                valore=f"{snapshot.ente} {snapshot.anno}",
            )
        ]
    try:
        plan_area = piano.area_of(snapshot.area)
    except KeyError:
        return [finding("area-non-nel-piano", f"l'area «{area}» non è nel piano indicato", area=area, valore=area)]
    if expected is None:
        same_area = None  # asked of the snapshot made here
        expected = snapshot_for(piano, plan_area, snapshot.rilevazione, snapshot.testi, snapshot.scadenza)
    versione = snapshot.versione_modello
    # Rows are matched by code, not position: a scheda generated before phases were sorted by code
    # (or with the export's 0 as mid-year context) shows the same plan. Cells are named as in the file.
    if snapshot.area == expected.area if same_area is None else same_area:
        # The usual case, without a copy: ``as_shown`` leaves an area it made as it is (the plan's snapshot
        # is one), so an equal area shows as it (tests/test_workbook_reader.py checks that it does).
        return []
    shown = as_shown(snapshot.area, snapshot.rilevazione)
    if shown == expected.area:
        # The same header (checked above), texts, round and area: the same layout, cell for cell, so
        # nothing differs (the usual case, decided without building two layouts to compare them).
        return []
    plan_sheets = layout(snapshot.testi, expected.header, expected.area, snapshot.rilevazione, versione)
    ours = layout(snapshot.testi, snapshot.header, shown, snapshot.rilevazione, versione)
    if in_file is None:
        in_file = layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione, versione)
    found: list[Anomalia] = []
    for plan_sheet, our_sheet, file_sheet in zip(plan_sheets, ours, in_file, strict=True):
        if len(plan_sheet.rows) != len(our_sheet.rows):
            found.append(
                finding(
                    "differenza-dal-piano",
                    f"il piano ha {len(plan_sheet.rows)} righe, la scheda {len(our_sheet.rows)}",
                    area=area,
                    foglio=our_sheet.name,
                )
            )
        ours_by_key = {_cell_key(c): c for c in our_sheet.cells if c.locked}
        file_by_key = {_cell_key(c): c for c in file_sheet.cells if c.locked}
        for cell in plan_sheet.cells:
            mine = ours_by_key.get(_cell_key(cell))
            if not cell.locked or mine is None or canonical(mine.value) == canonical(cell.value):
                continue
            mine = file_by_key.get(_cell_key(cell), mine)
            found.append(
                finding(
                    "differenza-dal-piano",
                    f"nel piano il valore è «{_short(_show(cell.value))}»",
                    area=area,
                    obiettivo=cell.obiettivo,
                    fase=cell.fase,
                    foglio=our_sheet.name,
                    cella=cell.coordinate,
                    valore=_short(_show(mine.value)),
                )
            )
    return found


def _cell_key(cell: Cell) -> tuple[object, ...]:
    """A layout cell by its row's code and its column; title, legend and header rows by position."""
    if cell.data_row is None or cell.spec is None:
        return (cell.row, cell.col)
    return (cell.spec.row_key(cell.data_row), cell.col)


def _same(cell: Cell, raw: object, date1904: bool) -> bool:
    expected = cell.value
    if is_blank(expected):
        return is_blank(raw)
    if type(raw) is str and raw == expected:
        return True  # the text left as written (the usual case): the comparison below would say so
    if isinstance(expected, date):
        return parse_date(raw, date1904=date1904) == expected
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = parse_number(raw)
        return isinstance(number, float) and abs(number - float(expected)) <= 1e-9 * max(1.0, abs(expected))
    return canonical(parse_text(raw).value) == canonical(parse_text(expected).value)


def _item_code(item: object) -> str:
    return str(getattr(item, "codice", getattr(item, "matricola", "")))


def _matches_labels(row: list[object], labels: list[str]) -> bool:
    values = {canonical(v) for v in row}
    return sum(label in values for label in labels) >= max(2, len(labels) // 2 + 1)


def _coordinate(col: int, row: int) -> str:
    return f"{_letter(col)}{row}"


def _letter(col: int) -> str:
    return column_letter(col)


def _show(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
