"""``solleciti``: a reminder to every area whose return is missing, unusable or has errors.

Which return counts for an area is decided by the same classification as ``consolida``
(:mod:`seregno_xlsx.ritorni.classification`): what is reminded is what the master would lack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from seregno_xlsx.errors import OutputError
from seregno_xlsx.findings import Gravita, has_errors
from seregno_xlsx.outputs import same_path
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.posta.compose import (
    Contesto,
    Messaggio,
    load_mail_texts,
    reminder_errors,
    reminder_invalid,
    reminder_missing,
)
from seregno_xlsx.posta.contacts import load_contacts
from seregno_xlsx.posta.send import Avanzamento, EsitoArea, RegistroInvii, SmtpConfig, deliver
from seregno_xlsx.ritorni.classification import Stato, classify, rejection, workbook_files
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.ritorni.verification import annotate, verify_file
from seregno_xlsx.scheda.generation import area_slug, select_areas


class Situazione(StrEnum):
    """Where an area stands for the round being chased."""

    RICEVUTA = "ricevuta"
    CON_ERRORI = "con errori"
    NON_VALIDA = "scheda non valida"
    MANCANTE = "mancante"


@dataclass
class Solleciti:
    """What ``remind`` did: one row per area, in the order of the plan."""

    rilevazione: Rilevazione
    output: Path
    esiti: list[EsitoArea] = field(default_factory=list)
    situazioni: dict[str, Situazione] = field(default_factory=dict)
    messaggi: list[Messaggio] = field(default_factory=list)
    # Files in the returns folder that are not workbooks of seregno-xlsx.
    ignorati: list[str] = field(default_factory=list)
    registro: RegistroInvii | None = None

    @property
    def exit_code(self) -> int:
        return 1 if any(e.errore for e in self.esiti) else 0


def remind(
    piano: Piano,
    ritorni: Path,
    contatti: Path,
    *,
    schede: Path | None = None,
    output: Path | None = None,
    scadenza: date | None = None,
    data_riferimento: date | None = None,
    aree: list[str] | None = None,
    mittente: str | None = None,
    modelli: Path | None = None,
    password: str | None = None,
    smtp: SmtpConfig | Callable[[], SmtpConfig] | None = None,
    reinvia: bool = False,
    avanzamento: Avanzamento | None = None,
) -> Solleciti:
    """Reminders for the returns in ``ritorni``: ``.eml`` drafts and annotated copies in ``output``
    (default ``ritorni/solleciti``), or sent when ``smtp`` is given. ``schede`` is the folder of the
    generated workbooks, attached again to the areas that sent nothing; ``password`` protects the
    sheets of the annotated copies."""
    testi = load_mail_texts(modelli)
    selected = select_areas(piano, aree or [])
    rubrica = load_contacts(contatti, piano, aree=[a.nome for a in selected])
    sender = mittente or testi.ufficio.email
    output = output or ritorni / "solleciti"
    if same_path(output, ritorni):
        # The annotated copies are workbooks of the areas, newer than their returns: among the returns,
        # «consolida» would take them for each area's latest one.
        raise OutputError(
            f"-o {output}: è la cartella delle schede ricevute; le copie annotate vi sarebbero lette da "
            "«consolida» come le schede più recenti delle aree: indicare un'altra cartella (predefinita: "
            f"{ritorni / 'solleciti'})"
        )
    letture = [verify_file(p, piano=piano, data_riferimento=data_riferimento) for p in workbook_files(ritorni)]
    blanks = [read_workbook(path, piano=piano) for path in workbook_files(schede)] if schede else []
    blanks = [b for b in blanks if b.metadati is not None and rejection(b) is None]
    # Without a usable return, the round chased is the one of the blank workbooks.
    blank_rounds = classify(blanks).rilevazione if blanks else Rilevazione.INTERMEDIA
    classificazione = classify(letture, fallback=blank_rounds)
    rilevazione = classificazione.rilevazione
    blank_of = {
        b.area.casefold(): b.file for b in blanks if b.metadati is not None and b.metadati.rilevazione == rilevazione
    }
    scadenze = [lt.metadati.scadenza for lt in letture + blanks if lt.metadati and lt.metadati.scadenza]
    contesto = Contesto(piano.ente, piano.anno, rilevazione, scadenza or (scadenze[0] if scadenze else None), sender)
    today = date.today().isoformat()
    result = Solleciti(rilevazione=rilevazione, output=output)
    rows: list[EsitoArea] = []
    names: dict[str, str] = {}
    for item in selected:
        contatto = rubrica.per(item.nome)
        mine = classificazione.of_area(item.nome)
        accepted = next((e.lettura for e in mine if e.stato is Stato.ACCETTATO), None)
        names[item.nome] = f"Sollecito_{piano.anno}_{area_slug(item.nome)}.eml"
        if accepted is not None and not has_errors(accepted.anomalie):
            result.situazioni[item.nome] = Situazione.RICEVUTA
            rows.append(EsitoArea(item.nome, f"ricevuta, {accepted.esito}", accepted.file.name))
        elif accepted is not None:
            annotated = annotate(accepted, output, password=password)
            errors = sum(a.gravita is Gravita.ERRORE for a in accepted.anomalie)
            chiave = f"errori:{accepted.sha256}:{today}"
            result.messaggi.append(
                reminder_errors(
                    testi, contesto, contatto, accepted.file.name, accepted.anomalie, annotated, chiave=chiave
                )
            )
            result.situazioni[item.nome] = Situazione.CON_ERRORI
            rows.append(EsitoArea(item.nome, f"con errori ({errors})", f"sollecito per {accepted.file.name}"))
        elif mine:
            latest = mine[-1]
            name, motivo = latest.lettura.file.name, latest.motivo
            chiave = f"non-valida:{latest.lettura.sha256}:{today}"
            result.messaggi.append(reminder_invalid(testi, contesto, contatto, name, motivo, chiave=chiave))
            result.situazioni[item.nome] = Situazione.NON_VALIDA
            rows.append(EsitoArea(item.nome, Situazione.NON_VALIDA, f"{name}: {motivo}"))
        else:
            blank_path = blank_of.get(item.nome.casefold())
            chiave = f"mancante:{rilevazione}:{today}"
            result.messaggi.append(reminder_missing(testi, contesto, contatto, blank_path, chiave=chiave))
            result.situazioni[item.nome] = Situazione.MANCANTE
            again = f", riallegata {blank_path.name}" if blank_path else ""
            rows.append(EsitoArea(item.nome, Situazione.MANCANTE, f"sollecito{again}"))
    result.ignorati = [
        f"{lettura.file.name}: non è una scheda di seregno-xlsx" for lettura in letture if lettura.metadati is None
    ]
    consegne, result.registro = deliver(
        result.messaggi, output, eml_names=names, smtp=smtp, reinvia=reinvia, avanzamento=avanzamento
    )
    by_area = {c.area: c for c in consegne}
    for row in rows:
        delivery = by_area.get(row.area)
        if delivery is not None:
            row = EsitoArea(
                row.area, f"{row.stato} → {delivery.stato}", f"{row.dettaglio}; {delivery.dettaglio}", delivery.errore
            )
        result.esiti.append(row)
    return result
