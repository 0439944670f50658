"""``consolida``: every returned workbook of a folder into one master workbook.

One bad file never stops the others; two files for one area: the one received
last wins and the other is reported; every file of the folder is listed in Fonti.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.findings import Anomalia, finding, has_errors, printable
from seregno_xlsx.findings_store import AnomalieCompresse
from seregno_xlsx.master.closure import is_closed_file, refuse_closed_output
from seregno_xlsx.master.extracts import Estratto, write_extracts
from seregno_xlsx.master.layout import is_master_sheets, load_settings
from seregno_xlsx.master.rettifiche import Applicata, Correzioni, find_rettifiche, read_rettifiche
from seregno_xlsx.master.rounds import OntoCurrentVersion, check_between_rounds, previous_round
from seregno_xlsx.master.scoring import Regole, area_pct, counted_areas
from seregno_xlsx.master.writer import Fonte, SintesiMaster, write_master
from seregno_xlsx.outputs import refuse_input_as_output, refuse_to_replace
from seregno_xlsx.piano.assegnazioni import QuoteTraAree
from seregno_xlsx.piano.checks import TraAree
from seregno_xlsx.piano.compatto import PianoCompatto, read_plan_compact
from seregno_xlsx.piano.compresse import AreeCompresse, expand
from seregno_xlsx.piano.model import Area, Piano, Rilevazione, round_value_field
from seregno_xlsx.piano.plan_file import find_plan
from seregno_xlsx.piano.rounds import Ritorno
from seregno_xlsx.ritorni.classification import Stato, classify, returned_files, same_file
from seregno_xlsx.ritorni.pool import (
    LetturaCompatta,
    Richiesta,
    compilation,
    few_collections,
    invalid_codes,
    verify_files,
)
from seregno_xlsx.ritorni.reader import Lettura, older_version, read_workbook
from seregno_xlsx.ritorni.verification import default_reference_date
from seregno_xlsx.scheda.metadata import Metadati


@dataclass
class Consolidamento:
    """What ``consolidate`` did: the files and their fate, the findings, and what went into the master."""

    master: Path | None
    fonti: list[Fonte] = field(default_factory=list)
    # Every finding in order, each with the file it was found in; kept compressed (``findings_store.py``).
    anomalie: AnomalieCompresse = field(default_factory=AnomalieCompresse)
    summary: SintesiMaster | None = None
    valori_letti: int = 0
    # The accepted compilations as they count, and the rules and round the master computed them with:
    # kept compressed, each read gives fresh models of one area (``piano/compresse.py``).
    aree: Sequence[Area] = field(default_factory=AreeCompresse)
    rilevazione: Rilevazione = Rilevazione.INTERMEDIA
    regole: Regole = field(default_factory=Regole)
    data_riferimento: date | None = None
    anno: int | None = None
    # Every file read and the SHA-256 of the bytes read (a closed round's manifest lists them).
    letti: list[tuple[Path, str]] = field(default_factory=list)
    # Per area, the indicators whose round value was invalid (counted as missing in ``aree``); an area
    # without any is not listed.
    non_validi: dict[str, set[str]] = field(default_factory=dict)
    # The plan found beside the returns (``piano*.json``) when none was given.
    piano_trovato: Path | None = None
    # The extracts per area and without personal data (``estratti``), beside the master.
    estratti: list[Estratto] = field(default_factory=list)
    # The office's corrections file (given, or found beside the returns) and the corrections applied.
    file_rettifiche: Path | None = None
    rettifiche: list[Applicata] = field(default_factory=list)
    # The plan the returns were read against (given or found), compact; the accepted returns as the
    # next round's plan takes them (``consolida --piano-aggiornato``).
    piano_compatto: PianoCompatto | None = None
    # Per accepted return, in the order of ``aree``: its file, SHA-256 and plan version (``ritorni``).
    _ritorni: list[tuple[str, str, int | None]] = field(default_factory=list, repr=False)
    # Which rule decided the round consolidated, in words (stated, the plan's next round, most schede).
    regola_rilevazione: str = ""
    # Each accepted area's % raggiungimento (``scoring.area_pct`` of ``aree``), by name: found as each
    # area counts, so a summary needs no pass over the compressed areas.
    pct_aree: dict[str, float | None] = field(default_factory=dict)

    # The plan as given to ``consolidate``; a plan read here is made whole only when asked (``piano``).
    _piano: Piano | None = field(default=None, repr=False)

    @property
    def piano(self) -> Piano | None:
        """The plan the returns were read against, as models (a plan read from its file: made whole now)."""
        if self._piano is None and self.piano_compatto is not None:
            self._piano = self.piano_compatto.intero()
        return self._piano

    @property
    def ritorni(self) -> list[Ritorno]:
        """The accepted returns as the next round's plan takes them (``--piano-aggiornato``): made now."""
        return [Ritorno(area, *source) for area, source in zip(self.aree, self._ritorni, strict=True)]

    @property
    def rifiutati(self) -> int:
        return sum(f.stato == Stato.RIFIUTATO for f in self.fonti)

    def to_json(self) -> dict[str, object]:
        return {
            "master": str(self.master) if self.master else None,
            "fonti": [
                {
                    "file": f.file,
                    "area": f.area,
                    "stato": f.stato,
                    "motivo": f.motivo,
                    "versione_piano": f.versione_piano,
                }
                for f in self.fonti
            ],
            "rilevazione": str(self.rilevazione),
            "regola_rilevazione": self.regola_rilevazione,
            "anomalie": [a.model_dump(mode="json") for a in self.anomalie],
            "estratti": [{"destinatario": e.destinatario, "file": str(e.path)} for e in self.estratti],
            "rettifiche": [x.to_json() for x in self.rettifiche],
        }

    @property
    def exit_code(self) -> int:
        if self.master is None:
            return 2
        return 1 if self.rifiutati or has_errors(self.anomalie) else 0


