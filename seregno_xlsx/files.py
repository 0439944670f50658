"""Rules about files shared by every step: their SHA-256, which names are office clutter, ASCII names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path


def ascii_words(text: str) -> list[str]:
    """The words of ``text`` in ASCII letters and digits (accents dropped, «Ò» is «O»): for names and codes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^A-Za-z0-9]+", ascii_text) if w]


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
