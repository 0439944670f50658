"""What a workbook carries to be recognised: plan, area, round, template version,
the plan snapshot it was generated from and the fingerprint of its locked content.

It lives in the ``Metadati`` sheet as plain cells, so it survives LibreOffice
turning a very-hidden sheet into a hidden or visible one: integrity comes from
the fingerprint, not from hiding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from seregno_xlsx.piano.model import Area, Compilazione, Nome, Rilevazione, Testo
from seregno_xlsx.scheda.layout import PRODUCT, SNAPSHOT_CHUNK, Header
from seregno_xlsx.texts import Testi

KEY_PRODUCT = "prodotto"
KEY_VERSION = "versione_modello"
KEY_FINGERPRINT = "impronta"
KEY_PARTS = "dati_parti"
DATA_PREFIX = "dati_"
# Bounds of what the Metadati sheet may ask the reader to parse (a real snapshot is a few hundred KB).
MAX_PARTS = 300
MAX_PAYLOAD = 8 * 1024 * 1024
# The prefix of a fingerprint keyed with the plan's key (an older scheda holds a bare SHA-256).
KEYED = "h1:"


class Metadati(BaseModel):
    """Everything the locked content of a workbook is generated from."""

    model_config = ConfigDict(extra="forbid")

    prodotto: Nome = PRODUCT
    versione_modello: Nome
    ente: Nome
    anno: int = Field(ge=1990, le=2100)
    titolo: Testo
    delibera: Testo
    area: Area
    rilevazione: Rilevazione
    scadenza: date | None = None
    generato_il: datetime
    # The texts the scheda was generated with: kept for the record, never used to read it (the reader
    # takes its texts from ``modelli/``: nothing in a returned file is a template).
    testi: Testi
    # The version of the plan it was generated from (None: a scheda made before plans had versions).
    versione_piano: int | None = Field(default=None, ge=1, le=100_000)

    @property
    def header(self) -> Header:
        return Header(self.ente, self.anno, self.titolo, self.delibera)


def metadata_rows(snapshot: Metadati, impronta: str) -> list[tuple[str, str]]:
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
    if snapshot.versione_piano is not None:
        rows.append(("versione_piano", str(snapshot.versione_piano)))
    rows += [(f"{DATA_PREFIX}{n}", chunk) for n, chunk in enumerate(chunks, start=1)]
    return rows


class MetadataError(Exception):
    """The Metadati sheet is missing, incomplete or altered (message in Italian)."""


def parse_metadata(pairs: dict[str, str]) -> tuple[Metadati, str]:
    """The snapshot and the stored fingerprint, from the Metadati sheet's key/value pairs (hostile data)."""
    if pairs.get(KEY_PRODUCT) != PRODUCT:
        raise MetadataError("manca l'identificazione «prodotto = seregno_xlsx»")
    try:
        parts = int(pairs.get(KEY_PARTS, "")[:6])
        if not 0 < parts <= MAX_PARTS:
            raise ValueError(parts)
        payload = "".join(pairs[f"{DATA_PREFIX}{n}"] for n in range(1, parts + 1))
    except (ValueError, KeyError):
        raise MetadataError("i dati della scheda sono incompleti") from None
    if len(payload) > MAX_PAYLOAD:
        raise MetadataError("i dati della scheda superano i limiti di dimensione")
    try:
        snapshot = Metadati.model_validate(json.loads(payload))
    except (ValueError, ValidationError, RecursionError):
        raise MetadataError("i dati della scheda non sono leggibili") from None
    return snapshot, pairs.get(KEY_FINGERPRINT, "")[:100]


def keyed_fingerprint(snapshot: Metadati, key: str) -> str:
    """HMAC-SHA256 of the snapshot (its texts aside) with the plan's key: forging it needs the plan file.

    The snapshot determines every locked cell, the round and the deadline, so a scheda whose
    fingerprint checks out carries exactly what the office generated.
    """
    payload = _JSON.dump_json(_without_added_defaults(snapshot.model_dump(mode="json", exclude={"testi"})))
    return KEYED + hmac.new(bytes.fromhex(key), payload, hashlib.sha256).hexdigest()


# Fields added to the plan (and so to the snapshot) after schede were first sent, by level: left out of
# the fingerprint while they hold their default, so a scheda generated before they existed still verifies.
# A new field with a default is added here, at its level.
ADDED_FIELDS: dict[str, frozenset[str]] = {
    "snapshot": frozenset({"versione_piano"}),
    "area": frozenset({"codice", "compilazione"}),
    "obiettivo": frozenset({"anno_precedente"}),
    # The rules and people issues (11, 16): their fields leave the fingerprints of schede sent before them
    # as they were.
    "fase": frozenset({"evidenza"}),
    "indicatore": frozenset({"regola", "evidenza"}),
    "persona": frozenset({"quota", "dal", "al"}),
}
_DEFAULTS: tuple[object, ...] = (
    None,
    "",
    [],
    {},
    Compilazione().model_dump(mode="json"),  # an empty sign-off block
)
# Serialises exactly as ``model_dump_json`` (one serializer): what older schede were fingerprinted with.
_JSON: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def _pruned(data: dict[str, Any], level: str) -> dict[str, Any]:
    """``data`` (a dump of our own, never shared) without the added fields holding their default: deleted in
    place, the other keys keep their order (the fingerprint's bytes)."""
    for key in [k for k in ADDED_FIELDS[level] if k in data and any(data[k] == d for d in _DEFAULTS)]:
        del data[key]
    return data


def _without_added_defaults(data: dict[str, Any]) -> dict[str, Any]:
    snapshot = _pruned(data, "snapshot")
    area = _pruned(snapshot["area"], "area")
    obiettivi = []
    for raw in area.get("obiettivi", []):
        obiettivo = _pruned(raw, "obiettivo")
        obiettivo["fasi"] = [_pruned(f, "fase") for f in obiettivo.get("fasi", [])]
        obiettivo["indicatori"] = [_pruned(i, "indicatore") for i in obiettivo.get("indicatori", [])]
        obiettivo["risorse_umane"] = [_pruned(p, "persona") for p in obiettivo.get("risorse_umane", [])]
        obiettivi.append(obiettivo)
    area["obiettivi"] = obiettivi
    snapshot["area"] = area
    return snapshot


def fingerprint_matches(snapshot: Metadati, key: str, stored: str) -> bool:
    return hmac.compare_digest(keyed_fingerprint(snapshot, key), stored)
