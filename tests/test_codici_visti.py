"""Every code seen across areas (``piano/codici_visti.py``): what a dict of strings says, in a few bytes a code."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seregno_xlsx.piano import codici_visti
from seregno_xlsx.piano.codici_visti import CodiciVisti

codes = st.text(max_size=6) | st.sampled_from(
    ["Ob_Obiet1301", "Ob_Obiet130101", "\ud800", "\ud83d\ude00", "\U0001f600", "\ud83d", "\ude00", "", "\0"]
)
areas = st.lists(st.lists(codes, unique=True, max_size=12), max_size=40)


def _as_a_dict(claimed: list[list[str]]) -> list[list[int | None]]:
    owner: dict[str, int] = {}
    said: list[list[int | None]] = []
    for area, its_codes in enumerate(claimed):
        said.append([owner.get(code) for code in its_codes])
        for code in its_codes:
            owner.setdefault(code, area)
    return said


@settings(max_examples=200, deadline=None)
@given(areas)
def test_the_owner_a_dict_of_strings_gives(claimed: list[list[str]]) -> None:
    seen = CodiciVisti()
    assert [seen.claim(its_codes) for its_codes in claimed] == _as_a_dict(claimed)
    assert len(seen) == len(claimed)


# Each example patches inside its own ``monkeypatch.context()``, undone at its end.
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claimed=areas, buckets=st.integers(1, 3))
def test_codes_that_share_a_digest_are_never_the_same_code(
    claimed: list[list[str]], buckets: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digests of one to three values: nearly every code shares its digest with another, as two of a
    region's codes might by chance. The owners are still exactly the dict's."""
    with monkeypatch.context() as patch:
        patch.setattr(codici_visti, "_digest", lambda code: len(code) % buckets)
        seen = CodiciVisti()
        assert [seen.claim(its_codes) for its_codes in claimed] == _as_a_dict(claimed)


def test_a_region_s_codes_hold_a_few_bytes_each() -> None:
    """2,000 areas of 54 codes (108,000): as a dict of strings about 110 bytes a code; here under 40 (the
    table's slots, at most half full, and each area's codes compressed)."""
    seen = CodiciVisti()
    all_codes = [[f"Indicatore\0Ob_Obiet{area:05d}{n:03d}" for n in range(54)] for area in range(2_000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for its_codes in all_codes:
            seen.claim(its_codes)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 40 * 108_000, held
    again = seen.claim(["Indicatore\0Ob_Obiet01234007", "nuovo"])
    assert again == [1234, None]
