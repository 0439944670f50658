"""Each reader their remit (issue 16, point 4): every cell of every extract is checked for the names and
matricole it must not hold.

The returns carry, in the texts an area types (monitoring notes, objective notes), the names and
matricole of people of other areas, in the forms people write them: the plan's form, the other word
order, other capitals, «matricola N», the matricola alone.
"""

from __future__ import annotations

import html
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import Consolidamento, consolidate
from seregno_xlsx.master.extracts import PUBLIC_NAME, extract_name
from seregno_xlsx.master.remit import OMITTED, Persona, Remit, people
from seregno_xlsx.piano.model import Area, Piano
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import Entry, fill_workbook

from .cli_runner import run
from .conftest import ROOT
from .hostile.round2 import edit_snapshot

# A consolidation with extracts takes a few seconds: in the full run (`pytest -m ""`, CI).
SLOW = pytest.mark.slow


def _outsider(piano: Piano, area: Area) -> Persona:
    """Someone of another area only, with a long matricola if there is one (a bare number is then a matricola)."""
    mine = people([area])
    others = sorted(people(a for a in piano.aree if a is not area) - mine, key=lambda p: (-len(p.matricola), p.nome))
    return next(p for p in others if not any(q.matricola == p.matricola for q in mine))


def _mentions(persona: Persona) -> str:
    words = persona.nome.split()
    return (
        f"Lavoro svolto con {persona.nome} (matricola {persona.matricola}); "
        f"sentito anche {' '.join(reversed(words)).lower()}, matr. {persona.matricola}; rif. {persona.matricola}."
    )


@pytest.fixture(scope="module")
def consolidato(
    schede_intermedia: list[SchedaGenerata], piano: Piano, tmp_path_factory: pytest.TempPathFactory
) -> Consolidamento:
    tmp_path = tmp_path_factory.mktemp("estratti")
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for n, scheda in enumerate(schede_intermedia):
        area = piano.area(scheda.area)
        own = area.obiettivi[0].risorse_umane[0]
        outsider = _outsider(piano, area)
        entries = [
            Entry("fasi", area.obiettivi[0].fasi[0].codice, "monitoraggio", _mentions(outsider)),
            Entry("obiettivi", area.obiettivi[0].codice, "note", f"Referente {own.nome}. {_mentions(outsider)}"),
            # The sign-off: compiled by one of the area's staff, approved by its dirigente (not in the plan).
            Entry("compilazione", area.nome, "compilata_da", own.nome),
            Entry("compilazione", area.nome, "approvata_da", _dirigente(n)),
            Entry("compilazione", area.nome, "data_approvazione", APPROVED),
        ]
        fill_workbook(scheda.path, folder / scheda.path.name, entries)
    piano_file = tmp_path / "piano_2021.json"
    piano_file.write_text(piano.to_json(), encoding="utf-8")
    return consolidate(folder, tmp_path / "master.xlsx", piano=piano, estratti=tmp_path / "estratti")


APPROVED = date(2021, 10, 7)


def _dirigente(n: int) -> str:
    return f"Dott. Dirigentissimo{chr(65 + n)} Paolo"


def _signers_named(texts: list[str], n_areas: int, but: int | None = None) -> list[str]:
    """The dirigenti who signed (with or without their title, either order) some text names."""
    joined = " ".join(" ".join(t.split()).casefold() for t in texts)
    hits = []
    for n in range(n_areas):
        surname = f"dirigentissimo{chr(97 + n)}"
        if n != but and surname in joined:
            hits.append(_dirigente(n))
    return hits


def _riconciliazione(path: Path) -> str:
    rows = openpyxl.load_workbook(path, read_only=True)["Riepilogo"].iter_rows(values_only=True)
    return next(str(r[1]) for r in rows if r and r[0] == "Riconciliazione")


