"""Closing a round: the official master of the round, frozen.

``consolida --chiudi`` copies the master it has just written under a name that carries the year, the
round and the date of closure, prints it to PDF with LibreOffice, and records the SHA-256 of every
file it was made from and of what it wrote, in a manifest that ``sha256sum -c`` checks. A round is
closed once: afterwards nothing (neither another closure nor ``consolida -o``) replaces those files.
Everything is prepared beside the target first; the files appear only when all of them are ready.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from seregno_xlsx.errors import OutputError, SeregnoError
from seregno_xlsx.files import sha256_file
from seregno_xlsx.piano.model import Rilevazione

PDF_TIMEOUT = 600  # seconds: a master of every area prints in well under a minute
_CLOSED = re.compile(r"^Master_\d{4}_(intermedia|finale)_chiuso_\d{4}-\d{2}-\d{2}\.(xlsx|pdf|sha256)$")
MISSING_LIBREOFFICE = (
    "LibreOffice non è installato (comando «soffice» non trovato): serve per stampare in PDF il master "
    "ufficiale. Installare LibreOffice (https://it.libreoffice.org) e ripetere il comando; "
    "la rilevazione non è stata chiusa."
)


@dataclass(frozen=True)
class Chiusura:
    """The official files of a closed round."""

    master: Path
    pdf: Path
    manifesto: Path


def closed_stem(anno: int, rilevazione: Rilevazione, when: date) -> str:
    return f"Master_{anno}_{rilevazione.value}_chiuso_{when:%Y-%m-%d}"


def closed_masters(folder: Path, anno: int, rilevazione: Rilevazione) -> list[Path]:
    """The official masters of this round already in ``folder`` (at most one, unless put there by hand)."""
    return sorted(folder.glob(f"Master_{anno}_{rilevazione.value}_chiuso_*.xlsx"))


def is_closed_file(path: Path) -> bool:
    """One of the official files of a closed round, by its name."""
    return bool(_CLOSED.match(path.name))


def refuse_closed_output(output: Path) -> None:
    """Stop before writing onto a closed round's official file, or onto one its manifest lists."""
    if _CLOSED.match(output.name) and (output.exists() or output.is_symlink()):
        raise OutputError(
            f"{output}: è un file ufficiale di una rilevazione chiusa e non si sovrascrive; indicare un altro nome"
        )
    for manifest in output.parent.glob("Master_*_chiuso_*.sha256"):
        if _CLOSED.match(manifest.name) and output.name in _listed(manifest):
            raise OutputError(
                f"{output}: è registrato nel manifesto «{manifest.name}» di una rilevazione chiusa e non si "
                "sovrascrive; indicare un altro nome"
            )


def _listed(manifest: Path) -> set[str]:
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()[:10_000]
    except (OSError, UnicodeDecodeError):
        return set()
    return {Path(line[66:]).name for line in lines if len(line) > 66}


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def close_round(
    master: Path,
    *,
    anno: int,
    rilevazione: Rilevazione,
    sources: Sequence[tuple[Path, str]],
    plan_file: Path | None = None,
    when: date | None = None,
    soffice: str | None = None,
) -> Chiusura:
    """Freeze ``master`` (just written by ``consolida``) as the official master of the round.

    ``sources``: each file the master was made from and the SHA-256 of the bytes that were read; a file
    that changed since is refused (the manifest would not describe what the master shows).
    """
    folder = master.parent
    already = closed_masters(folder, anno, rilevazione)
    if already:
        raise OutputError(
            f"la rilevazione {rilevazione.value} {anno} è già chiusa: «{already[0].name}». "
            "Il master ufficiale non si sovrascrive; il master di lavoro è stato comunque aggiornato"
        )
    soffice = soffice or find_soffice()
    if soffice is None:
        raise SeregnoError(MISSING_LIBREOFFICE)
    stem = closed_stem(anno, rilevazione, when or date.today())
    targets = [folder / f"{stem}{suffix}" for suffix in (".pdf", ".sha256", ".xlsx")]
    for target in targets:
        if target.exists() or target.is_symlink():
            raise OutputError(f"{target}: esiste già e non si sovrascrive")
    inputs = _unchanged(sources) + ([(plan_file, sha256_file(plan_file))] if plan_file is not None else [])
    with tempfile.TemporaryDirectory(prefix=".chiusura-", dir=folder) as work:
        staged = Path(work) / f"{stem}.xlsx"
        shutil.copyfile(master, staged)
        pdf = _print_pdf(soffice, staged, Path(work))
        manifest = Path(work) / f"{stem}.sha256"
        listed = [(sha, os.path.relpath(p.resolve(), folder.resolve())) for p, sha in inputs]
        listed += [(sha256_file(staged), targets[2].name), (sha256_file(pdf), targets[0].name)]
        manifest.write_text(_manifest(listed), encoding="utf-8")
        # The master last: it is what marks the round as closed.
        for source, target in zip((pdf, manifest, staged), targets, strict=True):
            source.chmod(0o444)
            _link_new(source, target)
    return Chiusura(master=targets[2], pdf=targets[0], manifesto=targets[1])


def _unchanged(sources: Iterable[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Each source with the hash of the bytes that were read, once it is checked that the file still has them."""
    paths = []
    for path, sha in sources:
        if sha256_file(path) != sha:
            raise SeregnoError(
                f"{path}: il file è cambiato dopo essere stato letto; ripetere consolida --chiudi "
                "(la rilevazione non è stata chiusa)"
            )
        paths.append((path, sha))
    return paths


def _print_pdf(soffice: str, workbook: Path, work: Path) -> Path:
    """The workbook printed by LibreOffice headless, with a profile of its own (never the user's)."""
    profile = (work / "profilo").resolve().as_uri()
    command = [
        soffice,
        f"-env:UserInstallation={profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work / "pdf"),
        str(workbook),
    ]
    try:
        run = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT, check=False)
    except FileNotFoundError:
        raise SeregnoError(MISSING_LIBREOFFICE) from None
    except subprocess.TimeoutExpired:
        raise SeregnoError(
            f"LibreOffice non ha stampato il master in PDF entro {PDF_TIMEOUT} secondi: la rilevazione non è "
            "stata chiusa; chiudere eventuali finestre di LibreOffice aperte e ripetere"
        ) from None
    pdf = work / "pdf" / f"{workbook.stem}.pdf"
    if run.returncode != 0 or not pdf.is_file():
        raise SeregnoError(
            f"LibreOffice non ha stampato il master in PDF (codice {run.returncode}): "
            "la rilevazione non è stata chiusa; ripetere il comando"
        )
    return pdf


def _manifest(files: Iterable[tuple[str, str]]) -> str:
    """``sha256sum`` format: the hash, two spaces, the path from the manifest's folder."""
    lines = []
    for sha, shown in files:
        name = Path(shown).as_posix()
        if any(c in name for c in "\\\n\r"):
            # As sha256sum writes such a name: escaped, the line marked with a leading backslash.
            name = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            lines.append(f"\\{sha}  {name}\n")
        else:
            lines.append(f"{sha}  {name}\n")
    return "".join(lines)


def _link_new(source: Path, target: Path) -> None:
    """``target`` appears whole, and only if nothing is there: a hard link never replaces a file."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise OutputError(f"{target}: esiste già e non si sovrascrive") from None
    except OSError:
        # A file system without hard links: an exclusive create, then the bytes.
        try:
            with open(target, "xb") as handle:
                handle.write(source.read_bytes())
        except FileExistsError:
            raise OutputError(f"{target}: esiste già e non si sovrascrive") from None
        target.chmod(0o444)
