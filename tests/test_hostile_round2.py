"""Hostile returns, second round (issue 14): no file stops the run, leaks a secret or changes a figure unnoticed.

Every defect is replayed through the installed console script, under a memory bound, with a secret in
the environment that must never appear in any output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .hostile.disk import ROOT_ONLY
from .hostile.round2 import (
    SECRET,
    add_to_sheet_data,
    cli,
    edit_snapshot,
    edit_xml,
    previous_master,
    set_cell,
    sheet_part,
)

# Through the installed console script, one process per case: in the full run (`pytest -m ""`, CI).
pytestmark = pytest.mark.slow

AREA = "Area Affari Generali"


@pytest.fixture
def ritorni(schede_intermedia: list[SchedaGenerata], piano: Piano, tmp_path: Path) -> Path:
    """The three schede as returned, in a folder of their own (the plan is not beside them).

    Each carries something from its area (a monitoring note): a scheda left as we sent it is a blank
    return, which raccogli skips.
    """
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for scheda in schede_intermedia:
        fase = piano.area(scheda.area).obiettivi[0].fasi[0].codice
        fill_workbook(scheda.path, folder / scheda.path.name, [Entry("fasi", fase, "monitoraggio", "Fatto.")])
    return folder


@pytest.fixture
def plan_file(piano: Piano, tmp_path: Path) -> Path:
    path = tmp_path / "piano" / "piano_2021.json"
    path.parent.mkdir()
    path.write_text(piano.to_json(), encoding="utf-8")
    return path


def _scheda(folder: Path, area: str = AREA) -> Path:
    return next(p for p in folder.iterdir() if area.replace(" ", "_") in p.name)


def _fonti(master: Path) -> dict[str, tuple[str, str]]:
    ws = openpyxl.load_workbook(master, read_only=True)["Fonti"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    file, stato, motivo = header.index("File"), header.index("Stato"), header.index("Motivo")
    return {str(r[file]): (str(r[stato]), str(r[motivo] or "")) for r in rows[1:] if r[file]}


def _all_text(path: Path) -> str:
    """Every text stored in a workbook (all XML parts), to look for what must not be there."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())


def _consolidated_others(ritorni: Path, master: Path, bad: str) -> None:
    fonti = _fonti(master)
    assert fonti[bad][0] == "rifiutato"
    assert sum(stato == "accettato" for stato, _ in fonti.values()) == 2


# --- 2. no file can stop the run: bounds before the reader allocates -----------------------------


@pytest.mark.parametrize(
    "xml",
    [
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row>',
    ],
    ids=["numero-in-XFD1048576", "testo-vuoto-in-XFD1048576"],
)
def test_far_cell_is_a_finding_not_an_abort(ritorni: Path, tmp_path: Path, xml: str) -> None:
    scheda = _scheda(ritorni)
    add_to_sheet_data(scheda, scheda, sheet_part(scheda, "Fasi"), xml)
    verifica = cli("verifica", scheda, "--json")
    assert verifica.returncode == 2
    [report] = json.loads(verifica.stdout)
    [anomalia] = report["anomalie"]
    assert anomalia["codice"] == "cella-fuori-limiti"
    # Where: the sheet's name (the package holds its worksheets before the workbook that names them).
    assert (anomalia["foglio"], anomalia["cella"]) == ("Fasi", "XFD1048576")
    assert anomalia["messaggio"].startswith("Foglio «Fasi», cella XFD1048576: ")
    assert "colonne fino alla AMJ" in anomalia["messaggio"] and "1.024" not in anomalia["messaggio"]
    master = tmp_path / "master.xlsx"
    consolida = cli("consolida", ritorni, "-o", master)
    assert consolida.returncode == 1 and master.exists()
    _consolidated_others(ritorni, master, scheda.name)


@pytest.mark.parametrize("row", [2_200, 900_000])
def test_value_after_the_empty_rows_names_sheet_and_cell(ritorni: Path, row: int) -> None:
    scheda = _scheda(ritorni)
    xml = f'<row r="{row}"><c r="C{row}" t="inlineStr"><is><t>nota</t></is></c></row>'
    add_to_sheet_data(scheda, scheda, sheet_part(scheda, "Indicatori"), xml)
    [report] = json.loads(cli("verifica", scheda, "--json").stdout)
    [anomalia] = report["anomalie"]
    assert (anomalia["codice"], anomalia["foglio"], anomalia["cella"]) == (
        "cella-fuori-limiti",
        "Indicatori",
        f"C{row}",
    )
    assert "dopo più di 2.000 righe vuote, fuori dalla tabella" in anomalia["messaggio"]


