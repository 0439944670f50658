"""«verifica»: what is wrong in each returned workbook."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from seregno_xlsx.audit import Registro
from seregno_xlsx.cli.app import (
    DateOpt,
    JsonOpt,
    OpenPasswordOpt,
    PasswordOpt,
    PianoOpt,
    RegistroOpt,
    app,
    expand_paths,
    fail,
    load_plan,
    out,
    parse_date,
    print_findings,
)


@app.command("verifica")
def verifica_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE", help="Schede restituite dalle aree: file, cartelle o nomi con * (ritorni\\*.xlsx)."
        ),
    ],
    piano_path: PianoOpt = None,
    as_json: JsonOpt = False,
    annota: Annotated[
        Path | None,
        typer.Option(
            "--annota", metavar="CARTELLA", help="Cartella in cui scrivere copie annotate da rimandare alle aree."
        ),
    ] = None,
    data_riferimento: DateOpt = None,
    password: PasswordOpt = None,
    password_apertura: OpenPasswordOpt = None,
    registro_path: RegistroOpt = None,
) -> None:
    """Controlla le schede restituite e dice cosa correggere (foglio, cella, valore, perché, come)."""
    with Registro(registro_path, "verifica") as registro:
        registro.start(sys.argv[1:])
        _verifica(files, piano_path, as_json, annota, data_riferimento, password, password_apertura, registro)


def _verifica(
    files: list[Path],
    piano_path: Path | None,
    as_json: bool,
    annota: Path | None,
    data_riferimento: str | None,
    password: str | None,
    password_apertura: str | None,
    registro: Registro,
) -> None:
    from seregno_xlsx.piano.plan_file import find_plan
    from seregno_xlsx.ritorni.classification import WORKBOOK_SUFFIXES, workbook_files
    from seregno_xlsx.ritorni.verification import verify

    # Like consolida, the plan the office keeps beside the returns checks the fingerprints.
    piano_path = piano_path or (find_plan(files[0].parent) if files else None)
    piano = load_plan(piano_path) if piano_path else None
    # A folder named like a workbook (x.xlsx/) is what someone gave as a file: reported, not expanded.
    files = expand_paths(files, lambda d: [d] if d.suffix.lower() in WORKBOOK_SUFFIXES else workbook_files(d))
    # A name mistyped by the office is a usage error, not an unreadable return to send back to an area.
    missing = [path for path in files if not path.exists()]
    if missing:
        fail(f"{missing[0]}: file o cartella non trovati")
    if not files:
        fail("nessuna scheda da verificare: le cartelle indicate non contengono file .xlsx, .xlsm o .ods")
    if annota is not None:
        refuse_annota_among_returns(annota, files)
    reports = verify(
        files,
        piano=piano,
        data_riferimento=parse_date(data_riferimento, "--data-riferimento"),
        annota=annota,
        password=password,
        password_apertura=password_apertura,
        registro=registro,
    )
    if as_json:
        print(json.dumps([r.to_json() for r in reports], indent=2, ensure_ascii=False))
    else:
        for report in reports:
            lettura = report.lettura
            out.rule(f"{lettura.file.name} – {lettura.area or 'area sconosciuta'}: {lettura.esito}")
            print_findings(report.anomalie, "", lettura.file.name)
            if report.annotata:
                out.print(f"Copia annotata: {report.annotata}", highlight=False)
        esiti = Counter(str(r.lettura.esito) for r in reports)
        out.print(
            f"File verificati {len(reports)}: conformi {esiti['conforme']}, con avvisi {esiti['con avvisi']}, "
            f"con errori {esiti['con errori']}, non leggibili {esiti['non leggibile']}."
        )
    if any(not r.lettura.leggibile for r in reports):
        raise typer.Exit(2)
    from seregno_xlsx.findings import has_errors

    raise typer.Exit(1 if any(has_errors(r.anomalie) for r in reports) else 0)


def refuse_annota_among_returns(annota: Path, files: list[Path]) -> None:
    """Annotated copies are workbooks of the area, written now: among the received ones, ``consolida``
    would take them for the latest return of each area."""
    from seregno_xlsx.outputs import same_path

    for file in files:
        if same_path(file.parent, annota):
            fail(
                f"--annota {annota}: è la cartella delle schede ricevute ({file.name}); le copie annotate vi "
                "sarebbero lette da «consolida» come le schede più recenti delle aree: indicare un'altra "
                "cartella (per esempio annotate/)"
            )
