"""Property-based round trips and a bounded fuzz of the reader over random and mutated bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.master import scoring
from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.ritorni.bounds import UnreadableFile
from seregno_xlsx.ritorni.reader import read_workbook
from seregno_xlsx.ritorni.workbook_file import open_grid
from seregno_xlsx.simulation import Entry, fill_workbook

from .test_consolidation import _sheet_rows

SCHEDA = sorted((Path(__file__).resolve().parent.parent / "esempi" / "schede").glob("*.xlsx"))[0]
SEED_BYTES = SCHEDA.read_bytes()


def _check_reader(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xlsx"
        path.write_bytes(data)
        lettura = read_workbook(path)  # never raises
        assert lettura.leggibile or lettura.anomalie
        codice = ""
        try:
            open_grid(path)
        except UnreadableFile as exc:
            codice = exc.codice
        assert codice in {"", "file-illeggibile", "file-troppo-grande", "file-protetto-password"}
        assert path.read_bytes() == data


@settings(max_examples=40, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data: bytes) -> None:
    _check_reader(data)


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(SEED_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, len(SEED_BYTES)),
)
def test_fuzz_mutated_workbook(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEED_BYTES)
    for position, value in flips:
        data[position] = value
    _check_reader(bytes(data[: max(cut, 4)]) if cut % 3 == 0 else bytes(data))


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_fills_read_back_and_consolidated(piano: Piano, data: st.DataObject) -> None:
    """Random valid answers in every area: every value read back, every % as the rules say."""
    from seregno_xlsx.scheda.generation import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "in"
        folder.mkdir()
        expected: dict[str, float | None] = {}
        for scheda in generate(piano, root / "schede"):
            entries = []
            for obiettivo in piano.area(scheda.area).obiettivi:
                for indicatore in obiettivo.indicatori:
                    if indicatore.si_no:
                        value: object = data.draw(st.sampled_from(["SI", "NO", None]))
                        expected[indicatore.codice] = {"SI": 100.0, "NO": 0.0}.get(str(value))
                    else:
                        number = data.draw(st.none() | st.floats(0, 10_000, allow_nan=False).map(lambda x: round(x, 2)))
                        value, expected[indicatore.codice] = number, number
                    if value is not None:
                        entries.append(Entry("indicatori", indicatore.codice, "prima_rilevazione", value))
            fill_workbook(scheda.path, folder / scheda.path.name, entries)
        result = consolidate(folder, root / "m.xlsx")
        assert result.master is not None and all(f.stato == "accettato" for f in result.fonti)
        regole = scoring.Regole()
        rows = {(r["Area"], r["Codice attività"]): r for r in _sheet_rows(root / "m.xlsx", "Indicatori")}
        for path in folder.iterdir():
            lettura = read_workbook(path)
            assert lettura.compilata is not None
            for obiettivo in lettura.compilata.obiettivi:
                for indicatore in obiettivo.indicatori:
                    assert indicatore.prima_rilevazione == expected[indicatore.codice]
                    row = rows[(lettura.area, indicatore.codice)]
                    assert row["1° rilevazione"] == indicatore.prima_rilevazione
                    pct = scoring.indicator_pct(indicatore, Rilevazione.INTERMEDIA, regole)
                    got = row["% raggiungimento"]
                    assert (got in (None, "")) if pct is None else got == pytest.approx(pct)
        assert result.summary is not None and result.valori_letti == result.summary.valori_scritti
