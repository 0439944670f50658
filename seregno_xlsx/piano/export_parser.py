"""Parser of the management system's text export ("Scheda Obiettivo Gestionale").

One file holds one area: a header (ente, title with the year, delibera, the
line ``"Area ..." - Responsabile: ...``) then one block per objective, each
starting at ``LINEA STRATEGICA:``.  The export is a printout turned into text,
so page breaks leave runs of blank lines and the page header "Scheda Obiettivo
Gestionale" anywhere, even inside tables and sentences; tables repeat their
header row after a page break.

How it works: lines are read with their 1-based number; page headers become
blank lines; the file is split into the header and the objective blocks; each
block is cut into sections by its headings (a heading counts only if it comes
later in the scheda's fixed order than the current section, so a text line
that happens to read "Altro" inside the notes is still text); each section has
its own small parser.

Lines starting with ``# `` *before* the header are comments and are skipped:
the invented examples under ``esempi/fonti`` use one to say they are invented.

Problems in the data that do not stop parsing are findings (codes
``testo-fase-diverso`` and ``fase-di-altro-obiettivo``); anything that cannot be
parsed raises :class:`SourceError` with the file and the line number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from seregno_xlsx.atomic import os_reason
from seregno_xlsx.errors import SourceError
from seregno_xlsx.findings import Anomalia, finding
from seregno_xlsx.piano.model import (
    Area,
    Fase,
    Indicatore,
    Obiettivo,
    Persona,
    Piano,
    RisorseFinanziarie,
    RisorseStrumentali,
    new_fingerprint_key,
)

__all__ = ["parse_export", "parse_exports", "parse_italian_date", "parse_italian_number"]

PAGE_HEADER = "Scheda Obiettivo Gestionale"
_COMMENT_PREFIX = "# "
_OBJECTIVE_START = "LINEA STRATEGICA:"

# ---------------------------------------------------------------------------
# Values


_NUMBER_RE = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_DATE_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def parse_italian_number(text: str) -> float | None:
    """``"8.000,00"`` -> 8000.0, ``"0,00%"`` -> 0.0, ``""`` -> None; ValueError otherwise."""
    value = text.strip().removesuffix("%").strip()
    if not value:
        return None
    if not _NUMBER_RE.fullmatch(value):
        raise ValueError(f"numero non valido: {text!r}")
    return float(value.replace(".", "").replace(",", "."))


def parse_italian_date(text: str) -> date | None:
    """``"31-12-2021"`` (also with / or .) -> date, ``""`` -> None; ValueError otherwise."""
    value = text.strip()
    if not value:
        return None
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"data non valida: {text!r}")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:  # 31-02-2021, 32-13-2021
        raise ValueError(f"data non valida: {text!r}") from None


# ---------------------------------------------------------------------------
# Lines and errors


@dataclass(frozen=True)
class _Line:
    number: int
    text: str  # without the line terminator; "" for blank lines and page headers

    @property
    def blank(self) -> bool:
        return not self.text.strip()


class _ParseError(Exception):
    """Raised deep inside the parser; ``parse_export`` adds the file name."""

    def __init__(self, number: int | None, message: str) -> None:
        super().__init__(message)
        self.number = number
        self.message = message


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        # UTF-16 or a binary file: cp1252 would "decode" it into garbage.
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise SourceError(path, line, "il file non è un testo (UTF-16 o binario): salvarlo come testo UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # The management system on Windows may save in its ANSI code page.
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(path, line, "codifica del testo non riconosciuta: attesa UTF-8 (o Windows-1252)") from exc


def _read_lines(path: Path) -> list[_Line]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, None, f"impossibile leggere il file ({os_reason(exc)})") from None
    lines = []
    for number, raw in enumerate(_decode(path, data).split("\n"), start=1):
        text = raw.rstrip("\r")
        # The page header is layout, not content: it counts as a blank line so that
        # a sentence split by a page break can be joined again.
        if text.strip() == PAGE_HEADER:
            text = ""
        lines.append(_Line(number, text))
    return lines


# ---------------------------------------------------------------------------
# File header


_AREA_RE = re.compile(r'"(?P<nome>[^"]+)"\s*-\s*Responsabile:\s*(?P<responsabile>.*)')
_YEAR_RE = re.compile(r"\b(19\d{2}|20\d{2})\b")


@dataclass
class _Header:
    ente: str
    anno: int
    titolo: str
    delibera: str
    area: str
    responsabile: str


def _parse_header(lines: Sequence[_Line], end: int) -> _Header:
    """The header lines; ``end`` is the line after them, where a missing line was expected."""
    content = [line for line in lines if not line.blank]
    # Comments are allowed only before the header (the examples' "invented" marker).
    while content and content[0].text.startswith(_COMMENT_PREFIX):
        content.pop(0)
    ente, titolo, delibera = "", "", ""
    titolo_line: _Line | None = None
    area: re.Match[str] | None = None
    for line in content:
        text = line.text.strip()
        if area is not None:
            raise _ParseError(line.number, f"riga inattesa dopo la riga dell'area: «{_shorten(text)}»")
        if match := _AREA_RE.fullmatch(text):
            area = match
        elif not ente:
            ente = text
        elif text.casefold().startswith("rif."):
            delibera = text
        elif not titolo:
            titolo, titolo_line = text, line
        else:
            raise _ParseError(line.number, f"riga inattesa nell'intestazione: «{_shorten(text)}»")
    first = content[0].number if content else end
    if area is None:
        raise _ParseError(
            end,
            'manca la riga dell\'area, attesa nella forma "Area ..." - Responsabile: Nome Cognome '
            "prima del primo obiettivo (LINEA STRATEGICA:)",
        )
    if not ente:
        raise _ParseError(first, "manca il nome dell'ente nell'intestazione (es. «Città di Seregno»)")
    year = _YEAR_RE.search(titolo)
    if year is None:
        raise _ParseError(
            titolo_line.number if titolo_line else first,
            "manca l'anno nel titolo dell'intestazione (es. «Interventi correttivi Piano degli obiettivi 2021»)",
        )
    return _Header(
        ente=ente,
        anno=int(year.group(1)),
        titolo=titolo,
        delibera=delibera,
        area=area.group("nome").strip(),
        responsabile=area.group("responsabile").strip(),
    )


def _split_blocks(lines: Sequence[_Line]) -> tuple[list[_Line], list[list[_Line]]]:
    """The header lines, then one list of lines per objective."""
    header: list[_Line] = []
    blocks: list[list[_Line]] = []
    for line in lines:
        if line.text.startswith(_OBJECTIVE_START):
            blocks.append([])
        (blocks[-1] if blocks else header).append(line)
    return header, blocks


# ---------------------------------------------------------------------------
# Sections of an objective block


# The scheda's fixed order of sections; the table header rows are headings too,
# since a table may follow a page break without its title.
_ORDER = (
    "intestazione",
    "indirizzi_dup",
    "definizione",
    "temporali",
    "fasi",
    "indicatori",
    "risorse_umane",
    "risorse_strumentali",
    "spazi",
    "dotazione_informatica",
    "altro",
    "entrate_previste",
    "entrate_effettive",
    "spese_previste",
    "spese_effettive",
    "monitoraggio",
    "note",
)
_RANK = {name: rank for rank, name in enumerate(_ORDER)}

_TITLES = {
    "indirizzi del documento unico di programmazione": "indirizzi_dup",
    "definizione dell'obiettivo operativo": "definizione",
    "informazioni temporali": "temporali",
    "descrizione fasi": "fasi",
    "indicatori di performance": "indicatori",
    "budget risorse umane": "risorse_umane",
    "budget risorse strumentali": "risorse_strumentali",
    "spazi a disposizione": "spazi",
    "dotazione informatica": "dotazione_informatica",
    "altro": "altro",
    "budget risorse finanziarie - entrate previste": "entrate_previste",
    "budget risorse finanziarie - entrate effettive": "entrate_effettive",
    "budget risorse finanziarie - spese previste": "spese_previste",
    "budget risorse finanziarie - spese effettive": "spese_effettive",
    "note": "note",
}
_SUBSECTIONS = {"spazi", "dotazione_informatica", "altro"}

# Expected header row of each table (casefolded cells); the first two cells identify it.
_TABLE_HEADERS = {
    "fasi": (
        "codice",
        "fasi",
        "data inizio prev.",
        "data fine prev.",
        "data inizio effet.",
        "data fine effet.",
    ),
    "indicatori": (
        "codice attività",
        "fasi",
        "indicatore",
        "anno",
        "valore target",
        "1° rilevazione",
        "valore raggiunto",
        "% ragg.",
    ),
    "risorse_umane": ("categoria", "matricola", "cognome nome"),
    "monitoraggio": ("codice", "fase", "monitoraggio"),
}
_TABLE_OF_PREFIX = {header[:2]: table for table, header in _TABLE_HEADERS.items()}


def _normalize(text: str) -> str:
    return " ".join(text.split()).casefold()


def _table_header(line: _Line) -> str | None:
    """The table whose header row this line is, checking every column."""
    if "\t" not in line.text:
        return None
    cells = tuple(_normalize(cell) for cell in line.text.split("\t"))
    table = _TABLE_OF_PREFIX.get(cells[:2])
    if table is None:
        return None
    expected = _TABLE_HEADERS[table]
    if tuple(cell for cell in cells if cell) != expected:
        raise _ParseError(
            line.number,
            f"intestazione della tabella diversa da quella attesa: trovate le colonne «{' | '.join(cells)}», "
            f"attese «{' | '.join(expected)}»",
        )
    return table


def _heading(line: _Line) -> str | None:
    table = _table_header(line)
    if table is not None:
        return table
    return _TITLES.get(_normalize(line.text))


@dataclass
class _Section:
    name: str
    number: int  # line of the heading
    lines: list[_Line] = field(default_factory=list)


def _sections(block: Sequence[_Line]) -> dict[str, _Section]:
    current = _Section("intestazione", block[0].number)
    sections = {current.name: current}
    for line in block:
        name = None if line.blank else _heading(line)
        if name is None:
            current.lines.append(line)
            continue
        rank, current_rank = _RANK[name], _RANK[current.name]
        if name == current.name and name in _TABLE_HEADERS:
            continue  # header row repeated after a page break: same table goes on
        parent_ok = name not in _SUBSECTIONS or current_rank >= _RANK["risorse_strumentali"]
        if rank > current_rank and parent_ok:
            current = _Section(name, line.number)
            sections[name] = current
        elif name in _TABLE_HEADERS:
            raise _ParseError(line.number, f"tabella fuori posto: «{_shorten(line.text)}»")
        else:
            current.lines.append(line)  # a title out of order is just text
    return sections


def _lines_of(sections: dict[str, _Section], name: str) -> list[_Line]:
    section = sections.get(name)
    return section.lines if section else []


# ---------------------------------------------------------------------------
# Free text


def _chunks(lines: Sequence[_Line]) -> list[list[str]]:
    """Runs of consecutive non-blank lines (blank lines and page headers separate them)."""
    chunks: list[list[str]] = []
    previous_blank = True
    for line in lines:
        if line.blank:
            previous_blank = True
            continue
        if previous_blank:
            chunks.append([])
        chunks[-1].append(line.text.strip())
        previous_blank = False
    return chunks


def _continues(following: str) -> bool:
    """A chunk starting lowercase is the rest of a sentence cut by a page break.

    (Whether the previous chunk ends with punctuation does not matter: a new
    paragraph never starts lowercase in these schede.)
    """
    return following[:1].islower()


def _paragraphs(lines: Sequence[_Line]) -> list[str]:
    paragraphs: list[str] = []
    for chunk in _chunks(lines):
        text = "\n".join(chunk)
        if paragraphs and _continues(text):
            paragraphs[-1] = f"{paragraphs[-1]} {text}"
        else:
            paragraphs.append(text)
    return paragraphs


def _text(lines: Sequence[_Line]) -> str:
    return "\n".join(_paragraphs(lines))


_HTML_RE = re.compile(r"</?[a-zA-Z][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_HTML_BLOCKS = ("p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote")


def _html_to_text(text: str) -> str:
    """Monitoring notes may be HTML fragments: plain text, one paragraph a line."""
    if not _HTML_RE.search(text):
        return text.strip()
    # In HTML a line break in the source is just a space (a note may span lines).
    soup = BeautifulSoup(text.replace("\n", " "), "html.parser")
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for element in soup.find_all(_HTML_BLOCKS):
        if not isinstance(element, Tag):
            continue
        if element.name == "li":
            element.insert(0, NavigableString("- "))
        element.insert_before(NavigableString("\n"))
        element.insert_after(NavigableString("\n"))
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


# "**RISULTATO ATTESO 1:**", "RISULTATO ATTESO:", "**RISULTATO ATTESO: XYZ**"
_RISULTATO_RE = re.compile(r"\*{0,2}\s*RISULTATO ATTESO(?:\s*(\d+))?\s*:\s*\*{0,2}", re.IGNORECASE)


def _split_risultato_atteso(text: str) -> tuple[str, str]:
    """Definizione before the first marker; the expected results, one a line."""
    markers = list(_RISULTATO_RE.finditer(text))
    if not markers:
        return text.strip(), ""
    results = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        body = text[marker.end() : end].replace("**", "").strip()
        number = marker.group(1)
        if body:
            results.append(f"{number}) {body}" if number else body)
    return text[: markers[0].start()].strip(), "\n".join(results)


_FINANZIARIE_RE = re.compile(r"risorse finanziarie\s*:\s*", re.IGNORECASE)


def _split_altro(paragraphs: Sequence[str]) -> tuple[str, str]:
    """'Altro' text: (risorse strumentali, risorse finanziarie) at the first 'Risorse finanziarie:'."""
    for index, paragraph in enumerate(paragraphs):
        label = _FINANZIARIE_RE.match(paragraph)
        if label is None:
            continue
        finanziarie = [paragraph[label.end() :], *paragraphs[index + 1 :]]
        return "\n".join(paragraphs[:index]), "\n".join(p for p in finanziarie if p.strip())
    return "\n".join(paragraphs), ""


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _around_difference(first: str, second: str, context: int = 30) -> tuple[str, str]:
    """Both texts cut to a window around their first difference."""
    index = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), None)
    if index is None:
        index = min(len(first), len(second))
    start = max(0, index - context)

    def cut(text: str) -> str:
        end = index + context
        return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")

    return cut(first), cut(second)


# ---------------------------------------------------------------------------
# Objective header, dates


_INTESTAZIONE_FIELDS = {
    "linea strategica": "linea_strategica",
    "azione strategica": "azione_strategica",
    "missione": "missione",
    "programma": "programma",
    "obiettivo operativo": "titolo",
    "cdc associato": "cdc_associato",
    "responsabile": "responsabile",
}


def _parse_intestazione(section: _Section) -> tuple[dict[str, str], int]:
    """Label/value lines; also returns the line of OBIETTIVO OPERATIVO."""
    values: dict[str, str] = {}
    title_line = 0
    for line in section.lines:
        if line.blank:
            continue
        label, tab, value = line.text.partition("\t")
        key = next((k for k in _INTESTAZIONE_FIELDS if _normalize(label).startswith(k)), None)
        if not tab or key is None:
            raise _ParseError(line.number, f"riga inattesa nei dati dell'obiettivo: «{_shorten(line.text)}»")
        name = _INTESTAZIONE_FIELDS[key]
        if name in values:
            raise _ParseError(
                line.number,
                f"«{label.strip()}» ripetuto nello stesso obiettivo: manca la riga LINEA STRATEGICA "
                "all'inizio del nuovo obiettivo?",
            )
        values[name] = value.strip()
        if name == "titolo":
            title_line = line.number
    if "titolo" not in values:
        raise _ParseError(
            section.number,
            "obiettivo senza la riga «OBIETTIVO OPERATIVO:» con il titolo (attesa dopo LINEA STRATEGICA)",
        )
    return values, title_line


_STARS_RE = re.compile(r"(\**)\s*(.*)", re.DOTALL)


def _peso_e_titolo(text: str) -> tuple[int, str]:
    """'***** TITOLO' -> (5, 'TITOLO'): the stars are the objective's weight."""
    match = _STARS_RE.fullmatch(text.strip())
    assert match is not None  # the pattern matches any text
    return len(match.group(1)), match.group(2).strip()


