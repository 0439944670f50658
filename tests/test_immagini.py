"""The README pictures show the bundled examples as they are: each records the SHA-256 of its workbook."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

from .conftest import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("immagini", ROOT / "esempi" / "immagini.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pictures_match_their_example_workbooks(tmp_path: Path) -> None:
    script = _script()
    index = json.loads(script.INDEX.read_text(encoding="utf-8"))
    assert set(index) == set(script.PICTURES)
    hashes: dict[str, str] = {}
    for picture, record in index.items():
        png = script.OUT / picture
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture
        assert png.stat().st_size < 400_000, picture  # small enough for a README
        name = record["workbook"]
        assert name == script.PICTURES[picture][0]
        if name not in hashes:
            hashes[name] = script.sha256(script.workbook(name, tmp_path))
        assert record["sha256"] == hashes[name], (
            f"{picture} was rendered from another {name}: run `python esempi/immagini.py` and commit docs/immagini/"
        )


def test_readme_shows_the_pictures() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(docs/immagini/([\w.]+\.png)\)", readme))
    assert shown == set(_script().PICTURES)