def consolidate(
    folder: Path,
    output: Path,
    *,
    piano: Piano | PianoCompatto | None = None,
    data_riferimento: date | None = None,
    regole: Regole | None = None,
    password_apertura: str | None = None,
    registro: Registro = NESSUN_REGISTRO,
    estratti: Path | None = None,
    rettifiche: Path | None = None,
    processi: int | None = None,
    rilevazione: Rilevazione | None = None,
) -> Consolidamento:
    """``password_apertura`` opens encrypted files; ``registro`` records what was read, decided and written.

    ``processi`` files are read at once, each in its own process (default: one per core; 1 reads them
    here, one after the other): the result is the same.

    ``piano``: the plan, as models or compact (``read_plan_compact``); without it, the plan the office
    keeps beside the returns (a ``piano*.json`` in ``folder`` or in its parent) is used: it checks the
    fingerprints and gives the locked content.
    ``estratti``: a folder for the extracts of each reader's remit (``master/extracts.py``).
    Without ``rettifiche``, the office's corrections file beside the returns (``rettifiche*.csv``/``.xlsx``,
    folder or parent) is applied.
    ``rilevazione``: the round being consolidated; without it, the round after the last one the plan
    records, else the round most schede were generated for (``expected_round``).
    """
    # The areas are made into models again and again, one at a time (``piano/compresse.py``): each dies by
    # reference count, never in a cycle, so the collector runs seldom and never over what lived before
    # (with every finding of thousands of files alive, its full passes made the run grow faster than them).
    with few_collections():
        return _consolidate(
            folder,
            output,
            piano=piano,
            data_riferimento=data_riferimento,
            regole=regole,
            password_apertura=password_apertura,
            registro=registro,
            estratti=estratti,
            rettifiche=rettifiche,
            processi=processi,
            rilevazione=rilevazione,
        )


