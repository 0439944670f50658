"""The command line as an office worker meets it, through the INSTALLED console script.

Usage mistakes in Italian with exit 2, help in Italian, dates gg/mm/aaaa, verifica on folders and
wildcards it expands itself, outputs that never overwrite an open workbook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from .conftest import ROOT

# Through the installed console script, one process per case: in the full run (`pytest -m ""`, CI).
pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).parent / "seregno-xlsx"
PIANO = ROOT / "esempi" / "piano_2021.json"
RITORNI = ROOT / "esempi" / "ritorni"
ENGLISH = re.compile(r"\b(Usage|Error|Options|Arguments|Commands|Try|required|default|Show|Missing|No such)\b")
COMMANDS = ["importa", "schema", "genera", "distribuisci", "raccogli", "solleciti", "verifica", "consolida"]


def cli(*args: str | Path, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), "the console script is installed (pip install -e .)"
    result = subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=300,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["consolida", "ritorni", "-o", "x.xlsx", "--pesi-uguale"],
            ["l'opzione --pesi-uguale non esiste", "Forse intendevi --pesi-uguali?"],
        ),
        (["consolidaa", "ritorni"], ["il comando «consolidaa» non esiste", "Forse intendevi «consolida»?"]),
        (["consolida"], ["manca CARTELLA"]),
        (["consolida", "ritorni"], ["manca l'opzione -o FILE"]),
        (["verifica"], ["manca FILE"]),
        (
            ["genera", "piano.json", "-o", "schede", "--rilevazione", "boh"],
            ["--rilevazione: «boh» non è un valore ammesso", "intermedia, finale"],
        ),
        (["genera", "piano.json", "-o"], ["dopo -o manca il valore: scrivere -o CARTELLA"]),
        (["consolida", "ritorni", "--json=si", "-o", "x.xlsx"], ["l'opzione --json non vuole un valore"]),
        (
            ["distribuisci", "p.json", "schede", "--contatti", "c.csv", "--smtp-porta", "abc"],
            ["--smtp-porta: «abc» non è un numero intero"],
        ),
        (["consolida", "Schede", "ricevute", "-o", "x.xlsx"], ["parole in più", "«ricevute»", "tra virgolette"]),
        (["--versione"], ["l'opzione --versione non esiste"]),
        (["--"], ["manca il comando: scrivere uno di: importa, schema, genera"]),
    ],
)
def test_every_usage_mistake_is_italian_exit_2(args: list[str], expected: list[str], tmp_path: Path) -> None:
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("Errore: "), result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Per l'aiuto: seregno-xlsx" in result.stderr
    assert "Errore interno" not in result.stderr
    assert not ENGLISH.search(result.stderr), result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_bare_command_shows_the_italian_help_exit_2() -> None:
    result = cli()
    assert result.returncode == 2
    assert result.stdout.startswith("Uso: seregno-xlsx COMANDO [OPZIONI]")
    listed = re.findall(r"^  ([a-z]+) ", result.stdout.split("Comandi:")[1], re.M)
    assert listed[: len(COMMANDS)] == COMMANDS  # in the order of the cycle


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_is_entirely_italian(command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.returncode == 0
    text = result.stdout
    assert text.startswith("Uso: seregno-xlsx") and "--help  " in text and "Mostra questo aiuto ed esce." in text
    assert not ENGLISH.search(text), text
    assert not re.search(r"<\w|\{\w|list\[|Path\b|\bstr\b|\bint\b|\bbool\b", text), text  # never a Python type
    # One naming style: arguments and values are words in capitals (FILE, CARTELLA, GG/MM/AAAA) or choices.
    usage = text.splitlines()[0].removeprefix(f"Uso: seregno-xlsx {' '.join(command)}").split()
    for word in usage:
        assert re.fullmatch(r"\[OPZIONI\]|-{1,2}[a-z-]+|[A-Z/]+(\.\.\.)?", word), word
    for metavar in re.findall(r"^  (?:-\w, )?--[a-z0-9-]+ (\S+)", text, re.M):
        assert re.fullmatch(r"[A-Z]+(/[A-Z]+)*|[a-z]+(\|[a-z]+)+", metavar), metavar
    if command and command[0] in ("consolida", "genera"):
        flat = " ".join(text.split())
        assert "[obbligatorio]" in flat and "[predefinito: " in flat


def test_dates_in_the_office_form(tmp_path: Path) -> None:
    area = ["--area", "Area Affari Generali"]
    for typed in ("31/01/2022", "2022-01-31", "31.01.2022"):
        out = tmp_path / typed.replace("/", "_")
        result = cli("genera", PIANO, "-o", out, *area, "--scadenza", typed)
        assert result.returncode == 0, result.stderr
        [made] = out.iterdir()
        text = " ".join(str(c.value) for c in openpyxl.load_workbook(made)["Istruzioni"]["A"] if c.value)
        assert "31/01/2022" in text
    for typed, why in (("2022/31/01", "non è una data;"), ("31/02/2022", "non è una data esistente"), ("1/22", "")):
        result = cli("genera", PIANO, "-o", tmp_path / "no", *area, "--scadenza", typed)
        assert result.returncode == 2
        assert f"--scadenza: «{typed}» {why}" in result.stderr and "gg/mm/aaaa" in result.stderr
    assert not (tmp_path / "no").exists()


def test_verifica_expands_folders_and_wildcards_itself(tmp_path: Path) -> None:
    """No shell here, as in Windows' cmd: the pattern reaches the program as typed."""
    (tmp_path / "~$Obiettivi.xlsx").write_bytes(b"Excel's lock file")
    for args in ([RITORNI], [f"{RITORNI}/*.xlsx"], [f"{RITORNI}/Obiettivi_2021_Area_*", f"{RITORNI}/*.xlsx"]):
        result = cli("verifica", *args, "--data-riferimento", "30/09/2021")
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("Obiettivi_2021_Area_") >= 3
        last = result.stdout.strip().splitlines()[-1]
        assert last == "File verificati 3: conformi 0, con avvisi 3, con errori 0, non leggibili 0.", last
        assert "Area Affari Generali" in result.stdout and "dove" in result.stdout
    nothing = cli("verifica", tmp_path / "mancanti*.xlsx")
    assert nothing.returncode == 2 and "nessun file corrisponde" in nothing.stderr
    for only_locks in (tmp_path, tmp_path / "*.xlsx"):  # lock files of Office are never schede
        empty = cli("verifica", only_locks)
        assert empty.returncode == 2 and "nessuna scheda da verificare" in empty.stderr


