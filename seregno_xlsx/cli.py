"""The ``seregno-xlsx`` command line: a thin layer over the library, in Italian.

Exit statuses (documented in README):
0 done, no errors (warnings allowed); 1 done, errors found in the data or a file
rejected; 2 nothing could be done (unreadable input, misuse, output not writable).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from .audit import Registro
from .errors import PlanError, SeregnoError
from .findings import Anomalia, Gravita, has_errors
from .model import Piano, Rilevazione, plan_json_schema
from .scoring import MissingValue, Regole

app = typer.Typer(
    name="seregno-xlsx",
    help=(
        "Piano degli Obiettivi: importa il piano, genera le schede protette, le distribuisce e le raccoglie "
        "per e-mail, verifica e consolida i ritorni."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PASSWORD_ENV = "SEREGNO_XLSX_PASSWORD"
PasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar=PASSWORD_ENV,
        help=f"Password di protezione dei fogli (non serve per aprire il file). Anche da ${PASSWORD_ENV}.",
        show_default=False,
    ),
]
PianoOpt = Annotated[Path | None, typer.Option("--piano", help="Piano JSON con cui confrontare le schede.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Stampa il risultato in JSON (lo stesso del modulo Python).")]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--data-riferimento",
        help="Data della rilevazione AAAA-MM-GG (predefinita: oggi, al massimo il 31/12 dell'anno del piano).",
    ),
]


OPEN_PASSWORD_ENV = "SEREGNO_XLSX_PASSWORD_APERTURA"
OpenPasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password-apertura",
        envvar=OPEN_PASSWORD_ENV,
        help=f"Password di apertura delle schede cifrate (protette da password). Anche da ${OPEN_PASSWORD_ENV}.",
        show_default=False,
    ),
]
RegistroOpt = Annotated[
    Path | None,
    typer.Option(
        "--registro",
        help="File del registro (JSON lines, in aggiunta): cosa è stato letto, deciso e scritto.",
        show_default=False,
    ),
]


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]Errore:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: «{text}» non è una data nella forma AAAA-MM-GG")


def load_plan(path: Path) -> Piano:
    try:
        return Piano.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{path}: piano non trovato") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: impossibile leggere il piano ({exc})") from None
    except ValueError as exc:
        raise PlanError(f"{path}: non è un piano valido ({str(exc).splitlines()[0]})") from None


def _print_findings(anomalie: list[Anomalia], title: str) -> None:
    """A table: severity, code, where, message (folded, so it reads in a narrow terminal too)."""
    if not anomalie:
        return
    table = Table(title=title or None, title_justify="left", show_lines=True, expand=True)
    table.add_column("gravità", no_wrap=True)
    table.add_column("codice", no_wrap=True)
    table.add_column("dove", no_wrap=True)
    table.add_column("messaggio", ratio=1, overflow="fold")
    for a in anomalie:
        color = "red" if a.gravita is Gravita.ERRORE else "yellow"
        where = f"{a.foglio}!{a.cella}" if a.foglio and a.cella else a.foglio or a.fase or a.obiettivo or a.area
        table.add_row(f"[{color}]{a.gravita}[/]", a.codice, where, a.messaggio)
    out.print(table)


@app.command("importa")
def importa_cmd(
    fonti: Annotated[list[Path], typer.Argument(help="Esportazioni «Scheda Obiettivo Gestionale» (una per area).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File del piano da scrivere (JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Importa le schede obiettivo esportate dal gestionale in un piano JSON validato."""
    from .atomic import atomic_write_text
    from .checks import check_plan
    from .export_parser import parse_exports

    piano, anomalie = parse_exports(fonti)
    anomalie = anomalie + check_plan(piano)
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
        _print_findings(anomalie, "Problemi trovati nel piano")
    raise typer.Exit(1 if has_errors(anomalie) else 0)


@app.command("schema")
def schema_cmd() -> None:
    """Stampa lo schema JSON (JSON Schema) del file del piano."""
    print(plan_json_schema(), end="")