def _texts(path: Path) -> list[str]:
    """Every text of a workbook: each cell (values and formulas) of each sheet, headers and footers,
    and every XML part as stored (shared strings, chart titles, document properties)."""
    found: list[str] = []
    workbook = openpyxl.load_workbook(path)
    for ws in workbook.worksheets:
        found += [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        for part in (ws.oddHeader, ws.oddFooter):
            found += [str(side.text) for side in (part.left, part.center, part.right) if side.text]
    with zipfile.ZipFile(path) as archive:
        found += [html.unescape(archive.read(n).decode("utf-8", "replace")) for n in archive.namelist()]
    return found


def _named(texts: list[str], persone: set[Persona]) -> list[str]:
    """The people of ``persone`` some text names: by name (either order, any case) or by matricola
    (a cell holding just it, or a word of its own when it is four digits or more)."""
    hits = []
    joined = [" ".join(t.split()).casefold() for t in texts]
    for p in persone:
        words = p.nome.split()
        forms = {" ".join(words).casefold(), " ".join(reversed(words)).casefold()}
        if any(form in text for form in forms for text in joined):
            hits.append(f"nome {p.nome}")
        if any(t.strip() == p.matricola for t in texts):
            hits.append(f"matricola {p.matricola} in una cella")
        bare = p.matricola.lstrip("0")
        long_forms = [f for f in {p.matricola, bare} if len(f) >= 4]
        if any(re.search(rf"(?<!\w){re.escape(f)}(?!\w)", t) for f in long_forms for t in texts):
            hits.append(f"matricola {p.matricola} in un testo")
        if any(re.search(rf"matr\w*\.?\s*0*{re.escape(bare)}(?!\w)", t, re.I) for t in texts):
            hits.append(f"matricola {p.matricola} dopo «matricola»")
    return sorted(hits)


@SLOW
def test_every_cell_of_every_extract_keeps_to_its_remit(consolidato: Consolidamento, piano: Piano) -> None:
    everyone = set(people(piano.aree))
    master_texts = _texts(consolidato.master)  # type: ignore[arg-type]
    # The check can fail: the office's master names everyone, the outsiders in the notes included.
    named = _named(master_texts, everyone)
    assert {h for h in named if h.startswith("nome")} == {f"nome {p.nome}" for p in everyone}
    assert any("dopo «matricola»" in h for h in named) and any("in una cella" in h for h in named)
    folder = consolidato.master.parent / "estratti"  # type: ignore[union-attr]
    assert {e.path.name for e in consolidato.estratti} == {PUBLIC_NAME, *(extract_name(a.nome) for a in piano.aree)}
    for area in piano.aree:
        texts = _texts(folder / extract_name(area.nome))
        mine = set(people([area]))
        assert _named(texts, everyone - mine) == [], area.nome
        # Their own staff are there, by name: the dirigente's extract is of use.
        assert {h for h in _named(texts, mine) if h.startswith("nome")} == {f"nome {p.nome}" for p in mine}
        assert any(OMITTED in t for t in texts), "the outsider named in the notes is left out"
        assert not any(other.nome in t for other in piano.aree if other is not area for t in texts)
    public = _texts(folder / PUBLIC_NAME)
    assert _named(public, everyone) == []
    assert all(a.nome in "".join(public) for a in piano.aree)
    # The sign-off: the master names who compiled and who approved; the extract without personal data
    # neither, the approval and its date stay as a fact; an area's extract names no other area's dirigente.
    n_areas = len(piano.aree)
    assert len(_signers_named(master_texts, n_areas)) == n_areas
    assert _signers_named(public, n_areas) == []
    riepilogo = list(openpyxl.load_workbook(folder / PUBLIC_NAME, read_only=True)["Riepilogo"].values)
    header = next(r for r in riepilogo if r and "Compilata da" in r)
    signed = [r for r in riepilogo[riepilogo.index(header) + 1 :] if r[0] in {a.nome for a in piano.aree}]
    assert {r[header.index("Compilata da")] for r in signed} == {OMITTED}
    assert {r[header.index("Approvata dal dirigente (data)")] for r in signed} == {"approvata (07/10/2021)"}
    for area in piano.aree:
        texts = _texts(folder / extract_name(area.nome))
        assert len(_signers_named(texts, n_areas)) == 1, area.nome  # their own dirigente only


@SLOW
def test_extract_reconciliation_says_what_it_counts(consolidato: Consolidamento, piano: Piano) -> None:
    folder = consolidato.master.parent / "estratti"  # type: ignore[union-attr]
    numbers = [int(x) for x in re.findall(r"\d+", _riconciliazione(consolidato.master))]  # type: ignore[arg-type]
    assert numbers[0] == numbers[1] == consolidato.valori_letti  # the master: read and written agree
    public = _riconciliazione(folder / PUBLIC_NAME)
    assert public.startswith("estratto, valori delle aree che copre: valori letti"), public
    letti, scritti, omessi = (int(x) for x in re.findall(r"\d+", public))
    assert letti == consolidato.valori_letti and omessi > 0 and letti == scritti + omessi, public
    for area in piano.aree:
        text = _riconciliazione(folder / extract_name(area.nome))
        letti, scritti = (int(x) for x in re.findall(r"\d+", text))
        assert text.startswith("estratto, valori delle aree che copre") and letti == scritti, text


@SLOW
def test_public_extract_counts_people_never_lists_them(consolidato: Consolidamento, piano: Piano) -> None:
    path = consolidato.master.parent / "estratti" / PUBLIC_NAME  # type: ignore[union-attr]
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook["Personale"].iter_rows(values_only=True))
    assert rows[0] == ("Area", "Categoria", "N. persone", "N. assegnazioni a obiettivi")
    for area in piano.aree:
        mine = [r for r in rows[1:] if r[0] == area.nome]
        assert sum(int(r[2]) for r in mine) == len({p.matricola for p in people([area])})  # type: ignore[arg-type]
        pairs = sum(len({p.matricola for p in o.risorse_umane}) for o in area.obiettivi)
        assert sum(int(r[3]) for r in mine) == pairs  # type: ignore[arg-type]
    assignments = list(workbook["Assegnazioni"].iter_rows(values_only=True))
    assert assignments[0] == ("Area", "Codice obiettivo", "N. persone assegnate")
    assert len(assignments) - 1 == sum(len(a.obiettivi) for a in piano.aree)
    assert list(workbook["Anomalie"].iter_rows(min_row=2, values_only=True)) in ([], [(None,) * 9])


