"""Hostile and broken files: each refused or read with an Italian message, nothing lost, nothing run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.bounds import UnreadableFile
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.ritorni.workbook_file import open_grid
from seregno_xlsx.scheda.generation import SchedaGenerata, generate

from .cli_runner import run
from .conftest import ROOT
from .hostile import corpus

Builder = Callable[[Path, Path], Path]
PEAK_MB = 300


def _write(data: bytes) -> Builder:
    def build(scheda: Path, target: Path) -> Path:
        target.write_bytes(data)
        return target

    return build


def _truncated(scheda: Path, target: Path) -> Path:
    data = scheda.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def _corrupted(scheda: Path, target: Path) -> Path:
    """Bytes flipped inside the compressed sheet data, the central directory intact."""
    data = bytearray(scheda.read_bytes())
    middle = len(data) // 3
    for i in range(middle, middle + 64):
        data[i] ^= 0x5A
    target.write_bytes(bytes(data))
    return target


def _folder(scheda: Path, target: Path) -> Path:
    target.mkdir()
    return target


NOT_WORKBOOKS: dict[str, tuple[Builder, str, str]] = {
    "vuoto": (_write(b""), "file-illeggibile", "vuoto"),
    "troncato": (_truncated, "file-illeggibile", "danneggiato"),
    "corrotto": (_corrupted, "file-illeggibile", "danneggiato"),
    "ole-rotto": (_write(corpus_ole := b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "file-illeggibile", "OLE"),
    "csv": (_write(b"Codice;Valore\nOb_1;80,5\n"), "file-illeggibile", "CSV"),
    "pdf": (_write(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"), "file-illeggibile", "PDF"),
    "html": (_write(b"<html><body><table><tr><td>1</td></tr></table></body></html>"), "file-illeggibile", "HTML"),
    "binario": (_write(bytes(range(256)) * 4), "file-illeggibile", "non è una cartella di lavoro"),
    "zip-non-excel": (
        lambda s, t: corpus.write_zip(t, {"leggimi.txt": b"ciao"}),
        "file-illeggibile",
        "non contiene una cartella di lavoro",
    ),
    "cartella": (_folder, "file-illeggibile", "cartella"),
}


@pytest.mark.parametrize("case", list(NOT_WORKBOOKS))
def test_not_a_workbook_is_refused_in_italian(case: str, scheda_reale: Path, tmp_path: Path) -> None:
    build, code, words = NOT_WORKBOOKS[case]
    target = build(scheda_reale, tmp_path / f"{case}.xlsx")
    before = corpus.digests(tmp_path)
    lettura = verify_file(target)
    assert not lettura.leggibile and lettura.esito == "non leggibile"
    assert [a.codice for a in lettura.anomalie] == [code]
    assert words in lettura.anomalie[0].messaggio
    assert lettura.anomalie[0].valore == target.name  # the message names the file
    assert corpus.digests(tmp_path) == before


def test_cli_on_every_bad_file_exit_2_no_traceback(scheda_reale: Path, tmp_path: Path) -> None:
    paths = [build(scheda_reale, tmp_path / f"{case}.xlsx") for case, (build, _, _) in NOT_WORKBOOKS.items()]
    before = corpus.digests(tmp_path)
    result = _run("verifica", *paths, "--json")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert [Path(r["file"]).name for r in report] == [p.name for p in paths]
    assert all(r["esito"] == "non leggibile" for r in report)
    assert corpus.digests(tmp_path) == before


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice non installato")
def test_real_xls_is_named_as_such(scheda_reale: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "xls",
            "--outdir",
            str(out),
            str(scheda_reale),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    renamed = tmp_path / "vecchio.xlsx"
    (out / scheda_reale.with_suffix(".xls").name).rename(renamed)
    lettura = verify_file(renamed)
    assert [a.codice for a in lettura.anomalie] == ["file-illeggibile"]
    assert "Excel 97-2003 (.xls)" in lettura.anomalie[0].messaggio


# --- 2. encrypted ------------------------------------------------------------------------------------


@pytest.fixture
def cifrata(scheda_reale: Path, tmp_path: Path) -> Path:
    return corpus.encrypt(scheda_reale, tmp_path / scheda_reale.name, "Segreta!1")


def test_encrypted_without_password(cifrata: Path) -> None:
    lettura = verify_file(cifrata)
    assert [a.codice for a in lettura.anomalie] == ["file-protetto-password"]
    assert "protetto da password di apertura" in lettura.anomalie[0].messaggio


def test_encrypted_with_wrong_password(cifrata: Path) -> None:
    lettura = verify_file(cifrata, password_apertura="sbagliata")
    assert [a.codice for a in lettura.anomalie] == ["file-protetto-password"]
    assert "password di apertura indicata non è corretta" in lettura.anomalie[0].messaggio


def test_encrypted_with_password_is_read_like_the_plain_one(cifrata: Path, scheda_reale: Path) -> None:
    before = cifrata.read_bytes()
    grid = open_grid(cifrata, password="Segreta!1")
    assert grid.decrypted and grid.sheets == open_grid(scheda_reale).sheets
    lettura = verify_file(cifrata, password_apertura="Segreta!1")
    plain = verify_file(scheda_reale)
    assert lettura.compilata == plain.compilata and lettura.esito == plain.esito
    assert lettura.file == cifrata and lettura.sha256 != plain.sha256  # the file as received
    assert cifrata.read_bytes() == before


def test_encrypted_through_cli_option_and_environment(cifrata: Path, tmp_path: Path) -> None:
    refused = _run("verifica", cifrata)
    assert refused.returncode == 2 and "protetto da password di apertura" in refused.stdout
    by_option = _run("verifica", cifrata, "--password-apertura", "Segreta!1", "--json")
    by_env = _run("verifica", cifrata, "--json", env={"SEREGNO_XLSX_PASSWORD_APERTURA": "Segreta!1"})
    assert by_option.returncode == by_env.returncode == 0
    assert json.loads(by_option.stdout) == json.loads(by_env.stdout)


def test_encrypted_in_consolidation(schede_intermedia: list[SchedaGenerata], cifrata: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.move(cifrata, folder / cifrata.name)
    refused = consolidate(folder, tmp_path / "m.xlsx")
    assert refused.master is None and refused.fonti[0].stato == "rifiutato"
    accepted = consolidate(folder, tmp_path / "m.xlsx", password_apertura="Segreta!1")
    assert accepted.master is not None and accepted.fonti[0].stato == "accettato"


# --- 3. macros ---------------------------------------------------------------------------------------


def test_xlsm_is_read_as_data_and_macros_never_run(scheda_reale: Path, tmp_path: Path) -> None:
    xlsm = corpus.as_xlsm(scheda_reale, tmp_path / "con_macro.xlsm")
    grid = open_grid(xlsm)
    assert grid.has_macros and grid.active_content == ["progetto VBA", "fogli macro Excel 4"]
    lettura = verify_file(xlsm)
    assert lettura.compilata == verify_file(scheda_reale).compilata
    [macro] = [a for a in lettura.anomalie if a.codice == "macro-presenti"]
    assert macro.gravita == "avviso" and "non eseguite" in macro.messaggio
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(xlsm, folder / xlsm.name)
    result = consolidate(folder, tmp_path / "m.xlsx")
    assert [f.stato for f in result.fonti] == ["accettato"]


# --- 4. bombs ----------------------------------------------------------------------------------------

# VmHWM is the peak of this process's own memory since exec (ru_maxrss would include the parent's).
_PROBE = """
import sys
from pathlib import Path
from seregno_xlsx.ritorni.reader import read_workbook
lettura = read_workbook(Path(sys.argv[1]))
status = Path("/proc/self/status").read_text()
peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) // 1024
print(" ".join(a.codice for a in lettura.anomalie), peak)
"""


Bomb = Callable[[str], tuple[Path, str]]


@pytest.fixture(scope="session")
def bomb(schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory) -> Bomb:
    """Each bomb built once for the session, when first asked for: they are large, and only read."""
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    folder = tmp_path_factory.mktemp("bombe")
    builders: dict[str, Callable[[], tuple[Path, str]]] = {
        "zip-bomb": lambda: (corpus.zip_bomb(folder / "bomba.xlsx"), "file-troppo-grande"),
        "dimensione-falsa": lambda: (
            corpus.lying_zip(folder / "falsa.xlsx", b"<worksheet><sheetData>" + b" " * 59_999_978, 1_000),
            "file-troppo-grande",
        ),
        "billion-laughs": lambda: (
            corpus.with_prolog(scheda, folder / "laughs.xlsx", corpus.BILLION_LAUGHS),
            "file-illeggibile",
        ),
        "entita-esterna": lambda: (
            corpus.with_prolog(scheda, folder / "xxe.xlsx", corpus.EXTERNAL_ENTITY),
            "file-illeggibile",
        ),
    }
    built: dict[str, tuple[Path, str]] = {}

    def get(case: str) -> tuple[Path, str]:
        if case not in built:
            built[case] = builders[case]()
        return built[case]

    return get


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="serve /proc (Linux)")
@pytest.mark.parametrize("case", ["zip-bomb", "dimensione-falsa", "billion-laughs", "entita-esterna"])
def test_bombs_refused_within_memory_bound(case: str, bomb: Bomb) -> None:
    path, code = bomb(case)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    codes, peak = result.stdout.strip().rsplit(" ", 1)
    assert codes == code
    assert int(peak) < PEAK_MB, f"{case}: picco di memoria {peak} MB"


def test_bomb_message_is_italian(bomb: Bomb, tmp_path: Path) -> None:
    # A smaller bomb than the session's: enough to pass the limits, quick to build.
    with pytest.raises(UnreadableFile, match="limiti di sicurezza"):
        open_grid(corpus.zip_bomb(tmp_path / "bomba.xlsx", 64 * 1024 * 1024))
    with pytest.raises(UnreadableFile, match="non è sicura"):
        open_grid(bomb("entita-esterna")[0])


# --- 5. not the right workbook ----------------------------------------------------------------------


def test_other_plan_other_year_with_piano(piano: Piano, tmp_path: Path) -> None:
    [altro] = generate(piano.model_copy(update={"anno": 2022}), tmp_path / "altro", aree=["Area Affari Generali"])
    lettura = verify_file(altro.path, piano=piano)
    [diverso] = [a for a in lettura.anomalie if a.codice == "piano-diverso"]
    assert "2022" in diverso.messaggio and "2021" in diverso.messaggio


def test_other_area_than_file_name(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> None:
    persona = next(s for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    altra = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    target = tmp_path / altra.path.name
    shutil.copy(persona.path, target)
    [nome] = [a for a in verify_file(target).anomalie if a.codice == "nome-file-area-diversa"]
    assert target.name in nome.messaggio and "Area Servizi alla Persona" in nome.messaggio


def test_older_template_version(scheda_reale: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    for row in wb["Metadati"].iter_rows():
        if isinstance(row[1].value, str):
            row[1].value = row[1].value.replace('"versione_modello":"1"', '"versione_modello":"0"')
        if row[0].value == "versione_modello":
            row[1].value = "0"
    target = tmp_path / "vecchia.xlsx"
    wb.save(target)
    lettura = verify_file(target)
    [versione] = [a for a in lettura.anomalie if a.codice == "versione-modello-diversa"]
    assert "Versione del modello 0" in versione.messaggio
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.move(target, folder / target.name)
    assert [f.stato for f in consolidate(folder, tmp_path / "m.xlsx").fonti] == ["rifiutato"]


def test_workbook_not_ours(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Bilancio"
    wb.save(tmp_path / "bilancio.xlsx")
    lettura = verify_file(tmp_path / "bilancio.xlsx")
    assert [a.codice for a in lettura.anomalie] == ["file-non-riconosciuto"]


# --- 8. duplicates and noise ------------------------------------------------------------------------


def test_duplicates_lock_files_and_non_ascii_names(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    shutil.copy(scheda.path, folder / scheda.path.name)
    shutil.copy(scheda.path, folder / "copia identica – Città di Seregno ü 日本.xlsx")
    shutil.copy(scheda.path, folder / f"~${scheda.path.name}")
    (folder / f".~lock.{scheda.path.name}#").write_text("utente,macchina")
    before = corpus.digests(folder)
    result = consolidate(folder, tmp_path / "m.xlsx")
    # Lock files are listed as ignored, with why: nothing in the folder goes unmentioned.
    assert sorted(f.stato for f in result.fonti) == ["accettato", "ignorato", "ignorato", "sostituito"]
    assert any("copia identica" in f.motivo for f in result.fonti)
    assert result.master is not None and corpus.digests(folder) == before


def test_two_files_for_one_area_nothing_lost(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    shutil.copy(scheda.path, folder / "a.xlsx")
    shutil.copy(scheda.path, folder / "b.xlsx")
    os.utime(folder / "a.xlsx", (1, 1))
    result = consolidate(folder, tmp_path / "m.xlsx")
    assert sorted(f.stato for f in result.fonti) == ["accettato", "sostituito"]
    assert "file-sostituito" in {a.codice for a in result.anomalie}


def _run(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(*map(str, args), env={"COLUMNS": "200", **(env or {})})
