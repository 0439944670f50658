"""Structure-aware fuzzing of a returned scheda (issue 14): what an attacker edits, not random bytes.

Each example mutates the XML of one returned scheda (cell references, row numbers, the declared
dimension, numbers, texts with markup, the Metadati snapshot with templates, deep nesting and
out-of-range values) and consolidates it with two good ones. It asserts: no exception escapes, no
unexpected internal error is hidden in a finding, no secret from the environment reaches any output,
and the two good files are consolidated. Bounded: ``FUZZ_EXAMPLES`` examples (30 by default), each
under a deadline; ``.ci/run`` runs it with the rest of the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.scheda.generation import SchedaGenerata

from .hostile.corpus import entries, write_zip
from .hostile.round2 import SECRET, edit_snapshot, sheet_part

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

HOSTILE_TEXTS = [
    "{rilevazione.__init__.__globals__[sys].modules[os].environ[SEREGNO_SMTP_PASSWORD]}",
    "{ente:>2000000000}",
    "{x}",
    "{",
    "[/x]",
    "[bold red]x[/]",
    ":smile:",
    "=cmd|' /C calc'!A0",
    "\x00\x07",
    "x" * 40_000,
]
HOSTILE_NUMBERS = ["NaN", "inf", "-inf", "1e309", "9" * 400, "-0", "1e-400", "0x10", "", " "]
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_TEXTS,
    9999,
    -1,
    10**30,
    1e308,
    None,
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
    "9999-12-31",
    "0001-01-01T00:00:00",
    True,
]

refs = st.builds(
    lambda letters, row: f"{letters}{row}",
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=4),
    st.integers(min_value=0, max_value=10**8),
)
xml_mutations = st.lists(
    st.one_of(
        st.tuples(st.just("ref"), st.integers(0, 200), refs),
        st.tuples(st.just("row"), st.integers(0, 50), st.integers(-5, 10**8).map(str)),
        st.tuples(st.just("dimension"), st.just(0), st.builds(lambda a, b: f"{a}:{b}", refs, refs)),
        st.tuples(st.just("number"), st.integers(0, 200), st.sampled_from(HOSTILE_NUMBERS)),
        st.tuples(st.just("text"), st.integers(0, 200), st.sampled_from(HOSTILE_TEXTS)),
    ),
    max_size=4,
)
json_mutations = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(HOSTILE_VALUES)), max_size=3)


def _mutate_xml(text: str, mutations: list[tuple[str, int, str]]) -> str:
    for kind, index, value in mutations:
        if kind == "dimension":
            text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{value}"', text)
            continue
        pattern = {
            "ref": r'<c r="[^"]*"',
            "row": r'<row r="[^"]*"',
            "number": r"<c r=\"[^\"]*\"[^>]*?(/>|>.*?</c>)",
            "text": r"<c r=\"[^\"]*\"[^>]*?(/>|>.*?</c>)",
        }[kind]
        matches = list(re.finditer(pattern, text, re.S))
        if not matches:
            continue
        match = matches[index % len(matches)]
        if kind == "ref":
            new = f'<c r="{value}"'
        elif kind == "row":
            new = f'<row r="{value}"'
        else:
            ref = re.match(r'<c r="([^"]*)"', match.group(0)).group(1)  # type: ignore[union-attr]
            escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "").replace("\x07", "")
            inner = f"<v>{escaped}</v>" if kind == "number" else f"<is><t>{escaped}</t></is>"
            new = f'<c r="{ref}"' + (' t="inlineStr">' if kind == "text" else ">") + inner + "</c>"
        text = text[: match.start()] + new + text[match.end() :]
    return text


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _paths(value, (*prefix, n))
    return found


def _mutate_json(snapshot: dict[str, Any], mutations: list[tuple[int, Any]]) -> None:
    for index, value in mutations:
        paths = _paths(snapshot)
        path = paths[index % len(paths)]
        node: Any = snapshot
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value


@pytest.fixture(scope="module")
def good(schede_intermedia: list[SchedaGenerata], piano: Piano) -> list[Path]:
    return [s.path for s in schede_intermedia]


@settings(
    max_examples=EXAMPLES,
    deadline=30_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(
    sheet=st.sampled_from(["Obiettivi", "Fasi", "Indicatori", "Personale", "Metadati"]),
    xml=xml_mutations,
    metadata=json_mutations,
)
def test_mutated_scheda_never_stops_the_run_nor_leaks(
    good: list[Path], piano: Piano, sheet: str, xml: list[tuple[str, int, str]], metadata: list[tuple[int, Any]]
) -> None:
    os.environ["SEREGNO_SMTP_PASSWORD"] = SECRET
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ritorni = root / "ritorni"
        ritorni.mkdir()
        for path in good:
            shutil.copy(path, ritorni / path.name)
        victim = ritorni / good[0].name
        if metadata:
            edit_snapshot(victim, victim, lambda snapshot: _mutate_json(snapshot, metadata))
        parts = entries(victim)
        part = sheet_part(victim, sheet)
        parts[part] = _mutate_xml(parts[part].decode("utf-8"), xml).encode("utf-8")
        write_zip(victim, parts)
        for with_plan in (False, True):
            master = root / f"master_{with_plan}.xlsx"
            result = consolidate(ritorni, master, piano=piano if with_plan else None)
            assert result.master == master
            fonti = {f.file: f.stato for f in result.fonti}
            assert [fonti[p.name] for p in good[1:]] == ["accettato", "accettato"]
            report = json.dumps(result.to_json(), ensure_ascii=False)
            assert SECRET not in report
            assert "errore imprevisto" not in report, report[:2000]
            with zipfile.ZipFile(master) as archive:
                assert all(SECRET.encode() not in archive.read(n) for n in archive.namelist())