_TEMPORAL_LABELS = {
    "data inizio prev.:": "data_inizio_prevista",
    "data fine prev.:": "data_fine_prevista",
    "data inizio eff.:": "data_inizio_effettiva",
    "data fine eff.:": "data_fine_effettiva",
    "condizione:": "condizione",
}


def _temporal_label(text: str) -> tuple[str, str] | None:
    """(field, value on the same line) if the line starts with a label."""
    normalized = _normalize(text)
    for label, name in _TEMPORAL_LABELS.items():
        if normalized.startswith(label):
            return name, text.strip()[len(label) :].strip()
    return None


def _parse_date(number: int, text: str, what: str) -> date | None:
    try:
        return parse_italian_date(text)
    except ValueError:
        raise _ParseError(
            number, f"{what}: data non valida «{text.strip()}», attesa una data reale nella forma gg-mm-aaaa"
        ) from None


def _parse_temporali(lines: Sequence[_Line]) -> tuple[dict[str, date | None], str]:
    """'Label:' then its value on the next non-blank line, unless that line is a label too."""
    content = [line for line in lines if not line.blank]
    dates: dict[str, date | None] = {}
    condizione = ""
    index = 0
    while index < len(content):
        line = content[index]
        label = _temporal_label(line.text)
        if label is None:
            raise _ParseError(
                line.number,
                f"riga inattesa in INFORMAZIONI TEMPORALI: «{_shorten(line.text)}» "
                "(attese le voci Data Inizio Prev.:, Data Fine Prev.:, Data Inizio Eff.:, "
                "Data Fine Eff.:, CONDIZIONE:)",
            )
        name, value = label
        value_line = line
        index += 1
        if not value and index < len(content) and _temporal_label(content[index].text) is None:
            value_line, value = content[index], content[index].text.strip()
            index += 1
        if name == "condizione":
            condizione = value
        else:
            dates[name] = _parse_date(value_line.number, value, line.text.strip().rstrip(":"))
    return dates, condizione


