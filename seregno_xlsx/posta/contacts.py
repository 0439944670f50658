"""The office's address book: who receives each area's workbook (``modelli/contatti.csv``).

One row per area: ``area;responsabile;email;copia``. ``email`` and ``copia`` may
hold several addresses separated by commas. The file is saved by Excel
(semicolons, Windows encoding) or by a text editor (commas, UTF-8): both are read.
Everything wrong in it is reported at once, with the line, before any e-mail is written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path

from seregno_xlsx.atomic import os_reason
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.piano.model import Piano

COLUMNS = ("area", "responsabile", "email", "copia")
REQUIRED = ("area", "email")

# Deliberately simple: one @, a dot in the domain, no spaces. The server has the last word.
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


class ContactsError(SeregnoError):
    """The contacts file cannot be used as it is; ``problemi`` lists every problem found."""

    def __init__(self, file: Path, problemi: list[str]) -> None:
        righe = "\n".join(f"  - {p}" for p in problemi)
        super().__init__(f"{file}: contatti da correggere ({len(problemi)}):\n{righe}")
        self.problemi = problemi


@dataclass(frozen=True)
class Contatto:
    """The recipients of one area's messages."""

    area: str
    responsabile: str
    a: tuple[Address, ...]
    copia: tuple[Address, ...] = ()

    @property
    def destinatari(self) -> list[str]:
        """Every envelope recipient, To then Cc."""
        return [a.addr_spec for a in (*self.a, *self.copia)]


@dataclass
class Rubrica:
    """The contacts of a plan's areas, by area name as spelled in the plan."""

    file: Path
    contatti: dict[str, Contatto] = field(default_factory=dict)

    def per(self, area: str) -> Contatto:
        for nome, contatto in self.contatti.items():
            if nome.casefold() == area.casefold():
                return contatto
        raise KeyError(area)


def load_contacts(path: Path, piano: Piano, *, aree: Sequence[str] = ()) -> Rubrica:
    """Read and check the contacts file against the plan.

    Errors: unknown area, invalid or missing address, area repeated, and an area of
    the plan (or of ``aree`` when given) without a contact.
    """
    path = Path(path)
    text = _read_text(path)
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    if not header_line:
        raise ContactsError(path, ["il file è vuoto: serve la riga di intestazione «area;responsabile;email;copia»"])
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    data = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    reader = csv.DictReader(io.StringIO(data), delimiter=delimiter)
    header = [(name or "").strip().casefold() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ContactsError(
            path,
            [f"mancano le colonne {', '.join(missing)} (intestazione attesa: {delimiter.join(COLUMNS)})"],
        )
    unknown = [name for name in header if name and name not in COLUMNS]
    problems = [f"colonna «{name}» sconosciuta (ammesse: {', '.join(COLUMNS)})" for name in unknown]
    rubrica = Rubrica(path)
    known = {a.nome.casefold(): a for a in piano.aree}
    line_numbers = [n for n, line in enumerate(lines, start=1) if not line.lstrip().startswith("#")]
    for row in reader:
        # The line in the file, comments included, as the office sees it in an editor.
        riga = line_numbers[reader.line_num - 1] if reader.line_num <= len(line_numbers) else reader.line_num
        values = {(k or "").strip().casefold(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if not any(values.values()):
            continue
        nome = values.get("area", "")
        where = f"riga {riga}"
        if not nome:
            problems.append(f"{where}: manca il nome dell'area")
            continue
        area = known.get(nome.casefold())
        if area is None:
            # By the area's stable code, or by the name it had in an earlier version of the plan.
            with contextlib.suppress(KeyError):
                area = piano.area_named(nome)
        if area is None:
            elenco = ", ".join(a.nome for a in piano.aree)
            problems.append(f"{where}: l'area «{nome}» non è nel piano {piano.anno} (aree del piano: {elenco})")
            continue
        if area.nome.casefold() in {n.casefold() for n in rubrica.contatti}:
            problems.append(f"{where}: l'area «{area.nome}» compare più di una volta")
            continue
        to, errors_to = parse_addresses(values.get("email", ""))
        cc, errors_cc = parse_addresses(values.get("copia", ""))
        problems += [f"{where} ({area.nome}), colonna email: {e}" for e in errors_to]
        problems += [f"{where} ({area.nome}), colonna copia: {e}" for e in errors_cc]
        if not to and not errors_to:
            problems.append(f"{where}: l'area «{area.nome}» non ha un indirizzo nella colonna email")
        responsabile = values.get("responsabile", "") or area.responsabile
        rubrica.contatti[area.nome] = Contatto(area.nome, responsabile, tuple(to), tuple(cc))
    wanted = [known[n.casefold()].nome for n in aree if n.casefold() in known] if aree else [a.nome for a in piano.aree]
    have = {n.casefold() for n in rubrica.contatti}
    problems += [f"l'area «{nome}» del piano non ha un contatto" for nome in wanted if nome.casefold() not in have]
    if problems:
        raise ContactsError(path, problems)
    return rubrica


def parse_addresses(text: str) -> tuple[list[Address], list[str]]:
    """Addresses separated by commas or semicolons, ``Nome <x@y.it>`` allowed; and the problems found."""
    found: list[Address] = []
    problems: list[str] = []
    for chunk in (part.strip() for part in re.split(r"[;,\n]", text)):
        if not chunk:
            continue
        [(name, addr)] = getaddresses([chunk]) or [("", "")]
        if not addr or not _ADDRESS.match(addr) or ("<" in chunk) != (">" in chunk):
            problems.append(f"«{chunk}» non è un indirizzo e-mail valido")
            continue
        user, domain = addr.rsplit("@", 1)
        found.append(Address(display_name=name, username=user, domain=domain))
    return found, problems


# .xlsx/.ods (a zip) and .xls (an OLE compound file).
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SeregnoError(f"{path}: file dei contatti non trovato") from None
    except OSError as exc:
        raise SeregnoError(f"{path}: impossibile leggere i contatti ({os_reason(exc)})") from None
    if raw.startswith(_WORKBOOK_SIGNATURES):
        # Saved with Excel's plain «Salva»: a workbook, whose bytes would read as no header at all.
        raise SeregnoError(
            f"{path}: è una cartella di lavoro di Excel o LibreOffice, non un CSV: aprirla e salvarla con "
            "«Salva con nome», tipo «CSV (delimitato dal separatore di elenco) (*.csv)», poi indicare il file .csv"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's «CSV (delimitato dal separatore di elenco)» on Italian Windows.
        return raw.decode("cp1252", errors="replace")
