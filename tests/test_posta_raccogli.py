"""``raccogli`` from saved messages: ours kept once, by area and time; the rest ignored with a reason."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path

import pytest

from seregno_xlsx.posta.collect import from_eml_bytes, from_path, imap_utf7, parse_imap_url, store
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .test_posta_support import AREE, PIANO, parse, run

WHEN = datetime(2021, 9, 20, 10, 30, 5, tzinfo=timezone(timedelta(hours=2)))


def make_eml(
    subject: str, attachments: list[tuple[str, bytes]], when: datetime = WHEN, sent: datetime | None = None
) -> bytes:
    """A reply as the office's mailbox holds it: ``when`` the office's server received it (its
    «Received:» on top), ``sent`` the «Date:» the sender's program wrote (``when`` if not given)."""
    message = EmailMessage(policy=default_policy)
    message["Received"] = f"from pc-area.example.org by mx.comune.example.org; {format_datetime(when)}"
    message["Subject"] = subject
    message["From"] = "Area <area@example.org>"
    message["To"] = "controllo.gestione@example.org"
    message["Date"] = format_datetime(sent or when)
    message.set_content("In allegato la scheda compilata.")
    for name, data in attachments:
        maintype, subtype = ("application", "pdf") if name.endswith(".pdf") else ("application", "octet-stream")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.fixture
