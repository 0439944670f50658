"""The parser of the management system's text export, on the real file and broken copies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seregno_xlsx.errors import SourceError
from seregno_xlsx.findings import Anomalia
from seregno_xlsx.piano.export_parser import (
    PAGE_HEADER,
    parse_export,
    parse_exports,
    parse_italian_date,
    parse_italian_number,
)
from seregno_xlsx.piano.model import Obiettivo, Piano

FONTI = Path(__file__).resolve().parent.parent / "esempi" / "fonti"
REALE = FONTI / "area_servizi_persona_2021.txt"
LAVORI_PUBBLICI = FONTI / "area_lavori_pubblici_2021.txt"
AFFARI_GENERALI = FONTI / "area_affari_generali_2021.txt"


@pytest.fixture(scope="module")
def reale() -> tuple[Piano, list[Anomalia]]:
    return parse_export(REALE)


@pytest.fixture(scope="module")
def obiettivi(reale: tuple[Piano, list[Anomalia]]) -> dict[str, Obiettivo]:
    return {obiettivo.codice: obiettivo for obiettivo in reale[0].aree[0].obiettivi}


def _texts(value: object) -> Iterator[str]:
    """Every string anywhere in a dumped model."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


# --- the real export ---------------------------------------------------------


def test_real_plan_header(reale: tuple[Piano, list[Anomalia]]) -> None:
    piano, _ = reale
    assert piano.ente == "Città di Seregno"
    assert piano.anno == 2021
    assert piano.titolo == "Interventi correttivi Piano degli obiettivi 2021"
    assert "140/2021" in piano.delibera
    assert [(a.nome, a.responsabile) for a in piano.aree] == [("Area Servizi alla Persona", "Emanuela Danili")]


def test_real_counts(reale: tuple[Piano, list[Anomalia]]) -> None:
    obiettivi = reale[0].aree[0].obiettivi
    assert len(obiettivi) == 12
    assert sum(len(o.fasi) for o in obiettivi) == 21
    assert sum(len(o.indicatori) for o in obiettivi) == 21


def test_real_codes_and_weights(reale: tuple[Piano, list[Anomalia]]) -> None:
    obiettivi = reale[0].aree[0].obiettivi
    assert [o.codice for o in obiettivi] == [
        "Ob_Obiet0937",
        "Ob_Obiet0939",
        "Ob_Obiet0894",
        "Ob_Obiet0919",
        "Ob_Obiet0967",
        "Ob_Obiet0884",
        "Ob_Obiet0885",
        "Ob_Obiet0887",
        "Ob_Obiet0965",
        "Ob_Obiet0938",
        "Ob_Obiet0934",
        "Ob_Obiet0968",
    ]
    assert obiettivi[0].peso == 5
    assert obiettivi[0].titolo.startswith("ATTIVARE PROGETTI INTERSETTORIALI")
    by_title = {o.titolo.split(" ")[0]: o for o in obiettivi}
    assert by_title["RISOLUZIONE"].peso == 4
    assert by_title["INNOVAZIONE"].peso == 3
    assert by_title["INNOVAZIONE"].titolo.startswith("INNOVAZIONE E DIGITALIZZAZIONE")
    assert all("*" not in o.titolo for o in obiettivi)
    assert obiettivi[2].titolo.startswith("GESTIONE CONTRATTI")  # "*****GESTIONE": no space after the stars
    assert obiettivi[2].peso == 5


def test_real_phase_order_and_dates(obiettivi: dict[str, Obiettivo]) -> None:
    agenzia = obiettivi["Ob_Obiet0939"]
    assert [f.codice for f in agenzia.fasi] == ["Ob_Obiet093902", "Ob_Obiet093901"]  # as in the Fasi table
    assert [i.codice for i in agenzia.indicatori] == ["Ob_Obiet093901", "Ob_Obiet093902"]
    fase2, fase1 = agenzia.fasi
    assert fase2.data_inizio_prevista == date(2021, 9, 1)
    assert fase2.data_inizio_effettiva == date(2021, 9, 1)
    assert fase2.data_fine_effettiva is None
    assert fase1.data_fine_prevista == date(2021, 12, 30)
    assert fase1.data_inizio_effettiva is None
    assert agenzia.data_inizio_prevista == date(2021, 1, 1)
    assert agenzia.data_fine_prevista == date(2021, 12, 31)
    assert agenzia.data_inizio_effettiva == date(2021, 9, 1)
    assert agenzia.data_fine_effettiva is None
    assert agenzia.condizione == ""