# ---------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[str, ...]


_CODE_RE = re.compile(r"[A-Za-z][\w.\-/]*")

_TABLE_TITLES = {
    "fasi": "DESCRIZIONE FASI",
    "indicatori": "INDICATORI DI PERFORMANCE",
    "risorse_umane": "Budget risorse umane",
    "monitoraggio": "Monitoraggio",
}


def _rows(lines: Sequence[_Line], table: str, minimum: int, *, free_last: bool = False) -> list[_Row]:
    """Rows of a table; blank lines (page breaks) inside it are skipped.

    Repairs: trailing empty cells lost by the export are added back when at least
    ``minimum`` cells are present; with ``free_last`` (a free-text last column) extra
    tabs belong to that text and a line that is not a row continues it.
    """
    width = len(_TABLE_HEADERS[table])
    rows: list[_Row] = []
    for line in lines:
        if line.blank:
            continue
        cells = line.text.split("\t")
        is_row = len(cells) > 1 and (table == "risorse_umane" or _CODE_RE.fullmatch(cells[0].strip()))
        if not is_row and free_last and rows:
            previous = rows[-1]
            rows[-1] = _Row(previous.number, (*previous.cells[:-1], f"{previous.cells[-1]}\n{line.text}"))
            continue
        if len(cells) > width:
            if free_last:
                cells = [*cells[: width - 1], "\t".join(cells[width - 1 :])]
            elif not any(cell.strip() for cell in cells[width:]):
                cells = cells[:width]
        if not is_row or not minimum <= len(cells) <= width:
            raise _ParseError(
                line.number,
                f"riga della tabella {_TABLE_TITLES[table]} con {len(cells)} celle separate da tabulazione, "
                f"attese {width} ({' | '.join(_TABLE_HEADERS[table])}): «{_shorten(line.text)}»",
            )
        cells += [""] * (width - len(cells))
        rows.append(_Row(line.number, tuple(cell.strip() for cell in cells)))
    return rows


