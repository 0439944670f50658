"""Each reader their remit: what of people a workbook in the master's layout may show.

The office's master shows everyone. A dirigente's extract shows the people of that area only; the
extract for the Giunta and for publication shows none, only counts (GDPR art. 5, data minimisation).
The writer asks the remit two things: whether people are listed by name, and how to clean every text
it writes. Cleaning replaces the names and matricole of the people outside the remit wherever an area
may have typed them (monitoring notes, findings, file names): the full name in either order, ignoring
case; a matricola as a word of its own when it is long enough not to be an ordinary number (at least
four digits), any matricola after «matricola» or «matr.». A name typed in another form (the surname
alone, a nickname) cannot be recognised: README says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from seregno_xlsx.piano.model import Area

OMITTED = "[omesso]"
# A bare number this long is taken for a matricola; shorter ones («54») are ordinary numbers in a text.
MIN_BARE_MATRICOLA = 4
MIN_NAME = 4
# Titles written before a name (the sign-off's «Dott. Rossi Paolo»).
TITLES = frozenset(
    {"dott", "dott.ssa", "dottssa", "dr", "dr.ssa", "ing", "avv", "arch", "geom", "rag", "prof", "sig", "sig.ra"}
)


@dataclass(frozen=True)
class Persona:
    """Who a text must not name: the plan's name and matricola."""

    nome: str
    matricola: str


def people(aree: Iterable[Area]) -> frozenset[Persona]:
    """Everyone assigned to an objective of ``aree``."""
    return frozenset(Persona(p.nome, p.matricola) for a in aree for o in a.obiettivi for p in o.risorse_umane)


def signers(aree: Iterable[Area]) -> frozenset[Persona]:
    """Who compiled and who approved the schede of ``aree``, as typed in the sign-off (no matricola)."""
    names = (n.strip() for a in aree for n in (a.compilazione.compilata_da, a.compilazione.approvata_da))
    return frozenset(Persona(n, "") for n in names if n)


@dataclass(frozen=True)
class Remit:
    """``titolo`` says what the extract holds ("" for the office's master), ``breve`` names it at the foot
    of every printed page; ``nominativi`` False writes people as counts; ``omessi`` are the people no
    text may name."""

    titolo: str = ""
    nominativi: bool = True
    omessi: frozenset[Persona] = field(default_factory=frozenset)
    breve: str = ""

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        terms = omission_terms(self.omessi)
        if not terms:
            return None
        return re.compile(rf"(?<!\w)(?:{_by_first_character(terms)})(?!\w)", re.IGNORECASE)

    def clean(self, text: str) -> str:
        """``text`` without the names and matricole of the people outside the remit."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(OMITTED, text)


def omission_terms(omessi: Iterable[Persona]) -> set[str]:
    """Every form (a regular expression) in which a text may name one of ``omessi``."""
    terms: set[str] = set()
    for persona in omessi:
        words = persona.nome.split()
        # «Dott. Rossi Paolo» is also written «Rossi Paolo»: the name without its title is the name.
        bare_name = [w for w in words if w.casefold().rstrip(".") not in TITLES]
        for name in (words, bare_name):
            # A name of a letter or two («DI») would blank ordinary words; no real name is that short.
            for order in (name, name[::-1]) if len("".join(name)) >= MIN_NAME else ():
                terms.add(r"\s+".join(map(re.escape, order)))
        matricola = persona.matricola.strip()
        if not matricola:
            continue
        bare = matricola.lstrip("0") or "0"
        terms.add(rf"matr(?:icola|\.)?\s*(?:n(?:\.|°|um(?:ero)?)?\s*)?[:.]?\s*0*{re.escape(bare)}")
        for form in {matricola, bare}:
            if len(form) >= MIN_BARE_MATRICOLA:
                terms.add(re.escape(form))
    return terms


def _by_first_character(terms: set[str]) -> str:
    """The alternation of ``terms`` (escaped patterns), longest first, grouped by their first character:
    where a text's character starts none of a group's terms, the group is passed over at once.

    The same matches as the plain alternation: longest first («matricola 00003120» is one omission, not
    «matricola [omesso]»). At a place in a text only one group can match (its first character, ignoring
    case as the pattern does; characters equal ignoring case are one group), and within it the terms keep
    the order of the whole. An extract omits everyone outside its area (a region's thousands of people):
    the plain alternation tried every term at every word of every text (most of ``--estratti``'s time)."""
    ordered = sorted(terms, key=lambda term: (-len(term), term))
    groups: dict[str, list[str]] = {}
    keys: list[str] = []  # one character per group; characters equal ignoring case share one
    for term in ordered:
        first = _first_character(term)
        key = next((k for k in keys if _same_ignoring_case(k, first)), None)
        if key is None:
            keys.append(first)
            key = first
        groups.setdefault(key, []).append(term)
    return "|".join(f"(?={re.escape(key)})(?:{'|'.join(group)})" for key, group in groups.items())


def _first_character(term: str) -> str:
    """The character an escaped pattern of ``_pattern`` starts with (an escape's backslash skipped)."""
    return term[1] if term.startswith("\\") else term[0]


def _same_ignoring_case(first: str, second: str) -> bool:
    return first == second or re.fullmatch(re.escape(first), second, re.IGNORECASE) is not None


FULL = Remit()
