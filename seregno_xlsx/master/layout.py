"""The one description of the master workbook: sheets, columns by key, headers, widths, formats.

``master/writer.py`` writes from this description only: a column is named by its key, never by
its letter or position, and every formula is built from column keys (``Sheet.cell``,
``Sheet.range``), so adding, removing or moving a column is one entry here.

Widths add up to what an A4 landscape page shows in legible type (about 170 units): long texts
wrap in fixed-width columns, and the phase details live in «Fasi» rather than being repeated in
«Indicatori».
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from seregno_xlsx.scheda.fit import one_line
from seregno_xlsx.texts import default_templates_dir, load_toml


class Kind(StrEnum):
    """How a column's cells are formatted (and written)."""

    TEXT = "text"
    NUM = "num"
    PCT = "pct"
    DATE = "date"
    DATETIME = "datetime"
    LINK = "link"
    DEC = "dec"  # a computed number shown with two decimals
    CODE = "code"  # a code (Ob_Obiet130101): shrunk to fit its column, never broken across lines


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: float
    kind: Kind = Kind.TEXT

    @cached_property
    def one_line(self) -> int:
        """The longest text certain to hold on one line of the column (``scheda.fit.one_line``)."""
        return one_line(self.width)


@dataclass(frozen=True)
class Sheet:
    """A sheet holding one table: its header on ``header_row`` (0-based), data rows below."""

    name: str
    columns: tuple[Col, ...]
    header_row: int = 0

    @property
    def first_row(self) -> int:
        """0-based row of the first data row."""
        return self.header_row + 1

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    # Looked up once per sheet: the master asks for a column's place and letter hundreds of thousands of times.
    @cached_property
    def key_set(self) -> frozenset[str]:
        return frozenset(c.key for c in self.columns)

    @cached_property
    def _indexes(self) -> dict[str, int]:
        return {column.key: i for i, column in reversed(list(enumerate(self.columns)))}

    @cached_property
    def _letters(self) -> dict[str, str]:
        return {key: str(xl_col_to_name(i)) for key, i in self._indexes.items()}

    def index(self, key: str) -> int:
        try:
            return self._indexes[key]
        except KeyError:
            raise KeyError(f"{self.name}: nessuna colonna «{key}»") from None

    def letter(self, key: str) -> str:
        try:
            return self._letters[key]
        except KeyError:
            raise KeyError(f"{self.name}: nessuna colonna «{key}»") from None

    def cell(self, key: str, row: int, *, sheet: bool = False) -> str:
        """A1 reference of the column's cell on the 0-based ``row`` (qualified by the sheet if asked)."""
        ref = f"{self.letter(key)}{row + 1}"
        return f"{self.name}!{ref}" if sheet else ref

    def range(self, key: str, rows: int) -> str:
        """Absolute range of the column's ``rows`` data rows (at least one, so it stays valid)."""
        letter = self.letter(key)
        first = self.first_row + 1
        return f"{self.name}!${letter}${first}:${letter}${first + max(rows, 1) - 1}"


RIEPILOGO = Sheet(
    "Riepilogo",
    (
        Col("area", "Area", 28),
        Col("stato", "Scheda", 12),
        Col("obiettivi", "N. obiettivi", 10, Kind.NUM),
        Col("fasi_concluse", "Fasi concluse", 10, Kind.NUM),
        Col("fasi_in_ritardo", "Fasi in ritardo", 10, Kind.NUM),
        Col("fasi_scadute", "Fasi scadute non rendicontate", 13, Kind.NUM),
        Col("indicatori_senza_valore", "Indicatori senza valore", 11, Kind.NUM),
        Col("pct", "% raggiungimento ponderata", 15, Kind.PCT),
        Col("pct_prima", "% alla 1° rilevazione (nella finale)", 13, Kind.PCT),
        Col("valori_non_validi", "Valori non validi (contati come mancanti)", 13, Kind.NUM),
        Col("rettifiche", "Rettifiche dell'ufficio", 11, Kind.NUM),
        # The scheda's compilation block, as the area typed it.
        Col("compilata_da", "Compilata da", 14),
        Col("approvazione", "Approvata dal dirigente (data)", 15),
    ),
    # Title, round, reference date and coverage above the table.
    header_row=5,
)
# Cells of the block above Riepilogo's table (0-based row, column): labels in A, values in B.
RIEPILOGO_TITLE_ROW = 0
RIEPILOGO_ROUND_ROW = 1
RIEPILOGO_DATE_ROW = 2
RIEPILOGO_COVERAGE_ROW = 3
REFERENCE_DATE = f"Riepilogo!$B${RIEPILOGO_DATE_ROW + 1}"

