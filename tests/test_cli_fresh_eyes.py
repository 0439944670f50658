"""Mistakes an office worker makes, found using the product as README tells: each one a clear Italian
message that names the file, exit 2, and nothing the command reads touched."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from .cli_runner import run
from .conftest import ROOT

PIANO = ROOT / "esempi" / "piano_2021.json"
RITORNI = ROOT / "esempi" / "ritorni"
CONTATTI = ROOT / "modelli" / "contatti.csv"
# What the system says in English when a message passes its error text through.
ENGLISH = re.compile(r"No such file|Is a directory|File exists|Connection refused|Errno|Not a directory|Permission")


@pytest.fixture
def ritorni(tmp_path: Path) -> Path:
    folder = tmp_path / "ritorni"
    shutil.copytree(RITORNI, folder)
    return folder


@pytest.mark.parametrize("command", ["verifica", "consolida"])
def test_the_audit_log_never_writes_into_a_received_scheda(ritorni: Path, tmp_path: Path, command: str) -> None:
    """«--registro» given the name of a scheda (a slip of the tab key) appended JSON lines to the
    received file, and its new time made it «the last received»."""
    scheda = sorted(ritorni.glob("*.xlsx"))[0]
    before = scheda.read_bytes()
    args = [scheda] if command == "verifica" else [ritorni, "-o", tmp_path / "m.xlsx"]
    result = run(command, *args, "--registro", scheda)
    assert result.returncode == 2, result.stdout
    assert f"{scheda}: il file esiste e non è un registro di seregno-xlsx" in result.stderr
    assert scheda.read_bytes() == before
    assert not (tmp_path / "m.xlsx").exists()


def test_the_audit_log_never_writes_into_the_plan(tmp_path: Path) -> None:
    piano = tmp_path / "piano_2021.json"
    piano.write_bytes(PIANO.read_bytes())
    result = run("verifica", RITORNI, "--piano", piano, "--registro", piano)
    assert result.returncode == 2 and "non è un registro" in result.stderr
    assert piano.read_bytes() == PIANO.read_bytes()


def test_an_existing_audit_log_grows_run_after_run(tmp_path: Path) -> None:
    log = tmp_path / "registro.jsonl"
    log.write_text("", encoding="utf-8")  # an empty file is a log not yet started
    scheda = sorted(RITORNI.glob("*.xlsx"))[0]
    for _ in range(2):
        assert run("verifica", scheda, "--registro", log).returncode in (0, 1)
    starts = [line for line in log.read_text(encoding="utf-8").splitlines() if '"avvio"' in line]
    assert len(starts) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["importa", "manca.txt", "-o", "p.json"],
            "manca.txt: impossibile leggere il file (file o cartella inesistente)",
        ),
        (["genera", "{dir}", "-o", "schede"], "impossibile leggere il piano (è una cartella)"),
        (
            ["distribuisci", PIANO, "schede", "--contatti", "{dir}"],
            "impossibile leggere i contatti (è una cartella)",
        ),
    ],
    ids=["fonte-mancante", "piano-cartella", "contatti-cartella"],
)
def test_system_errors_are_said_in_italian(tmp_path: Path, args: list[str | Path], expected: str) -> None:
    folder = tmp_path / "cartella"
    folder.mkdir()
    (tmp_path / "schede").mkdir()
    filled = [str(a).replace("{dir}", str(folder)) for a in args]
    result = run(*filled, cwd=tmp_path)
    assert result.returncode == 2
    assert expected.replace("{dir}", str(folder)) in result.stderr
    assert not ENGLISH.search(result.stderr), result.stderr


def test_an_unreachable_mail_server_is_said_in_italian(tmp_path: Path) -> None:
    schede = tmp_path / "schede"
    assert run("genera", PIANO, "-o", schede, "--area", "Area Affari Generali").returncode == 0
    with socket.socket() as closed:  # a port nobody listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = run(
            "distribuisci", PIANO, schede, "--contatti", CONTATTI, "--area", "Area Affari Generali", "--invia",
            "--smtp-host", "127.0.0.1", "--smtp-porta", str(port), "--smtp-sicurezza", "nessuna",
        )  # fmt: skip
    assert result.returncode == 2
    assert f"server SMTP 127.0.0.1:{port} (connessione rifiutata" in result.stderr
    assert not ENGLISH.search(result.stderr), result.stderr


def test_a_folder_as_output_file_is_refused_not_renamed(tmp_path: Path) -> None:
    """«-o uscita/» for a file: before, the plan became «uscita.json» beside the folder."""
    folder = tmp_path / "uscita"
    folder.mkdir()
    result = run("importa", ROOT / "esempi" / "fonti", "-o", f"{folder}/")
    assert result.returncode == 2
    assert f"{folder}: è una cartella, indicare il nome di un file" in result.stderr
    assert not (tmp_path / "uscita.json").exists() and not list(folder.iterdir())
    master = run("consolida", RITORNI, "-o", folder)
    assert master.returncode == 2 and "è una cartella" in master.stderr
    assert not (tmp_path / "uscita.xlsx").exists()


@pytest.mark.parametrize("name", ["piano.xlsx", "piano.ods", "piano.csv"])
def test_a_plan_named_as_a_workbook_is_refused(tmp_path: Path, name: str) -> None:
    """README: a name with another format's extension is refused (before: «piano.xlsx.json»)."""
    result = run("importa", ROOT / "esempi" / "fonti", "-o", tmp_path / name)
    assert result.returncode == 2 and "indicare un nome che termina in .json" in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_ctrl_c_inside_a_command_says_interrotto_exit_2(tmp_path: Path) -> None:
    """Ctrl-C while a command works: typer turned it into a silent exit 130; README says exit 2."""
    import os
    import signal
    import subprocess

    from .cli_runner import BASE_ENV, script

    fifo = tmp_path / "esportazione.txt"
    os.mkfifo(fifo)  # the command blocks reading it: certainly inside its work when interrupted
    process = subprocess.Popen(
        [script(), "importa", str(fifo), "-o", str(tmp_path / "piano.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=BASE_ENV,
    )  # fmt: skip
    writer = os.open(fifo, os.O_WRONLY)  # returns once the command has opened the file to read it
    try:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        os.close(writer)
    assert process.returncode == 2, (process.returncode, err)
    assert err.strip() == "Interrotto." and "Traceback" not in out + err
    assert not (tmp_path / "piano.json").exists()


def test_annotated_copies_never_go_among_the_returns(ritorni: Path, tmp_path: Path) -> None:
    """«verifica ritorni --annota ritorni»: the next «consolida» took each annotated copy (newer) for the
    area's latest return and set the received scheda aside as «sostituito»."""
    before = sorted(p.name for p in ritorni.iterdir())
    result = run("verifica", ritorni, "--annota", ritorni)
    assert result.returncode == 2
    assert f"--annota {ritorni}: è la cartella delle schede ricevute" in result.stderr
    assert sorted(p.name for p in ritorni.iterdir()) == before
    elsewhere = run("verifica", ritorni, "--annota", tmp_path / "annotate")
    assert elsewhere.returncode in (0, 1) and list((tmp_path / "annotate").glob("*_annotato.xlsx"))


def test_reminders_never_write_annotated_copies_among_the_returns(ritorni: Path) -> None:
    """«solleciti ritorni -o ritorni»: the annotated copy of an area with errors won the next «consolida»."""
    import openpyxl

    scheda = sorted(ritorni.glob("*.xlsx"))[0]
    workbook = openpyxl.load_workbook(scheda)
    workbook["Indicatori"]["H6"] = -5  # an error: the reminder carries an annotated copy
    workbook.save(scheda)
    before = sorted(p.name for p in ritorni.iterdir())
    result = run("solleciti", ritorni, "--piano", PIANO, "--contatti", CONTATTI, "-o", ritorni)
    assert result.returncode == 2, result.stdout
    assert f"-o {ritorni}: è la cartella delle schede ricevute" in result.stderr
    assert sorted(p.name for p in ritorni.iterdir()) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["consolida", "{scheda}", "-o", "m.xlsx"], "è un file, non una cartella: indicare la cartella delle schede"),
        (["distribuisci", PIANO, "{scheda}", "--contatti", CONTATTI], "è un file, non una cartella"),
        (["solleciti", "{scheda}", "--piano", PIANO, "--contatti", CONTATTI], "è un file, non una cartella"),
    ],
    ids=["consolida", "distribuisci", "solleciti"],
)
def test_a_file_where_a_folder_is_expected_is_named_so(tmp_path: Path, args: list[str | Path], expected: str) -> None:
    """Before: «…xlsx: cartella non trovata», as if the file did not exist."""
    scheda = sorted(RITORNI.glob("*.xlsx"))[0]
    result = run(*[str(a).replace("{scheda}", str(scheda)) for a in args], cwd=tmp_path)
    assert result.returncode == 2 and f"{scheda}: {expected}" in result.stderr, result.stderr
    assert "cartella non trovata" not in result.stderr


