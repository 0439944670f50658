"""A really full disk under every command that writes (issue 14, point 6): an Italian message, exit 2,
the previous output intact and no temporary file left.

The writers differ in how they meet the full disk: ``genera``, the annotated copies and the master write
with XlsxWriter (its FileCreateError, raised when the archive is written), the plan and the drafts as
text, ``raccogli`` a copy of the attachment, the audit log by appending. Each is run on a real tmpfs
with 0 bytes, a few pages, and about one scheda's worth free, so that the write fails at its start, in
its middle and at its end.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from .hostile.disk import ROOT_ONLY, Mount, fill
from .hostile.round2 import cli, previous_master

pytestmark = [pytest.mark.slow, ROOT_ONLY]

ESEMPI = Path(__file__).resolve().parent.parent / "esempi"
PIANO = ESEMPI / "piano_2021.json"
# One whole page: a file that ends inside a page would leave room to append to it (the audit log).
PREVIOUS = b"uscita precedente\n".ljust(4096, b" ")
# A previous output that a command may replace is one of its own kind (the commands refuse to replace
# anything else): the same plan, a blank scheda of ours, a master, an audit log; one whole page for the log.
_LOG_LINE = (
    b'{"ora": "2021-09-30T10:00:00+02:00", "esecuzione": "precedente", "comando": "verifica", "evento": "fine"}\n'
)


def _previous(target: Path) -> bytes:
    if target.suffix == ".json":
        return PIANO.read_bytes()
    if target.parent.name == "schede":
        return (ESEMPI / "schede" / target.name).read_bytes()
    if target.suffix == ".jsonl":
        return _LOG_LINE.ljust(4096, b" ")
    if target.name == "consolidato.xlsx":
        return previous_master()
    return PREVIOUS


# Free space left on the disk: none, a few pages, about a small scheda (tmpfs counts 4 KiB pages).
FREE = (0, 12_000, 20_000)


def _importa(disk: Path) -> tuple[list[object], Path]:
    target = disk / "piano.json"
    return ["importa", ESEMPI / "fonti" / "area_affari_generali_2021.txt", "-o", target], target


def _genera(disk: Path) -> tuple[list[object], Path]:
    folder = disk / "schede"
    return ["genera", PIANO, "-o", folder], folder / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"


def _consolida(disk: Path) -> tuple[list[object], Path]:
    target = disk / "consolidato.xlsx"
    return ["consolida", ESEMPI / "ritorni", "-o", target, "--piano", PIANO], target


def _annota(disk: Path) -> tuple[list[object], Path]:
    folder = disk / "annotate"
    reply = ESEMPI / "ritorni" / "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia.xlsx"
    # An earlier annotated copy: the new one never replaces it, and a failed one leaves no trace.
    return [
        "verifica",
        reply,
        "--annota",
        folder,
    ], folder / "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia_annotato.xlsx"


def _raccogli(disk: Path) -> tuple[list[object], Path]:
    folder = disk / "ritorni"
    return ["raccogli", ESEMPI / "posta_ricevuta", "-o", folder, "--piano", PIANO], folder / "ricevuto_prima.xlsx"


def _solleciti(disk: Path) -> tuple[list[object], Path]:
    # No return at all: every area gets a draft with its blank scheda attached again.
    empty = disk.parent / "nessun_ritorno"
    empty.mkdir(exist_ok=True)
    folder = disk / "solleciti"
    command: list[object] = [
        "solleciti",
        empty,
        "--piano",
        PIANO,
        "--contatti",
        ESEMPI.parent / "modelli" / "contatti.csv",
    ]
    return [*command, "--schede", ESEMPI / "schede", "-o", folder], folder / "sollecito_precedente.eml"


def _registro(disk: Path) -> tuple[list[object], Path]:
    target = disk / "registro.jsonl"
    return ["verifica", ESEMPI / "ritorni", "--registro", target], target


Command = Callable[[Path], tuple[list[object], Path]]
# Each command, and the free spaces its output does not fit in (the plan is 11 KB, a log line 0.5 KB).
COMMANDS: dict[str, tuple[Command, tuple[int, ...]]] = {
    "importa (testo)": (_importa, (0, 4_000)),
    "genera (XlsxWriter)": (_genera, FREE),
    "consolida (XlsxWriter)": (_consolida, FREE),
    "verifica --annota (XlsxWriter)": (_annota, FREE),
    "raccogli (copia dell'allegato)": (_raccogli, FREE),
    "solleciti (messaggi e allegati)": (_solleciti, FREE),
    "--registro (in aggiunta)": (_registro, (0,)),
}
CASES = [pytest.param(c, free, id=f"{name}-{free}") for name, (c, frees) in COMMANDS.items() for free in frees]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("command", "free"), CASES)
def test_full_disk_under_every_command_that_writes(small_disk: Mount, command: Command, free: int) -> None:
    disk = small_disk("size=1m")
    args, previous = command(disk)
    previous.parent.mkdir(parents=True, exist_ok=True)
    content = _previous(previous)
    previous.write_bytes(content)
    fill(disk, free)
    before = _tree(disk)

    result = cli(*args)

    assert result.returncode == 2, result.stdout[-2000:] + result.stderr
    assert "disco pieno" in result.stderr, result.stderr
    assert previous.read_bytes() == content
    after = _tree(disk)
    for name, data in after.items():
        # No temporary file left; whatever was written before the disk filled is whole.
        assert not Path(name).name.startswith("."), name
        if name in before:
            assert data == before[name], name
        elif name.endswith(".xlsx"):
            openpyxl.load_workbook(disk / name).close()


@ROOT_ONLY
def test_full_disk_while_the_disk_empties_again(small_disk: Mount, tmp_path: Path) -> None:
    """After the failure nothing is in the way: freeing the disk and running again writes the output."""
    disk = small_disk("size=1m")
    args, previous = _genera(disk)
    previous.parent.mkdir(parents=True)
    previous.write_bytes(_previous(previous))
    fill(disk, 0)
    assert cli(*args).returncode == 2
    (disk / "riempitivo").unlink()
    assert cli(*args).returncode == 0
    assert {p.name for p in previous.parent.iterdir()} == {
        "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx",
        "Obiettivi_2021_Area_Lavori_Pubblici_e_Manutenzioni_intermedia.xlsx",
        "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia.xlsx",
    }
    openpyxl.load_workbook(previous).close()
    shutil.rmtree(previous.parent)