def _parse_number(row: _Row, index: int, what: str) -> float | None:
    try:
        return parse_italian_number(row.cells[index])
    except ValueError:
        raise _ParseError(
            row.number,
            f"{what}: numero non valido «{row.cells[index]}», atteso un numero come 100,00 o 8.000,00",
        ) from None


def _parse_fase(row: _Row) -> Fase:
    codice, descrizione, *dates = row.cells
    if not codice:
        raise _ParseError(row.number, "fase senza codice nella tabella DESCRIZIONE FASI")
    return Fase(
        codice=codice,
        descrizione=descrizione,
        data_inizio_prevista=_parse_date(row.number, dates[0], f"fase {codice}, Data Inizio Prev."),
        data_fine_prevista=_parse_date(row.number, dates[1], f"fase {codice}, Data Fine Prev."),
        data_inizio_effettiva=_parse_date(row.number, dates[2], f"fase {codice}, Data Inizio Effet."),
        data_fine_effettiva=_parse_date(row.number, dates[3], f"fase {codice}, Data Fine Effet."),
    )


def _parse_indicatore(row: _Row) -> Indicatore:
    # The "% Ragg." column (index 7) is derived from target and value: not stored.
    codice, fase, descrizione, anno = row.cells[:4]
    if anno and not anno.isdigit():
        raise _ParseError(row.number, f"indicatore {codice}: anno non valido «{anno}», atteso come 2021")
    if not codice:
        raise _ParseError(row.number, "indicatore senza Codice Attività")
    return Indicatore(
        codice=codice,
        fase=fase,
        descrizione=descrizione,
        anno=int(anno) if anno else None,
        valore_target=_parse_number(row, 4, f"indicatore {codice}, Valore Target"),
        prima_rilevazione=_parse_number(row, 5, f"indicatore {codice}, 1° Rilevazione"),
        valore_raggiunto=_parse_number(row, 6, f"indicatore {codice}, Valore Raggiunto"),
    )


