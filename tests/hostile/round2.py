"""Builders of the second hostile corpus (issue 14): edits of a real scheda at the XML and Metadati level."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl

from seregno_xlsx.scheda.layout import SNAPSHOT_CHUNK

from .corpus import entries, write_zip

CONSOLE = Path(sys.executable).parent / "seregno-xlsx"
SECRET = "s3greto-SMTP-non-deve-uscire"
# Address space of a console run: far below what the far-cell attacks asked for (512 GiB, 32 GiB).
MEMORY_LIMIT = 2_500 * 1024 * 1024


def cli(
    *args: object, env: dict[str, str] | None = None, cwd: Path | None = None, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed console script, under a memory bound; never a traceback, never killed by a signal."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    result = subprocess.run(
        [str(CONSOLE), *map(str, args)],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "SEREGNO_SMTP_PASSWORD": SECRET, **(env or {})},
        timeout=300,
        preexec_fn=limits,
    )
    output = result.stdout + result.stderr
    assert result.returncode >= 0, f"ucciso dal segnale {-result.returncode}: {output[-2000:]}"
    assert "Traceback" not in output and "Errore interno" not in output, output[-3000:]
    assert SECRET not in output
    return result


def edit_xml(source: Path, target: Path, part: str, edit: Callable[[str], str]) -> Path:
    parts = entries(source)
    parts[part] = edit(parts[part].decode("utf-8")).encode("utf-8")
    return write_zip(target, parts)


def add_to_sheet_data(source: Path, target: Path, part: str, xml: str) -> Path:
    return edit_xml(source, target, part, lambda text: text.replace("</sheetData>", xml + "</sheetData>", 1))


def set_cell(source: Path, target: Path, part: str, ref: str, inner: str, attrs: str = "") -> Path:
    """Replace cell ``ref`` of a sheet part with ``<c r="ref" attrs>inner</c>`` (as a client could save it)."""
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', re.S)

    def edit(text: str) -> str:
        new, count = pattern.subn(f'<c r="{ref}"{attrs}>{inner}</c>', text, count=1)
        assert count == 1, ref
        return new

    return edit_xml(source, target, part, edit)


def sheet_part(source: Path, name: str) -> str:
    """The zip part of the sheet called ``name``."""
    parts = entries(source)
    workbook = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(name)}"[^>]*r:id="([^"]+)"', workbook)
    assert rid, name
    found = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert found
    target = found.group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def edit_snapshot(source: Path, target: Path, edit: Callable[[dict[str, Any]], object], raw: str | None = None) -> Path:
    """The scheda with its Metadati snapshot changed by ``edit`` (or replaced by ``raw`` text)."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Metadati"]
    rows = {str(row[0].value): row for row in sheet.iter_rows() if row[0].value}
    parts = int(str(rows["dati_parti"][1].value))
    payload = "".join(str(rows[f"dati_{n}"][1].value) for n in range(1, parts + 1))
    if raw is None:
        data = json.loads(payload)
        edit(data)
        raw = json.dumps(data, ensure_ascii=False)
    chunks = [raw[i : i + SNAPSHOT_CHUNK] for i in range(0, len(raw), SNAPSHOT_CHUNK)] or [""]
    first_row = rows["dati_1"][0].row
    for n in range(sheet.max_row, first_row - 1, -1):
        sheet.cell(n, 1).value = None
        sheet.cell(n, 2).value = None
    rows["dati_parti"][1].value = str(len(chunks))
    for n, chunk in enumerate(chunks):
        sheet.cell(first_row + n, 1).value = f"dati_{n + 1}"
        cell = sheet.cell(first_row + n, 2)
        cell.value = chunk
        cell.data_type = "s"
    workbook.save(target)
    return target


def with_shared_strings(source: Path, target: Path) -> Path:
    """The scheda with its inline texts as shared strings, as Excel saves them."""
    parts = entries(source)
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        index = strings.setdefault(match.group(2), len(strings))
        return f'{match.group(1)} t="s"><v>{index}</v></c>'

    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        text = parts[name].decode()
        parts[name] = re.sub(r'(<c [^>]*?) t="inlineStr"><is><t[^>]*>([^<]*)</t></is></c>', shared, text).encode()
    items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    assert strings
    return write_zip(target, parts)


def previous_master() -> bytes:
    """A small workbook with a master's sheets: what ``consolida -o`` may replace (it refuses anything
    else), as a previous master a test expects to find intact."""
    import io

    import xlsxwriter

    from seregno_xlsx.master.layout import SHEET_ORDER

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name in SHEET_ORDER:
        workbook.add_worksheet(name).write_string(0, 0, "master precedente")
    workbook.close()
    return buffer.getvalue()
