"""The consolidated master workbook: every area of a round in one file.

What it holds is described once, by column keys, in ``master/layout.py``; this module writes it.
Percentages and the Riepilogo counts are live formulas chained Indicatori/Fasi → Obiettivi →
Assegnazioni/Personale, Riepilogo and the per-area pages, so a value corrected in a detail sheet
flows everywhere on recalculation. Each formula also carries its value computed by ``scoring``
(what a reader without a calculation engine sees). Rows are matched with
SUMPRODUCT((range=value)*...) rather than COUNTIFS/SUMIFS criteria: criteria treat "*?~" as
wildcards and numeric-looking text ("00002311") as numbers, differently in Excel and LibreOffice;
"=" between two texts compares them as text in both (ignoring case, and codes, names and
matricole differ by more than case). No function newer than Excel 2010 is used.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

# xlsxwriter 3.3 has inline hints but no py.typed marker: mypy would skip it anyway.
import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.utility import xl_rowcol_to_cell  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from seregno_xlsx.atomic import atomic_path
from seregno_xlsx.findings import Anomalia, printable
from seregno_xlsx.limits import MAX_CELL_TEXT
from seregno_xlsx.limits import MAX_LINKS_PER_SHEET as MAX_LINKS
from seregno_xlsx.master.area_findings import PrimeAnomalie, Row
from seregno_xlsx.master.beside import Beside
from seregno_xlsx.master.fast_sheet import FastWorksheet, Formula
from seregno_xlsx.master.formula_regola import indicator_formula
from seregno_xlsx.master.layout import (
    ANOMALIE,
    AREE_NAME,
    AREE_WIDTHS,
    ASSEGNAZIONI,
    ASSEGNAZIONI_CONTEGGI,
    COUNTS,
    FASI,
    FONTI,
    INDICATORI,
    OBIETTIVI,
    PERSONALE,
    PERSONALE_CONTEGGI,
    REFERENCE_DATE,
    RETTIFICHE,
    RIEPILOGO,
    RIEPILOGO_COVERAGE_ROW,
    RIEPILOGO_DATE_ROW,
    RIEPILOGO_ROUND_ROW,
    RIEPILOGO_TITLE_ROW,
    SHEET_ORDER,
    Count,
    Impostazioni,
    Kind,
    Sheet,
    load_settings,
)
from seregno_xlsx.master.remit import FULL, OMITTED, Remit
from seregno_xlsx.master.rettifiche import Applicata
from seregno_xlsx.master.scoring import (
    INVALID_VALUE,
    Conteggi,
    MissingValue,
    Regole,
    Sent,
    as_sent,
    assignment_weights,
    computed_objective_pct,
    counts,
    indicator_pct,
    indicator_weight,
    objective_pct,
    read_value,
    weighted_mean,
)
from seregno_xlsx.piano.assegnazioni import (
    FULL_SHARE,
    Assegnazione,
    effective_shares,
    reversed_dates,
    valid_share,
    year_bounds,
    year_fraction,
)
from seregno_xlsx.piano.compresse import AreeCompresse
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
from seregno_xlsx.processes import workers_for
from seregno_xlsx.scheda.fit import height, lines, one_line

TRUNCATED = " […testo troncato nel master]"
# The longest text certainly on one line of each column of an area's page.
_AREE_ONE_LINE = [one_line(width) for width in AREE_WIDTHS]
NON_PERVENUTA, PERVENUTA = "non pervenuta", "pervenuta"
# Findings listed on an area's page; the rest are in «Anomalie».
MAX_AREA_FINDINGS = 25
# The shade of a table's odd data rows (lighter than the header's #D9E1F2).
BAND = "#EEF3FA"


@dataclass(frozen=True)
class Fonte:
    """One file read for the consolidation."""

    file: str
    area: str
    rilevazione: str
    versione_modello: str
    sha256: str
    compilato_il: datetime | None
    stato: str  # "accettato" | "rifiutato" | "sostituito"
    motivo: str = ""
    versione_piano: str = ""  # the plan version the file was generated from


@dataclass
class SintesiMaster:
    righe: dict[str, int] = field(default_factory=dict)  # data rows per sheet
    valori_letti: int = 0
    valori_scritti: int = 0  # compiled (input) values present in the master
    testi_troncati: int = 0
    # Read but not shown because personal (the extract without personal data): never lost, left out.
    valori_omessi: int = 0
    estratto: bool = False  # an extract: the values of the areas it covers

    @property
    def riconciliazione(self) -> str:
        text = f"valori letti {self.valori_letti}, scritti {self.valori_scritti}"
        if self.valori_omessi:
            text += f", non mostrati perché dati personali {self.valori_omessi}"
        return f"estratto, valori delle aree che copre: {text}" if self.estratto else text


def write_master(
    path: Path,
    *,
    ente: str,
    anno: int,
    aree: Sequence[Area],
    rilevazione: Rilevazione,
    regole: Regole,
    anomalie: list[Anomalia],
    fonti: list[Fonte],
    data_riferimento: date,
    valori_letti: int,
    aree_mancanti: Sequence[str] = (),
    file_anomalie: Sequence[str] = (),
    impostazioni: Impostazioni | None = None,
    non_validi: Mapping[str, Mapping[str, float | None]] | None = None,
    remit: Remit = FULL,
    rettifiche: Sequence[Applicata] = (),
    versione_piano: str = "",
    processi: int | None = 1,
) -> SintesiMaster:
    """Write the master atomically: on any failure the previous file stays as it was.

    ``aree_mancanti``: areas of the plan without a valid return, listed as «non pervenuta».
    ``file_anomalie``: the file each finding was read from, in the order of ``anomalie`` ("" or missing
    for findings across files; those name the area's accepted file).
    ``aree``: as they count, each invalid round value removed (``scoring.counted_areas``, the one place
    that removes them); a sequence read several times, one area at a time (``piano/compresse.py``: each
    read may give new models, so nothing here keys them by ``id``); ``non_validi``: per area, what was
    read for each of those values (code -> value).
    ``remit``: what of people the reader may see (an extract, see ``master/extracts.py``).
    ``rettifiche``: the office's corrections applied to ``aree`` (master/rettifiche.py), listed in «Rettifiche».
    ``processi``: with 2 or more (None: one per core), Assegnazioni and Personale are written by a process of
    their own beside the other sheets (``master/beside.py``); the file is the same.
    """
    summary = SintesiMaster(valori_letti=valori_letti, estratto=bool(remit.titolo))
    wanted = non_validi or {}
    invalid = {nome: dict(values) for nome, values in wanted.items()}
    with atomic_path(Path(path)) as temp, _scratch_folder(temp.parent) as scratch:
        options = {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
            # Each row goes to a temporary file as soon as the next one starts: memory stays flat however
            # many areas (rows are written in order, headers first; FastWorksheet refuses anything else).
            "constant_memory": True,
            # ...and those temporary files (personal data) go beside the output, never to the system's temp
            # folder: nothing left in /tmp, and a small /tmp does not stop a large master.
            "tmpdir": str(scratch),
        }
        workbook = xlsxwriter.Workbook(str(temp), options)
        workbook.worksheet_class = FastWorksheet  # the same formulas, prepared faster
        # The same inputs give the same bytes (the README pictures record the hash of what they show).
        workbook.set_properties({"created": datetime.combine(data_riferimento, time())})
        try:
            master = _Master(workbook, ente, anno, aree, rilevazione, regole, summary, data_riferimento, scratch)
            try:
                master.remit = remit
                master.settings = impostazioni or load_settings()
                master.invalid = invalid
                master.corrections(rettifiche)
                master.versione = versione_piano
                master.beside = workers_for(processi, 2) > 1
                master.write(anomalie, fonti, list(aree_mancanti), list(file_anomalie))
            finally:
                if master.personale is not None:
                    master.personale.abandon()
        finally:
            workbook.close()
    return summary


@contextmanager
def _scratch_folder(parent: Path) -> Iterator[Path]:
    """A private folder beside the output for XlsxWriter's temporary files, removed with whatever it holds
    once the master is written or has failed (XlsxWriter leaves its files behind when a write fails)."""
    folder = Path(tempfile.mkdtemp(prefix=".seregno-xlsx-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cached(pct: float | None) -> float | str:
    return "" if pct is None else pct


def _mean_formula(match: str | None, pct: str, weight: str | None) -> str:
    """sum(w*p)/sum(w) over the matched rows whose % is a number; "" when the weights sum to 0.

    Conditions are multiplied, never negated with "--": that is what every engine (Excel,
    LibreOffice, the `formulas` package) evaluates element by element inside SUMPRODUCT.
    The % range stays a separate argument, where SUMPRODUCT takes the "" of excluded rows as 0.
    """
    if match is None and weight is None:
        return f'=IF(COUNT({pct})=0,"",SUM({pct})/COUNT({pct}))'
    mask = "*".join(term for term in (match, weight) if term)
    denominator = f'SUMPRODUCT({mask}*({pct}<>""))'
    numerator = f"SUMPRODUCT({mask if weight else mask + '*1'},{pct})"
    return f'=IF({denominator}=0,"",{numerator}/{denominator})'


def _copy(source: str, cached: float | str) -> Formula:
    """A live copy of another cell; an empty source stays empty (a bare reference would show 0)."""
    return Formula(f'=IF({source}="","",{source})', cached)


def _value_key(rilevazione: Rilevazione) -> str:
    """The Indicatori column the round's % is computed from (its key is the round's field)."""
    return round_value_field(rilevazione)


class _Master:
    def __init__(
        self,
        wb: Workbook,
        ente: str,
        anno: int,
        aree: Sequence[Area],
        rilevazione: Rilevazione,
        regole: Regole,
        summary: SintesiMaster,
        data_riferimento: date,
        scratch: Path,
    ) -> None:
        self.wb, self.aree, self.ril, self.regole, self.summary = wb, aree, rilevazione, regole, summary
        self.rif, self.anno = data_riferimento, anno
        self.settings = Impostazioni()
        self.title = f"{ente} – Piano degli obiettivi {anno}"
        self.subtitle = f"rilevazione {rilevazione} – data di riferimento {data_riferimento:%d/%m/%Y}"
        # Every cell wraps: a text wider than its column grows the row (see scheda.fit), never runs on.
        top = {"valign": "top", "text_wrap": True, "border": 1, "border_color": "#BFBFBF"}
        cells: dict[str, dict[str, Any]] = {
            Kind.TEXT: top,
            Kind.CODE: {**top, "text_wrap": False, "shrink": True},
            # Counts centred: a count never runs into the next column's text (LibreOffice ignores a right indent).
            Kind.NUM: {**top, "align": "center"},
            Kind.PCT: {**top, "num_format": "0.00%"},
            Kind.DEC: {**top, "num_format": "0.00"},
            Kind.DATE: {**top, "num_format": "dd/mm/yyyy"},
            Kind.DATETIME: {**top, "num_format": "dd/mm/yyyy hh:mm"},
            # SI/NO values stay numbers (100/0) for the formulas but read as SI/NO.
            "si_no": {**top, "num_format": '[=100]"SI";[=0]"NO";General'},
            Kind.LINK: {**top, "font_color": "#0563C1", "underline": 1},
        }
        # A table's odd data rows are shaded (what an Excel table's banded style shows) and its total row
        # is bold over a double line: the rows are plain cells with a filter, written as they come.
        self.banded = {key: wb.add_format({**spec, "bg_color": BAND}) for key, spec in cells.items()}
        self.total = {key: wb.add_format({**spec, "bold": True, "top": 6}) for key, spec in cells.items()}
        self.fmt: dict[str, Format | None] = {
            **{key: wb.add_format(spec) for key, spec in cells.items()},
            "header": wb.add_format(
                {"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#D9E1F2", "border": 1}
            ),
            "bold": wb.add_format({"bold": True}),
            "title": wb.add_format({"bold": True, "font_size": 16}),
            "area_title": wb.add_format({"bold": True, "font_size": 14}),
            "italic": wb.add_format({"italic": True}),
            "label": wb.add_format({"bold": True, "valign": "top"}),
            "box_header": wb.add_format(
                {"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#D9E1F2", "border": 1}
            ),
            "note": wb.add_format({"valign": "top"}),
            "plain_date": wb.add_format({"num_format": "dd/mm/yyyy", "align": "left"}),
        }
        self.sheets: dict[str, Worksheet] = {name: self.wb.add_worksheet(name) for name in SHEET_ORDER}
        self.sheets[RIEPILOGO.name].forget_written_rows = False  # its chart is sized by its rows' heights
        # The colour bands' formats, made once (thresholds from modelli/master.toml): good, fair, poor.
        self.band_formats = [
            wb.add_format({"bg_color": background, "font_color": font})
            for background, font in (("#C6EFCE", "#006100"), ("#FFEB9C", "#9C5700"), ("#FFC7CE", "#9C0006"))
        ]
        # 0-based rows of areas in Riepilogo; the 0-based rows of the link targets the findings and the
        # corrections ask for (by kind, area and code, the keys made of their own texts), the first row of
        # each, and no other: what a master of any size holds is what its findings point to.
        self.area_row: dict[str, int] = {}
        self.links: dict[tuple[str, str, str], int | None] = {}
        self.rows: dict[str, int] = {}
        self.headed: set[str] = set()  # the sheets whose table header is written
        self.plans: dict[tuple[str, bool], list[tuple[int, str, Format | None, int, float]]] = {}
        self.invalid: dict[str, dict[str, float | None]] = {}  # area -> code -> the invalid value read
        self.remit = FULL
        # The office's corrections and the 0-based «Rettifiche» row of each, by (area, objective, indicator code).
        self.applicate: list[Applicata] = []
        self.rett_row: dict[tuple[str, str, str], int] = {}
        # A corrected objective's mean before the correction, and corrected indicators' rows, by the same key.
        self.computed: dict[tuple[str, str, str], Formula] = {}
        self.ind_row: dict[tuple[str, str, str], int] = {}
        # Each objective's % once and its weight, by its index in Obiettivi (the k-th objective is on its
        # k-th data row), not again for each of the people assigned to it, in Assegnazioni, Personale and
        # the area's page: the plan's % (and the 1° rilevazione's, final round) without the areas' models.
        self.pairs: list[tuple[float | None, float]] = []
        self.first_pairs: list[tuple[float | None, float]] = []
        # The master's scratch folder: Assegnazioni and Personale gather everyone's assignments in a file
        # there (``_Incarichi``).
        self.scratch = scratch
        # The light models ``_assigned`` makes, by the values they hold: objectives by stars, people by share
        # and dates.
        self.templates: dict[int, Obiettivo] = {}
        self.persone: dict[tuple[str, date | None, date | None], Persona] = {}
        self.area_names: list[str] = []
        # What Riepilogo shows of each area, gathered with Obiettivi (by the area's index): its counts, its
        # sign-off, and where its objectives' pairs are in ``pairs``, so Riepilogo reads no area again.
        self.area_counts: list[Conteggi] = []
        self.area_firme: list[Compilazione] = []
        self.area_pairs: list[slice] = []
        # Without personal data: the people of each area and category (their matricole) and their assignments.
        self.by_category: dict[tuple[str, str], tuple[set[str], list[int]]] = {}
        self.page_breaks: list[int] = []  # the first row of each area's page but the first
        # Assegnazioni's «Tempo» formula: the year's first and last day, the same on every row.
        self.year = tuple(f"DATE({d.year},{d.month},{d.day})" for d in year_bounds(anno))
        # Whether Assegnazioni and Personale are written by a process of their own (``master/beside.py``),
        # while this one writes the other sheets; and that process, once started.
        self.beside = False
        self.personale: Beside[tuple[int, int, int, int]] | None = None

    def _link(self, kind: str, area: str, code: str, row: int) -> None:
        """``row`` is where (kind, area, code) is: kept if a finding or a correction asks for it, the first."""
        key = (kind, area, code)
        if key in self.links and self.links[key] is None:
            self.links[key] = row

    def _want_links(self, anomalie: Sequence[Anomalia]) -> None:
        """The link targets the findings and the corrections will ask for (see ``_link_target``)."""
        wanted: list[tuple[str, str, str]] = []
        for a in anomalie:
            if a.fase:
                wanted += [("indicatore", a.area, a.fase), ("fase", a.area, a.fase)]
            if a.obiettivo:
                wanted.append(("obiettivo", a.area, a.obiettivo))
        for x in self.applicate:
            ob, ind = x.obiettivo, x.indicatore
            wanted.append(("indicatore", x.area.nome, ind.codice) if ind else ("obiettivo", x.area.nome, ob.codice))
        self.links = dict.fromkeys(wanted)

    def _link_to(self, key: tuple[str, str, str]) -> str:
        """The target of a link asked for and found."""
        row = self.links[key]
        assert row is not None, key
        return _target(_LINK_SHEETS[key[0]], row)

    def _as_sent(self, model: Sent) -> Sent:
        """The 1° rilevazione as it was: without this round's rettifiche (a copy only when there are some)."""
        return as_sent(model) if self.applicate else model

    def corrections(self, applicate: Sequence[Applicata]) -> None:
        # The corrections are applied to copies of the areas (invalid values removed): match them by code.
        self.applicate = list(applicate)
        for r, x in enumerate(self.applicate, start=1):
            self.rett_row[_correction_key(x)] = RETTIFICHE.header_row + r
        self.rows[RETTIFICHE.name] = len(self.applicate)
        self.versione = ""  # the plan version the master uses, in words

    # -- cells -------------------------------------------------------------

    def _text(self, value: str) -> str:
        # Every text of the master passes here: a file name not in UTF-8 keeps its readable part (an ASCII
        # text is all readable).
        value = self.remit.clean(value if value.isascii() else printable(value))
        if len(value) > MAX_CELL_TEXT:
            self.summary.testi_troncati += 1
            return value[: MAX_CELL_TEXT - len(TRUNCATED)] + TRUNCATED
        return value

    def _str(self, ws: Worksheet, row: int, col: int, value: str, fmt: Format | None) -> None:
        """All text goes through write_string: "=HYPERLINK(...)" stays text."""
        ws.write_string(row, col, self._text(value), fmt)

    def _write(self, ws: Worksheet, r: int, c: int, value: object, fmt: Format | None) -> None:
        """One cell by the kind of its value (``FastWorksheet.write_value``); a text through ``_text``."""
        ws.write_value(r, c, self._text(value) if isinstance(value, str) else value, fmt)

    def _row(self, sheet: Sheet, r: int, values: Mapping[str, object], formats: dict[str, str] | None = None) -> None:
        """Write one table row (0-based data row index ``r``) by column key; its height fits its text."""
        ws = self.sheets[sheet.name]
        if sheet.name not in self.headed:
            self._header(sheet)
        row = sheet.header_row + r
        assert values.keys() <= sheet.key_set, (sheet.name, set(values) - sheet.key_set)
        by_kind = self.banded if r % 2 else self.fmt  # as _cell_format: odd data rows banded
        text, count = self._text, 1
        # Without people to leave out, an ASCII text within Excel's limit is what _text makes of it.
        as_given = not self.remit.omessi
        cells: list[tuple[int, object, Format | None]] = []
        for c, key, fmt, single, width in self._columns(sheet, r % 2 == 1):
            value = values.get(key)
            if formats and key in formats:
                fmt = by_kind[formats[key]]
            # The lines of a text as given (a formula's: its value), unless it certainly holds on one line.
            if type(value) is Formula:
                shown = value.cached
            elif isinstance(value, str):
                shown = value
                if not (as_given and value.isascii() and len(value) <= MAX_CELL_TEXT):
                    value = text(value)
            else:
                cells.append((c, value, fmt))
                continue
            if single >= 0 and isinstance(shown, str) and (len(shown) > single or "\n" in shown):
                count = max(count, lines(shown[:MAX_CELL_TEXT], width))
            cells.append((c, value, fmt))
        ws.write_cells(row, cells, height(count) if count > 1 else None)

    def _columns(self, sheet: Sheet, banded: bool) -> list[tuple[int, str, Format | None, int, float]]:
        """What ``_row`` needs of each column of ``sheet``, looked up once: index, key, format (banded or not),
        the longest text certainly on one line (-1: never measured, a code shrinks to fit), width."""
        found = self.plans.get((sheet.name, banded))
        if found is None:
            by_kind = self.banded if banded else self.fmt
            found = self.plans[sheet.name, banded] = [
                (c, column.key, by_kind[column.kind], -1 if column.kind is Kind.CODE else column.one_line, column.width)
                for c, column in enumerate(sheet.columns)
            ]
        return found

    def _cell_format(self, key: str, r: int) -> Format | None:
        """The format of a table's data cell on its 1-based data row ``r``: odd rows banded."""
        return self.banded[key] if r % 2 else self.fmt[key]

    def _count_input(self, *values: object) -> None:
        self.summary.valori_scritti += _given(*values)

    def _page(self, ws: Worksheet) -> None:
        """A4 landscape, one page wide, title and round on top, page numbers below."""
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
        # Excel allows 255 characters in a header.
        left, right = (self.remit.clean(text)[:110].replace("&", "&&") for text in (self.title, self.subtitle))
        ws.set_header(f"&L{left}&C&A&R{right}")
        # An extract says so on every printed page (the header has no room left).
        remit = f"&L{self.remit.breve[:30].replace('&', '&&')}" if self.remit.breve else ""
        ws.set_footer(f"{remit}&CPagina &P di &N")

    def _header(self, sheet: Sheet) -> None:
        """A table's header row, wrapped, with its column widths: written before its data rows."""
        self.headed.add(sheet.name)
        ws, header_lines = self.sheets[sheet.name], 1
        for c, column in enumerate(sheet.columns):
            ws.set_column(c, c, column.width)
            header_lines = max(header_lines, lines(column.header, column.width, bold=True))
            self._str(ws, sheet.header_row, c, column.header, self.fmt["header"])
        ws.set_row(sheet.header_row, height(header_lines))

    def _finish(self, sheet: Sheet, rows: int, total: Sequence[object] | None = None) -> None:
        """After a table's data rows: its total row (values by column), a filter over header and data,
        the header frozen and printed on every page."""
        ws, first = self.sheets[sheet.name], sheet.header_row
        if sheet.name not in self.headed:
            self._header(sheet)
        last = first + max(rows, 1)  # an empty table keeps one (empty) data row, as a filter needs
        if total is not None:
            for c, (column, value) in enumerate(zip(sheet.columns, total, strict=True)):
                self._write(ws, last + 1, c, value, self.total[column.kind])
        ws.autofilter(first, 0, last, len(sheet.columns) - 1)
        ws.freeze_panes(first + 1, 0)
        ws.repeat_rows(first)
        self._page(ws)
        self.summary.righe[sheet.name] = rows
        self.rows[sheet.name] = rows

    def _bands(self, ws: Worksheet, first_row: int, last_row: int, col: int) -> None:
        """Colour bands of a % column, thresholds from modelli/master.toml; an empty % stays white."""
        soglie = self.settings.soglie
        cell = str(xl_rowcol_to_cell(first_row, col))
        conditions = [f">={soglie.buona}", f">={soglie.sufficiente},{cell}<{soglie.buona}", f"<{soglie.sufficiente}"]
        for condition, fmt in zip(conditions, self.band_formats, strict=True):
            criteria = f"=AND(ISNUMBER({cell}),{cell}{condition})"
            ws.conditional_format(
                first_row, col, last_row, col, {"type": "formula", "criteria": criteria, "format": fmt}
            )

    # -- sheets ------------------------------------------------------------

    def write(self, anomalie: list[Anomalia], fonti: list[Fonte], aree_mancanti: list[str], sources: list[str]) -> None:
        self._want_links(anomalie)
        self._number_formats()
        self._write_areas(anomalie, aree_mancanti)
        if not self.remit.nominativi:
            self._write_people_counts()
        self._write_riepilogo(aree_mancanti)
        accepted = {f.area.casefold(): f.file for f in fonti if f.stato == "accettato"}
        sources += [""] * (len(anomalie) - len(sources))
        files = [source or accepted.get(x.area.casefold(), "") for x, source in zip(anomalie, sources, strict=False)]
        self._write_anomalie(anomalie, files)
        self._write_fonti(fonti)
        self._write_rettifiche()
        self._finish_aree()
        self._finish_personale()
        # Last: they report what the other sheets wrote.
        self._riepilogo_notes()

    def _write_riepilogo(self, aree_mancanti: list[str]) -> None:
        sheet, ws = RIEPILOGO, self.sheets[RIEPILOGO.name]
        n_obj = self.rows[OBIETTIVI.name]
        pct_range, area_range = OBIETTIVI.range("pct", n_obj), OBIETTIVI.range("area", n_obj)
        weight = OBIETTIVI.range("peso", n_obj) if self.regole.pesi_aree == "stelle" else None
        # From what Obiettivi gathered of each area (no area is read again), then the missing ones.
        names = [(a, PERVENUTA) for a in range(len(self.area_names))] + [
            (nome, NON_PERVENUTA) for nome in aree_mancanti
        ]
        n = len(names)
        totale = sum(self.area_counts, Conteggi())
        self._riepilogo_top(n, totale, aree_mancanti)
        for r, (area, stato) in enumerate(names, start=1):
            if isinstance(area, str):
                self.area_row[area.casefold()] = sheet.header_row + r
                self._row(sheet, r, {"area": area, "stato": stato})
                continue
            nome, firma, conteggi = self.area_names[area], self.area_firme[area], self.area_counts[area]
            self.area_row[nome.casefold()] = sheet.header_row + r
            me = sheet.cell("area", sheet.header_row + r)
            values: dict[str, object] = {"area": nome, "stato": stato, **_sign_off(firma, self.remit.nominativi)}
            for count in COUNTS:
                values[count.key] = Formula(self._count_formula(count, me), getattr(conteggi, count.key))
            if self.remit.nominativi:
                self._count_input(firma.compilata_da, firma.approvata_da, firma.data_approvazione)
            else:  # who signed is personal data; that and when it was approved are facts
                self._count_input(firma.data_approvazione)
                self.summary.valori_omessi += _given(firma.compilata_da, firma.approvata_da)
            mean = _mean_formula(f"({area_range}={me})", pct_range, weight)
            # area_pct: its objectives' % and weights, in order, as Obiettivi kept them.
            values["pct"] = Formula(mean, _cached(weighted_mean(self.pairs[self.area_pairs[area]])))
            if self.ril is Rilevazione.FINALE:
                first = _mean_formula(f"({area_range}={me})", OBIETTIVI.range("pct_prima", n_obj), weight)
                pct_prima = weighted_mean(self.first_pairs[self.area_pairs[area]])
                values["pct_prima"] = Formula(first, _cached(pct_prima))
            self._row(sheet, r, values)
        total: list[object] = []
        for column in sheet.columns:
            if column.key == "area":
                total.append("Totale")
            elif column.key == "stato":
                total.append(f"{len(self.aree)} di {n} aree")
            elif column.key in ("compilata_da", "approvazione"):
                total.append(None)
            elif column.key == "pct":
                formula = _mean_formula(None, pct_range, weight)
                # total_pct of every objective, from each one's % and weight as Obiettivi kept them.
                total.append(Formula(formula, _cached(weighted_mean(self.pairs))))
            elif column.key == "pct_prima":
                total.append(self._first_round_total(n_obj, weight))
            else:
                letter = sheet.letter(column.key)
                span = f"{letter}{sheet.first_row + 1}:{letter}{sheet.first_row + max(n, 1)}"
                total.append(Formula(f"=SUM({span})", getattr(totale, column.key)))
        self._finish(sheet, n, total)
        self._bands(ws, sheet.first_row, sheet.first_row + max(n, 1), sheet.index("pct"))

    def _riepilogo_top(self, n: int, totale: Conteggi, aree_mancanti: list[str]) -> None:
        """Title, round, reference date and coverage above Riepilogo's table (and what an extract holds)."""
        ws = self.sheets[RIEPILOGO.name]
        self._str(ws, RIEPILOGO_TITLE_ROW, 0, self.title, self.fmt["title"])
        self._str(ws, RIEPILOGO_ROUND_ROW, 0, "Rilevazione", self.fmt["label"])
        self._str(ws, RIEPILOGO_ROUND_ROW, 1, f"{self.ril} – {self.versione}" if self.versione else str(self.ril), None)
        self._str(ws, RIEPILOGO_DATE_ROW, 0, "Data di riferimento", self.fmt["label"])
        ws.write_datetime(RIEPILOGO_DATE_ROW, 1, self.rif, self.fmt["plain_date"])
        self._str(ws, RIEPILOGO_COVERAGE_ROW, 0, "Schede consolidate", self.fmt["label"])
        coverage = f"{len(self.aree)} aree di {n}, {totale.obiettivi} obiettivi"
        if aree_mancanti:
            coverage += f"; non pervenute: {len(aree_mancanti)}"
        self._str(ws, RIEPILOGO_COVERAGE_ROW, 1, coverage, None)
        if self.remit.titolo:  # in the empty row above the table
            self._str(ws, RIEPILOGO.header_row - 1, 0, "Contenuto", self.fmt["label"])
            self._str(ws, RIEPILOGO.header_row - 1, 1, self.remit.titolo, self.fmt["bold"])

    def _first_round_total(self, n_obj: int, weight: str | None) -> object:
        """The plan's % at the 1° rilevazione, beside the final one (final round only)."""
        if self.ril is not Rilevazione.FINALE:
            return None
        formula = _mean_formula(None, OBIETTIVI.range("pct_prima", n_obj), weight)
        return Formula(formula, _cached(weighted_mean(self.first_pairs)))

    def _count_formula(self, count: Count, area_cell: str) -> str:
        """SUMPRODUCT over the detail sheet's rows of the area that meet every condition of ``count``."""
        rows = self.rows[count.sheet.name]
        names = {key: count.sheet.range(key, rows) for key in count.sheet.keys}
        names["riferimento"] = REFERENCE_DATE
        if count.sheet is INDICATORI:
            names["valore"] = names[_value_key(self.ril)]
        terms = [f"({names['area']}={area_cell})", *(f"({c.format(**names)})" for c in count.conditions)]
        return f"=SUMPRODUCT({'*'.join(terms) if len(terms) > 1 else terms[0] + '*1'})"

    def _riepilogo_notes(self) -> None:
        ws, sheet = self.sheets[RIEPILOGO.name], RIEPILOGO
        row = sheet.first_row + max(len(self.area_row), 1) + 2
        self._str(ws, row, 0, "Riconciliazione", self.fmt["label"])
        self._str(ws, row, 1, self.summary.riconciliazione, None)
        self._str(ws, row + 1, 0, "Regole", self.fmt["label"])
        notes = self.regole.descrizione()
        soglie = self.settings.soglie
        notes.append(
            f"Colori della %: verde da {soglie.buona:.0%} in su, giallo da {soglie.sufficiente:.0%}, rosso sotto"
        )
        if self.summary.testi_troncati:
            notes.append(f"Testi troncati nel master al limite di Excel: {self.summary.testi_troncati}")
        # Not wrapped: each note runs on over the empty cells to its right, across the table.
        for i, line in enumerate(notes, start=row + 1):
            self._str(ws, i, 1, line, self.fmt["note"])
        self._riepilogo_chart(len(self.area_row), row + len(notes) + 2)

    def _riepilogo_chart(self, n: int, row: int) -> None:
        """Below the table and its notes, never beside: the page is as wide as the table, printed large."""
        sheet = RIEPILOGO
        chart = self.wb.add_chart({"type": "bar"})
        first, last = sheet.first_row, sheet.first_row + max(n, 1) - 1
        chart.add_series(
            {
                "name": "% raggiungimento",
                "categories": [sheet.name, first, sheet.index("area"), last, sheet.index("area")],
                "values": [sheet.name, first, sheet.index("pct"), last, sheet.index("pct")],
                "data_labels": {"value": True, "num_format": "0%"},
                "fill": {"color": "#4472C4"},
            }
        )
        chart.set_x_axis({"num_format": "0%", "min": 0, **({"max": 1} if self.regole.limite_100 else {})})
        chart.set_y_axis({"reverse": True})
        chart.set_title({"name": "% raggiungimento per area", "name_font": {"size": 12}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 520, "height": max(240, 60 + 28 * n)})
        self.sheets[sheet.name].insert_chart(row, 0, chart)

    def _number_formats(self) -> None:
        """Every format of the tables numbered at once, in the order they were made: XlsxWriter numbers a format
        when a cell first uses it, and the rows of the area sheets interleave (``_write_areas``); so the numbers
        do not depend on which sheet or area first uses a format."""
        for fmt in (*self.banded.values(), *self.total.values(), *self.fmt.values()):
            if fmt is not None:
                fmt._get_xf_index()

    def _write_areas(self, anomalie: list[Anomalia], aree_mancanti: list[str]) -> None:
        """Obiettivi, Indicatori, Fasi and each area's page (without names, Assegnazioni's counts too), area by
        area. The areas are kept compressed (``piano/compresse.py``): each read makes models of them again, so
        they are read once here, to write every sheet's rows, which stay in order on each sheet (the sheets'
        rows interleave: constant_memory allows it), and once more by Assegnazioni and Personale. Obiettivi's
        formulas reach over every area's indicators from the first row: their total is known beforehand
        (``_indicator_total``); each page links to its area's Riepilogo row, numbered as the areas come."""
        n_ind = _indicator_total(self.aree)
        # Assegnazioni and Personale read the areas on their own: written beside the other sheets, by a
        # process of their own where there is one (``master/beside.py``).
        self._start_personale()
        # Of each area only the rows its page shows, never every finding at once (``area_findings.py``).
        by_area = PrimeAnomalie(MAX_AREA_FINDINGS).extend((x.area.casefold(), _page_row(x)) for x in anomalie)
        ws = self.sheets[AREE_NAME]
        for c, width in enumerate(AREE_WIDTHS):
            ws.set_column(c, c, width)
        obiettivi = indicatori = fasi = conteggi = page = 0
        for a, area in enumerate(self.aree):
            self.area_row[area.nome.casefold()] = RIEPILOGO.header_row + 1 + a  # as _write_riepilogo numbers them
            self._gather(area)
            obiettivi = self._objective_rows(area, obiettivi, n_ind)
            indicatori = self._indicator_rows(area, indicatori)
            fasi = self._phase_rows(area, fasi)
            if not self.remit.nominativi:
                conteggi = self._count_rows(area, conteggi)
            if page:
                self.page_breaks.append(page)
            key = area.nome.casefold()
            page = self._area_page(ws, page, a, area, by_area.rows(key), by_area.count(key))
        self._finish(OBIETTIVI, obiettivi)
        first = OBIETTIVI.first_row
        self._bands(self.sheets[OBIETTIVI.name], first, first + max(obiettivi, 1) - 1, OBIETTIVI.index("pct"))
        self._finish(INDICATORI, indicatori)
        self._finish(FASI, fasi)
        if not self.remit.nominativi:
            self._finish(ASSEGNAZIONI_CONTEGGI, conteggi)

    def _objective_rows(self, area: Area, r: int, n_ind: int) -> int:
        """The area's rows of Obiettivi after its ``r``-th data row (``n_ind``: the indicators of every area);
        returns the last data row written."""
        sheet = OBIETTIVI
        pct_col, weight_col = INDICATORI.range("pct", n_ind), INDICATORI.range("peso", n_ind)
        area_col, code_col = INDICATORI.range("area", n_ind), INDICATORI.range("codice_obiettivo", n_ind)
        self.area_counts.append(counts(area, self.ril, self.rif, self.invalid.get(area.nome, {})))
        self.area_firme.append(area.compilazione)
        for ob in area.obiettivi:
            r += 1
            row = sheet.header_row + r
            match = f"({area_col}={sheet.cell('area', row)})*({code_col}={sheet.cell('codice', row)})"
            pct = Formula(_mean_formula(match, pct_col, weight_col), _cached(self.pairs[r - 1][0]))
            if ob.rettificato:
                qualified = (
                    f"({area_col}={sheet.cell('area', row, sheet=True)})"
                    f"*({code_col}={sheet.cell('codice', row, sheet=True)})"
                )
                computed = _cached(computed_objective_pct(ob, self.ril, self.regole))
                mean = _mean_formula(qualified, pct_col, weight_col)
                self.computed[area.nome, ob.codice, ""] = Formula(mean, computed)
                source = RETTIFICHE.cell("rettificato", self.rett_row[area.nome, ob.codice, ""], sheet=True)
                pct = Formula(f'=IF(ISNUMBER({source}),{source},"")', pct.cached)
            values = {
                "area": area.nome,
                "codice": ob.codice,
                "titolo": ob.titolo,
                "peso": ob.peso,
                "n_indicatori": len(ob.indicatori),
                "pct": pct,
                **self._both_rounds_objective(r - 1, ob, match, n_ind),
                "data_inizio_effettiva": ob.data_inizio_effettiva,
                "data_fine_prevista": ob.data_fine_prevista,
                "data_fine_effettiva": ob.data_fine_effettiva,
                "note": ob.note,
            }
            self._row(sheet, r, values)
            self._count_input(ob.data_inizio_effettiva, ob.data_fine_effettiva, ob.note)
            self._link("obiettivo", area.nome, ob.codice, row)
        return r

    def _indicator_rows(self, area: Area, r: int) -> int:
        """The area's rows of Indicatori after its ``r``-th data row; returns the last one written."""
        for ob in area.obiettivi:
            fasi = {f.codice: f for f in ob.fasi}
            for ind in ob.indicatori:
                r += 1
                self._indicator_row(r, area, ob, ind, fasi.get(ind.codice))
                self._link("indicatore", area.nome, ind.codice, INDICATORI.header_row + r)
        return r

    def _indicator_row(self, r: int, area: Area, ob: Obiettivo, ind: Indicatore, fase: Fase | None) -> None:
        row = INDICATORI.header_row + r
        if (area.nome, ob.codice, ind.codice) in self.rett_row:  # «Rettifiche» shows the value read, live
            self.ind_row[area.nome, ob.codice, ind.codice] = row
        value = INDICATORI.cell(_value_key(self.ril), row)
        if ind.valore_rettificato is not None:  # the office's corrected value, from «Rettifiche»
            value = RETTIFICHE.cell("rettificato", self.rett_row[area.nome, ob.codice, ind.codice], sheet=True)
        pct = Formula(self._indicator_formula(row, ind, value), _cached(indicator_pct(ind, self.ril, self.regole)))
        values: dict[str, object] = {
            "area": area.nome,
            "codice_obiettivo": ob.codice,
            "codice": ind.codice,
            "fase": ind.fase or (fase.descrizione if fase else ""),
            "indicatore": ind.descrizione,
            "si_no": "SI/NO" if ind.si_no else "",
            "peso": indicator_weight(ind, ob),
            "valore_target": ind.valore_target,
            "prima_rilevazione": ind.prima_rilevazione,
            "valore_raggiunto": ind.valore_raggiunto,
            "pct": pct,
            "regola": ind.misura.descrizione(),
            **self._both_rounds_indicator(ind, INDICATORI.header_row + r),
            "evidenza": ind.evidenza,
        }
        bad = self.invalid.get(area.nome, {})
        if ind.codice in bad:  # shown, never counted: the formula takes a text as a missing value
            read = bad[ind.codice]
            values[_value_key(self.ril)] = INVALID_VALUE + ("" if read is None else f" ({read:g})")
        si_no = dict.fromkeys(("valore_target", "prima_rilevazione", "valore_raggiunto"), "si_no")
        self._row(INDICATORI, r, values, si_no if ind.si_no else None)
        self._count_input(bad[ind.codice] if ind.codice in bad else read_value(ind, self.ril), ind.evidenza)

    def _indicator_formula(self, row: int, ind: Indicatore, value: str, rilevazione: Rilevazione | None = None) -> str:
        """The indicator's rule as a formula (master/formula_regola.py) on ``value`` (the round's cell, or the
        corrected one). COUNT(cell)=0 for an empty cell and for «valore non valido»: both count as missing.
        ``rilevazione``: the round whose missing policy applies (the master's by default)."""
        target = INDICATORI.cell("valore_target", row)
        missing = '""' if self.regole.mancante(rilevazione or self.ril) is MissingValue.ESCLUSO else "0"
        return indicator_formula(ind.misura, target, value, missing, self.regole.limite_100)

    def _write_rettifiche(self) -> None:
        """One row per correction: the figure before (live), the corrected one the formulas take, why, who, when."""
        sheet, ws = RETTIFICHE, self.sheets[RETTIFICHE.name]
        for r, x in enumerate(self.applicate, start=1):
            ob, ind = x.obiettivo, x.indicatore
            link = ("indicatore", x.area.nome, ind.codice) if ind else ("obiettivo", x.area.nome, ob.codice)
            if ind is not None:
                read = read_value(ind, self.ril)
                bad = self.invalid.get(x.area.nome, {})
                shown = INVALID_VALUE if ind.codice in bad else _cached(read)
                source = INDICATORI.cell(_value_key(self.ril), self.ind_row[_correction_key(x)], sheet=True)
                original: object = _copy(source, shown)
                kinds = dict.fromkeys(("originale", "rettificato"), "si_no" if ind.si_no else Kind.NUM)
            else:
                original = self.computed[_correction_key(x)]
                kinds = dict.fromkeys(("originale", "rettificato"), Kind.PCT)
            values: dict[str, object] = {
                "area": x.area.nome,
                "obiettivo": ob.codice,
                "indicatore": ind.codice if ind else None,
                "tipo": x.tipo,
                "originale": original,
                "rettificato": "esclusa dalla valutazione" if x.valore is None else x.valore,
                "motivo": x.rettifica.motivo,
                "deciso_da": x.rettifica.deciso_da,
                "data": x.data,
            }
            self._row(sheet, r, values, kinds)
            where = self._link_to(link)
            col, fmt = sheet.index("vai_a"), self._cell_format(Kind.LINK, r)
            ws.write_url(sheet.header_row + r, col, f"internal:{where}", fmt, where.replace("'", ""))
        self._finish(sheet, len(self.applicate))

    def _gather(self, area: Area) -> None:
        """What the sheets need of the next area before any of its rows: its name, its objectives' % and
        weights (and the 1° rilevazione's, final round) and where they are in ``pairs``."""
        self.area_names.append(area.nome)
        self.area_pairs.append(slice(len(self.pairs), len(self.pairs) + len(area.obiettivi)))
        for ob in area.obiettivi:
            self.pairs.append((objective_pct(ob, self.ril, self.regole), self.regole.peso_obiettivo(ob)))
            if self.ril is Rilevazione.FINALE:
                sent = self._as_sent(ob)
                pct = objective_pct(sent, Rilevazione.INTERMEDIA, self.regole)
                self.first_pairs.append((pct, self.regole.peso_obiettivo(sent)))

    def _both_rounds_objective(self, k: int, ob: Obiettivo, match: str, n_ind: int) -> dict[str, object]:
        """The ``k``-th objective's % at the 1° rilevazione (final round only) and last year's final %."""
        values: dict[str, object] = {}
        if ob.anno_precedente is not None:
            values["pct_anno_precedente"] = ob.anno_precedente.percentuale_finale
        if self.ril is Rilevazione.FINALE:
            first, weight_col = INDICATORI.range("pct_prima", n_ind), INDICATORI.range("peso", n_ind)
            formula = _mean_formula(match, first, weight_col)
            values["pct_prima"] = Formula(formula, _cached(self.first_pairs[k][0]))
        return values

    def _both_rounds_indicator(self, ind: Indicatore, row: int) -> dict[str, object]:
        """Final round: the change since the 1° rilevazione and the % the 1° rilevazione scored."""
        if self.ril is not Rilevazione.FINALE:
            return {}
        first, final = INDICATORI.cell("prima_rilevazione", row), INDICATORI.cell("valore_raggiunto", row)
        change = None
        if ind.prima_rilevazione is not None and ind.valore_raggiunto is not None:
            change = ind.valore_raggiunto - ind.prima_rilevazione
        return {
            "variazione": Formula(f'=IF(OR(COUNT({first})=0,COUNT({final})=0),"",{final}-{first})', _cached(change)),
            "pct_prima": Formula(
                self._indicator_formula(row, ind, first, Rilevazione.INTERMEDIA),
                _cached(indicator_pct(self._as_sent(ind), Rilevazione.INTERMEDIA, self.regole)),
            ),
        }

    def _phase_rows(self, area: Area, r: int) -> int:
        """The area's rows of Fasi after its ``r``-th data row; returns the last one written."""
        sheet = FASI
        for ob in area.obiettivi:
            for f in ob.fasi:
                r += 1
                row = sheet.header_row + r
                values = {
                    "area": area.nome,
                    "codice_obiettivo": ob.codice,
                    "codice": f.codice,
                    "descrizione": f.descrizione,
                    "data_inizio_prevista": f.data_inizio_prevista,
                    "data_fine_prevista": f.data_fine_prevista,
                    "data_inizio_effettiva": f.data_inizio_effettiva,
                    "data_fine_effettiva": f.data_fine_effettiva,
                    "stato": Formula(self._state_formula(row), stato(f, self.rif)),
                    "monitoraggio": f.monitoraggio,
                    "evidenza": f.evidenza,
                }
                self._row(sheet, r, values)
                self._count_input(f.data_inizio_effettiva, f.data_fine_effettiva, f.monitoraggio, f.evidenza)
                self._link("fase", area.nome, f.codice, row)
        return r

    def _state_formula(self, row: int) -> str:
        """``stato`` as a formula: a date corrected in Fasi moves the phase's state and the Riepilogo counts."""
        fine, prevista = FASI.cell("data_fine_effettiva", row), FASI.cell("data_fine_prevista", row)
        done = f'IF({prevista}="","conclusa",IF({fine}>{prevista},"in ritardo","conclusa"))'
        open_ = f'IF({prevista}="","in corso",IF({prevista}<{REFERENCE_DATE},"scaduta","in corso"))'
        return f'=IF({fine}<>"",{done},{open_})'

    def _start_personale(self) -> None:
        """Assegnazioni and Personale started, in a process of their own if ``beside`` (their headers here:
        the column widths are the sheets' own state)."""
        if not self.remit.nominativi:
            return
        for sheet in (ASSEGNAZIONI, PERSONALE):
            self._header(sheet)
        sheets = [self.sheets[sheet.name] for sheet in (ASSEGNAZIONI, PERSONALE)]
        self.personale = Beside(sheets, self._personale_job, elsewhere=self.beside, workbook=self.wb)
        self.personale.start()

    def _finish_personale(self) -> None:
        """Assegnazioni and Personale written: what writing their rows counted, carried over from the process
        that wrote them."""
        if self.personale is None:
            return
        people, assignments, written, truncated = self.personale.finish()
        if self.personale.ran_elsewhere:
            self.summary.valori_scritti += written
            self.summary.testi_troncati += truncated
        self.personale = None
        self._finish(PERSONALE, people)
        self._finish(ASSEGNAZIONI, assignments)

    def _personale_job(self) -> tuple[int, int, int, int]:
        """Everyone's assignments gathered from the areas (read here, on their own: this may run in a
        process of its own while the other sheets are written), then ``_personale_rows``; how many rows each
        sheet has and what writing them added to the summary's counts (values written, texts cut)."""
        written, truncated = self.summary.valori_scritti, self.summary.testi_troncati
        people = _Incarichi(self.scratch)
        try:
            names: list[str] = []
            pcts: list[float | None] = []  # each objective's %, by its index in Obiettivi (as ``pairs``)
            for a, area in enumerate(self.aree):
                names.append(area.nome)
                for ob in area.obiettivi:
                    pcts.append(objective_pct(ob, self.ril, self.regole))
                    people.gather(a, len(pcts) - 1, ob)
            rows, assignments = self._personale_rows(people, names, pcts)
        finally:
            people.close()
        return rows, assignments, self.summary.valori_scritti - written, self.summary.testi_troncati - truncated

    def _personale_rows(self, people: _Incarichi, names: list[str], pcts: list[float | None]) -> tuple[int, int]:
        """Assegnazioni: one row per person and objective, its weight stars × share × time as formulas;
        Personale: one row per matricola across all areas, the weighted mean of its rows. Returns how many
        rows each has. ``names``: the areas' names, ``pcts`` the objectives' %, by index."""
        order = people.order()
        n = len(people)
        mat_col, quota_col = ASSEGNAZIONI.range("matricola", n), ASSEGNAZIONI.range("quota", n)
        weight_col, pct_col = (ASSEGNAZIONI.range(k, n) for k in ("peso", "pct"))
        a = 0
        # Each person's rows in Assegnazioni, then their row in Personale (each sheet's rows in order): one
        # person's assignments are made into light models once, for both.
        for r, matricola in enumerate(order, start=1):
            entries = people.entries(matricola)
            assigned = self._assigned(entries)
            shares = effective_shares(assigned)
            weights = assignment_weights(assigned, self.anno, self.regole)
            for x, item, share, weight in zip(entries, assigned, shares, weights, strict=True):
                a += 1
                row = ASSEGNAZIONI.header_row + a
                persona = item.persona
                ob_row = OBIETTIVI.header_row + 1 + x.k
                stars: object = 1
                if self.regole.pesi_aree == "stelle":
                    stars = Formula(f"={OBIETTIVI.cell('peso', ob_row, sheet=True)}", x.peso)
                source = OBIETTIVI.cell("pct", ob_row, sheet=True)
                link = _copy(source, _cached(pcts[x.k]))
                values = {
                    "matricola": matricola,
                    "nome": entries[0].nome,
                    "area": names[x.area],
                    "codice_obiettivo": x.codice,
                    "stelle": stars,
                    **_assignment_inputs(persona),
                    "quota_usata": Formula(self._share_formula(row, mat_col, quota_col), share),
                    "tempo": Formula(self._time_formula(row), year_fraction(persona, self.anno)),
                    "peso": Formula(self._weight_formula(row), weight),
                    "pct": link,
                }
                self._row(ASSEGNAZIONI, a, values)
                self._count_input(persona.quota, persona.dal, persona.al)
            me = PERSONALE.cell("matricola", PERSONALE.header_row + r)
            mean = _mean_formula(f"({mat_col}={me})", pct_col, weight_col)
            # assigned_pct (person_pct from the assignments gathered once), with each objective's % as
            # Obiettivi kept it (by its index).
            kept = [pcts[x.k] for x in entries]
            cached = weighted_mean(list(zip(kept, weights, strict=True)))
            person: dict[str, object] = {
                "matricola": matricola,
                "nome": entries[0].nome,
                "categoria": next((x.categoria for x in entries if x.categoria), ""),
                "aree": "; ".join(dict.fromkeys(names[x.area] for x in entries)),
                "codici": "; ".join(x.codice for x in entries),
                "n_obiettivi": len(assigned),
                "pct": Formula(mean, _cached(cached)),
            }
            self._row(PERSONALE, r, person)
        return len(order), a

    def _assigned(self, entries: list[_Incarico]) -> list[Assegnazione]:
        """One person's assignments as models again, for what ``scoring`` computes of them (share, stars, time):
        light copies of templates, never validated (the values were), the same copy for the same values. The
        texts (names, codes) the rows show are the records' own."""
        made = []
        for x in entries:
            obiettivo = self.templates.get(x.peso)
            if obiettivo is None:
                obiettivo = self.templates[x.peso] = _OBIETTIVO.model_copy(update={"peso": x.peso})
            key = (repr(x.quota), x.dal, x.al)  # repr: -0.0 is not 0.0, nor 1 1.0
            persona = self.persone.get(key)
            if persona is None:
                if len(self.persone) >= 4_096:  # a few values recur; a bound, however many people
                    self.persone.clear()
                update = {"quota": x.quota, "dal": x.dal, "al": x.al}
                persona = self.persone[key] = _PERSONA.model_copy(update=update)
            made.append(Assegnazione(_AREA, obiettivo, persona))
        return made

    def _count_rows(self, area: Area, r: int) -> int:
        """Without personal data, the area's rows of Assegnazioni after its ``r``-th data row, how many people per
        objective (never who); returns the last one written. Its people by category are gathered for Personale,
        and their assignments' values counted as left out."""
        for ob in area.obiettivi:
            assigned = {p.matricola: p.categoria for p in ob.risorse_umane}
            r += 1
            values = {"area": area.nome, "codice_obiettivo": ob.codice, "persone": len(assigned)}
            self._row(ASSEGNAZIONI_CONTEGGI, r, values)
            for matricola, categoria in assigned.items():
                who, pairs = self.by_category.setdefault((area.nome, categoria or "non indicata"), (set(), [0]))
                who.add(matricola)
                pairs[0] += 1
        given = (v for o in area.obiettivi for p in o.risorse_umane for v in (p.quota, p.dal, p.al))
        self.summary.valori_omessi += _given(*given)
        return r

    def _write_people_counts(self) -> None:
        """Without personal data: how many people per area and category (gathered by ``_count_rows``)."""
        by_category = self.by_category
        order = {nome: n for n, nome in enumerate(self.area_names)}
        groups = sorted(by_category.items(), key=lambda item: (order[item[0][0]], item[0][1].casefold()))
        for r, ((area_name, categoria), (who, pairs)) in enumerate(groups, start=1):
            values = {"area": area_name, "categoria": categoria, "persone": len(who), "assegnazioni": pairs[0]}
            self._row(PERSONALE_CONTEGGI, r, values)
        self._finish(PERSONALE_CONTEGGI, len(by_category))

    def _share_formula(self, row: int, mat_col: str, quota_col: str) -> str:
        """The share given, else an equal part of what this person's given shares leave (never below 0)."""
        quota, me = ASSEGNAZIONI.cell("quota", row), ASSEGNAZIONI.cell("matricola", row)
        given = f"SUMPRODUCT(({mat_col}={me})*1,{quota_col})"
        blanks = f"SUMPRODUCT(({mat_col}={me})*(1-ISNUMBER({quota_col})))"
        return f"=IF(ISNUMBER({quota}),{quota},MAX(0,{FULL_SHARE:g}-{given})/{blanks})"

    def _time_formula(self, row: int) -> str:
        """Days on the objective within the year (both ends included) over the days of the year."""
        start, end = self.year
        dal, al = ASSEGNAZIONI.cell("dal", row), ASSEGNAZIONI.cell("al", row)
        # ISNUMBER: an empty date and a «valore non valido» both count as not given.
        last = f"MIN(IF(ISNUMBER({al}),{al},{end}),{end})"
        first = f"MAX(IF(ISNUMBER({dal}),{dal},{start}),{start})"
        return f"=MAX(0,{last}-{first}+1)/({end}-{start}+1)"

    def _weight_formula(self, row: int) -> str:
        """stars × share / 100 × time, in the order ``scoring.assignment_weights`` multiplies them."""
        stelle, quota, tempo = (ASSEGNAZIONI.cell(k, row) for k in ("stelle", "quota_usata", "tempo"))
        return f"={stelle}*{quota}/{FULL_SHARE:g}*{tempo}"

    def _write_anomalie(self, anomalie: list[Anomalia], files: list[str]) -> None:
        sheet, ws = ANOMALIE, self.sheets[ANOMALIE.name]
        anomalie, omitted = _fit_sheet(anomalie)
        for r, (x, file) in enumerate(zip(anomalie, files[: len(anomalie)], strict=True), start=1):
            self._row(sheet, r, _anomaly_values(x, file))
            target = self._link_target(x)
            if target and r <= MAX_LINKS:
                ws.write_url(
                    sheet.header_row + r,
                    sheet.index("vai_a"),
                    f"internal:{target}",
                    self._cell_format(Kind.LINK, r),
                    target.replace("'", ""),
                )
        if omitted:
            note = f"Altre {omitted:,} anomalie non stanno nel foglio: l'elenco completo è nell'output --json"
            values = {"codice": "anomalie-omesse", "gravita": "avviso", "messaggio": note.replace(",", ".")}
            self._row(sheet, len(anomalie) + 1, values)
        self._finish(sheet, len(anomalie) + bool(omitted))

    def _link_target(self, a: Anomalia) -> str:
        """The master row a finding concerns: its phase (its indicator if the finding is on the indicator
        sheet), its objective, else its area's Riepilogo row."""
        kinds = ("indicatore", "fase") if a.foglio.casefold() == INDICATORI.name.casefold() else ("fase", "indicatore")
        for kind in kinds:
            if a.fase and self.links.get((kind, a.area, a.fase)) is not None:
                return self._link_to((kind, a.area, a.fase))
        if a.obiettivo and self.links.get(("obiettivo", a.area, a.obiettivo)) is not None:
            return self._link_to(("obiettivo", a.area, a.obiettivo))
        if a.area.casefold() in self.area_row:
            return _target(RIEPILOGO, self.area_row[a.area.casefold()])
        return ""

    def _write_fonti(self, fonti: list[Fonte]) -> None:
        for r, f in enumerate(fonti, start=1):
            values = {
                "file": f.file,
                "area": f.area,
                "rilevazione": f.rilevazione,
                "versione_modello": f.versione_modello,
                "versione_piano": f.versione_piano,
                "sha256": f.sha256,
                "compilato_il": f.compilato_il,
                "stato": f.stato,
                "motivo": f.motivo,
            }
            self._row(FONTI, r, values)
        self._finish(FONTI, len(fonti))

    # -- the per-area pages -------------------------------------------------

    def _finish_aree(self) -> None:
        """The areas' pages (written by ``_write_areas``) printed one to a page, without gridlines."""
        ws = self.sheets[AREE_NAME]
        ws.set_h_pagebreaks(self.page_breaks[:1023])  # Excel's limit of manual page breaks
        self._page(ws)
        ws.hide_gridlines(2)
        self.summary.righe[AREE_NAME] = len(self.area_names)

    def _area_page(self, ws: Worksheet, row: int, a: int, area: Area, shown: list[Row], found: int) -> int:
        """Write one area's page from ``row`` (``a``: the area's index; ``shown``: the rows of its first
        findings, of ``found``); return the row after it."""
        self._str(ws, row, 0, area.nome, self.fmt["area_title"])
        ws.set_row(row, height(1, size=14))
        self._str(ws, row + 1, 0, f"{self.title} – {self.subtitle}", self.fmt["italic"])
        row += 3
        riepilogo = self.area_row[area.nome.casefold()]
        summary = [("pct", RIEPILOGO.columns[RIEPILOGO.index("pct")].header, Kind.PCT)]
        summary += [(c.key, RIEPILOGO.columns[RIEPILOGO.index(c.key)].header, Kind.NUM) for c in COUNTS]
        # As Riepilogo shows them: the counts and the objectives' % and weights Obiettivi kept of the area.
        conteggi, pct = self.area_counts[a], _cached(weighted_mean(self.pairs[self.area_pairs[a]]))
        for key, label, kind in summary:
            source = RIEPILOGO.cell(key, riepilogo, sheet=True)
            cached = pct if key == "pct" else getattr(conteggi, key)
            self._str(ws, row, 0, label, self.fmt["label"])
            self._write(ws, row, 2, _copy(source, cached), self.fmt[kind])
            if key == "pct":
                self._bands(ws, row, row, 2)
            row += 1
        row += 1
        row = self._box(
            ws,
            row,
            "Obiettivi",
            ["Codice", "Obiettivo", "Stelle", "% raggiungimento", "Fine prevista", "Fine effettiva"],
            [
                [
                    ob.codice,
                    ob.titolo + _correction_note(ob),
                    _stars(ob.peso),
                    _copy(
                        OBIETTIVI.cell("pct", OBIETTIVI.header_row + 1 + k, sheet=True),
                        _cached(self.pairs[k][0]),
                    ),
                    ob.data_fine_prevista,
                    ob.data_fine_effettiva,
                ]
                for k, ob in enumerate(area.obiettivi, start=self.area_pairs[a].start)
            ],
            {3: Kind.PCT, 4: Kind.DATE, 5: Kind.DATE},
            bands=3,
        )
        late = [
            [f.codice, f.descrizione, state, ob.codice, f.data_fine_prevista, f.data_fine_effettiva]
            for ob in area.obiettivi
            for f in ob.fasi
            if (state := stato(f, self.rif)) in ("in ritardo", "scaduta")
        ]
        row = self._box(
            ws,
            row,
            "Fasi in ritardo o scadute (alla data di riferimento)",
            ["Codice", "Fase", "Stato", "Obiettivo", "Fine prevista", "Fine effettiva"],
            late,
            {4: Kind.DATE, 5: Kind.DATE},
        )
        title = "Anomalie aperte"
        if found > len(shown):
            title += f" (le prime {len(shown)} di {found}: tutte nel foglio «{ANOMALIE.name}»)"
        return self._box(
            ws, row, title, ["Fase o obiettivo", "Messaggio", "Gravità", "Foglio", "Cella", "Codice"], shown, {}
        )

    def _box(
        self,
        ws: Worksheet,
        row: int,
        title: str,
        headers: list[str],
        data: Sequence[Sequence[object]],
        kinds: dict[int, Kind],
        bands: int | None = None,
    ) -> int:
        """A small titled list on an area page; "Nessuna" when empty. Returns the row after it."""
        self._str(ws, row, 0, title, self.fmt["label"])
        row += 1
        if not data:
            self._str(ws, row, 0, "Nessuna.", self.fmt["italic"])
            return row + 2
        header_lines = max(lines(h, AREE_WIDTHS[c], bold=True) for c, h in enumerate(headers))
        ws.write_cells(
            row, [(c, self._text(h), self.fmt["box_header"]) for c, h in enumerate(headers)], height(header_lines)
        )
        first = row + 1
        for values in data:
            row += 1
            count = 1
            cells: list[tuple[int, object, Format | None]] = []
            for c, value in enumerate(values):
                if isinstance(value, str):
                    if len(value) > _AREE_ONE_LINE[c] or "\n" in value:
                        count = max(count, lines(value[:MAX_CELL_TEXT], AREE_WIDTHS[c]))
                    value = self._text(value)
                cells.append((c, value, self.fmt[kinds.get(c, Kind.TEXT)]))
            ws.write_cells(row, cells, height(count) if count > 1 else None)
        if bands is not None:
            self._bands(ws, first, row, bands)
        return row + 2


