"""Rules about files shared by every step: their SHA-256, which names are office clutter, ASCII names,
and the clock their times are read on."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# The office's clock, whatever the machine's zone: a file received at 10:30 in Seregno reads 10:30 in
# its name, in Fonti and in the message that says which reply won.
OFFICE_TZ = ZoneInfo("Europe/Rome")


def on_office_clock(moment: datetime | None) -> datetime | None:
    """A time read on this machine's clock (naive) on the office's clock, naive."""
    if moment is None:
        return None
    try:
        return moment.astimezone(OFFICE_TZ).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return moment


def office_now() -> datetime:
    """Now on the office's clock, naive, to the second: when a scheda was generated, as Metadati says it."""
    return datetime.now(OFFICE_TZ).replace(tzinfo=None, microsecond=0)


def is_rettifiche(path: Path) -> bool:
    """The office's corrections kept beside the returns (master/rettifiche.py): never read as a returned scheda."""
    return path.name.casefold().startswith("rettifiche") and path.suffix.lower() in (".csv", ".xlsx")


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
