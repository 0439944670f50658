"""``raccogli``: takes the returned workbooks out of e-mails into the returns folder.

Sources: saved messages (``.eml``; Outlook ``.msg`` through extract-msg), a folder
of them, or an IMAP folder (opened read-only: nothing on the server changes).
Only attachments the reader recognises as workbooks of ours are kept, each
named by area and time received (by the office's mail server, never the sender's «Date:»), and given
that time as the file's time, by which «consolida» picks the last reply. A file is never overwritten, and a file
already in the folder (same SHA-256) is not stored twice. Every attachment
seen ends up either taken or ignored, with the reason.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import os
import re
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from seregno_xlsx.atomic import describe_os_error, os_reason, output_folder
from seregno_xlsx.errors import OutputError, SeregnoError
from seregno_xlsx.files import OFFICE_TZ, is_office_temp, sha256_bytes, sha256_file
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.posta.send import connection_reason
from seregno_xlsx.ritorni.classification import OTHER_PLAN
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.scheda.generation import area_slug
from seregno_xlsx.scheda.layout import layout

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".ods")
MESSAGE_EXTENSIONS = (".eml", ".msg")
# A message carries a scheda of a few MB; more is refused before it is parsed (parsing costs ~9× its size).
MAX_MESSAGE_BYTES = 80 * 1024 * 1024
# Forwarded messages inside forwarded messages: a real chain is a handful deep.
MAX_NESTING = 20


class StatoAllegato(StrEnum):
    """What became of one attachment (or of a message that could not be read)."""

    PRESO = "preso"
    IGNORATO = "ignorato"
    ERRORE = "errore"


PRESO, IGNORATO, ERRORE = StatoAllegato.PRESO, StatoAllegato.IGNORATO, StatoAllegato.ERRORE


@dataclass(frozen=True)
class Allegato:
    nome: str
    dati: bytes


@dataclass
class Posta:
    """One message found in a source: where it is, when it was received, its attachments.

    ``ricevuto`` is what the office controls (see ``_received``); ``data_mittente`` is the «Date:» the
    sender wrote, only shown."""

    fonte: str
    ricevuto: datetime
    allegati: list[Allegato] = field(default_factory=list)
    problema: str = ""
    data_mittente: datetime | None = None


@dataclass(frozen=True)
class EsitoAllegato:
    """What happened to one attachment (or to a message that could not be read)."""

    fonte: str
    allegato: str
    stato: StatoAllegato
    motivo: str
    area: str = ""
    file: Path | None = None


@dataclass
class Raccolta:
    esiti: list[EsitoAllegato] = field(default_factory=list)

    @property
    def presi(self) -> list[EsitoAllegato]:
        return [v for v in self.esiti if v.stato == PRESO]

    @property
    def ignorati(self) -> list[EsitoAllegato]:
        return [v for v in self.esiti if v.stato == IGNORATO]

    @property
    def errori(self) -> list[EsitoAllegato]:
        return [v for v in self.esiti if v.stato == ERRORE]

    @property
    def exit_code(self) -> int:
        """2 if nothing of ours was found at all, 1 if a message could not be read, else 0."""
        ours = self.presi or any(v.area for v in self.ignorati)
        if not ours:
            return 2
        return 1 if self.errori else 0

    def to_json(self) -> list[dict[str, str]]:
        return [
            {
                "fonte": v.fonte,
                "allegato": v.allegato,
                "stato": v.stato,
                "motivo": v.motivo,
                "area": v.area,
                "file": str(v.file) if v.file else "",
            }
            for v in self.esiti
        ]


# --- sources -------------------------------------------------------------------------------------


def from_path(source: Path) -> list[Posta]:
    """The messages of a ``.eml``/``.msg`` file, or of every such file in a folder."""
    source = Path(source)
    if source.is_dir():
        files = [
            p
            for p in sorted(source.iterdir(), key=lambda p: p.name.casefold())
            if p.is_file() and p.suffix.lower() in MESSAGE_EXTENSIONS and not is_office_temp(p)
        ]
        if not files:
            raise SeregnoError(f"{source}: nessun messaggio .eml o .msg nella cartella")
        return [read_message_file(p) for p in files]
    if not source.exists():
        raise SeregnoError(f"{source}: file o cartella non trovati")
    if source.suffix.lower() not in MESSAGE_EXTENSIONS:
        raise SeregnoError(f"{source}: indicare un messaggio .eml o .msg, una cartella o imap://server/cartella")
    return [read_message_file(source)]


def read_message_file(path: Path) -> Posta:
    try:
        stat = path.stat()
        mtime = _local(datetime.fromtimestamp(stat.st_mtime, UTC))
        if stat.st_size > MAX_MESSAGE_BYTES:
            return Posta(
                path.name,
                mtime,
                problema=f"messaggio di {stat.st_size // 1_048_576} MB, oltre il limite di "
                f"{MAX_MESSAGE_BYTES // 1_048_576} MB: salvare a parte l'allegato",
            )
        data = path.read_bytes()
    except (OSError, OverflowError, ValueError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else "data o dimensione fuori dai limiti"
        return Posta(path.name, _local(datetime.now(UTC)), problema=f"impossibile leggere il file ({reason})")
    if path.suffix.lower() == ".msg":
        return _from_msg(data, path.name, mtime)
    return from_eml_bytes(data, path.name, mtime)


def from_eml_bytes(data: bytes, fonte: str, fallback: datetime) -> Posta:
    try:
        message = message_from_bytes(data, policy=default_policy)
        if not isinstance(message, EmailMessage) or not message.keys():
            return Posta(fonte, fallback, problema="non è un messaggio e-mail leggibile")
        posta = Posta(fonte, _received(message, fallback), data_mittente=_sender_date(message))
        posta.allegati = list(_attachments(message))
    except RecursionError:
        return Posta(fonte, fallback, problema="messaggi inoltrati annidati oltre ogni limite ragionevole")
    except Exception:  # one message never stops the others
        return Posta(fonte, fallback, problema="messaggio non leggibile: struttura del messaggio danneggiata")
    return posta


def _attachments(message: Message, depth: int = 0) -> Iterator[Allegato]:
    """Every attached file, also inside forwarded messages (``message/rfc822`` parts are walked)."""
    if depth > MAX_NESTING:
        raise RecursionError("nesting")
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "message":
            # Parsed forwarded messages are walked into; an opaque (encoded) one is parsed here.
            inner = part.get_payload(decode=True)
            if isinstance(inner, bytes) and inner:
                yield from _attachments(message_from_bytes(inner, policy=default_policy), depth + 1)
            continue
        name = part.get_filename()
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if name.lower().endswith(".eml"):
            # A message saved and attached as a file, as some clients forward.
            yield from _attachments(message_from_bytes(payload, policy=default_policy), depth + 1)
            continue
        yield Allegato(_clean_name(name), payload)


_DAMAGED_MSG = "messaggio Outlook (.msg) illeggibile: file danneggiato o non salvato da Outlook"


def _from_msg(data: bytes, fonte: str, fallback: datetime) -> Posta:
    """An Outlook ``.msg`` (OLE compound file) through extract-msg."""
    import extract_msg

    try:
        msg: Any = extract_msg.openMsg(data, delayAttachments=False)
    except Exception:  # extract-msg raises many kinds of errors on damaged files
        return Posta(fonte, fallback, problema=_DAMAGED_MSG)
    try:
        # The time the office's server delivered it (PR_MESSAGE_DELIVERY_TIME), not the sender's date.
        received = msg.receivedTime if isinstance(getattr(msg, "receivedTime", None), datetime) else None
        sent = msg.date if isinstance(getattr(msg, "date", None), datetime) else None
        posta = Posta(fonte, min(_local(received), fallback) if received else fallback)
        posta.data_mittente = _local(sent) if sent else None
        posta.allegati = list(_msg_attachments(msg))
    except Exception:
        return Posta(fonte, fallback, problema=_DAMAGED_MSG)
    finally:
        with contextlib.suppress(Exception):
            msg.close()
    return posta


def _msg_attachments(msg: Any) -> Iterator[Allegato]:
    for attachment in getattr(msg, "attachments", []):
        data = getattr(attachment, "data", None)
        name = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None) or ""
        if isinstance(data, bytes) and name:
            yield Allegato(_clean_name(str(name)), data)
        elif data is not None and hasattr(data, "attachments"):
            yield from _msg_attachments(data)  # an e-mail attached inside the e-mail


@dataclass(frozen=True)
class ImapConfig:
    """``porta`` 0 (or left out) is the usual port: 993 with ``ssl``, else 143."""

    host: str
    cartella: str = "INBOX"
    porta: int = 0
    ssl: bool = False
    utente: str = ""
    password: str = field(default="", repr=False)
    dal: date | None = None
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.porta:
            object.__setattr__(self, "porta", 993 if self.ssl else 143)


def parse_imap_url(text: str) -> tuple[str, int | None, str, bool]:
    """``imap://host[:port]/FOLDER`` (``imaps://`` for SSL) -> host, port, folder, ssl."""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("imap", "imaps") or not parts.hostname:
        raise SeregnoError(f"«{text}»: indicare imap://server[:porta]/CARTELLA")
    try:
        port = parts.port
    except ValueError:
        raise SeregnoError(f"«{text}»: porta non valida") from None
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return parts.hostname, port, folder, parts.scheme.lower() == "imaps"