def test_added_sheet_asking_for_32_gib_is_refused(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    parts_sheet = sheet_part(scheda, "Personale")
    add_to_sheet_data(
        scheda,
        scheda,
        parts_sheet,
        '<row r="1048576"><c r="AMJ1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    master = tmp_path / "master.xlsx"
    assert cli("consolida", ritorni, "-o", master).returncode == 1
    _consolidated_others(ritorni, master, scheda.name)


def test_a_million_coded_rows_is_refused_quickly_and_in_bounded_memory(ritorni: Path) -> None:
    scheda = _scheda(ritorni)
    rows = "".join(f'<row r="{n}"><c r="H{n}"><v>{n}</v></c></row>' for n in range(20, 600_020))
    add_to_sheet_data(scheda, scheda, sheet_part(scheda, "Fasi"), rows)
    started = time.monotonic()
    result = cli("verifica", scheda, "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)[0]["anomalie"][0]["codice"] in ("cella-fuori-limiti", "file-troppo-grande")
    assert time.monotonic() - started < 120


def test_raccogli_reads_on_after_a_hostile_attachment(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    bad = tmp_path / "bad.xlsx"
    add_to_sheet_data(scheda, bad, sheet_part(scheda, "Fasi"), '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    posta = tmp_path / "posta"
    posta.mkdir()
    for n, (name, data) in enumerate([("a.xlsx", bad.read_bytes()), (scheda.name, scheda.read_bytes())], start=1):
        message = EmailMessage()
        message["From"], message["Subject"] = "area@comune.it", f"scheda {n}"
        message["Date"] = f"Mon, 0{n} Aug 2021 10:00:00 +0200"
        message.set_content("in allegato")
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        (posta / f"{n}.eml").write_bytes(bytes(message))
    out = tmp_path / "raccolte"
    result = cli("raccogli", posta, "-o", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in out.iterdir() if p.name.startswith(".raccogli-")] == []
    assert len([p for p in out.iterdir() if p.suffix == ".xlsx"]) == 1


# --- 1. nothing in a returned file is code or a template ------------------------------------------

TEMPLATES = {
    "segreto": "{rilevazione.__init__.__globals__[sys].modules[os].environ[SEREGNO_SMTP_PASSWORD]}",
    "larghezza": "{ente:>2000000000}",
    "campo-ignoto": "{x}",
    "graffa": "{",
}


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES.keys())
def test_title_template_in_metadati_is_never_formatted(ritorni: Path, tmp_path: Path, template: str) -> None:
    scheda = _scheda(ritorni)

    def edit(snapshot: dict[str, object]) -> None:
        snapshot["testi"]["titoli"]["scheda"] = template  # type: ignore[index]

    edit_snapshot(scheda, scheda, edit)
    annotate = tmp_path / "annotate"
    started = time.monotonic()
    verifica = cli("verifica", scheda, "--json", "--annota", annotate, "--data-riferimento", "2021-07-31")
    assert time.monotonic() - started < 60
    [report] = json.loads(verifica.stdout)
    assert report["esito"] != "non leggibile"
    for copy in annotate.glob("*.xlsx"):
        assert SECRET not in _all_text(copy)
        title = openpyxl.load_workbook(copy)["Fasi"]["A1"].value
        assert str(title).startswith("Città di Seregno – Piano degli obiettivi 2021")
    master = tmp_path / "master.xlsx"
    assert cli("consolida", ritorni, "-o", master).returncode in (0, 1)
    assert SECRET not in _all_text(master)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["testi"].__setitem__("etichette", {}),
        lambda s: s.__setitem__("anno", 9999),
        lambda s: s["area"].__setitem__("nome", "x" * 5000),
        lambda s: s["area"]["obiettivi"][0]["indicatori"][0].__setitem__("valore_target", "NaN"),
    ],
    ids=["etichette-vuote", "anno-9999", "nome-lunghissimo", "target-NaN"],
)
def test_metadati_edits_never_stop_the_run(ritorni: Path, tmp_path: Path, edit: object) -> None:
    scheda = _scheda(ritorni)
    edit_snapshot(scheda, scheda, edit)  # type: ignore[arg-type]
    others = [p for p in ritorni.iterdir() if p != scheda]
    verifica = cli("verifica", scheda, *others, "--json")
    assert len(json.loads(verifica.stdout)) == 3
    master = tmp_path / "master.xlsx"
    assert cli("consolida", ritorni, "-o", master).returncode in (0, 1)
    assert master.exists()


def test_deeply_nested_metadati_json(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    edit_snapshot(scheda, scheda, lambda s: None, raw="[" * 100_000 + "]" * 100_000)
    master = tmp_path / "master.xlsx"
    assert cli("consolida", ritorni, "-o", master).returncode == 1
    fonti = _fonti(master)
    assert fonti[scheda.name][0] == "rifiutato" and "non sono leggibili" in fonti[scheda.name][1]


@pytest.mark.parametrize("inner", ["<v>NaN</v>", "<v>1e309</v>", "<v>" + "9" * 400 + "</v>"])
def test_non_finite_numbers_never_block_the_master(ritorni: Path, tmp_path: Path, inner: str) -> None:
    scheda = _scheda(ritorni)
    lettura = read_workbook(scheda)
    assert lettura.metadati is not None
    code = next(i.codice for o in lettura.metadati.area.obiettivi for i in o.indicatori if not i.si_no)
    sheet, ref = lettura.locate("indicatori", code, "prima_rilevazione")
    set_cell(scheda, scheda, sheet_part(scheda, sheet), ref, inner)
    verifica = cli("verifica", scheda, "--json")
    codes = [a["codice"] for a in json.loads(verifica.stdout)[0]["anomalie"]]
    assert "numero-non-valido" in codes
    master = tmp_path / "master.xlsx"
    assert cli("consolida", ritorni, "-o", master).returncode == 1 and master.exists()


def test_markup_in_cells_and_area_names_is_printed_as_text(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    lettura = read_workbook(scheda)
    fase = lettura.metadati.area.obiettivi[0].fasi[0].codice  # type: ignore[union-attr]
    fill_workbook(scheda, scheda, [Entry("fasi", fase, "data_fine_effettiva", "[/x]")])
    consolida = cli("consolida", ritorni, "-o", tmp_path / "master.xlsx")
    assert consolida.returncode == 1 and "[/x]" in consolida.stdout
    other = _scheda(ritorni, "Area Lavori")
    edit_snapshot(other, other, lambda s: s["area"].__setitem__("nome", "[/x] [bold]"))
    posta = tmp_path / "posta"
    posta.mkdir()
    message = EmailMessage()
    message["From"], message["Subject"], message["Date"] = "a@b.it", "scheda", "Mon, 02 Aug 2021 10:00:00 +0200"
    message.set_content("allegato")
    message.add_attachment(other.read_bytes(), maintype="application", subtype="octet-stream", filename="s.xlsx")
    (posta / "m.eml").write_bytes(bytes(message))
    raccogli = cli("raccogli", posta, "-o", tmp_path / "raccolte")
    assert "[/x] [bold]" in raccogli.stdout


# --- 5. inputs are never overwritten --------------------------------------------------------------


def test_master_never_replaces_a_received_scheda(ritorni: Path) -> None:
    scheda = _scheda(ritorni)
    before = scheda.read_bytes()
    result = cli("consolida", ritorni, "-o", scheda)
    assert result.returncode == 2 and "non può essere sostituito dal master" in result.stderr
    assert scheda.read_bytes() == before


def test_annotated_copy_never_replaces_a_received_reply(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    reply = ritorni / f"{scheda.stem}_annotato.xlsx"
    shutil.copy(scheda, reply)
    before = reply.read_bytes()
    # Among the returns an annotated copy would be read as the latest reply: that folder is refused.
    assert cli("verifica", scheda, reply, "--annota", ritorni).returncode == 2
    assert reply.read_bytes() == before
    assert not (ritorni / f"{scheda.stem}_annotato_2.xlsx").exists()
    annotate = tmp_path / "annotate"
    annotate.mkdir()
    earlier = annotate / f"{scheda.stem}_annotato.xlsx"  # an earlier annotated copy is never replaced either
    shutil.copy(scheda, earlier)
    cli("verifica", scheda, "--annota", annotate)
    assert earlier.read_bytes() == before
    assert (annotate / f"{scheda.stem}_annotato_2.xlsx").exists()


def test_over_long_name_with_annota(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    long_name = ritorni / ("x" * 250 + ".xlsx")
    scheda.rename(long_name)
    result = cli("verifica", long_name, "--annota", tmp_path / "annotate")
    assert result.returncode in (0, 1)
    assert len(list((tmp_path / "annotate").glob("*.xlsx"))) == 1


# --- 3. the plan is the authority; the fingerprint needs the plan's key --------------------------


def _lower_targets(scheda: Path) -> None:
    """What a forger with the public code does: targets lowered in the snapshot and in the cells."""
    lettura = read_workbook(scheda)
    assert lettura.metadati is not None
    entries = []
    for obiettivo in lettura.metadati.area.obiettivi:
        for indicatore in obiettivo.indicatori:
            if indicatore.valore_target:
                entries.append((indicatore.codice, indicatore.valore_target / 2))

    def edit(snapshot: dict[str, object]) -> None:
        for obiettivo in snapshot["area"]["obiettivi"]:  # type: ignore[index]
            for indicatore in obiettivo["indicatori"]:
                if indicatore["valore_target"]:
                    indicatore["valore_target"] /= 2

    workbook = openpyxl.load_workbook(scheda)
    for code, target in entries:
        sheet, cell = lettura.locate("indicatori", code, "valore_target")
        workbook[sheet][cell].value = target
    workbook.save(scheda)
    edit_snapshot(scheda, scheda, edit)


def test_forged_targets_are_never_conforme_without_the_plan(ritorni: Path) -> None:
    scheda = _scheda(ritorni)
    _lower_targets(scheda)
    [report] = json.loads(cli("verifica", scheda, "--json").stdout)
    assert report["esito"] != "conforme"
    assert "impronta-non-verificabile" in [a["codice"] for a in report["anomalie"]]


def test_forged_targets_are_rejected_with_the_plan_found_beside_the_returns(
    ritorni: Path, piano: Piano, tmp_path: Path
) -> None:
    scheda = _scheda(ritorni)
    _lower_targets(scheda)
    (ritorni.parent / "piano_2021.json").write_text(piano.to_json(), encoding="utf-8")
    master = tmp_path / "master.xlsx"
    result = cli("consolida", ritorni, "-o", master, "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    stato = {f["file"]: f for f in data["fonti"]}[scheda.name]
    assert stato["stato"] == "rifiutato" and "impronta" in stato["motivo"]
    [report] = json.loads(cli("verifica", scheda, "--json").stdout)  # verifica finds the plan too
    assert "metadati-alterati" in [a["codice"] for a in report["anomalie"]]


def test_with_the_plan_locked_values_come_from_the_plan(ritorni: Path, plan_file: Path, piano: Piano) -> None:
    scheda = _scheda(ritorni)
    lettura = read_workbook(scheda)
    indicatore = lettura.metadati.area.obiettivi[0].indicatori[0]  # type: ignore[union-attr]
    sheet, cell = lettura.locate("indicatori", indicatore.codice, "valore_target")
    workbook = openpyxl.load_workbook(scheda)
    workbook[sheet][cell].value = 1
    workbook.save(scheda)
    read = read_workbook(scheda, piano=piano)
    assert "cella-bloccata-modificata" in [a.codice for a in read.anomalie]
    assert read.compilata is not None
    assert read.compilata.obiettivi[0].indicatori[0].valore_target == indicatore.valore_target


# --- 4. which file wins: the time of receipt ------------------------------------------------------


def _with_core_modified(source: Path, target: Path, stamp: str) -> Path:
    return edit_xml(
        source,
        target,
        "docProps/core.xml",
        lambda text: __import__("re").sub(
            r"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>',
            text,
        ),
    )


@pytest.mark.parametrize("stamp", ["2099-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_save_stamp_never_decides_the_winner(ritorni: Path, tmp_path: Path, stamp: str) -> None:
    scheda = _scheda(ritorni)
    lettura = read_workbook(scheda)
    fase = lettura.metadati.area.obiettivi[0].fasi[0].codice  # type: ignore[union-attr]
    stale, fresh = ritorni / "vecchia.xlsx", ritorni / "nuova.xlsx"
    fill_workbook(scheda, stale, [Entry("fasi", fase, "monitoraggio", "vecchio")])
    _with_core_modified(stale, stale, stamp)
    fill_workbook(scheda, fresh, [Entry("fasi", fase, "monitoraggio", "nuovo")])
    scheda.unlink()
    os.utime(stale, (1_600_000_000, 1_600_000_000))
    os.utime(fresh, (1_700_000_000, 1_700_000_000))
    master = tmp_path / "master.xlsx"
    result = cli("consolida", ritorni, "-o", master, "--json", env={"TZ": "Europe/Rome"})
    fonti = {f["file"]: f for f in json.loads(result.stdout)["fonti"]}
    assert fonti["nuova.xlsx"]["stato"] == "accettato"
    assert fonti["vecchia.xlsx"]["stato"] == "sostituito" and "ricezione" in fonti["vecchia.xlsx"]["motivo"]


# --- 7. the hash recorded is the hash of the bytes parsed -----------------------------------------


def test_hash_is_of_the_bytes_parsed_while_the_file_is_replaced(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    original = read_workbook(scheda)
    fase = original.metadati.area.obiettivi[0].fasi[0].codice  # type: ignore[union-attr]
    versions = {}
    for text in ("versione A", "versione B"):
        path = tmp_path / f"{text[-1]}.xlsx"
        fill_workbook(scheda, path, [Entry("fasi", fase, "monitoraggio", text)])
        versions[hashlib.sha256(path.read_bytes()).hexdigest()] = text
    # Before the first swap: what the area's own return says for that phase.
    versions[hashlib.sha256(scheda.read_bytes()).hexdigest()] = original.compilata.obiettivi[0].fasi[0].monitoraggio  # type: ignore[union-attr]
    sources = list(tmp_path.glob("[AB].xlsx"))
    stop = threading.Event()

    def swap() -> None:
        n = 0
        while not stop.is_set():
            shutil.copy(sources[n % 2], tmp_path / "swap.tmp")
            os.replace(tmp_path / "swap.tmp", scheda)
            n += 1

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(20):
            lettura = read_workbook(scheda)
            if lettura.compilata is None:
                continue
            monitoraggio = lettura.compilata.obiettivi[0].fasi[0].monitoraggio
            assert versions[lettura.sha256] == monitoraggio
    finally:
        stop.set()
        swapper.join()


# --- 8. nothing dropped in silence ---------------------------------------------------------------


def test_every_file_of_the_folder_is_in_fonti(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    (ritorni / "binario.xlsb").write_bytes(b"x")
    (ritorni / "modello.xltx").write_bytes(b"x")
    shutil.copy(scheda, ritorni / "spazio finale.xlsx ")
    (ritorni / "ciclo.xlsx").symlink_to(ritorni / "ciclo.xlsx")
    (ritorni / os.fsdecode(b"nome-\xff.xlsx")).write_bytes(b"x")
    master = tmp_path / "master.xlsx"
    result = cli("consolida", ritorni, "-o", master)
    assert result.returncode == 1
    fonti = _fonti(master)
    assert fonti["binario.xlsb"][0] == "ignorato" and ".xlsb" in fonti["binario.xlsb"][1]
    assert fonti["modello.xltx"][0] == "ignorato"
    assert fonti["ciclo.xlsx"][0] == "ignorato" and "circolare" in fonti["ciclo.xlsx"][1]
    assert "spazio finale.xlsx " in fonti
    assert any(name.startswith("nome-") for name in fonti)


def test_a_readable_scheda_with_a_name_not_in_utf8_is_consolidated(ritorni: Path, tmp_path: Path) -> None:
    """Its findings name it by its readable part in the master, the terminal and --json: it stops no one."""
    scheda = _scheda(ritorni)
    strange = ritorni / os.fsdecode(b"scheda-\xff" + os.fsencode(scheda.name))
    scheda.rename(strange)
    master = tmp_path / "master.xlsx"
    result = cli("consolida", ritorni, "-o", master)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Errore interno" not in result.stderr
    files = {c.value for c in openpyxl.load_workbook(master)["Anomalie"]["F"] if isinstance(c.value, str)}
    assert any(name.startswith("scheda-\ufffd") for name in files), files
    report = cli("consolida", ritorni, "-o", tmp_path / "m2.xlsx", "--json")
    assert report.returncode in (0, 1) and "scheda-\ufffd" in report.stdout


def test_added_sheet_and_repeated_column_are_findings(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    workbook = openpyxl.load_workbook(scheda)
    workbook.create_sheet("Appunti")["A1"] = "valori veri: 99"
    fasi = workbook["Fasi"]
    fasi.cell(4, fasi.max_column + 1).value = "Monitoraggio"
    workbook.save(scheda)
    [report] = json.loads(cli("verifica", scheda, "--json").stdout)
    codes = [a["codice"] for a in report["anomalie"]]
    assert "foglio-estraneo" in codes and "colonna-estranea" in codes


def test_findings_beyond_a_sheet_are_counted(monkeypatch: pytest.MonkeyPatch, ritorni: Path, tmp_path: Path) -> None:
    from seregno_xlsx.master import writer
    from seregno_xlsx.master.consolidation import consolidate
    from seregno_xlsx.master.layout import ANOMALIE

    monkeypatch.setattr(writer, "MAX_SHEET_ROWS", 3)
    result = consolidate(ritorni, tmp_path / "master.xlsx")
    assert len(result.anomalie) > 4  # impronta-non-verificabile, one per file, and others
    ws = openpyxl.load_workbook(tmp_path / "master.xlsx", read_only=True)["Anomalie"]
    rows = [r for r in ws.iter_rows(values_only=True) if r[0]]
    assert len(rows) == 1 + 3 + 1
    message = ANOMALIE.index("messaggio")
    assert rows[-1][0] == "anomalie-omesse" and f"Altre {len(result.anomalie) - 3}" in str(rows[-1][message])
    assert len(result.to_json()["anomalie"]) == len(result.anomalie)  # type: ignore[arg-type]


# --- 6. every fault in Italian, exit 2, previous output intact -----------------------------------


def test_file_size_limit_is_an_italian_error(ritorni: Path, tmp_path: Path) -> None:
    master = tmp_path / "master.xlsx"
    master.write_bytes(previous := previous_master())
    result = cli("consolida", ritorni, "-o", master, fsize=20_000)
    assert result.returncode == 2 and "file più grande" in result.stderr
    assert master.read_bytes() == previous


def test_email_dates_out_of_range_and_nested_messages(ritorni: Path, tmp_path: Path) -> None:
    scheda = _scheda(ritorni)
    posta = tmp_path / "posta"
    posta.mkdir()
    message = EmailMessage()
    message["From"], message["Subject"], message["Date"] = "a@b.it", "scheda", "Fri, 31 Dec 9999 23:59:59 -1200"
    message.set_content("allegato")
    message.add_attachment(scheda.read_bytes(), maintype="application", subtype="octet-stream", filename="s.xlsx")
    (posta / "futuro.eml").write_bytes(bytes(message))
    nested = b"Content-Type: text/plain\r\n\r\nfine\r\n"
    for _ in range(3_000):
        nested = b"From: a@b.it\r\nContent-Type: message/rfc822\r\n\r\n" + nested
    (posta / "annidato.eml").write_bytes(nested)
    out = tmp_path / "raccolte"
    result = cli("raccogli", posta, "-o", out)
    assert result.returncode in (0, 1)
    assert len(list(out.glob("*.xlsx"))) == 1


@ROOT_ONLY
def test_full_disk_keeps_the_previous_master(ritorni: Path, small_disk: object) -> None:
    disk: Path = small_disk("size=256k")  # type: ignore[operator]
    master = disk / "master.xlsx"
    master.write_bytes(previous := previous_master())
    stat = os.statvfs(disk)
    (disk / "riempitivo").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 24_000))
    result = cli("consolida", ritorni, "-o", master)
    assert result.returncode == 2 and "disco pieno" in result.stderr
    assert master.read_bytes() == previous
    assert {p.name for p in disk.iterdir()} == {"master.xlsx", "riempitivo"}  # no temporary file left


@ROOT_ONLY
def test_read_only_filesystem_under_genera(plan_file: Path, small_disk: object) -> None:
    disk: Path = small_disk("size=1m,ro")  # type: ignore[operator]
    result = cli("genera", plan_file, "-o", disk / "schede")
    assert result.returncode == 2 and "sola lettura" in result.stderr


# --- 9. the plan file ----------------------------------------------------------------------------


def _plan_variant(piano: Piano, tmp_path: Path, edit: object, *, bom: bool = False) -> Path:
    data = json.loads(piano.to_json())
    edit(data)  # type: ignore[operator]
    text = json.dumps(data, indent=2, ensure_ascii=False)
    path = tmp_path / "piano.json"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def _first_indicator(data: dict[str, object]) -> dict[str, object]:
    return data["aree"][0]["obiettivi"][0]["indicatori"][0]  # type: ignore[index, no-any-return]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: _first_indicator(d).__setitem__("valore_target", "NaN"), "valore_target"),
        (lambda d: _first_indicator(d).__setitem__("valore_target", float("inf")), "Infinity"),
        (lambda d: d["aree"][0].__setitem__("nome", "x" * 300), "aree[1].nome"),
        (lambda d: d["aree"][0].__setitem__("nome", "a\x00b"), "caratteri di controllo"),
        (
            lambda d: d["aree"][0]["obiettivi"][1].__setitem__("codice", d["aree"][0]["obiettivi"][0]["codice"]),
            "compare due volte",
        ),
    ],
    ids=["target-NaN", "target-infinito", "nome-300", "nome-NUL", "codice-duplicato"],
)
def test_plan_errors_name_field_and_line(piano: Piano, tmp_path: Path, edit: object, expected: str) -> None:
    path = _plan_variant(piano, tmp_path, edit)
    result = cli("genera", path, "-o", tmp_path / "schede")
    assert result.returncode == 2
    assert expected in result.stderr and ", riga " in result.stderr and "validation error" not in result.stderr
    assert not (tmp_path / "schede").exists() or not list((tmp_path / "schede").iterdir())


def test_plan_with_a_bom_is_read(piano: Piano, tmp_path: Path) -> None:
    path = _plan_variant(piano, tmp_path, lambda d: None, bom=True)
    assert cli("genera", path, "-o", tmp_path / "schede").returncode == 0


def test_over_large_message_is_refused_before_parsing(tmp_path: Path) -> None:
    posta = tmp_path / "posta"
    posta.mkdir()
    with (posta / "enorme.eml").open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: costs no disk, and must cost no memory
    result = cli("raccogli", posta, "-o", tmp_path / "raccolte")
    assert result.returncode == 2 and "oltre il limite" in result.stdout + result.stderr


def test_scheda_generated_with_other_texts_is_read_without_using_them_as_templates(
    plan_file: Path, tmp_path: Path
) -> None:
    from .conftest import ROOT

    modelli = tmp_path / "modelli"
    shutil.copytree(ROOT / "modelli", modelli)
    toml = (modelli / "scheda.toml").read_text(encoding="utf-8")
    toml = toml.replace('monitoraggio = "Monitoraggio"', 'monitoraggio = "Stato di avanzamento"')
    toml = toml.replace('scheda = "{ente} – Piano', 'scheda = "{area} – {ente} – Piano')
    (modelli / "scheda.toml").write_text(toml, encoding="utf-8")
    schede = tmp_path / "schede"
    assert cli("genera", plan_file, "-o", schede, "--modelli", modelli).returncode == 0
    files = sorted(schede.glob("*.xlsx"))
    result = cli("verifica", *files, "--piano", plan_file, "--json")
    assert result.returncode == 0
    codes = {a["codice"] for r in json.loads(result.stdout) for a in r["anomalie"]}
    structural = {"intestazione-alterata", "foglio-mancante", "cella-bloccata-modificata", "metadati-alterati"}
    assert not codes & structural and "impronta-non-verificabile" not in codes


def test_many_findings_of_one_kind_are_counted_not_listed(ritorni: Path) -> None:
    scheda = _scheda(ritorni)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Ob_X{n}</t></is></c>'
        f'<c r="C{n}" t="inlineStr"><is><t>X{n}</t></is></c></row>'
        for n in range(30, 1_030)
    )
    add_to_sheet_data(scheda, scheda, sheet_part(scheda, "Personale"), rows)
    started = time.monotonic()
    [report] = json.loads(cli("verifica", scheda, "--json").stdout)
    assert time.monotonic() - started < 60
    codes = [a["codice"] for a in report["anomalie"]]
    assert codes.count("matricola-sconosciuta") == 200  # rows of Personale naming people the plan lacks
    [omesse] = [a for a in report["anomalie"] if a["codice"] == "anomalie-omesse"]
    assert "Altre 800" in omesse["messaggio"]
