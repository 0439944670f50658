"""Writes the e-mails of the cycle: the workbook to fill, and the reminders.

Every word comes from ``modelli/posta.toml``, which the office adapts. Messages are
built with the standard library (``EmailMessage``), never by hand, and can be saved
as ``.eml`` drafts that Outlook and Thunderbird open ready to send.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from seregno_xlsx.atomic import atomic_path
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import sha256_bytes
from seregno_xlsx.findings import Anomalia, Gravita
from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.posta.contacts import Contatto, parse_addresses
from seregno_xlsx.texts import default_templates_dir, load_toml

MEDIA_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
    ".ods": ("application", "vnd.oasis.opendocument.spreadsheet"),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ufficio(_Section):
    nome: str
    email: str
    telefono: str = ""
    firma: str = ""


class Modello(_Section):
    """One kind of message: its subject and its body."""

    oggetto: str
    testo: str


class ModelloErrori(Modello):
    nota_avvisi: str = ""


class TestiPosta(_Section):
    """Every word of the e-mails an office may change."""

    sigla: str
    senza_scadenza: str
    entro: str
    ufficio: Ufficio
    distribuzione: Modello
    sollecito_mancante: Modello
    sollecito_non_valido: Modello
    sollecito_errori: ModelloErrori


# Every placeholder a text may use, with a sample value to check the texts when they are loaded.
_SAMPLE = {
    "sigla": "PEG",
    "ente": "Città di Seregno",
    "anno": "2021",
    "area": "Area Affari Generali",
    "responsabile": "Dott.ssa Anna Bianchi",
    "rilevazione": "intermedia",
    "file": "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx",
    "scadenza": "30/09/2021",
    "entro": "entro il 30/09/2021",
    "ufficio": "Ufficio",
    "ufficio_email": "ufficio@example.org",
    "ufficio_telefono": "0362 000 000",
    "firma": "Ufficio",
    "motivo": "motivo",
    "elenco_errori": "- errore",
    "numero_errori": "1",
    "numero_avvisi": "1",
    "nota_avvisi": "",
    "file_ricevuto": "scheda.xlsx",
}


def load_mail_texts(templates_dir: Path | None = None) -> TestiPosta:
    """``posta.toml`` from ``templates_dir`` (default: the bundled ``modelli/``), checked."""
    path = (templates_dir or default_templates_dir()) / "posta.toml"
    testi = load_toml(path, TestiPosta, "file dei testi delle e-mail")
    checks = {"entro": testi.entro, "sollecito_errori.nota_avvisi": testi.sollecito_errori.nota_avvisi}
    for section in ("distribuzione", "sollecito_mancante", "sollecito_non_valido", "sollecito_errori"):
        modello: Modello = getattr(testi, section)
        checks[f"{section}.oggetto"] = modello.oggetto
        checks[f"{section}.testo"] = modello.testo
    for where, text in checks.items():
        try:
            text.format(**_SAMPLE)
        except KeyError as exc:
            raise SeregnoError(
                f"{path}: voce «{where}»: segnaposto {{{exc.args[0]}}} sconosciuto "
                f"(ammessi: {', '.join('{' + k + '}' for k in _SAMPLE)})"
            ) from None
        except (ValueError, IndexError):
            raise SeregnoError(
                f"{path}: voce «{where}»: graffa non chiusa o segnaposto non valido (per una graffa scrivere {{{{ }}}})"
            ) from None
    if parse_addresses(testi.ufficio.email)[1] or not testi.ufficio.email:
        raise SeregnoError(f"{path}: voce «ufficio.email»: «{testi.ufficio.email}» non è un indirizzo valido")
    return testi


@dataclass(frozen=True)
class Contesto:
    """What every message of a round shares."""

    ente: str
    anno: int
    rilevazione: Rilevazione
    scadenza: date | None
    mittente: str


@dataclass
class Messaggio:
    """A composed message, with what the sending record needs to know about it."""

    area: str
    email: EmailMessage
    # What makes this message "the same" as one already sent (see ``mail_send``).
    chiave: str
    allegato: str = ""
    sha256: str = ""

    @property
    def oggetto(self) -> str:
        return str(self.email["Subject"])


def italian_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _values(testi: TestiPosta, contesto: Contesto, contatto: Contatto, **extra: str) -> dict[str, str]:
    scadenza = italian_date(contesto.scadenza) if contesto.scadenza else testi.senza_scadenza
    values = {
        "sigla": testi.sigla,
        "ente": contesto.ente,
        "anno": str(contesto.anno),
        "area": contatto.area,
        "responsabile": contatto.responsabile or "Responsabile",
        "rilevazione": contesto.rilevazione.value,
        "file": "",
        "scadenza": scadenza,
        "ufficio": testi.ufficio.nome,
        "ufficio_email": testi.ufficio.email,
        "ufficio_telefono": testi.ufficio.telefono,
        "firma": testi.ufficio.firma or testi.ufficio.nome,
        "motivo": "",
        "elenco_errori": "",
        "numero_errori": "0",
        "numero_avvisi": "0",
        "nota_avvisi": "",
        "file_ricevuto": "",
    }
    values["entro"] = testi.entro.format(**values) if contesto.scadenza else testi.senza_scadenza
    values.update(extra)
    return values


def compose(
    testi: TestiPosta,
    modello: Modello,
    contesto: Contesto,
    contatto: Contatto,
    *,
    allegato: Path | None = None,
    chiave: str = "",
    **extra: str,
) -> Messaggio:
    """One message from a text of ``posta.toml``; ``allegato`` is attached byte for byte."""
    values = _values(testi, contesto, contatto, file=allegato.name if allegato else "", **extra)
    mittente = _address(contesto.mittente, testi.ufficio.nome)
    message = EmailMessage(policy=default_policy)
    message["Subject"] = " ".join(modello.oggetto.format(**values).split())
    message["From"] = mittente
    message["To"] = contatto.a
    if contatto.copia:
        message["Cc"] = contatto.copia
    if testi.ufficio.email.casefold() != mittente.addr_spec.casefold():
        message["Reply-To"] = testi.ufficio.email
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(idstring="seregno-xlsx", domain=mittente.domain or None)
    message.set_content(modello.testo.format(**values))
    digest = ""
    if allegato is not None:
        data = allegato.read_bytes()
        digest = sha256_bytes(data)
        maintype, subtype = MEDIA_TYPES.get(allegato.suffix.lower(), ("application", "octet-stream"))
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=allegato.name)
    return Messaggio(contatto.area, message, chiave or digest, allegato.name if allegato else "", digest)


def distribution_message(testi: TestiPosta, contesto: Contesto, contatto: Contatto, workbook: Path) -> Messaggio:
    """The workbook to fill, with what to fill, by when, how to reply and whom to ask."""
    return compose(testi, testi.distribuzione, contesto, contatto, allegato=workbook)


def reminder_missing(
    testi: TestiPosta, contesto: Contesto, contatto: Contatto, workbook: Path | None, chiave: str
) -> Messaggio:
    """No workbook received: a reminder, with the blank workbook again when it is at hand."""
    return compose(testi, testi.sollecito_mancante, contesto, contatto, allegato=workbook, chiave=chiave)


def reminder_invalid(
    testi: TestiPosta, contesto: Contesto, contatto: Contatto, received: str, motivo: str, chiave: str
) -> Messaggio:
    """A file was received but cannot be used (another plan, altered, unreadable)."""
    return compose(
        testi,
        testi.sollecito_non_valido,
        contesto,
        contatto,
        chiave=chiave,
        file_ricevuto=received,
        motivo=motivo,
    )


def reminder_errors(
    testi: TestiPosta,
    contesto: Contesto,
    contatto: Contatto,
    received: str,
    anomalie: Sequence[Anomalia],
    annotated: Path | None,
    chiave: str,
) -> Messaggio:
    """The errors to fix, one per line with sheet and cell, and the annotated copy attached."""
    errors = [a for a in anomalie if a.gravita is Gravita.ERRORE]
    warnings = len(anomalie) - len(errors)
    elenco = "\n".join(f"{n}. {a.messaggio}" for n, a in enumerate(errors, start=1))
    nota = testi.sollecito_errori.nota_avvisi.format(numero_avvisi=warnings) if warnings else ""
    return compose(
        testi,
        testi.sollecito_errori,
        contesto,
        contatto,
        allegato=annotated,
        chiave=chiave,
        file_ricevuto=received,
        elenco_errori=elenco,
        numero_errori=str(len(errors)),
        numero_avvisi=str(warnings),
        nota_avvisi=nota,
    )


def write_eml(message: EmailMessage, path: Path) -> Path:
    """A draft ``.eml``: ``X-Unsent`` makes Outlook open it ready to send."""
    draft = copy.deepcopy(message)
    draft["X-Unsent"] = "1"
    with atomic_path(path) as temp:
        temp.write_bytes(draft.as_bytes(policy=default_policy.clone(linesep="\r\n")))
    return path


def _address(text: str, default_name: str) -> Address:
    addresses, problems = parse_addresses(text)
    if problems or len(addresses) != 1:
        raise SeregnoError(f"mittente «{text}» non valido: indicare un solo indirizzo e-mail")
    [address] = addresses
    if not address.display_name:
        address = Address(display_name=default_name, username=address.username, domain=address.domain)
    return address