def _parse_persone(rows: Sequence[_Row]) -> list[Persona]:
    persone: list[Persona] = []
    for row in rows:
        categoria, matricola, nome = row.cells
        if not matricola or not nome:
            raise _ParseError(row.number, "risorse umane: matricola o nome mancante")
        # The name column repeats the matricola: "54 - BAGAROTTI ANDREA".
        nome = re.sub(rf"^{re.escape(matricola)}\s*-\s*", "", nome).strip()
        persona = Persona(categoria=categoria, matricola=matricola, nome=nome)
        if persona not in persone:
            persone.append(persona)
    return persone


# ---------------------------------------------------------------------------
# Assembling an objective


@dataclass
class _Context:
    area: str
    anomalie: list[Anomalia] = field(default_factory=list)
    reported: set[tuple[str, str]] = field(default_factory=set)  # (fase, other text) already reported


def _codice_obiettivo(fasi: Sequence[Fase], indicatori: Sequence[Indicatore], ctx: _Context, line: int) -> str:
    """The objective's code exists only as its phases' code minus the last two digits."""
    candidates = [(f.codice, f.codice[:-2] if re.search(r"\d\d$", f.codice) else None) for f in fasi]
    if not candidates:
        candidates = [(i.codice, i.codice[:-2] if re.search(r"\d\d$", i.codice) else None) for i in indicatori]
    counts = Counter(prefix for _, prefix in candidates if prefix)
    if not counts:
        raise _ParseError(
            line,
            "impossibile ricavare il codice dell'obiettivo: servono fasi con un codice come Ob_Obiet093701",
        )
    codice = counts.most_common(1)[0][0]  # ties: the first in the table
    for codice_fase, prefix in candidates:
        if prefix != codice:
            ctx.anomalie.append(
                finding(
                    "fase-di-altro-obiettivo",
                    f"Il codice {codice_fase} non inizia con {codice}, il codice ricavato dalle altre fasi",
                    area=ctx.area,
                    obiettivo=codice,
                    fase=codice_fase,
                )
            )
    return codice


