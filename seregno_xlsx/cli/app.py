"""The command-line app shared by every command: the typer app, consoles, shared options and helpers.

Exit statuses (documented in README):
0 done, no errors (warnings allowed); 1 done, errors found in the data or a file
rejected; 2 nothing could be done (unreadable input, misuse, output not writable).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from seregno_xlsx.cli.italiano import Gruppo

if TYPE_CHECKING:  # imported where used: «seregno-xlsx --help» never pays for pydantic
    from seregno_xlsx.findings import Anomalia
    from seregno_xlsx.piano.model import Piano

app = typer.Typer(
    name="seregno-xlsx",
    cls=Gruppo,
    help=(
        "Piano degli Obiettivi: importa il piano, genera le schede protette, le distribuisce e le raccoglie "
        "per e-mail, verifica e consolida i ritorni."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Markup, highlighting and emoji codes are off: every text printed may come from a returned workbook or
# an e-mail («[/x]», «:smile:»), and must appear as it was typed, never be interpreted.
out = Console(soft_wrap=True, markup=False, highlight=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False, emoji=False)


def styled(label: str, style: str, text: str = "") -> Text:
    """A coloured label followed by plain text: the only way a style reaches the terminal."""
    return Text.assemble((label, style), " " + text if text else "")


PASSWORD_ENV = "SEREGNO_XLSX_PASSWORD"
PasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password",
        metavar="PASSWORD",
        envvar=PASSWORD_ENV,
        help=f"Password di protezione dei fogli (non serve per aprire il file). Anche da ${PASSWORD_ENV}.",
        show_default=False,
    ),
]
PianoOpt = Annotated[
    Path | None,
    typer.Option(
        "--piano",
        metavar="FILE",
        help="Piano JSON con cui confrontare le schede (senza: il piano*.json accanto alle schede, se c'è).",
    ),
]
DATE_METAVAR = "GG/MM/AAAA"
JsonOpt = Annotated[bool, typer.Option("--json", help="Stampa il risultato in JSON (lo stesso del modulo Python).")]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--data-riferimento",
        metavar=DATE_METAVAR,
        help="Data della rilevazione (predefinita: oggi, al massimo il 31/12 dell'anno del piano).",
    ),
]


OPEN_PASSWORD_ENV = "SEREGNO_XLSX_PASSWORD_APERTURA"
OpenPasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password-apertura",
        metavar="PASSWORD",
        envvar=OPEN_PASSWORD_ENV,
        help=f"Password di apertura delle schede cifrate (protette da password). Anche da ${OPEN_PASSWORD_ENV}.",
        show_default=False,
    ),
]
ProcessiOpt = Annotated[
    int | None,
    typer.Option(
        "--processi",
        metavar="N",
        min=1,
        help=(
            "Processi in parallelo (predefinito: uno per core; 1: tutto in sequenza): un file per processo; "
            "consolida scrive anche il master con due."
        ),
        show_default=False,
    ),
]
RegistroOpt = Annotated[
    Path | None,
    typer.Option(
        "--registro",
        metavar="FILE",
        help="File del registro (righe JSON, aggiunte in fondo): cosa è stato letto, deciso e scritto.",
        show_default=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(styled("Errore:", "bold red", message))
    raise typer.Exit(code)


_OFFICE_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_date(text: str | None, option: str) -> date | None:
    """gg/mm/aaaa as the office writes it everywhere else (also gg-mm-aaaa, gg.mm.aaaa), or AAAA-MM-GG."""
    if text is None:
        return None
    cleaned = text.strip()
    if m := _OFFICE_DATE.fullmatch(cleaned):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO_DATE.fullmatch(cleaned):
        year, month, day = (int(g) for g in m.groups())
    else:
        fail(f"{option}: «{text}» non è una data; scrivere gg/mm/aaaa, per esempio 30/09/2021")
    try:
        return date(year, month, day)
    except ValueError:
        fail(f"{option}: «{text}» non è una data esistente; scrivere gg/mm/aaaa, per esempio 30/09/2021")


def expand_paths(patterns: Sequence[Path], in_folder: Callable[[Path], list[Path]] | None = None) -> list[Path]:
    """Files, folders (``in_folder`` lists what they hold) and wildcards, expanded here: Windows' cmd does
    not expand ``ritorni\\*.xlsx``, and a quoted pattern reaches no shell either."""
    from seregno_xlsx.files import is_office_temp

    found: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        if in_folder is not None and pattern.is_dir():
            found.extend(in_folder(pattern))
        elif glob.has_magic(text) and not pattern.exists():
            matches = sorted(Path(m) for m in glob.glob(text))
            if not matches:
                fail(f"{text}: nessun file corrisponde")
            found.extend(m for m in matches if m.is_file() and not is_office_temp(m))
        else:
            found.append(pattern)
    return list(dict.fromkeys(found))


def refuse_file_as_folder(path: Path, what: str, instead: str = "") -> None:
    """A file where a folder is expected is a mistake to name as such, not a folder «not found»."""
    if path.is_file():
        fail(f"{path}: è un file, non una cartella: indicare {what}{instead}")


def load_plan(path: Path) -> Piano:
    from seregno_xlsx.piano.plan_file import read_plan

    return read_plan(path)


def print_findings(anomalie: Sequence[Anomalia], title: str, file_of: dict[int, str] | str = "") -> None:
    """A table: severity, code, where (area, file, sheet!cell), message; folded to read in a narrow terminal.

    ``file_of`` is the file every finding comes from, or a map from ``id(finding)`` to its file.
    """
    if not anomalie:
        return
    from rich.table import Table

    from seregno_xlsx.findings import Gravita

    table = Table(title=title or None, title_justify="left", show_lines=True, expand=True)
    table.add_column("gravità", no_wrap=True)
    table.add_column("codice", no_wrap=True)
    table.add_column("dove", ratio=1, overflow="fold")
    table.add_column("messaggio", ratio=2, overflow="fold")
    for a in anomalie:
        color = "red" if a.gravita is Gravita.ERRORE else "yellow"
        cell = f"{a.foglio}!{a.cella}" if a.foglio and a.cella else a.foglio or a.fase or a.obiettivo
        file = file_of if isinstance(file_of, str) else file_of.get(id(a), "")
        where = "\n".join(part for part in (a.area, file, cell) if part)
        table.add_row(Text(str(a.gravita), style=color), a.codice, where, a.messaggio)
    out.print(table)
