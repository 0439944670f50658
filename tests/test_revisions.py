"""Plan revisions and the years around a plan: a revision end to end (import, returns, revised import,
consolida), stable area codes, last year's plan linked, two years' plans side by side."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.errors import PlanError
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import write_master
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Indicatore, Persona, Piano, Rilevazione
from seregno_xlsx.piano.plan_file import find_plan, read_plan
from seregno_xlsx.piano.revisions import link_previous_year, revise, with_area_codes
from seregno_xlsx.piano.rounds import Ritorno, fold_round
from seregno_xlsx.posta.contacts import load_contacts
from seregno_xlsx.ritorni.reader import read_workbook

from .cli_runner import run
from .conftest import FONTI, ROOT

ESEMPI = ROOT / "esempi"
REVISED = sorted((ESEMPI / "finale" / "fonti_revisione").glob("*.txt"))
MOVED, RETARGETED, RENAMED, DROPPED = "Ob_Obiet1203", "Ob_Obiet130102", "Ob_Obiet1303", "Ob_Obiet1302"


def _values(piano: Piano, codice: str) -> list[float | None]:
    return [i.prima_rilevazione for a in piano.aree for o in a.obiettivi if o.codice == codice for i in o.indicatori]


@pytest.mark.slow  # three consolidations and two imports: in the full run (`pytest -m ""`)
def test_a_revision_end_to_end(tmp_path: Path) -> None:
    v1 = tmp_path / "piano_v1.json"
    shutil.copy(ESEMPI / "piano_2021.json", v1)
    # September: the intermediate returns into the plan.
    after = tmp_path / "piano_dopo_intermedia.json"
    result = run(
        "consolida", ESEMPI / "ritorni", "-o", tmp_path / "m1.xlsx", "--piano", v1, "--piano-aggiornato", after
    )
    assert result.returncode in (0, 1), result.stderr
    folded = read_plan(after)
    assert [r.rilevazione for r in folded.rilevazioni] == [Rilevazione.INTERMEDIA]
    # November: the Giunta's variazione, imported against the plan in force.
    v2 = tmp_path / "piano_v2.json"
    result = run("importa", *REVISED, "-o", v2, "--piano-attuale", after, "--data-delibera", "09/11/2021", "--json")
    report = json.loads(result.stdout)
    assert report["versione"] == 2
    changes = {(c["tipo"], c["elemento"], c["codice"]) for c in report["variazioni"]}
    assert {
        ("spostato", "obiettivo", MOVED),
        ("ritarato", "indicatore", RETARGETED),
        ("rinominato", "obiettivo", RENAMED),
        ("eliminato", "obiettivo", DROPPED),
    } <= changes
    moved = next(c for c in report["variazioni"] if c["tipo"] == "spostato")
    assert moved["dettaglio"] == "da «Area Lavori Pubblici e Manutenzioni» a «Area Affari Generali»"
    piano = read_plan(v2)
    original = read_plan(v1)
    assert piano.versione == 2 and piano.delibera.endswith("GC 210/2021")
    assert piano.chiave_impronta == original.chiave_impronta, "the fingerprint key is kept across versions"
    assert piano.versioni[0].versione == 1 and piano.versioni[0].delibera == original.delibera
    assert piano.rilevazioni == folded.rilevazioni, "the history travels with the plan"
    # What the areas returned in September is carried, the moved objective's too (now in another area).
    assert _values(piano, MOVED) == _values(folded, MOVED) and any(v is not None for v in _values(piano, MOVED))
    assert piano.area("Area Affari Generali").codice == folded.area("Area Affari Generali").codice
    assert MOVED in {o.codice for o in piano.area("Area Affari Generali").obiettivi}
    target = next(i for a in piano.aree for o in a.obiettivi for i in o.indicatori if i.codice == RETARGETED)
    before = next(i for a in folded.aree for o in a.obiettivi for i in o.indicatori if i.codice == RETARGETED)
    assert (target.valore_target, target.prima_rilevazione) == (150, before.prima_rilevazione)
    # The schede of version 1 still count: read against the version they name, and said to be so. The
    # plan records the intermediate round as done, so consolidating it again is stated with --rilevazione.
    result = run(
        "consolida",
        ESEMPI / "ritorni",
        "-o",
        tmp_path / "m2.xlsx",
        "--piano",
        v2,
        "--rilevazione",
        "intermedia",
        "--json",
    )
    consolidated = json.loads(result.stdout)
    assert [f["stato"] for f in consolidated["fonti"]] == ["accettato"] * 3
    assert [f["versione_piano"] for f in consolidated["fonti"]] == ["1"] * 3
    assert [row[4].value for row in openpyxl.load_workbook(tmp_path / "m2.xlsx")["Fonti"].iter_rows(min_row=2)] == [
        "1"
    ] * 3
    older = [a for a in consolidated["anomalie"] if a["codice"] == "scheda-versione-precedente"]
    assert len(older) == 3 and all("versione 1" in a["messaggio"] for a in older)
    wb = openpyxl.load_workbook(tmp_path / "m2.xlsx")
    assert "piano versione 2" in wb["Riepilogo"]["B2"].value
    # ...and count in the version in force: the moved objective in its new area, the dropped one gone.
    obiettivi = {(row[0].value, row[1].value) for row in wb["Obiettivi"].iter_rows(min_row=2)}
    assert ("Area Affari Generali", MOVED) in obiettivi
    assert not {code for _, code in obiettivi} & {DROPPED}
    assert ("Area Lavori Pubblici e Manutenzioni", MOVED) not in obiettivi
    header = [c.value for c in wb["Indicatori"][1]]
    first = {
        row[header.index("Codice attività")].value: row[header.index("1° rilevazione")].value
        for row in wb["Indicatori"].iter_rows(min_row=2)
    }
    moved_values = [
        first[i.codice] for o in piano.area("Area Affari Generali").obiettivi if o.codice == MOVED for i in o.indicatori
    ]
    assert moved_values == _values(folded, MOVED), "what Lavori Pubblici returned for it, carried"
    # Schede of the new version name it, and read against it without a word.
    result = run("genera", v2, "-o", tmp_path / "schede", "--area", "Area Affari Generali", "--rilevazione", "finale")
    assert result.returncode == 0 and "quelli restituiti dalle aree" in result.stdout, result.stderr
    scheda = next((tmp_path / "schede").glob("*.xlsx"))
    metadati = {row[0].value: row[1].value for row in openpyxl.load_workbook(scheda)["Metadati"].iter_rows()}
    assert metadati["versione_piano"] == "2"
    lettura = read_workbook(scheda, piano=piano)
    assert not [a for a in lettura.anomalie if a.codice in {"scheda-versione-precedente", "piano-diverso"}]
    # A scheda generated from version 1 by this version names it: read against version 2, it is older.
    result = run("genera", v1, "-o", tmp_path / "v1", "--area", "Area Affari Generali", "--rilevazione", "finale")
    assert "non contiene la rilevazione intermedia" in result.stderr
    old = next((tmp_path / "v1").glob("*.xlsx"))
    codes = [a.codice for a in read_workbook(old, piano=piano).anomalie]
    assert "scheda-versione-precedente" in codes and "metadati-alterati" not in codes


def test_reimport_of_the_same_export_is_the_same_version(piano: Piano) -> None:
    current = with_area_codes(piano)
    again, _ = parse_exports(FONTI)
    revision = revise(current, again)
    assert not revision.variazioni and not revision.nuova_versione and revision.piano.versione == 1
    assert [a.codice for a in revision.piano.aree] == [a.codice for a in current.aree]


def test_a_renamed_area_keeps_its_code(piano: Piano, tmp_path: Path) -> None:
    current = with_area_codes(piano)
    renamed = piano.model_copy(deep=True)
    renamed.aree[1].nome = "Area Opere Pubbliche"
    revision = revise(current, renamed)
    assert revision.piano.aree[1].codice == current.aree[1].codice
    assert ("rinominato", "area") in {(v.tipo, v.elemento) for v in revision.variazioni}
    # A scheda of the old name is found by its area's code, or by the name the area had then.
    assert revision.piano.area_of(current.aree[1]).nome == "Area Opere Pubbliche"
    before = current.aree[1].model_copy(update={"codice": ""})
    assert revision.piano.area_of(before).nome == "Area Opere Pubbliche"
    # The office's contacts follow the area: by its old name or by its code.
    contacts = tmp_path / "contatti.csv"
    rows = [f"{a.nome};;x{n}@example.org;" for n, a in enumerate(current.aree)]
    rows[0] = f"{current.aree[0].codice};;x0@example.org;"
    contacts.write_text("area;responsabile;email;copia\n" + "\n".join(rows) + "\n", encoding="utf-8")
    rubrica = load_contacts(contacts, revision.piano)
    assert rubrica.per("Area Opere Pubbliche").destinatari == ["x1@example.org"]
    assert rubrica.per(current.aree[0].nome).destinatari == ["x0@example.org"]


def _last_year(piano: Piano) -> Piano:
    """The 2021 plan after its final round: every objective recorded at 75%, the first one at 40%."""
    first = piano.aree[0].obiettivi[0].codice
    pct = {(a.nome, o.codice): (0.4 if o.codice == first else 0.75) for a in piano.aree for o in a.obiettivi}
    ritorni = [Ritorno(area) for area in piano.aree]
    return fold_round(piano, ritorni, Rilevazione.FINALE, percentuali=pct).piano


def test_next_years_plan_links_continuing_objectives(piano: Piano, tmp_path: Path) -> None:
    previous = _last_year(piano)
    following = piano.model_copy(deep=True, update={"anno": 2022})
    same_title = following.aree[0].obiettivi[1]
    same_title.codice = "Ob_NUOVO_2022"
    new = following.aree[0].obiettivi[2]
    new.codice, new.titolo = "Ob_ALTRO_2022", "Un obiettivo nuovo del 2022"
    linked, count = link_previous_year(following, previous)
    obiettivi = linked.aree[0].obiettivi
    assert obiettivi[0].anno_precedente is not None and obiettivi[0].anno_precedente.percentuale_finale == 0.4
    assert obiettivi[1].anno_precedente is not None and obiettivi[1].anno_precedente.codice != "Ob_NUOVO_2022"
    assert obiettivi[1].anno_precedente.percentuale_finale == 0.75
    assert obiettivi[2].anno_precedente is None
    assert count == sum(len(a.obiettivi) for a in piano.aree) - 1
    # The master of the multi-year objective shows last year's final %.
    path = tmp_path / "master.xlsx"
    write_master(
        path,
        ente=linked.ente,
        anno=2022,
        aree=linked.aree,
        rilevazione=Rilevazione.INTERMEDIA,
        regole=Regole(),
        anomalie=[],
        fonti=[],
        data_riferimento=date(2022, 6, 30),
        valori_letti=0,
    )
    ws = openpyxl.load_workbook(path)["Obiettivi"]
    header = [c.value for c in ws[1]]
    column = header.index("% finale anno precedente")
    assert ws.cell(2, column + 1).value == 0.4 and ws.cell(4, column + 1).value is None


def test_importa_refuses_a_previous_year_that_is_not_previous(tmp_path: Path) -> None:
    result = run("importa", *FONTI, "-o", tmp_path / "p.json", "--anno-precedente", ESEMPI / "piano_2021.json")
    assert result.returncode == 2 and "anno precedente" in result.stderr


def test_two_years_side_by_side(piano: Piano, tmp_path: Path) -> None:
    office = tmp_path / "ufficio"
    office.mkdir()
    (office / "piano_2021.json").write_text(piano.to_json(), encoding="utf-8")
    (office / "piano_2022.json").write_text(piano.model_copy(update={"anno": 2022}).to_json(), encoding="utf-8")
    returns = office / "schede_2022"
    returns.mkdir()
    assert find_plan(returns) == office / "piano_2022.json", "the folder's name says the year"
    unnamed = office / "ritorni"
    unnamed.mkdir()
    with pytest.raises(PlanError, match="anni diversi"):
        find_plan(unnamed)
    # Two stages of one year: the most advanced (the plan updated with the round) is the one in force.
    same = tmp_path / "stesso_anno"
    (same / "ritorni").mkdir(parents=True)
    (same / "piano_2021.json").write_text(piano.to_json(), encoding="utf-8")
    updated = fold_round(piano, [Ritorno(piano.aree[0])], Rilevazione.INTERMEDIA).piano
    (same / "piano_2021_aggiornato.json").write_text(updated.to_json(), encoding="utf-8")
    assert find_plan(same / "ritorni") == same / "piano_2021_aggiornato.json"


def test_example_final_round_matches_its_plan() -> None:
    """esempi/finale is rebuilt by ``python esempi/genera_esempi.py --finale``: readable by this version."""
    piano = read_plan(ESEMPI / "finale" / "piano_2021.json")
    assert piano.versione == 2 and [r.rilevazione for r in piano.rilevazioni] == [Rilevazione.INTERMEDIA]
    for folder in ("schede", "ritorni"):
        files = sorted((ESEMPI / "finale" / folder).glob("*.xlsx"))
        assert len(files) == len(piano.aree)
        for path in files:
            lettura = read_workbook(path, piano=piano)
            assert lettura.metadati is not None and lettura.metadati.versione_piano == 2
            assert lettura.metadati.rilevazione is Rilevazione.FINALE
            bad = {"metadati-alterati", "differenza-dal-piano", "piano-diverso", "scheda-versione-precedente"}
            assert not bad & {a.codice for a in lettura.anomalie}, path.name


def test_updated_plan_never_replaces_the_plan_read_and_needs_one(tmp_path: Path) -> None:
    plan = tmp_path / "piano.json"
    shutil.copy(ESEMPI / "piano_2021.json", plan)
    before = plan.read_bytes()
    result = run(
        "consolida", ESEMPI / "ritorni", "-o", tmp_path / "m.xlsx", "--piano", plan, "--piano-aggiornato", plan
    )
    assert result.returncode == 2 and "non può essere sostituito dal piano aggiornato" in result.stderr
    assert plan.read_bytes() == before
    assert not (tmp_path / "m.xlsx").exists(), "refused before anything is written"
    # The plan found beside the returns is read too: refused as well, before the master.
    beside = tmp_path / "accanto"
    shutil.copytree(ESEMPI / "ritorni", beside / "ritorni")
    shutil.copy(ESEMPI / "piano_2021.json", beside / "piano_2021.json")
    result = run(
        "consolida", beside / "ritorni", "-o", beside / "m.xlsx", "--piano-aggiornato", beside / "piano_2021.json"
    )
    assert result.returncode == 2 and "dal piano aggiornato" in result.stderr
    assert not (beside / "m.xlsx").exists()
    returns = tmp_path / "altrove" / "senza_piano"  # no piano*.json here nor in the folder above
    shutil.copytree(ESEMPI / "ritorni", returns)
    result = run("consolida", returns, "-o", tmp_path / "m2.xlsx", "--piano-aggiornato", tmp_path / "nuovo.json")
    assert result.returncode == 2 and "--piano-aggiornato" in result.stderr
    assert not (tmp_path / "nuovo.json").exists()


def test_importa_prints_the_differences(tmp_path: Path) -> None:
    current = tmp_path / "piano_2021.json"
    shutil.copy(ESEMPI / "piano_2021.json", current)
    result = run("importa", *REVISED, "-o", current, "--delibera", "Delibera di GC 210/2021")
    assert result.returncode == 0, result.stderr
    assert "variazioni dalla versione 1" in result.stdout and MOVED in result.stdout
    assert "tenuta la chiave dell'impronta" in result.stderr
    piano = read_plan(current)
    assert piano.delibera == "Delibera di GC 210/2021"
    # A renamed item says old and new, on screen and in the plan's record.
    old_title, new_title = (
        next(o.titolo for a in p.aree for o in a.obiettivi if o.codice == RENAMED)
        for p in (read_plan(ESEMPI / "piano_2021.json"), piano)
    )
    renamed = f"da «{old_title}» a «{new_title}»"
    assert renamed in result.stdout
    # The record: version 1's entry holds the changes that led to version 2, and says so.
    (entry,) = piano.versioni
    assert (entry.versione, entry.variazioni_verso, piano.versione) == (1, 2, 2)
    assert renamed in {v.dettaglio for v in entry.variazioni if v.tipo == "rinominato"}


def test_two_areas_with_one_code_are_refused(piano: Piano, tmp_path: Path) -> None:
    coded = with_area_codes(piano)
    coded.aree[1].codice = coded.aree[0].codice
    path = tmp_path / "piano.json"
    path.write_text(coded.to_json(), encoding="utf-8")
    with pytest.raises(PlanError, match="codice d'area"):
        read_plan(path)


def _indicator(piano: Piano, codice: str) -> Indicatore:
    return next(i for a in piano.aree for o in a.obiettivi for i in o.indicatori if i.codice == codice)


def _person(piano: Piano, obiettivo: str, matricola: str) -> Persona:
    return next(
        p
        for a in piano.aree
        for o in a.obiettivi
        if o.codice == obiettivo
        for p in o.risorse_umane
        if p.matricola == matricola
    )


def test_a_revision_keeps_the_offices_rules_and_shares(tmp_path: Path) -> None:
    """The export has no rules nor shares: a revision keeps the plan in force's, unless the rules file gives one."""
    current = tmp_path / "piano_in_vigore.json"
    before = read_plan(ESEMPI / "piano_2021.json")
    # Evidence the areas returned in the round before: carried like the values and dates.
    _indicator(before, "Ob_Obiet120302").evidenza = "Determinazione n. 7/2021"
    current.write_text(before.to_json(), encoding="utf-8")
    assert _person(before, "Ob_Obiet1301", "615").quota == 70.0
    v2 = tmp_path / "piano_v2.json"
    result = run("importa", *REVISED, "-o", v2, "--piano-attuale", current, "--data-delibera", "09/11/2021")
    assert result.returncode == 0, result.stderr
    piano = read_plan(v2)
    exact = _indicator(piano, "Ob_Obiet120302").regola
    assert exact is not None and (exact.direzione, exact.tolleranza) == ("esatto", 2)
    assert _indicator(piano, "Ob_Obiet120302").evidenza == "Determinazione n. 7/2021"
    threshold = _indicator(piano, "Ob_Obiet130102").regola  # retargeted: a new target, the same rule
    assert threshold == _indicator(before, "Ob_Obiet130102").regola and threshold is not None
    assert threshold.soglia == 60
    # The default rules file (modelli/) gives «Giorni *» a rule: the file's rule wins over the plan's.
    days = next(i for a in piano.aree for o in a.obiettivi for i in o.indicatori if i.descrizione.startswith("Giorni"))
    assert days.regola is not None and days.regola.direzione == "decrescente" and days.regola.soglia is None
    # VIGANÒ's 70% continues (his 30% objective was dropped by the revision): one assignment, said so.
    assert _person(piano, "Ob_Obiet1301", "615").quota == 70.0
    assert "tenute quote e date di 1 assegnazione del piano in vigore" in " ".join(result.stderr.split())


