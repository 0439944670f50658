"""``consolida``: every returned workbook of a folder into one master workbook.

One bad file never stops the others; two files for one area: the one received
last wins and the other is reported; every file of the folder is listed in Fonti.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.findings import Anomalia, Gravita, finding, has_errors, printable
from seregno_xlsx.master.scoring import Regole, without_invalid_values
from seregno_xlsx.master.writer import Fonte, SintesiMaster, write_master
from seregno_xlsx.outputs import refuse_input_as_output
from seregno_xlsx.piano.checks import check_across_areas
from seregno_xlsx.piano.model import Area, Piano, Rilevazione, round_value_field
from seregno_xlsx.piano.plan_file import find_plan, read_plan
from seregno_xlsx.ritorni.classification import Stato, classify, returned_files, same_file
from seregno_xlsx.ritorni.pool import Richiesta, verify_files
from seregno_xlsx.ritorni.reader import Lettura, read_workbook
from seregno_xlsx.ritorni.verification import default_reference_date


@dataclass
class Consolidamento:
    """What ``consolidate`` did: the files and their fate, the findings, and what went into the master."""

    master: Path | None
    fonti: list[Fonte] = field(default_factory=list)
    anomalie: list[Anomalia] = field(default_factory=list)
    summary: SintesiMaster | None = None
    valori_letti: int = 0
    # The accepted compilations, and the rules and round the master computed them with.
    aree: list[Area] = field(default_factory=list)
    rilevazione: Rilevazione = Rilevazione.INTERMEDIA
    regole: Regole = field(default_factory=Regole)
    data_riferimento: date | None = None
    # Per area, the indicators whose round value was invalid (counted as missing in ``aree``).
    non_validi: dict[str, set[str]] = field(default_factory=dict)
    # The plan found beside the returns (``piano*.json``) when none was given.
    piano_trovato: Path | None = None
    # id(finding) -> the file it was found in, for tables that name the file.
    origine: dict[int, str] = field(default_factory=dict)

    @property
    def rifiutati(self) -> int:
        return sum(f.stato == Stato.RIFIUTATO for f in self.fonti)

    def to_json(self) -> dict[str, object]:
        return {
            "master": str(self.master) if self.master else None,
            "fonti": [{"file": f.file, "area": f.area, "stato": f.stato, "motivo": f.motivo} for f in self.fonti],
            "anomalie": [a.model_dump(mode="json") for a in self.anomalie],
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
    piano: Piano | None = None,
    data_riferimento: date | None = None,
    regole: Regole | None = None,
    password_apertura: str | None = None,
    registro: Registro = NESSUN_REGISTRO,
    processi: int | None = None,
) -> Consolidamento:
    """``password_apertura`` opens encrypted files; ``registro`` records what was read, decided and written.

    ``processi`` files are read at once, each in its own process (default: one per core; 1 reads them
    here, one after the other): the result is the same.

    Without ``piano``, the plan the office keeps beside the returns (a ``piano*.json`` in ``folder`` or
    in its parent) is used: it checks the fingerprints and gives the locked content.
    """
    regole = regole or Regole()
    found_plan = find_plan(folder) if piano is None else None
    if found_plan is not None:
        piano = read_plan(found_plan)
        registro.event("piano-trovato", file=str(found_plan))
    files, ignored = returned_files(folder)
    files = _without_previous_master(files, output)
    richiesta = Richiesta(piano=piano, data_riferimento=data_riferimento, password_apertura=password_apertura)
    letture = verify_files(files, richiesta, processi=processi)
    classificazione = classify(letture)
    rilevazione = classificazione.rilevazione
    result = Consolidamento(master=None, rilevazione=rilevazione, regole=regole, piano_trovato=found_plan)
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
            )
        )
    accepted = classificazione.accettati
    sources: list[str] = []  # the file of each finding, for the master's «Anomalie»
    for lettura, fonte in zip(letture, result.fonti, strict=True):
        result.anomalie.extend(lettura.anomalie)
        sources += [lettura.file.name] * len(lettura.anomalie)
        result.origine.update((id(a), lettura.file.name) for a in lettura.anomalie)
        registro.file_read(
            lettura.file,
            sha256=lettura.sha256,
            area=lettura.area,
            esito=lettura.esito,
            anomalie=lettura.anomalie,
            stato=fonte.stato,
            motivo=fonte.motivo,
        )
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
    areas = [lettura.compilata for lettura in accepted if lettura.compilata is not None]
    consolidated = Piano(ente=first.ente, anno=anno, titolo=first.titolo, delibera=first.delibera, aree=areas)
    # The per-area plan checks already ran on each file, with cells: add only what spans areas.
    result.anomalie.extend(check_across_areas(consolidated))
    missing: list[str] = []
    if piano is not None:
        answered = {a.nome.casefold() for a in areas}
        for area in piano.aree:
            if area.nome.casefold() not in answered:
                missing.append(area.nome)
                result.anomalie.append(
                    finding(
                        "area-senza-risposta",
                        "nessuna scheda valida ricevuta",
                        area=area.nome,
                        valore=area.nome,
                    )
                )
    result.valori_letti = sum(lettura.valori_letti for lettura in accepted)
    non_validi = {lettura.area: invalid_values(lettura, rilevazione) for lettura in accepted}
    # As they count: an invalid value is a missing one (the master shows what was read beside it).
    result.aree = [without_invalid_values(a, rilevazione, non_validi.get(a.nome, set())) for a in areas]
    result.non_validi, result.data_riferimento = non_validi, reference
    result.summary = write_master(
        output,
        ente=first.ente,
        anno=anno,
        aree=areas,
        rilevazione=rilevazione,
        regole=regole,
        anomalie=result.anomalie,
        fonti=result.fonti,
        data_riferimento=reference,
        valori_letti=result.valori_letti,
        aree_mancanti=missing,
        file_anomalie=sources,
        non_validi=non_validi,
    )
    result.master = output
    registro.written(output, "master")
    return result


def _without_previous_master(files: list[Path], output: Path) -> list[Path]:
    """The master may replace the previous master in the returns folder, never a returned scheda."""
    kept = []
    for path in files:
        if not same_file(path, output):
            kept.append(path)
        elif read_workbook(path).metadati is not None:
            refuse_input_as_output(output, [path], what="il master")
    return kept


def invalid_values(lettura: Lettura, rilevazione: Rilevazione) -> set[str]:
    """Codes of the indicators whose round value has an ``errore`` finding on its cell (see scoring)."""
    cells = {(a.foglio, a.cella) for a in lettura.anomalie if a.gravita is Gravita.ERRORE and a.cella}
    field = round_value_field(rilevazione)
    area = lettura.compilata
    codes = {i.codice for o in area.obiettivi for i in o.indicatori} if area else set()
    return {code for code in codes if lettura.locate("indicatori", code, field) in cells}


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