def test_a_count_below_its_minimum_says_which_numbers_are_allowed(tmp_path: Path) -> None:
    result = run("consolida", RITORNI, "-o", tmp_path / "m.xlsx", "--processi", "0")
    assert result.returncode == 2
    assert "--processi: «0» non è un valore ammesso; scrivere un numero intero da 1 in su" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Area;Obiettivo\n", "riga 1: JSON non valido (manca un valore, o il file non è un piano JSON)"),
        ('{"ente": "Seregno" "anno": 2021}', "riga 1: JSON non valido (manca una virgola)"),
        ('{"ente": "Seregno",\n}', "riga 2: JSON non valido (nome di campo non tra virgolette doppie"),
    ],
    ids=["csv", "virgola", "virgola-di-troppo"],
)
def test_a_plan_that_is_not_json_is_said_in_italian(tmp_path: Path, text: str, expected: str) -> None:
    """Before: «JSON non valido (Expecting value)», the reader's English."""
    piano = tmp_path / "piano.json"
    piano.write_text(text, encoding="utf-8")
    result = run("genera", piano, "-o", tmp_path / "schede")
    assert result.returncode == 2 and f"{piano}, {expected}" in result.stderr, result.stderr
    assert "Expecting" not in result.stderr


def _plan_with(tmp_path: Path, change: str) -> Path:
    import json

    data = json.loads(PIANO.read_text(encoding="utf-8"))
    fase = data["aree"][0]["obiettivi"][0]["fasi"][0]
    if change == "anno":
        data["anno"] = "duemila"
    elif change == "data":
        fase["data_fine_prevista"] = "31/13/2021"
    elif change == "elenco":
        data["aree"][0]["obiettivi"] = {}
    elif change == "versione":
        data["versione"] = 0
    target = tmp_path / f"piano_{change}.json"
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("anno", "campo «anno»: deve essere un numero intero"),
        ("data", "campo «aree[1].obiettivi[1].fasi[1].data_fine_prevista»: deve essere una data AAAA-MM-GG"),
        ("elenco", "campo «aree[1].obiettivi»: deve essere un elenco [ … ]"),
        ("versione", "campo «versione»: deve essere almeno 1"),
    ],
)
def test_a_wrong_field_of_the_plan_is_said_in_italian(tmp_path: Path, change: str, expected: str) -> None:
    """Before: «Input should be a valid integer, unable to parse string as an integer», pydantic's English."""
    result = run("genera", _plan_with(tmp_path, change), "-o", tmp_path / "schede")
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "Input should" not in result.stderr