@SLOW
def test_area_extract_holds_its_area_only(consolidato: Consolidamento, piano: Piano) -> None:
    area = piano.aree[0]
    path = consolidato.master.parent / "estratti" / extract_name(area.nome)  # type: ignore[union-attr]
    workbook = openpyxl.load_workbook(path, read_only=True)
    for sheet in ("Obiettivi", "Indicatori", "Fasi", "Assegnazioni"):
        rows = list(workbook[sheet].iter_rows(values_only=True))
        column = rows[0].index("Area")
        assert {r[column] for r in rows[1:] if any(r)} == {area.nome}, sheet
    fonti = list(workbook["Fonti"].iter_rows(values_only=True))
    assert [r[1] for r in fonti[1:]] == [area.nome]
    codes = [r[1] for r in workbook["Obiettivi"].iter_rows(min_row=2, values_only=True)]
    assert codes == [o.codice for o in area.obiettivi]


def test_remit_cleans_every_form_of_a_name_and_leaves_numbers_alone() -> None:
    remit = Remit(omessi=frozenset({Persona("ROSSI Mario", "00012345"), Persona("VERDI Anna", "54")}))
    text = "Rossi  Mario, mario rossi; matricola 12345, matr. n. 54; 00012345; 54 pratiche; Rossini Mario."
    assert remit.clean(text) == ("[omesso], [omesso]; [omesso], [omesso]; [omesso]; 54 pratiche; Rossini Mario.")
    assert Remit().clean(text) == text