OBIETTIVI = Sheet(
    "Obiettivi",
    (
        Col("area", "Area", 18),
        Col("codice", "Codice", 13),
        Col("titolo", "Titolo", 30),
        Col("peso", "Peso (stelle)", 8, Kind.NUM),
        Col("n_indicatori", "N. indicatori", 10, Kind.NUM),
        Col("pct", "% raggiungimento", 15, Kind.PCT),
        # The final round beside the intermediate one, and last year's final % of a multi-year objective.
        Col("pct_prima", "% alla 1° rilevazione", 11, Kind.PCT),
        Col("pct_anno_precedente", "% finale anno precedente", 11, Kind.PCT),
        Col("data_inizio_effettiva", "Data inizio effettiva", 11, Kind.DATE),
        Col("data_fine_prevista", "Data fine prevista", 11, Kind.DATE),
        Col("data_fine_effettiva", "Data fine effettiva", 11, Kind.DATE),
        Col("note", "Note", 26),
    ),
)

INDICATORI = Sheet(
    "Indicatori",
    (
        Col("area", "Area", 13),
        Col("codice_obiettivo", "Codice obiettivo", 12, Kind.CODE),
        Col("codice", "Codice attività", 12, Kind.CODE),
        Col("fase", "Fase", 16),
        Col("indicatore", "Indicatore", 14),
        Col("si_no", "SI/NO", 6),
        Col("peso", "Peso", 7, Kind.NUM),
        Col("valore_target", "Valore target", 10, Kind.NUM),
        Col("prima_rilevazione", "1° rilevazione", 11, Kind.NUM),
        Col("valore_raggiunto", "Valore raggiunto", 10, Kind.NUM),
        Col("variazione", "Variazione (raggiunto − 1° ril.)", 10, Kind.NUM),
        Col("pct", "% raggiungimento", 15, Kind.PCT),
        # How the % is computed (piano/regola.py), in words; the phase text is in «Fasi» (hence narrower above).
        Col("regola", "Regola di misura", 12),
        Col("pct_prima", "% alla 1° rilevazione", 11, Kind.PCT),
        Col("evidenza", "Evidenza", 16),
    ),
)

FASI = Sheet(
    "Fasi",
    (
        Col("area", "Area", 18),
        Col("codice_obiettivo", "Codice obiettivo", 13, Kind.CODE),
        Col("codice", "Codice fase", 14, Kind.CODE),
        Col("descrizione", "Fase", 26),
        Col("data_inizio_prevista", "Data inizio prevista", 11, Kind.DATE),
        Col("data_fine_prevista", "Data fine prevista", 11, Kind.DATE),
        Col("data_inizio_effettiva", "Data inizio effettiva", 11, Kind.DATE),
        Col("data_fine_effettiva", "Data fine effettiva", 11, Kind.DATE),
        Col("stato", "Stato", 11),
        Col("monitoraggio", "Monitoraggio", 30),
        Col("evidenza", "Evidenza", 18),
    ),
)

PERSONALE = Sheet(
    "Personale",
    (
        Col("matricola", "Matricola", 11),
        Col("nome", "Nome", 26),
        Col("categoria", "Categoria", 10),
        Col("aree", "Aree", 30),
        Col("codici", "Codici obiettivi", 30),
        Col("n_obiettivi", "N. obiettivi", 10, Kind.NUM),
        Col("pct", "% raggiungimento ponderata", 15, Kind.PCT),
    ),
)

ASSEGNAZIONI = Sheet(
    "Assegnazioni",
    (
        Col("matricola", "Matricola", 11),
        Col("nome", "Nome", 24),
        Col("area", "Area", 26),
        Col("codice_obiettivo", "Codice obiettivo", 14),
        Col("stelle", "Stelle", 7, Kind.NUM),
        # As the area (or the plan) gave it, and as it counts: empty shares split what the others leave.
        Col("quota", "Quota % indicata", 10, Kind.NUM),
        Col("quota_usata", "Quota % usata", 10, Kind.DEC),
        Col("dal", "Dal", 11, Kind.DATE),
        Col("al", "Al", 11, Kind.DATE),
        Col("tempo", "Tempo nell'anno", 10, Kind.PCT),
        Col("peso", "Peso (stelle × quota × tempo)", 12, Kind.DEC),
        Col("pct", "% raggiungimento", 15, Kind.PCT),
    ),
)

# The extract without personal data (master/remit.py): people as counts, on the sheets that name them
# in the office's master, never who.
PERSONALE_CONTEGGI = Sheet(
    "Personale",
    (
        Col("area", "Area", 34),
        Col("categoria", "Categoria", 16),
        Col("persone", "N. persone", 10, Kind.NUM),
        Col("assegnazioni", "N. assegnazioni a obiettivi", 13, Kind.NUM),
    ),
)

ASSEGNAZIONI_CONTEGGI = Sheet(
    "Assegnazioni",
    (
        Col("area", "Area", 26),
        Col("codice_obiettivo", "Codice obiettivo", 14),
        Col("persone", "N. persone assegnate", 12, Kind.NUM),
    ),
)

ANOMALIE = Sheet(
    "Anomalie",
    (
        Col("codice", "Codice", 18),
        Col("gravita", "Gravità", 9),
        Col("area", "Area", 16),
        Col("obiettivo", "Obiettivo", 12),
        Col("fase", "Fase", 13),
        Col("dove", "Dove, nel file dell'area (file › foglio › cella)", 24),
        Col("valore", "Valore", 14),
        Col("messaggio", "Messaggio", 46),
        Col("vai_a", "Vai a (nel master)", 15, Kind.LINK),
    ),
)

