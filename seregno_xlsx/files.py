"""Rules about files shared by every step: their SHA-256 and which names are office clutter."""

from __future__ import annotations

import hashlib
from pathlib import Path


def is_rettifiche(path: Path) -> bool:
    """The office's corrections kept beside the returns (master/rettifiche.py): never read as a returned scheda."""
    return path.name.casefold().startswith("rettifiche") and path.suffix.lower() in (".csv", ".xlsx")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Read in blocks: a returned workbook may be large, and is never held whole for this."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_office_temp(path: Path) -> bool:
    """Lock and temporary files of Excel (~$x.xlsx) and LibreOffice (.~lock.x.xlsx#)."""
    return path.name.startswith(("~$", ".~lock", "~", ".")) or path.name.endswith("#")