def _page_row(x: Anomalia) -> Row:
    """A finding as an area's page lists it."""
    return (x.fase or x.obiettivo, x.messaggio, x.gravita.value, x.foglio, x.cella, x.codice)


def _correction_note(ob: Obiettivo) -> str:
    """On the area's page, a corrected objective says so: its dirigente reads the reason in «Rettifiche»."""
    if ob.esclusa:
        return f" [esclusa dalla valutazione: vedi «{RETTIFICHE.name}»]"
    if ob.pct_rettificata is not None:
        return f" [% rettificata dall'ufficio: vedi «{RETTIFICHE.name}»]"
    return ""


# What ``_assigned`` copies (the area as it is: nothing reads it): ``model_construct`` runs every default
# factory (slow, for each of thousands of assignments); a copy of one made once does not.
_AREA = Area.model_construct(nome="", obiettivi=[])
_OBIETTIVO = Obiettivo.model_construct(codice="", peso=0)
_PERSONA = Persona.model_construct(matricola="", nome="")
# The sheet each kind of link target is on.
_LINK_SHEETS = {"obiettivo": OBIETTIVI, "indicatore": INDICATORI, "fase": FASI}


@dataclass(frozen=True, slots=True)
class _Incarico:
    """One person on one objective as Assegnazioni and Personale need it (``area``: the area's index;
    ``k``: the objective's in Obiettivi)."""

    area: int
    k: int
    codice: str
    peso: int
    matricola: str
    nome: str
    categoria: str
    quota: float | None
    dal: date | None
    al: date | None


