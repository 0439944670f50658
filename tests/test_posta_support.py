"""Shared pieces of the e-mail tests: the CLI in a real process, a real SMTP server on loopback.

No test here: the ``test_posta_*`` modules import from it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from .cli_runner import run as run
from .conftest import ROOT

PIANO = ROOT / "esempi" / "piano_2021.json"
AREE = ("Area Affari Generali", "Area Lavori Pubblici e Manutenzioni", "Area Servizi alla Persona")
REFUSED = "rifiuta@example.org"
CONTATTI = f"""area;responsabile;email;copia
{AREE[0]};Dott.ssa Anna Bianchi;affari.generali@example.org;segreteria.ag@example.org
{AREE[1]};Ing. Marco Verdi;lavori.pubblici@example.org;
{AREE[2]};Dott. Luca Rossi;servizi.persona@example.org;"ufficio.servizi@example.org, segreteria@example.org"
"""


def contacts_file(folder: Path, text: str = CONTATTI) -> Path:
    path = folder / "contatti.csv"
    path.write_text(text, encoding="utf-8")
    return path


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    return [
        (a.get_filename() or "", a.get_content_type(), a.get_payload(decode=True)) for a in message.iter_attachments()
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ricevuto:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """An aiosmtpd handler that keeps every envelope and refuses one address with 550."""

    received: list[Ricevuto] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() == REFUSED:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Ricevuto(envelope.mail_from, list(envelope.rcpt_tos), parse(envelope.original_content)))
        return "250 Message accepted for delivery"


@dataclass
class Smtp:
    host: str
    port: int
    handler: Handler

    @property
    def args(self) -> list[str]:
        return ["--smtp-host", self.host, "--smtp-porta", str(self.port), "--smtp-sicurezza", "nessuna"]


USER, PASSWORD = "ufficio", "segreta-di-prova"


class _Authenticator:
    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server on loopback (aiosmtpd), with optional AUTH (no TLS needed on loopback)."""
    from aiosmtpd.controller import Controller

    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_Authenticator(),
        auth_require_tls=False,
        auth_required=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield Smtp("127.0.0.1", port, handler)
    finally:
        controller.stop()


def env_without_secrets() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SEREGNO_")}