def _check_text(fase: Fase, other: str, table: str, codice_obiettivo: str, ctx: _Context) -> None:
    if other == fase.descrizione or (fase.codice, other) in ctx.reported:
        return  # one finding per different text, even if repeated in both tables
    ctx.reported.add((fase.codice, other))
    kept, found = _around_difference(fase.descrizione, other)
    ctx.anomalie.append(
        finding(
            "testo-fase-diverso",
            f"Fase {fase.codice}: tabella Fasi «{kept}», tabella {table} «{found}»",
            area=ctx.area,
            obiettivo=codice_obiettivo,
            fase=fase.codice,
            valore=other,
        )
    )


def _match_phases(
    fasi: Sequence[Fase],
    indicatori: Sequence[Indicatore],
    monitoring_rows: Sequence[_Row],
    codice_obiettivo: str,
    ctx: _Context,
) -> None:
    """Join the three tables by code (their order differs); the Fasi table's text wins."""
    by_code = {fase.codice: fase for fase in fasi}
    for indicatore in indicatori:
        fase = by_code.get(indicatore.codice)
        if fase is not None:
            _check_text(fase, indicatore.fase, "Indicatori", codice_obiettivo, ctx)
            indicatore.fase = fase.descrizione
    for row in monitoring_rows:
        codice, testo, monitoraggio = row.cells
        fase = by_code.get(codice)
        if fase is None:
            raise _ParseError(
                row.number,
                f"monitoraggio della fase {codice}, che non è nella tabella DESCRIZIONE FASI dello stesso obiettivo",
            )
        _check_text(fase, testo, "Monitoraggio", codice_obiettivo, ctx)
        text = _html_to_text(monitoraggio)
        fase.monitoraggio = f"{fase.monitoraggio}\n{text}".strip() if fase.monitoraggio else text


