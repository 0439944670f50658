"""The e-mail commands of ``seregno-xlsx``: ``distribuisci``, ``solleciti``, ``raccogli``.

Same exit statuses as the rest of the command line: 0 done; 1 done but some area
failed (no workbook, message refused, message unreadable); 2 nothing could be done
(misuse, contacts or texts to fix, server unreachable, nothing usable).
Passwords are never options: only environment variables or an interactive prompt.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from seregno_xlsx.choices import Sicurezza
from seregno_xlsx.cli.app import (
    DATE_METAVAR,
    DateOpt,
    JsonOpt,
    PasswordOpt,
    app,
    err,
    fail,
    load_plan,
    out,
    parse_date,
    styled,
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


def _password(env: str, what: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        fail(f"password {what} mancante: impostare la variabile d'ambiente {env}")
    return str(typer.prompt(f"Password {what}", hide_input=True))


def _smtp_config(host: str | None, porta: int | None, sicurezza: Sicurezza, utente: str | None) -> SmtpConfig:
    if not host:
        fail("--invia: indicare il server con --smtp-host (o SEREGNO_SMTP_HOST)")
    from seregno_xlsx.posta.send import SmtpConfig

    password = _password(SMTP_PASSWORD_ENV, "SMTP") if utente else None
    return SmtpConfig(host=host, porta=porta or 0, sicurezza=sicurezza, utente=utente or None, password=password)


@contextmanager
def _progress(active: bool) -> Iterator[Avanzamento | None]:
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


def _smtp(
    invia: bool, host: str | None, porta: int | None, sicurezza: Sicurezza, utente: str | None
) -> Callable[[], SmtpConfig] | None:
    """Without --invia, drafts; with it, the configuration is asked for (and checked) only if a message is due."""
    return (lambda: _smtp_config(host, porta, sicurezza, utente)) if invia else None


def _registro(registro: RegistroInvii | None) -> None:
    if registro is not None:
        out.print(f"Registro degli invii: {registro.path}", highlight=False)


def _table(title: str, esiti: list[EsitoArea]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in ("area", "esito", "dettaglio"):
        table.add_column(column, overflow="fold")
    for esito in esiti:
        color = "red" if esito.errore else "green"
        table.add_row(esito.area, Text(str(esito.stato), style=color), esito.dettaglio)
    out.print(table)


@app.command("distribuisci")
def distribuisci_cmd(
    piano_path: Annotated[Path, typer.Argument(metavar="PIANO", help="Piano JSON prodotto da «importa».")],
    schede: Annotated[Path, typer.Argument(metavar="CARTELLA", help="Cartella delle schede prodotte da «genera».")],
    contatti: ContattiOpt,
    scadenza: ScadenzaOpt = None,
    area: AreaOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="CARTELLA",
            help="Cartella dei messaggi .eml e del registro (predefinita: CARTELLA/posta).",
        ),
    ] = None,
    invia: InviaOpt = False,
    reinvia: ReinviaOpt = False,
    mittente: MittenteOpt = None,
    smtp_host: HostOpt = None,
    smtp_porta: PortaOpt = None,
    smtp_sicurezza: SicurezzaOpt = Sicurezza.STARTTLS,
    smtp_utente: UtenteOpt = None,
    modelli: ModelliOpt = None,
) -> None:
    """Prepara (o invia) a ogni area un'e-mail con la sua scheda da compilare."""
    from seregno_xlsx.posta.distribute import distribute

    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    with _progress(invia) as advance:
        result = distribute(
            piano,
            schede,
            contatti,
            output=output,
            scadenza=deadline,
            aree=area,
            mittente=mittente,
            modelli=modelli,
            smtp=_smtp(invia, smtp_host, smtp_porta, smtp_sicurezza, smtp_utente),
            reinvia=reinvia,
            avanzamento=advance,
        )
    for note in result.avvisi:
        err.print(styled("Avviso:", "yellow", note), highlight=False)
    for note in result.ignorati:
        err.print(styled("Ignorato:", "yellow", note))
    if not result.messaggi:
        _table("Distribuzione", result.esiti)
        fail("nessun messaggio da preparare: nessuna scheda del piano trovata per le aree indicate")
    _registro(result.registro)
    _table("Distribuzione" + (" (invio)" if invia else f" (bozze in {result.output})"), result.esiti)
    raise typer.Exit(result.exit_code)


