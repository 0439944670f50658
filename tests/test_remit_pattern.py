"""The remit's pattern, grouped by first character (``master/remit.py``), omits exactly what the plain
alternation of every term, longest first, omitted: same replacements, whatever the names, matricole,
letters equal ignoring case (ı, İ, ſ, K, ß, ẞ, µ) and texts."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from seregno_xlsx.master.remit import OMITTED, Persona, Remit, omission_terms

TRICKY = "aAiIıİsSſkKKßẞµμçÇ'-. 0123"
_word = st.text(alphabet=TRICKY + "bcdeoruvz", min_size=1, max_size=7)
_name = st.lists(_word, min_size=1, max_size=3).map(" ".join)
_matricola = st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=1, max_size=7))
_people = st.frozensets(st.builds(Persona, _name, _matricola), max_size=6)


@settings(max_examples=300, deadline=None)
@given(_people, st.lists(st.one_of(_name, _matricola, st.sampled_from(["matricola", "matr.", "n°", ":", "\n"]))))
@example(frozenset({Persona("ılaria Rossi", "0003120"), Persona("Ilaria Sanna", "")}), ["ILARIA ROSSI", "matr. 3120"])
@example(frozenset({Persona("Weiß Anna", ""), Persona("ſara Kant", "")}), ["WEIẞ ANNA e Sara KANT"])
def test_the_grouped_pattern_omits_what_the_plain_one_did(omessi: frozenset[Persona], pieces: list[str]) -> None:
    remit = Remit(omessi=omessi)
    text = " ".join(pieces)
    old = _old_pattern(omessi)
    expected = text if old is None else old.sub(OMITTED, text)
    assert remit.clean(text) == expected


def _old_pattern(omessi: frozenset[Persona]) -> re.Pattern[str] | None:
    """The pattern before the grouping: one alternation of every form, longest first."""
    terms = omission_terms(omessi)
    if not terms:
        return None
    # Ties in length in one order (the set's order varied from run to run: now it does not).
    alternatives = "|".join(sorted(terms, key=lambda t: (-len(t), t)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
