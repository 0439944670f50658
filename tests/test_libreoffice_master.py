"""The master in LibreOffice (on opening, after a full recalculation, after an edit) and in a second engine."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import openpyxl
import pytest

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.layout import INDICATORI
from seregno_xlsx.master.scoring import MissingValue, Regole, area_pct
from seregno_xlsx.piano.model import Piano
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.scheda.generation import SchedaGenerata
from seregno_xlsx.simulation import fill_workbook, sample_entries

from .libreoffice.fixtures import soffice_fixture  # noqa: F401  (the session's soffice)
from .libreoffice.office import Soffice
from .test_master_writer import (
    FINALE,
    INTERMEDIA,
    cached_values,
    expected_from_scoring,
    formula_cells,
    piano,
    rows,
    write,
)

Cells = dict[tuple[str, str], object]
VALORE, PRIMA = INDICATORI.letter("valore_raggiunto"), INDICATORI.letter("prima_rilevazione")
VARIANTS = {
    "finale": (FINALE, Regole()),
    "intermedia": (INTERMEDIA, Regole()),
    "senza_limite": (FINALE, Regole(limite_100=False, pesi_aree="uguali", mancante_finale=MissingValue.ESCLUSO)),
}


def _same(got: object, want: object) -> bool:
    """Empty text and an empty cell are the same; numbers must be equal (1e-9)."""
    if got in ("", None) or want in ("", None):
        return got in ("", None) and want in ("", None)
    if isinstance(got, int | float) and isinstance(want, int | float):
        return abs(float(got) - float(want)) <= 1e-9
    return got == want


def differences(got: Cells, want: Cells) -> list[tuple[tuple[str, str], object, object]]:
    return [(k, got.get(k), v) for k, v in want.items() if not _same(got.get(k), v)]


def libreoffice_values(report: dict[str, list[object]]) -> Cells:
    """'Sheet!A1' -> [value, error] from the driver; an error cell becomes its code."""
    out: Cells = {}
    for name, (value, error) in report.items():
        sheet, cell = name.split("!")
        out[sheet, cell] = f"#ERR{error}" if error else value
    return out


def formula_expectations(path: Path) -> Cells:
    cached = cached_values(path)
    return {key: cached.get(key) for key in formula_cells(path)}


def _indicator_row(path: Path, area: str, codice: str) -> int:
    ws = openpyxl.load_workbook(path)["Indicatori"]
    return next(r for r, values in rows(ws) if values["area"] == area and values["codice"] == codice)


@pytest.fixture(scope="module")
def consolidated(
    piano: Piano, schede_intermedia: list[SchedaGenerata], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Piano]:
    """The master of the three example areas, filled by the simulation, and the plan it holds."""
    folder = tmp_path_factory.mktemp("lo_master")
    returns = folder / "ritorni"
    returns.mkdir()
    for seed, scheda in enumerate(schede_intermedia, start=1):
        entries = sample_entries(piano.area(scheda.area), INTERMEDIA, seed=seed, anno=piano.anno)
        fill_workbook(scheda.path, returns / scheda.path.name, entries)
    master = folder / "master.xlsx"
    result = consolidate(returns, master)
    assert result.master == master
    aree = [read_workbook(p).compilata for p in sorted(returns.iterdir(), key=lambda p: p.name.casefold())]
    plan = Piano(ente=piano.ente, anno=piano.anno, aree=[a for a in aree if a is not None])
    return master, plan


@pytest.mark.libreoffice
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_master_values_on_opening_and_after_recalculation(soffice: Soffice, tmp_path: Path, variant: str) -> None:
    ril, regole = VARIANTS[variant]
    path = tmp_path / f"{variant}.xlsx"
    write(path, piano(), ril, regole)
    want = formula_expectations(path)
    report = soffice.run("master", {"path": str(path)})
    assert report["interactions"] == []
    for stage in ("open", "recalc"):
        got = libreoffice_values(report[stage])
        assert set(got) == set(want), stage  # LibreOffice sees the same formula cells
        assert differences(got, want) == [], stage


@pytest.mark.libreoffice
def test_edit_in_indicatori_flows_through_the_master(soffice: Soffice, tmp_path: Path) -> None:
    path = tmp_path / "finale.xlsx"
    write(path, piano(), FINALE, Regole())
    row = _indicator_row(path, "Lavori Pubblici", "Ob_LP0101")
    report = soffice.run(
        "master", {"path": str(path), "edits": [{"sheet": "Indicatori", "cell": f"{VALORE}{row}", "value": 90}]}
    )
    edited = libreoffice_values(report["edited"])
    expected = expected_from_scoring(path, piano(lp011_finale=90), FINALE, Regole())
    assert differences(edited, expected) == []  # type: ignore[arg-type]
    before = cached_values(path)
    moved = [
        k for k in expected if k[0] in ("Obiettivi", "Personale", "Riepilogo") and not _same(before[k], expected[k])
    ]
    assert {k[0] for k in moved} == {"Obiettivi", "Personale", "Riepilogo"}


@pytest.mark.libreoffice
def test_consolidated_master_in_libreoffice(soffice: Soffice, consolidated: tuple[Path, Piano], tmp_path: Path) -> None:
    source, plan = consolidated
    path = tmp_path / source.name
    shutil.copy(source, path)
    want = formula_expectations(path)
    # An indicator with a numeric target whose corrected first reading moves its area's %.
    candidates = [
        (a, i) for a in plan.aree for o in a.obiettivi for i in o.indicatori if not i.si_no and i.valore_target
    ]
    for area, indicatore in candidates:
        assert indicatore.valore_target is not None
        new_value = round(indicatore.valore_target * 0.37, 2)
        changed_area = area.model_copy(deep=True)
        next(
            i for o in changed_area.obiettivi for i in o.indicatori if i.codice == indicatore.codice
        ).prima_rilevazione = new_value
        if area_pct(changed_area, INTERMEDIA, Regole()) != area_pct(area, INTERMEDIA, Regole()):
            break
    else:
        pytest.fail("no indicator whose correction moves an area")
    row = _indicator_row(path, area.nome, indicatore.codice)
    edits = [{"sheet": "Indicatori", "cell": f"{PRIMA}{row}", "value": new_value}]
    report = soffice.run("master", {"path": str(path), "edits": edits})
    assert report["interactions"] == []
    for stage in ("open", "recalc"):
        got = libreoffice_values(report[stage])
        assert set(got) == set(want), stage
        assert differences(got, want) == [], stage
    changed = plan.model_copy(deep=True)
    target = next(i for a in changed.aree for o in a.obiettivi for i in o.indicatori if i.codice == indicatore.codice
                  and a.nome == area.nome)  # fmt: skip
    target.prima_rilevazione = new_value
    expected = expected_from_scoring(path, changed, INTERMEDIA, Regole())
    assert differences(libreoffice_values(report["edited"]), expected) == []  # type: ignore[arg-type]
    before = cached_values(path)
    assert any(not _same(before[k], v) for k, v in expected.items() if k[0] == "Riepilogo")


# -- 5. a second engine: the PyPI package `formulas` (Excel semantics, pure Python) -------------------


def formulas_values(path: Path) -> Cells:
    formulas = pytest.importorskip("formulas")
    empty = pytest.importorskip("schedula").EMPTY  # what `formulas` gives for an empty cell
    model = formulas.ExcelModel().loads(str(path)).finish()
    solution = model.calculate()
    names = {name.upper(): name for name in openpyxl.load_workbook(path, read_only=True).sheetnames}
    out: Cells = {}
    for ref, result in solution.items():
        if "!" not in ref:
            continue
        book_sheet, cell = ref.rsplit("!", 1)
        sheet = names.get(book_sheet.split("]", 1)[-1].strip("'"))
        if sheet is None or ":" in cell:
            continue
        value = result.value[0][0] if hasattr(result, "value") else result
        if value is empty or (isinstance(value, str) and value == ""):
            value = None
        elif isinstance(value, formulas.functions.XlError):
            value = f"#XL{value}"
        elif hasattr(value, "item"):
            value = value.item()
        out[sheet, cell] = value
    return out


def _second_engine(variant: str, tmp_path: Path, consolidated: tuple[Path, Piano]) -> tuple[Path, Cells, Cells]:
    if variant == "consolidato":
        path = consolidated[0]
    else:
        ril, regole = VARIANTS[variant]
        path = tmp_path / f"{variant}.xlsx"
        write(path, piano(), ril, regole)
    start = time.monotonic()
    got = formulas_values(path)
    assert time.monotonic() - start < 60
    want = formula_expectations(path)
    assert set(want) <= set(got)
    return path, got, want


@pytest.mark.slow
@pytest.mark.parametrize("variant", [*VARIANTS, "consolidato"])
def test_second_engine_agrees(variant: str, tmp_path: Path, consolidated: tuple[Path, Piano]) -> None:
    """Every formula cell of the master, evaluated by `formulas`, equals the cached value."""
    _, got, want = _second_engine(variant, tmp_path, consolidated)
    assert len(want) >= 8
    assert differences(got, want) == []