def test_the_updated_plan_carries_people_and_evidence_into_the_final_scheda(tmp_path: Path) -> None:
    after = tmp_path / "piano_settembre.json"
    result = run(
        "consolida",
        ESEMPI / "ritorni",
        "-o",
        tmp_path / "m.xlsx",
        "--piano",
        ESEMPI / "piano_2021.json",
        "--piano-aggiornato",
        after,
        "--json",
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)  # stdout is only the JSON
    assert report["piano_aggiornato"] == str(after) and "Piano aggiornato" in result.stderr
    piano = read_plan(after)
    perego, brambilla = _person(piano, "Ob_Obiet1303", "640"), _person(piano, "Ob_Obiet1201", "731")
    assert perego.al == date(2021, 6, 30)
    assert (brambilla.dal, brambilla.quota) == (date(2021, 3, 1), 50.0)
    assert _person(piano, "Ob_Obiet1301", "615").quota == 70.0, "the office's share, prefilled and confirmed"
    evidence = [f.evidenza for a in piano.aree for o in a.obiettivi for f in o.fasi if f.evidenza]
    assert evidence and all(e.startswith("Determinazione dirigenziale") for e in evidence)
    assert any(i.evidenza for a in piano.aree for o in a.obiettivi for i in o.indicatori)
    # The final scheda generated from it shows them in its input cells (prefilled, to confirm).
    area = "Area Affari Generali"
    result = run("genera", after, "-o", tmp_path / "schede", "--area", area, "--rilevazione", "finale")
    assert result.returncode == 0, result.stderr
    lettura = read_workbook(next((tmp_path / "schede").glob("*.xlsx")), piano=piano)
    assert lettura.compilata is not None
    shown = Piano(ente=piano.ente, anno=piano.anno, aree=[lettura.compilata])
    assert _person(shown, "Ob_Obiet1303", "640").al == date(2021, 6, 30)
    assert {f.codice: f.evidenza for o in lettura.compilata.obiettivi for f in o.fasi} == {
        f.codice: f.evidenza for o in piano.area(area).obiettivi for f in o.fasi
    }


