"""The checks of a return on what only the area can say: its people's assignments and its sign-off."""

from __future__ import annotations

from seregno_xlsx.findings import Anomalia, finding
from seregno_xlsx.piano.assegnazioni import check_assignments
from seregno_xlsx.piano.model import Rilevazione
from seregno_xlsx.ritorni.reader import Lettura
from seregno_xlsx.scheda.layout import COMPILAZIONE


def compilation_findings(lettura: Lettura) -> list[Anomalia]:
    """Shares and dates of the area's people; in the final round, a scheda the dirigente has not approved."""
    snapshot, area = lettura.metadati, lettura.compilata
    if snapshot is None or area is None:
        return []
    found = check_assignments([area], snapshot.anno, locate_for=lambda _: lettura.locate)
    # Schede of a version before the Compilazione sheet have nothing to sign.
    signed_version = not snapshot.versione_modello.isdigit() or int(snapshot.versione_modello) >= COMPILAZIONE.since
    if snapshot.rilevazione is Rilevazione.FINALE and signed_version and not area.compilazione.approvata:
        firma = area.compilazione
        missing = [
            what
            for what, given in (
                ("chi ha compilato", firma.compilata_da.strip()),
                ("il dirigente che approva", firma.approvata_da.strip()),
                ("la data di approvazione", firma.data_approvazione),
            )
            if not given
        ]
        field = "approvata_da" if not firma.approvata_da.strip() else "data_approvazione"
        foglio, cella = lettura.locate("compilazione", area.nome, field)
        found.append(
            finding(
                "approvazione-mancante",
                "manca " + ", ".join(missing),
                area=area.nome,
                foglio=foglio,
                cella=cella,
            )
        )
    return found
