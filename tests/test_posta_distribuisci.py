"""``distribuisci``: drafts parsed back, and real sending to an SMTP server on loopback."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.scheda.generation import SchedaGenerata, generate

from .test_posta_support import (
    AREE,
    CONTATTI,
    PASSWORD,
    PIANO,
    REFUSED,
    USER,
    Smtp,
    attachments,
    body,
    contacts_file,
    parse,
    run,
    smtp,  # noqa: F401  (fixture)
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def schede(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> list[SchedaGenerata]:
    folder = tmp_path_factory.mktemp("schede_posta")
    return generate(piano, folder, rilevazione=Rilevazione.INTERMEDIA, scadenza=date(2021, 9, 30))


def _folder(schede: list[SchedaGenerata]) -> Path:
    return schede[0].path.parent


def test_drafts_parse_back(schede: list[SchedaGenerata], tmp_path: Path) -> None:
    output = tmp_path / "posta"
    contatti = contacts_file(tmp_path)
    result = run("distribuisci", PIANO, _folder(schede), "--contatti", contatti, "-o", output)
    assert result.returncode == 0, result.stderr
    drafts = sorted(output.glob("*.eml"))
    assert len(drafts) == 3
    persona = next(s for s in schede if s.area == AREE[2])
    message = parse((output / persona.path.with_suffix(".eml").name).read_bytes())
    assert message["Subject"] == (
        "PEG 2021 – Area Servizi alla Persona – rilevazione intermedia: scheda da compilare entro il 30/09/2021"
    )
    assert [a.addr_spec for a in message["To"].addresses] == ["servizi.persona@example.org"]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["ufficio.servizi@example.org", "segreteria@example.org"]
    assert message["From"].addresses[0].addr_spec == "controllo.gestione@example.org"
    assert message["Message-ID"] and message["Date"] and message["X-Unsent"] == "1"
    text = body(message)
    assert "Gentile Dott. Luca Rossi" in text and "Area Servizi alla Persona" in text
    assert "entro il 30/09/2021" in text and "celle gialle" in text and "rispondendo a questa e-mail" in text
    assert "0362" in text  # who to ask
    [(name, content_type, data)] = attachments(message)
    assert name == persona.path.name and content_type == XLSX
    assert data == persona.path.read_bytes()
    assert b"\r\n" in (output / persona.path.with_suffix(".eml").name).read_bytes()[:200]


def test_deadline_option_and_sender(schede: list[SchedaGenerata], tmp_path: Path) -> None:
    output = tmp_path / "posta"
    result = run(
        "distribuisci",
        PIANO,
        _folder(schede),
        "--contatti",
        contacts_file(tmp_path),
        "-o",
        output,
        "--area",
        AREE[0],
        "--scadenza",
        "2021-10-15",
        "--mittente",
        "Controllo <controllo@example.org>",
    )
    assert result.returncode == 0, result.stderr
    assert "30/09/2021" in result.stderr  # the workbook says otherwise: the office is warned
    [draft] = output.glob("*.eml")
    message = parse(draft.read_bytes())
    assert message["Subject"].endswith("entro il 15/10/2021")
    assert str(message["From"]) == "Controllo <controllo@example.org>"
    assert message["Reply-To"] == "controllo.gestione@example.org"


def test_area_without_workbook_does_not_stop_the_others(
    schede: list[SchedaGenerata], tmp_path: Path, piano: Piano
) -> None:
    folder = tmp_path / "schede"
    folder.mkdir()
    for scheda in schede[1:]:
        shutil.copy(scheda.path, folder)
    (folder / "appunti.xlsx").write_bytes(b"not a workbook")
    other = piano.model_copy(update={"anno": 2022})
    generate(other, tmp_path / "altro", aree=[AREE[0]])
    shutil.copy(next((tmp_path / "altro").iterdir()), folder / "altro_piano.xlsx")
    output = tmp_path / "posta"
    result = run("distribuisci", PIANO, folder, "--contatti", contacts_file(tmp_path), "-o", output)
    assert result.returncode == 1
    assert "nessuna scheda" in result.stdout and schede[0].area in result.stdout
    assert "altro_piano.xlsx" in result.stderr and "appunti.xlsx" in result.stderr
    assert len(list(output.glob("*.eml"))) == len(schede) - 1


def test_send_record_and_no_double_sending(schede: list[SchedaGenerata], tmp_path: Path, smtp: Smtp) -> None:  # noqa: F811
    output = tmp_path / "posta"
    args = ["distribuisci", PIANO, _folder(schede), "--contatti", contacts_file(tmp_path), "-o", output, "--invia"]
    result = run(*args, *smtp.args, "--mittente", "controllo@example.org")
    assert result.returncode == 0, result.stderr + result.stdout
    received = smtp.handler.received
    assert len(received) == 3
    persona = next(r for r in received if "Servizi alla Persona" in r.message["Subject"])
    assert sorted(persona.rcpt_tos) == sorted(
        ["servizi.persona@example.org", "ufficio.servizi@example.org", "segreteria@example.org"]
    )
    assert persona.mail_from == "controllo@example.org"
    assert "entro il 30/09/2021" in body(persona.message) and "X-Unsent" not in persona.message
    [(name, content_type, data)] = attachments(persona.message)
    workbook = next(s.path for s in schede if s.area == AREE[2])
    assert (name, content_type, data) == (workbook.name, XLSX, workbook.read_bytes())
    records = [json.loads(line) for line in (output / "invii.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3 and {r["esito"] for r in records} == {"inviato"}
    record = next(r for r in records if r["area"] == AREE[2])
    assert record["destinatari"] == ["servizi.persona@example.org"]
    assert record["copia"] == ["ufficio.servizi@example.org", "segreteria@example.org"]
    assert record["oggetto"] == persona.message["Subject"] and record["allegato"] == workbook.name
    assert record["message_id"] == persona.message["Message-ID"] and record["quando"]
    import hashlib

    assert record["sha256"] == hashlib.sha256(workbook.read_bytes()).hexdigest()

    again = run(*args, *smtp.args, "--mittente", "controllo@example.org")
    assert again.returncode == 0, again.stderr
    assert len(smtp.handler.received) == 3 and again.stdout.count("già inviato") == 3
    from datetime import datetime
    from zoneinfo import ZoneInfo

    rome = datetime.fromisoformat(record["quando"]).astimezone(ZoneInfo("Europe/Rome"))
    assert f"il {rome:%d/%m/%Y alle %H:%M}; per inviarlo di nuovo: --reinvia" in again.stdout  # not ISO, not UTC
    assert len((output / "invii.jsonl").read_text(encoding="utf-8").splitlines()) == 3

    forced = run(*args, *smtp.args, "--reinvia", "--area", AREE[0])
    assert forced.returncode == 0, forced.stderr
    assert len(smtp.handler.received) == 4
    assert len((output / "invii.jsonl").read_text(encoding="utf-8").splitlines()) == 4


def test_refused_address_does_not_stop_the_others(
    schede: list[SchedaGenerata],
    tmp_path: Path,
    smtp: Smtp,  # noqa: F811
) -> None:
    contatti = contacts_file(tmp_path, CONTATTI.replace("lavori.pubblici@example.org", REFUSED))
    output = tmp_path / "posta"
    args = ["distribuisci", PIANO, _folder(schede), "--contatti", contatti, "-o", output, "--invia", *smtp.args]
    result = run(*args)
    assert result.returncode == 1
    assert "NON inviato" in result.stdout and "550" in result.stdout
    assert sorted(r.message["Subject"].split(" – ")[1] for r in smtp.handler.received) == [AREE[0], AREE[2]]
    records = {r["area"]: r for r in map(json.loads, (output / "invii.jsonl").read_text("utf-8").splitlines())}
    assert records[AREE[1]]["esito"] == "errore" and records[AREE[1]]["rifiutati"] == [REFUSED]
    assert records[AREE[0]]["esito"] == records[AREE[2]]["esito"] == "inviato"
    # Once the address is fixed, a second run sends only what failed.
    fixed = run(*[a if a != contatti else contacts_file(tmp_path) for a in args])
    assert fixed.returncode == 0, fixed.stdout
    assert len(smtp.handler.received) == 3
    assert smtp.handler.received[-1].rcpt_tos == ["lavori.pubblici@example.org"]


def test_login_password_only_from_environment(
    schede: list[SchedaGenerata],
    tmp_path: Path,
    smtp: Smtp,  # noqa: F811
) -> None:
    output = tmp_path / "posta"
    args = ["distribuisci", PIANO, _folder(schede), "--contatti", contacts_file(tmp_path), "-o", output]
    args += ["--invia", "--area", AREE[0], *smtp.args, "--smtp-utente", USER]
    missing = run(*args)
    assert missing.returncode == 2 and "SEREGNO_SMTP_PASSWORD" in missing.stderr
    wrong = run(*args, env={"SEREGNO_SMTP_PASSWORD": "sbagliata"})
    assert wrong.returncode == 2 and "accesso rifiutato" in wrong.stderr
    assert not smtp.handler.received and not (output / "invii.jsonl").exists()
    ok = run(*args, env={"SEREGNO_SMTP_PASSWORD": PASSWORD})
    assert ok.returncode == 0, ok.stderr
    assert len(smtp.handler.received) == 1
    help_text = run("distribuisci", "--help").stdout
    assert "--smtp-utente" in help_text and "--smtp-password" not in help_text


def test_invia_without_host_is_misuse(schede: list[SchedaGenerata], tmp_path: Path) -> None:
    result = run("distribuisci", PIANO, _folder(schede), "--contatti", contacts_file(tmp_path), "--invia")
    assert result.returncode == 2 and "--smtp-host" in result.stderr


def test_unreachable_server_is_exit_2(schede: list[SchedaGenerata], tmp_path: Path) -> None:
    from .test_posta_support import free_port

    output = tmp_path / "posta"
    result = run(
        "distribuisci",
        PIANO,
        _folder(schede),
        "--contatti",
        contacts_file(tmp_path),
        "-o",
        output,
        "--invia",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-porta",
        str(free_port()),
        "--smtp-sicurezza",
        "nessuna",
    )
    assert result.returncode == 2 and "impossibile collegarsi al server SMTP" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sicurezza", ["starttls", "ssl"])
def test_encrypted_connection(schede: list[SchedaGenerata], tmp_path: Path, sicurezza: str) -> None:
    """STARTTLS and implicit TLS against aiosmtpd, with a certificate the client verifies (SSL_CERT_FILE)."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller

    from .test_posta_support import Handler, free_port

    if shutil.which("openssl") is None:
        pytest.skip("openssl non disponibile per creare il certificato di prova")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler, port = Handler(), free_port()
    options = (
        {"tls_context": context, "require_starttls": True} if sicurezza == "starttls" else {"ssl_context": context}
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        output = tmp_path / "posta"
        args = ["distribuisci", PIANO, _folder(schede), "--contatti", contacts_file(tmp_path), "-o", output]
        args += ["--invia", "--area", AREE[0], "--smtp-host", "127.0.0.1", "--smtp-porta", str(port)]
        args += ["--smtp-sicurezza", sicurezza]
        untrusted = run(*args)
        assert untrusted.returncode == 2 and "SMTP" in untrusted.stderr  # an unknown certificate is refused
        result = run(*args, env={"SSL_CERT_FILE": str(cert)})
        assert result.returncode == 0, result.stderr + result.stdout
        [received] = handler.received
        assert AREE[0] in received.message["Subject"]
    finally:
        controller.stop()


def test_a_server_without_starttls_is_said_in_italian(
    schede: list[SchedaGenerata],
    tmp_path: Path,
    smtp: Smtp,  # noqa: F811
) -> None:
    """The default --smtp-sicurezza starttls against a server that does not offer it: before, Python's
    own «STARTTLS extension not supported by server.»"""
    contatti = contacts_file(tmp_path)
    result = run(
        "distribuisci", PIANO, _folder(schede), "--contatti", contatti, "-o", tmp_path / "posta", "--invia",
        "--smtp-host", smtp.host, "--smtp-porta", str(smtp.port),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"server SMTP {smtp.host}:{smtp.port}: il server non offre la cifratura STARTTLS" in result.stderr
    assert "not supported" not in result.stderr and not smtp.handler.received
