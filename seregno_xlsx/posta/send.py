"""Delivers composed messages: as ``.eml`` drafts, or over SMTP with the record of what went to whom and when.

The record (``invii.jsonl``, one JSON object per line) is rewritten atomically after
every message, so an interrupted run loses nothing. A message whose area and
``chiave`` (for a workbook: the SHA-256 of the attachment) were already sent
successfully is skipped, unless the office asks to send it again.
One refused address or one failed message never stops the others.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from seregno_xlsx.atomic import atomic_write_text, os_reason
from seregno_xlsx.choices import Sicurezza as Sicurezza
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.files import OFFICE_TZ
from seregno_xlsx.posta.compose import Messaggio, write_eml

RECORD_NAME = "invii.jsonl"


class EsitoInvio(StrEnum):
    """The outcome of one sending, as the record keeps it."""

    INVIATO = "inviato"
    ERRORE = "errore"


INVIATO, ERRORE = EsitoInvio.INVIATO, EsitoInvio.ERRORE


DEFAULT_PORTS = {Sicurezza.STARTTLS: 587, Sicurezza.SSL: 465, Sicurezza.NESSUNA: 25}


@dataclass(frozen=True)
class SmtpConfig:
    """``porta`` 0 (or left out) is the usual port of ``sicurezza``."""

    host: str
    porta: int = 0
    sicurezza: Sicurezza = Sicurezza.STARTTLS
    utente: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.porta:
            object.__setattr__(self, "porta", DEFAULT_PORTS[self.sicurezza])


@dataclass
class Invio:
    """One line of the sending record."""

    area: str
    destinatari: list[str]
    copia: list[str]
    oggetto: str
    allegato: str
    sha256: str
    chiave: str
    message_id: str
    quando: str
    esito: EsitoInvio
    dettaglio: str = ""
    rifiutati: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.esito == INVIATO


class RegistroInvii:
    """The sending record of a folder: read once, rewritten atomically after each message."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.voci: list[Invio] = []
        if not self.path.exists():
            return
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = os_reason(exc) if isinstance(exc, OSError) else "non è testo UTF-8"
            raise SeregnoError(f"{self.path}: impossibile leggere il registro degli invii ({why})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                fields["esito"] = EsitoInvio(fields["esito"])
                self.voci.append(Invio(**fields))
            except (ValueError, TypeError, KeyError):
                raise SeregnoError(
                    f"{self.path}, riga {number}: registro degli invii danneggiato; correggere o togliere la riga"
                ) from None

    def inviato(self, area: str, chiave: str) -> Invio | None:
        """The last successful sending of this area and key, if any."""
        for voce in reversed(self.voci):
            if voce.ok and voce.area.casefold() == area.casefold() and voce.chiave == chiave:
                return voce
        return None

    def aggiungi(self, invio: Invio) -> None:
        self.voci.append(invio)
        text = "".join(json.dumps(asdict(v), ensure_ascii=False) + "\n" for v in self.voci)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, text)


class StatoConsegna(StrEnum):
    """What became of one message of a run."""

    BOZZA = "bozza scritta"
    GIA_INVIATO = "già inviato"
    INVIATO = "inviato"
    NON_INVIATO = "NON inviato"


@dataclass(frozen=True)
class EsitoArea:
    """One row of the outcome of distribuisci or solleciti: an area, what happened, the detail a person reads.

    For a message delivered, ``stato`` is a :class:`StatoConsegna`.
    """

    area: str
    stato: str
    dettaglio: str = ""
    errore: bool = False


# Called after each message: the message, how many are done, how many in all.
Avanzamento = Callable[[Messaggio, int, int], None]


