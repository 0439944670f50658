"""Hostile inputs, third round (issue 14, tried as an attacker would after round two): each defect found,
with the test that would have found it."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import warnings
import zipfile
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.posta.collect import _taken, from_eml_bytes, from_path, store
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .hostile.corpus import entries, write_zip
from .hostile.round2 import sheet_part


@pytest.mark.slow  # a process of its own
def test_internal_error_log_is_private_and_masks_passwords(tmp_path: Path) -> None:
    """The log of a defect sits in the shared temporary folder: readable by its user only, never written
    through a link prepared there, and with the passwords typed on the command line masked."""
    code = (
        "import sys; from seregno_xlsx.cli import app, main\n"
        "@app.command('guasto')\n"
        "def guasto(password: str = '') -> None:\n"
        "    1 / 0\n"
        "sys.argv = ['seregno-xlsx', 'guasto', '--password', 'segretissima']\n"
        "main()\n"
    )
    stamp_link = tmp_path / "seregno-xlsx-errore-esca.log"
    stamp_link.symlink_to(tmp_path / "bersaglio")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Errore interno" in result.stderr
    [log] = [p for p in tmp_path.glob("seregno-xlsx-errore-*.log") if not p.is_symlink()]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text(encoding="utf-8")
    assert "ZeroDivisionError" in text and "segretissima" not in text and "--password ***" in text
    assert not (tmp_path / "bersaglio").exists()


# --- which reply wins: the time the office received it, never the sender's «Date:» ----------------

AREA = "Area Affari Generali"
ROME = ZoneInfo("Europe/Rome")


def _reply(scheda: Path, note: str, tmp_path: Path) -> bytes:
    area = read_workbook(scheda).metadati.area  # type: ignore[union-attr]
    target = tmp_path / f"{note}.xlsx"
    fill_workbook(scheda, target, [Entry("obiettivi", area.obiettivi[0].codice, "note", note)])
    return target.read_bytes()


def _eml(data: bytes, *, date: str, received: list[str]) -> bytes:
    message = EmailMessage()
    for hop in received:  # top first: the office's server, then whatever the sender's side wrote
        message["Received"] = hop
    message["From"], message["Subject"], message["Date"] = "area@comune.it", "R: scheda", date
    message.set_content("in allegato")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename="scheda.xlsx")
    return bytes(message)


def test_the_reply_received_last_wins_whatever_the_sender_dates_it(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """The correction sent from a PC whose clock says 2020 (or a sender backdating on purpose) is still
    the reply received last: it is named by the time received and it wins in consolida; forged
    «Received:» lines below the office's own change nothing."""
    scheda = next(s.path for s in schede_intermedia if s.area == AREA)
    posta = tmp_path / "posta"
    posta.mkdir()
    first = _reply(scheda, "prima risposta", tmp_path)
    correction = _reply(scheda, "correzione", tmp_path)
    (posta / "1.eml").write_bytes(
        _eml(
            first, date="Mon, 20 Sep 2021 10:00:00 +0200", received=["by mx.comune.it; Mon, 20 Sep 2021 10:00:09 +0200"]
        )
    )
    forged = "by mx.comune.it; Sat, 01 Jan 2099 00:00:00 +0000"  # written by the sender, below the office's
    (posta / "2.eml").write_bytes(
        _eml(
            correction,
            date="Wed, 01 Jan 2020 08:00:00 +0100",
            received=["by mx.comune.it; Tue, 21 Sep 2021 09:15:00 +0200", forged],
        )
    )
    ritorni = tmp_path / "ritorni"
    raccolta = store(from_path(posta), ritorni)
    names = sorted(p.name for p in ritorni.iterdir())
    assert names == ["Area_Affari_Generali_20210920-100009.xlsx", "Area_Affari_Generali_20210921-091500.xlsx"]
    taken = {e.file.name: e.motivo for e in raccolta.presi if e.file}
    assert "si dice inviato il 01/01/2020 08:00: conta la ricezione" in taken[names[1]]
    assert "si dice inviato" not in taken[names[0]]
    received = datetime(2021, 9, 21, 9, 15, tzinfo=ROME)
    assert (ritorni / names[1]).stat().st_mtime == received.timestamp()

    result = consolidate(ritorni, tmp_path / "master.xlsx")
    fonti = {f.file: (f.stato, f.motivo) for f in result.fonti}
    assert fonti[names[1]][0] == "accettato"
    assert fonti[names[0]][0] == "sostituito" and "vale la data di ricezione" in fonti[names[0]][1]
    # The time that decided is the one in the winner's name, whatever the machine's zone.
    assert "(21/09/2021 09:15)" in fonti[names[0]][1]
    assert result.aree[0].obiettivi[0].note == "correzione"