def test_a_text_file_of_modelli_that_is_not_toml_says_where(tmp_path: Path) -> None:
    """Before: «(Invalid statement (at line 1, column 1))»; a missing entry: «(Field required)»."""
    regole = tmp_path / "regole.toml"
    regole.write_text('[indicatori]\n"Ob_X" = { direzione = "crescente" }\nnon toml\n', encoding="utf-8")
    result = run("importa", ROOT / "esempi" / "fonti", "-o", tmp_path / "p.json", "--regole", regole)
    assert result.returncode == 2
    assert f"{regole}, riga 3, colonna 5: file delle regole degli indicatori non valido" in result.stderr
    modelli = tmp_path / "modelli"
    modelli.mkdir()
    (modelli / "posta.toml").write_text("[ufficio]\n", encoding="utf-8")
    schede = tmp_path / "schede"
    assert run("genera", PIANO, "-o", schede, "--area", "Area Affari Generali").returncode == 0
    posta = run("distribuisci", PIANO, schede, "--contatti", CONTATTI, "--modelli", modelli)
    assert posta.returncode == 2 and "mancante o non valida (voce obbligatoria mancante)" in posta.stderr
    assert not re.search(r"Field required|Invalid statement", result.stderr + posta.stderr)


def test_one_area_named_twice_is_generated_once(tmp_path: Path) -> None:
    """«--area "area affari generali" --area "Area Affari Generali"» wrote the same workbook twice."""
    result = run("genera", PIANO, "-o", tmp_path, "--area", "area affari generali", "--area", "Area Affari Generali")
    assert result.returncode == 0 and result.stdout.count("Area Affari Generali:") == 1, result.stdout


