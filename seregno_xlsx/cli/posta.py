"""The e-mail commands of ``seregno-xlsx``: ``distribuisci``, ``solleciti``, ``raccogli``.

Same exit statuses as the rest of the command line: 0 done; 1 done but some area
failed (no workbook, message refused, message unreadable); 2 nothing could be done
(misuse, contacts or texts to fix, server unreachable, nothing usable).
Passwords are never options: only environment variables or an interactive prompt.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from seregno_xlsx.cli.app import (
    DATE_METAVAR,
    DateOpt,
    JsonOpt,
    PasswordOpt,
    app,
    err,
    fail,
    load_plan,
    out,
    parse_date,
    styled,
)
from seregno_xlsx.posta.compose import Messaggio
from seregno_xlsx.posta.send import Sicurezza, SmtpConfig

SMTP_USER_ENV = "SEREGNO_SMTP_UTENTE"
SMTP_PASSWORD_ENV = "SEREGNO_SMTP_PASSWORD"
IMAP_USER_ENV = "SEREGNO_IMAP_UTENTE"
IMAP_PASSWORD_ENV = "SEREGNO_IMAP_PASSWORD"
SENDER_ENV = "SEREGNO_MITTENTE"

ContattiOpt = Annotated[
    Path,
    typer.Option(
        "--contatti", metavar="FILE", help="File dei contatti delle aree (CSV: area;responsabile;email;copia)."
    ),
]
AreaOpt = Annotated[list[str] | None, typer.Option("--area", metavar="NOME", help="Solo questa area.")]
ScadenzaOpt = Annotated[
    str | None,
    typer.Option(
        "--scadenza", metavar=DATE_METAVAR, help="Data di restituzione (predefinita: quella scritta nella scheda)."
    ),
]
InviaOpt = Annotated[
    bool,
    typer.Option("--invia", help="Invia via SMTP; senza, scrive un file .eml per area da aprire e inviare a mano."),
]
ReinviaOpt = Annotated[
    bool, typer.Option("--reinvia", help="Invia di nuovo anche i messaggi già inviati con successo.")
]
MittenteOpt = Annotated[
    str | None,
    typer.Option(
        "--mittente",
        metavar="INDIRIZZO",
        envvar=SENDER_ENV,
        help=f"Indirizzo del mittente (predefinito: ufficio.email di posta.toml). Anche da ${SENDER_ENV}.",
        show_default=False,
    ),
]
HostOpt = Annotated[
    str | None,
    typer.Option("--smtp-host", metavar="SERVER", envvar="SEREGNO_SMTP_HOST", help="Server SMTP (con --invia)."),
]
PortaOpt = Annotated[
    int | None,
    typer.Option(
        "--smtp-porta",
        metavar="NUMERO",
        envvar="SEREGNO_SMTP_PORTA",
        help="Porta SMTP (predefinita: 587, 465 con ssl, 25 senza).",
    ),
]
SicurezzaOpt = Annotated[
    Sicurezza,
    typer.Option(
        "--smtp-sicurezza",
        metavar="starttls|ssl|nessuna",
        envvar="SEREGNO_SMTP_SICUREZZA",
        help="Cifratura della connessione SMTP.",
    ),
]
UtenteOpt = Annotated[
    str | None,
    typer.Option(
        "--smtp-utente",
        metavar="UTENTE",
        envvar=SMTP_USER_ENV,
        help=f"Utente SMTP; la password si legge da ${SMTP_PASSWORD_ENV} o si chiede a video.",
        show_default=False,
    ),
]
ModelliOpt = Annotated[
    Path | None,
    typer.Option("--modelli", metavar="CARTELLA", help="Cartella dei testi con posta.toml (predefinita: modelli/)."),
]


def _password(env: str, what: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        fail(f"password {what} mancante: impostare la variabile d'ambiente {env}")
    return str(typer.prompt(f"Password {what}", hide_input=True))


def _smtp_config(host: str | None, porta: int | None, sicurezza: Sicurezza, utente: str | None) -> SmtpConfig:
    if not host:
        fail("--invia: indicare il server con --smtp-host (o SEREGNO_SMTP_HOST)")
    password = _password(SMTP_PASSWORD_ENV, "SMTP") if utente else None
    return SmtpConfig(host=host, porta=porta, sicurezza=sicurezza, utente=utente or None, password=password)


@dataclass
class _Esito:
    """One row of the final table of distribuisci/solleciti."""

    area: str
    stato: str
    dettaglio: str = ""
    errore: bool = False


@dataclass
class _Lavoro:
    messaggi: list[Messaggio] = field(default_factory=list)
    esiti: list[_Esito] = field(default_factory=list)


def _deliver(
    messages: list[Messaggio],
    *,
    invia: bool,
    output: Path,
    eml_name: dict[str, str],
    reinvia: bool,
    smtp: tuple[str | None, int | None, Sicurezza, str | None],
) -> list[_Esito]:
    """Write the drafts, or send with a progress bar and the record; one row per message."""
    from seregno_xlsx.posta.compose import write_eml
    from seregno_xlsx.posta.send import RECORD_NAME, Invio, RegistroInvii, send_messages

    esiti: list[_Esito] = []
    if not messages:
        return esiti
    output.mkdir(parents=True, exist_ok=True)
    if not invia:
        for message in messages:
            path = write_eml(message.email, output / eml_name[message.area])
            esiti.append(_Esito(message.area, "bozza scritta", str(path)))
        return esiti
    config = _smtp_config(*smtp)
    registro = RegistroInvii(output / RECORD_NAME)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=False
    ) as progress:
        task = progress.add_task("Invio", total=len(messages))

        def advance(message: Messaggio, invio: Invio | None) -> None:
            progress.update(task, advance=1, description=f"Invio: {message.area}")

        results = send_messages(messages, config, registro, reinvia=reinvia, avanzamento=advance)
    for message, invio in results:
        if invio is None:
            before = registro.inviato(message.area, message.chiave)
            when = before.quando if before else ""
            esiti.append(_Esito(message.area, "già inviato", f"il {when}; per inviarlo di nuovo: --reinvia"))
        elif invio.ok:
            to = ", ".join(invio.destinatari + invio.copia)
            note = f" – {invio.dettaglio}" if invio.dettaglio else ""
            esiti.append(_Esito(message.area, "inviato", f"a {to}{note}", errore=bool(invio.rifiutati)))
        else:
            esiti.append(_Esito(message.area, "NON inviato", invio.dettaglio, errore=True))
    out.print(f"Registro degli invii: {registro.path}", highlight=False)
    return esiti


def _table(title: str, esiti: list[_Esito]) -> None:
    table = Table(title=title)
    for column in ("area", "esito", "dettaglio"):
        table.add_column(column, overflow="fold")
    for esito in esiti:
        color = "red" if esito.errore else "green"
        table.add_row(esito.area, Text(str(esito.stato), style=color), esito.dettaglio)
    out.print(table)


@app.command("distribuisci")
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
    invia: InviaOpt = False,
    reinvia: ReinviaOpt = False,
    mittente: MittenteOpt = None,
    smtp_host: HostOpt = None,
    smtp_porta: PortaOpt = None,
    smtp_sicurezza: SicurezzaOpt = Sicurezza.STARTTLS,
    smtp_utente: UtenteOpt = None,
    modelli: ModelliOpt = None,
) -> None:
    """Prepara (o invia) a ogni area un'e-mail con la sua scheda da compilare."""
    from seregno_xlsx.master.consolidation import workbook_files
    from seregno_xlsx.posta.compose import Contesto, distribution_message, italian_date, load_mail_texts
    from seregno_xlsx.posta.contacts import load_contacts
    from seregno_xlsx.ritorni.reader import read_workbook
    from seregno_xlsx.scheda.generation import select_areas, workbook_filename
    from seregno_xlsx.scheda.metadata import Snapshot

    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    testi = load_mail_texts(modelli)
    aree = select_areas(piano, area or [])
    rubrica = load_contacts(contatti, piano, aree=[a.nome for a in aree])
    sender = mittente or testi.ufficio.email
    output = output or schede / "posta"
    by_area: dict[str, list[tuple[Path, Snapshot]]] = {}
    foreign: list[str] = []
    for path in workbook_files(schede):
        lettura = read_workbook(path, piano=piano)
        if lettura.snapshot is None:
            foreign.append(f"{path.name}: non è una scheda generata da seregno-xlsx")
            continue
        other = next((a for a in lettura.anomalie if a.codice in ("piano-diverso", "area-non-nel-piano")), None)
        if other is not None:
            foreign.append(f"{path.name}: {other.messaggio}")
            continue
        by_area.setdefault(lettura.area.casefold(), []).append((path, lettura.snapshot))
    lavoro = _Lavoro()
    names: dict[str, str] = {}
    for item in aree:
        found = by_area.get(item.nome.casefold(), [])
        if not found:
            lavoro.esiti.append(_Esito(item.nome, "nessuna scheda", f"nessuna scheda dell'area in {schede}", True))
            continue
        if len(found) > 1:
            elenco = ", ".join(p.name for p, _ in found)
            lavoro.esiti.append(_Esito(item.nome, "più schede", f"più schede per l'area: {elenco}", True))
            continue
        [(workbook, snapshot)] = found
        if deadline and snapshot.scadenza and deadline != snapshot.scadenza:
            err.print(
                styled(
                    "Avviso:",
                    "yellow",
                    f"{item.nome}: la scheda indica la scadenza {italian_date(snapshot.scadenza)}, "
                    f"l'e-mail dirà {italian_date(deadline)}",
                ),
                highlight=False,
            )
        contesto = Contesto(piano.ente, piano.anno, snapshot.rilevazione, deadline or snapshot.scadenza, sender)
        lavoro.messaggi.append(distribution_message(testi, contesto, rubrica.per(item.nome), workbook))
        names[item.nome] = Path(workbook_filename(piano.anno, item.nome, snapshot.rilevazione)).stem + ".eml"
    for note in foreign:
        err.print(styled("Ignorato:", "yellow", note))
    if not lavoro.messaggi:
        _table("Distribuzione", lavoro.esiti)
        fail("nessun messaggio da preparare: nessuna scheda del piano trovata per le aree indicate")
    lavoro.esiti += _deliver(
        lavoro.messaggi,
        invia=invia,
        output=output,
        eml_name=names,
        reinvia=reinvia,
        smtp=(smtp_host, smtp_porta, smtp_sicurezza, smtp_utente),
    )
    order = {a.nome: n for n, a in enumerate(aree)}
    lavoro.esiti.sort(key=lambda e: order.get(e.area, len(order)))
    _table("Distribuzione" + (" (invio)" if invia else f" (bozze in {output})"), lavoro.esiti)
    raise typer.Exit(1 if any(e.errore for e in lavoro.esiti) else 0)


