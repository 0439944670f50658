"""The consolidated master workbook: every area of a round in one file.

Percentages are live formulas chained Indicatori → Obiettivi → Assegnazioni/Personale
and Riepilogo, so a value corrected in Indicatori flows everywhere on recalculation.
Each formula also carries its value computed by ``scoring`` (what a reader without a
calculation engine sees). Rows are matched with SUMPRODUCT((range=value)*...) rather than
COUNTIFS/SUMIFS criteria: criteria treat "*?~" as wildcards and numeric-looking text
("00002311") as numbers, differently in Excel and LibreOffice; "=" between two texts compares
them as text in both (ignoring case, and codes, names and matricole differ by more than case).
No function newer than Excel 2010 is used.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

# xlsxwriter 3.3 has inline hints but no py.typed marker: mypy would skip it anyway.
import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from seregno_xlsx.atomic import atomic_path
from seregno_xlsx.findings import Anomalia
from seregno_xlsx.master.scoring import (
    INVALID_VALUE,
    Conteggi,
    MissingValue,
    Regole,
    area_pct,
    counts,
    indicator_pct,
    indicator_value,
    indicator_weight,
    objective_pct,
    objectives_pct,
    total_pct,
    without_invalid_values,
)
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Rilevazione

MAX_CELL_TEXT = 32_767  # Excel's limit per cell
TRUNCATED = " […testo troncato nel master]"
MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet


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


@dataclass
class MasterSummary:
    righe: dict[str, int] = field(default_factory=dict)  # data rows per sheet
    valori_letti: int = 0
    valori_scritti: int = 0  # compiled (input) values present in the master
    testi_troncati: int = 0

    @property
    def riconciliazione(self) -> str:
        return f"valori letti {self.valori_letti}, scritti {self.valori_scritti}"


def write_master(
    path: Path,
    *,
    ente: str,
    anno: int,
    aree: list[Area],
    rilevazione: Rilevazione,
    regole: Regole,
    anomalie: list[Anomalia],
    fonti: list[Fonte],
    data_riferimento: date,
    valori_letti: int,
    non_validi: Mapping[str, Collection[str]] | None = None,
) -> MasterSummary:
    """Write the master atomically: on any failure the previous file stays as it was.

    ``non_validi``: per area, the codes of the indicators whose round value has an errore finding.
    """
    summary = MasterSummary(valori_letti=valori_letti)
    # What was read for each invalid value, then the areas as they count (the value as missing).
    wanted = non_validi or {}
    invalid = {
        a.nome: {
            i.codice: indicator_value(i, rilevazione)
            for o in a.obiettivi
            for i in o.indicatori
            if i.codice in wanted.get(a.nome, ())
        }
        for a in aree
    }
    aree = [without_invalid_values(a, rilevazione, invalid[a.nome]) for a in aree]
    with atomic_path(Path(path)) as temp:
        options = {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        }
        workbook = xlsxwriter.Workbook(str(temp), options)
        try:
            master = _Master(workbook, ente, anno, aree, rilevazione, regole, summary)
            master.invalid = invalid
            master.write(anomalie, fonti, data_riferimento)
        finally:
            workbook.close()
    return summary


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


def _col(sheet: str, col: int, rows: int) -> str:
    """Absolute range of one column's data rows (at least one row, so it stays valid)."""
    name = xl_col_to_name(col)
    return f"{sheet}!${name}$2:${name}${max(rows, 1) + 1}"


@dataclass(frozen=True)
class _Formula:
    text: str
    cached: float | str