def test_real_header_fields(obiettivi: dict[str, Obiettivo]) -> None:
    primo = obiettivi["Ob_Obiet0937"]
    assert primo.linea_strategica == "3. SCELGO SEREGNO: DALLA PARTE DEI SERVIZI"
    assert primo.missione == "Diritti sociali, politiche sociali e famiglia"
    assert primo.cdc_associato == "1-Piano di Zona"
    assert primo.responsabile == "DANILI Emanuela"
    assert obiettivi["Ob_Obiet0938"].indirizzi_dup == "EXTRA DUP"


def test_real_people(obiettivi: dict[str, Obiettivo]) -> None:
    persone = obiettivi["Ob_Obiet0967"].risorse_umane
    danili = [p for p in persone if p.matricola == "00002311"]
    assert len(danili) == 1
    assert danili[0].nome == "DANILI Emanuela"
    assert danili[0].categoria == "Dirigente"
    # The table repeats its header after a page break: both blocks are read.
    assert [p.matricola for p in obiettivi["Ob_Obiet0937"].risorse_umane] == ["54", "91"]
    bagarotti = obiettivi["Ob_Obiet0937"].risorse_umane[0]
    assert (bagarotti.categoria, bagarotti.nome) == ("Categoria D3", "BAGAROTTI ANDREA")
    assert len(obiettivi["Ob_Obiet0884"].risorse_umane) == 22


def test_real_page_split_text_is_joined(reale: tuple[Piano, list[Anomalia]], obiettivi: dict[str, Obiettivo]) -> None:
    assert "Pieno coinvolgimento e partecipazione attiva" in obiettivi["Ob_Obiet0938"].definizione
    assert "\n" not in obiettivi["Ob_Obiet0938"].definizione
    assert "indigenti ovvero mensa della solidarietà" in obiettivi["Ob_Obiet0887"].risultato_atteso
    # A new paragraph after a page break stays a paragraph.
    assert "- l'Asilo Nido;\n- il Centro Diurno Disabili" in obiettivi["Ob_Obiet0884"].definizione
    assert all(PAGE_HEADER not in text for text in _texts(reale[0].model_dump()))


def test_real_phase_text_differences(reale: tuple[Piano, list[Anomalia]], obiettivi: dict[str, Obiettivo]) -> None:
    diversi = {a.fase: a for a in reale[1] if a.codice == "testo-fase-diverso"}
    assert set(diversi) == {"Ob_Obiet093801", "Ob_Obiet096702"}
    assert "sovrazionali" in diversi["Ob_Obiet093801"].messaggio
    assert "sovrazonali" in diversi["Ob_Obiet093801"].messaggio
    assert diversi["Ob_Obiet093801"].obiettivo == "Ob_Obiet0938"
    assert diversi["Ob_Obiet093801"].area == "Area Servizi alla Persona"
    assert "FABBRO/ FALEGNAMERIA" in diversi["Ob_Obiet096702"].messaggio
    fase = obiettivi["Ob_Obiet0938"].fasi[0]
    assert "sovrazionali" in fase.descrizione
    assert obiettivi["Ob_Obiet0938"].indicatori[0].fase == fase.descrizione
    assert "FABBRO/FALEGNAMERIA" in obiettivi["Ob_Obiet0967"].fasi[1].descrizione
    assert not [a for a in reale[1] if a.codice != "testo-fase-diverso"]


def test_real_monitoring_html_becomes_text(obiettivi: dict[str, Obiettivo]) -> None:
    fase1, fase2 = obiettivi["Ob_Obiet0938"].fasi
    assert "<p>" not in fase2.monitoraggio
    assert "<ul" not in fase2.monitoraggio
    assert "Assemblea dei Sindaci di Distretto" in fase2.monitoraggio
    assert "\nGli organismi che partecipano ai processi decisionali" in fase2.monitoraggio
    assert fase1.monitoraggio.startswith("A partire dal mese di maggio")
    assert obiettivi["Ob_Obiet0937"].fasi[0].monitoraggio == ""
    assert obiettivi["Ob_Obiet0938"].note.startswith("Il Piano di Zona (PdZ)")
    assert obiettivi["Ob_Obiet0937"].note == ""


