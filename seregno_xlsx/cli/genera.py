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
    fail,
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
    _refuse_replacing_returns(piano, output, area or [], rilevazione)
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


def _refuse_replacing_returns(piano: Piano, output: Path, aree: list[str], rilevazione: Rilevazione) -> None:
    """A folder may hold the areas' replies under the names genera gives (saved there by hand): a new
    scheda replaces only a scheda nothing was written into, never a reply nor a file that is not ours."""
    from seregno_xlsx.posta.collect import is_blank
    from seregno_xlsx.ritorni.reader import read_workbook
    from seregno_xlsx.scheda.generation import select_areas, workbook_filename

    for chosen in select_areas(piano, aree):
        target = output / workbook_filename(piano.anno, chosen.nome, rilevazione)
        if not target.is_file():
            continue
        lettura = read_workbook(target)
        if lettura.metadati is None:
            fail(
                f"{target}: esiste già e non è una scheda generata da seregno-xlsx; il file è intatto: indicare "
                "un'altra cartella con -o"
            )
        if not is_blank(lettura):
            fail(
                f"{target}: è una scheda compilata dall'area (una risposta), non si sostituisce con una scheda "
                "vuota; il file è intatto: indicare un'altra cartella con -o"
            )
