"""What a workbook carries to be recognised: plan, area, round, template version,
the plan snapshot it was generated from and the fingerprint of its locked content.

It lives in the ``Metadati`` sheet as plain cells, so it survives LibreOffice
turning a very-hidden sheet into a hidden or visible one: integrity comes from
the fingerprint, not from hiding.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from seregno_xlsx.piano.model import Area, Rilevazione
from seregno_xlsx.scheda.layout import PRODUCT, SNAPSHOT_CHUNK, Header
from seregno_xlsx.texts import Testi

KEY_PRODUCT = "prodotto"
KEY_VERSION = "versione_modello"
KEY_FINGERPRINT = "impronta"
KEY_PARTS = "dati_parti"
DATA_PREFIX = "dati_"


class Snapshot(BaseModel):
    """Everything the locked content of a workbook is generated from."""

    model_config = ConfigDict(extra="forbid")

    prodotto: str = PRODUCT
    versione_modello: str
    ente: str
    anno: int
    titolo: str
    delibera: str
    area: Area
    rilevazione: Rilevazione
    scadenza: date | None = None
    generato_il: datetime
    testi: Testi

    @property
    def header(self) -> Header:
        return Header(self.ente, self.anno, self.titolo, self.delibera)


def metadata_rows(snapshot: Snapshot, impronta: str) -> list[tuple[str, str]]:
    """Key/value rows of the Metadati sheet: readable keys first, then the snapshot in chunks."""
    payload = snapshot.model_dump_json()
    chunks = [payload[i : i + SNAPSHOT_CHUNK] for i in range(0, len(payload), SNAPSHOT_CHUNK)]
    rows = [
        (KEY_PRODUCT, PRODUCT),
        (KEY_VERSION, snapshot.versione_modello),
        ("ente", snapshot.ente),
        ("anno", str(snapshot.anno)),
        ("area", snapshot.area.nome),
        ("rilevazione", snapshot.rilevazione.value),
        ("piano_id", snapshot.header.piano_id),
        ("generato_il", snapshot.generato_il.isoformat(timespec="seconds")),
        (KEY_FINGERPRINT, impronta),
        (KEY_PARTS, str(len(chunks))),
    ]
    rows += [(f"{DATA_PREFIX}{n}", chunk) for n, chunk in enumerate(chunks, start=1)]
    return rows


class MetadataError(Exception):
    """The Metadati sheet is missing, incomplete or altered (message in Italian)."""


def parse_metadata(pairs: dict[str, str]) -> tuple[Snapshot, str]:
    """The snapshot and the stored fingerprint, from the Metadati sheet's key/value pairs."""
    if pairs.get(KEY_PRODUCT) != PRODUCT:
        raise MetadataError("manca l'identificazione «prodotto = seregno_xlsx»")
    try:
        parts = int(pairs.get(KEY_PARTS, ""))
        payload = "".join(pairs[f"{DATA_PREFIX}{n}"] for n in range(1, parts + 1))
    except (ValueError, KeyError):
        raise MetadataError("i dati della scheda sono incompleti") from None
    try:
        snapshot = Snapshot.model_validate(json.loads(payload))
    except (ValueError, ValidationError):
        raise MetadataError("i dati della scheda non sono leggibili") from None
    return snapshot, pairs.get(KEY_FINGERPRINT, "")