class _Incarichi:
    """Everyone's assignments, met area by area, given back person by person (Assegnazioni and
    Personale are sorted by name): each is written as it comes to a file in the master's scratch folder (one
    line of JSON, never unpickled), and memory keeps per person only the name it is sorted by and where its
    lines are. A region's thousands of areas hold no more than a comune's few."""

    def __init__(self, folder: Path) -> None:
        # Personal data: gone when closed (``write_master`` closes it), and with the folder in any case.
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (open until the rows are written)
        self._where: dict[str, tuple[str, array[int]]] = {}  # matricola -> (first entry's name, offsets)
        self._count = 0

    def gather(self, area: int, k: int, ob: Obiettivo) -> None:
        """The assignments of ``ob``, the ``k``-th objective, of the area at index ``area``: a person's first
        entry on it only, as ``piano.assegnazioni.assignments`` takes it."""
        seen: set[str] = set()
        for p in ob.risorse_umane:
            if p.matricola in seen:
                continue
            seen.add(p.matricola)
            where = self._where.get(p.matricola)
            if where is None:
                where = self._where[p.matricola] = (p.nome, array("q"))
            where[1].append(self._file.tell())
            dates = [None if d is None else d.toordinal() for d in (p.dal, p.al)]
            record = [area, k, ob.codice, ob.peso, p.nome, p.categoria, p.quota, *dates]
            self._file.write(json.dumps(record).encode() + b"\n")  # ASCII: any text, even a lone surrogate
            self._count += 1

    def __len__(self) -> int:
        return self._count

    def order(self) -> list[str]:
        """Everyone's matricola, by the name of their first entry (then matricola)."""
        where = self._where
        return sorted(where, key=lambda m: (where[m][0].casefold(), m))

    def entries(self, matricola: str) -> list[_Incarico]:
        """One person's assignments, in the order they were met."""
        found: list[_Incarico] = []
        for offset in self._where[matricola][1]:
            self._file.seek(offset)
            area, k, codice, peso, nome, categoria, quota, dal, al = json.loads(self._file.readline())
            dates = [None if d is None else date.fromordinal(d) for d in (dal, al)]
            found.append(_Incarico(area, k, codice, peso, matricola, nome, categoria, quota, *dates))
        self._file.seek(0, 2)  # where the next one is written, if any
        return found

    def close(self) -> None:
        self._file.close()