def test_the_audit_log_is_never_the_master(tmp_path: Path) -> None:
    """«-o m.xlsx --registro m.xlsx»: the master replaced the log it had just started, silently."""
    master = tmp_path / "m.xlsx"
    result = run("consolida", RITORNI, "-o", master, "--registro", master)
    assert result.returncode == 2 and f"--registro {master}: è il file del master (-o)" in result.stderr
    assert not master.exists()
    plain = run("consolida", RITORNI, "-o", tmp_path / "m", "--registro", tmp_path / "m.xlsx")
    assert plain.returncode == 2 and "è il file del master" in plain.stderr


@pytest.mark.parametrize("existing", ["altro-json", "altro-anno"])
def test_importa_never_replaces_a_file_that_is_not_this_plan(tmp_path: Path, existing: str) -> None:
    """«importa esportazioni_2022 -o piano_2021.json» replaced last year's plan, and with it the key that
    verifies its schede; any other .json was replaced too, without a word."""
    import json

    target = tmp_path / "piano.json"
    if existing == "altro-json":
        target.write_text('{"name": "altro"}', encoding="utf-8")
    else:
        data = json.loads(PIANO.read_text(encoding="utf-8"))
        data["anno"] = 2020
        target.write_text(json.dumps(data), encoding="utf-8")
    before = target.read_bytes()
    result = run("importa", ROOT / "esempi" / "fonti", "-o", target)
    assert result.returncode == 2 and "il file è intatto; indicare un altro nome" in result.stderr, result.stderr
    assert target.read_bytes() == before
    if existing == "altro-anno":
        assert (
            "contiene il piano «Città di Seregno 2020», quello da scrivere è «Città di Seregno 2021»" in result.stderr
        )


def test_the_updated_plan_never_replaces_a_file_that_is_not_this_plan(tmp_path: Path) -> None:
    """«consolida … --piano-aggiornato» over another year's plan replaced it, as importa did."""
    import json

    data = json.loads(PIANO.read_text(encoding="utf-8"))
    data["anno"] = 2020
    target = tmp_path / "piano_2020.json"
    target.write_text(json.dumps(data), encoding="utf-8")
    before = target.read_bytes()
    result = run("consolida", RITORNI, "-o", tmp_path / "m.xlsx", "--piano", PIANO, "--piano-aggiornato", target)
    assert result.returncode == 2 and "contiene il piano «Città di Seregno 2020»" in result.stderr, result.stderr
    assert target.read_bytes() == before and not (tmp_path / "m.xlsx").exists()