def test_without_a_received_line_the_message_file_time_decides(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """A message with no «Received:» (saved by hand, or delivered outside the office's server): the time
    the office saved it, never the «Date:» it claims (here 2099, and 9999)."""
    scheda = next(s.path for s in schede_intermedia if s.area == AREA)
    posta = tmp_path / "posta"
    posta.mkdir()
    saved = datetime(2021, 9, 22, 12, 0, 0, tzinfo=ROME).timestamp()
    for n, date in enumerate(["Thu, 01 Jan 2099 00:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -1200"], start=1):
        path = posta / f"{n}.eml"
        path.write_bytes(_eml(_reply(scheda, f"nota {n}", tmp_path), date=date, received=[]))
        os.utime(path, (saved + n, saved + n))
    raccolta = store(from_path(posta), tmp_path / "ritorni")
    assert sorted(e.file.name for e in raccolta.presi if e.file) == [
        "Area_Affari_Generali_20210922-120001.xlsx",
        "Area_Affari_Generali_20210922-120002.xlsx",
    ]


@settings(max_examples=100, deadline=None)
@given(
    received=st.lists(st.text(max_size=80), max_size=3),
    date=st.text(max_size=80),
)
def test_any_received_or_date_header_never_stops_raccogli_nor_moves_receipt_later(
    received: list[str], date: str
) -> None:
    """Whatever the headers say, the message is read and its time is never after the office got it."""
    fallback = datetime(2021, 9, 20, 10, 0, 0)
    lines = [f"Received: {r}" for r in received] + [f"Date: {date}", "Subject: x", "", "corpo"]
    raw = "\r\n".join(line.replace("\r", " ").replace("\n", " ") for line in lines).encode("utf-8", "replace")
    posta = from_eml_bytes(raw, "m.eml", fallback)
    assert posta.ricevuto <= fallback
    assert isinstance(_taken("Area X", posta), str)


@pytest.mark.parametrize("twin", ["same", "other case"])
def test_a_part_stored_twice_is_refused(schede_intermedia: list[SchedaGenerata], tmp_path: Path, twin: str) -> None:
    """A zip with two entries of one name: calamine and openpyxl read the second, LibreOffice may read
    the first; what the office sees would not be what is consolidated."""
    scheda = next(s.path for s in schede_intermedia if s.area == AREA)
    parts = entries(scheda)
    fasi = sheet_part(scheda, "Fasi")
    hidden = '<row r="900"><c r="H900" t="inlineStr"><is><t>valore nascosto</t></is></c></row></sheetData>'
    evil = parts[fasi].decode().replace("</sheetData>", hidden, 1).encode()
    target = tmp_path / "doppio.xlsx"
    with warnings.catch_warnings(), zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: that is the attack
        for name, data in parts.items():
            archive.writestr(name, data)
        archive.writestr(fasi if twin == "same" else fasi.upper(), evil)
    lettura = read_workbook(target)
    assert [a.codice for a in lettura.anomalie] == ["file-illeggibile"]
    assert "due volte" in lettura.anomalie[0].messaggio


@pytest.mark.parametrize("alias", ["same target", "same target written otherwise", "same r:id", "same name"])
def test_one_sheet_content_behind_many_names_is_refused(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, alias: str
) -> None:
    """Bounds are measured per part, the reader allocates per sheet name: 1,000 names for one part with a
    far mark would cost the part's grid 1,000 times."""
    scheda = next(s.path for s in schede_intermedia if s.area == AREA)
    parts = entries(scheda)
    target = sheet_part(scheda, "Fasi").removeprefix("xl/")
    workbook, rels = parts["xl/workbook.xml"].decode(), parts["xl/_rels/workbook.xml.rels"].decode()
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    written = {"same target": target, "same target written otherwise": f"./{target}"}.get(alias, target)
    existing = next(r for r in re.findall(r"<Relationship [^>]*>", rels) if target in r)
    rid = "rIdFasi" if alias != "same r:id" else re.search(r'Id="([^"]+)"', existing)[1]  # type: ignore[index]
    if alias == "same name":  # «Fasi» again, over another part: the reader reads the first one each time
        rid, written = "rIdFasi", "worksheets/altro.xml"
        parts["xl/worksheets/altro.xml"] = parts[sheet_part(scheda, "Fasi")]
    label = "FASI" if alias == "same name" else "Copia {n}"
    sheets = "".join(f'<sheet name="{label.format(n=n)}" sheetId="{100 + n}" r:id="{rid}"/>' for n in range(3))
    parts["xl/workbook.xml"] = workbook.replace("</sheets>", sheets + "</sheets>").encode()
    relation = f'<Relationship Id="rIdFasi" Type="{kind}" Target="{written}"/>'
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", relation + "</Relationships>").encode()
    lettura = read_workbook(write_zip(tmp_path / "alias.xlsx", parts))
    assert [a.codice for a in lettura.anomalie] == ["file-illeggibile"]
    expected = "si chiamano «FASI»" if alias == "same name" else "stesso contenuto"
    assert expected in lettura.anomalie[0].messaggio


def test_ods_tables_of_one_name_are_refused(tmp_path: Path) -> None:
    """Four .ods tables called «Fasi», each with a mark on the last row: the bounds counted the name once,
    the reader allocated every table (1 GB from a file of 1 KB)."""
    table = (
        '<table:table table:name="Fasi"><table:table-row><table:table-cell office:value-type="string">'
        "<text:p>a</text:p></table:table-cell></table:table-row>"
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="9"/>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
        "</table:table>"
    )
    namespaces = " ".join(
        f'xmlns:{p}="urn:oasis:names:tc:opendocument:xmlns:{p}:1.0"' for p in ("office", "table", "text")
    )
    content = f'<?xml version="1.0"?><office:document-content {namespaces}><office:body><office:spreadsheet>'
    content += table * 4 + "</office:spreadsheet></office:body></office:document-content>"
    target = tmp_path / "tabelle.ods"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    lettura = read_workbook(target)
    assert [a.codice for a in lettura.anomalie] == ["file-illeggibile"]
    assert "due fogli si chiamano «Fasi»" in lettura.anomalie[0].messaggio.lower().replace("«fasi»", "«Fasi»")