def test_real_numbers(obiettivi: dict[str, Obiettivo]) -> None:
    indicatore = obiettivi["Ob_Obiet0884"].indicatori[0]
    assert indicatore.codice == "Ob_Obiet088401"
    assert indicatore.valore_target == 100.0
    assert indicatore.valore_raggiunto == 100.0
    assert indicatore.prima_rilevazione is None
    assert indicatore.anno == 2021
    assert all(i.valore_target == 100.0 for o in obiettivi.values() for i in o.indicatori)


def test_real_risultato_atteso(obiettivi: dict[str, Obiettivo]) -> None:
    contratti = obiettivi["Ob_Obiet0894"]
    assert contratti.definizione.endswith("comprensivi di interventi di natura manutentiva.")
    assert contratti.risultato_atteso.startswith("Definire i punti di forza")
    assert "RISULTATO ATTESO" not in contratti.definizione
    assert "*" not in contratti.risultato_atteso
    manutenzione = obiettivi["Ob_Obiet0967"].risultato_atteso.split("\n")
    assert manutenzione[0].startswith("1) Creare una prima mappatura")
    assert manutenzione[1].startswith("2) Studio di fattibilità")
    osservatorio = obiettivi["Ob_Obiet0968"].risultato_atteso
    assert osservatorio.startswith("RIPRISTINO DELL'OSSERVATORIO")
    assert "*" not in osservatorio
    assert obiettivi["Ob_Obiet0937"].risultato_atteso == ""


def test_real_resources(obiettivi: dict[str, Obiettivo]) -> None:
    gara = obiettivi["Ob_Obiet0885"]
    assert "17.055.517,10" in gara.risorse_finanziarie.descrizione
    assert gara.risorse_finanziarie.descrizione.startswith("Lotto 1:")
    assert gara.risorse_strumentali.altro == ""
    contratti = obiettivi["Ob_Obiet0894"].risorse_finanziarie.descrizione
    assert contratti.startswith("L'obiettivo comporta")  # label "RISORSE FINANZIARIE:" removed
    assert obiettivi["Ob_Obiet0937"].risorse_strumentali.altro == "Euro 5.000,00 annui per due anni"
    assert obiettivi["Ob_Obiet0937"].risorse_finanziarie.descrizione == ""
    assert "Contributi per lo studio" in obiettivi["Ob_Obiet0934"].risorse_strumentali.altro


# --- the invented examples -----------------------------------------------------


def test_three_files_make_one_plan() -> None:
    piano, anomalie = parse_exports([REALE, LAVORI_PUBBLICI, AFFARI_GENERALI])
    assert [a.nome for a in piano.aree] == [
        "Area Servizi alla Persona",
        "Area Lavori Pubblici e Manutenzioni",
        "Area Affari Generali",
    ]
    assert (piano.ente, piano.anno) == ("Città di Seregno", 2021)
    aree_con_differenze = {a.area for a in anomalie if a.codice == "testo-fase-diverso"}
    assert aree_con_differenze == {a.nome for a in piano.aree}
    assert all(PAGE_HEADER not in text for text in _texts(piano.model_dump()))


def test_examples_content() -> None:
    piano, _ = parse_exports([LAVORI_PUBBLICI, AFFARI_GENERALI])
    lp, ag = piano.aree
    assert 3 <= len(lp.obiettivi) <= 4
    assert 3 <= len(ag.obiettivi) <= 4
    marciapiedi = lp.obiettivi[0]
    assert [f.codice for f in marciapiedi.fasi] == ["Ob_Obiet120101", "Ob_Obiet120102", "Ob_Obiet120103"]
    assert "ambulatori e fermate del trasporto pubblico." in marciapiedi.definizione
    assert marciapiedi.risorse_finanziarie.spese_previste == "8.000,00"
    assert "quartiere Nord: completato" in marciapiedi.fasi[0].monitoraggio
    assert "&amp;" not in marciapiedi.fasi[0].monitoraggio
    assert [p.matricola for p in marciapiedi.risorse_umane] == ["00004417", "731", "732", "733"]
    pratiche = next(i for o in ag.obiettivi for i in o.indicatori if i.descrizione == "Numero pratiche evase")
    assert (pratiche.valore_target, pratiche.prima_rilevazione, pratiche.valore_raggiunto) == (
        120.0,
        45.0,
        None,
    )
    assert ag.obiettivi[1].indicatori[1].valore_target == 1500.0
    assert [p.matricola for p in ag.obiettivi[0].risorse_umane] == ["00003120", "615"]  # duplicate dropped
    assert ag.obiettivi[2].note == "La commissione ha chiesto un'ulteriore lettura prima del voto in aula."
    for esempio in (LAVORI_PUBBLICI, AFFARI_GENERALI):
        assert esempio.read_text("utf-8").startswith("# ESEMPIO INVENTATO")


