"""README and the public surface stay true to the code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import seregno_xlsx
from seregno_xlsx.findings import CATALOGO, catalogue_markdown

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_catalogue_is_the_code_catalogue() -> None:
    start = README.index("<!-- catalogo:inizio -->") + len("<!-- catalogo:inizio -->")
    end = README.index("<!-- catalogo:fine -->")
    assert README[start:end].strip() == catalogue_markdown().strip()
    assert len(CATALOGO) == len(re.findall(r"^\| `[a-z0-9-]+` \|", README[start:end], re.M))


def commands_of_readme() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    return [line for line in blocks[0].splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_the_two_commands() -> None:
    commands = commands_of_readme()
    assert len(commands) == 2
    assert "seregno-xlsx consolida esempi/ritorni" in commands[0] and "pip install" in commands[0]
    assert 'pytest -m ""' in commands[1] and '".[dev]"' in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = commands_of_readme()[1].split("&&")[-1].strip()
    assert test_command == 'python3 -m pytest -m ""'
    assert test_command in ci.splitlines() and "ruff check" in ci and "mypy" in ci


def test_public_surface() -> None:
    assert sorted(seregno_xlsx.__all__) == sorted(
        [
            "CATALOGO",
            "Anomalia",
            "Area",
            "Classificazione",
            "Consolidamento",
            "Distribuzione",
            "ImapConfig",
            "Raccolta",
            "Sicurezza",
            "SmtpConfig",
            "Solleciti",
            "Tabelle",
            "classify",
            "collect",
            "distribute",
            "frames",
            "read_master",
            "remind",
            "Fase",
            "SchedaGenerata",
            "Gravita",
            "Indicatore",
            "Lettura",
            "MissingValue",
            "Obiettivo",
            "OutputError",
            "Persona",
            "Piano",
            "PianoCompatto",
            "PlanError",
            "Regole",
            "Rilevazione",
            "SeregnoError",
            "SourceError",
            "Verifica",
            "consolidate",
            "generate",
            "parse_exports",
            "plan_json_schema",
            "read_plan_compact",
            "read_workbook",
            "verify",
            "verify_file",
        ]
    )
    for name in seregno_xlsx.__all__:
        assert hasattr(seregno_xlsx, name), name


def test_every_catalogue_code_documented_with_severity() -> None:
    for code, voce in CATALOGO.items():
        assert f"| `{code}` | {voce.gravita} |" in README


def _library_examples() -> list[str]:
    start = README.index("## Libreria Python")
    end = README.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", README[start:end], re.S)


def test_readme_library_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example of «Libreria Python» runs as written, from a copy of the repository's folders."""
    for folder in ("esempi", "modelli"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    examples = _library_examples()
    assert len(examples) >= 5
    namespace: dict[str, object] = {}
    for example in examples:
        exec(compile(example, "README.md", "exec"), namespace)
    result = namespace["risultato"]
    assert isinstance(result, seregno_xlsx.Consolidamento) and result.master is not None
    tabelle = namespace["tabelle"]
    assert isinstance(tabelle, seregno_xlsx.Tabelle) and len(tabelle.aree) == 3
    assert (tmp_path / "uscita" / "consolidato.xlsx").is_file()
    assert len(list((tmp_path / "uscita" / "schede" / "posta").glob("*.eml"))) == 3