def test_schede_of_an_earlier_version_count_carried_not_as_their_workers_compressed_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The September schede (version 1) consolidated against version 2: each is carried onto the version in
    force, so none is kept in the bytes its worker compressed (they are version 1's area), and the moved
    objective counts in its new area."""
    from seregno_xlsx.master.consolidation import consolidate
    from seregno_xlsx.piano.compresse import AreeCompresse

    reused: list[str] = []
    real = AreeCompresse.append

    def append(self: AreeCompresse, area: object, compressed: bytes = b"") -> None:
        if compressed:
            reused.append(area.nome)  # type: ignore[attr-defined]
        real(self, area, compressed)  # type: ignore[arg-type]

    monkeypatch.setattr(AreeCompresse, "append", append)
    revised, _ = parse_exports(REVISED)
    v2 = revise(read_plan(ESEMPI / "piano_2021.json"), revised, data_delibera=date(2021, 11, 9)).piano
    assert v2.versione == 2
    result = consolidate(
        ESEMPI / "ritorni", tmp_path / "m.xlsx", piano=v2, rilevazione=Rilevazione.INTERMEDIA, processi=1
    )
    assert result.master is not None and len(result.aree) == 3
    assert reused == []
    affari = next(a for a in result.aree if a.nome == "Area Affari Generali")
    assert MOVED in {o.codice for o in affari.obiettivi}
    assert DROPPED not in {o.codice for a in result.aree for o in a.obiettivi}