def deliver(
    messaggi: list[Messaggio],
    output: Path,
    *,
    eml_names: dict[str, str],
    smtp: SmtpConfig | Callable[[], SmtpConfig] | None = None,
    reinvia: bool = False,
    avanzamento: Avanzamento | None = None,
) -> tuple[list[EsitoArea], RegistroInvii | None]:
    """Without ``smtp``, one ``.eml`` draft per message in ``output`` (named by ``eml_names[area]``);
    with it, send each message not sent yet and keep the record in ``output``.

    ``smtp`` may be a function giving the configuration: it is called only if there is something to send
    (so a password is asked for only then).
    """
    consegne: list[EsitoArea] = []
    if not messaggi:
        return consegne, None
    output.mkdir(parents=True, exist_ok=True)
    if smtp is None:
        for message in messaggi:
            path = write_eml(message.email, output / eml_names[message.area])
            consegne.append(EsitoArea(message.area, StatoConsegna.BOZZA, str(path)))
        return consegne, None
    config = smtp if isinstance(smtp, SmtpConfig) else smtp()
    registro = RegistroInvii(output / RECORD_NAME)
    done = 0

    def advance(message: Messaggio, invio: Invio | None) -> None:
        nonlocal done
        done += 1
        if avanzamento:
            avanzamento(message, done, len(messaggi))

    for message, invio in send_messages(messaggi, config, registro, reinvia=reinvia, avanzamento=advance):
        if invio is None:
            before = registro.inviato(message.area, message.chiave)
            when = office_time(before.quando) if before else ""
            consegne.append(
                EsitoArea(message.area, StatoConsegna.GIA_INVIATO, f"il {when}; per inviarlo di nuovo: --reinvia")
            )
        elif invio.ok:
            to = ", ".join(invio.destinatari + invio.copia)
            note = f" – {invio.dettaglio}" if invio.dettaglio else ""
            consegne.append(
                EsitoArea(message.area, StatoConsegna.INVIATO, f"a {to}{note}", errore=bool(invio.rifiutati))
            )
        else:
            consegne.append(EsitoArea(message.area, StatoConsegna.NON_INVIATO, invio.dettaglio, errore=True))
    return consegne, registro


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, authenticated connection; a clear error if the server cannot be used at all."""
    where = f"{config.host}:{config.porta}"
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    step = "la connessione"  # what the server was asked for, to say what it does not offer
    try:
        if config.sicurezza is Sicurezza.SSL:
            client = smtplib.SMTP_SSL(config.host, config.porta, timeout=config.timeout, context=context)
        else:
            client = smtplib.SMTP(config.host, config.porta, timeout=config.timeout)
            if config.sicurezza is Sicurezza.STARTTLS:
                step = "la cifratura STARTTLS"
                client.starttls(context=context)
        if config.utente:
            step = "l'accesso con utente e password (AUTH)"
            client.login(config.utente, config.password or "")
    except smtplib.SMTPAuthenticationError:
        _close(client)
        raise SeregnoError(f"server SMTP {where}: accesso rifiutato, controllare utente e password") from None
    except smtplib.SMTPNotSupportedError:
        _close(client)
        raise SeregnoError(
            f"server SMTP {where}: il server non offre {step}; provare un'altra --smtp-sicurezza"
        ) from None
    except ssl.SSLError as exc:
        _close(client)
        raise SeregnoError(f"server SMTP {where}: {os_reason(exc)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise SeregnoError(f"impossibile collegarsi al server SMTP {where} ({connection_reason(exc)})") from None
    return client


def send_messages(
    messaggi: Iterable[Messaggio],
    config: SmtpConfig,
    registro: RegistroInvii,
    *,
    reinvia: bool = False,
    avanzamento: Callable[[Messaggio, Invio | None], None] | None = None,
) -> list[tuple[Messaggio, Invio | None]]:
    """Send each message not sent yet; ``None`` as result means skipped as already sent.

    The connection is opened once (a failure there is an error for the whole run) and
    reopened if the server drops it; every outcome is recorded as it happens.
    """
    pending = list(messaggi)
    results: list[tuple[Messaggio, Invio | None]] = []
    client: smtplib.SMTP | None = None
    try:
        for messaggio in pending:
            if not reinvia and registro.inviato(messaggio.area, messaggio.chiave):
                results.append((messaggio, None))
                if avanzamento:
                    avanzamento(messaggio, None)
                continue
            if client is None:
                try:
                    client = connect(config)
                except SeregnoError as exc:
                    if not results or all(r is None for _, r in results):
                        raise
                    invio = _record(messaggio, ERRORE, exc.messaggio)
                    registro.aggiungi(invio)
                    results.append((messaggio, invio))
                    if avanzamento:
                        avanzamento(messaggio, invio)
                    continue
            invio, client = _send_one(client, messaggio)
            registro.aggiungi(invio)
            results.append((messaggio, invio))
            if avanzamento:
                avanzamento(messaggio, invio)
    finally:
        _close(client, quit=True)
    return results


def _send_one(client: smtplib.SMTP, messaggio: Messaggio) -> tuple[Invio, smtplib.SMTP | None]:
    try:
        refused = client.send_message(messaggio.email)
    except smtplib.SMTPRecipientsRefused as exc:
        rifiutati = sorted(exc.recipients)
        reasons = "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in exc.recipients.items())
        return _record(messaggio, ERRORE, f"destinatari rifiutati dal server ({reasons})", rifiutati), client
    except smtplib.SMTPResponseException as exc:
        return _record(messaggio, ERRORE, f"rifiutato dal server: {_reply(exc.smtp_code, exc.smtp_error)}"), client
    except (smtplib.SMTPException, OSError) as exc:
        # The connection is no longer usable: the next message opens a new one.
        _close(client)
        return _record(messaggio, ERRORE, f"connessione interrotta ({connection_reason(exc)})"), None
    if not refused:
        return _record(messaggio, INVIATO), client
    to = {a.addr_spec.casefold() for a in messaggio.email["To"].addresses}
    rifiutati = sorted(refused)
    reasons = "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items())
    esito = ERRORE if any(addr.casefold() in to for addr in refused) else INVIATO
    return _record(messaggio, esito, f"alcuni destinatari rifiutati ({reasons})", rifiutati), client


def _record(messaggio: Messaggio, esito: EsitoInvio, dettaglio: str = "", rifiutati: list[str] | None = None) -> Invio:
    email = messaggio.email
    cc = email["Cc"]
    return Invio(
        area=messaggio.area,
        destinatari=[a.addr_spec for a in email["To"].addresses],
        copia=[a.addr_spec for a in cc.addresses] if cc is not None else [],
        oggetto=messaggio.oggetto,
        allegato=messaggio.allegato,
        sha256=messaggio.sha256,
        chiave=messaggio.chiave,
        message_id=str(email["Message-ID"]),
        quando=datetime.now().astimezone().isoformat(timespec="seconds"),
        esito=esito,
        dettaglio=dettaglio,
        rifiutati=rifiutati or [],
    )


def office_time(stamp: str) -> str:
    """A moment of the sending log as the office reads it: «01/12/2026 alle 08:29», Rome time; a stamp
    edited by hand into something else is shown as it is."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(OFFICE_TZ)
    return moment.strftime("%d/%m/%Y alle %H:%M")


def connection_reason(exc: BaseException) -> str:
    """Why a connection to a mail server failed, in Italian (the server's own reply quoted as such)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "il server ha chiuso la connessione"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"risposta del server: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPException):
        return "il server non segue il protocollo SMTP"
    if isinstance(exc, OSError):
        return os_reason(exc)
    return "il server non segue il protocollo"


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {message}".strip()


def _close(client: smtplib.SMTP | None, *, quit: bool = False) -> None:
    if client is None:
        return
    try:
        if quit:
            client.quit()
        else:
            client.close()
    except (smtplib.SMTPException, OSError):
        client.close()