@SLOW
def test_extracts_from_the_command_line(consolidato: Consolidamento, tmp_path: Path) -> None:
    folder = consolidato.master.parent / "ritorni"  # type: ignore[union-attr]
    result = run("consolida", folder, "-o", tmp_path / "m2.xlsx", "--estratti", tmp_path / "e2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Estratto per Giunta e pubblicazione" in result.stdout
    assert (tmp_path / "e2" / PUBLIC_NAME).exists()
    # Never into the returns folder: the next run would read the extracts as returns.
    refused = run("consolida", folder, "-o", tmp_path / "m3.xlsx", "--estratti", folder)
    assert refused.returncode == 2 and "cartella delle schede" in refused.stderr
    assert not (folder / PUBLIC_NAME).exists()


def test_areas_whose_names_read_alike_never_share_an_extract() -> None:
    first = extract_name("Area Servizi/Persona")
    assert extract_name("Area Servizi Persona", [first]) == "Estratto_Area_Servizi_Persona_2.xlsx"
    assert extract_name("senza dati personali") != PUBLIC_NAME
    assert len(extract_name("x" * 200).encode()) < 255


@SLOW
def test_an_extract_never_replaces_the_master(consolidato: Consolidamento, tmp_path: Path) -> None:
    folder = consolidato.master.parent / "ritorni"  # type: ignore[union-attr]
    master = tmp_path / "e" / PUBLIC_NAME
    result = run("consolida", folder, "-o", master, "--estratti", tmp_path / "e")
    assert result.returncode == 2 and "stesso nome di un estratto" in result.stderr
    assert "Riepilogo" in openpyxl.load_workbook(master, read_only=True).sheetnames


@SLOW
def test_names_in_the_plan_texts_a_return_carries_are_cleaned_too(
    schede_intermedia: list[SchedaGenerata], piano: Piano, tmp_path: Path
) -> None:
    """Without the plan, the ente and title come from the returns' Metadati: a name put there reaches the
    page headers, which are cleaned like every cell."""
    outsider = sorted(people(piano.aree), key=lambda p: p.nome)[0]
    folder = tmp_path / "ritorni"
    folder.mkdir()
    for scheda in schede_intermedia:
        edit_snapshot(scheda.path, folder / scheda.path.name, lambda d: d.__setitem__("ente", f"Ente {outsider.nome}"))
    result = consolidate(folder, tmp_path / "master.xlsx", estratti=tmp_path / "estratti")
    assert result.estratti
    assert _named(_texts(tmp_path / "master.xlsx"), {outsider})  # the check sees the name where it is
    assert _named(_texts(tmp_path / "estratti" / PUBLIC_NAME), {outsider}) == []


def test_a_signer_is_cleaned_with_or_without_the_title() -> None:
    remit = Remit(omessi=frozenset({Persona("Dott. Rossi Paolo", "")}))
    assert remit.clean("Dott. Rossi Paolo; rossi paolo; Paolo Rossi; Rossi") == "[omesso]; [omesso]; [omesso]; Rossi"


@SLOW
def test_example_extract_reconciles_with_assignments_left_out(tmp_path: Path) -> None:
    """The bundled returns carry shares and dates of assignments: personal, not shown, and counted as such."""
    result = consolidate(ROOT / "esempi" / "ritorni", tmp_path / "m.xlsx", estratti=tmp_path / "e")
    text = _riconciliazione(tmp_path / "e" / PUBLIC_NAME)
    letti, scritti, omessi = (int(x) for x in re.findall(r"\d+", text))
    assert letti == result.valori_letti and letti == scritti + omessi, text
    assert omessi > 2 * len(result.aree), "more than the sign-off names: the assignments' shares and dates"
