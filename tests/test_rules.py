"""One rule, one place: the shared rules hold, and nothing else in the package restates them."""

from __future__ import annotations

import re
from datetime import date

import pytest

from seregno_xlsx import limits
from seregno_xlsx.findings import CATALOGO
from seregno_xlsx.piano.checks import check_compilation
from seregno_xlsx.piano.model import Area, Fase, Obiettivo, Rilevazione, StatoFase, date_window, round_value_field
from seregno_xlsx.texts import load_texts

from .conftest import ROOT

PACKAGE = ROOT / "seregno_xlsx"
SOURCES = {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def _offenders(pattern: str, allowed: set[str]) -> list[str]:
    found = {str(p.relative_to(PACKAGE)) for p, text in SOURCES.items() if re.search(pattern, text)}
    return sorted(found - allowed)


def test_round_field() -> None:
    assert round_value_field(Rilevazione.INTERMEDIA) == "prima_rilevazione"
    assert round_value_field(Rilevazione.FINALE) == "valore_raggiunto"
    # The choice between the two fields is written once.
    assert _offenders(r"INTERMEDIA else \"valore_raggiunto\"|INTERMEDIA else ind\.", {"piano/model.py"}) == []


def test_date_window() -> None:
    assert date_window(2021) == (date(2020, 1, 1), date(2022, 12, 31))
    assert _offenders(r"date\(anno - 1, 1, 1\)", {"piano/model.py"}) == []


@pytest.mark.parametrize(
    ("prevista", "effettiva", "stato"),
    [
        (date(2021, 6, 30), date(2021, 6, 30), StatoFase.CONCLUSA),
        (date(2021, 6, 30), date(2021, 7, 1), StatoFase.IN_RITARDO),
        (date(2021, 6, 30), None, StatoFase.SCADUTA),
        (date(2021, 9, 30), None, StatoFase.IN_CORSO),
        (None, None, StatoFase.IN_CORSO),
    ],
)
def test_phase_state(prevista: date | None, effettiva: date | None, stato: StatoFase) -> None:
    fase = Fase(codice="1", descrizione="f", data_fine_prevista=prevista, data_fine_effettiva=effettiva)
    assert fase.stato(date(2021, 8, 1)) is stato
    assert fase.in_ritardo is (stato is StatoFase.IN_RITARDO)
    assert fase.scaduta(date(2021, 8, 1)) is (stato is StatoFase.SCADUTA)


def test_sha256_and_slug_written_once() -> None:
    assert _offenders(r"hashlib\.sha256\((?!text|payload)", {"files.py"}) == []
    assert _offenders(r"unicodedata\.normalize\(\"NFKD\"", {"files.py"}) == []


def test_excel_limits_named_once() -> None:
    assert _offenders(r"32_767|65_530", {"limits.py"}) == []
    assert "32.767" in CATALOGO["testo-troppo-lungo"].titolo
    assert limits.italian_number(limits.MAX_CELL_TEXT) == "32.767"


def test_finding_labels_are_the_scheda_labels() -> None:
    etichette = load_texts().etichette
    objective = Obiettivo(
        codice="OB1",
        titolo="t",
        peso=1,
        data_inizio_effettiva=date(2021, 5, 1),
        data_fine_effettiva=date(2021, 4, 1),
        fasi=[
            Fase(
                codice="F1",
                descrizione="f",
                data_inizio_effettiva=date(2021, 5, 1),
                data_fine_effettiva=date(2021, 4, 1),
            )
        ],
    )
    area = Area(nome="Area X", obiettivi=[objective])
    found = check_compilation(area, anno=2021, rilevazione=Rilevazione.INTERMEDIA, data_riferimento=date(2021, 6, 30))
    messages = {a.fase or a.obiettivo: a.messaggio for a in found if a.codice == "fine-prima-di-inizio"}
    assert etichette["data_fine_effettiva"] in messages["OB1"]
    assert etichette["fase_data_fine_effettiva"] in messages["F1"]
    assert etichette["data_fine_effettiva"] != etichette["fase_data_fine_effettiva"]


def test_every_imported_library_is_declared() -> None:
    """A fresh install is the truth: a library the package imports must be one it depends on."""
    import ast
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    declared = {
        re.split(r"[<>=\[; ]", d)[0].lower().replace("_", "-")
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    }
    distributions = packages_distributions()
    missing = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(SOURCES[path])):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "seregno_xlsx":
                    continue
                dists = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                if not dists & declared:
                    missing.add(f"{top} ({', '.join(sorted(dists))})")
    assert not missing, f"imported but not in pyproject's dependencies: {sorted(missing)}"
