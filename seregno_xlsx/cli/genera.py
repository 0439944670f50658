"""«genera»: one locked workbook per area."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seregno_xlsx.choices import Rilevazione
from seregno_xlsx.cli.app import (
    DATE_METAVAR,
    PasswordOpt,
    ProcessiOpt,
    app,
    err,
    load_plan,
    out,
    parse_date,
    styled,
)

if TYPE_CHECKING:
    from seregno_xlsx.piano.model import Piano


@app.command("genera")
def genera_cmd(
    piano_path: Annotated[Path, typer.Argument(metavar="PIANO", help="Piano JSON prodotto da «importa».")],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="CARTELLA", help="Cartella in cui scrivere le schede.")
    ],
    area: Annotated[list[str] | None, typer.Option("--area", metavar="NOME", help="Solo questa area.")] = None,
    rilevazione: Annotated[
        Rilevazione, typer.Option("--rilevazione", metavar="intermedia|finale", help="Rilevazione da raccogliere.")
    ] = (Rilevazione.INTERMEDIA),
    scadenza: Annotated[
        str | None, typer.Option("--scadenza", metavar=DATE_METAVAR, help="Data di restituzione.")
    ] = None,
    password: PasswordOpt = None,
    modelli: Annotated[
        Path | None, typer.Option("--modelli", metavar="CARTELLA", help="Cartella dei testi (predefinita: modelli/).")
    ] = None,
    processi: ProcessiOpt = None,
) -> None:
    """Genera una cartella di lavoro protetta per ogni area del piano."""
    from seregno_xlsx.scheda.generation import generate
    from seregno_xlsx.texts import load_texts

    piano = load_plan(piano_path)
    texts = load_texts(modelli) if modelli else load_texts()
    generated = generate(
        piano,
        output,
        aree=area or [],
        rilevazione=rilevazione,
        password=password,
        scadenza=parse_date(scadenza, "--scadenza"),
        testi=texts,
        processi=processi,
    )
    for item in generated:
        out.print(styled("✓", "green", f"{item.area}: {item.path}"))
    if rilevazione is Rilevazione.FINALE:
        _say_what_is_prefilled(piano)


def _say_what_is_prefilled(piano: Piano) -> None:
    """The final round builds on the intermediate one only if the plan carries it: say which is the case."""
    record = next((r for r in piano.rilevazioni if r.rilevazione is Rilevazione.INTERMEDIA), None)
    if record is not None:
        when = f"{record.consolidato_il:%d/%m/%Y}"
        out.print(f"1° rilevazione, date, note e monitoraggio: quelli restituiti dalle aree (consolidati il {when}).")
    else:
        err.print(
            styled(
                "Nota:",
                "yellow",
                "il piano non contiene la rilevazione intermedia: 1° rilevazione e date sono quelle "
                "dell'esportazione. Per precompilare quanto restituito dalle aree generare dal piano scritto da "
                "«consolida --piano-aggiornato».",
            )
        )
