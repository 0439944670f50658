"""Where outputs may go: never onto, nor into, what a command is reading.

A command's declared output may replace its own previous output; it may never replace an input (a
returned scheda, the plan) nor a file the command did not write. Names are kept within what file
systems hold (255 bytes), whatever the name of the file they derive from.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from seregno_xlsx.errors import OutputError

# File systems hold names of 255 bytes; a derived name leaves room for a suffix and a counter.
MAX_STEM_BYTES = 180


def refuse_input_as_output(output: Path, inputs: Iterable[Path], *, what: str) -> None:
    """Stop before writing ``output`` if it is one of the files read (or a link to one). ``what`` is
    the writer with its preposition, as the message says it: «dal master»."""
    target = _resolved(output)
    for source in inputs:
        if target == _resolved(source):
            raise OutputError(
                f"{output}: è un file letto da questo comando e non può essere sostituito {what}; "
                "indicare un altro nome"
            )


def same_path(first: Path, second: Path) -> bool:
    """The same file or folder, however it is written (relative, with links)."""
    return _resolved(first) == _resolved(second)


def free_name(folder: Path, stem: str, suffix: str, *, avoid: Iterable[Path] = ()) -> Path:
    """``folder/stem+suffix``, or ``stem_2``, ``stem_3``... : never an existing file, never one of ``avoid``."""
    stem = short_stem(stem)
    avoided = {_resolved(p) for p in avoid}
    for n in range(1, 10_000):
        candidate = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}_{n}{suffix}")
        if not candidate.exists() and not candidate.is_symlink() and _resolved(candidate) not in avoided:
            return candidate
    raise OutputError(f"{folder}: troppi file con il nome {stem}{suffix}")


def short_stem(stem: str) -> str:
    """A file name stem cut to fit a file system's limit, on a character boundary."""
    data = stem.encode("utf-8", "surrogateescape")
    if len(data) <= MAX_STEM_BYTES:
        return stem
    return data[:MAX_STEM_BYTES].decode("utf-8", "ignore").rstrip() or "file"


# The largest list of sheets read from a file an output would replace (Excel's workbook.xml of hundreds of
# sheets is some tens of KB).
MAX_WORKBOOK_PART = 1_000_000


def refuse_to_replace(target: Path, ours: Callable[[list[str]], bool], *, what: str) -> None:
    """Stop before replacing ``target`` unless it is a workbook this program wrote (``ours``, given its
    sheets: ``what`` names it in the message). Nothing there, or a folder (refused when written), passes."""
    if target.is_dir() or not target.exists():  # a link to nothing: only the link is replaced
        return
    if not stat.S_ISREG(target.stat().st_mode):
        raise OutputError(f"{target}: non è un file ordinario e non viene sostituito; indicare un altro nome")
    names = workbook_sheet_names(target)
    if names is not None and ours(names):
        return
    raise OutputError(
        f"{target}: esiste già e non è {what}, quindi non viene sostituito; indicare un altro nome, "
        "oppure spostare o eliminare quel file"
    )


def workbook_sheet_names(path: Path) -> list[str] | None:
    """The sheets of the .xlsx at ``path``, in order, read from its list of sheets only (bounded, with
    defusedxml's refusals; Strict Open XML too); None if it is not such a workbook or cannot be read."""
    # Here, not at the top: every command imports this module, few replace a workbook.
    from defusedxml.ElementTree import fromstring

    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/workbook.xml")
            if info.file_size > MAX_WORKBOOK_PART:
                return None
            with archive.open(info) as part:
                data = part.read(MAX_WORKBOOK_PART + 1)
        if len(data) > MAX_WORKBOOK_PART:
            return None
        root = fromstring(data)
    except Exception:
        return None
    return [str(el.get("name", "")) for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("}sheet")]


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare it as written
        return Path(path).absolute()
