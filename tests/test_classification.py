"""One classification of returned files, and the library functions of the e-mail cycle that share it."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

import seregno_xlsx as sx
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.posta.remind import Situazione
from seregno_xlsx.ritorni.classification import Stato, classify, winner
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata, generate
from seregno_xlsx.simulation import Entry, fill_workbook

from .conftest import ROOT

CONTATTI = ROOT / "modelli" / "contatti.csv"
AG = "Area Affari Generali"


def _read(path: Path, received: datetime) -> Lettura:
    lettura = read_workbook(path)
    lettura.ricevuto_il = received
    # The save stamp, which the sender controls, says the opposite: it must never decide.
    lettura.compilato_il = datetime(2099, 1, 1) - (received - datetime(2021, 1, 1))
    return lettura


def test_the_last_received_acceptable_file_of_an_area_wins(schede_intermedia: list[SchedaGenerata]) -> None:
    scheda = next(s.path for s in schede_intermedia if s.area == AG)
    old, new = _read(scheda, datetime(2021, 7, 1)), _read(scheda, datetime(2021, 7, 2))
    assert winner([new, old]) is new and winner([old, new]) is new
    result = classify([old, new])
    assert [e.stato for e in result.esami] == [Stato.SOSTITUITO, Stato.ACCETTATO]
    assert result.esami[0].motivo.startswith("copia identica")
    assert result.accettati == [new]
    assert [e.lettura for e in result.of_area(AG.upper())] == [old, new]


def test_the_round_is_the_one_most_files_were_generated_for(
    schede_intermedia: list[SchedaGenerata], schede_finale: list[SchedaGenerata]
) -> None:
    intermedie = [read_workbook(s.path) for s in schede_intermedia[:2]]
    finale = read_workbook(schede_finale[2].path)
    result = classify([*intermedie, finale], fallback=Rilevazione.FINALE)
    assert result.rilevazione is Rilevazione.INTERMEDIA
    assert result.esami[2].stato is Stato.RIFIUTATO and "rilevazione finale" in result.esami[2].motivo
    assert "rilevazione-diversa" in {a.codice for a in finale.anomalie}
    assert classify([]).rilevazione is Rilevazione.INTERMEDIA
    assert classify([], fallback=Rilevazione.FINALE).rilevazione is Rilevazione.FINALE


def test_unreadable_and_unknown_files_are_rejected_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "rotto.xlsx").write_bytes(b"PK\x03\x04 no")
    result = classify([read_workbook(tmp_path / "rotto.xlsx")])
    [esame] = result.esami
    assert esame.stato is Stato.RIFIUTATO and esame.motivo


def test_remind_uses_the_classification_of_consolida(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """Two returns of one area: the one that counts for solleciti is the one consolida takes."""
    by_area = {s.area: s.path for s in schede_intermedia}
    ritorni = tmp_path / "ritorni"
    ritorni.mkdir()
    fase = piano.area(AG).obiettivi[0].fasi[0].codice
    # Named so that the older file comes last by name: only the time received can make the newer one win.
    fill_workbook(by_area[AG], ritorni / "b_vecchia.xlsx", [Entry("fasi", fase, "monitoraggio", "prima")])
    fill_workbook(by_area[AG], ritorni / "a_nuova.xlsx", [Entry("fasi", fase, "monitoraggio", "dopo")])
    for name, received in (("b_vecchia.xlsx", datetime(2021, 7, 20, 10, 0)), ("a_nuova.xlsx", datetime(2021, 7, 25))):
        os.utime(ritorni / name, (received.timestamp(), received.timestamp()))
    consolidated = sx.consolidate(ritorni, tmp_path / "m.xlsx", piano=piano)
    assert {f.file: f.stato for f in consolidated.fonti} == {
        "a_nuova.xlsx": "accettato",
        "b_vecchia.xlsx": "sostituito",
    }
    result = sx.remind(piano, ritorni, CONTATTI, output=tmp_path / "solleciti", data_riferimento=date(2021, 7, 1))
    assert result.rilevazione is Rilevazione.INTERMEDIA
    rows = {e.area: e for e in result.esiti}
    assert "a_nuova.xlsx" in rows[AG].dettaglio and "b_vecchia" not in rows[AG].dettaglio
    assert result.situazioni["Area Lavori Pubblici e Manutenzioni"] is Situazione.MANCANTE
    assert result.situazioni["Area Servizi alla Persona"] is Situazione.MANCANTE
    assert result.exit_code == 0 and result.registro is None
    drafts = sorted(p.name for p in (tmp_path / "solleciti").glob("*.eml"))
    assert "Sollecito_2021_Area_Lavori_Pubblici_e_Manutenzioni.eml" in drafts


def test_distribute_and_collect_in_the_library(piano: Piano, tmp_path: Path) -> None:
    schede = tmp_path / "schede"
    generate(piano, schede, rilevazione=Rilevazione.INTERMEDIA)
    (schede / "altro.xlsx").write_bytes(b"not ours")
    result = sx.distribute(piano, schede, CONTATTI, aree=[AG])
    assert [(e.area, e.stato) for e in result.esiti] == [(AG, "bozza scritta")]
    assert result.exit_code == 0 and result.ignorati == ["altro.xlsx: non è una scheda generata da seregno-xlsx"]
    [draft] = (schede / "posta").glob("*.eml")
    raccolta = sx.collect(draft, tmp_path / "ritorni", piano=piano)
    assert [(e.allegato, e.area) for e in raccolta.esiti] == [(result.messaggi[0].allegato, AG)]
    assert raccolta.exit_code == 0
    (tmp_path / "vuota").mkdir()
    nothing = sx.distribute(piano, tmp_path / "vuota", CONTATTI, aree=[AG])
    assert nothing.messaggi == [] and nothing.exit_code == 2
    assert [(e.stato, e.errore) for e in nothing.esiti] == [("nessuna scheda", True)]
    assert not (tmp_path / "vuota" / "posta").exists()


def test_frames_and_the_master_read_back_agree(piano: Piano, tmp_path: Path) -> None:
    result = sx.consolidate(ROOT / "esempi" / "ritorni", tmp_path / "m.xlsx", piano=piano)
    fresh, stored = sx.frames(result), sx.read_master(tmp_path / "m.xlsx")
    for name in ("indicatori", "obiettivi", "aree", "persone", "anomalie"):
        a, b = getattr(fresh, name), getattr(stored, name)
        assert list(a.columns) == list(b.columns) and len(a) > 0, name
        keys = list(a.columns[:3])
        pd.testing.assert_frame_equal(
            a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True), check_dtype=False
        )
    assert set(fresh.aree["area"]) == {a.nome for a in piano.aree}
    assert fresh.obiettivi["pct"].between(0, 1).all()
    assert fresh.persone["matricola"].map(type).eq(str).all()


def test_frames_of_nothing_are_empty(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    tabelle = sx.frames(sx.consolidate(tmp_path / "in", tmp_path / "m.xlsx"))
    assert tabelle.indicatori.empty and list(tabelle.aree.columns)[-1] == "pct"


@pytest.mark.parametrize(
    ("command", "module"), [("distribuisci", "distribute"), ("solleciti", "remind"), ("raccogli", "collect")]
)
def test_the_cli_module_has_no_business_logic(command: str, module: str) -> None:
    """Each e-mail command's module only calls the library and prints."""
    source = (ROOT / "seregno_xlsx" / "cli" / f"{command}.py").read_text(encoding="utf-8")
    assert f"import {module}" in source or f", {module}" in source
    for rule in ("REJECTING", "Counter", "compilato_il", "read_workbook", "verify_file", "annotate("):
        assert rule not in source, rule


def test_read_master_of_something_else_is_an_italian_error(tmp_path: Path) -> None:
    with pytest.raises(sx.SeregnoError, match="master non trovato"):
        sx.read_master(tmp_path / "manca.xlsx")
    scheda = ROOT / "esempi" / "schede" / "Obiettivi_2021_Area_Affari_Generali_intermedia.xlsx"
    with pytest.raises(sx.SeregnoError, match="non è un master di seregno-xlsx"):
        sx.read_master(scheda)
    (tmp_path / "rotto.xlsx").write_bytes(b"PK\x03\x04 no")
    with pytest.raises(sx.SeregnoError, match="non è una cartella di lavoro leggibile"):
        sx.read_master(tmp_path / "rotto.xlsx")