def _parse_obiettivo(block: Sequence[_Line], ctx: _Context) -> Obiettivo:
    sections = _sections(block)
    values, title_line = _parse_intestazione(sections["intestazione"])
    peso, titolo = _peso_e_titolo(values.pop("titolo"))
    dates, condizione = _parse_temporali(_lines_of(sections, "temporali"))

    fasi = [_parse_fase(row) for row in _rows(_lines_of(sections, "fasi"), "fasi", 4)]
    indicatori = [_parse_indicatore(row) for row in _rows(_lines_of(sections, "indicatori"), "indicatori", 5)]
    monitoring_rows = _rows(_lines_of(sections, "monitoraggio"), "monitoraggio", 2, free_last=True)
    codice = _codice_obiettivo(fasi, indicatori, ctx, title_line)
    _match_phases(fasi, indicatori, monitoring_rows, codice, ctx)

    definizione, risultato = _split_risultato_atteso(_text(_lines_of(sections, "definizione")))
    altro, descrizione_finanziaria = _split_altro(_paragraphs(_lines_of(sections, "altro")))
    return Obiettivo(
        codice=codice,
        titolo=titolo,
        peso=peso,
        linea_strategica=values.get("linea_strategica", ""),
        azione_strategica=values.get("azione_strategica", ""),
        missione=values.get("missione", ""),
        programma=values.get("programma", ""),
        cdc_associato=values.get("cdc_associato", ""),
        responsabile=values.get("responsabile", ""),
        indirizzi_dup=_text(_lines_of(sections, "indirizzi_dup")),
        definizione=definizione,
        risultato_atteso=risultato,
        data_inizio_prevista=dates.get("data_inizio_prevista"),
        data_fine_prevista=dates.get("data_fine_prevista"),
        data_inizio_effettiva=dates.get("data_inizio_effettiva"),
        data_fine_effettiva=dates.get("data_fine_effettiva"),
        condizione=condizione,
        note=_html_to_text(_text(_lines_of(sections, "note"))),
        fasi=fasi,
        indicatori=indicatori,
        risorse_umane=_parse_persone(_rows(_lines_of(sections, "risorse_umane"), "risorse_umane", 3)),
        risorse_strumentali=RisorseStrumentali(
            spazi=_text(_lines_of(sections, "spazi")),
            dotazione_informatica=_text(_lines_of(sections, "dotazione_informatica")),
            altro=altro,
        ),
        risorse_finanziarie=RisorseFinanziarie(
            descrizione=descrizione_finanziaria,
            entrate_previste=_text(_lines_of(sections, "entrate_previste")),
            entrate_effettive=_text(_lines_of(sections, "entrate_effettive")),
            spese_previste=_text(_lines_of(sections, "spese_previste")),
            spese_effettive=_text(_lines_of(sections, "spese_effettive")),
        ),
    )