# Per sheet: (header, width, kind); the kind picks the cell format and the write method.
_COLUMNS: dict[str, list[tuple[str, float, str]]] = {
    "Riepilogo": [
        ("Area", 34, "text"),
        ("N. obiettivi", 11, "num"),
        ("Fasi concluse", 11, "num"),
        ("Fasi in ritardo", 11, "num"),
        ("Fasi scadute non rendicontate", 15, "num"),
        ("Indicatori senza valore", 13, "num"),
        ("% raggiungimento ponderata", 15, "pct"),
        ("Valori non validi (contati come mancanti)", 13, "num"),
    ],
    "Obiettivi": [
        ("Area", 26, "text"),
        ("Codice", 16, "text"),
        ("Titolo", 50, "wrap"),
        ("Peso (stelle)", 9, "num"),
        ("N. indicatori", 10, "num"),
        ("% raggiungimento", 14, "pct"),
        ("Data inizio effettiva", 12, "date"),
        ("Data fine prevista", 12, "date"),
        ("Data fine effettiva", 12, "date"),
        ("Note", 50, "wrap"),
    ],
    "Indicatori": [
        ("Area", 22, "text"),
        ("Codice obiettivo", 15, "text"),
        ("Codice attività", 17, "text"),
        ("Fase", 40, "wrap"),
        ("Indicatore", 30, "wrap"),
        ("SI/NO", 7, "text"),
        ("Peso nell'obiettivo", 10, "num"),
        ("Valore target", 11, "num"),
        ("1° rilevazione", 11, "num"),
        ("Valore raggiunto", 11, "num"),
        ("% raggiungimento", 14, "pct"),
        ("Data fine prevista", 12, "date"),
        ("Data fine effettiva", 12, "date"),
        ("Monitoraggio", 60, "wrap"),
    ],
    "Fasi": [
        ("Area", 22, "text"),
        ("Codice obiettivo", 15, "text"),
        ("Codice fase", 17, "text"),
        ("Fase", 50, "wrap"),
        ("Data inizio prevista", 12, "date"),
        ("Data fine prevista", 12, "date"),
        ("Data inizio effettiva", 12, "date"),
        ("Data fine effettiva", 12, "date"),
        ("Stato", 14, "text"),
        ("Monitoraggio", 60, "wrap"),
    ],
    "Personale": [
        ("Matricola", 11, "text"),
        ("Nome", 30, "text"),
        ("Categoria", 12, "text"),
        ("Aree", 30, "wrap"),
        ("Codici obiettivi", 30, "wrap"),
        ("N. obiettivi", 10, "num"),
        ("% raggiungimento ponderata", 15, "pct"),
    ],
    "Assegnazioni": [
        ("Matricola", 11, "text"),
        ("Nome", 30, "text"),
        ("Area", 26, "text"),
        ("Codice obiettivo", 16, "text"),
        ("Peso", 8, "num"),
        ("% raggiungimento", 14, "pct"),
    ],
    "Anomalie": [
        ("Codice", 22, "text"),
        ("Gravità", 9, "text"),
        ("Area", 22, "text"),
        ("Obiettivo", 15, "text"),
        ("Fase", 17, "text"),
        ("Foglio", 14, "text"),
        ("Cella", 8, "text"),
        ("Valore", 20, "wrap"),
        ("Messaggio", 80, "wrap"),
        ("Vai a", 18, "link"),
    ],
    "Fonti": [
        ("File", 40, "wrap"),
        ("Area", 26, "text"),
        ("Rilevazione", 11, "text"),
        ("Versione modello", 10, "text"),
        ("SHA-256", 30, "text"),
        ("Compilato il", 16, "datetime"),
        ("Stato", 11, "text"),
        ("Motivo", 50, "wrap"),
    ],
}


