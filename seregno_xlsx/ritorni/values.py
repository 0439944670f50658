"""Lenient parsing of what staff type, however Excel or LibreOffice stored it.

Every function returns either a value or a :class:`Problem` (a catalogue code
and an Italian detail): pasting bypasses Excel's validation, so every value is
validated again here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from seregno_xlsx.limits import MAX_CELL_TEXT
from seregno_xlsx.piano.regola import numero

EXCEL_EPOCH = date(1899, 12, 30)
EPOCH_1904 = date(1904, 1, 1)
# Serials of years 1950..2150: a bare number outside is not a date.
_SERIAL_RANGE = (18264.0, 91312.0)
ERROR_VALUES = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_LO_ERROR = re.compile(r"^Err:\d{3}$")
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Larger than any indicator's value, smaller than what a spreadsheet still shows exactly.
MAX_NUMBER = 1e15


@dataclass(frozen=True)
class Problem:
    codice: str
    dettaglio: str


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def error_value(value: object) -> str | None:
    """The spreadsheet error a cell shows (#DIV/0!, LibreOffice's Err:502), if any."""
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ERROR_VALUES or _LO_ERROR.match(text):
            return text
    return None


def parse_date(value: object, *, date1904: bool = False) -> date | Problem | None:
    # A date cell as calamine reads it, or a number: what the checks below would come to.
    if type(value) is date:
        return _in_range(value)
    if type(value) is float:
        return _from_serial(value, date1904)
    if is_blank(value):
        return None
    if (err := error_value(value)) is not None:
        return Problem("valore-errore", f"la cella mostra l'errore {err} al posto di una data")
    if isinstance(value, datetime):
        return _in_range(value.date())
    if isinstance(value, date):
        return _in_range(value)
    if isinstance(value, bool):
        return Problem("data-non-valida", f"«{value}» non è una data")
    if isinstance(value, int | float):
        return _from_serial(float(value), date1904)
    if isinstance(value, time | timedelta):
        return Problem("data-non-valida", "la cella contiene un orario, non una data")
    text = str(value).strip()
    if m := _DATE_TEXT.match(text):
        day, month, year = (int(g) for g in m.groups())
        if year < 100:
            year += 2000
        return _make_date(year, month, day, text)
    if m := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in m.groups())
        return _make_date(year, month, day, text)
    number = parse_plain_number(text)
    if number is not None:
        return _from_serial(number, date1904)
    return Problem("data-non-valida", f"«{_short(text)}» non è una data nella forma gg/mm/aaaa")


def _from_serial(number: float, date1904: bool) -> date | Problem:
    if not (_SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]) or not number.is_integer():
        return Problem("data-non-valida", f"il numero {format(number, 'g')} non è una data")
    epoch = EPOCH_1904 if date1904 else EXCEL_EPOCH
    return epoch + timedelta(days=int(number))


def _make_date(year: int, month: int, day: int, text: str) -> date | Problem:
    try:
        return _in_range(date(year, month, day))
    except ValueError:
        return Problem("data-non-valida", f"«{text}» non è una data esistente")


def _in_range(value: date) -> date | Problem:
    """A date a plan can speak of (1900-2199): year 9999 is no date for a return."""
    if not 1900 <= value.year <= 2199:
        return Problem("data-non-valida", f"il {value:%d/%m/%Y} è fuori dagli anni ammessi (1900-2199)")
    return value


def parse_plain_number(text: str) -> float | None:
    """An Italian or plain number written as text, or None: "80", "80,5", "1.234,5", "1234.5"."""
    t = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    if not t:
        return None
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", t):
        t = t.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d+,\d+", t):
        t = t.replace(",", ".")
    elif re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", t):
        t = t.replace(",", "")
    elif not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t):
        return None
    return float(t)


def parse_number(value: object) -> float | Problem | None:
    if type(value) is float and abs(value) <= MAX_NUMBER:  # a number cell: what ``_bounded`` would keep
        return value
    if is_blank(value):
        return None
    if (err := error_value(value)) is not None:
        return Problem("valore-errore", f"la cella mostra l'errore {err} al posto di un numero")
    if isinstance(value, bool):
        return Problem("numero-non-valido", f"«{value}» non è un numero")
    if isinstance(value, int | float):
        return _bounded(float(value), numero(float(value)))
    text = str(value).strip()
    # "80%" typed as text means 80 on the indicator's own scale (targets are 100).
    number = parse_plain_number(text.removesuffix("%"))
    if number is None:
        return Problem("numero-non-valido", f"«{_short(text)}» non è un numero")
    return _bounded(number, text)


def _bounded(number: float, shown: str) -> float | Problem:
    """NaN, infinities and numbers no indicator reaches are refused: the master could not hold them."""
    if not math.isfinite(number) and shown in ("inf", "-inf", "nan"):
        # A number cell beyond what a float holds: the reader never saw its digits, so none are quoted.
        return Problem("numero-non-valido", "la cella contiene un numero troppo grande, non ammesso (oltre ±10^15)")
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        return Problem("numero-non-valido", f"«{_short(shown)}» non è un numero ammesso (oltre ±10^15)")
    return number


_YES = {"SI", "SÌ", "SÍ", "S", "YES", "Y", "VERO", "TRUE", "X"}
_NO = {"NO", "N", "FALSO", "FALSE"}


def parse_si_no(value: object) -> float | Problem | None:
    """SI counts 100 and NO counts 0, the scheda's 'Rispetto delle previsioni (SI=100)'."""
    if is_blank(value):
        return None
    if (err := error_value(value)) is not None:
        return Problem("valore-errore", f"la cella mostra l'errore {err} al posto di SI o NO")
    if isinstance(value, bool):
        return 100.0 if value else 0.0
    if isinstance(value, int | float) and float(value) in (0.0, 100.0):
        return float(value)
    text = str(value).strip().upper().rstrip(".")
    if text in _YES or text == "100":
        return 100.0
    if text in _NO or text == "0":
        return 0.0
    return Problem("si-no-non-valido", f"«{_short(str(value))}» non è SI o NO")


@dataclass(frozen=True)
class Text:
    value: str
    problem: Problem | None = None


def parse_text(value: object) -> Text:
    """Any cell as text; control characters removed (and reported), over-long text refused."""
    if is_blank(value):
        return Text("")
    if (err := error_value(value)) is not None:
        return Text("", Problem("valore-errore", f"la cella mostra l'errore {err} al posto di un testo"))
    if isinstance(value, datetime | date):
        return Text(value.strftime("%d/%m/%Y"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    # Readers stop at Excel's limit, so a text exactly at the limit was cut: say so.
    if len(text) >= MAX_CELL_TEXT:
        return Text(
            text,
            Problem(
                "testo-troppo-lungo",
                f"il testo raggiunge {len(text):,} caratteri ed è troncato".replace(",", "."),
            ),
        )
    cleaned = _CONTROL.sub("", text)
    if cleaned != text:
        return Text(cleaned, Problem("carattere-non-ammesso", "il testo conteneva caratteri di controllo"))
    return Text(cleaned)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