def from_imap(config: ImapConfig) -> list[Posta]:
    """Every message of an IMAP folder, opened read-only (EXAMINE, BODY.PEEK: nothing is marked read)."""
    where = f"{config.host}:{config.porta}"
    context = ssl.create_default_context()
    try:
        if config.ssl:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host, config.porta, ssl_context=context, timeout=config.timeout
            )
        else:
            client = imaplib.IMAP4(config.host, config.porta, timeout=config.timeout)
            if "STARTTLS" in client.capabilities:
                client.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise SeregnoError(f"impossibile collegarsi al server IMAP {where} ({connection_reason(exc)})") from None
    try:
        try:
            client.login(config.utente, config.password)
        except imaplib.IMAP4.error:
            raise SeregnoError(f"server IMAP {where}: accesso rifiutato, controllare utente e password") from None
        status, _ = client.select(_quote(imap_utf7(config.cartella)), readonly=True)
        if status != "OK":
            raise SeregnoError(f"server IMAP {where}: cartella «{config.cartella}» non trovata")
        criteria = f"SINCE {config.dal.day}-{_MONTHS[config.dal.month - 1]}-{config.dal.year}" if config.dal else "ALL"
        status, found = client.uid("SEARCH", criteria)
        if status != "OK":
            raise SeregnoError(f"server IMAP {where}: ricerca nella cartella «{config.cartella}» non riuscita")
        messages = []
        for uid in found[0].split() if found and found[0] else []:
            messages.append(_fetch(client, uid.decode(), config.cartella))
        return messages
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise SeregnoError(f"server IMAP {where}: connessione interrotta ({connection_reason(exc)})") from None
    finally:
        with contextlib.suppress(Exception):
            client.logout()


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _fetch(client: imaplib.IMAP4, uid: str, folder: str) -> Posta:
    label = f"IMAP {folder}, messaggio {uid}"
    status, parts = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
    raw = next((p for p in parts or [] if isinstance(p, tuple)), None)
    if status != "OK" or raw is None:
        return Posta(label, _local(datetime.now(UTC)), problema="messaggio non scaricabile dal server")
    stamp = imaplib.Internaldate2tuple(raw[0])
    fallback = _local(datetime.fromtimestamp(time.mktime(stamp) if stamp else time.time(), UTC))
    posta = from_eml_bytes(raw[1], label, fallback)
    with contextlib.suppress(Exception):  # the headers only name the message: never a reason to stop
        message = message_from_bytes(raw[1], policy=default_policy)
        subject, sender = str(message.get("Subject", ""))[:200], str(message.get("From", ""))[:200]
        if subject or sender:
            posta.fonte = f"{label} «{subject}» da {sender}"
    return posta


