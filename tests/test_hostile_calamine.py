"""Where calamine and the scan could read a file differently, the scan's bounds must still hold.

calamine tolerates character references XML forbids (``&#x7;``), finds an .ods's tables by the literal
prefix ``table:`` and writes out ``<text:s text:c="N"/>`` as N spaces; the scan parses with expat and
resolves namespaces. Each disagreement was a file of a few hundred bytes that made calamine allocate
gigabytes (or abort the process) past bounds the scan had not counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata

from .hostile.corpus import entries, ods_package
from .hostile.round2 import add_to_sheet_data, cli, edit_xml, set_cell, sheet_part

pytestmark = pytest.mark.slow

ODF = "urn:oasis:names:tc:opendocument:xmlns"


def _ods(path: Path, body: str, table_ns: str = f"{ODF}:table:1.0", declare_table: bool = True) -> Path:
    table = f' xmlns:table="{table_ns}"' if declare_table else ""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{ODF}:office:1.0"'
        f'{table} xmlns:text="{ODF}:text:1.0" office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Foglio1">{body}</table:table></office:spreadsheet></office:body>'
        "</office:document-content>"
    )
    return ods_package(path, content)


# Two million number cells from one repeated cell: refused by the scan when it sees them.
MANY = (
    '<table:table-row table:number-rows-repeated="2000"><table:table-cell table:number-columns-repeated="1000" '
    'office:value-type="float" office:value="1"/></table:table-row>'
)
SPACES = (
    '<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="200000000"/>b'
    "</text:p></table:table-cell></table:table-row>"
)


def _verdict(path: Path) -> tuple[int, list[str], str]:
    """``verifica --json`` in a process bounded to 2.5 GB (``cli`` fails on a signal or a traceback)."""
    result = cli("verifica", path, "--json")
    [report] = json.loads(result.stdout)
    return result.returncode, [a["codice"] for a in report["anomalie"]], report["anomalie"][0]["messaggio"]


def test_the_standard_ods_is_refused_by_the_count(tmp_path: Path) -> None:
    # The reference: the same cells under the standard prefix are counted and refused.
    assert _verdict(_ods(tmp_path / "giusto.ods", MANY))[1] == ["file-troppo-grande"]


def test_table_prefix_bound_to_another_namespace_is_refused(tmp_path: Path) -> None:
    status, codes, message = _verdict(_ods(tmp_path / "prefisso.ods", MANY, table_ns="urn:altro"))
    assert (status, codes) == (2, ["file-illeggibile"])
    assert "«table:»" in message


def test_table_prefix_not_declared_is_refused(tmp_path: Path) -> None:
    status, codes, message = _verdict(_ods(tmp_path / "senza.ods", MANY, declare_table=False))
    assert (status, codes) == (2, ["file-illeggibile"])
    assert "XML non ben formato" in message


def test_spaces_written_out_by_calamine_are_counted(tmp_path: Path) -> None:
    status, codes, message = _verdict(_ods(tmp_path / "spazi.ods", SPACES))
    assert (status, codes) == (2, ["file-troppo-grande"])
    assert "200.000.000 caratteri" in message


@pytest.mark.parametrize("count", ["-5", "1e9", "٣"])
def test_a_repeat_that_is_not_digits_is_refused(tmp_path: Path, count: str) -> None:
    body = MANY.replace('table:number-rows-repeated="2000"', f'table:number-rows-repeated="{count}"')
    assert _verdict(_ods(tmp_path / "ripetizione.ods", body))[:2] == (2, ["file-illeggibile"])


def test_forbidden_character_reference_does_not_hide_a_far_cell(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """Before: expat stopped at ``&#x7;``, the scan counted nothing after it, calamine allocated 32 GiB
    for the far cell and the process aborted."""
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    part = sheet_part(scheda, "Indicatori")
    early = '<row r="1"><c r="Z1" t="inlineStr"><is><t>a&#x7;b</t></is></c></row>'
    target = edit_xml(scheda, tmp_path / "car.xlsx", part, lambda x: x.replace("<sheetData>", "<sheetData>" + early, 1))
    add_to_sheet_data(target, target, part, '<row r="1048576"><c r="AMJ1048576"><v>1</v></c></row>')
    assert _verdict(target)[:2] == (2, ["cella-fuori-limiti"])


def test_forbidden_character_reference_in_an_input_is_flagged_and_removed(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    lettura = read_workbook(scheda)
    assert lettura.compilata is not None
    sheet, cell = lettura.locate("obiettivi", lettura.compilata.obiettivi[0].codice, "note")
    inner = "<is><t>nota&#x7; scritta&#8;</t></is>"
    target = set_cell(scheda, tmp_path / "nota.xlsx", sheet_part(scheda, sheet), cell, inner, ' t="inlineStr"')
    read = read_workbook(target)
    [finding] = [a for a in read.anomalie if a.codice == "carattere-non-ammesso"]
    assert (finding.foglio, finding.cella) == (sheet, cell)
    assert read.compilata is not None
    assert read.compilata.obiettivi[0].note == "nota scritta"


@pytest.mark.parametrize(("declared", "said"), [("2000000000", "2.000.000.000"), ("-1", "«-1»"), ("9" * 40, "«999")])
def test_shared_strings_declaring_more_than_the_file_holds_are_refused(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, declared: str, said: str
) -> None:
    """calamine reserves room for ``uniqueCount`` strings before reading one: 2,000,000,000 asked for
    48 GB and aborted the process, whatever the memory available."""
    import re

    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    assert 'uniqueCount="' in entries(scheda)["xl/sharedStrings.xml"].decode()  # as XlsxWriter writes it
    assert _verdict(scheda)[0] != 2  # the file with its true count is read

    def declare(xml: str) -> str:
        return re.sub(r'uniqueCount="\d+"', f'uniqueCount="{declared}"', xml)

    shared = edit_xml(scheda, tmp_path / "condivisi.xlsx", "xl/sharedStrings.xml", declare)
    status, codes, message = _verdict(shared)
    assert (status, codes) == (2, ["file-troppo-grande"])
    assert f"dichiara {said}" in message


@pytest.mark.parametrize(
    ("entry", "target", "code"),
    [
        # calamine opens the entry whatever the case of its name: the scan bounds that entry.
        ("xl/Worksheets/sheet4.xml", "worksheets/sheet4.xml", "cella-fuori-limiti"),
        ("xl/WORKSHEETS/Sheet4.XML", "worksheets/sheet4.xml", "cella-fuori-limiti"),
        # A sheet kept outside the worksheets: never read unbounded, whatever calamine makes of it.
        ("xl/foo/data.xml", "foo/data.xml", "file-illeggibile"),
    ],
)
def test_a_sheet_moved_elsewhere_in_the_package_keeps_its_bounds(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, entry: str, target: str, code: str
) -> None:
    from .hostile.corpus import write_zip

    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    part = sheet_part(scheda, "Indicatori")
    parts = entries(scheda)
    far = '<row r="1048576"><c r="AMJ1048576"><v>1</v></c></row></sheetData>'
    parts[entry] = parts.pop(part).decode().replace("</sheetData>", far).encode()
    old_target = part.removeprefix("xl/")
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    assert f'Target="{old_target}"' in rels
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(f'Target="{old_target}"', f'Target="{target}"').encode()
    status, codes, _ = _verdict(write_zip(tmp_path / "spostato.xlsx", parts))
    assert (status, codes) == (2, [code])


@pytest.mark.parametrize(
    "row",
    [
        # calamine reads a reference in either case: the scan took «amj1048576» for the next cell of row 9000.
        '<row r="9000"><c r="amj1048576"><v>1</v></c></row>',
        '<row r="9000"><c r="AMJ00000000001048576"><v>1</v></c></row>',
        # calamine puts a cell without a reference on its <row>'s row, not on the previous reference's.
        '<row r="1048576"><c r="A1"><v>1</v></c><c r="AMI1"/><c><v>1</v></c></row>',
    ],
)
def test_a_cell_is_placed_where_calamine_places_it(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, row: str
) -> None:
    """Before: the scan counted a box of one row, calamine allocated a billion cells and aborted."""
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    target = add_to_sheet_data(scheda, tmp_path / "posto.xlsx", sheet_part(scheda, "Indicatori"), row)
    status, codes, message = _verdict(target)
    assert (status, codes) == (2, ["cella-fuori-limiti"])
    assert "AMJ1048576" in message


def _far_indicatori(scheda: Path) -> tuple[dict[str, bytes], str]:
    """The scheda's entries with a far cell on the Indicatori sheet (read sparsely when the scan sees it)."""
    part = sheet_part(scheda, "Indicatori")
    parts = entries(scheda)
    far = '<row r="1048576"><c r="AMJ1048576"><v>1</v></c></row></sheetData>'
    parts[part] = parts[part].decode().replace("</sheetData>", far, 1).encode()
    return parts, part


