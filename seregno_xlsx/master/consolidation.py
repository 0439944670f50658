"""``consolida``: every returned workbook of a folder into one master workbook.

One bad file never stops the others; two files for one area: the most recently
saved wins and the other is reported; nothing read is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from seregno_xlsx.audit import NESSUN_REGISTRO, Registro
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.findings import Anomalia, Gravita, finding, has_errors
from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.master.writer import Fonte, MasterSummary, write_master
from seregno_xlsx.piano.checks import check_across_areas
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.reader import Lettura
from seregno_xlsx.ritorni.verification import default_reference_date, verify_file
from seregno_xlsx.scheda.layout import round_value_field

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
# Findings after which a file's data cannot be trusted as this plan's compilation.
REJECTING = frozenset(
    {
        "file-illeggibile",
        "file-protetto-password",
        "file-non-riconosciuto",
        "file-troppo-grande",
        "metadati-alterati",
        "versione-modello-diversa",
        "piano-diverso",
        "area-non-nel-piano",
        "rilevazione-diversa",
    }
)

ACCETTATO, RIFIUTATO, SOSTITUITO = "accettato", "rifiutato", "sostituito"


def is_office_temp(path: Path) -> bool:
    """Lock and temporary files of Excel (~$x.xlsx) and LibreOffice (.~lock.x.xlsx#)."""
    return path.name.startswith(("~$", ".~lock", "~", ".")) or path.name.endswith("#")


def workbook_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    if not folder.is_dir():
        raise SeregnoError(f"{folder}: cartella non trovata")
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name.casefold()):
        if is_office_temp(path) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        found.append(path)
    return found


@dataclass
class Consolidamento:
    master: Path | None
    fonti: list[Fonte] = field(default_factory=list)
    anomalie: list[Anomalia] = field(default_factory=list)
    summary: MasterSummary | None = None
    valori_letti: int = 0
    # id(finding) -> the file it was found in, for tables that name the file.
    origine: dict[int, str] = field(default_factory=dict)

    @property
    def rifiutati(self) -> int:
        return sum(f.stato == RIFIUTATO for f in self.fonti)

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
) -> Consolidamento:
    """``password_apertura`` opens encrypted files; ``registro`` records what was read, decided and written."""
    regole = regole or Regole()
    letture = [
        verify_file(path, piano=piano, data_riferimento=data_riferimento, password_apertura=password_apertura)
        for path in workbook_files(folder, output)
    ]
    result = Consolidamento(master=None)
    rejected = {id(lettura): _rejection(lettura) for lettura in letture}
    _reject_other_plans(letture, rejected)
    rilevazione = _round(letture, rejected, piano)
    for lettura in letture:
        if rejected[id(lettura)] is None and lettura.snapshot and lettura.snapshot.rilevazione != rilevazione:
            rejected[id(lettura)] = f"scheda della rilevazione {lettura.snapshot.rilevazione}, attesa {rilevazione}"
            lettura.anomalie.append(
                finding(
                    "rilevazione-diversa",
                    rejected[id(lettura)] or "",
                    area=lettura.area,
                    valore=lettura.file.name,
                )
            )
    accepted = _winners(letture, rejected, result)
    for lettura, fonte in zip(letture, result.fonti, strict=True):
        result.anomalie.extend(lettura.anomalie)
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
    if not accepted:
        registro.event("nessun-output", motivo="nessuna scheda consolidabile: il master non è stato scritto")
        return result
    first = accepted[0].snapshot
    assert first is not None
    anno = first.anno
    reference = data_riferimento or default_reference_date(anno, first.scadenza)
    areas = [lettura.compilata for lettura in accepted if lettura.compilata is not None]
    consolidated = Piano(ente=first.ente, anno=anno, titolo=first.titolo, delibera=first.delibera, aree=areas)
    # The per-area plan checks already ran on each file, with cells: add only what spans areas.
    result.anomalie.extend(check_across_areas(consolidated))
    if piano is not None:
        answered = {a.nome.casefold() for a in areas}
        for area in piano.aree:
            if area.nome.casefold() not in answered:
                result.anomalie.append(
                    finding(
                        "area-senza-risposta",
                        "nessuna scheda valida ricevuta",
                        area=area.nome,
                        valore=area.nome,
                    )
                )
    result.valori_letti = sum(lettura.valori_letti for lettura in accepted)
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
        non_validi={lettura.area: invalid_values(lettura, rilevazione) for lettura in accepted},
    )
    result.master = output
    registro.written(output, "master")
    return result