@app.command("solleciti")
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
    invia: InviaOpt = False,
    reinvia: ReinviaOpt = False,
    mittente: MittenteOpt = None,
    smtp_host: HostOpt = None,
    smtp_porta: PortaOpt = None,
    smtp_sicurezza: SicurezzaOpt = Sicurezza.STARTTLS,
    smtp_utente: UtenteOpt = None,
    data_riferimento: DateOpt = None,
    password: PasswordOpt = None,
    modelli: ModelliOpt = None,
) -> None:
    """Sollecita le aree che non hanno restituito una scheda valida o la cui scheda ha errori."""
    from seregno_xlsx.findings import has_errors
    from seregno_xlsx.master.consolidation import REJECTING, workbook_files
    from seregno_xlsx.piano.model import Rilevazione
    from seregno_xlsx.posta.collect import area_slug
    from seregno_xlsx.posta.compose import (
        Contesto,
        load_mail_texts,
        reminder_errors,
        reminder_invalid,
        reminder_missing,
    )
    from seregno_xlsx.posta.contacts import load_contacts
    from seregno_xlsx.ritorni.reader import Lettura, read_workbook
    from seregno_xlsx.ritorni.verification import annotate, verify_file
    from seregno_xlsx.scheda.generation import select_areas

    piano = load_plan(piano_path)
    deadline = parse_date(scadenza, "--scadenza")
    reference = parse_date(data_riferimento, "--data-riferimento")
    testi = load_mail_texts(modelli)
    aree = select_areas(piano, area or [])
    rubrica = load_contacts(contatti, piano, aree=[a.nome for a in aree])
    sender = mittente or testi.ufficio.email
    output = output or ritorni / "solleciti"
    letture = [verify_file(p, piano=piano, data_riferimento=reference) for p in workbook_files(ritorni)]
    blanks = [read_workbook(path, piano=piano) for path in workbook_files(schede)] if schede else []
    blanks = [b for b in blanks if b.snapshot is not None and not any(a.codice in REJECTING for a in b.anomalie)]
    # The round being chased: the one most returned workbooks (or else the blank ones) were generated for.
    recognised = [lt for lt in letture if lt.snapshot is not None] or blanks
    rounds = Counter(lt.snapshot.rilevazione for lt in recognised if lt.snapshot is not None)
    rilevazione = rounds.most_common(1)[0][0] if rounds else Rilevazione.INTERMEDIA
    blank_of = {
        b.area.casefold(): b.file for b in blanks if b.snapshot is not None and b.snapshot.rilevazione == rilevazione
    }
    scadenze = [lt.snapshot.scadenza for lt in letture + blanks if lt.snapshot and lt.snapshot.scadenza]
    contesto = Contesto(piano.ente, piano.anno, rilevazione, deadline or (scadenze[0] if scadenze else None), sender)
    today = date.today().isoformat()

    def rejection(lettura: Lettura) -> str | None:
        if not lettura.leggibile:
            return next((a.messaggio for a in lettura.anomalie), "file non leggibile")
        if lettura.snapshot is not None and lettura.snapshot.rilevazione != rilevazione:
            return f"è la scheda della rilevazione {lettura.snapshot.rilevazione}, serve quella {rilevazione}"
        return next((a.messaggio for a in lettura.anomalie if a.codice in REJECTING), None)

    lavoro = _Lavoro()
    names: dict[str, str] = {}
    for item in aree:
        contatto = rubrica.per(item.nome)
        mine = [lt for lt in letture if lt.snapshot is not None and lt.area.casefold() == item.nome.casefold()]
        mine.sort(key=lambda lt: (lt.compilato_il or datetime.min, lt.file.name))
        valid = [lt for lt in mine if rejection(lt) is None]
        names[item.nome] = f"Sollecito_{piano.anno}_{area_slug(item.nome)}.eml"
        if valid:
            lettura = valid[-1]
            if not has_errors(lettura.anomalie):
                lavoro.esiti.append(_Esito(item.nome, f"ricevuta, {lettura.esito}", lettura.file.name))
                continue
            annotated = annotate(lettura, output, password=password)
            errors = sum(a.gravita == "errore" for a in lettura.anomalie)
            lavoro.messaggi.append(
                reminder_errors(
                    testi,
                    contesto,
                    contatto,
                    lettura.file.name,
                    lettura.anomalie,
                    annotated,
                    chiave=f"errori:{lettura.sha256}:{today}",
                )
            )
            lavoro.esiti.append(_Esito(item.nome, f"con errori ({errors})", f"sollecito per {lettura.file.name}"))
        elif mine:
            lettura = mine[-1]
            motivo = rejection(lettura) or ""
            lavoro.messaggi.append(
                reminder_invalid(
                    testi, contesto, contatto, lettura.file.name, motivo, chiave=f"non-valida:{lettura.sha256}:{today}"
                )
            )
            lavoro.esiti.append(_Esito(item.nome, "scheda non valida", f"{lettura.file.name}: {motivo}"))
        else:
            blank_path = blank_of.get(item.nome.casefold())
            lavoro.messaggi.append(
                reminder_missing(testi, contesto, contatto, blank_path, chiave=f"mancante:{rilevazione}:{today}")
            )
            again = f", riallegata {blank_path.name}" if blank_path else ""
            lavoro.esiti.append(_Esito(item.nome, "mancante", f"sollecito{again}"))
    for lettura in letture:
        if lettura.snapshot is None:
            err.print(styled("Ignorato:", "yellow", f"{lettura.file.name}: non è una scheda di seregno-xlsx"))
    sent = _deliver(
        lavoro.messaggi,
        invia=invia,
        output=output,
        eml_name=names,
        reinvia=reinvia,
        smtp=(smtp_host, smtp_porta, smtp_sicurezza, smtp_utente),
    )
    by_area = {e.area: e for e in sent}
    rows = []
    for esito in lavoro.esiti:
        delivery = by_area.get(esito.area)
        if delivery is not None:
            esito = _Esito(esito.area, f"{esito.stato} → {delivery.stato}", f"{esito.dettaglio}; {delivery.dettaglio}")
            esito.errore = delivery.errore
        rows.append(esito)
    _table(f"Solleciti – rilevazione {rilevazione}", rows)
    if not lavoro.messaggi:
        out.print("Nessun sollecito da inviare: tutte le aree hanno restituito una scheda senza errori.")
    raise typer.Exit(1 if any(e.errore for e in sent) else 0)