def _indicator_total(aree: Sequence[Area]) -> int:
    """How many indicators all the areas have (Obiettivi's formulas reach over all of them, from its first
    row): kept by the compressed areas as they are added, counted on the models otherwise."""
    if isinstance(aree, AreeCompresse):
        return aree.indicatori
    return sum(len(ob.indicatori) for area in aree for ob in area.obiettivi)


def _correction_key(x: Applicata) -> tuple[str, str, str]:
    return (x.area.nome, x.obiettivo.codice, x.indicatore.codice if x.indicatore else "")


def _target(sheet: Sheet, row: int) -> str:
    """Link target: the first cell of the 0-based ``row``."""
    return f"'{sheet.name}'!A{row + 1}"


# Rows of a sheet (Excel's limit) less the header and the row that says how many were left out.
MAX_SHEET_ROWS = 1_048_576 - 2


def _fit_sheet(anomalie: list[Anomalia]) -> tuple[list[Anomalia], int]:
    """The findings a sheet can hold and how many are left out: the master says so, never drops silently."""
    if len(anomalie) <= MAX_SHEET_ROWS + 1:
        return anomalie, 0
    return anomalie[:MAX_SHEET_ROWS], len(anomalie) - MAX_SHEET_ROWS


def _assignment_inputs(persona: Persona) -> dict[str, object]:
    """Share and dates as given; an invalid one shown as text, which the formulas take as not given."""
    values: dict[str, object] = {"quota": persona.quota, "dal": persona.dal, "al": persona.al}
    if not valid_share(persona.quota):
        values["quota"] = f"{INVALID_VALUE} ({persona.quota:g})"
    if reversed_dates(persona):
        for key in ("dal", "al"):
            values[key] = f"{INVALID_VALUE} ({getattr(persona, key):%d/%m/%Y})"
    return values


