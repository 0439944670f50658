"""Output problems and the audit log: a clear message, the previous master intact, everything recorded."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from seregno_xlsx import atomic, cli
from seregno_xlsx.audit import Registro, mask_secrets
from seregno_xlsx.errors import OutputError
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.scheda.generation import SchedaGenerata

from .hostile import corpus


@pytest.fixture
def folder(schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> Path:
    target = tmp_path / "in"
    target.mkdir()
    for scheda in schede_intermedia:
        (target / scheda.path.name).write_bytes(scheda.path.read_bytes())
    (target / "rotto.xlsx").write_bytes(b"PK\x03\x04rotto")
    return target


def _main(monkeypatch: pytest.MonkeyPatch, *args: object) -> int:
    monkeypatch.setattr(sys, "argv", ["seregno-xlsx", *map(str, args)])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    return int(stop.value.code or 0)


def test_output_folder_missing_and_master_is_a_folder(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="la cartella di destinazione non esiste"):
        consolidate(folder, tmp_path / "manca" / "m.xlsx")
    with pytest.raises(OutputError, match="è una cartella"):
        consolidate(folder, tmp_path)


@pytest.mark.parametrize(
    ("where", "code", "words"),
    [
        ("replace", errno.EACCES, "aperto da un altro programma"),
        ("replace", errno.ENOSPC, "disco pieno"),
        ("mkstemp", errno.EROFS, "impossibile scrivere nella cartella"),
    ],
    ids=["bloccato", "disco-pieno", "sola-lettura"],
)
def test_previous_master_intact(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    where: str, code: int, words: str,
) -> None:  # fmt: skip
    master = tmp_path / "m.xlsx"
    consolidate(folder, master)
    previous = master.read_bytes()
    inputs = corpus.digests(folder)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    if where == "replace":
        monkeypatch.setattr(atomic.os, "replace", fail)
    else:
        monkeypatch.setattr(atomic.tempfile, "mkstemp", fail)
    assert _main(monkeypatch, "consolida", folder, "-o", master) == 2
    message = capsys.readouterr().err
    assert words in message and "Traceback" not in message
    assert master.read_bytes() == previous and corpus.digests(folder) == inputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "m.xlsx"]  # no temporary left behind


def test_audit_log_of_consolida(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "registro.jsonl"
    master = tmp_path / "m.xlsx"
    assert _main(monkeypatch, "consolida", folder, "-o", master, "--registro", log, "--password-apertura", "x") == 1
    # The master's folder is a file: nothing can be done (a missing folder would be created).
    assert _main(monkeypatch, "consolida", folder, "-o", log / "m.xlsx", "--registro", log) == 2
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    first = [e for e in events if e["esecuzione"] == events[0]["esecuzione"]]
    assert [e["evento"] for e in first] == ["avvio", "rilevazione"] + ["file"] * 4 + ["scritto", "fine"]
    assert first[1]["regola"] == "la rilevazione della maggior parte delle schede"
    assert "x" not in first[0]["argomenti"] and "***" in first[0]["argomenti"]
    files = {Path(e["file"]).name: e for e in first if e["evento"] == "file"}
    assert files["rotto.xlsx"]["stato"] == "rifiutato" and files["rotto.xlsx"]["codici"] == ["file-illeggibile"]
    assert all(len(e["sha256"]) == 64 for e in files.values())
    assert first[-2]["file"] == str(master) and first[-2]["tipo"] == "master"
    assert first[-1]["uscita"] == 1
    second = [e for e in events if e["esecuzione"] != events[0]["esecuzione"]]
    assert second[-1]["evento"] == "fine" and second[-1]["uscita"] == 2
    assert "indicare una cartella" in second[-1]["messaggio"]


def test_audit_log_of_verifica(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "registro.jsonl"
    files = sorted(folder.iterdir())
    assert _main(monkeypatch, "verifica", *files, "--registro", log, "--annota", tmp_path / "annotate") == 2
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert events[0]["evento"] == "avvio" and events[-1] == {**events[-1], "evento": "fine", "uscita": 2}
    assert [Path(e["file"]).name for e in events if e["evento"] == "file"] == [f.name for f in files]
    assert {e["tipo"] for e in events if e["evento"] == "scritto"} <= {"copia annotata"}


def test_audit_log_unwritable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="registro è una cartella"), Registro(tmp_path, "verifica"):
        pass
    assert mask_secrets(["--password=abc", "--password-apertura", "x", "y"]) == [
        "--password=***",
        "--password-apertura",
        "***",
        "y",
    ]


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    """Written through a private temporary file, the output still gets the usual permissions."""
    from seregno_xlsx.atomic import atomic_write_text

    umask = os.umask(0o022)
    try:
        target = tmp_path / "piano.json"
        atomic_write_text(target, "{}")
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o640)
        atomic_write_text(target, "{}")
        assert target.stat().st_mode & 0o777 == 0o640  # an existing file keeps its own
    finally:
        os.umask(umask)