@app.command("raccogli")
def raccogli_cmd(
    sorgente: Annotated[
        str,
        typer.Argument(
            metavar="SORGENTE",
            help="Messaggio .eml/.msg, cartella di messaggi, oppure imap://server[:porta]/CARTELLA.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="CARTELLA", help="Cartella dei ritorni in cui salvare le schede.")
    ],
    piano_path: Annotated[
        Path | None, typer.Option("--piano", metavar="FILE", help="Tiene solo le schede di questo piano.")
    ] = None,
    imap_utente: Annotated[
        str | None,
        typer.Option(
            "--imap-utente",
            metavar="UTENTE",
            envvar=IMAP_USER_ENV,
            help=f"Utente IMAP; la password si legge da ${IMAP_PASSWORD_ENV} o si chiede a video.",
            show_default=False,
        ),
    ] = None,
    imap_ssl: Annotated[bool, typer.Option("--imap-ssl", help="Connessione IMAP cifrata (porta 993).")] = False,
    dal: Annotated[
        str | None, typer.Option("--dal", metavar=DATE_METAVAR, help="Solo i messaggi IMAP ricevuti da questa data.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Salva nella cartella dei ritorni le schede allegate alle e-mail ricevute."""
    from seregno_xlsx.posta.collect import ImapConfig, from_imap, from_path, parse_imap_url, store

    piano = load_plan(piano_path) if piano_path else None
    since = parse_date(dal, "--dal")
    if sorgente.lower().startswith(("imap://", "imaps://")):
        host, porta, cartella, ssl_url = parse_imap_url(sorgente)
        if not imap_utente:
            fail(f"IMAP: indicare l'utente con --imap-utente (o {IMAP_USER_ENV})")
        password = _password(IMAP_PASSWORD_ENV, "IMAP")
        config = ImapConfig(
            host, cartella, porta, ssl=imap_ssl or ssl_url, utente=imap_utente, password=password, dal=since
        )
        poste = from_imap(config)
    else:
        if since is not None:
            fail("--dal vale solo per le cartelle IMAP")
        poste = from_path(Path(sorgente))
    raccolta = store(poste, output, piano=piano)
    if as_json:
        print(json.dumps(raccolta.to_json(), indent=2, ensure_ascii=False))
    else:
        table = Table(title=f"Raccolta → {output}")
        for column in ("messaggio", "allegato", "esito", "motivo / file"):
            table.add_column(column, overflow="fold")
        for voce in raccolta.voci:
            color = {"preso": "green", "ignorato": "yellow"}.get(voce.stato, "red")
            detail = f"{voce.file.name} ({voce.motivo})" if voce.file else voce.motivo
            table.add_row(voce.fonte, voce.allegato, Text(str(voce.stato), style=color), detail)
        out.print(table)
        out.print(
            f"Prese {len(raccolta.presi)} schede, ignorati {len(raccolta.ignorati)} allegati o messaggi, "
            f"{len(raccolta.errori)} messaggi illeggibili.",
            highlight=False,
        )
        if raccolta.exit_code == 2:
            err.print("Nessuna scheda di seregno-xlsx trovata nella sorgente.")
    raise typer.Exit(raccolta.exit_code)
