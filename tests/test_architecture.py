"""The folder list shows the flow: each module imports only its own layer or the layers below it.

plan → scheda → returns → master → e-mail → command line; the shared base (errors, findings, texts,
atomic writes, audit log) sits under all of them. An import that points upwards, or a cycle, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "seregno_xlsx"

# Lower index = lower layer. A module may import its own layer and any layer below it.
LAYERS: list[set[str]] = [
    {
        "version",
        "errors",
        "findings",
        "findings_store",
        "lazy_sequence",
        "limits",
        "files",
        "texts",
        "atomic",
        "outputs",
        "audit",
        "choices",
        "cells",
        "processes",
    },
    {"piano"},
    {"scheda"},
    {"ritorni"},
    {"master"},
    {"posta"},
    {"simulation"},
    {"cli"},
    {"__init__", "__main__"},
]


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for index, layer in enumerate(LAYERS):
        if key in layer:
            return index
    raise AssertionError(f"{module}: not assigned to a layer in tests/test_architecture.py")


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every seregno_xlsx module this file imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("seregno_xlsx"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("seregno_xlsx"):
                found.add(target)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    for path in MODULES:
        _layer(_module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_it(path: Path) -> None:
    importer = _module_name(path)
    for imported in _imports(path):
        if imported == "seregno_xlsx" and importer != "seregno_xlsx":
            raise AssertionError(f"{importer} imports the package itself: import the module that defines the name")
        assert _layer(imported) <= _layer(importer), f"{importer} (layer {_layer(importer)}) imports {imported}"


def test_no_import_cycle_between_modules() -> None:
    graph = {_module_name(p): {m for m in _imports(p) if m != _module_name(p)} for p in MODULES}
    known = set(graph)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, set()) & known):
            # A package's __init__ may gather its own submodules (the CLI registers its commands so).
            if node != nxt and nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " → ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_layering_test_can_fail(tmp_path: Path) -> None:
    upward = tmp_path / "seregno_xlsx" / "piano" / "x.py"
    upward.parent.mkdir(parents=True)
    upward.write_text("from seregno_xlsx.master.scoring import Regole\nfrom ..scheda import writer\n", encoding="utf-8")
    imported = _imports(upward, tmp_path)
    assert imported == {"seregno_xlsx.master.scoring", "seregno_xlsx.scheda"}
    assert _layer("seregno_xlsx.master.scoring") > _layer("seregno_xlsx.piano.x")