@pytest.mark.parametrize("ids", ['r:id="rSmall" id="RID"', 'r:id="rSmall" x:id="RID"', 'x:id="rSmall" r:id="RID"'])
def test_a_sheet_naming_two_parts_is_refused(schede_intermedia: list[SchedaGenerata], tmp_path: Path, ids: str) -> None:
    """calamine takes a sheet's last id attribute, whatever its prefix, the scan took the first: the scan
    bounded a small sheet, calamine read the far one densely and aborted on 32 GiB."""
    import re

    from .hostile.corpus import write_zip

    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    parts, _ = _far_indicatori(scheda)
    workbook = parts["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet [^>]*name="Indicatori"[^>]*r:id="([^"]+)"', workbook)
    assert rid is not None
    small = sheet_part(scheda, "Compilazione").removeprefix("xl/")
    copy = small.replace(".xml", "_copia.xml")
    rels = (
        parts["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rSmall" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="{copy}"/></Relationships>',
        )
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    parts["xl/" + copy] = parts["xl/" + small]
    workbook = workbook.replace(f'r:id="{rid[1]}"', ids.replace("RID", rid[1]), 1)
    parts["xl/workbook.xml"] = workbook.replace("<workbook ", '<workbook xmlns:x="urn:x" ', 1).encode()
    status, codes, message = _verdict(write_zip(tmp_path / "due_id.xlsx", parts))
    assert (status, codes) == (2, ["file-illeggibile"])
    assert "«Indicatori» indica 2 elementi" in message


@pytest.mark.parametrize("rels", ["xl/_rels/WORKBOOK.xml.rels", "XL/_rels/Workbook.XML.rels"])
def test_workbook_relationships_are_read_whatever_the_case_of_their_name(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, rels: str
) -> None:
    """calamine opens the relationships whatever the case of their name; the scan read none, so bounded no
    sheet: with one sheet left (no other sheet to share its empty target), calamine aborted on 32 GiB."""
    import re

    from .hostile.corpus import write_zip

    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    parts, _ = _far_indicatori(scheda)
    workbook = parts["xl/workbook.xml"].decode()
    parts["xl/workbook.xml"] = re.sub(r'<sheet name="(?!Indicatori")[^>]*/>', "", workbook).encode()
    parts[rels] = parts.pop("xl/_rels/workbook.xml.rels")
    status, codes, message = _verdict(write_zip(tmp_path / "relazioni.xlsx", parts))
    assert (status, codes) == (2, ["cella-fuori-limiti"])
    assert "AMJ1048576" in message


@pytest.mark.parametrize("suffix", [".ods", ".xlsx"])
def test_a_package_holding_two_kinds_of_workbook_is_refused(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, suffix: str
) -> None:
    """An OpenDocument mimetype before an Excel workbook: the scan read an .ods (no table, nothing bounded),
    calamine, trying Excel first, read the Excel sheets densely and aborted on 32 GiB."""
    from .hostile.corpus import write_zip

    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    parts, _ = _far_indicatori(scheda)
    mixed = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", **parts}
    status, codes, message = _verdict(write_zip(tmp_path / f"misto{suffix}", mixed))
    assert (status, codes) == (2, ["file-illeggibile"])
    assert "più cartelle di lavoro (Excel, OpenDocument)" in message


@pytest.mark.parametrize(
    "value",
    [
        'office:value-type="string" office:string-value="{text}"',
        'office:value-type="date" office:date-value="2021-01-01T{text}"',
        'office:value-type="time" office:time-value="PT1H{text}"',
    ],
)
def test_a_value_given_as_an_attribute_of_a_repeated_cell_is_counted(tmp_path: Path, value: str) -> None:
    """calamine copies a cell's office:string-value (date-value, time-value) into every repeat: before, a
    219 KB .ods cost 940 MB (4,290 times its size), its text counted by the scan as nothing."""
    import random
    import string

    text = "".join(random.Random(14).choices(string.ascii_letters, k=300_000))
    cell = f'<table:table-cell table:number-columns-repeated="1000" {value.format(text=text)}/>'
    status, codes, message = _verdict(_ods(tmp_path / "attributo.ods", f"<table:table-row>{cell}</table:table-row>"))
    assert (status, codes) == (2, ["file-troppo-grande"])
    assert "testi ripetuti" in message


def _shared_text_copied(scheda: Path, target: Path, strings: list[str], index: str) -> Path:
    """The scheda with ``strings`` as its shared strings, and 5,000 cells naming string ``index``."""
    from .hostile.corpus import write_zip

    part = sheet_part(scheda, "Indicatori")
    parts = entries(scheda)
    shared = "".join(f"<si>{t}</si>" for t in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">'
        f"{shared}</sst>"
    ).encode()
    assert "sharedStrings" in parts["xl/_rels/workbook.xml.rels"].decode()
    cells = "".join(f'<row r="{r}">' + f'<c t="s"><v>{index}</v></c>' * 50 + "</row>" for r in range(200, 300))
    parts[part] = parts[part].decode().replace("</sheetData>", cells + "</sheetData>", 1).encode()
    return write_zip(target, parts)


def _long_text() -> str:
    import random
    import string

    return "".join(random.Random(14).choices(string.ascii_letters, k=300_000))


@pytest.mark.parametrize("index", ["+5", "0" * 40 + "5"])
def test_a_shared_string_index_is_read_as_calamine_reads_it(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path, index: str
) -> None:
    """calamine reads «+5» and forty zeros before a 5 as string 5, the scan as no index (or, cut at forty
    characters, string 0): 5,000 cells each got a copy of a 300,000-character string, 2.6 GB for 266 KB."""
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    strings = ["<t>a</t>"] * 5 + [f"<t>{_long_text()}</t>"]
    status, codes, message = _verdict(_shared_text_copied(scheda, tmp_path / "indice.xlsx", strings, index))
    assert (status, codes) == (2, ["file-troppo-grande"])
    assert "testi ripetuti" in message


def test_a_shared_string_with_an_element_inside_its_text_is_refused(
    schede_intermedia: list[SchedaGenerata], tmp_path: Path
) -> None:
    """calamine takes all the text of a <t>, the scan only what came before a child: ``<t>a<x/>…</t>``
    hid 300,000 characters copied into 5,000 cells (2.6 GB for 266 KB)."""
    scheda = next(s.path for s in schede_intermedia if s.area == "Area Servizi alla Persona")
    target = _shared_text_copied(scheda, tmp_path / "annidato.xlsx", [f"<t>a<x/>{_long_text()}</t>"], "0")
    status, codes, message = _verdict(target)
    assert (status, codes) == (2, ["file-illeggibile"])
    assert "un elemento dentro un testo" in message
