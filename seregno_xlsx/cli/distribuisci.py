"""The ``distribuisci`` command: each area receives its scheda by e-mail (or a .eml draft)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seregno_xlsx.cli.app import app, err, fail, load_plan, parse_date, refuse_file_as_folder, styled
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


@app.command("distribuisci")
@sending_options
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
    invio: OpzioniInvio = BOZZE,
    modelli: ModelliOpt = None,
) -> None:
    """Prepara (o invia) a ogni area un'e-mail con la sua scheda da compilare."""
    from seregno_xlsx.posta.distribute import distribute

    refuse_file_as_folder(schede, "la cartella delle schede prodotte da «genera»")
    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    with invio.progress() as advance:
        result = distribute(
            piano,
            schede,
            contatti,
            output=output,
            scadenza=deadline,
            aree=area,
            mittente=invio.mittente,
            modelli=modelli,
            smtp=invio.smtp(),
            reinvia=invio.reinvia,
            avanzamento=advance,
        )
    for note in result.avvisi:
        err.print(styled("Avviso:", "yellow", note), highlight=False)
    for note in result.ignorati:
        err.print(styled("Ignorato:", "yellow", note))
    if not result.messaggi:
        outcome_table("Distribuzione", result.esiti)
        fail("nessun messaggio da preparare: nessuna scheda del piano trovata per le aree indicate")
    print_registro(result.registro)
    outcome_table("Distribuzione" + (" (invio)" if invio.invia else f" (bozze in {result.output})"), result.esiti)
    raise typer.Exit(result.exit_code)
