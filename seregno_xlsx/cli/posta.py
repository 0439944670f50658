"""What the e-mail commands share: options, passwords, the SMTP connection, progress and tables.

The commands are ``distribuisci``, ``solleciti`` and ``raccogli``, one module each; each is one
library call (``seregno_xlsx.posta``) plus printing.

Same exit statuses as the rest of the command line: 0 done; 1 done but some area
failed (no workbook, message refused, message unreadable); 2 nothing could be done
(misuse, contacts or texts to fix, server unreachable, nothing usable).
Passwords are never options: only environment variables or an interactive prompt.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text

from seregno_xlsx.choices import Sicurezza
from seregno_xlsx.cli.app import (
    DATE_METAVAR,
    err,
    fail,
    out,
)

if TYPE_CHECKING:  # the mail modules load when a command runs, not for «seregno-xlsx --help»
    from rich.progress import TaskID

    from seregno_xlsx.posta.compose import Messaggio
    from seregno_xlsx.posta.send import Avanzamento, EsitoArea, RegistroInvii, SmtpConfig

SMTP_USER_ENV = "SEREGNO_SMTP_UTENTE"
SMTP_PASSWORD_ENV = "SEREGNO_SMTP_PASSWORD"
IMAP_USER_ENV = "SEREGNO_IMAP_UTENTE"
IMAP_PASSWORD_ENV = "SEREGNO_IMAP_PASSWORD"
SENDER_ENV = "SEREGNO_MITTENTE"

ContattiOpt = Annotated[
    Path,
    typer.Option(
        "--contatti", metavar="FILE", help="File dei contatti delle aree (CSV: area;responsabile;email;copia)."
    ),
]
AreaOpt = Annotated[list[str] | None, typer.Option("--area", metavar="NOME", help="Solo questa area.")]
ScadenzaOpt = Annotated[
    str | None,
    typer.Option(
        "--scadenza", metavar=DATE_METAVAR, help="Data di restituzione (predefinita: quella scritta nella scheda)."
    ),
]
InviaOpt = Annotated[
    bool,
    typer.Option("--invia", help="Invia via SMTP; senza, scrive un file .eml per area da aprire e inviare a mano."),
]
ReinviaOpt = Annotated[
    bool, typer.Option("--reinvia", help="Invia di nuovo anche i messaggi già inviati con successo.")
]
MittenteOpt = Annotated[
    str | None,
    typer.Option(
        "--mittente",
        metavar="INDIRIZZO",
        envvar=SENDER_ENV,
        help=f"Indirizzo del mittente (predefinito: ufficio.email di posta.toml). Anche da ${SENDER_ENV}.",
        show_default=False,
    ),
]
HostOpt = Annotated[
    str | None,
    typer.Option("--smtp-host", metavar="SERVER", envvar="SEREGNO_SMTP_HOST", help="Server SMTP (con --invia)."),
]
PortaOpt = Annotated[
    int | None,
    typer.Option(
        "--smtp-porta",
        metavar="NUMERO",
        envvar="SEREGNO_SMTP_PORTA",
        help="Porta SMTP (predefinita: 587, 465 con ssl, 25 senza).",
    ),
]
SicurezzaOpt = Annotated[
    Sicurezza,
    typer.Option(
        "--smtp-sicurezza",
        metavar="starttls|ssl|nessuna",
        envvar="SEREGNO_SMTP_SICUREZZA",
        help="Cifratura della connessione SMTP.",
    ),
]
UtenteOpt = Annotated[
    str | None,
    typer.Option(
        "--smtp-utente",
        metavar="UTENTE",
        envvar=SMTP_USER_ENV,
        help=f"Utente SMTP; la password si legge da ${SMTP_PASSWORD_ENV} o si chiede a video.",
        show_default=False,
    ),
]
ModelliOpt = Annotated[
    Path | None,
    typer.Option("--modelli", metavar="CARTELLA", help="Cartella dei testi con posta.toml (predefinita: modelli/)."),
]


@dataclass(frozen=True)
class OpzioniInvio:
    """How a mail command sends its messages: the options «--invia» … «--smtp-utente», gathered.

    The default is the one without options: drafts (.eml) to open and send by hand.
    """

    invia: bool = False
    reinvia: bool = False
    mittente: str | None = None
    smtp_host: str | None = None
    smtp_porta: int | None = None
    smtp_sicurezza: Sicurezza = Sicurezza.STARTTLS
    smtp_utente: str | None = None

    def smtp(self) -> Callable[[], SmtpConfig] | None:
        """Without --invia, drafts; with it, the configuration is asked for (and checked) only if a message
        is due."""
        if not self.invia:
            return None
        return lambda: smtp_settings(self.smtp_host, self.smtp_porta, self.smtp_sicurezza, self.smtp_utente)

    def progress(self) -> AbstractContextManager[Avanzamento | None]:
        return send_progress(self.invia)


BOZZE = OpzioniInvio()

# The typer option of each field of OpzioniInvio; the fields' order is the order «--help» shows them in.
_OPTION_OF_FIELD: dict[str, Any] = {
    "invia": InviaOpt,
    "reinvia": ReinviaOpt,
    "mittente": MittenteOpt,
    "smtp_host": HostOpt,
    "smtp_porta": PortaOpt,
    "smtp_sicurezza": SicurezzaOpt,
    "smtp_utente": UtenteOpt,
}

Command = TypeVar("Command", bound=Callable[..., None])


def sending_options(command: Command) -> Command:
    """Declares the sending options once for every mail command: they take the place of the command's
    ``invio`` parameter, typer sees each of them (names, help, defaults, order) and the command receives
    them gathered in one :class:`OpzioniInvio`."""
    signature = inspect.signature(command, eval_str=True)
    parameters = list(signature.parameters.values())
    at = [p.name for p in parameters].index("invio")
    options = [
        inspect.Parameter(
            f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_OPTION_OF_FIELD[f.name], default=f.default
        )
        for f in fields(OpzioniInvio)
    ]

    @functools.wraps(command)
    def with_options(**values: Any) -> None:
        invio = OpzioniInvio(**{f.name: values.pop(f.name) for f in fields(OpzioniInvio)})
        command(**values, invio=invio)

    with_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters[:at], *options, *parameters[at + 1 :]]
    )
    return with_options  # type: ignore[return-value]


def ask_password(env: str, what: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        fail(f"password {what} mancante: impostare la variabile d'ambiente {env}")
    return str(typer.prompt(f"Password {what}", hide_input=True))


def smtp_settings(host: str | None, porta: int | None, sicurezza: Sicurezza, utente: str | None) -> SmtpConfig:
    if not host:
        fail("--invia: indicare il server con --smtp-host (o SEREGNO_SMTP_HOST)")
    password = ask_password(SMTP_PASSWORD_ENV, "SMTP") if utente else None
    from seregno_xlsx.posta.send import SmtpConfig

    return SmtpConfig(host=host, porta=porta or 0, sicurezza=sicurezza, utente=utente or None, password=password)


@contextmanager
def send_progress(active: bool) -> Iterator[Avanzamento | None]:
    """A progress bar on the error console while messages are sent (none for drafts)."""
    if not active:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=False
    ) as progress:
        task: TaskID | None = None

        def advance(message: Messaggio, done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = progress.add_task("Invio", total=total)
            progress.update(task, completed=done, description=f"Invio: {message.area}")

        yield advance


def print_registro(registro: RegistroInvii | None) -> None:
    if registro is not None:
        out.print(f"Registro degli invii: {registro.path}", highlight=False)


def outcome_table(title: str, esiti: list[EsitoArea]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in ("area", "esito", "dettaglio"):
        table.add_column(column, overflow="fold")
    for esito in esiti:
        color = "red" if esito.errore else "green"
        table.add_row(esito.area, Text(str(esito.stato), style=color), esito.dettaglio)
    out.print(table)