# ---------------------------------------------------------------------------
# Public API


def _parse(lines: Sequence[_Line]) -> tuple[_Header, Area, list[Anomalia]]:
    if not any(not line.blank for line in lines):
        raise _ParseError(1, "il file è vuoto: attesa un'esportazione «Scheda Obiettivo Gestionale»")
    header_lines, blocks = _split_blocks(lines)
    last = next(line.number for line in reversed(lines) if not line.blank)
    header = _parse_header(header_lines, blocks[0][0].number if blocks else last)
    if not blocks:
        raise _ParseError(last, "nessun obiettivo nel file: atteso almeno un blocco che inizia con «LINEA STRATEGICA:»")
    ctx = _Context(area=header.area)
    area = Area(nome=header.area, responsabile=header.responsabile)
    area.obiettivi = [_parse_obiettivo(block, ctx) for block in blocks]
    return header, area, ctx.anomalie


def _parse_file(path: Path) -> tuple[_Header, Area, list[Anomalia]]:
    try:
        return _parse(_read_lines(path))
    except _ParseError as exc:
        raise SourceError(path, exc.number, exc.message) from None


def parse_export(path: Path) -> tuple[Piano, list[Anomalia]]:
    """One exported file (one area) as a plan, with the findings met while parsing."""
    return parse_exports([path])


def parse_exports(paths: Sequence[Path]) -> tuple[Piano, list[Anomalia]]:
    """Several exported files, one per area, as ONE plan; ente and anno must agree."""
    if not paths:
        raise SourceError("(nessun file)", None, "nessun file di esportazione indicato")
    parsed = [(Path(path), *_parse_file(Path(path))) for path in paths]
    first_path, first, _, _ = parsed[0]
    piano = Piano(
        ente=first.ente,
        anno=first.anno,
        titolo=first.titolo,
        delibera=first.delibera,
        chiave_impronta=new_fingerprint_key(),
    )
    anomalie: list[Anomalia] = []
    for path, header, area, found in parsed:
        _check_same_plan(path, header, first_path, first)
        if any(existing.nome.casefold() == area.nome.casefold() for existing in piano.aree):
            raise SourceError(
                path, None, f"l'area «{area.nome}» è già in un altro file: una sola esportazione per area"
            )
        piano.aree.append(area)
        anomalie.extend(found)
    return piano, anomalie


def _check_same_plan(path: Path, header: _Header, first_path: Path, first: _Header) -> None:
    if _normalize(header.ente) != _normalize(first.ente):
        raise SourceError(
            path,
            None,
            f"ente «{header.ente}» diverso da «{first.ente}» di {first_path.name}: un piano per ente",
        )
    if header.anno != first.anno:
        raise SourceError(
            path, None, f"anno {header.anno} diverso dal {first.anno} di {first_path.name}: un piano per anno"
        )