def imap_utf7(name: str) -> str:
    """Folder names in IMAP's modified UTF-7 (RFC 3501 5.1.3), e.g. «Schede ricevute/Área»."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- storing -------------------------------------------------------------------------------------


def collect(sorgente: Path | ImapConfig, output: Path, *, piano: Piano | None = None) -> Raccolta:
    """``raccogli``: the workbooks of ours attached to the messages of ``sorgente`` (a saved message,
    a folder of them, or an IMAP folder), stored in ``output``."""
    poste = from_imap(sorgente) if isinstance(sorgente, ImapConfig) else from_path(sorgente)
    return store(poste, output, piano=piano)


def store(poste: list[Posta], out_dir: Path, *, piano: Piano | None = None) -> Raccolta:
    """Keep the workbooks of ours among the attachments, each once, never overwriting."""
    out_dir = output_folder(out_dir)
    known = _hashes(out_dir)
    result = Raccolta()
    for posta in poste:
        if posta.problema:
            result.esiti.append(EsitoAllegato(posta.fonte, "", ERRORE, posta.problema))
            continue
        if not posta.allegati:
            result.esiti.append(EsitoAllegato(posta.fonte, "", IGNORATO, "messaggio senza allegati"))
            continue
        for allegato in posta.allegati:
            result.esiti.append(_store_one(posta, allegato, out_dir, known, piano))
    return result


def _store_one(
    posta: Posta, allegato: Allegato, out_dir: Path, known: dict[str, Path], piano: Piano | None
) -> EsitoAllegato:
    ext = Path(allegato.nome).suffix.lower()
    if ext not in WORKBOOK_EXTENSIONS:
        what = f"file {ext}" if ext else "file senza estensione"
        return EsitoAllegato(posta.fonte, allegato.nome, IGNORATO, f"{what}: non è una scheda (.xlsx, .xlsm, .ods)")
    digest = sha256_bytes(allegato.dati)
    fd, name = tempfile.mkstemp(prefix=".raccogli-", suffix=ext, dir=out_dir)
    temp = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(allegato.dati)
        except OSError as exc:
            why = describe_os_error(exc)
            raise OutputError(f"{out_dir}: impossibile salvare l'allegato {allegato.nome} ({why})") from None
        lettura = read_workbook(temp, piano=piano)
        if lettura.metadati is None:
            reason = lettura.anomalie[0].messaggio if lettura.anomalie else "file non riconosciuto"
            return EsitoAllegato(
                posta.fonte, allegato.nome, IGNORATO, f"non è una scheda di questo programma: {reason}"
            )
        area = lettura.metadati.area.nome
        other = next((a for a in lettura.anomalie if a.codice in OTHER_PLAN), None)
        if other is not None:
            return EsitoAllegato(posta.fonte, allegato.nome, IGNORATO, f"scheda di un altro piano: {other.messaggio}")
        if is_blank(lettura):
            return EsitoAllegato(
                posta.fonte, allegato.nome, IGNORATO, "scheda vuota: nulla compilato dall'area", area=area
            )
        if digest in known:
            return EsitoAllegato(
                posta.fonte, allegato.nome, IGNORATO, f"già presente come {known[digest].name}", area=area
            )
        target = _place(temp, out_dir, f"{area_slug(area)}_{posta.ricevuto:%Y%m%d-%H%M%S}", ext)
        # The file's time is the time of receipt: consolida decides between two replies by it.
        with contextlib.suppress(OSError, OverflowError, ValueError):
            # ``ricevuto`` is the office's wall clock (Europe/Rome), whatever the machine's zone.
            os.utime(target, (posta.ricevuto.replace(tzinfo=OFFICE_TZ).timestamp(),) * 2)
        known[digest] = target
        return EsitoAllegato(posta.fonte, allegato.nome, PRESO, _taken(area, posta), area=area, file=target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _place(temp: Path, out_dir: Path, stem: str, ext: str) -> Path:
    """Give the file its name without ever replacing an existing one: ``_2``, ``_3``... if taken."""
    for n in range(1, 1000):
        target = out_dir / (f"{stem}{ext}" if n == 1 else f"{stem}_{n}{ext}")
        try:
            os.link(temp, target)  # fails if the name exists: no overwrite, even with a concurrent run
            return target
        except FileExistsError:
            continue
        except OSError:
            try:
                with target.open("xb") as handle:  # file systems without hard links
                    handle.write(temp.read_bytes())
                return target
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(f"{target}: impossibile scrivere il file ({os_reason(exc)})") from None
    raise OutputError(f"{out_dir}: troppi file con il nome {stem}{ext}")


def _hashes(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not is_office_temp(path):
            with contextlib.suppress(OSError):
                found.setdefault(sha256_file(path), path)
    return found


def _received(message: Message, fallback: datetime) -> datetime:
    """When the office received the message: what the office controls, never the sender.

    The topmost «Received:» header is the one the office's own mail server added on delivery (a sender
    can add more, only below it); its date, never later than ``fallback`` (the IMAP server's arrival
    time, or the time the message file was saved). Without one, ``fallback``. The «Date:» header is
    written by the sender's program (a wrong clock, or on purpose): it never decides, so it never
    decides which of two replies wins in «consolida».
    """
    with contextlib.suppress(Exception):  # a malformed header is no reason to stop: the fallback holds
        first = next(iter(message.get_all("Received") or []), None)
        if first is not None:
            stamp = str(first).rpartition(";")[2].strip()
            return min(_local(parsedate_to_datetime(stamp)), fallback)
    return fallback


def _sender_date(message: Message) -> datetime | None:
    """The «Date:» header as the sender wrote it (shown, never used to decide)."""
    with contextlib.suppress(Exception):
        value = message.get("Date")
        return _local(parsedate_to_datetime(str(value))) if value else None
    return None


def _taken(area: str, posta: Posta) -> str:
    """Why a file was taken, and the time it is named and ranked by (and the sender's, if it differs)."""
    text = f"scheda dell'{area}, ricevuta il {posta.ricevuto:%d/%m/%Y %H:%M}"
    sender = posta.data_mittente
    if sender is not None and abs(sender - posta.ricevuto) > timedelta(hours=1):
        text += f" (il messaggio si dice inviato il {sender:%d/%m/%Y %H:%M}: conta la ricezione)"
    return text


def is_blank(lettura: Lettura) -> bool:
    """Nothing in it came from the area: every input as we sent it, and either never saved since it was
    generated (our own attachment, e.g. in an outgoing draft) or all empty (a round without prefill).
    Prefilled values saved as they were by the area are a return that confirms them."""
    snapshot = lettura.metadati
    if snapshot is None or lettura.compilata != snapshot.area:
        return False
    sheets = layout(snapshot.testi, snapshot.header, snapshot.area, snapshot.rilevazione, snapshot.versione_modello)
    prefilled = any(not c.locked and c.value not in (None, "") for sheet in sheets for c in sheet.cells)
    saved = lettura.compilato_il is not None and abs(lettura.compilato_il - snapshot.generato_il) > timedelta(minutes=2)
    return not prefilled or not saved


def _local(moment: datetime) -> datetime:
    """The office's clock (Europe/Rome), whatever the server's: names and tables read as the office lives."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(OFFICE_TZ).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _clean_name(name: str) -> str:
    """Only the file name, whatever path a client put in it."""
    return re.split(r"[\\/]", name.strip())[-1] or "allegato"