# --- values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100,00", 100.0), ("0,00%", 0.0), ("8.000,00", 8000.0), ("", None), ("  ", None), ("-3,5", -3.5)],
)
def test_italian_numbers(text: str, expected: float | None) -> None:
    assert parse_italian_number(text) == expected


@pytest.mark.parametrize("text", ["cento", "1,000.00", "8.00,00", "1..0", "12,", "SI"])
def test_bad_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="numero non valido"):
        parse_italian_number(text)


def _italian(value: Decimal, with_thousands: bool) -> str:
    sign = "-" if value < 0 else ""
    integer, _, decimals = f"{abs(value):f}".partition(".")
    if with_thousands:
        integer = f"{int(integer):,}".replace(",", ".")
    return sign + integer + ("," + decimals if decimals else "")


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
    st.booleans(),
)
def test_italian_number_round_trip(value: Decimal, with_thousands: bool) -> None:
    assert parse_italian_number(_italian(value, with_thousands)) == float(value)


def test_italian_dates() -> None:
    assert parse_italian_date("31-12-2021") == date(2021, 12, 31)
    assert parse_italian_date("") is None
    for bad in ("31-02-2021", "32-13-2021", "2021-12-31", "domani"):
        with pytest.raises(ValueError, match="data non valida"):
            parse_italian_date(bad)


# --- broken inputs -------------------------------------------------------------

MINIMAL = [
    "",
    "Città di Seregno",  # 2
    "",
    "Interventi correttivi Piano degli obiettivi 2021",  # 4
    "",
    "Rif. Delibera di GC 140/2021",  # 6
    "",
    '"Area Prova" - Responsabile: Anna Bianchi',  # 8
    "",
    "LINEA STRATEGICA:\t1. PROVA",  # 10
    "OBIETTIVO OPERATIVO:\t** OBIETTIVO DI PROVA",  # 11
    "RESPONSABILE:\tBIANCHI Anna",  # 12
    "",
    "Definizione dell'Obiettivo Operativo",  # 14
    "",
    "Testo della definizione",  # 16
    "",
    "INFORMAZIONI TEMPORALI",  # 18
    "",
    "Data Inizio Prev.:",  # 20
    "",
    "01-01-2021",  # 22
    "",
    "Data Fine Prev.:",  # 24
    "",
    "31-12-2021",  # 26
    "",
    "DESCRIZIONE FASI",  # 28
    "",
    "Codice\tFasi\tData Inizio Prev.\tData Fine Prev.\tData Inizio Effet.\tData Fine Effet.",  # 30
    "Ob_Prova0101\tFASE N.1: prova\t01-01-2021\t30-06-2021\t\t",  # 31
    "",
    "INDICATORI DI PERFORMANCE",  # 33
    "",
    "Codice Attività\tFasi\tIndicatore\tAnno\tValore Target\t1° Rilevazione\tValore Raggiunto\t% Ragg.",  # 35
    "Ob_Prova0101\tFASE N.1: prova\tRispetto delle previsioni (SI=100)\t2021\t100,00\t\t0,00\t0,00%",  # 36
    "",
    "Budget risorse umane",  # 38
    "",
    "Categoria\tMatricola\tCognome Nome",  # 40
    "Dirigente\t00000007\t00000007 - BIANCHI Anna",  # 41
    "",
    "NOTE",  # 43
    "",
]


def _write(tmp_path: Path, lines: list[str], name: str = "prova.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _replace(number: int, text: str) -> list[str]:
    lines = list(MINIMAL)
    lines[number - 1] = text
    return lines


def test_minimal_is_valid(tmp_path: Path) -> None:
    piano, anomalie = parse_export(_write(tmp_path, MINIMAL))
    obiettivo = piano.aree[0].obiettivi[0]
    assert (obiettivo.codice, obiettivo.peso, obiettivo.titolo) == ("Ob_Prova01", 2, "OBIETTIVO DI PROVA")
    assert obiettivo.risorse_umane[0].matricola == "00000007"
    assert anomalie == []


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        parse_export(path)
    assert str(path) in str(info.value)
    return info.value


def test_missing_area_header(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, _replace(8, "")))
    assert error.riga == 10
    assert "Responsabile" in error.messaggio


