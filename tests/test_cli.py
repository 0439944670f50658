"""The command line on real files: in-process for the logic, the installed script for the installation."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano, plan_json_schema
from seregno_xlsx.ritorni.verification import verify
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .cli_runner import run, run_script
from .conftest import FONTI, ROOT


def test_importa_writes_plan_and_summary(tmp_path: Path, piano: Piano) -> None:
    out = tmp_path / "piano.json"
    result = run("importa", *FONTI, "-o", out)
    assert result.returncode == 0, result.stderr
    written = Piano.from_json(out.read_text(encoding="utf-8"))
    assert written.chiave_impronta is not None  # a new key with every import
    assert written == piano.model_copy(update={"chiave_impronta": written.chiave_impronta})
    assert "Area Servizi alla Persona" in result.stdout and "testo-fase-diverso" in result.stdout
    assert '"00002311"' in out.read_text(encoding="utf-8")


def test_importa_unparseable_source(tmp_path: Path) -> None:
    broken = tmp_path / "rotto.txt"
    lines = FONTI[0].read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines) if text.startswith("Ob_Obiet") and "\t01-" in text)
    lines[line] = lines[line].replace("\t01-", "\t41-", 1)
    broken.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "piano.json"
    result = run("importa", broken, "-o", out)
    assert result.returncode == 2
    assert str(broken) in result.stderr and f"riga {line + 1}" in result.stderr
    assert not out.exists()


def test_schema_is_the_published_json_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(plan_json_schema())
    assert json.loads(result.stdout)["properties"]["anno"]["type"] == "integer"


def test_genera_one_area(tmp_path: Path) -> None:
    result = run(
        "genera",
        ROOT / "esempi" / "piano_2021.json",
        "-o",
        tmp_path,
        "--area",
        "Area Affari Generali",
        "--rilevazione",
        "finale",
        "--scadenza",
        "2022-01-31",
    )
    assert result.returncode == 0, result.stderr
    [made] = tmp_path.iterdir()
    assert made.name == "Obiettivi_2021_Area_Affari_Generali_finale.xlsx"
    text = " ".join(str(c.value) for c in openpyxl.load_workbook(made)["Istruzioni"]["A"] if c.value)
    assert "31/01/2022" in text


def test_genera_misuse_is_exit_2(tmp_path: Path) -> None:
    assert run("genera", tmp_path / "manca.json", "-o", tmp_path).returncode == 2
    assert run("genera", ROOT / "esempi" / "piano_2021.json").returncode == 2
    result = run("genera", ROOT / "esempi" / "piano_2021.json", "-o", tmp_path, "--area", "Area X")
    assert result.returncode == 2 and "Area X" in result.stderr


def test_verifica_json_equals_library_and_exit_codes(scheda_reale: Path, tmp_path: Path) -> None:
    clean = run("verifica", scheda_reale, "--json", "--data-riferimento", "2021-09-30")
    assert clean.returncode == 0, clean.stdout
    library = [r.to_json() for r in verify([scheda_reale], data_riferimento=__import__("datetime").date(2021, 9, 30))]
    assert json.loads(clean.stdout) == library

    bad = tmp_path / "bad.xlsx"
    fill_workbook(scheda_reale, bad, [Entry("fasi", "Ob_Obiet093701", "data_fine_effettiva", "31/02/2021")])
    errors = run("verifica", bad, "--json")
    assert errors.returncode == 1
    [report] = json.loads(errors.stdout)
    assert report["esito"] == "con errori"
    [finding] = [a for a in report["anomalie"] if a["codice"] == "data-non-valida"]
    assert set(finding) == {
        "codice",
        "gravita",
        "area",
        "obiettivo",
        "fase",
        "foglio",
        "cella",
        "valore",
        "messaggio",
    }
    assert (finding["foglio"], finding["valore"]) == ("Fasi", "31/02/2021")

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"%PDF-1.4 not a workbook")
    unreadable = run("verifica", junk)
    assert unreadable.returncode == 2 and "non leggibile" in unreadable.stdout


def test_verifica_annota(scheda_reale: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    fill_workbook(scheda_reale, bad, [Entry("indicatori", "Ob_Obiet093701", "prima_rilevazione", "forse")])
    result = run("verifica", bad, "--annota", tmp_path / "annotate")
    assert result.returncode == 1
    assert (tmp_path / "annotate" / "bad_annotato.xlsx").exists()


def test_consolida_json_equals_library_and_exit_codes(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for scheda in schede_intermedia:
        fill_workbook(scheda.path, folder / scheda.path.name, [])
    master = tmp_path / "consolidato.xlsx"
    args = ("consolida", folder, "-o", master, "--data-riferimento", "2021-09-30")
    ok = run(*args, "--json")
    assert ok.returncode == 0, ok.stdout
    from datetime import date

    library = consolidate(folder, master, data_riferimento=date(2021, 9, 30)).to_json()
    assert json.loads(ok.stdout) == library
    assert master.exists()

    (folder / "rotto.xlsx").write_bytes(b"garbage")
    assert run(*args).returncode == 1
    empty = tmp_path / "vuota"
    empty.mkdir()
    nothing = run("consolida", empty, "-o", tmp_path / "x.xlsx")
    assert nothing.returncode == 2 and not (tmp_path / "x.xlsx").exists()
    (tmp_path / "cartella.xlsx").mkdir()
    assert run("consolida", folder, "-o", tmp_path / "cartella.xlsx").returncode == 2  # the master path is a folder


@pytest.mark.parametrize("args", [("nonesiste",), ("consolida",), ("verifica",)])
def test_misuse_is_exit_2(args: tuple[str, ...]) -> None:
    assert run(*args).returncode == 2
    if args == ("nonesiste",):
        assert run_script(*args).returncode == 2  # the installed script too: no "Errore interno"


def test_main_job_of_readme(tmp_path: Path) -> None:
    """README's first command, on the bundled examples."""
    master = tmp_path / "consolidato.xlsx"
    result = run_script("consolida", "esempi/ritorni", "-o", master, "--piano", "esempi/piano_2021.json")
    assert result.returncode in (0, 1), result.stderr
    assert master.exists() and "valori letti" in result.stdout
    assert set(openpyxl.load_workbook(master, read_only=True).sheetnames) >= {
        "Riepilogo",
        "Obiettivi",
        "Indicatori",
        "Personale",
        "Anomalie",
        "Fonti",
    }