FONTI = Sheet(
    "Fonti",
    (
        Col("file", "File", 34),
        Col("area", "Area", 22),
        Col("rilevazione", "Rilevazione", 12),
        Col("versione_modello", "Versione modello", 9),
        Col("versione_piano", "Versione del piano", 9),
        Col("sha256", "SHA-256", 22),
        Col("compilato_il", "Compilato il", 16, Kind.DATETIME),
        Col("stato", "Stato", 11),
        Col("motivo", "Motivo", 36),
    ),
)

# The office's corrections (the rettifiche file beside the returns): one row each, what was computed, the
# corrected figure (the formulas of Indicatori and Obiettivi take it from here) and why, who, when.
RETTIFICHE = Sheet(
    "Rettifiche",
    (
        Col("area", "Area", 16),
        Col("obiettivo", "Obiettivo", 12),
        Col("indicatore", "Indicatore (codice attività)", 14),
        Col("tipo", "Tipo", 11),
        Col("originale", "Originale", 11, Kind.NUM),
        Col("rettificato", "Rettificato", 11, Kind.NUM),
        Col("motivo", "Motivo", 38),
        Col("deciso_da", "Deciso da", 18),
        Col("data", "Data della decisione", 11, Kind.DATE),
        Col("vai_a", "Vai a (riga rettificata)", 14, Kind.LINK),
    ),
)

# The per-area pages: one block per area, a page break between areas. Not a table: a few short
# lists under each other, in these columns.
AREE_NAME = "Pagine per area"
AREE_WIDTHS = (15.0, 56.0, 11.0, 15.0, 12.0, 12.0, 14.0)

TABLES: tuple[Sheet, ...] = (
    RIEPILOGO,
    OBIETTIVI,
    INDICATORI,
    FASI,
    PERSONALE,
    ASSEGNAZIONI,
    ANOMALIE,
    FONTI,
    RETTIFICHE,
)
# In the workbook, the per-area pages come right after the Riepilogo.
SHEET_ORDER: tuple[str, ...] = (RIEPILOGO.name, AREE_NAME, *(s.name for s in TABLES[1:]))


def is_master_sheets(names: list[str]) -> bool:
    """The sheets of a master or an extract, by name in order: Riepilogo first, and the tables every
    release has had (a master of an earlier release may lack the sheets added since)."""
    return names[:1] == [RIEPILOGO.name] and set(names) >= _MASTER_SHEETS


_MASTER_SHEETS = frozenset(s.name for s in (OBIETTIVI, INDICATORI, FONTI, ANOMALIE))


@dataclass(frozen=True)
class Count:
    """A Riepilogo count: the rows of a detail sheet of the area that meet every condition.

    Conditions are templates over the detail sheet's column keys (``{data_fine_effettiva}``),
    plus ``{valore}`` (the round's indicator value) and ``{riferimento}`` (the reference date).
    The cached value is the field of ``scoring.Conteggi`` named like the Riepilogo column.
    """

    key: str
    sheet: Sheet
    conditions: tuple[str, ...] = ()


COUNTS: tuple[Count, ...] = (
    Count("obiettivi", OBIETTIVI),
    Count("fasi_concluse", FASI, ('{data_fine_effettiva}<>""',)),
    Count(
        "fasi_in_ritardo",
        FASI,
        ('{data_fine_effettiva}<>""', '{data_fine_prevista}<>""', "{data_fine_effettiva}>{data_fine_prevista}"),
    ),
    Count(
        "fasi_scadute",
        FASI,
        ('{data_fine_effettiva}=""', '{data_fine_prevista}<>""', "{data_fine_prevista}<{riferimento}"),
    ),
    Count("indicatori_senza_valore", INDICATORI, ('{valore}=""',)),
    # «valore non valido (…)» is the only text a round's value cell can hold.
    Count("valori_non_validi", INDICATORI, ("ISTEXT({valore})",)),
    # The office's corrections of the area's objectives and indicators (one row each in «Rettifiche»).
    Count("rettifiche", RETTIFICHE),
)


class Soglie(BaseModel):
    """Colour bands of % raggiungimento (fractions): green from ``buona``, yellow from ``sufficiente``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buona: Annotated[float, Field(ge=0, le=10)] = 0.9
    sufficiente: Annotated[float, Field(ge=0, le=10)] = 0.6


class Controlli(BaseModel):
    """Checks between rounds: how far an objective's % may fall from one round to the next (a fraction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calo_massimo_obiettivo: Annotated[float, Field(ge=0, le=10)] = 0.2


class Impostazioni(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    soglie: Soglie = Soglie()
    controlli: Controlli = Controlli()


def load_settings(templates_dir: Path | None = None) -> Impostazioni:
    """``modelli/master.toml``: what an office may adapt in the master without code."""
    return load_toml((templates_dir or default_templates_dir()) / "master.toml", Impostazioni, "file del master")
