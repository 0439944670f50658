"""«importa» and «schema»: the management system's export into a validated plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from seregno_xlsx.cli.app import (
    DATE_METAVAR,
    JsonOpt,
    app,
    err,
    expand_paths,
    out,
    parse_date,
    print_findings,
    styled,
)


@app.command("importa")
def importa_cmd(
    fonti: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Esportazioni «Scheda Obiettivo Gestionale» (una per area).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="File del piano da scrivere (JSON).")],
    as_json: JsonOpt = False,
    regole: Annotated[
        Path | None,
        typer.Option(
            "--regole",
            metavar="FILE",
            help="Regole di misura degli indicatori (TOML); senza, quelle di modelli/regole_indicatori.toml.",
        ),
    ] = None,
    piano_attuale: Annotated[
        Path | None,
        typer.Option(
            "--piano-attuale",
            metavar="FILE",
            help="Piano in vigore di cui l'esportazione è una revisione (predefinito: il file -o, se c'è).",
        ),
    ] = None,
    delibera: Annotated[
        str | None, typer.Option("--delibera", metavar="TESTO", help="Delibera che approva questa versione.")
    ] = None,
    data_delibera: Annotated[
        str | None, typer.Option("--data-delibera", metavar=DATE_METAVAR, help="Data della delibera.")
    ] = None,
    anno_precedente: Annotated[
        Path | None,
        typer.Option(
            "--anno-precedente",
            metavar="FILE",
            help="Piano dell'anno prima: collega gli obiettivi che proseguono (stesso codice o titolo).",
        ),
    ] = None,
) -> None:
    """Importa le schede obiettivo esportate dal gestionale in un piano JSON validato."""
    from rich.table import Table

    from seregno_xlsx.atomic import atomic_write_text, output_file
    from seregno_xlsx.cli.revisioni import into_history, print_history
    from seregno_xlsx.findings import has_errors
    from seregno_xlsx.piano.checks import check_plan
    from seregno_xlsx.piano.export_parser import parse_exports
    from seregno_xlsx.piano.regole_indicatori import apply_rules, load_rules

    output, note = output_file(output, ".json")
    if note:
        err.print(styled("Nota:", "yellow", note))
    piano, anomalie = parse_exports(expand_paths(fonti, lambda folder: sorted(folder.glob("*.txt"))))
    piano, unmatched = apply_rules(piano, load_rules(regole))
    anomalie = anomalie + unmatched + check_plan(piano)
    storia = into_history(
        piano,
        output,
        piano_attuale=piano_attuale,
        delibera=delibera,
        data_delibera=parse_date(data_delibera, "--data-delibera"),
        anno_precedente=anno_precedente,
    )
    piano = storia.piano
    if shares := storia.assegnazioni_tenute:
        what = "1 assegnazione" if shares == 1 else f"{shares} assegnazioni"
        err.print(styled("Nota:", "yellow", f"{output}: tenute quote e date di {what} del piano in vigore"))
    atomic_write_text(output, piano.to_json())
    if as_json:
        print(
            json.dumps(
                {
                    "piano": str(output),
                    "versione": piano.versione,
                    "variazioni": [v.model_dump(mode="json") for v in storia.variazioni],
                    "anomalie": [a.model_dump(mode="json") for a in anomalie],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        table = Table(title=f"Piano {piano.ente} {piano.anno} → {output}")
        for column in ("area", "obiettivi", "fasi", "indicatori", "persone"):
            table.add_column(column)
        for area in piano.aree:
            people = {p.matricola for o in area.obiettivi for p in o.risorse_umane}
            table.add_row(
                area.nome,
                str(len(area.obiettivi)),
                str(sum(len(o.fasi) for o in area.obiettivi)),
                str(sum(len(o.indicatori) for o in area.obiettivi)),
                str(len(people)),
            )
        out.print(table)
        print_history(storia)
        print_findings(anomalie, "Problemi trovati nel piano")
    raise typer.Exit(1 if has_errors(anomalie) else 0)


@app.command("schema")
def schema_cmd() -> None:
    """Stampa lo schema JSON (JSON Schema) del file del piano."""
    from seregno_xlsx.piano.model import plan_json_schema

    print(plan_json_schema(), end="")
