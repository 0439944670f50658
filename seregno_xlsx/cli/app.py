"""The command-line app shared by every command: the typer app, consoles, shared options and helpers.

Exit statuses (documented in README):
0 done, no errors (warnings allowed); 1 done, errors found in the data or a file
rejected; 2 nothing could be done (unreadable input, misuse, output not writable).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from seregno_xlsx.findings import Anomalia, Gravita
from seregno_xlsx.piano.model import Piano

app = typer.Typer(
    name="seregno-xlsx",
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
        envvar=PASSWORD_ENV,
        help=f"Password di protezione dei fogli (non serve per aprire il file). Anche da ${PASSWORD_ENV}.",
        show_default=False,
    ),
]
PianoOpt = Annotated[Path | None, typer.Option("--piano", help="Piano JSON con cui confrontare le schede.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Stampa il risultato in JSON (lo stesso del modulo Python).")]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--data-riferimento",
        help="Data della rilevazione AAAA-MM-GG (predefinita: oggi, al massimo il 31/12 dell'anno del piano).",
    ),
]


OPEN_PASSWORD_ENV = "SEREGNO_XLSX_PASSWORD_APERTURA"
OpenPasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password-apertura",
        envvar=OPEN_PASSWORD_ENV,
        help=f"Password di apertura delle schede cifrate (protette da password). Anche da ${OPEN_PASSWORD_ENV}.",
        show_default=False,
    ),
]
RegistroOpt = Annotated[
    Path | None,
    typer.Option(
        "--registro",
        help="File del registro (JSON lines, in aggiunta): cosa è stato letto, deciso e scritto.",
        show_default=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(styled("Errore:", "bold red", message))
    raise typer.Exit(code)


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: «{text}» non è una data nella forma AAAA-MM-GG")


def load_plan(path: Path) -> Piano:
    from seregno_xlsx.piano.plan_file import read_plan

    return read_plan(path)


def print_findings(anomalie: list[Anomalia], title: str) -> None:
    """A table: severity, code, where, message (folded, so it reads in a narrow terminal too)."""
    if not anomalie:
        return
    table = Table(title=title or None, title_justify="left", show_lines=True, expand=True)
    table.add_column("gravità", no_wrap=True)
    table.add_column("codice", no_wrap=True)
    table.add_column("dove", no_wrap=True)
    table.add_column("messaggio", ratio=1, overflow="fold")
    for a in anomalie:
        color = "red" if a.gravita is Gravita.ERRORE else "yellow"
        where = f"{a.foglio}!{a.cella}" if a.foglio and a.cella else a.foglio or a.fase or a.obiettivo or a.area
        table.add_row(Text(str(a.gravita), style=color), a.codice, where, a.messaggio)
    out.print(table)