def test_finding_tables_name_area_and_file(tmp_path: Path) -> None:
    result = cli("consolida", RITORNI, "-o", tmp_path / "m.xlsx", "--data-riferimento", "30/09/2021")
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("Anomalie")[1]
    assert "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx" in table and "Area Affari Generali" in table


@pytest.mark.parametrize("lock", ["~$consolidato.xlsx", ".~lock.consolidato.xlsx#", "~$nsolidato.xlsx"])
def test_never_overwrites_a_workbook_open_in_excel_or_libreoffice(tmp_path: Path, lock: str) -> None:
    master = tmp_path / "consolidato.xlsx"
    master.write_bytes(b"the master someone is reading")
    (tmp_path / lock).write_bytes(b"")
    result = cli("consolida", RITORNI, "-o", master)
    assert result.returncode == 2
    assert "aperto in Excel o LibreOffice" in result.stderr and lock in result.stderr
    assert master.read_bytes() == b"the master someone is reading"


def test_output_names_and_missing_folders(tmp_path: Path) -> None:
    refused = cli("consolida", RITORNI, "-o", tmp_path / "master.xls")
    assert refused.returncode == 2 and "termina in .xlsx" in refused.stderr
    assert not list(tmp_path.iterdir())
    named = cli("consolida", RITORNI, "-o", tmp_path / "nuova cartella" / "sotto" / "master")
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "nuova cartella" / "sotto" / "master.xlsx").exists()
    assert "il file si chiama" in named.stderr and "master.xlsx" in named.stderr
    rules = ROOT / "esempi" / "regole_indicatori.toml"  # the example's indicator rules
    plan = cli("importa", ROOT / "esempi" / "fonti", "-o", tmp_path / "piani" / "piano_2021", "--regole", rules)
    assert plan.returncode == 0, plan.stderr
    written = json.loads((tmp_path / "piani" / "piano_2021.json").read_text(encoding="utf-8"))
    example = json.loads(PIANO.read_text(encoding="utf-8"))
    # The office set some shares of time in the example plan (esempi/genera_esempi.py, SHARES).
    for area in example["aree"]:
        for obiettivo in area["obiettivi"]:
            for persona in obiettivo["risorse_umane"]:
                persona["quota"] = None
    # The same plan; each import creates its own fingerprint key.
    assert written.pop("chiave_impronta") != example.pop("chiave_impronta")
    assert written == example


def test_a_console_that_is_not_utf8_prints_without_failing(tmp_path: Path) -> None:
    result = cli("genera", PIANO, "-o", tmp_path, "--area", "Area Affari Generali", PYTHONIOENCODING="cp1252")
    assert result.returncode == 0, result.stderr
    assert "Area Affari Generali" in result.stdout


def test_internal_error_names_the_log_of_the_traceback(tmp_path: Path) -> None:
    """A real bug (here a command that divides by zero) is the only «Errore interno»."""
    code = (
        "import sys; from seregno_xlsx.cli import app, main\n"
        "@app.command('guasto')\n"
        "def guasto() -> None:\n"
        "    1 / 0\n"
        "main(['guasto'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "TMPDIR": str(tmp_path)}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Errore interno" in result.stderr and "ZeroDivisionError" in result.stderr
    [log] = tmp_path.glob("seregno-xlsx-errore-*.log")
    assert str(log) in result.stderr.replace("\n", "")
    assert "Traceback" in log.read_text(encoding="utf-8") and "in guasto" in log.read_text(encoding="utf-8")
