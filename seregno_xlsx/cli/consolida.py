"""«consolida»: every return into one master."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from seregno_xlsx.atomic import output_file
from seregno_xlsx.audit import Registro
from seregno_xlsx.cli.app import (
    DateOpt,
    JsonOpt,
    OpenPasswordOpt,
    PianoOpt,
    RegistroOpt,
    app,
    err,
    load_plan,
    out,
    parse_date,
    print_findings,
    styled,
)
from seregno_xlsx.master.scoring import MissingValue, Regole

if TYPE_CHECKING:
    from seregno_xlsx.master.consolidation import Consolidamento


@app.command("consolida")
def consolida_cmd(
    cartella: Annotated[Path, typer.Argument(metavar="CARTELLA", help="Cartella con le schede restituite.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="FILE", help="Cartella di lavoro master da scrivere (.xlsx).")
    ],
    piano_path: PianoOpt = None,
    data_riferimento: DateOpt = None,
    as_json: JsonOpt = False,
    senza_limite: Annotated[
        bool, typer.Option("--senza-limite-100", help="La % di un indicatore può superare il 100%.")
    ] = False,
    pesi_uguali: Annotated[
        bool, typer.Option("--pesi-uguali", help="Media delle aree con pesi uguali invece che per stelle.")
    ] = False,
    mancante_intermedia: Annotated[
        MissingValue,
        typer.Option(
            "--mancante-intermedia",
            metavar="escluso|zero",
            help="Valore mancante nella rilevazione intermedia: escluso o zero.",
        ),
    ] = MissingValue.ESCLUSO,
    mancante_finale: Annotated[
        MissingValue,
        typer.Option(
            "--mancante-finale",
            metavar="zero|escluso",
            help="Valore mancante nella rilevazione finale: zero o escluso.",
        ),
    ] = MissingValue.ZERO,
    password_apertura: OpenPasswordOpt = None,
    registro_path: RegistroOpt = None,
    estratti: Annotated[
        Path | None,
        typer.Option(
            "--estratti",
            metavar="CARTELLA",
            help="Scrive anche un estratto per ogni area (per il dirigente: i suoi obiettivi e il suo personale) "
            "e uno senza dati personali (per la Giunta e la pubblicazione).",
        ),
    ] = None,
    rettifiche: Annotated[
        Path | None,
        typer.Option(
            "--rettifiche",
            metavar="FILE",
            help="File delle rettifiche dell'ufficio (.csv o .xlsx); senza, si usa il rettifiche*.csv/.xlsx "
            "accanto alle schede.",
        ),
    ] = None,
    piano_aggiornato: Annotated[
        Path | None,
        typer.Option(
            "--piano-aggiornato",
            metavar="FILE",
            help="Scrive anche il piano aggiornato con quanto restituito dalle aree (per la rilevazione successiva).",
        ),
    ] = None,
    chiudi: Annotated[
        bool,
        typer.Option(
            "--chiudi",
            help="Chiude la rilevazione: master ufficiale con rilevazione e data nel nome, mai sovrascritto, "
            "stampato in PDF con LibreOffice, con il manifesto SHA-256 dei file da cui è fatto.",
        ),
    ] = False,
) -> None:
    """Consolida tutte le schede di una cartella in una cartella di lavoro master."""
    regole = Regole(
        limite_100=not senza_limite,
        pesi_aree="uguali" if pesi_uguali else "stelle",
        mancante_intermedia=mancante_intermedia,
        mancante_finale=mancante_finale,
    )
    if piano_aggiornato is not None:
        from seregno_xlsx.cli.rounds import check_updated_plan_target

        check_updated_plan_target(piano_aggiornato, piano_path, cartella)
    with Registro(registro_path, "consolida") as registro:
        registro.start(sys.argv[1:])
        result = _consolida(
            cartella,
            output,
            piano_path,
            data_riferimento,
            as_json,
            regole,
            password_apertura,
            registro,
            estratti=estratti,
            rettifiche=rettifiche,
            chiudi=chiudi,
            piano_aggiornato=piano_aggiornato,
        )
        raise typer.Exit(result.exit_code)


def _consolida(
    cartella: Path,
    output: Path,
    piano_path: Path | None,
    data_riferimento: str | None,
    as_json: bool,
    regole: Regole,
    password_apertura: str | None,
    registro: Registro,
    estratti: Path | None = None,
    rettifiche: Path | None = None,
    chiudi: bool = False,
    piano_aggiornato: Path | None = None,
) -> Consolidamento:
    from seregno_xlsx.master.consolidation import consolidate

    piano = load_plan(piano_path) if piano_path else None
    output, note = output_file(output, ".xlsx")
    if note:
        err.print(styled("Nota:", "yellow", note))
    result = consolidate(
        cartella,
        output,
        piano=piano,
        data_riferimento=parse_date(data_riferimento, "--data-riferimento"),
        regole=regole,
        password_apertura=password_apertura,
        registro=registro,
        estratti=estratti,
        rettifiche=rettifiche,
    )
    chiusura = None
    if chiudi and result.master is not None and result.anno is not None:
        from seregno_xlsx.master.closure import close_round

        chiusura = close_round(
            result.master,
            anno=result.anno,
            rilevazione=result.rilevazione,
            sources=result.letti,
            plan_file=piano_path or result.piano_trovato,
        )
        for path in (chiusura.master, chiusura.pdf, chiusura.manifesto):
            registro.written(path, "chiusura")
    if piano_aggiornato is not None and as_json:  # stdout is only the JSON: messages on stderr
        from seregno_xlsx.cli.rounds import write_updated_plan

        aggiornato = write_updated_plan(result, piano_aggiornato, piano_path, registro, err)
    if as_json:
        report = result.to_json()
        if chiusura is not None:
            report["chiusura"] = {k: str(v) for k, v in vars(chiusura).items()}
        if piano_aggiornato is not None:
            report["piano_aggiornato"] = str(aggiornato) if aggiornato else None
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        table = Table(title="Schede lette")
        for column in ("file", "area", "stato", "motivo"):
            table.add_column(column, overflow="fold")
        for fonte in result.fonti:
            table.add_row(fonte.file, fonte.area, fonte.stato, fonte.motivo)
        out.print(table)
        if result.piano_trovato:
            out.print(f"Piano: {result.piano_trovato} (trovato accanto alle schede)")
        if result.file_rettifiche:
            out.print(f"Rettifiche: {result.file_rettifiche} – applicate {len(result.rettifiche)}", highlight=False)
        print_findings(result.anomalie, "Anomalie", result.origine)
        if result.master:
            written = result.summary.valori_scritti if result.summary else 0
            out.print(
                f"Master: {result.master} – valori letti {result.valori_letti}, scritti {written}",
                highlight=False,
            )
        for estratto in result.estratti:
            out.print(f"Estratto per {estratto.destinatario}: {estratto.path}", highlight=False)
        if not result.master:
            err.print("Nessuna scheda consolidabile: il master non è stato scritto.")
        if chiusura is not None:
            out.print(
                f"Rilevazione chiusa: {chiusura.master}, {chiusura.pdf.name}, {chiusura.manifesto.name} "
                "(verifica: sha256sum -c nella stessa cartella)",
                highlight=False,
            )
        if piano_aggiornato is not None:
            from seregno_xlsx.cli.rounds import write_updated_plan

            write_updated_plan(result, piano_aggiornato, piano_path, registro, out)
    if chiudi and result.master is None:
        err.print("Nessun master scritto: la rilevazione non è stata chiusa.")
    return result
