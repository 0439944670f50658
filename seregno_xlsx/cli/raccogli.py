"""The ``raccogli`` command: the schede attached to received e-mails, saved in the returns folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from seregno_xlsx.cli.app import DATE_METAVAR, JsonOpt, app, err, fail, load_plan, out, parse_date
from seregno_xlsx.cli.posta import IMAP_PASSWORD_ENV, IMAP_USER_ENV, ask_password


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
        password = ask_password(IMAP_PASSWORD_ENV, "IMAP")
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
            f"Schede prese: {len(raccolta.presi)}; allegati o messaggi ignorati: {len(raccolta.ignorati)}; "
            f"messaggi illeggibili: {len(raccolta.errori)}.",
            highlight=False,
        )
        if raccolta.exit_code == 2:
            err.print("Nessuna scheda di seregno-xlsx trovata nella sorgente.")
    raise typer.Exit(raccolta.exit_code)
