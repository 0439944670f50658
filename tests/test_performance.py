"""Issue 13: the process pool gives the serial result, a dying worker costs one file, the terminal
summarises, the package starts lazily. Never a timing here: speed is measured in benchmarks/."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.pool import LetturaCompatta, Richiesta, compilation, verify_files, verify_for_consolidation
from seregno_xlsx.ritorni.reader import Lettura

from .cli_runner import run
from .conftest import ROOT

RITORNI = ROOT / "esempi" / "ritorni"
PIANO = ROOT / "esempi" / "piano_2021.json"
DIES = "muore.xlsx"


def reader_that_dies(path: Path, richiesta: Richiesta) -> Lettura:
    """A worker killed while reading one file (as the system kills a process out of memory)."""
    if path.name == DIES:
        os._exit(9)
    return verify_for_consolidation(path, richiesta)


@pytest.fixture
def ritorni(tmp_path: Path) -> Path:
    """The examples' returns, plus a damaged file and one that is not a workbook."""
    folder = tmp_path / "ritorni"
    shutil.copytree(RITORNI, folder)
    (folder / "rotto.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "appunti.txt").write_text("da ricordare", encoding="utf-8")
    return folder


def _sheets(path: Path) -> dict[str, list[tuple[object, ...]]]:
    workbook = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def test_two_processes_give_the_serial_result(ritorni: Path, tmp_path: Path) -> None:
    piano = Piano.from_json(PIANO.read_text(encoding="utf-8"))
    serial = consolidate(ritorni, tmp_path / "serial.xlsx", piano=piano, processi=1)
    parallel = consolidate(ritorni, tmp_path / "parallel.xlsx", piano=piano, processi=2)
    assert serial.master and parallel.master
    as_json = [{**r.to_json(), "master": None} for r in (serial, parallel)]
    assert as_json[0] == as_json[1]
    assert len(serial.fonti) == 5 and serial.rifiutati == 1
    assert _sheets(serial.master) == _sheets(parallel.master)
    # XlsxWriter writes the same cells in the same order: the very bytes are equal.
    assert serial.master.read_bytes() == parallel.master.read_bytes()


def test_a_worker_that_dies_costs_its_file_only(ritorni: Path) -> None:
    shutil.copy(next(RITORNI.glob("*.xlsx")), ritorni / DIES)
    files = sorted(p for p in ritorni.iterdir() if p.suffix == ".xlsx")
    letture = verify_files(files, Richiesta(), processi=2, reader=reader_that_dies)
    assert [lettura.file for lettura in letture] == files
    by_name = {lettura.file.name: lettura for lettura in letture}
    died = by_name.pop(DIES)
    assert not died.leggibile and [a.codice for a in died.anomalie] == ["file-illeggibile"]
    assert "interrotto il processo" in died.anomalie[0].messaggio
    assert not by_name.pop("rotto.xlsx").leggibile
    assert len(by_name) == 3 and all(lettura.leggibile for lettura in by_name.values())


def test_pool_keeps_only_what_the_master_needs(ritorni: Path) -> None:
    files = sorted(RITORNI.glob("*.xlsx"))
    [full] = [verify_for_consolidation(files[0], Richiesta())]
    assert full.griglia is None and full.canonico == {}
    assert full.metadati is not None and full.metadati.area.obiettivi == []
    # The compilation travels and stays compressed, made into models only when needed.
    assert isinstance(full, LetturaCompatta) and full.compilata is not None and full.compilata.obiettivi == []
    compiled = compilation(full)
    assert compiled is not None and compiled.obiettivi and compiled.nome == full.compilata.nome
    assert compilation(full) is not compiled  # a fresh copy each time
    assert len(full.compressa) < 20 * 1024
    # Instead of the cells' positions, which round values are invalid (none here: no round is listed).
    assert full.posizioni == {} and full.non_validi == {}


@pytest.mark.parametrize("processi", [1, 2])
def test_back_from_the_reader_the_compilation_waits_on_disk(ritorni: Path, tmp_path: Path, processi: int) -> None:
    """With a folder, each reading holds where its compilation is, not its bytes; the same compilations;
    the folder lists nothing (the file has no name); a reading let go gives only what finds its area."""
    files = sorted(RITORNI.glob("*.xlsx"))
    held = verify_files(files, Richiesta(), processi=processi)
    cartella = tmp_path / "master"
    cartella.mkdir()
    deposited = verify_files(files, Richiesta(), processi=processi, cartella=cartella)
    assert [compilation(x) for x in held] == [compilation(x) for x in deposited]
    for lettura in deposited:
        assert isinstance(lettura, LetturaCompatta) and lettura.compressa == b"" and lettura.deposito is not None
    assert list(cartella.iterdir()) == []
    first = deposited[0]
    assert isinstance(first, LetturaCompatta)
    first.release()
    assert compilation(first) == first.compilata and first.compilata is not None and first.compilata.obiettivi == []


@pytest.mark.parametrize("processi", [1, 2])
def test_readings_with_the_same_texts_hold_one_copy(ritorni: Path, processi: int) -> None:
    """Each scheda carries the texts it was made with (some 8 KB as models): readings with equal texts hold
    one object as soon as each is back, not a copy per file until the end; each still equal to its own."""
    files = sorted(RITORNI.glob("*.xlsx"))
    letture = [x for x in verify_files(files, Richiesta(), processi=processi) if x.metadati is not None]
    alone = {x.file: verify_for_consolidation(x.file, Richiesta()) for x in letture}
    assert len(letture) >= 3
    for lettura in letture:
        own = alone[lettura.file].metadati
        assert lettura.metadati is not None and own is not None and lettura.metadati == own
    distinct = {id(x.metadati.testi) for x in letture if x.metadati is not None}
    assert len(distinct) == len({x.metadati.testi.model_dump_json() for x in letture if x.metadati is not None})
    assert len(distinct) < len(letture)


@pytest.mark.slow
def test_processi_on_the_command_line(ritorni: Path, tmp_path: Path) -> None:
    outputs = []
    for processi in ("1", "2"):
        master = tmp_path / f"m{processi}.xlsx"
        result = run("consolida", ritorni, "-o", master, "--piano", PIANO, "--json", "--processi", processi)
        assert result.returncode == 1, result.stderr  # one file rejected
        outputs.append({**json.loads(result.stdout), "master": None})
    assert outputs[0] == outputs[1]
    refused = run("consolida", ritorni, "-o", tmp_path / "x.xlsx", "--processi", "0")
    assert refused.returncode == 2 and "--processi" in refused.stderr


def test_terminal_summary_per_area_then_the_first_findings(ritorni: Path, tmp_path: Path) -> None:
    master = tmp_path / "master.xlsx"
    result = run("consolida", ritorni, "-o", master, "--piano", PIANO, "--data-riferimento", "30/09/2021")
    assert result.returncode == 1
    text = result.stdout
    lines = text.splitlines()
    summary = text.split("Riepilogo per area")[1].split("File:")[0]
    full = consolidate(ritorni, tmp_path / "again.xlsx", piano=Piano.from_json(PIANO.read_text(encoding="utf-8")))
    for area in ("Area Affari Generali", "Area Servizi alla Persona"):
        [row] = [line for line in summary.splitlines() if area in line]
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        warnings = sum(a.area == area and a.gravita == "avviso" for a in full.anomalie)
        errors = sum(a.area == area and a.gravita == "errore" for a in full.anomalie)
        assert cells[1:4] == ["1", str(errors), str(warnings)], row
        assert cells[4].endswith("%") and "," in cells[4]
    assert any("(file senza area riconosciuta)" in line for line in summary.splitlines())
    assert "File: 5 (accettato 3, ignorato 1, rifiutato 1)" in text
    assert "File non consolidati" in text and "rotto.xlsx" in text and "appunti.txt" in text
    total = len(full.anomalie)
    assert total > 10
    assert f"Anomalie: {total} (" in text and "le prime 10" in text
    # Only the first findings are listed: one severity cell per listed finding.
    listed = [line for line in lines if line.startswith("│ ") and line.split("│")[1].strip() in ("errore", "avviso")]
    assert len(listed) == 10
    # Errors lead: the rejected file's finding comes before every warning.
    assert listed[0].split("│")[1].strip() == "errore"
    assert "foglio «Anomalie» del master" in text and "--json" in text
    assert "valori letti" in text


@pytest.mark.slow
def test_import_is_lazy() -> None:
    """``import seregno_xlsx`` and the command line's start-up load no spreadsheet library or pydantic."""
    heavy = ("openpyxl", "xlsxwriter", "python_calamine", "pandas", "pydantic", "bs4", "smtplib", "imaplib")
    probe = (
        "import sys, seregno_xlsx, seregno_xlsx.cli;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    )
    result = subprocess.run([sys.executable, "-c", probe, *heavy], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    # The public surface is still there, each name loaded on first use.
    check = "import seregno_xlsx; print(seregno_xlsx.consolidate.__module__, seregno_xlsx.Rilevazione.FINALE)"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["seregno_xlsx.master.consolidation", "finale"]


FORMULA_PIECES = [
    "=",
    "{",
    "}",
    "IF(",
    "SUMPRODUCT(",
    "FILTER(",
    "XLOOKUP(",
    "SINGLE(",
    "XSINGLE(",
    "_xlfn.",
    "SORT(",
    "SORTBY(",
    "filter(",
    "X.FILTER(",
    "A1",
    '"FILTER("',
    ")",
    ",",
    "+",
    "Obiettivi!$B$2:$B$9",
    "1",
    " ",
    "\\",
    "ACOT(",
    # Names with digits (a formula's plainness is remembered by its shape, digits all 0).
    "SUM1(",
    "LOG10(",
    "T.INV.2T(",
    "0",
    "7",
    # Not ASCII (its shape is kept as text, an ASCII formula's as bytes): a letter, a digit of another
    # script (not made 0), a name with one.
    "'Attività'!A1",
    "\u0663",
    "SUM\u0663(",
]


@given(st.lists(st.sampled_from(FORMULA_PIECES), max_size=12), st.booleans(), st.booleans())
@settings(max_examples=100, deadline=None)
def test_fast_formula_preparation_is_xlsxwriter_s(pieces: list[str], future: bool, expand: bool) -> None:
    from xlsxwriter.worksheet import Worksheet

    from seregno_xlsx.master.fast_sheet import FastWorksheet

    formula = "".join(pieces)
    fast, slow = FastWorksheet(), Worksheet()
    fast.use_future_functions = slow.use_future_functions = future
    assert fast._prepare_formula(formula, expand) == slow._prepare_formula(formula, expand)


# Texts near every branch of XlsxWriter's escaping: markup, quotes, newlines, control characters, its
# own _xHHHH_ escapes, the two non-characters, and leading or trailing white space.
ESCAPE_PIECES = [
    "a",
    "è",
    " ",
    "\n",
    "\t",
    "\r",
    "\x00",
    "\x07",
    "\x1f",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u2028",
    "\ufffe",
    "\uffff",
    "_x",
    "_x0000_",
    "_x00A9_",
    "_",
    "x",
    "&",
    "<",
    ">",
    '"',
    "'",
    "A1",
]


@given(st.one_of(st.lists(st.sampled_from(ESCAPE_PIECES), max_size=10).map("".join), st.text(), st.integers()))
@settings(max_examples=300, deadline=None)
def test_fast_xml_escaping_is_xlsxwriter_s(text: str | int) -> None:
    from xlsxwriter.worksheet import Worksheet

    from seregno_xlsx.master.fast_sheet import FastWorksheet

    fast, slow = FastWorksheet(), Worksheet()
    assert fast._escape_attributes(text) == slow._escape_attributes(text)
    assert fast._escape_data(text) == slow._escape_data(text)
    assert FastWorksheet._escape_control_characters(text) == Worksheet._escape_control_characters(text)


def test_fast_formula_preparation_on_every_formula_of_the_master(tmp_path: Path) -> None:
    """The example master's formulas (every kind the writer makes) take the fast path, unchanged."""
    from xlsxwriter.worksheet import Worksheet

    from seregno_xlsx.master.fast_sheet import PLAIN, FastWorksheet

    master = tmp_path / "m.xlsx"
    consolidate(RITORNI, master, piano=Piano.from_json(PIANO.read_text(encoding="utf-8")), processi=1)
    workbook = openpyxl.load_workbook(master)
    formulas = {
        c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    }
    formulas = {f for f in formulas if f.startswith("=")}
    assert len(formulas) > 50
    fast, slow = FastWorksheet(), Worksheet()
    for formula in formulas:
        assert fast._prepare_formula(formula) == slow._prepare_formula(formula)
        assert PLAIN.issuperset(re.findall(r"([A-Z][A-Z0-9.]*)\(", formula)), formula


@given(st.text(max_size=60), st.booleans())
def test_text_width_by_table_is_the_per_character_sum(text: str, bold: bool) -> None:
    from seregno_xlsx.scheda.fit import _char, text_width

    assert text_width(text, bold=bold) == sum(_char(ch) for ch in text) * (1.08 if bold else 1.0)


def _lines_by_the_rule(text: str, width: float, size: float, bold: bool) -> int:
    """``scheda.fit.lines`` as first written: greedy wrapping at spaces, each word measured letter by letter."""
    from seregno_xlsx.scheda.fit import _char

    room = max(1.0, width * 0.92 * 11.0 / size)
    count = 0
    for part in text.split("\n"):
        count += 1
        used = 0.0
        for word in part.split(" "):
            w = sum(_char(ch) for ch in word) * (1.08 if bold else 1.0)
            space = _char(" ") if used else 0.0
            if used and used + space + w > room:
                count += 1
                used = 0.0
                space = 0.0
            if w > room:
                extra = math.ceil(w / room) - 1
                count += extra
                used = w - extra * room
            else:
                used += space + w
    return count


@given(
    st.text(st.sampled_from("ab mW.\nÀ") | st.characters(), max_size=300),
    st.floats(1, 80),
    st.sampled_from([11.0, 14.0]),
    st.booleans(),
)
def test_lines_are_the_rule_s(text: str, width: float, size: float, bold: bool) -> None:
    """The remembered measures (texts, words) give what the rule gives."""
    from seregno_xlsx.scheda.fit import lines

    assert lines(text, width, size=size, bold=bold) == _lines_by_the_rule(text, width, size, bold)


@given(st.text(st.sampled_from("ab mW.À") | st.characters(), min_size=1, max_size=80), st.booleans())
def test_lines_at_a_column_s_edge_are_the_rule_s(text: str, bold: bool) -> None:
    """A text as wide as its column, within a hair either side: one line or two as the rule says."""
    from seregno_xlsx.scheda.fit import lines, text_width

    for factor in (1 - 1e-12, 1.0, 1 + 1e-12, 1 + 1e-8):
        width = max(1.2, text_width(text, bold=bold) / 0.92 * factor)
        assert lines(text, width, bold=bold) == _lines_by_the_rule(text, width, 11.0, bold)


@given(st.data(), st.floats(1, 80), st.booleans())
def test_a_text_within_one_line_s_characters_is_one_line(data: st.DataObject, width: float, bold: bool) -> None:
    """The master measures a text only when it may not hold on one line (``scheda.fit.one_line``): any text of at
    most that many characters, without a line break, is one line; one more wide letter is not always."""
    from seregno_xlsx.scheda.fit import lines, one_line

    most = one_line(width, bold=bold)
    alphabet = st.characters(blacklist_characters="\n") | st.sampled_from("mwMW@% ")
    text = data.draw(st.text(alphabet, max_size=most))
    assert lines(text, width, bold=bold) == 1
    assert lines("W" * (most + 1), width, bold=bold) == 2 or most == 0


@pytest.mark.parametrize("columns", ["80", "250"])
def test_stored_help_is_what_click_prints(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``seregno-xlsx --help`` prints a stored text (nothing else to load): the one click would print."""
    import typer

    from seregno_xlsx.cli import _app
    from seregno_xlsx.cli.aiuto import GRUPPO
    from seregno_xlsx.cli.italiano import group_help

    monkeypatch.setenv("COLUMNS", columns)
    assert group_help(typer.main.get_command(_app())) + "\n" == GRUPPO, "rigenerare: python -m seregno_xlsx.cli.aiuto"
    result = run("--help", env={"COLUMNS": columns})
    assert result.returncode == 0 and result.stdout == GRUPPO


def test_narrow_terminal_help_is_wrapped_by_click() -> None:
    result = run("--help", env={"COLUMNS": "60"})
    assert result.returncode == 0 and "consolida" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


def test_column_letters_are_openpyxl_s() -> None:
    from openpyxl.utils import get_column_letter

    from seregno_xlsx.cells import column_letter as _letter

    assert all(_letter(col) == get_column_letter(col) for col in range(1, 18_279))
    for wrong in (0, 18_279):
        with pytest.raises(ValueError, match="Invalid column index"):
            _letter(wrong)


@pytest.mark.slow
def test_reading_and_checking_load_no_spreadsheet_writer() -> None:
    """``verifica`` and ``consolida`` read with calamine: openpyxl loads only to write a scheda or a copy."""
    probe = (
        "import sys; from seregno_xlsx.master.consolidation import consolidate;"
        "from seregno_xlsx.ritorni.verification import verify;"
        "print('openpyxl' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_genera_on_two_processes_writes_the_serial_workbooks(piano: Piano, tmp_path: Path) -> None:
    from seregno_xlsx.scheda.generation import generate
    from seregno_xlsx.scheda.layout import META_SHEET

    serial = generate(piano, tmp_path / "uno", processi=1)
    parallel = generate(piano, tmp_path / "due", processi=2)
    assert [(g.area, g.path.name) for g in serial] == [(g.area, g.path.name) for g in parallel]
    assert len(serial) == len(piano.aree) > 1
    for one, two in zip(serial, parallel, strict=True):
        first, second = _sheets(one.path), _sheets(two.path)
        assert first.keys() == second.keys()
        for name in first:
            if name != META_SHEET:  # it records when each was generated
                assert first[name] == second[name], name


def test_no_plain_function_is_one_xlsxwriter_renames() -> None:
    """Every substitution of XlsxWriter's _prepare_formula, against every name the fast path lets through."""
    import inspect

    from xlsxwriter.worksheet import Worksheet

    from seregno_xlsx.master.fast_sheet import PLAIN

    source = inspect.getsource(Worksheet._prepare_formula)
    patterns = re.findall(r're\.sub\(\s*r"([^"]+)"', source)
    assert len(patterns) > 100
    for pattern in patterns:
        for name in PLAIN:
            for before in ("", "=", "A", " ", "(", '"', "."):
                assert re.search(pattern, f"{before}{name}(") is None, (pattern, name)


@pytest.mark.slow
def test_a_reading_kept_for_the_master_is_small() -> None:
    """What consolidate keeps of each file while it reads the others: a bound per file, measured."""
    import gc
    import tracemalloc

    files = sorted(RITORNI.glob("*.xlsx")) * 2
    richiesta = Richiesta(piano=Piano.from_json(PIANO.read_text(encoding="utf-8")))
    verify_for_consolidation(files[0], richiesta)  # caches (texts, column letters) filled before measuring
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = verify_files(files, richiesta, processi=1)
        gc.collect()
        per_file = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert all(lettura.leggibile for lettura in kept)
    # About 49 KiB (the compiled area compressed, its findings, the snapshot); with the compiled area as
    # models, about 80 KiB; with every cell's position kept, about 300 KiB.
    assert per_file < 64 * 1024, per_file


def reader_that_fails(path: Path, richiesta: Richiesta) -> Lettura:
    """A defect while reading one file (an exception nobody foresaw)."""
    if path.name == DIES:
        raise RuntimeError("imprevisto")
    return verify_for_consolidation(path, richiesta)


@pytest.mark.parametrize("processi", [1, 2])
def test_an_unforeseen_error_costs_its_file_only(ritorni: Path, processi: int) -> None:
    shutil.copy(next(RITORNI.glob("*.xlsx")), ritorni / DIES)
    files = sorted(p for p in ritorni.iterdir() if p.suffix == ".xlsx")
    letture = verify_files(files, Richiesta(), processi=processi, reader=reader_that_fails)
    by_name = {lettura.file.name: lettura for lettura in letture}
    failed = by_name.pop(DIES)
    assert [a.codice for a in failed.anomalie] == ["file-illeggibile"] and "RuntimeError" in failed.anomalie[
        0
    ].messaggio
    assert sum(lettura.leggibile for lettura in by_name.values()) == 3


def test_long_texts_are_measured_but_never_remembered() -> None:
    """The row heights' caches keep short texts only: an area's long notes die with the area (flat memory),
    and thousands of 32,767-character notes cannot fill 65,536 entries with gigabytes."""
    from seregno_xlsx.scheda import fit

    fit._lines_cached.cache_clear()
    fit._word_width_cached.cache_clear()
    long_text = ("parola " * 5_000).strip()
    short = "Area Servizi alla Persona"
    assert fit.lines(long_text, 30) == fit._lines(long_text, 30, 11.0, False) > 100
    assert fit.lines(short, 30) == fit._lines(short, 30, 11.0, False) == 1
    assert fit._lines_cached.cache_info().currsize == 1  # the short text only
    words = fit._word_width_cached.cache_info().currsize  # «parola» and the short text's words
    assert fit.lines("x" * 10_000, 30) == fit._lines("x" * 10_000, 30, 11.0, False) > 1
    assert fit._word_width_cached.cache_info().currsize == words  # the long word not remembered


def test_texts_are_shared_only_when_equal_and_never_stop_a_reading() -> None:
    """Texts differ (a file's own labels): each keeps its own. A text JSON cannot hold (a lone surrogate,
    which the reader's rules already refuse, here put in by hand): that reading keeps its copy, the run goes on."""
    from seregno_xlsx.ritorni.pool import _texts_sharer

    share = _texts_sharer()
    first = verify_for_consolidation(sorted(RITORNI.glob("*.xlsx"))[0], Richiesta())
    assert first.metadati is not None
    testi = first.metadati.testi
    label = next(iter(testi.etichette))
    others = [
        testi.model_copy(update={"etichette": {**testi.etichette, label: "Altra etichetta"}}),
        testi.model_copy(update={"etichette": {**testi.etichette, label: "a\ud800"}}),
        testi.model_copy(),  # equal to the first, another object
    ]
    shared = [share(first)]
    for other in others:
        lettura = verify_for_consolidation(first.file, Richiesta())
        assert lettura.metadati is not None
        lettura.metadati = lettura.metadati.model_copy(update={"testi": other})
        shared.append(share(lettura))
    held = [x.metadati.testi for x in shared if x.metadati is not None]
    assert held[1] is others[0] and held[2] is others[1] and held[3] is testi
    assert held[0] is testi and held[1] != testi