class _Master:
    def __init__(
        self,
        wb: Workbook,
        ente: str,
        anno: int,
        aree: list[Area],
        rilevazione: Rilevazione,
        regole: Regole,
        summary: MasterSummary,
    ) -> None:
        self.wb, self.aree, self.ril, self.regole, self.summary = wb, aree, rilevazione, regole, summary
        self.title = f"{ente} - Piano degli obiettivi {anno} - rilevazione {rilevazione}"
        top = {"valign": "top"}
        self.fmt: dict[str, Format | None] = {
            "text": wb.add_format(top),
            "wrap": wb.add_format({**top, "text_wrap": True}),
            "num": wb.add_format(top),
            "pct": wb.add_format({**top, "num_format": "0.00%"}),
            "date": wb.add_format({**top, "num_format": "dd/mm/yyyy"}),
            "datetime": wb.add_format({**top, "num_format": "dd/mm/yyyy hh:mm"}),
            # SI/NO values stay numbers (100/0) for the formulas but read as SI/NO.
            "si_no": wb.add_format({**top, "num_format": '[=100]"SI";[=0]"NO";General'}),
            "bold": wb.add_format({"bold": True}),
            "link": None,  # xlsxwriter's hyperlink style
        }
        self.sheets = {name: self.wb.add_worksheet(name) for name in _COLUMNS}
        # Rows (1-based, as in A1 references) of objectives and areas; link targets of codes.
        self.obj_row: dict[int, int] = {}
        self.area_row = {a.nome: r for r, a in reversed(list(enumerate(aree, start=2)))}
        self.links: dict[tuple[str, str], str] = {}
        self.invalid: dict[str, dict[str, float | None]] = {}  # area -> code -> the invalid value read

    # -- cells -------------------------------------------------------------

    def _str(self, ws: Worksheet, row: int, col: int, value: str, kind: str = "text") -> None:
        """All text goes through write_string: "=HYPERLINK(...)" stays text."""
        if len(value) > MAX_CELL_TEXT:
            value = value[: MAX_CELL_TEXT - len(TRUNCATED)] + TRUNCATED
            self.summary.testi_troncati += 1
        ws.write_string(row, col, value, self.fmt[kind])

    def _row(self, sheet: str, r: int, values: Sequence[object], kinds: dict[int, str] | None = None) -> None:
        """Write one table row; each column's kind (or an override) picks method and format."""
        ws = self.sheets[sheet]
        for c, value in enumerate(values):
            kind = (kinds or {}).get(c, _COLUMNS[sheet][c][2])
            fmt = self.fmt[kind]
            if isinstance(value, _Formula):
                ws.write_formula(r, c, value.text, fmt, value.cached)
            elif isinstance(value, str):
                self._str(ws, r, c, value, kind)
            elif isinstance(value, date):
                ws.write_datetime(r, c, value, fmt)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, fmt)
            elif value is None:
                ws.write_blank(r, c, None, fmt)
            else:
                raise TypeError(f"{sheet}: valore non scrivibile {value!r}")

    def _count_input(self, *values: object) -> None:
        self.summary.valori_scritti += sum(v not in (None, "") for v in values)

    def _finish(self, sheet: str, rows: int, total: list[dict[str, Any]] | None = None) -> None:
        """Make the rows an Excel table with its page setup."""
        ws, columns = self.sheets[sheet], []
        for c, (header, width, kind) in enumerate(_COLUMNS[sheet]):
            ws.set_column(c, c, width)
            columns.append({"header": header, "format": self.fmt[kind], **(total[c] if total else {})})
        options = {"name": f"Tabella_{sheet}", "columns": columns, "style": "Table Style Medium 2"}
        ws.add_table(0, 0, max(rows, 1) + bool(total), len(columns) - 1, {**options, "total_row": bool(total)})
        ws.freeze_panes(1, 0)
        ws.repeat_rows(0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L{self.title[:200].replace('&', '&&')}&C&A")  # Excel allows 255 characters
        ws.set_footer("&CPagina &P di &N")
        self.summary.righe[sheet] = rows

    # -- sheets ------------------------------------------------------------

    def write(self, anomalie: list[Anomalia], fonti: list[Fonte], data_riferimento: date) -> None:
        n_obj = self._write_obiettivi()
        self._write_indicatori()
        self._write_fasi(data_riferimento)
        self._write_personale()
        self._write_anomalie(anomalie)
        self._write_fonti(fonti)
        # Last: its notes report what the other sheets wrote.
        self._write_riepilogo(n_obj, data_riferimento)

    def _write_riepilogo(self, n_obj: int, data_riferimento: date) -> None:
        area_col, pct_col, weight_col = (_col("Obiettivi", c, n_obj) for c in (0, 5, 3))
        weight = weight_col if self.regole.pesi_aree == "stelle" else None
        totale = Conteggi()
        for r, area in enumerate(self.aree, start=1):
            conteggi = counts(area, self.ril, data_riferimento, self.invalid.get(area.nome, {}))
            totale += conteggi
            formula = _mean_formula(f"({area_col}=A{r + 1})", pct_col, weight)
            pct = _Formula(formula, _cached(area_pct(area, self.ril, self.regole)))
            self._row("Riepilogo", r, [area.nome, *_count_values(conteggi), pct, conteggi.valori_non_validi])
        n = len(self.aree)
        total: list[dict[str, Any]] = [{"total_string": "Totale"}]
        for c, value in enumerate(_count_values(totale), start=1):
            letter = xl_col_to_name(c)
            total.append({"total_function": f"=SUM({letter}2:{letter}{max(n, 1) + 1})", "total_value": value})
        total_value = _cached(total_pct(self.aree, self.ril, self.regole))
        total.append({"total_function": _mean_formula(None, pct_col, weight), "total_value": total_value})
        total.append({"total_function": f"=SUM(H2:H{max(n, 1) + 1})", "total_value": totale.valori_non_validi})
        self._finish("Riepilogo", n, total)
        self._riepilogo_notes(max(n, 1) + 3, data_riferimento)
        self._riepilogo_chart(n)

    def _riepilogo_notes(self, row: int, data_riferimento: date) -> None:
        ws = self.sheets["Riepilogo"]
        self._str(ws, row, 0, self.title, "bold")
        self._str(ws, row + 1, 0, "Data di riferimento")
        ws.write_datetime(row + 1, 1, data_riferimento, self.fmt["date"])
        self._str(ws, row + 2, 0, "Riconciliazione")
        self._str(ws, row + 2, 1, self.summary.riconciliazione)
        self._str(ws, row + 3, 0, "Regole", "bold")
        lines = self.regole.descrizione()
        if self.summary.testi_troncati:
            lines.append(f"Testi troncati nel master al limite di Excel: {self.summary.testi_troncati}")
        for i, line in enumerate(lines, start=row + 4):
            self._str(ws, i, 0, line)

    def _riepilogo_chart(self, n: int) -> None:
        chart = self.wb.add_chart({"type": "column"})
        last = max(n, 1)
        chart.add_series(
            {
                "name": "% raggiungimento",
                "categories": ["Riepilogo", 1, 0, last, 0],
                "values": ["Riepilogo", 1, 6, last, 6],
                "data_labels": {"value": True, "num_format": "0%"},
            }
        )
        chart.set_y_axis({"num_format": "0%", "min": 0, **({"max": 1} if self.regole.limite_100 else {})})
        chart.set_title({"name": "% raggiungimento per area"})
        chart.set_legend({"none": True})
        self.sheets["Riepilogo"].insert_chart(1, 8, chart, {"x_scale": 1.4, "y_scale": 1.2})

    def _write_obiettivi(self) -> int:
        n_ind = sum(len(o.indicatori) for a in self.aree for o in a.obiettivi)
        area_col, code_col, pct_col, weight_col = (_col("Indicatori", c, n_ind) for c in (0, 1, 10, 6))
        r = 0
        for area in self.aree:
            for ob in area.obiettivi:
                r += 1
                match = f"({area_col}=A{r + 1})*({code_col}=B{r + 1})"
                formula = _mean_formula(match, pct_col, weight_col)
                pct = _Formula(formula, _cached(objective_pct(ob, self.ril, self.regole)))
                fine = ob.data_fine_effettiva
                row = [area.nome, ob.codice, ob.titolo, ob.peso, len(ob.indicatori), pct]
                self._row("Obiettivi", r, [*row, ob.data_inizio_effettiva, ob.data_fine_prevista, fine, ob.note])
                self._count_input(ob.data_inizio_effettiva, fine, ob.note)
                self.obj_row[id(ob)] = r + 1
                self.links.setdefault(("obiettivo", ob.codice), f"'Obiettivi'!A{r + 1}")
        self._finish("Obiettivi", r)
        return r

    def _write_indicatori(self) -> None:
        r = 0
        for area in self.aree:
            for ob in area.obiettivi:
                fasi = {f.codice: f for f in ob.fasi}
                for ind in ob.indicatori:
                    r += 1
                    self._indicator_row(r, area, ob, ind, fasi.get(ind.codice))
                    self.links.setdefault(("fase", ind.codice), f"'Indicatori'!A{r + 1}")
        self._finish("Indicatori", r)

    def _indicator_row(self, r: int, area: Area, ob: Obiettivo, ind: Indicatore, fase: Fase | None) -> None:
        pct = _Formula(self._indicator_formula(r), _cached(indicator_pct(ind, self.ril, self.regole)))
        values: list[object] = [ind.valore_target, ind.prima_rilevazione, ind.valore_raggiunto]
        bad = self.invalid.get(area.nome, {})
        if ind.codice in bad:  # shown, never counted: the formula takes a text as a missing value
            read = bad[ind.codice]
            values[1 if self.ril is Rilevazione.INTERMEDIA else 2] = INVALID_VALUE + (
                "" if read is None else f" ({read:g})"
            )
        fase_text = ind.fase or (fase.descrizione if fase else "")
        row: list[object] = [area.nome, ob.codice, ind.codice, fase_text, ind.descrizione]
        row.append("SI/NO" if ind.si_no else "")
        dates = [fase.data_fine_prevista, fase.data_fine_effettiva] if fase else [None, None]
        row += [indicator_weight(ind, ob), *values, pct, *dates, fase.monitoraggio if fase else ""]
        self._row("Indicatori", r, row, {7: "si_no", 8: "si_no", 9: "si_no"} if ind.si_no else None)
        self._count_input(bad[ind.codice] if ind.codice in bad else indicator_value(ind, self.ril))

    def _indicator_formula(self, r: int) -> str:
        """=IF(target empty or 0,"",IF(value not a number,<missing>,MIN(1,MAX(0,value/target)))).

        COUNT(cell)=0 for an empty cell and for «valore non valido»: both count as missing."""
        target = f"H{r + 1}"
        value = f"{'I' if self.ril is Rilevazione.INTERMEDIA else 'J'}{r + 1}"
        missing = '""' if self.regole.mancante(self.ril) is MissingValue.ESCLUSO else "0"
        ratio = f"MAX(0,{value}/{target})"
        if self.regole.limite_100:
            ratio = f"MIN(1,{ratio})"
        return f'=IF(OR({target}="",{target}=0),"",IF(COUNT({value})=0,{missing},{ratio}))'

    def _write_fasi(self, data_riferimento: date) -> None:
        r = 0
        for area in self.aree:
            for ob in area.obiettivi:
                for f in ob.fasi:
                    r += 1
                    planned = [f.data_inizio_prevista, f.data_fine_prevista]
                    actual = [f.data_inizio_effettiva, f.data_fine_effettiva]
                    state = _stato(f, data_riferimento)
                    self._row("Fasi", r, [area.nome, ob.codice, f.codice, f.descrizione, *planned, *actual, state])
                    self._str(self.sheets["Fasi"], r, 9, f.monitoraggio, "wrap")
                    self._count_input(*actual, f.monitoraggio)
                    # A phase with an indicator is linked to it in Indicatori, else here.
                    self.links.setdefault(("fase", f.codice), f"'Fasi'!A{r + 1}")
        self._finish("Fasi", r)

    def _write_personale(self) -> None:
        people: dict[str, tuple[str, str, list[tuple[Area, Obiettivo]]]] = {}
        seen: set[tuple[str, int]] = set()
        for area in self.aree:
            for ob in area.obiettivi:
                for p in ob.risorse_umane:
                    nome, categoria, assigned = people.setdefault(p.matricola, (p.nome, p.categoria, []))
                    if not categoria and p.categoria:
                        people[p.matricola] = (nome, p.categoria, assigned)
                    if (p.matricola, id(ob)) not in seen:
                        seen.add((p.matricola, id(ob)))
                        assigned.append((area, ob))
        order = sorted(people, key=lambda m: (people[m][0].casefold(), m))
        a = 0
        for matricola in order:
            nome, _, assigned = people[matricola]
            for area, ob in assigned:
                a += 1
                ob_row = self.obj_row[id(ob)]
                stars = self.regole.pesi_aree == "stelle"
                weight = _Formula(f"=Obiettivi!D{ob_row}", ob.peso) if stars else 1
                cached = _cached(objective_pct(ob, self.ril, self.regole))
                link = _Formula(f'=IF(Obiettivi!F{ob_row}="","",Obiettivi!F{ob_row})', cached)
                self._row("Assegnazioni", a, [matricola, nome, area.nome, ob.codice, weight, link])
        mat_col, weight_col, pct_col = (_col("Assegnazioni", c, a) for c in (0, 4, 5))
        for r, matricola in enumerate(order, start=1):
            nome, categoria, assigned = people[matricola]
            aree = "; ".join(dict.fromkeys(area.nome for area, _ in assigned))
            codici = "; ".join(ob.codice for _, ob in assigned)
            mean = _mean_formula(f"({mat_col}=A{r + 1})", pct_col, weight_col)
            # The objectives gathered above, in plan order: the same as scoring.person_pct, without a rescan.
            pct = _Formula(mean, _cached(objectives_pct([ob for _, ob in assigned], self.ril, self.regole)))
            self._row("Personale", r, [matricola, nome, categoria, aree, codici, len(assigned), pct])
        self._finish("Personale", len(order))
        self._finish("Assegnazioni", a)

    def _write_anomalie(self, anomalie: list[Anomalia]) -> None:
        ws = self.sheets["Anomalie"]
        for r, x in enumerate(anomalie, start=1):
            where = [x.area, x.obiettivo, x.fase, x.foglio, x.cella]
            self._row("Anomalie", r, [x.codice, x.gravita.value, *where, x.valore, x.messaggio])
            target = self._link_target(x)
            if target and r <= MAX_LINKS:
                ws.write_url(r, 9, f"internal:{target}", string=target.replace("'", ""))
        self._finish("Anomalie", len(anomalie))

    def _link_target(self, a: Anomalia) -> str:
        """The master row a finding concerns: its indicator, phase, objective, else its area."""
        if a.fase and ("fase", a.fase) in self.links:
            return self.links["fase", a.fase]
        if a.obiettivo and ("obiettivo", a.obiettivo) in self.links:
            return self.links["obiettivo", a.obiettivo]
        if a.area in self.area_row:
            return f"'Riepilogo'!A{self.area_row[a.area]}"
        return ""

    def _write_fonti(self, fonti: list[Fonte]) -> None:
        for r, f in enumerate(fonti, start=1):
            row = [
                f.file,
                f.area,
                f.rilevazione,
                f.versione_modello,
                f.sha256,
                f.compilato_il,
                f.stato,
                f.motivo,
            ]
            self._row("Fonti", r, row)
        self._finish("Fonti", len(fonti))


def _count_values(c: Conteggi) -> list[int]:
    return [c.obiettivi, c.fasi_concluse, c.fasi_in_ritardo, c.fasi_scadute, c.indicatori_senza_valore]


def _stato(fase: Fase, data_riferimento: date) -> str:
    fine, prevista = fase.data_fine_effettiva, fase.data_fine_prevista
    if fine is not None:
        return "in ritardo" if prevista is not None and fine > prevista else "conclusa"
    if prevista is not None and prevista < data_riferimento:
        return "scaduta"
    return "in corso"