@pytest.mark.parametrize("given", [True, False], ids=["indicato", "trovato"])
def test_the_master_never_replaces_the_corrections_file(tmp_path: Path, given: bool) -> None:
    """«consolida ritorni -o rettifiche_2021.xlsx»: the office's corrections, read and applied, were then
    replaced by the master."""
    import csv

    import openpyxl

    shutil.copytree(RITORNI, tmp_path / "ritorni")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    with (ROOT / "esempi" / "rettifiche_2021.csv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter=";"):
            sheet.append(row)
    corrections = tmp_path / "rettifiche_2021.xlsx"
    workbook.save(corrections)
    before = corrections.read_bytes()
    extra = ["--rettifiche", corrections] if given else []
    result = run("consolida", tmp_path / "ritorni", "-o", corrections, "--piano", PIANO, *extra)
    assert result.returncode == 2 and "non può essere sostituito dal master" in result.stderr, result.stderr
    assert corrections.read_bytes() == before


def test_genera_never_replaces_a_reply_of_an_area(ritorni: Path, tmp_path: Path) -> None:
    """The example returns carry the names genera gives: «genera … -o ritorni» replaced each area's reply with
    a blank scheda. A blank scheda of ours is still replaced (generating again is normal)."""
    before = {p.name: p.read_bytes() for p in ritorni.iterdir()}
    result = run("genera", PIANO, "-o", ritorni)
    assert result.returncode == 2 and "è una scheda compilata dall'area (una risposta)" in result.stderr
    assert {p.name: p.read_bytes() for p in ritorni.iterdir()} == before
    other = tmp_path / "altro"
    other.mkdir()
    (other / next(iter(before))).write_bytes(b"un file dell'ufficio")
    assert "non è una scheda generata" in run("genera", PIANO, "-o", other).stderr
    schede = tmp_path / "schede"
    assert run("genera", PIANO, "-o", schede).returncode == 0
    again = run("genera", PIANO, "-o", schede)
    assert again.returncode == 0, again.stderr


def test_a_mistyped_scheda_is_a_usage_error_not_a_return_to_send_back(tmp_path: Path) -> None:
    """Before: a finding «Inviare di nuovo la cartella di lavoro ricevuta», advice meant for an area."""
    result = run("verifica", tmp_path / "mancante.xlsx", RITORNI)
    assert result.returncode == 2
    assert f"{tmp_path / 'mancante.xlsx'}: file o cartella non trovati" in result.stderr
    assert "Inviare di nuovo" not in result.stdout + result.stderr


def test_a_folder_given_as_corrections_file_is_named_so(tmp_path: Path) -> None:
    result = run("consolida", RITORNI, "-o", tmp_path / "m.xlsx", "--rettifiche", tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path}: è una cartella; --rettifiche indica il file delle rettifiche" in result.stderr
    assert not (tmp_path / "m.xlsx").exists()


def test_the_library_names_a_file_given_as_the_returns_folder() -> None:
    from seregno_xlsx.errors import SeregnoError
    from seregno_xlsx.ritorni.classification import returned_files

    scheda = sorted(RITORNI.glob("*.xlsx"))[0]
    with pytest.raises(SeregnoError, match="è un file, non una cartella"):
        returned_files(scheda)


def _colleague_workbook(path: Path) -> Path:
    """A colleague's workbook, not ours, at ``path``."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "dati preziosi del collega"
    workbook.save(path)
    return path


def test_the_master_replaces_only_a_master(tmp_path: Path) -> None:
    """«-o bilancio.xlsx» with a colleague's workbook of that name: it was replaced by the master without a
    word. Now only a master (one written before, or saved again in Excel) is replaced."""
    import openpyxl

    other = _colleague_workbook(tmp_path / "bilancio.xlsx")
    not_a_workbook = tmp_path / "appunti.xlsx"
    not_a_workbook.write_text("appunti", encoding="utf-8")
    for target in (other, not_a_workbook):
        before = target.read_bytes()
        result = run("consolida", RITORNI, "-o", target, "--piano", PIANO)
        assert result.returncode == 2, result.stderr
        assert f"{target}: esiste già e non è un master di seregno-xlsx" in result.stderr
        assert target.read_bytes() == before
    master = tmp_path / "master.xlsx"
    assert run("consolida", RITORNI, "-o", master, "--piano", PIANO).returncode == 0
    resaved = openpyxl.load_workbook(master)
    resaved.save(master)  # the office opened it and saved it: still a master
    assert run("consolida", RITORNI, "-o", master, "--piano", PIANO).returncode == 0
    assert openpyxl.load_workbook(master, read_only=True).sheetnames[0] == "Riepilogo"


def test_a_workbook_in_the_way_is_read_for_its_sheets_only_and_safely(tmp_path: Path) -> None:
    """What is at ``-o`` is read only for its list of sheets: bounded, no DTD or entity (a file claiming
    a master's sheets through an entity is not one)."""
    import zipfile

    from seregno_xlsx.outputs import MAX_WORKBOOK_PART, workbook_sheet_names

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheets = "".join(f'<sheet name="{n}"/>' for n in ("Riepilogo", "Obiettivi", "Indicatori", "Fonti", "Anomalie"))

    def workbook(name: str, xml: str) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/workbook.xml", xml)
        return path

    plain = workbook("plain.xlsx", f"<workbook {ns}><sheets>{sheets}</sheets></workbook>")
    assert workbook_sheet_names(plain) == ["Riepilogo", "Obiettivi", "Indicatori", "Fonti", "Anomalie"]
    entity = workbook(
        "entity.xlsx", f'<!DOCTYPE w [<!ENTITY s "{sheets}">]><workbook {ns}><sheets>&s;</sheets></workbook>'
    )
    padded = workbook("big.xlsx", f"<workbook {ns}><sheets>{sheets}</sheets>{' ' * MAX_WORKBOOK_PART}</workbook>")
    for path in (entity, padded, tmp_path / "missing.xlsx"):
        assert workbook_sheet_names(path) is None
    result = run("consolida", RITORNI, "-o", entity, "--piano", PIANO)
    assert result.returncode == 2 and "non è un master di seregno-xlsx" in result.stderr, result.stderr


def test_what_is_in_the_way_of_the_master_is_kept_whatever_it_is(tmp_path: Path) -> None:
    """A pipe, a damaged archive: kept, said in Italian (never a hang, never «Errore interno»). A link to
    nothing is only a link: replaced."""
    import os
    import zipfile

    pipe = tmp_path / "tubo.xlsx"
    os.mkfifo(pipe)
    result = run("consolida", RITORNI, "-o", pipe, "--piano", PIANO)
    assert result.returncode == 2 and "non è un file ordinario" in result.stderr, result.stderr
    damaged = tmp_path / "rovinato.xlsx"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook>" + "x" * 5000 + "</workbook>")
    data = bytearray(damaged.read_bytes())
    start = data.index(b"xl/workbook.xml") + len("xl/workbook.xml")
    data[start + 5 : start + 40] = bytes(b ^ 0x5A for b in data[start + 5 : start + 40])  # the deflate stream
    damaged.write_bytes(bytes(data))
    result = run("consolida", RITORNI, "-o", damaged, "--piano", PIANO)
    assert result.returncode == 2 and "non è un master di seregno-xlsx" in result.stderr, result.stderr
    assert "Errore interno" not in result.stderr and damaged.read_bytes() == bytes(data)
    dangling = tmp_path / "collegamento.xlsx"
    dangling.symlink_to(tmp_path / "non_esiste.xlsx")
    assert run("consolida", RITORNI, "-o", dangling, "--piano", PIANO).returncode == 0
    assert not dangling.is_symlink() and dangling.is_file()


def test_a_master_saved_as_strict_open_xml_is_still_a_master(tmp_path: Path) -> None:
    import zipfile

    from seregno_xlsx.outputs import workbook_sheet_names

    strict = tmp_path / "strict.xlsx"
    sheets = "".join(f'<sheet name="{n}"/>' for n in ("Riepilogo", "Aree", "Obiettivi"))
    with zipfile.ZipFile(strict, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"><sheets>{sheets}</sheets></workbook>',
        )
    assert workbook_sheet_names(strict) == ["Riepilogo", "Aree", "Obiettivi"]


def test_extracts_replace_only_extracts(tmp_path: Path) -> None:
    """«--estratti E» where a colleague left a workbook with an extract's name: kept, exit 2; an earlier
    run's extracts are replaced."""

    estratti = tmp_path / "estratti"
    command = ("consolida", RITORNI, "-o", tmp_path / "m.xlsx", "--piano", PIANO, "--estratti", estratti)
    assert run(*command).returncode == 0
    again = run(*command)
    assert again.returncode == 0, again.stderr
    public = _colleague_workbook(estratti / "Estratto_senza_dati_personali.xlsx")
    before = public.read_bytes()
    result = run(*command)
    assert result.returncode == 2 and "non è un estratto di seregno-xlsx" in result.stderr, result.stderr
    assert public.read_bytes() == before