def _given(*values: object) -> int:
    """How many of ``values`` an area filled in."""
    return sum(v not in (None, "") for v in values)


def _sign_off(firma: Compilazione, nominativi: bool = True) -> dict[str, object]:
    """The scheda's compilation block as Riepilogo shows it (typed by the area: text, never a formula).

    Without names (the extract without personal data) neither who compiled nor who approved appears:
    that the scheda was compiled and approved, and when, are facts and stay."""
    if not nominativi:
        compilata = OMITTED if firma.compilata_da.strip() else ""
        approvata = "approvata" if firma.approvata_da.strip() or firma.data_approvazione else ""
        if firma.data_approvazione is not None:
            approvata = f"{approvata} ({firma.data_approvazione:%d/%m/%Y})"
        return {"compilata_da": compilata, "approvazione": approvata}
    approvazione = firma.approvata_da.strip()
    if firma.data_approvazione is not None:
        approvazione = f"{approvazione} ({firma.data_approvazione:%d/%m/%Y})".strip()
    return {"compilata_da": firma.compilata_da.strip(), "approvazione": approvazione}


def _stars(peso: int) -> str:
    return "★" * peso if 0 < peso <= 10 else str(peso)


def _anomaly_values(x: Anomalia, file: str) -> dict[str, object]:
    """One row of «Anomalie»: where the finding is in the area's workbook, and what it says."""
    where = [file, x.foglio, x.cella]
    return {
        "codice": x.codice,
        "gravita": x.gravita.value,
        "area": x.area,
        "obiettivo": x.obiettivo,
        "fase": x.fase,
        "dove": " › ".join(part for part in where if part) if x.foglio or x.cella else "",
        "valore": x.valore,
        "messaggio": x.messaggio,
    }


def stato(fase: Fase, data_riferimento: date) -> str:
    """The phase's state on the reference date; the master's «Stato» formula computes the same."""
    return fase.stato(data_riferimento).value
