"""``solleciti``: a reminder for a missing area and for a workbook with errors, as drafts and sent."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata, generate
from seregno_xlsx.simulation import Entry, fill_workbook

from .test_posta_support import (
    AREE,
    PIANO,
    Smtp,
    attachments,
    body,
    contacts_file,
    parse,
    run,
    smtp,  # noqa: F401  (fixture)
)


@pytest.fixture(scope="module")
def schede(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> list[SchedaGenerata]:
    folder = tmp_path_factory.mktemp("schede_solleciti")
    return generate(piano, folder, rilevazione=Rilevazione.INTERMEDIA, scadenza=date(2021, 9, 30))


@pytest.fixture
def ritorni(schede: list[SchedaGenerata], tmp_path: Path) -> Path:
    """Affari Generali returned as generated (warnings only), Servizi alla Persona with an error, LL.PP. missing."""
    folder = tmp_path / "ritorni"
    folder.mkdir()
    by_area = {s.area: s.path for s in schede}
    shutil.copy(by_area[AREE[0]], folder / "ag.xlsx")
    fill_workbook(
        by_area[AREE[2]],
        folder / "persona.xlsx",
        [Entry("fasi", "Ob_Obiet093701", "data_fine_effettiva", "31/02/2021")],
    )
    (folder / "nota.xlsx").write_bytes(b"not ours")
    return folder


def test_reminders_as_drafts(ritorni: Path, schede: list[SchedaGenerata], tmp_path: Path) -> None:
    output = tmp_path / "solleciti"
    args = ["solleciti", ritorni, "--piano", PIANO, "--contatti", contacts_file(tmp_path), "-o", output]
    result = run(*args, "--schede", schede[0].path.parent)
    assert result.returncode == 0, result.stderr + result.stdout
    drafts = {p.name: parse(p.read_bytes()) for p in output.glob("*.eml")}
    assert sorted(drafts) == [
        "Sollecito_2021_Area_Lavori_Pubblici_e_Manutenzioni.eml",
        "Sollecito_2021_Area_Servizi_alla_Persona.eml",
    ]
    assert "nota.xlsx" in result.stderr

    missing = drafts["Sollecito_2021_Area_Lavori_Pubblici_e_Manutenzioni.eml"]
    assert "scheda non ancora ricevuta" in missing["Subject"] and AREE[1] in missing["Subject"]
    assert "entro il 30/09/2021" in body(missing)
    assert [a.addr_spec for a in missing["To"].addresses] == ["lavori.pubblici@example.org"]
    [(name, _, data)] = attachments(missing)  # the blank workbook again
    blank = next(s.path for s in schede if s.area == AREE[1])
    assert name == blank.name and data == blank.read_bytes()

    errors = drafts["Sollecito_2021_Area_Servizi_alla_Persona.eml"]
    assert "scheda da correggere (errori: 1)" in errors["Subject"]
    text = body(errors)
    lettura = read_workbook(ritorni / "persona.xlsx")
    cell = lettura.locate("fasi", "Ob_Obiet093701", "data_fine_effettiva")
    assert f"Foglio «{cell[0]}», cella {cell[1]}" in text and "31/02/2021" in text
    assert "1. " in text and "avvisi" in text and "persona.xlsx" in text
    [(name, content_type, data)] = attachments(errors)
    annotated = output / "persona_annotato.xlsx"
    assert name == annotated.name and data == annotated.read_bytes()
    assert content_type.endswith("spreadsheetml.sheet")
    assert read_workbook(annotated).metadati is not None
    assert "ricevuta, con avvisi" in result.stdout  # Affari Generali: no reminder


def test_reminders_sent_once_a_day(ritorni: Path, tmp_path: Path, smtp: Smtp) -> None:  # noqa: F811
    output = tmp_path / "solleciti"
    args = ["solleciti", ritorni, "--piano", PIANO, "--contatti", contacts_file(tmp_path), "-o", output]
    args += ["--invia", *smtp.args]
    result = run(*args)
    assert result.returncode == 0, result.stderr + result.stdout
    subjects = " | ".join(r.message["Subject"] for r in smtp.handler.received)
    assert len(smtp.handler.received) == 2 and AREE[1] in subjects and AREE[2] in subjects
    assert (output / "invii.jsonl").is_file()
    again = run(*args)
    assert again.returncode == 0 and len(smtp.handler.received) == 2 and "già inviato" in again.stdout


def test_invalid_workbook_is_chased_with_the_reason(
    ritorni: Path, schede: list[SchedaGenerata], piano: Piano, tmp_path: Path
) -> None:
    finale = generate(piano, tmp_path / "finale", aree=[AREE[1]], rilevazione=Rilevazione.FINALE)
    shutil.copy(finale[0].path, ritorni / "llpp.xlsx")
    output = tmp_path / "solleciti"
    result = run("solleciti", ritorni, "--piano", PIANO, "--contatti", contacts_file(tmp_path), "-o", output)
    assert result.returncode == 0, result.stderr
    message = parse((output / "Sollecito_2021_Area_Lavori_Pubblici_e_Manutenzioni.eml").read_bytes())
    assert "non è utilizzabile" in message["Subject"]
    assert "llpp.xlsx" in body(message) and "rilevazione finale" in body(message)


def test_nothing_to_chase(schede: list[SchedaGenerata], tmp_path: Path) -> None:
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for scheda in schede:
        shutil.copy(scheda.path, folder)
    result = run("solleciti", folder, "--piano", PIANO, "--contatti", contacts_file(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Nessun sollecito" in result.stdout
    assert not (folder / "solleciti").exists()
