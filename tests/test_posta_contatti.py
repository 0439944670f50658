"""The contacts file: the bundled example loads, every problem is reported at once with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from seregno_xlsx.piano.model import Piano
from seregno_xlsx.posta.contacts import ContactsError, load_contacts

from .conftest import ROOT
from .test_posta_support import AREE, CONTATTI, PIANO, contacts_file, run


@pytest.fixture(scope="module")
def piano_esempio() -> Piano:
    return Piano.from_json(PIANO.read_text(encoding="utf-8"))


def test_bundled_example_covers_the_example_plan(piano_esempio: Piano) -> None:
    rubrica = load_contacts(ROOT / "modelli" / "contatti.csv", piano_esempio)
    assert sorted(rubrica.contatti) == sorted(AREE)
    persona = rubrica.per("area servizi alla persona")
    assert [a.addr_spec for a in persona.a] == ["servizi.persona@example.org"]
    assert [a.addr_spec for a in persona.copia] == ["ufficio.servizi@example.org", "segreteria@example.org"]
    assert persona.responsabile == "Dott. Luca Rossi"
    assert all(addr.endswith("@example.org") for c in rubrica.contatti.values() for addr in c.destinatari)


def test_every_problem_is_listed_with_its_line(tmp_path: Path, piano_esempio: Piano) -> None:
    text = (
        "# commento\n"
        "area;responsabile;email;copia\n"
        f"{AREE[0]};;affari.generali@example.org;non-un-indirizzo\n"
        "Area Inesistente;;x@example.org;\n"
        f"{AREE[0]};;altro@example.org;\n"
        f"{AREE[1]};;;\n"
    )
    with pytest.raises(ContactsError) as info:
        load_contacts(contacts_file(tmp_path, text), piano_esempio)
    problems = info.value.problemi
    joined = "\n".join(problems)
    assert "riga 3" in joined and "«non-un-indirizzo» non è un indirizzo e-mail valido" in joined
    assert "riga 4: l'area «Area Inesistente» non è nel piano 2021" in joined
    assert "riga 5: l'area «Area Affari Generali» compare più di una volta" in joined
    assert f"riga 6: l'area «{AREE[1]}» non ha un indirizzo" in joined
    assert f"l'area «{AREE[2]}» del piano non ha un contatto" in joined
    assert len(problems) == 5


def test_excel_semicolons_windows_encoding_and_display_names(tmp_path: Path, piano_esempio: Piano) -> None:
    text = CONTATTI.replace("Dott. Luca Rossi", "Dott. Niccolò Rossi")
    text = text.replace("servizi.persona@example.org", "Niccolò Rossi <servizi.persona@example.org>")
    path = tmp_path / "contatti.csv"
    path.write_bytes(text.encode("cp1252"))
    rubrica = load_contacts(path, piano_esempio)
    persona = rubrica.per(AREE[2])
    assert persona.responsabile == "Dott. Niccolò Rossi"
    assert persona.a[0].display_name == "Niccolò Rossi"


def test_comma_separated_file_and_only_selected_areas(tmp_path: Path, piano_esempio: Piano) -> None:
    path = contacts_file(tmp_path, f"area,email\n{AREE[0]},ag@example.org\n")
    assert list(load_contacts(path, piano_esempio, aree=[AREE[0]]).contatti) == [AREE[0]]
    with pytest.raises(ContactsError, match="non ha un contatto"):
        load_contacts(path, piano_esempio)


def test_missing_columns(tmp_path: Path, piano_esempio: Piano) -> None:
    with pytest.raises(ContactsError, match="mancano le colonne email"):
        load_contacts(contacts_file(tmp_path, "area;indirizzo\n"), piano_esempio)


def test_cli_bad_contacts_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = contacts_file(tmp_path, CONTATTI.replace("lavori.pubblici@example.org", "lavori.pubblici@"))
    output = tmp_path / "posta"
    result = run("distribuisci", PIANO, ROOT / "esempi" / "schede", "--contatti", bad, "-o", output)
    assert result.returncode == 2
    assert "riga 3" in result.stderr and "«lavori.pubblici@» non è un indirizzo e-mail valido" in result.stderr
    assert not output.exists()


def test_contacts_saved_as_a_workbook_say_how_to_save_them(tmp_path: Path, piano_esempio: Piano) -> None:
    """README: the file «si apre e si salva con Excel»; a plain «Salva» of a workbook said only
    «mancano le colonne area, email»."""
    import openpyxl

    from seregno_xlsx.errors import SeregnoError

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["area", "responsabile", "email", "copia"])
    sheet.append([AREE[0], "Dott.ssa Anna Bianchi", "affari.generali@example.org", ""])
    target = tmp_path / "contatti.xlsx"
    workbook.save(target)
    with pytest.raises(SeregnoError, match="è una cartella di lavoro di Excel o LibreOffice, non un CSV") as caught:
        load_contacts(target, piano_esempio)
    assert "CSV (delimitato dal separatore di elenco)" in caught.value.messaggio, "says how to save it"