def test_invalid_date_in_phase(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, _replace(31, "Ob_Prova0101\tFASE N.1: prova\t31-02-2021\t30-06-2021\t\t")))
    assert error.riga == 31
    assert "31-02-2021" in error.messaggio
    assert "gg-mm-aaaa" in error.messaggio
    assert f"{tmp_path / 'prova.txt'}, riga 31" in str(error)


def test_invalid_objective_date(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, _replace(26, "32-13-2021")))
    assert error.riga == 26


def test_non_numeric_target(tmp_path: Path) -> None:
    row = "Ob_Prova0101\tFASE N.1: prova\tRispetto delle previsioni (SI=100)\t2021\tcento\t\t0,00\t0,00%"
    error = _error(_write(tmp_path, _replace(36, row)))
    assert error.riga == 36
    assert "Valore Target" in error.messaggio
    assert "cento" in error.messaggio


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "vuoto.txt"
    path.write_bytes(b"")
    assert _error(path).riga == 1


def test_row_with_missing_cells(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, _replace(36, "Ob_Prova0101\tFASE N.1: prova\tRispetto delle previsioni")))
    assert error.riga == 36
    assert "3 celle" in error.messaggio
    assert "attese 8" in error.messaggio


def test_trailing_empty_cells_are_repaired(tmp_path: Path) -> None:
    piano, _ = parse_export(_write(tmp_path, _replace(31, "Ob_Prova0101\tFASE N.1: prova\t01-01-2021\t30-06-2021")))
    assert piano.aree[0].obiettivi[0].fasi[0].data_inizio_effettiva is None


def test_monitoring_text_on_several_lines(tmp_path: Path) -> None:
    lines = [
        *MINIMAL[:42],
        "Codice\tFase\tMonitoraggio",
        "Ob_Prova0101\tFASE N.1: prova\t<p>Prima riga",
        "",
        "",
        "",
        "Scheda Obiettivo Gestionale",
        "",
        "Codice\tFase\tMonitoraggio",
        "seconda riga</p>",
        *MINIMAL[42:],
    ]
    piano, _ = parse_export(_write(tmp_path, lines))
    assert piano.aree[0].obiettivi[0].fasi[0].monitoraggio == "Prima riga seconda riga"


def test_objective_without_title(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, _replace(11, "")))
    assert error.riga == 10
    assert "OBIETTIVO OPERATIVO" in error.messaggio


def test_file_without_objectives(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, MINIMAL[:9]))
    assert error.riga == 8
    assert "nessun obiettivo" in error.messaggio


def test_windows_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ansi.txt"
    path.write_bytes(("\r\n".join(MINIMAL) + "\r\n").encode("cp1252"))
    piano, _ = parse_export(path)
    assert piano.ente == "Città di Seregno"
    assert piano.aree[0].obiettivi[0].fasi[0].descrizione == "FASE N.1: prova"


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "rotto.txt"
    path.write_bytes("\n".join(MINIMAL[:4]).encode("utf-8") + b"\n\x81\x8d\n")
    assert _error(path).riga == 5


def test_phase_of_another_objective(tmp_path: Path) -> None:
    lines = list(MINIMAL)
    lines.insert(31, "Ob_Altro0102\tFASE N.2: altra\t01-01-2021\t30-06-2021\t\t")
    lines.insert(31, "Ob_Prova0103\tFASE N.3: prova\t01-01-2021\t30-06-2021\t\t")
    piano, anomalie = parse_export(_write(tmp_path, lines))
    assert piano.aree[0].obiettivi[0].codice == "Ob_Prova01"
    assert [(a.codice, a.fase) for a in anomalie] == [("fase-di-altro-obiettivo", "Ob_Altro0102")]


def test_files_of_different_years(tmp_path: Path) -> None:
    first = _write(tmp_path, MINIMAL, "a.txt")
    other = _replace(4, "Interventi correttivi Piano degli obiettivi 2022")
    other[7] = '"Area Altra" - Responsabile: Bruno Neri'
    second = _write(tmp_path, other, "b.txt")
    with pytest.raises(SourceError, match="2022"):
        parse_exports([first, second])
