"""``raccogli`` from a real IMAP server: Dovecot started by the test on loopback, private config and Maildir.

Skipped where Dovecot is not installed (Debian: ``apt-get install dovecot-imapd``).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .test_posta_raccogli import WHEN, _first_code, make_eml
from .test_posta_support import AREE, free_port, run

pytestmark = [
    pytest.mark.imap,
    pytest.mark.skipif(
        shutil.which("dovecot") is None, reason="Dovecot non installato (apt-get install dovecot-imapd)"
    ),
]

USER, PASSWORD = "ufficio", "segreta-imap"


@dataclass
class Imap:
    port: int
    maildir: Path

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://127.0.0.1:{self.port}/{folder}"


def _config(root: Path, port: int, login_user: str, internal_user: str) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/run
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap() -> Iterator[Imap]:
    # Not under pytest's tmp_path: Dovecot's unprivileged processes must be able to traverse it.
    root = Path(tempfile.mkdtemp(prefix="seregno-imap-"))
    os.chmod(root, 0o755)
    maildir = root / "home" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (root / "run").mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot") if _has_user("dovecot") else pwd.getpwnam("nobody")
        login_user = "dovenull" if _has_user("dovenull") else owner.pw_name
        internal_user = owner.pw_name
    else:
        owner = pwd.getpwuid(os.geteuid())
        login_user = internal_user = owner.pw_name
    (root / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{root / 'home'}\n", encoding="utf-8"
    )
    port = free_port()
    (root / "dovecot.conf").write_text(_config(root, port, login_user, internal_user), encoding="utf-8")
    server = Imap(port, maildir)
    # Dovecot forks into the background: its output goes to a file, not to a pipe that would never close.
    with (root / "avvio.log").open("wb") as log:
        started = subprocess.run(
            ["dovecot", "-c", str(root / "dovecot.conf")], stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=30
        )
    if started.returncode != 0:
        reason = (root / "avvio.log").read_text(errors="replace").strip()
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"Dovecot non avviabile qui: {reason}")
    try:
        _wait_for(port)
        yield server
    finally:
        pid_file = root / "run" / "master.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        for _ in range(50):
            if not pid_file.exists():
                break
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _wait_for(port: int) -> None:
    for _ in range(100):
        with contextlib.suppress(OSError):
            imaplib.IMAP4("127.0.0.1", port, timeout=1).logout()
            return
        time.sleep(0.1)
    raise RuntimeError("Dovecot non risponde")


def _deliver(server: Imap, name: str, data: bytes) -> None:
    """Drop a message in the Maildir as a delivery agent would: written in tmp/, then moved to new/."""
    temp = server.maildir / "tmp" / name
    temp.write_bytes(data)
    temp.rename(server.maildir / "new" / name)


def _chown_tree(server: Imap) -> None:
    """As root, the mail files must belong to the mail user of the passwd file."""
    if os.geteuid() != 0:
        return
    home = server.maildir.parent
    fields = (home.parent / "passwd").read_text(encoding="utf-8").split(":")
    uid, gid = int(fields[2]), int(fields[3])
    for path in [home, *home.rglob("*")]:
        os.chown(path, uid, gid)


@pytest.fixture
def workbook(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> bytes:
    """A scheda the area filled in (a blank one is not a return)."""
    blank = next(s.path for s in schede_intermedia if s.area == AREE[1])
    target = tmp_path / "compilata.xlsx"
    fill_workbook(blank, target, [Entry("obiettivi", _first_code(blank), "note", "nota dell'area")])
    return target.read_bytes()


def test_collects_from_imap_read_only(imap: Imap, workbook: bytes, tmp_path: Path) -> None:
    _deliver(imap, "1.m1", make_eml("R: scheda LL.PP.", [("scheda compilata.xlsx", workbook)]))
    _deliver(imap, "2.m2", make_eml("Ferie", []))
    _deliver(imap, "3.m3", make_eml("R: scheda", [("copia.xlsx", workbook)], WHEN + timedelta(minutes=5)))
    _chown_tree(imap)
    output = tmp_path / "ritorni"
    env = {"SEREGNO_IMAP_PASSWORD": PASSWORD, "SEREGNO_IMAP_UTENTE": USER}
    result = run("raccogli", imap.url(), "-o", output, "--json", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    import json

    voci = json.loads(result.stdout)
    assert [v["stato"] for v in voci] == ["preso", "ignorato", "ignorato"]
    assert "«R: scheda LL.PP.»" in voci[0]["fonte"] and "area@example.org" in voci[0]["fonte"]
    assert voci[1]["motivo"] == "messaggio senza allegati"
    assert voci[2]["motivo"].startswith("già presente come Area_Lavori_Pubblici_e_Manutenzioni_")
    [saved] = output.iterdir()
    assert saved.read_bytes() == workbook
    local = WHEN.astimezone(ZoneInfo("Europe/Rome")).replace(tzinfo=None)  # the office's clock, not the server's
    assert saved.name == f"Area_Lavori_Pubblici_e_Manutenzioni_{local:%Y%m%d-%H%M%S}.xlsx"

    # The folder was opened read-only: nothing was marked as read.
    client = imaplib.IMAP4("127.0.0.1", imap.port)
    client.login(USER, PASSWORD)
    client.select("INBOX", readonly=True)
    _, flags = client.fetch("1:*", "(FLAGS)")
    client.logout()
    assert flags and all(b"\\Seen" not in f for f in flags if isinstance(f, bytes))


def test_imap_errors_are_clear(imap: Imap, tmp_path: Path) -> None:
    output = tmp_path / "ritorni"
    wrong = run("raccogli", imap.url(), "-o", output, "--imap-utente", USER, env={"SEREGNO_IMAP_PASSWORD": "no"})
    assert wrong.returncode == 2 and "accesso rifiutato" in wrong.stderr
    folder = run(
        "raccogli",
        imap.url("Inesistente"),
        "-o",
        output,
        "--imap-utente",
        USER,
        env={"SEREGNO_IMAP_PASSWORD": PASSWORD},
    )
    assert folder.returncode == 2 and "cartella «Inesistente» non trovata" in folder.stderr
    no_password = run("raccogli", imap.url(), "-o", output, "--imap-utente", USER)
    assert no_password.returncode == 2 and "SEREGNO_IMAP_PASSWORD" in no_password.stderr
