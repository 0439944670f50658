"""«consolida»: every return into one master."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seregno_xlsx.atomic import output_file
from seregno_xlsx.audit import Registro
from seregno_xlsx.choices import MissingValue, Rilevazione
from seregno_xlsx.cli.app import (
    DateOpt,
    JsonOpt,
    OpenPasswordOpt,
    PianoOpt,
    ProcessiOpt,
    RegistroOpt,
    app,
    err,
    fail,
    out,
    parse_date,
    print_findings,
    refuse_file_as_folder,
    styled,
)

if TYPE_CHECKING:
    from seregno_xlsx.master.consolidation import Consolidamento
    from seregno_xlsx.master.scoring import Regole

# What the terminal lists; the rest is in the master's «Anomalie» and Fonti sheets and in --json.
FIRST_FINDINGS = 10
FIRST_FILES = 20

NO_RETTIFICHE = "nessun file delle rettifiche trovato accanto alle schede"


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
    rilevazione: Annotated[
        Rilevazione | None,
        typer.Option(
            "--rilevazione",
            metavar="intermedia|finale",
            help="Rilevazione da consolidare; senza, quella successiva all'ultima registrata nel piano, "
            "altrimenti quella della maggior parte delle schede.",
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
    processi: ProcessiOpt = None,
) -> None:
    """Consolida tutte le schede di una cartella in una cartella di lavoro master."""
    from seregno_xlsx.master.scoring import Regole

    regole = Regole(
        limite_100=not senza_limite,
        pesi_aree="uguali" if pesi_uguali else "stelle",
        mancante_intermedia=mancante_intermedia,
        mancante_finale=mancante_finale,
    )
    refuse_file_as_folder(
        cartella,
        "la cartella delle schede ricevute",
        f" (per controllare una sola scheda: seregno-xlsx verifica {cartella})",
    )
    if registro_path is not None:
        from seregno_xlsx.outputs import same_path

        # The master replaces its file whole: a log there would vanish without a word.
        if any(same_path(registro_path, master) for master in (output, output.with_name(output.name + ".xlsx"))):
            fail(f"--registro {registro_path}: è il file del master (-o); indicare un altro nome per il registro")
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
            processi=processi,
            rilevazione=rilevazione,
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
    processi: int | None = None,
    rilevazione: Rilevazione | None = None,
    piano_aggiornato: Path | None = None,
) -> Consolidamento:
    from seregno_xlsx.master.consolidation import consolidate
    from seregno_xlsx.piano.compatto import read_plan_compact

    output, note = output_file(output, ".xlsx")
    if note:
        err.print(styled("Nota:", "yellow", note))
    # Area by area: the plan of a region's hundreds of areas is held in a few bytes per area, its areas
    # compressed in a temporary file beside the master.
    piano = read_plan_compact(piano_path, cartella=output.parent) if piano_path else None
    from seregno_xlsx.master.rettifiche import find_rettifiche
    from seregno_xlsx.outputs import refuse_input_as_output

    # The office's corrections (given, or found beside the returns) are read, never replaced by the master.
    corrections = rettifiche or find_rettifiche(cartella)
    refuse_input_as_output(output, [corrections] if corrections else [], what="dal master")
    with _settled_collector():
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
            processi=processi,
            rilevazione=rilevazione,
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
        print_summary(result)
        for estratto in result.estratti:
            out.print(f"Estratto per {estratto.destinatario}: {estratto.path}", highlight=False)
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


@contextmanager
def _settled_collector() -> Iterator[None]:
    """What is loaded before the work (modules, the plan) lives until the end: the cyclic collector stops
    re-examining it at every collection of the reading and the master (about a fifth of the CPU time on
    200 areas, the same peak memory; a higher collection threshold would save little and hold more)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def print_summary(result: Consolidamento) -> None:
    """Per area: files, errors, warnings, %; then the files not accepted and the first findings.

    A run over hundreds of areas prints a line per area and a few dozen more, never every finding:
    the full list is the master's «Anomalie» sheet and ``--json``.
    """
    from rich.table import Table

    from seregno_xlsx.findings import Gravita

    files: dict[str, int] = {}
    for fonte in result.fonti:
        files[fonte.area] = files.get(fonte.area, 0) + 1
    errors: dict[str, int] = {}
    warnings: dict[str, int] = {}
    for a in result.anomalie:
        tally = errors if a.gravita is Gravita.ERRORE else warnings
        tally[a.area] = tally.get(a.area, 0) + 1
    pct = result.pct_aree
    names = sorted(set(files) | set(errors) | set(warnings) - {""}, key=lambda n: (n == "", n.casefold()))
    table = Table(title="Riepilogo per area", title_justify="left")
    for column, justify in (("area", "left"), ("file", "right"), ("errori", "right"), ("avvisi", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("% raggiungimento", justify="right")
    for name in names:
        value = pct.get(name)
        table.add_row(
            name or "(file senza area riconosciuta)",
            str(files.get(name, 0)),
            str(errors.get(name, 0)),
            str(warnings.get(name, 0)),
            "—" if value is None else f"{value * 100:.1f}%".replace(".", ","),
        )
    out.print(table)
    by_state: dict[str, int] = {}
    for fonte in result.fonti:
        by_state[fonte.stato] = by_state.get(fonte.stato, 0) + 1
    states = ", ".join(f"{state} {count}" for state, count in sorted(by_state.items()))
    out.print(f"File: {len(result.fonti)} ({states})", highlight=False)
    if result.piano_trovato:
        out.print(f"Piano: {result.piano_trovato} (trovato accanto alle schede)")
    # What the figures rest on comes before the findings, and the master's line closes the summary.
    out.print(f"Rilevazione: {result.rilevazione} ({result.regola_rilevazione})", highlight=False)
    if result.file_rettifiche:
        out.print(f"Rettifiche: {result.file_rettifiche} – applicate {len(result.rettifiche)}", highlight=False)
    elif result.master:  # the office must notice: a correction for every round would be missed
        out.print(f"Rettifiche: {NO_RETTIFICHE} (indicarlo con --rettifiche FILE)", highlight=False)
    _print_not_accepted(result)
    total = len(result.anomalie)
    if total:
        n_errors = sum(errors.values())
        # Errors first, each group in the order found; only the first few are made into models.
        severe: list[int] = []
        lighter: list[int] = []
        for n, a in enumerate(result.anomalie):
            group = severe if a.gravita is Gravita.ERRORE else lighter
            if len(group) < FIRST_FINDINGS:
                group.append(n)
        chosen = (severe + lighter)[:FIRST_FINDINGS]
        first = [result.anomalie[n] for n in chosen]
        title = f"Anomalie: {total} ({n_errors} errori, {total - n_errors} avvisi)"
        if total > len(first):
            title += f", le prime {len(first)}"
        print_findings(first, title, {id(a): result.anomalie.file_of(n) for a, n in zip(first, chosen, strict=True)})
        where = f"nel foglio «Anomalie» del master ({result.master})" if result.master else "nell'uscita di --json"
        rest = "Tutte le anomalie" if total > len(first) else "Le anomalie, con il collegamento alla riga,"
        out.print(f"{rest} sono {where}; in JSON con --json.", highlight=False)
    if result.master:
        written = result.summary.valori_scritti if result.summary else 0
        out.print(
            f"Master: {result.master} – valori letti {result.valori_letti}, scritti {written}",
            highlight=False,
        )
    else:
        err.print("Nessuna scheda consolidabile: il master non è stato scritto.")


def _print_not_accepted(result: Consolidamento) -> None:
    from rich.table import Table

    others = [f for f in result.fonti if f.stato != "accettato"]
    if not others:
        return
    title = "File non consolidati" + (f" (i primi {FIRST_FILES} di {len(others)})" if len(others) > FIRST_FILES else "")
    table = Table(title=title, title_justify="left")
    for column in ("file", "area", "stato", "motivo"):
        table.add_column(column, overflow="fold")
    for fonte in others[:FIRST_FILES]:
        table.add_row(fonte.file, fonte.area, fonte.stato, fonte.motivo)
    out.print(table)
