"""``distribuisci``: each area's workbook to fill, e-mailed (or drafted) to its contacts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from seregno_xlsx.piano.model import Piano
from seregno_xlsx.posta.compose import Contesto, Messaggio, distribution_message, italian_date, load_mail_texts
from seregno_xlsx.posta.contacts import load_contacts
from seregno_xlsx.posta.send import Avanzamento, EsitoArea, RegistroInvii, SmtpConfig, deliver
from seregno_xlsx.ritorni.classification import foreign, workbook_files
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import select_areas, workbook_filename
from seregno_xlsx.scheda.metadata import Metadati


@dataclass
class Distribuzione:
    """What ``distribute`` did, area by area in the order of the plan."""

    output: Path
    esiti: list[EsitoArea] = field(default_factory=list)
    messaggi: list[Messaggio] = field(default_factory=list)
    # Told to the office but not an error: a deadline in the e-mail other than the workbook's.
    avvisi: list[str] = field(default_factory=list)
    # Files in the folder that are not workbooks of this plan.
    ignorati: list[str] = field(default_factory=list)
    registro: RegistroInvii | None = None

    @property
    def exit_code(self) -> int:
        if not self.messaggi:
            return 2
        return 1 if any(e.errore for e in self.esiti) else 0


def distribute(
    piano: Piano,
    schede: Path,
    contatti: Path,
    *,
    output: Path | None = None,
    scadenza: date | None = None,
    aree: list[str] | None = None,
    mittente: str | None = None,
    modelli: Path | None = None,
    smtp: SmtpConfig | Callable[[], SmtpConfig] | None = None,
    reinvia: bool = False,
    avanzamento: Avanzamento | None = None,
) -> Distribuzione:
    """One message per area with its workbook from ``schede``: ``.eml`` drafts in ``output``
    (default ``schede/posta``), or sent when ``smtp`` is given. Nothing is prepared when no workbook
    of the plan is found (``exit_code`` 2)."""
    testi = load_mail_texts(modelli)
    selected = select_areas(piano, aree or [])
    rubrica = load_contacts(contatti, piano, aree=[a.nome for a in selected])
    sender = mittente or testi.ufficio.email
    result = Distribuzione(output=output or schede / "posta")
    by_area: dict[str, list[tuple[Path, Metadati]]] = {}
    for path in workbook_files(schede):
        lettura = read_workbook(path, piano=piano)
        reason = foreign(lettura)
        if reason is not None or lettura.metadati is None:
            result.ignorati.append(f"{path.name}: {reason}")
            continue
        by_area.setdefault(lettura.area.casefold(), []).append((path, lettura.metadati))
    names: dict[str, str] = {}
    for item in selected:
        found = by_area.get(item.nome.casefold(), [])
        if not found:
            result.esiti.append(EsitoArea(item.nome, "nessuna scheda", f"nessuna scheda dell'area in {schede}", True))
            continue
        if len(found) > 1:
            elenco = ", ".join(p.name for p, _ in found)
            result.esiti.append(EsitoArea(item.nome, "più schede", f"più schede per l'area: {elenco}", True))
            continue
        [(workbook, snapshot)] = found
        if scadenza and snapshot.scadenza and scadenza != snapshot.scadenza:
            result.avvisi.append(
                f"{item.nome}: la scheda indica la scadenza {italian_date(snapshot.scadenza)}, "
                f"l'e-mail dirà {italian_date(scadenza)}"
            )
        contesto = Contesto(piano.ente, piano.anno, snapshot.rilevazione, scadenza or snapshot.scadenza, sender)
        result.messaggi.append(distribution_message(testi, contesto, rubrica.per(item.nome), workbook))
        names[item.nome] = Path(workbook_filename(piano.anno, item.nome, snapshot.rilevazione)).stem + ".eml"
    if not result.messaggi:
        return result
    consegne, result.registro = deliver(
        result.messaggi, result.output, eml_names=names, smtp=smtp, reinvia=reinvia, avanzamento=avanzamento
    )
    result.esiti += consegne
    order = {a.nome: n for n, a in enumerate(selected)}
    result.esiti.sort(key=lambda e: order.get(e.area, len(order)))
    return result
