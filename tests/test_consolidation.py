"""`consolida`: the returned workbooks of a folder into one master, nothing lost."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import zipfile
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master import scoring
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.layout import TABLES
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.piano.regole_indicatori import apply_rules, load_rules
from seregno_xlsx.piano.revisions import with_area_codes
from seregno_xlsx.ritorni.reader import compare_with_plan, read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata, generate
from seregno_xlsx.scheda.layout import TEMPLATE_VERSION
from seregno_xlsx.simulation import Entry, fill_workbook, sample_entries

from .conftest import FONTI, ROOT

ESEMPI = ROOT / "esempi"
STRUCTURAL = {
    "file-non-riconosciuto",
    "metadati-alterati",
    "versione-modello-diversa",
    "foglio-mancante",
    "intestazione-alterata",
    "riga-mancante",
    "riga-spostata",
    "riga-estranea",
    "cella-bloccata-modificata",
}


def _fill_all(schede: list[SchedaGenerata], piano: Piano, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed, scheda in enumerate(schede, start=1):
        entries = sample_entries(piano.area(scheda.area), Rilevazione.INTERMEDIA, seed=seed, anno=piano.anno)
        target = folder / scheda.path.name
        fill_workbook(scheda.path, target, entries)
        paths.append(target)
    return paths


def _set_modified(path: Path, when: datetime) -> None:
    """Rewrite the saving time in docProps/core.xml, as a client saving at ``when`` would."""
    entries = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            entries[info.filename] = archive.read(info.filename)
    core = entries["docProps/core.xml"].decode()
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{stamp}\g<2>", core)
    entries["docProps/core.xml"] = core.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def _sheet_rows(path: Path, sheet: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))[_header_row(sheet) :]
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def _header_row(sheet: str) -> int:
    """0-based row of the sheet's table header, from the master's layout."""
    return next(s.header_row for s in TABLES if s.name == sheet)


@pytest.fixture
def ritorni(piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path) -> Path:
    _fill_all(schede_intermedia, piano, tmp_path / "ritorni")
    return tmp_path / "ritorni"


def test_round_trip_every_value_and_every_percentage(ritorni: Path, tmp_path: Path) -> None:
    master = tmp_path / "consolidato.xlsx"
    result = consolidate(ritorni, master, data_riferimento=date(2021, 9, 30))
    assert result.master == master and master.exists()
    assert [f.stato for f in result.fonti] == ["accettato"] * 3
    letture = {item.area: item for item in (read_workbook(p) for p in sorted(ritorni.iterdir()))}
    regole = scoring.Regole()
    # Every value read is written: the reconciliation holds.
    assert result.summary is not None
    assert result.valori_letti == result.summary.valori_scritti == sum(item.valori_letti for item in letture.values())
    indicatori = _sheet_rows(master, "Indicatori")
    assert len(indicatori) == sum(
        len(o.indicatori) for item in letture.values() if item.compilata for o in item.compilata.obiettivi
    )
    by_code = {(r["Area"], r["Codice attività"]): r for r in indicatori}
    for area, lettura in letture.items():
        assert lettura.compilata is not None
        for obiettivo in lettura.compilata.obiettivi:
            for indicatore in obiettivo.indicatori:
                row = by_code[(area, indicatore.codice)]
                assert row["1° rilevazione"] == indicatore.prima_rilevazione
                expected = scoring.indicator_pct(indicatore, Rilevazione.INTERMEDIA, regole)
                assert (
                    (row["% raggiungimento"] in (None, ""))
                    if expected is None
                    else (row["% raggiungimento"] == pytest.approx(expected))
                )
    obiettivi = {(r["Area"], r["Codice"]): r for r in _sheet_rows(master, "Obiettivi")}
    riepilogo = {r["Area"]: r for r in _sheet_rows(master, "Riepilogo")}
    for area, lettura in letture.items():
        assert lettura.compilata is not None
        for obiettivo in lettura.compilata.obiettivi:
            expected = scoring.objective_pct(obiettivo, Rilevazione.INTERMEDIA, regole)
            got = obiettivi[(area, obiettivo.codice)]["% raggiungimento"]
            assert (got in (None, "")) if expected is None else got == pytest.approx(expected)
        expected_area = scoring.area_pct(lettura.compilata, Rilevazione.INTERMEDIA, regole)
        assert riepilogo[area]["% raggiungimento ponderata"] == pytest.approx(expected_area)
        # What the terminal's summary prints per area, found as each area counted.
        assert result.pct_aree[area] == pytest.approx(expected_area)
    assert set(result.pct_aree) == set(letture)


def test_master_formulas_are_live(ritorni: Path, tmp_path: Path) -> None:
    master = tmp_path / "m.xlsx"
    consolidate(ritorni, master)
    wb = openpyxl.load_workbook(master)
    for sheet, header in (
        ("Indicatori", "% raggiungimento"),
        ("Obiettivi", "% raggiungimento"),
        ("Riepilogo", "% raggiungimento ponderata"),
        ("Personale", "% raggiungimento ponderata"),
    ):
        ws = wb[sheet]
        first = _header_row(sheet) + 1
        col = [c.value for c in ws[first]].index(header) + 1
        values = [ws.cell(r, col).value for r in range(first + 1, ws.max_row + 1)]
        formulas = [v for v in values if isinstance(v, str) and v.startswith("=")]
        assert formulas and len(formulas) == len([v for v in values if v is not None]), sheet
        assert not any(f in v for v in formulas for f in ("XLOOKUP", "LET(", "FILTER(", "_xlfn")), sheet


def _affari_generali_returned(schede: list[SchedaGenerata], tmp_path: Path, entries: list[Entry]) -> Path:
    """A returns folder holding only the Affari Generali scheda, filled with ``entries``."""
    scheda = next(s for s in schede if s.area == "Area Affari Generali")
    folder = tmp_path / "in"
    folder.mkdir()
    fill_workbook(scheda.path, folder / scheda.path.name, entries)
    return folder


def test_text_from_workbooks_stays_text_in_master(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    obiettivo = piano.area("Area Affari Generali").obiettivi[0]
    payloads = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
    entries = [
        Entry("fasi", obiettivo.fasi[0].codice, "monitoraggio", " | ".join(payloads)),
        Entry("obiettivi", obiettivo.codice, "note", payloads[0]),
    ]
    folder = _affari_generali_returned(schede_intermedia, tmp_path, entries)
    master = tmp_path / "m.xlsx"
    consolidate(folder, master)
    wb = openpyxl.load_workbook(master)
    texts = [
        c
        for ws in (wb["Fasi"], wb["Obiettivi"], wb["Indicatori"])
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and ("HYPERLINK" in c.value or "cmd|" in c.value)
    ]
    assert texts and all(c.data_type == "s" for c in texts)


# XlsxWriter writes a text from «<r>» to «</r>» into the XML as it is (its prepared rich text): this one
# closed its cell and added a cell with a live link in column Z of the master and of its extracts.
RICH_LOOKING = (
    '<r><t>x</t></r></is></c><c r="Z1"><f>HYPERLINK("http://evil.example","clic")</f></c>'
    '<c r="Z2" t="inlineStr"><is><r><t>y</t></r>'
)


def test_text_that_looks_like_xml_stays_text_in_master(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    obiettivo = piano.area("Area Affari Generali").obiettivi[0]
    entries = [
        Entry("obiettivi", obiettivo.codice, "note", RICH_LOOKING),
        Entry("fasi", obiettivo.fasi[0].codice, "monitoraggio", RICH_LOOKING),
    ]
    folder = _affari_generali_returned(schede_intermedia, tmp_path, entries)
    master = tmp_path / "m.xlsx"
    result = consolidate(folder, master, estratti=tmp_path / "estratti")
    for path in (master, *(e.path for e in result.estratti)):
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert not any(isinstance(c.value, str) and "evil.example" in c.value and c.data_type == "f" for c in cells)
        assert all(ws["Z1"].value is None for ws in wb.worksheets), path
    shown = [c.value for ws in openpyxl.load_workbook(master).worksheets for row in ws.iter_rows() for c in row]
    assert shown.count(RICH_LOOKING) >= 2  # the note and the monitoring, as typed


def test_last_received_of_two_files_for_one_area_wins(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """The time the office received the file decides, never the save stamp the sender controls."""
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    fase = piano.area("Area Affari Generali").obiettivi[0].fasi[0].codice
    folder = tmp_path / "in"
    folder.mkdir()
    old, new = folder / "vecchia.xlsx", folder / "nuova.xlsx"
    fill_workbook(scheda.path, old, [Entry("fasi", fase, "monitoraggio", "prima versione")])
    fill_workbook(scheda.path, new, [Entry("fasi", fase, "monitoraggio", "versione corretta")])
    _set_modified(old, datetime(2099, 7, 20, 10, 0))  # a stale file claiming a save in 2099
    _set_modified(new, datetime(2021, 7, 25, 10, 0))
    os.utime(old, (datetime(2021, 7, 20, 10, 0).timestamp(),) * 2)
    os.utime(new, (datetime(2021, 7, 26, 9, 0).timestamp(),) * 2)
    result = consolidate(folder, tmp_path / "m.xlsx")
    stati = {f.file: (f.stato, f.motivo) for f in result.fonti}
    assert stati["nuova.xlsx"][0] == "accettato"
    assert stati["vecchia.xlsx"][0] == "sostituito" and "nuova.xlsx" in stati["vecchia.xlsx"][1]
    assert "data di ricezione" in stati["vecchia.xlsx"][1] and "26/07/2021" in stati["vecchia.xlsx"][1]
    assert "file-sostituito" in [a.codice for a in result.anomalie]
    fasi = _sheet_rows(tmp_path / "m.xlsx", "Fasi")
    assert next(r for r in fasi if r["Codice fase"] == fase)["Monitoraggio"] == "versione corretta"


def test_bad_files_never_stop_the_others(ritorni: Path, tmp_path: Path) -> None:
    (ritorni / "rotto.xlsx").write_bytes(b"PK\x03\x04 non proprio uno zip")
    (ritorni / "vuoto.xlsx").write_bytes(b"")
    (ritorni / "~$Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx").write_bytes(b"lock")
    (ritorni / ".~lock.Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx#").write_text("lock")
    (ritorni / "cartella.xlsx").mkdir()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ritorni.iterdir() if p.is_file()}
    result = consolidate(ritorni, tmp_path / "m.xlsx")
    stati = {f.file: f.stato for f in result.fonti}
    assert stati == {
        "~$Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx": "ignorato",
        ".~lock.Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx#": "ignorato",
        "cartella.xlsx": "ignorato",
        "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx": "accettato",
        "Obiettivi_2021_Area_Lavori_Pubblici_e_Manutenzioni_intermedia.xlsx": "accettato",
        "Obiettivi_2021_Area_Servizi_alla_Persona_intermedia.xlsx": "accettato",
        "rotto.xlsx": "rifiutato",
        "vuoto.xlsx": "rifiutato",
    }
    assert result.master is not None and result.exit_code == 1
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ritorni.iterdir() if p.is_file()}
    assert after == before
    fonti = _sheet_rows(tmp_path / "m.xlsx", "Fonti")
    assert {r["File"] for r in fonti} == set(stati)
    assert all(len(str(r["SHA-256"])) == 64 for r in fonti if r["Stato"] == "accettato")


def test_our_own_master_and_extracts_among_the_returns_are_ignored_not_rejected(ritorni: Path, tmp_path: Path) -> None:
    first = consolidate(ritorni, tmp_path / "prima.xlsx", estratti=tmp_path / "estratti")
    assert first.exit_code == 0
    # Left in the returns folder: last month's master under another name, and two extracts.
    shutil.copy(tmp_path / "prima.xlsx", ritorni / "consolidato_settembre.xlsx")
    for estratto in first.estratti[-2:]:
        shutil.copy(estratto.path, ritorni / estratto.path.name)
    ours = {"consolidato_settembre.xlsx", *(e.path.name for e in first.estratti[-2:])}
    result = consolidate(ritorni, tmp_path / "m.xlsx")
    fonti = {f.file: f for f in result.fonti}
    assert {name: (fonti[name].stato, fonti[name].motivo) for name in ours} == dict.fromkeys(
        ours, ("ignorato", "master/estratto di seregno-xlsx, non una scheda")
    )
    assert [f.stato for f in result.fonti].count("accettato") == 3
    assert result.exit_code == 0 and not [a for a in result.anomalie if a.codice == "file-non-riconosciuto"]
    assert {r["File"]: r["Stato"] for r in _sheet_rows(tmp_path / "m.xlsx", "Fonti")}["consolidato_settembre.xlsx"] == (
        "ignorato"
    )


def test_missing_areas_listed_with_plan(ritorni: Path, piano: Piano, tmp_path: Path) -> None:
    next(ritorni.glob("*Lavori_Pubblici*")).unlink()
    result = consolidate(ritorni, tmp_path / "m.xlsx", piano=piano)
    missing = [a for a in result.anomalie if a.codice == "area-senza-risposta"]
    assert [a.area for a in missing] == ["Area Lavori Pubblici e Manutenzioni"]


def test_other_round_and_other_plan_are_rejected(
    ritorni: Path, piano: Piano, schede_finale: list[SchedaGenerata], tmp_path: Path
) -> None:
    finale = next(s for s in schede_finale if s.area == "Area Affari Generali")
    shutil.copy(finale.path, ritorni / "finale.xlsx")
    other = piano.model_copy(update={"anno": 2022})
    [altro] = generate(other, tmp_path / "altro", aree=["Area Affari Generali"])
    shutil.copy(altro.path, ritorni / "altro_piano.xlsx")
    result = consolidate(ritorni, tmp_path / "m.xlsx")
    stati = {f.file: f.stato for f in result.fonti}
    assert stati["finale.xlsx"] == "rifiutato" and stati["altro_piano.xlsx"] == "rifiutato"
    codes = {a.codice for a in result.anomalie}
    assert {"rilevazione-diversa", "piano-diverso"} <= codes


def test_nothing_to_consolidate_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.xlsx").write_bytes(b"nonsense")
    result = consolidate(tmp_path / "in", tmp_path / "m.xlsx")
    assert result.master is None and result.exit_code == 2
    assert not (tmp_path / "m.xlsx").exists()


def test_examples_match_current_template() -> None:
    """esempi/ is rebuilt by esempi/genera_esempi.py; its files must be readable by this version."""
    piano, _ = apply_rules(parse_exports(FONTI)[0], load_rules(ESEMPI / "regole_indicatori.toml"))
    stored = Piano.from_json((ESEMPI / "piano_2021.json").read_text(encoding="utf-8"))
    # The fingerprint key is new with every import, and the office set some shares of time in the plan
    # (esempi/genera_esempi.py): the rest must be equal.
    assert stored.chiave_impronta is not None
    spec = importlib.util.spec_from_file_location("genera_esempi", ESEMPI / "genera_esempi.py")
    assert spec is not None and spec.loader is not None
    genera_esempi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(genera_esempi)
    assert stored == genera_esempi.with_shares(with_area_codes(piano)).model_copy(
        update={"chiave_impronta": stored.chiave_impronta}
    )
    for folder in ("schede", "ritorni"):
        files = sorted((ESEMPI / folder).glob("*.xlsx"))
        assert len(files) == len(piano.aree)
        for path in files:
            lettura = read_workbook(path, piano=stored)
            assert lettura.leggibile and "metadati-alterati" not in {a.codice for a in lettura.anomalie}
            assert lettura.metadati is not None and lettura.metadati.versione_modello == TEMPLATE_VERSION
            assert not STRUCTURAL & {a.codice for a in lettura.anomalie}, path.name
            assert compare_with_plan(lettura.metadati, piano) == [], path.name


def test_anomalie_name_the_file_each_finding_comes_from(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """Two files of one area: a finding of either names its own file, whichever of the two is accepted."""
    scheda = next(s for s in schede_intermedia if s.area == "Area Affari Generali")
    folder = tmp_path / "in"
    folder.mkdir()
    bad = [Entry("fasi", "Ob_Obiet130101", "data_fine_effettiva", "31/13/2021")]
    fill_workbook(scheda.path, folder / "A_errata.xlsx", bad)
    fill_workbook(scheda.path, folder / "B_buona.xlsx", [])
    result = consolidate(folder, tmp_path / "m.xlsx", data_riferimento=date(2021, 9, 30))
    assert result.master is not None
    ws = openpyxl.load_workbook(result.master)["Anomalie"]
    codice, dove = (TABLES[6].index(k) + 1 for k in ("codice", "dove"))
    assert TABLES[6].name == "Anomalie"
    [where] = [
        ws.cell(r, dove).value for r in range(2, ws.max_row + 1) if ws.cell(r, codice).value == "data-non-valida"
    ]
    assert str(where).startswith("A_errata.xlsx › Fasi › ")


@pytest.mark.parametrize("mancante", [scoring.MissingValue.ESCLUSO, scoring.MissingValue.ZERO])
def test_invalid_value_counts_exactly_as_missing(tmp_path: Path, mancante: scoring.MissingValue) -> None:
    """-5 typed as the 1° rilevazione: flagged, shown as «valore non valido», never better than a blank."""
    source = ESEMPI / "ritorni" / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
    results = {}
    for name, value in (("invalido", -5), ("vuoto", None)):
        folder = tmp_path / name
        folder.mkdir()
        fill_workbook(source, folder / source.name, [Entry("indicatori", "Ob_Obiet130102", "prima_rilevazione", value)])
        master = tmp_path / f"{name}.xlsx"
        regole = scoring.Regole(mancante_intermedia=mancante)
        result = consolidate(folder, master, data_riferimento=date(2021, 9, 30), regole=regole)
        [area] = _sheet_rows(master, "Riepilogo")[:1]
        [row] = [r for r in _sheet_rows(master, "Indicatori") if r["Codice attività"] == "Ob_Obiet130102"]
        results[name] = (result, area, row)
    (bad, bad_area, bad_row), (_, blank_area, blank_row) = results["invalido"], results["vuoto"]
    assert any(a.codice == "valore-negativo" and a.gravita == "errore" for a in bad.anomalie)
    assert bad_row["1° rilevazione"] == "valore non valido (-5)"
    assert bad_row["% raggiungimento"] == blank_row["% raggiungimento"] == (0 if mancante == "zero" else None)
    assert bad_area["% raggiungimento ponderata"] == blank_area["% raggiungimento ponderata"]
    assert (
        bad_area["Valori non validi (contati come mancanti)"],
        blank_area["Valori non validi (contati come mancanti)"],
    ) == (1, 0)
    assert bad_area["Indicatori senza valore"] == blank_area["Indicatori senza valore"] - 1
    assert bad.summary is not None and bad.summary.valori_scritti == bad.valori_letti  # nothing lost from view


def test_invalid_values_are_removed_once_for_the_master_and_its_extracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One place removes an invalid value (scoring.counted_areas): the master, the extracts and the next
    round's plan take the same copy, and each still shows what was read."""
    source = ESEMPI / "ritorni" / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
    folder = tmp_path / "ritorni"
    folder.mkdir()
    fill_workbook(source, folder / source.name, [Entry("indicatori", "Ob_Obiet130102", "prima_rilevazione", -5)])
    copies: list[str] = []
    real = scoring.without_invalid_values

    def counting(area: Area, rilevazione: Rilevazione, invalid: Collection[str]) -> Area:
        if invalid:
            copies.append(area.nome)
        return real(area, rilevazione, invalid)

    monkeypatch.setattr(scoring, "without_invalid_values", counting)
    master = tmp_path / "m.xlsx"
    result = consolidate(folder, master, data_riferimento=date(2021, 9, 30), estratti=tmp_path / "estratti")
    assert copies == ["Area Affari Generali"]
    [ind] = [i for o in result.aree[0].obiettivi for i in o.indicatori if i.codice == "Ob_Obiet130102"]
    assert ind.prima_rilevazione is None
    assert result.non_validi == {"Area Affari Generali": {"Ob_Obiet130102"}}
    extract = next(e.path for e in result.estratti if e.destinatario == "Area Affari Generali")
    for path in (master, extract):
        [row] = [r for r in _sheet_rows(path, "Indicatori") if r["Codice attività"] == "Ob_Obiet130102"]
        assert row["1° rilevazione"] == "valore non valido (-5)", path.name


