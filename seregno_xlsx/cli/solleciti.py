"""The ``solleciti`` command: a reminder to the areas without a valid returned scheda."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seregno_xlsx.cli.app import (
    DateOpt,
    PasswordOpt,
    app,
    err,
    load_plan,
    out,
    parse_date,
    refuse_file_as_folder,
    styled,
)
from seregno_xlsx.cli.posta import (
    BOZZE,
    AreaOpt,
    ContattiOpt,
    ModelliOpt,
    OpzioniInvio,
    ScadenzaOpt,
    outcome_table,
    print_registro,
    sending_options,
)


@app.command("solleciti")
@sending_options
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
    invio: OpzioniInvio = BOZZE,
    data_riferimento: DateOpt = None,
    password: PasswordOpt = None,
    modelli: ModelliOpt = None,
) -> None:
    """Sollecita le aree che non hanno restituito una scheda valida o la cui scheda ha errori."""
    from seregno_xlsx.posta.remind import remind

    refuse_file_as_folder(ritorni, "la cartella delle schede ricevute")
    if schede is not None:
        refuse_file_as_folder(schede, "la cartella delle schede prodotte da «genera»")
    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    reference = parse_date(data_riferimento, "--data-riferimento")
    with invio.progress() as advance:
        result = remind(
            piano,
            ritorni,
            contatti,
            schede=schede,
            output=output,
            scadenza=deadline,
            data_riferimento=reference,
            aree=area,
            mittente=invio.mittente,
            modelli=modelli,
            password=password,
            smtp=invio.smtp(),
            reinvia=invio.reinvia,
            avanzamento=advance,
        )
    for note in result.ignorati:
        err.print(styled("Ignorato:", "yellow", note))
    print_registro(result.registro)
    outcome_table(f"Solleciti – rilevazione {result.rilevazione}", result.esiti)
    if not result.messaggi:
        out.print("Nessun sollecito da inviare: tutte le aree hanno restituito una scheda senza errori.")
    raise typer.Exit(result.exit_code)
