"""Start, drive and stop one headless soffice for the test session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = Path("/usr/bin/python3")
DRIVER = Path(__file__).with_name("driver.py")
JOB_TIMEOUT = 240

# A private profile: Italian locale (dates and decimals typed as in the office), and the
# defaults made explicit: never recalculate xlsx or ods on loading (1 = never).
PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>it-IT</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse">
<value>false</value></prop></item>
</oor:items>
"""


def unavailable() -> str | None:
    """Why LibreOffice tests cannot run here, or None."""
    if shutil.which("soffice") is None:
        return "LibreOffice (soffice) non installato: apt-get install libreoffice-calc-nogui"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} assente"
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import uno"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        return "modulo uno assente nel Python di sistema: apt-get install python3-uno"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DriverError(RuntimeError):
    pass


class Soffice:
    """One soffice process (its own process group, profile and port) and the jobs run against it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.profile = workdir / "profilo"
        (self.profile / "user").mkdir(parents=True, exist_ok=True)
        (self.profile / "user" / "registrymodifications.xcu").write_text(PROFILE, encoding="utf-8")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "soffice.log"

    def start(self) -> None:
        soffice = shutil.which("soffice")
        assert soffice is not None
        accept = f"socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext"
        command = [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
                   "--nolockcheck", f"-env:UserInstallation={self.profile.as_uri()}", f"--accept={accept}"]  # fmt: skip
        with self.log.open("ab") as log:
            # A new session: soffice and its children form a process group we stop as one.
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._job("ping", None, 120)

    def run(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = JOB_TIMEOUT) -> Any:
        """Run one driver job; if soffice itself crashed (LibreOffice 7.4 headless occasionally does
        while saving), start a fresh one and run the job again, once: every job is idempotent."""
        try:
            return self._job(command, args, timeout)
        except DriverError:
            if command == "terminate":
                raise
            self.stop()
            self.port = free_port()
            self.start()
            return self._job(command, args, timeout)

    def _job(self, command: str, args: dict[str, Any] | None, timeout: float) -> Any:
        if self.process is not None and self.process.poll() is not None:
            raise DriverError(f"soffice è terminato (codice {self.process.returncode}): {self.log.read_text()}")
        done = subprocess.run(
            [str(SYSTEM_PYTHON), str(DRIVER), str(self.port), command],
            input=json.dumps(args or {}, ensure_ascii=False).encode(),
            capture_output=True,
            timeout=timeout,
            env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        )
        if done.returncode != 0:
            raise DriverError(
                f"driver {command} fallito (codice {done.returncode}):\n{done.stderr.decode(errors='replace')}"
            )
        return json.loads(done.stdout)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self._job("terminate", None, 30)
                self.process.wait(timeout=30)
        except (DriverError, subprocess.TimeoutExpired):
            pass
        finally:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=10)
                    time.sleep(0.2)
                except subprocess.TimeoutExpired:
                    continue
            self.process = None