@app.command("genera")
def genera_cmd(
    piano_path: Annotated[Path, typer.Argument(metavar="PIANO", help="Piano JSON prodotto da «importa».")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Cartella in cui scrivere le schede.")],
    area: Annotated[list[str] | None, typer.Option("--area", help="Solo questa area (ripetibile).")] = None,
    rilevazione: Annotated[Rilevazione, typer.Option("--rilevazione", help="Rilevazione da raccogliere.")] = (
        Rilevazione.INTERMEDIA
    ),
    scadenza: Annotated[str | None, typer.Option("--scadenza", help="Data di restituzione AAAA-MM-GG.")] = None,
    password: PasswordOpt = None,
    modelli: Annotated[
        Path | None, typer.Option("--modelli", help="Cartella dei testi (predefinita: modelli/).")
    ] = None,
) -> None:
    """Genera una cartella di lavoro protetta per ogni area del piano."""
    from .generation import generate
    from .texts import load_texts

    piano = load_plan(piano_path)
    texts = load_texts(modelli) if modelli else load_texts()
    generated = generate(
        piano,
        output,
        aree=area or [],
        rilevazione=rilevazione,
        password=password,
        scadenza=_date(scadenza, "--scadenza"),
        testi=texts,
    )
    for item in generated:
        out.print(f"[green]✓[/] {item.area}: {item.path}", highlight=False)


@app.command("verifica")
def verifica_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Schede restituite dalle aree.")],
    piano_path: PianoOpt = None,
    as_json: JsonOpt = False,
    annota: Annotated[
        Path | None,
        typer.Option("--annota", help="Cartella in cui scrivere copie annotate da rimandare alle aree."),
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
    from .verification import verify

    piano = load_plan(piano_path) if piano_path else None
    reports = verify(
        files,
        piano=piano,
        data_riferimento=_date(data_riferimento, "--data-riferimento"),
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
            _print_findings(report.anomalie, "")
            if report.annotata:
                out.print(f"Copia annotata: {report.annotata}", highlight=False)
    if any(not r.lettura.leggibile for r in reports):
        raise typer.Exit(2)
    raise typer.Exit(1 if any(has_errors(r.anomalie) for r in reports) else 0)


@app.command("consolida")
def consolida_cmd(
    cartella: Annotated[Path, typer.Argument(help="Cartella con le schede restituite.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Cartella di lavoro master da scrivere (.xlsx).")],
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
        typer.Option("--mancante-intermedia", help="Valore mancante nella rilevazione intermedia: escluso o zero."),
    ] = MissingValue.ESCLUSO,
    mancante_finale: Annotated[
        MissingValue,
        typer.Option("--mancante-finale", help="Valore mancante nella rilevazione finale: zero o escluso."),
    ] = MissingValue.ZERO,
    password_apertura: OpenPasswordOpt = None,
    registro_path: RegistroOpt = None,
) -> None:
    """Consolida tutte le schede di una cartella in una cartella di lavoro master."""
    regole = Regole(
        limite_100=not senza_limite,
        pesi_aree="uguali" if pesi_uguali else "stelle",
        mancante_intermedia=mancante_intermedia,
        mancante_finale=mancante_finale,
    )
    with Registro(registro_path, "consolida") as registro:
        registro.start(sys.argv[1:])
        _consolida(cartella, output, piano_path, data_riferimento, as_json, regole, password_apertura, registro)


def _consolida(
    cartella: Path,
    output: Path,
    piano_path: Path | None,
    data_riferimento: str | None,
    as_json: bool,
    regole: Regole,
    password_apertura: str | None,
    registro: Registro,
) -> None:
    from .consolidation import consolidate

    piano = load_plan(piano_path) if piano_path else None
    result = consolidate(
        cartella,
        output,
        piano=piano,
        data_riferimento=_date(data_riferimento, "--data-riferimento"),
        regole=regole,
        password_apertura=password_apertura,
        registro=registro,
    )
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        table = Table(title="Schede lette")
        for column in ("file", "area", "stato", "motivo"):
            table.add_column(column, overflow="fold")
        for fonte in result.fonti:
            table.add_row(fonte.file, fonte.area, fonte.stato, fonte.motivo)
        out.print(table)
        _print_findings(result.anomalie, "Anomalie")
        if result.master:
            written = result.summary.valori_scritti if result.summary else 0
            out.print(
                f"Master: {result.master} – valori letti {result.valori_letti}, scritti {written}",
                highlight=False,
            )
        else:
            err.print("Nessuna scheda consolidabile: il master non è stato scritto.")
    raise typer.Exit(result.exit_code)


from . import cli_posta  # noqa: E402,F401  (registers distribuisci, solleciti, raccogli)


def main() -> None:
    """Entry point: Italian messages, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except SeregnoError as exc:
        err.print(f"[bold red]Errore:[/] {exc.messaggio}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrotto.")
        sys.exit(2)
    except Exception as exc:  # a bug must still not show a traceback to the office
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        stamp = datetime.now().isoformat(timespec="seconds")
        err.print(f"[bold red]Errore interno[/] ({stamp}): {type(exc).__name__}: {exc}", highlight=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