def _consolidate(
    folder: Path,
    output: Path,
    *,
    piano: Piano | PianoCompatto | None,
    data_riferimento: date | None,
    regole: Regole | None,
    password_apertura: str | None,
    registro: Registro,
    estratti: Path | None,
    rettifiche: Path | None,
    processi: int | None,
    rilevazione: Rilevazione | None,
) -> Consolidamento:
    regole = regole or Regole()
    refuse_closed_output(output)
    rettifiche = rettifiche or find_rettifiche(folder)
    # Read first: an unreadable corrections file stops the run before anything is written.
    corrections = read_rettifiche(rettifiche) if rettifiche else []
    found_plan = find_plan(folder) if piano is None else None
    if found_plan is not None:
        piano = read_plan_compact(found_plan, cartella=Path(output).parent)
        registro.event("piano-trovato", file=str(found_plan))
    # Read area by area: every file, in every worker, makes only its own area's models again.
    plan = PianoCompatto.from_piano(piano, cartella=Path(output).parent) if isinstance(piano, Piano) else piano
    header = plan.testata if plan is not None else None
    files, ignored = returned_files(folder)
    files = _without_previous_master(files, output)
    refuse_foreign_output(output)  # after: a returned scheda there is named as one, and kept
    files = [path for path in files if not is_closed_file(path)]  # a closed round's master is not a return
    richiesta = Richiesta(piano=plan, data_riferimento=data_riferimento, password_apertura=password_apertura)
    letture = verify_files(files, richiesta, processi=processi, cartella=Path(output).parent)
    # Our own outputs left among the returns (a previous master, an extract) are listed, never rejected.
    ours = {id(lettura) for lettura in letture if is_our_output(lettura)}
    ignored += [(printable(lettura.file.name), OUR_OUTPUT) for lettura in letture if id(lettura) in ours]
    letture = [lettura for lettura in letture if id(lettura) not in ours]
    attesa, regola = expected_round(rilevazione, header)
    classificazione = classify(letture, attesa=attesa, regola=regola)
    letti = [(lettura.file, lettura.sha256) for lettura in letture if lettura.sha256]
    rilevazione = classificazione.rilevazione
    result = Consolidamento(master=None, rilevazione=rilevazione, regole=regole, piano_trovato=found_plan)
    result.piano_compatto, result._piano = plan, piano if isinstance(piano, Piano) else None
    result.regola_rilevazione = classificazione.regola
    registro.event("rilevazione", rilevazione=str(rilevazione), regola=classificazione.regola)
    result.letti = letti
    for esame in classificazione.esami:
        lettura, snapshot = esame.lettura, esame.lettura.metadati
        result.fonti.append(
            Fonte(
                file=printable(lettura.file.name),
                area=lettura.area,
                rilevazione=snapshot.rilevazione.value if snapshot else "",
                versione_modello=snapshot.versione_modello if snapshot else "",
                sha256=lettura.sha256,
                compilato_il=lettura.compilato_il,
                stato=esame.stato,
                motivo=esame.motivo,
                versione_piano=version_named(snapshot, header) if snapshot else "",
            )
        )
    accepted = classificazione.accettati
    kept = {id(lettura) for lettura in accepted}
    for lettura, fonte in zip(letture, result.fonti, strict=True):
        result.anomalie.extend(lettura.anomalie, printable(lettura.file.name))
        registro.file_read(
            lettura.file,
            sha256=lettura.sha256,
            area=lettura.area,
            esito=lettura.esito,
            anomalie=lettura.anomalie,
            stato=fonte.stato,
            motivo=fonte.motivo,
        )
        if id(lettura) not in kept:
            # Kept once, compressed, in ``result.anomalie``: the reading's own list would hold them all again.
            lettura.anomalie = []
    for name, why in ignored:
        result.fonti.append(_ignored_source(name, why))
        registro.event("file-ignorato", file=name, motivo=why)
    if not accepted:
        registro.event("nessun-output", motivo="nessuna scheda consolidabile: il master non è stato scritto")
        return result
    first = accepted[0].metadati
    assert first is not None
    anno = first.anno
    reference = data_riferimento or default_reference_date(anno, first.scadenza)
    result.anno = anno
    # One area at a time, never all as models: each accepted compilation carried onto the version in
    # force, what spans areas gathered (codes, matricole, shares); then as it counts, once for the master,
    # its extracts and the next round's plan: an invalid value is a missing one (the master shows what was
    # read beside it); then the checks between rounds; then kept compressed.
    carry: Callable[[int, Area], Area] = _as_it_is
    if plan is not None and header is not None:
        # Schede of an earlier version of the plan count in the version in force, by code.
        older = [i for i, lt in enumerate(accepted) if lt.metadati and older_version(lt.metadati, header)]
        if older:
            carry = OntoCurrentVersion(plan, accepted, older, rilevazione).carry
    settings = load_settings()
    calo = settings.controlli.calo_massimo_obiettivo
    across, shares = TraAree(anno), QuoteTraAree()
    non_validi: dict[str, set[str]] = {}
    names: list[str] = []
    # The areas wait compressed in the master's folder, beside its other temporary files (never in a
    # system temporary folder that may be memory itself, or small).
    counted = AreeCompresse(cartella=Path(output).parent)
    read_invalid: dict[str, dict[str, float | None]] = {}
    between: list[tuple[Anomalia, str]] = []

    def count(lettura: Lettura, area: Area, compressed: bytes = b"") -> None:
        """``compressed``: ``area`` as its worker compressed it, if nothing has changed it since."""
        [counting], read = counted_areas([area], rilevazione, non_validi)
        if counting is not area:  # an invalid value removed: a copy, compressed again
            compressed, area = b"", counting
        read_invalid.update(read)
        result.pct_aree[area.nome] = area_pct(area, rilevazione, regole)
        assert lettura.metadati is not None
        result._ritorni.append((printable(lettura.file.name), lettura.sha256, lettura.metadati.versione_piano))
        if rilevazione is Rilevazione.FINALE:
            previous = previous_round(header, lettura.metadati.area)
            found = check_between_rounds(previous, area, regole, calo, locate=lettura.locate)
            between.extend((a, printable(lettura.file.name)) for a in found)
        counted.append(area, compressed)

    # The office's corrections need every area's name before the first is corrected: with them, the
    # carried areas wait compressed for a second pass; without them, each area counts as it is carried.
    carried = AreeCompresse(cartella=Path(output).parent) if rettifiche is not None else None
    for index, lettura in enumerate(accepted):
        # The compilation as its worker compressed it: what counts, unless carried onto another version or
        # an invalid value is removed (then compressed again), is kept as those bytes.
        compressed = lettura.compressed() if isinstance(lettura, LetturaCompatta) else b""
        compiled = expand(compressed) if compressed else compilation(lettura)
        assert compiled is not None
        area = carry(index, compiled)
        if area is not compiled:
            compressed = b""
        if invalid := invalid_values(lettura, compiled, rilevazione):
            non_validi[area.nome] = invalid
        lettura.anomalie = []  # the last use of the reading's own list (see above)
        if isinstance(lettura, LetturaCompatta):
            lettura.release()  # the area is held below now
        across.add(area)
        shares.add(area)
        names.append(area.nome)
        if carried is None:
            count(lettura, area, compressed)
        else:
            carried.append(area, compressed)
    # The per-area plan checks already ran on each file, with cells: add only what spans areas.
    result.anomalie.extend(across.anomalie())
    result.anomalie.extend(shares.anomalie())
    missing: list[str] = []
    if plan is not None:
        answered = {nome.casefold() for nome in names}
        for nome in plan.nomi:
            if nome.casefold() not in answered:
                missing.append(nome)
                result.anomalie.append(
                    finding("area-senza-risposta", "nessuna scheda valida ricevuta", area=nome, valore=nome)
                )
    correzioni = None
    if rettifiche is not None and carried is not None:
        name = printable(rettifiche.name)
        correzioni = Correzioni(corrections, names, rilevazione, file=name, aree_del_piano=missing)
        for index, (lettura, area) in enumerate(zip(accepted, carried.drain(), strict=True)):
            correzioni.apply(index, area)
            count(lettura, area)
    result.valori_letti = sum(lettura.valori_letti for lettura in accepted)
    if correzioni is not None and rettifiche is not None:
        applied, problems = correzioni.results()
        result.file_rettifiche, result.rettifiche = rettifiche, applied
        result.anomalie.extend(problems, printable(rettifiche.name))
        registro.event("rettifiche", file=str(rettifiche), applicate=len(applied), anomalie=len(problems))
    for anomalia, file in between:
        result.anomalie.append(anomalia, file)
    result.aree = counted
    result.non_validi, result.data_riferimento = non_validi, reference
    # What the master and the extracts need of the readings, taken now: then the readings are let go (each
    # holds its metadata and findings, some KB a file, for nothing while the master is written).
    per_area = {lettura.area: lettura.valori_letti for lettura in accepted}
    versione_piano = version_words(header, accepted)
    for held in (letture, accepted, classificazione.esami):
        held.clear()
    # The master's whole content, which each extract filters (``master/extracts.py``).
    content: dict[str, Any] = {
        "ente": first.ente,
        "anno": anno,
        "aree": result.aree,
        "rilevazione": rilevazione,
        "regole": regole,
        "anomalie": result.anomalie,
        "fonti": result.fonti,
        "data_riferimento": reference,
        "valori_letti": result.valori_letti,
        "aree_mancanti": missing,
        # The file each finding was read from ("" for findings across files), in the findings' order.
        "file_anomalie": result.anomalie.files(),
        "non_validi": read_invalid,
        "rettifiche": result.rettifiche,
        "versione_piano": versione_piano,
        "impostazioni": settings,
        # With two or more, Assegnazioni and Personale are written by a process of their own.
        "processi": processi,
    }
    write: Callable[..., SintesiMaster] = functools.partial(write_master, **content)
    result.summary = write(output)
    result.master = output
    registro.written(output, "master")
    if estratti is not None:
        result.estratti = write_extracts(
            estratti, write, content, valori_letti=per_area, cartella_schede=folder, master=output
        )
        for estratto in result.estratti:
            registro.written(estratto.path, f"estratto: {estratto.destinatario}")
    return result


