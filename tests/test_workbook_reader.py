"""Reading returned workbooks back: values, tolerance of what clients do, tamper detection."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import verify, verify_file
from seregno_xlsx.scheda.layout import FIRST_DATA_ROW, TEMPLATE_VERSION
from seregno_xlsx.simulation import Entry, fill_workbook

FIRST_PHASE = "Ob_Obiet093701"
REAL_AREA = "Area Servizi alla Persona"  # as in conftest: the area of the real export
FIRST_OBJECTIVE = "Ob_Obiet0937"


def _codes(path: Path) -> list[str]:
    return [a.codice for a in read_workbook(path).anomalie]


def _edit(source: Path, target: Path, sheet: str, cell: str, value: object) -> Path:
    wb = openpyxl.load_workbook(source)
    wb[sheet][cell] = value
    wb.save(target)
    return target


def test_untouched_workbook_reads_clean(scheda_reale: Path, piano: Piano) -> None:
    # Without the plan the fingerprint cannot be checked: never «conforme», and said.
    alone = read_workbook(scheda_reale)
    assert [a.codice for a in alone.anomalie] == ["impronta-non-verificabile"]
    assert alone.esito == "con avvisi"
    lettura = read_workbook(scheda_reale, piano=piano)
    assert lettura.anomalie == []
    assert lettura.esito == "conforme"
    assert lettura.compilata is not None and lettura.metadati is not None
    assert lettura.compilata == lettura.metadati.area
    area = lettura.metadati.area
    prefilled = [o.data_inizio_effettiva for o in area.obiettivi] + [o.note for o in area.obiettivi]
    prefilled += [f.data_inizio_effettiva for o in area.obiettivi for f in o.fasi]
    prefilled += [f.monitoraggio for o in area.obiettivi for f in o.fasi]
    # Effective dates, notes and monitoring already in the export are prefilled and read back.
    assert lettura.valori_letti == sum(v not in (None, "") for v in prefilled) == 10


def test_values_typed_are_read_back(scheda_reale: Path, tmp_path: Path, piano: Piano) -> None:
    target = tmp_path / "compilata.xlsx"
    fill_workbook(
        scheda_reale,
        target,
        [
            Entry("fasi", FIRST_PHASE, "data_fine_effettiva", date(2021, 6, 15)),
            Entry(
                "fasi",
                FIRST_PHASE,
                "monitoraggio",
                "Fatto: «avviso» pubblicato, spesa € 5.000.\nSeconda riga",
            ),
            Entry("indicatori", FIRST_PHASE, "prima_rilevazione", "SI"),
            Entry("obiettivi", FIRST_OBJECTIVE, "note", '=HYPERLINK("http://x")'),
            Entry("indicatori", "Ob_Obiet093902", "prima_rilevazione", "NO"),
        ],
    )
    lettura = read_workbook(target, piano=piano)
    assert lettura.compilata is not None
    obiettivo = lettura.compilata.obiettivi[0]
    assert obiettivo.fasi[0].data_fine_effettiva == date(2021, 6, 15)
    assert obiettivo.fasi[0].monitoraggio == "Fatto: «avviso» pubblicato, spesa € 5.000.\nSeconda riga"
    assert obiettivo.indicatori[0].prima_rilevazione == 100.0
    assert obiettivo.note == '=HYPERLINK("http://x")'
    assert lettura.compilata.obiettivi[1].indicatori[1].prima_rilevazione == 0.0
    assert [a.codice for a in lettura.anomalie] == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("31/12/2021", date(2021, 12, 31)),
        ("31-12-2021", date(2021, 12, 31)),
        ("31.12.2021", date(2021, 12, 31)),
        ("2021-12-31", date(2021, 12, 31)),
        (" 31/12/2021 ", date(2021, 12, 31)),
        (44561, date(2021, 12, 31)),
        (datetime(2021, 12, 31, 0, 0), date(2021, 12, 31)),
    ],
)
def test_dates_in_every_form(scheda_reale: Path, tmp_path: Path, typed: object, expected: date) -> None:
    target = tmp_path / "d.xlsx"
    fill_workbook(scheda_reale, target, [Entry("fasi", FIRST_PHASE, "data_fine_effettiva", typed)])
    lettura = read_workbook(target)
    assert lettura.compilata is not None
    assert lettura.compilata.obiettivi[0].fasi[0].data_fine_effettiva == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("80", 80.0), ("80,5", 80.5), ("1.234,5", 1234.5), ("80%", 80.0), (" 7 ", 7.0), (42, 42.0)],
)
def test_numbers_in_every_form(piano: Piano, tmp_path: Path, typed: object, expected: float) -> None:
    from seregno_xlsx.scheda.generation import generate

    [scheda] = generate(piano, tmp_path, aree=["Area Affari Generali"])
    numeric = next(i for o in piano.area("Area Affari Generali").obiettivi for i in o.indicatori if not i.si_no)
    target = tmp_path / "n.xlsx"
    fill_workbook(scheda.path, target, [Entry("indicatori", numeric.codice, "prima_rilevazione", typed)])
    lettura = read_workbook(target)
    assert lettura.compilata is not None
    read = next(i for o in lettura.compilata.obiettivi for i in o.indicatori if i.codice == numeric.codice)
    assert read.prima_rilevazione == expected


@pytest.mark.parametrize(
    ("field", "typed", "code"),
    [
        ("data_fine_effettiva", "fine giugno", "data-non-valida"),
        ("data_fine_effettiva", "31/02/2021", "data-non-valida"),
        ("data_fine_effettiva", "#DIV/0!", "valore-errore"),
        ("prima_rilevazione", "forse", "si-no-non-valido"),
        ("prima_rilevazione", "#N/A", "valore-errore"),
        ("monitoraggio", "x" * 40_000, "testo-troppo-lungo"),
        ("monitoraggio", "riga\x07campanello", "carattere-non-ammesso"),
    ],
    ids=["testo", "31-febbraio", "div0-data", "forse", "na", "40000-caratteri", "controllo"],
)
def test_bad_values_are_findings_with_cell(
    scheda_reale: Path, tmp_path: Path, field: str, typed: str, code: str
) -> None:
    sheet = "indicatori" if field == "prima_rilevazione" else "fasi"
    target = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(scheda_reale)
    lettura = read_workbook(scheda_reale)
    sheet_name, cell = lettura.locate(sheet, FIRST_PHASE, field)
    if code == "carattere-non-ammesso":
        # openpyxl refuses control characters, so the XML is patched as a careless client would write it.
        wb[sheet_name][cell] = "riga campanello"
        wb.save(target)
        _replace_in_zip(target, "riga campanello", "riga&#x7;campanello")
    else:
        wb[sheet_name][cell] = typed
        wb[sheet_name][cell].data_type = "s"
        wb.save(target)
    found = [a for a in read_workbook(target).anomalie if a.codice == code]
    assert len(found) == 1, read_workbook(target).anomalie
    assert (found[0].foglio, found[0].cella) == (sheet_name, cell)
    assert found[0].fase == FIRST_PHASE


def test_a_bad_value_over_a_prefilled_one_counts_as_blank(piano: Piano, tmp_path: Path) -> None:
    """The binding rule: an invalid value is never better than an honest blank, prefilled or not."""
    from seregno_xlsx.scheda.generation import generate

    prefilled = piano.model_copy(deep=True)
    area = prefilled.area(REAL_AREA)
    fase = next(f for o in area.obiettivi for f in o.fasi if f.codice == FIRST_PHASE)
    fase.data_fine_effettiva = date(2021, 6, 30)  # e.g. reported in the previous round
    [scheda] = generate(prefilled, tmp_path / "schede", aree=[REAL_AREA])
    assert _phase_end(read_workbook(scheda.path)) == date(2021, 6, 30)
    target = tmp_path / "bad.xlsx"
    fill_workbook(scheda.path, target, [Entry("fasi", FIRST_PHASE, "data_fine_effettiva", "forse")])
    lettura = read_workbook(target)
    assert "data-non-valida" in {a.codice for a in lettura.anomalie}
    assert _phase_end(lettura) is None


def _phase_end(lettura: Lettura) -> date | None:
    assert lettura.compilata is not None
    fasi = [f for o in lettura.compilata.obiettivi for f in o.fasi if f.codice == FIRST_PHASE]
    return fasi[0].data_fine_effettiva


def _replace_in_zip(path: Path, old: str, new: str) -> None:
    import zipfile

    entries = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            entries[info.filename] = archive.read(info.filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data.replace(old.encode(), new.encode()))


def test_1904_date_system(scheda_reale: Path, tmp_path: Path) -> None:
    lettura = read_workbook(scheda_reale)
    sheet, end_cell = lettura.locate("fasi", FIRST_PHASE, "data_fine_effettiva")
    _, start_cell = lettura.locate("fasi", FIRST_PHASE, "data_inizio_effettiva")
    wb = openpyxl.load_workbook(scheda_reale)
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb[sheet][end_cell] = date(2021, 11, 30)
    # A bare serial (format lost by a paste) counts from 1904 too.
    wb[sheet][start_cell] = (date(2021, 2, 1) - date(1904, 1, 1)).days
    wb[sheet][start_cell].number_format = "General"
    wb.save(tmp_path / "mac.xlsx")
    back = read_workbook(tmp_path / "mac.xlsx")
    assert back.compilata is not None
    fase = back.compilata.obiettivi[0].fasi[0]
    assert (fase.data_inizio_effettiva, fase.data_fine_effettiva) == (date(2021, 2, 1), date(2021, 11, 30))
    # Locked planned dates still compare equal: no tamper finding from the epoch alone.
    assert "cella-bloccata-modificata" not in [a.codice for a in back.anomalie]


def test_tamper_locked_cell_named_with_original(scheda_reale: Path, tmp_path: Path) -> None:
    target = _edit(scheda_reale, tmp_path / "t.xlsx", "Indicatori", f"F{FIRST_DATA_ROW}", 50)
    [finding] = [a for a in read_workbook(target).anomalie if a.codice == "cella-bloccata-modificata"]
    assert (finding.foglio, finding.cella, finding.valore) == ("Indicatori", f"F{FIRST_DATA_ROW}", "50")
    assert "100" in finding.messaggio and finding.gravita == "errore"


def test_tamper_planned_date_and_text(scheda_reale: Path, tmp_path: Path) -> None:
    step = _edit(scheda_reale, tmp_path / "a.xlsx", "Fasi", f"E{FIRST_DATA_ROW}", date(2022, 1, 31))
    target = _edit(step, tmp_path / "b.xlsx", "Obiettivi", f"B{FIRST_DATA_ROW}", "Titolo cambiato")
    found = {(a.foglio, a.cella) for a in read_workbook(target).anomalie if a.codice == "cella-bloccata-modificata"}
    assert found == {("Fasi", f"E{FIRST_DATA_ROW}"), ("Obiettivi", f"B{FIRST_DATA_ROW}")}


def test_inserted_row_is_reported_and_values_still_read(scheda_reale: Path, tmp_path: Path) -> None:
    filled = tmp_path / "f.xlsx"
    fill_workbook(scheda_reale, filled, [Entry("fasi", "Ob_Obiet093901", "monitoraggio", "scritto")])
    wb = openpyxl.load_workbook(filled)
    wb["Fasi"].insert_rows(FIRST_DATA_ROW + 1)
    wb.save(tmp_path / "ins.xlsx")
    lettura = read_workbook(tmp_path / "ins.xlsx")
    assert "riga-spostata" in [a.codice for a in lettura.anomalie]
    assert lettura.compilata is not None
    fase = next(f for o in lettura.compilata.obiettivi for f in o.fasi if f.codice == "Ob_Obiet093901")
    assert fase.monitoraggio == "scritto"


def test_deleted_row_is_reported(scheda_reale: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    wb["Fasi"].delete_rows(FIRST_DATA_ROW + 2)
    wb.save(tmp_path / "del.xlsx")
    missing = [a for a in read_workbook(tmp_path / "del.xlsx").anomalie if a.codice == "riga-mancante"]
    assert [a.valore for a in missing] == ["Ob_Obiet093902"]  # third row of the Fasi table (code order)


def test_renamed_sheet_is_reported_and_read(scheda_reale: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    wb["Fasi"].title = "Fasi (2)"
    wb.save(tmp_path / "ren.xlsx")
    lettura = read_workbook(tmp_path / "ren.xlsx")
    [finding] = [a for a in lettura.anomalie if a.codice == "foglio-mancante"]
    assert "Fasi (2)" in finding.messaggio
    assert lettura.compilata is not None


def test_altered_metadata_is_an_error(scheda_reale: Path, tmp_path: Path, piano: Piano) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    meta = wb["Metadati"]
    row = next(r for r in meta.iter_rows() if r[0].value == "impronta")
    row[1].value = "0" * 64
    wb.save(tmp_path / "meta.xlsx")
    codes = [a.codice for a in read_workbook(tmp_path / "meta.xlsx", piano=piano).anomalie]
    assert "metadati-alterati" in codes


def test_not_our_workbook(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "un foglio qualunque"  # type: ignore[index]
    wb.save(tmp_path / "altro.xlsx")
    lettura = read_workbook(tmp_path / "altro.xlsx")
    assert [a.codice for a in lettura.anomalie] == ["file-non-riconosciuto"]
    assert not lettura.leggibile and lettura.esito == "non leggibile"


def test_compared_with_plan(scheda_reale: Path, piano: Piano) -> None:
    other = piano.model_copy(deep=True)
    other.area("Area Servizi alla Persona").obiettivi[0].fasi[0].data_fine_prevista = date(2021, 11, 30)
    lettura = verify_file(scheda_reale, piano=other)
    [finding] = [a for a in lettura.anomalie if a.codice == "differenza-dal-piano"]
    assert finding.foglio == "Fasi" and finding.fase == FIRST_PHASE and "30/11/2021" in finding.messaggio
    other_year = piano.model_copy(update={"anno": 2022})
    assert "piano-diverso" in [a.codice for a in verify_file(scheda_reale, piano=other_year).anomalie]


def test_annotated_copy_is_protected_and_commented(scheda_reale: Path, tmp_path: Path) -> None:
    returned = tmp_path / "ritorni"
    returned.mkdir()
    target = returned / scheda_reale.name
    fill_workbook(scheda_reale, target, [Entry("fasi", FIRST_PHASE, "data_fine_effettiva", "31/02/2021")])
    [report] = verify([target], annota=tmp_path / "annotate")
    assert report.annotata is not None and report.annotata.exists()
    wb = openpyxl.load_workbook(report.annotata)
    sheet, cell = report.lettura.locate("fasi", FIRST_PHASE, "data_fine_effettiva")
    assert wb[sheet][cell].comment is not None
    assert "Data non riconosciuta" in wb[sheet][cell].comment.text
    assert all(ws.protection.sheet for ws in wb.worksheets)
    assert wb.security is not None and wb.security.lockStructure
    # The annotated copy is itself a valid scheda.
    assert read_workbook(report.annotata).metadati is not None


def test_json_report_shape(scheda_reale: Path) -> None:
    [report] = verify([scheda_reale])
    data = report.to_json()
    assert set(data) == {"file", "area", "esito", "anomalie"}
    json.dumps(data)


def test_input_never_modified(scheda_reale: Path, tmp_path: Path) -> None:
    copy = tmp_path / scheda_reale.name
    shutil.copy(scheda_reale, copy)
    before = copy.read_bytes()
    verify([copy], annota=tmp_path / "a")
    assert copy.read_bytes() == before


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.lists(st.integers(min_value=0, max_value=364), min_size=21, max_size=21),
    texts=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60), min_size=21, max_size=21),
    answers=st.lists(st.sampled_from(["SI", "NO", None]), min_size=21, max_size=21),
    numbers=st.lists(st.one_of(st.none(), st.floats(0, 1e6).map(lambda x: round(x, 2))), min_size=21, max_size=21),
)
def test_round_trip_property(
    scheda_reale: Path,
    tmp_path: Path,
    days: list[int],
    texts: list[str],
    answers: list[str | None],
    numbers: list[float | None],
) -> None:
    from datetime import timedelta

    from seregno_xlsx.ritorni.values import parse_text

    lettura = read_workbook(scheda_reale)
    assert lettura.metadati is not None
    fasi = [f for o in lettura.metadati.area.obiettivi for f in o.fasi]
    si_no = {i.codice: i.si_no for o in lettura.metadati.area.obiettivi for i in o.indicatori}
    # SI/NO indicators take an answer, the others a number.
    typed = [a if si_no[f.codice] else n for f, a, n in zip(fasi, answers, numbers, strict=True)]
    entries = []
    for fase, day, text, value in zip(fasi, days, texts, typed, strict=True):
        entries.append(Entry("fasi", fase.codice, "data_fine_effettiva", date(2021, 1, 1) + timedelta(days=day)))
        entries.append(Entry("fasi", fase.codice, "monitoraggio", text))
        entries.append(Entry("indicatori", fase.codice, "prima_rilevazione", value))
    target = tmp_path / "prop.xlsx"
    fill_workbook(scheda_reale, target, entries)
    back = read_workbook(target)
    assert back.compilata is not None
    read_fasi = {f.codice: f for o in back.compilata.obiettivi for f in o.fasi}
    read_ind = {i.codice: i for o in back.compilata.obiettivi for i in o.indicatori}
    for fase, day, text, value in zip(fasi, days, texts, typed, strict=True):
        assert read_fasi[fase.codice].data_fine_effettiva == date(2021, 1, 1) + timedelta(days=day)
        assert read_fasi[fase.codice].monitoraggio == parse_text(text).value
        expected = {None: None, "SI": 100.0, "NO": 0.0}.get(value, value)  # type: ignore[call-overload]
        assert read_ind[fase.codice].prima_rilevazione == expected


def _edit_metadata(source: Path, target: Path, old: str, new: str) -> Path:
    wb = openpyxl.load_workbook(source)
    for row in wb["Metadati"].iter_rows():
        if isinstance(row[1].value, str) and old in row[1].value:
            row[1].value = row[1].value.replace(old, new)
    wb.save(target)
    return target


def test_older_template_version(scheda_reale: Path, tmp_path: Path) -> None:
    current = f'"versione_modello":"{TEMPLATE_VERSION}"'
    target = _edit_metadata(scheda_reale, tmp_path / "v0.xlsx", current, '"versione_modello":"0"')
    [finding] = [a for a in read_workbook(target).anomalie if a.codice == "versione-modello-diversa"]
    assert finding.gravita == "errore" and finding.valore == "0"


def test_file_name_of_another_area(scheda_reale: Path, tmp_path: Path) -> None:
    target = tmp_path / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
    shutil.copy(scheda_reale, target)
    [finding] = [a for a in read_workbook(target).anomalie if a.codice == "nome-file-area-diversa"]
    assert finding.area == "Area Servizi alla Persona" and finding.gravita == "avviso"


def test_header_changed_and_columns_moved(scheda_reale: Path, tmp_path: Path) -> None:
    target = _edit(scheda_reale, tmp_path / "h.xlsx", "Fasi", "H4", "Note varie")
    found = [a for a in read_workbook(target).anomalie if a.codice == "intestazione-alterata"]
    assert [(a.foglio, a.cella, a.valore) for a in found] == [("Fasi", "H4", "Note varie")]


def test_foreign_row_is_reported(scheda_reale: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(scheda_reale)
    ws = wb["Fasi"]
    ws.cell(ws.max_row + 1, 2, "Ob_Obiet999901")
    wb.save(tmp_path / "x.xlsx")
    [finding] = [a for a in read_workbook(tmp_path / "x.xlsx").anomalie if a.codice == "riga-estranea"]
    assert finding.valore == "Ob_Obiet999901" and finding.cella == f"A{ws.max_row}"


def test_area_not_in_plan(scheda_reale: Path, piano: Piano) -> None:
    other = piano.model_copy(update={"aree": [a for a in piano.aree if a.nome != "Area Servizi alla Persona"]})
    codes = [a.codice for a in verify_file(scheda_reale, piano=other).anomalie]
    assert "area-non-nel-piano" in codes


def test_number_not_recognised(piano: Piano, tmp_path: Path) -> None:
    from seregno_xlsx.scheda.generation import generate

    [scheda] = generate(piano, tmp_path, aree=["Area Affari Generali"])
    numeric = next(i for o in piano.area("Area Affari Generali").obiettivi for i in o.indicatori if not i.si_no)
    target = tmp_path / "n.xlsx"
    fill_workbook(scheda.path, target, [Entry("indicatori", numeric.codice, "prima_rilevazione", "circa 40")])
    [finding] = [a for a in read_workbook(target).anomalie if a.codice == "numero-non-valido"]
    assert finding.fase == numeric.codice and finding.valore == "circa 40" and finding.foglio == "Indicatori"


@pytest.mark.parametrize(
    ("stored", "said"),
    [
        ("1e400", "la cella contiene un numero troppo grande"),  # beyond a float: no digits to quote
        ("1e16", "«10.000.000.000.000.000» non è un numero ammesso"),  # as an Italian reads it, not 1e+16
        ("-2.5e300", "«-2,5e+300» non è un numero ammesso"),
    ],
)
def test_number_out_of_range_is_quoted_as_a_reader_reads_it(
    scheda_reale: Path, piano: Piano, tmp_path: Path, stored: str, said: str
) -> None:
    from tests.hostile.round2 import set_cell, sheet_part

    numeric = next(i for o in piano.area(REAL_AREA).obiettivi for i in o.indicatori if not i.si_no)
    sheet, cell = read_workbook(scheda_reale).locate("indicatori", numeric.codice, "prima_rilevazione")
    target = set_cell(scheda_reale, tmp_path / "big.xlsx", sheet_part(scheda_reale, sheet), cell, f"<v>{stored}</v>")
    [finding] = [a for a in read_workbook(target).anomalie if a.codice == "numero-non-valido"]
    assert (finding.foglio, finding.cella) == (sheet, cell)
    assert said.casefold() in finding.messaggio.casefold() and "inf" not in finding.messaggio


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2021-07-10T08:30:00Z", datetime(2021, 7, 10, 10, 30)),  # Excel: UTC, read on the office's clock
        ("2021-01-10T08:30:00Z", datetime(2021, 1, 10, 9, 30)),  # winter time
        ("2021-07-10T10:30:00.25", datetime(2021, 7, 10, 10, 30, 0, 250000)),  # LibreOffice: the PC's own time
    ],
)
def test_compiled_time_is_on_the_office_clock_whatever_the_server(
    scheda_reale: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stamp: str, expected: datetime
) -> None:
    import re
    import time

    from tests.hostile.round2 import edit_xml

    monkeypatch.setenv("TZ", "UTC")  # a server in UTC: the office still reads Seregno's time
    time.tzset()
    try:

        def restamp(xml: str) -> str:
            return re.sub(r"(<dcterms:modified[^>]*>)[^<]*", lambda m: m.group(1) + stamp, xml)

        target = edit_xml(scheda_reale, tmp_path / "s.xlsx", "docProps/core.xml", restamp)
        assert read_workbook(target).compilato_il == expected
        # Without a stamp, the file's time, on the same clock as its receipt.
        bare = edit_xml(
            scheda_reale,
            tmp_path / "n.xlsx",
            "docProps/core.xml",
            lambda x: re.sub(r"<dcterms:modified.*?</dcterms:modified>", "", x),
        )
        os.utime(bare, (1625905800, 1625905800))  # 10/07/2021 08:30 UTC
        lettura = read_workbook(bare)
        assert lettura.compilato_il == lettura.ricevuto_il == datetime(2021, 7, 10, 10, 30)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_error_cell_is_not_read_as_empty(scheda_reale: Path, tmp_path: Path) -> None:
    """A real error cell (t="e"), as a client saves a failed formula, is an error, never "not filled"."""
    lettura = read_workbook(scheda_reale)
    sheet, cell = lettura.locate("indicatori", FIRST_PHASE, "prima_rilevazione")
    wb = openpyxl.load_workbook(scheda_reale)
    wb[sheet][cell] = "#VALUE!"
    assert wb[sheet][cell].data_type == "e"
    wb.save(tmp_path / "err.xlsx")
    [finding] = [a for a in read_workbook(tmp_path / "err.xlsx").anomalie if a.codice == "valore-errore"]
    assert (finding.foglio, finding.cella, finding.valore) == (sheet, cell, "#VALUE!")


def test_an_error_typed_over_a_prefilled_text_counts_as_blank(scheda_reale: Path, tmp_path: Path) -> None:
    # Ob_Obiet093802's monitoring comes prefilled from the export; «#NAME?» over it is no text (found by
    # test_round_trip_property): the area overwrote the prefill, so it reads as a blank, never the prefill.
    target = tmp_path / "errore.xlsx"
    fill_workbook(scheda_reale, target, [Entry("fasi", "Ob_Obiet093802", "monitoraggio", "#NAME?")])
    back = read_workbook(target)
    assert back.compilata is not None
    fase = next(f for o in back.compilata.obiettivi for f in o.fasi if f.codice == "Ob_Obiet093802")
    assert fase.monitoraggio == ""
    assert "valore-errore" in {a.codice for a in back.anomalie}