def compilate(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> dict[str, bytes]:
    """Returned workbooks of two areas, as the areas send them back."""
    by_area = {s.area: s.path for s in schede_intermedia}
    result = {}
    for n, area in enumerate((AREE[0], AREE[2])):
        target = tmp_path / f"compilata_{n}.xlsx"
        fill_workbook(by_area[area], target, [Entry("obiettivi", _first_code(by_area[area]), "note", f"nota {n}")])
        result[area] = target.read_bytes()
    return result


def _first_code(path: Path) -> str:
    from seregno_xlsx.ritorni.reader import read_workbook

    snapshot = read_workbook(path).metadati
    assert snapshot is not None
    return snapshot.area.obiettivi[0].codice


@pytest.fixture
def posta(compilate: dict[str, bytes], tmp_path: Path) -> Path:
    folder = tmp_path / "posta"
    folder.mkdir()
    ours, persona = compilate[AREE[0]], compilate[AREE[2]]
    (folder / "1_affari_generali.eml").write_bytes(
        make_eml("R: scheda", [("Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx", ours), ("firma.pdf", b"%PDF")])
    )
    (folder / "2_non_nostro.eml").write_bytes(make_eml("Bilancio", [("bilancio.xlsx", _foreign_xlsx(tmp_path))]))
    (folder / "3_doppione.eml").write_bytes(
        make_eml("R: scheda (reinvio)", [("copia.xlsx", ours)], WHEN + timedelta(hours=1))
    )
    (folder / "4_accenti.eml").write_bytes(make_eml("Scheda", [("Schéda Àrea Persona – «ok».xlsx", persona)]))
    (folder / "5_vuoto.eml").write_bytes(make_eml("Solo testo", []))
    (folder / "6_rotto.msg").write_bytes(b"questo non e' un file Outlook")
    (folder / "leggimi.txt").write_text("ignorato: non è un messaggio", encoding="utf-8")
    return folder


def _foreign_xlsx(tmp_path: Path) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Bilancio"  # type: ignore[index]
    path = tmp_path / "foreign.xlsx"
    workbook.save(path)
    return path.read_bytes()


def test_folder_of_messages(posta: Path, compilate: dict[str, bytes], tmp_path: Path) -> None:
    output = tmp_path / "ritorni"
    result = run("raccogli", posta, "-o", output, "--piano", PIANO, "--json")
    assert result.returncode == 1, result.stderr  # the broken .msg is reported as an error
    voci = json.loads(result.stdout)
    taken = [v for v in voci if v["stato"] == "preso"]
    local = datetime(2021, 9, 20, 10, 30, 5)  # Europe/Rome, whatever the zone of the machine
    assert sorted(Path(v["file"]).name for v in taken) == sorted(
        [
            f"Area_Affari_Generali_{local:%Y%m%d-%H%M%S}.xlsx",
            f"Area_Servizi_alla_Persona_{local:%Y%m%d-%H%M%S}.xlsx",
        ]
    )
    assert (output / f"Area_Affari_Generali_{local:%Y%m%d-%H%M%S}.xlsx").read_bytes() == compilate[AREE[0]]
    assert (output / f"Area_Servizi_alla_Persona_{local:%Y%m%d-%H%M%S}.xlsx").read_bytes() == compilate[AREE[2]]
    accents = next(v for v in voci if v["fonte"] == "4_accenti.eml")
    assert accents["stato"] == "preso" and accents["allegato"] == "Schéda Àrea Persona – «ok».xlsx"

    reasons = {(v["fonte"], v["allegato"]): v for v in voci if v["stato"] != "preso"}
    assert "file .pdf" in reasons[("1_affari_generali.eml", "firma.pdf")]["motivo"]
    assert "non è una scheda" in reasons[("2_non_nostro.eml", "bilancio.xlsx")]["motivo"]
    assert "Metadati" in reasons[("2_non_nostro.eml", "bilancio.xlsx")]["motivo"]
    duplicate = reasons[("3_doppione.eml", "copia.xlsx")]
    assert duplicate["motivo"] == f"già presente come Area_Affari_Generali_{local:%Y%m%d-%H%M%S}.xlsx"
    assert reasons[("5_vuoto.eml", "")]["motivo"] == "messaggio senza allegati"
    assert reasons[("6_rotto.msg", "")]["stato"] == "errore" and ".msg" in reasons[("6_rotto.msg", "")]["motivo"]
    assert not any(v["fonte"] == "leggimi.txt" for v in voci)
    assert sorted(p.name for p in output.iterdir()) == sorted(Path(v["file"]).name for v in taken)

    # Collecting again changes nothing: every workbook is already there.
    again = run("raccogli", posta, "-o", output)
    assert again.returncode == 1 and "già presente" in again.stdout and "Schede prese: 0;" in again.stdout
    assert len(list(output.iterdir())) == 2


def test_never_overwrites_a_different_file_with_the_same_name(compilate: dict[str, bytes], tmp_path: Path) -> None:
    output = tmp_path / "ritorni"
    output.mkdir()
    local = datetime(2021, 9, 20, 10, 30, 5)  # Europe/Rome, whatever the zone of the machine
    existing = output / f"Area_Affari_Generali_{local:%Y%m%d-%H%M%S}.xlsx"
    existing.write_bytes(b"a different file, put here by someone")
    message = make_eml("scheda", [("scheda.xlsx", compilate[AREE[0]])])
    raccolta = store([from_eml_bytes(message, "m.eml", datetime.now())], output)
    [voce] = raccolta.presi
    assert voce.file == output / f"Area_Affari_Generali_{local:%Y%m%d-%H%M%S}_2.xlsx"
    assert existing.read_bytes() == b"a different file, put here by someone"
    assert voce.file.read_bytes() == compilate[AREE[0]]
    assert raccolta.exit_code == 0
    assert not [p for p in output.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_forwarded_message_and_single_file(compilate: dict[str, bytes], tmp_path: Path) -> None:
    inner = make_eml("scheda", [("scheda.xlsx", compilate[AREE[2]])])
    outer = EmailMessage(policy=default_policy)
    outer["Subject"] = "I: scheda"
    outer["Date"] = format_datetime(WHEN)
    outer.set_content("Inoltro la scheda dell'area.")
    outer.add_attachment(parse(inner))  # message/rfc822, as mail clients forward "as attachment"
    outer.add_attachment(b"\xff\xd8", maintype="image", subtype="jpeg", filename="logo.jpg")
    source = tmp_path / "inoltro.eml"
    source.write_bytes(outer.as_bytes())
    output = tmp_path / "ritorni"
    result = run("raccogli", source, "-o", output)
    assert result.returncode == 0, result.stderr + result.stdout
    [saved] = output.iterdir()
    assert saved.read_bytes() == compilate[AREE[2]] and saved.name.startswith("Area_Servizi_alla_Persona_")


def test_outlook_msg(compilate: dict[str, bytes], tmp_path: Path) -> None:
    """A real .msg, written from an e-mail by an independent implementation (aspose-email-foss)."""
    msg = pytest.importorskip("aspose.email_foss.msg")
    source = tmp_path / "posta"
    source.mkdir()
    message = parse(make_eml("R: scheda", [("Schéda compilata.xlsx", compilate[AREE[2]]), ("nota.pdf", b"%PDF")]))
    (source / "risposta.msg").write_bytes(msg.MapiMessage.from_email_message(message).to_bytes())
    output = tmp_path / "ritorni"
    result = run("raccogli", source, "-o", output, "--json")
    assert result.returncode == 0, result.stderr
    voci = json.loads(result.stdout)
    assert [(v["allegato"], v["stato"]) for v in voci] == [("Schéda compilata.xlsx", "preso"), ("nota.pdf", "ignorato")]
    local = datetime(2021, 9, 20, 10, 30, 5)  # Europe/Rome, whatever the zone of the machine
    saved = output / f"Area_Servizi_alla_Persona_{local:%Y%m%d-%H%M%S}.xlsx"
    assert saved.read_bytes() == compilate[AREE[2]]


def test_nothing_of_ours_is_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(make_eml("foto", [("foto.jpg", b"\xff\xd8")]))
    result = run("raccogli", source, "-o", tmp_path / "ritorni")
    assert result.returncode == 2 and "foto.jpg" in result.stdout
    missing = run("raccogli", tmp_path / "assente", "-o", tmp_path / "ritorni")
    assert missing.returncode == 2 and "non trovati" in missing.stderr


def test_imap_url_and_folder_names() -> None:
    assert parse_imap_url("imap://posta.example.org/Schede%20ricevute") == (
        "posta.example.org",
        None,
        "Schede ricevute",
        False,
    )
    assert parse_imap_url("imaps://posta.example.org:1993") == ("posta.example.org", 1993, "INBOX", True)
    assert imap_utf7("Ritorni/Área & Co") == "Ritorni/&AME-rea &- Co"


def test_blank_templates_are_skipped(
    schede_intermedia: list[SchedaGenerata], compilate: dict[str, bytes], tmp_path: Path
) -> None:
    """Our own outgoing drafts carry the scheda as sent: nothing in it came from the area."""
    by_area = {s.area: s.path for s in schede_intermedia}
    source = tmp_path / "bozze"
    source.mkdir()
    (source / "bozza.eml").write_bytes(make_eml("scheda", [("scheda.xlsx", by_area[AREE[1]].read_bytes())]))
    (source / "risposta.eml").write_bytes(make_eml("R: scheda", [("scheda.xlsx", compilate[AREE[0]])]))
    raccolta = store(from_path(source), tmp_path / "ritorni")
    blank = next(v for v in raccolta.esiti if v.fonte == "bozza.eml")
    assert (blank.stato, blank.area) == ("ignorato", AREE[1]) and "nulla compilato" in blank.motivo
    assert [v.area for v in raccolta.presi] == [AREE[0]]


def test_a_damaged_outlook_message_is_said_in_italian(tmp_path: Path) -> None:
    """Before: «messaggio Outlook (.msg) illeggibile (InvalidFileFormatError)», a class name for a reason."""
    from seregno_xlsx.posta.collect import collect

    posta = tmp_path / "posta"
    posta.mkdir()
    (posta / "risposta.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    raccolta = collect(posta, tmp_path / "ritorni")
    [problema] = [e.motivo for e in raccolta.esiti]
    assert problema.endswith("messaggio Outlook (.msg) illeggibile: file danneggiato o non salvato da Outlook")
    assert "Error" not in problema