def invalid_values(lettura: Lettura, rilevazione: Rilevazione) -> set[str]:
    """Codes of the indicators whose round value has an ``errore`` finding on its cell (see scoring)."""
    cells = {(a.foglio, a.cella) for a in lettura.anomalie if a.gravita is Gravita.ERRORE and a.cella}
    field = round_value_field(rilevazione)
    area = lettura.compilata
    codes = {i.codice for o in area.obiettivi for i in o.indicatori} if area else set()
    return {code for code in codes if lettura.locate("indicatori", code, field) in cells}


def _rejection(lettura: Lettura) -> str | None:
    if not lettura.leggibile:
        return next((a.messaggio for a in lettura.anomalie), "file non leggibile")
    for anomalia in lettura.anomalie:
        if anomalia.codice in REJECTING:
            return anomalia.messaggio
    return None


def _reject_other_plans(letture: list[Lettura], rejected: dict[int, str | None]) -> None:
    """Without --piano the plan is the one most files belong to; a file of another plan never mixes in."""
    headers = Counter(
        lettura.snapshot.header for lettura in letture if lettura.snapshot and rejected[id(lettura)] is None
    )
    if len(headers) < 2:
        return
    main = headers.most_common(1)[0][0]
    for lettura in letture:
        snapshot = lettura.snapshot
        if snapshot is None or rejected[id(lettura)] is not None or snapshot.header == main:
            continue
        reason = f"scheda del piano «{snapshot.ente} {snapshot.anno}», le altre sono di «{main.ente} {main.anno}»"
        rejected[id(lettura)] = reason
        lettura.anomalie.append(finding("piano-diverso", reason, area=lettura.area, valore=lettura.file.name))


def _round(letture: list[Lettura], rejected: dict[int, str | None], piano: Piano | None) -> Rilevazione:
    """The round of the master: the one most files were generated for."""
    rounds = Counter(
        lettura.snapshot.rilevazione for lettura in letture if lettura.snapshot and rejected[id(lettura)] is None
    )
    return rounds.most_common(1)[0][0] if rounds else Rilevazione.INTERMEDIA


def _winners(letture: list[Lettura], rejected: dict[int, str | None], result: Consolidamento) -> list[Lettura]:
    by_area: dict[str, list[Lettura]] = {}
    for lettura in letture:
        if rejected[id(lettura)] is None:
            by_area.setdefault(lettura.area.casefold(), []).append(lettura)
    winners: dict[int, Lettura] = {}
    for group in by_area.values():
        group.sort(key=lambda lettura: (lettura.compilato_il or datetime.min, lettura.file.name))
        winner = group[-1]
        winners[id(winner)] = winner
        for loser in group[:-1]:
            reason = f"sostituito da {winner.file.name}, salvato più di recente"
            if loser.sha256 == winner.sha256:
                reason = f"copia identica di {winner.file.name}"
            rejected[id(loser)] = reason
            loser.anomalie.append(
                finding("file-sostituito", f"{loser.file.name}: {reason}", area=loser.area, valore=loser.file.name)
            )
    for lettura in letture:
        stato = ACCETTATO if id(lettura) in winners else RIFIUTATO
        motivo = rejected[id(lettura)] or ""
        if stato == RIFIUTATO and motivo.startswith(("sostituito", "copia identica")):
            stato = SOSTITUITO
        snapshot = lettura.snapshot
        result.fonti.append(
            Fonte(
                file=lettura.file.name,
                area=lettura.area,
                rilevazione=snapshot.rilevazione.value if snapshot else "",
                versione_modello=snapshot.versione_modello if snapshot else "",
                sha256=lettura.sha256,
                compilato_il=lettura.compilato_il,
                stato=stato,
                motivo=motivo,
            )
        )
    return [lettura for lettura in letture if id(lettura) in winners]