def test_invalid_value_second_engine_agrees(tmp_path: Path) -> None:
    """The formulas take «valore non valido» as missing: `formulas` recomputes the cached values."""
    from .test_libreoffice_master import differences, formula_expectations, formulas_values

    source = ESEMPI / "ritorni" / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
    folder = tmp_path / "ritorni"
    folder.mkdir()
    fill_workbook(source, folder / source.name, [Entry("indicatori", "Ob_Obiet130102", "prima_rilevazione", -5)])
    master = tmp_path / "m.xlsx"
    regole = scoring.Regole(mancante_intermedia=scoring.MissingValue.ZERO)
    consolidate(folder, master, data_riferimento=date(2021, 9, 30), regole=regole)
    want = formula_expectations(master)
    got = formulas_values(master)
    assert differences(got, want) == []


@pytest.mark.parametrize(
    ("folder", "rilevazione", "rettifiche"),
    [
        ("ritorni", Rilevazione.INTERMEDIA, None),
        ("finale/ritorni", Rilevazione.FINALE, None),
        ("finale/ritorni", Rilevazione.FINALE, "rettifiche_2021.csv"),
    ],
)
def test_a_compilation_kept_as_its_worker_compressed_it_is_the_area_that_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, rilevazione: Rilevazione, rettifiche: str | None
) -> None:
    """The bytes a worker compressed are kept for the master only while nothing has changed the area since
    (carried onto the version in force, an invalid value removed, a correction): each kept is the area."""
    from seregno_xlsx.piano.compresse import AreeCompresse, expand

    kept: list[tuple[Area, bytes]] = []
    real = AreeCompresse.append

    def append(self: AreeCompresse, area: Area, compressed: bytes = b"") -> None:
        kept.append((area.model_copy(deep=True), compressed))
        real(self, area, compressed)

    monkeypatch.setattr(AreeCompresse, "append", append)
    returns = tmp_path / "ritorni"
    shutil.copytree(ESEMPI / folder, returns)
    # One area with an invalid value: its counted copy must be compressed again.
    [first] = returns.glob("*Affari_Generali*.xlsx")
    field = "prima_rilevazione" if rilevazione is Rilevazione.INTERMEDIA else "valore_raggiunto"
    fill_workbook(first, first, [Entry("indicatori", "Ob_Obiet130102", field, -5)])
    plan = ESEMPI / "finale" / "piano_2021.json" if rilevazione is Rilevazione.FINALE else ESEMPI / "piano_2021.json"
    result = consolidate(
        returns,
        tmp_path / "m.xlsx",
        piano=Piano.from_json(plan.read_text(encoding="utf-8")),
        rilevazione=rilevazione,
        rettifiche=ESEMPI / rettifiche if rettifiche else None,
        processi=1,
    )
    assert result.master is not None and result.non_validi
    reused = [(area, blob) for area, blob in kept if blob]
    for area, blob in reused:
        assert expand(blob) == area, area.nome
    names = {area.nome for area in result.aree}
    assert len(names) == 3
    if rettifiche:  # each waits for the corrections as its worker compressed it, then is compressed again
        assert sorted(area.nome for area, _ in reused) == sorted(names)
    else:  # the area with an invalid value counts as a copy without it, compressed again
        assert sorted(area.nome for area, _ in reused) == sorted(names - {"Area Affari Generali"})