STATED = "indicata con --rilevazione"


def expected_round(stated: Rilevazione | None, piano: Piano | None) -> tuple[Rilevazione | None, str]:
    """The round to consolidate and why: as stated; else the one after the round the plan records as
    consolidated (the final one once the intermediate is on record); else ``None``, the schede decide."""
    if stated is not None:
        return stated, STATED
    done = {r.rilevazione for r in piano.rilevazioni} if piano is not None else set()
    other = "; per un'altra: --rilevazione"
    if Rilevazione.FINALE in done:
        return Rilevazione.FINALE, f"il piano registra già la rilevazione finale{other}"
    if Rilevazione.INTERMEDIA in done:
        return Rilevazione.FINALE, f"il piano registra già consolidata la rilevazione intermedia{other}"
    return None, ""


OUR_OUTPUT = "master/estratto di seregno-xlsx, non una scheda"


def is_our_output(lettura: Lettura) -> bool:
    """A master or an extract written by ``consolida``, by its structure: no Metadati, and our master's
    sheets with Riepilogo first (a master of an earlier release may lack the sheets added since)."""
    if lettura.metadati is not None:
        return False
    return is_master_sheets(list(lettura.fogli))


def refuse_foreign_output(output: Path) -> None:
    """The master replaces only a master: a workbook of anything else at ``output`` (a typo in ``-o``, a
    colleague's file with the same name) is never lost (``refuse_to_replace``). A master (or an extract)
    is known by its sheets, as ``is_our_output`` knows one."""
    refuse_to_replace(output, is_master_sheets, what="un master di seregno-xlsx")