@app.command("solleciti")
def solleciti_cmd(
    ritorni: Annotated[Path, typer.Argument(metavar="CARTELLA", help="Cartella con le schede restituite dalle aree.")],
    piano_path: Annotated[Path, typer.Option("--piano", metavar="FILE", help="Piano JSON con le aree attese.")],
    contatti: ContattiOpt,
    schede: Annotated[
        Path | None,
        typer.Option(
            "--schede",
            metavar="CARTELLA",
            help="Cartella delle schede generate: le riallega alle aree che non hanno risposto.",
        ),
    ] = None,
    scadenza: ScadenzaOpt = None,
    area: AreaOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="CARTELLA",
            help="Cartella di solleciti, copie annotate e registro (predefinita: CARTELLA/solleciti).",
        ),
    ] = None,
    invia: InviaOpt = False,
    reinvia: ReinviaOpt = False,
    mittente: MittenteOpt = None,
    smtp_host: HostOpt = None,
    smtp_porta: PortaOpt = None,
    smtp_sicurezza: SicurezzaOpt = Sicurezza.STARTTLS,
    smtp_utente: UtenteOpt = None,
    data_riferimento: DateOpt = None,
    password: PasswordOpt = None,
    modelli: ModelliOpt = None,
) -> None:
    """Sollecita le aree che non hanno restituito una scheda valida o la cui scheda ha errori."""
    from seregno_xlsx.posta.remind import remind

    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    reference = parse_date(data_riferimento, "--data-riferimento")
    with _progress(invia) as advance:
        result = remind(
            piano,
            ritorni,
            contatti,
            schede=schede,
            output=output,
            scadenza=deadline,
            data_riferimento=reference,
            aree=area,
            mittente=mittente,
            modelli=modelli,
            password=password,
            smtp=_smtp(invia, smtp_host, smtp_porta, smtp_sicurezza, smtp_utente),
            reinvia=reinvia,
            avanzamento=advance,
        )
    for note in result.ignorati:
        err.print(styled("Ignorato:", "yellow", note))
    _registro(result.registro)
    _table(f"Solleciti – rilevazione {result.rilevazione}", result.esiti)
    if not result.messaggi:
        out.print("Nessun sollecito da inviare: tutte le aree hanno restituito una scheda senza errori.")
    raise typer.Exit(result.exit_code)


@app.command("raccogli")
def raccogli_cmd(
    sorgente: Annotated[
        str,
        typer.Argument(
            metavar="SORGENTE",
            help="Messaggio .eml/.msg, cartella di messaggi, oppure imap://server[:porta]/CARTELLA.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="CARTELLA", help="Cartella dei ritorni in cui salvare le schede.")
    ],
    piano_path: Annotated[
        Path | None, typer.Option("--piano", metavar="FILE", help="Tiene solo le schede di questo piano.")
    ] = None,
    imap_utente: Annotated[
        str | None,
        typer.Option(
            "--imap-utente",
            metavar="UTENTE",
            envvar=IMAP_USER_ENV,
            help=f"Utente IMAP; la password si legge da ${IMAP_PASSWORD_ENV} o si chiede a video.",
            show_default=False,
        ),
    ] = None,
    imap_ssl: Annotated[bool, typer.Option("--imap-ssl", help="Connessione IMAP cifrata (porta 993).")] = False,
    dal: Annotated[
        str | None, typer.Option("--dal", metavar=DATE_METAVAR, help="Solo i messaggi IMAP ricevuti da questa data.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Salva nella cartella dei ritorni le schede allegate alle e-mail ricevute."""
    from seregno_xlsx.posta.collect import ImapConfig, collect, parse_imap_url

    piano = load_plan(piano_path) if piano_path else None
    since = parse_date(dal, "--dal")
    source: Path | ImapConfig
    if sorgente.lower().startswith(("imap://", "imaps://")):
        host, porta, cartella, ssl_url = parse_imap_url(sorgente)
        if not imap_utente:
            fail(f"IMAP: indicare l'utente con --imap-utente (o {IMAP_USER_ENV})")
        password = _password(IMAP_PASSWORD_ENV, "IMAP")
        source = ImapConfig(
            host, cartella, porta or 0, ssl=imap_ssl or ssl_url, utente=imap_utente, password=password, dal=since
        )
    else:
        if since is not None:
            fail("--dal vale solo per le cartelle IMAP")
        source = Path(sorgente)
    raccolta = collect(source, output, piano=piano)
    if as_json:
        print(json.dumps(raccolta.to_json(), indent=2, ensure_ascii=False))
    else:
        from rich.table import Table

        table = Table(title=f"Raccolta → {output}")
        for column in ("messaggio", "allegato", "esito", "motivo / file"):
            table.add_column(column, overflow="fold")
        for voce in raccolta.esiti:
            color = {"preso": "green", "ignorato": "yellow"}.get(voce.stato, "red")
            detail = f"{voce.file.name} ({voce.motivo})" if voce.file else voce.motivo
            table.add_row(voce.fonte, voce.allegato, Text(str(voce.stato), style=color), detail)
        out.print(table)
        out.print(
            f"Prese {len(raccolta.presi)} schede, ignorati {len(raccolta.ignorati)} allegati o messaggi, "
            f"{len(raccolta.errori)} messaggi illeggibili.",
            highlight=False,
        )
        if raccolta.exit_code == 2:
            err.print("Nessuna scheda di seregno-xlsx trovata nella sorgente.")
    raise typer.Exit(raccolta.exit_code)
