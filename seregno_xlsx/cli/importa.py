"""«importa» and «schema»: the management system's export into a validated plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from seregno_xlsx.cli.app import (
    JsonOpt,
    app,
    err,
    expand_paths,
    out,
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
) -> None:
    """Importa le schede obiettivo esportate dal gestionale in un piano JSON validato."""
    from rich.table import Table

    from seregno_xlsx.atomic import atomic_write_text, output_file
    from seregno_xlsx.findings import has_errors
    from seregno_xlsx.piano.checks import check_plan
    from seregno_xlsx.piano.export_parser import parse_exports
    from seregno_xlsx.piano.plan_file import keep_key

    output, note = output_file(output, ".json")
    if note:
        err.print(styled("Nota:", "yellow", note))
    piano, anomalie = parse_exports(expand_paths(fonti, lambda folder: sorted(folder.glob("*.txt"))))
    anomalie = anomalie + check_plan(piano)
    piano, kept = keep_key(piano, output)
    if kept:
        err.print(styled("Nota:", "yellow", f"{output}: tenuta la chiave dell'impronta del piano sostituito"))
    atomic_write_text(output, piano.to_json())
    if as_json:
        print(
            json.dumps(
                {"piano": str(output), "anomalie": [a.model_dump(mode="json") for a in anomalie]},
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
        print_findings(anomalie, "Problemi trovati nel piano")
    raise typer.Exit(1 if has_errors(anomalie) else 0)


@app.command("schema")
def schema_cmd() -> None:
    """Stampa lo schema JSON (JSON Schema) del file del piano."""
    from seregno_xlsx.piano.model import plan_json_schema

    print(plan_json_schema(), end="")