def version_named(metadati: Metadati, piano: Piano | None) -> str:
    """The version of the plan a scheda came from: as it says, else as the plan's history knows its delibera."""
    if metadati.versione_piano is not None:
        return str(metadati.versione_piano)
    if piano is None or (metadati.ente, metadati.anno) != (piano.ente, piano.anno):
        return ""
    if (metadati.titolo, metadati.delibera) == (piano.titolo, piano.delibera):
        return str(piano.versione)
    earlier = piano.version_of(metadati.titolo, metadati.delibera)
    return str(earlier.versione) if earlier else ""


def version_words(piano: Piano | None, accepted: list[Lettura]) -> str:
    """Which version of the plan the master uses, in words (Riepilogo)."""
    if piano is None:
        named = sorted({lt.metadati.versione_piano for lt in accepted if lt.metadati and lt.metadati.versione_piano})
        return f"piano versione {named[-1]} (dalle schede; piano non indicato)" if named else ""
    words = f"piano versione {piano.versione}"
    if piano.delibera:
        words += f" ({piano.delibera}" + (f" del {piano.data_delibera:%d/%m/%Y})" if piano.data_delibera else ")")
    return words


def _without_previous_master(files: list[Path], output: Path) -> list[Path]:
    """The master may replace the previous master in the returns folder, never a returned scheda."""
    kept = []
    for path in files:
        if not same_file(path, output):
            kept.append(path)
        elif read_workbook(path).metadati is not None:
            refuse_input_as_output(output, [path], what="dal master")
    return kept


def invalid_values(lettura: Lettura, area: Area, rilevazione: Rilevazione) -> set[str]:
    """Codes of the indicators whose round value has an ``errore`` finding on its cell (see scoring);
    ``area``: the reading's compilation (a reading kept by the pool found them already, in its worker)."""
    field = round_value_field(rilevazione)
    if isinstance(lettura, LetturaCompatta) and lettura.non_validi is not None:
        return set(lettura.non_validi.get(field, ()))
    return invalid_codes(lettura, area, field)


def _as_it_is(_: int, area: Area) -> Area:
    return area


def _ignored_source(name: str, why: str) -> Fonte:
    return Fonte(
        file=name,
        area="",
        rilevazione="",
        versione_modello="",
        sha256="",
        compilato_il=None,
        stato=Stato.IGNORATO,
        motivo=why,
    )
