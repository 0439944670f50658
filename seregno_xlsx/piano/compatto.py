"""The plan as ``consolida`` holds it: a few KB per area, whatever the number of areas.

A plan of 800 areas is 44 MB of JSON and 124 MB as models (241 MB at the peak of reading it): the
largest thing ``consolida`` held, and it grew with every area. Here the plan is read as a stream
(ijson), each area validated on its own and kept compressed; an area is made into models again only
while a file of that area is read and checked. What spans the plan (its header, versions, rounds and
the matricole it knows) is kept as it is.

The compressed areas are made here from validated models and never leave the process but to this
run's own workers: nothing read from a file is ever unpickled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ijson

from seregno_xlsx.errors import PlanError
from seregno_xlsx.piano.assegnazioni import known_matricole
from seregno_xlsx.piano.compresse import AreeCompresse
from seregno_xlsx.piano.model import Area, Piano
from seregno_xlsx.piano.plan_file import MAX_PLAN_BYTES, duplicate_row, read_plan

# Levels of nesting of a plan's JSON: the model has about a dozen (the 2021 plan 10, rounds recorded).
MAX_PLAN_DEPTH = 32


class PianoCompatto:
    """A plan with its areas compressed: ``testata`` is the plan without areas, ``area_of`` and
    ``per_area`` give fresh models of one area (a copy nobody else holds: it may be filled in place).
    ``cartella``: where the compressed areas wait (``AreeCompresse``); the system's temporary folder if none."""

    def __init__(self, testata: Piano, aree: Iterable[Area], *, cartella: Path | None = None) -> None:
        self.testata = _with_areas(testata, [])
        self._aree = AreeCompresse(cartella=cartella)
        stubs: list[Area] = []
        matricole: set[str] = set()
        for area in aree:
            self._aree.append(area)
            # Only what finds an area (``Piano.area_of``): its code and name.
            stubs.append(Area.model_construct(codice=area.codice, nome=area.nome, obiettivi=[]))
            matricole |= known_matricole([area])
        # The lookups are ``Piano``'s own, run on a plan of stubs: an area is found exactly as there.
        self._stubs = _with_areas(self.testata, stubs)
        self._index = {id(stub): index for index, stub in enumerate(stubs)}
        self.matricole = frozenset(matricole)

    @classmethod
    def from_piano(cls, piano: Piano, *, cartella: Path | None = None) -> PianoCompatto:
        return cls(piano, piano.aree, cartella=cartella)

    def __len__(self) -> int:
        return len(self._aree)

    @property
    def nomi(self) -> list[str]:
        return [stub.nome for stub in self._stubs.aree]

    def __iter__(self) -> Iterator[Area]:
        return iter(self._aree)

    def _index_of(self, other: Area) -> int:
        """The position of the plan's area for ``other`` (``KeyError`` if none), found as ``Piano`` finds it."""
        return self._index[id(self._stubs.area_of(other))]

    def area_of(self, other: Area) -> Area:
        """``Piano.area_of``: by stable code, else by name (also as an earlier version named it)."""
        return self._aree[self._index_of(other)]

    def per_area(self, *others: Area) -> Piano:
        """The plan with only the areas of ``others`` (those it has): what reading one scheda needs."""
        found: dict[int, Area] = {}
        for other in others:
            try:
                index = self._index_of(other)
            except KeyError:
                continue
            if index not in found:
                found[index] = self._aree[index]
        return _with_areas(self.testata, list(found.values()))

    def intero(self) -> Piano:
        """The whole plan as models (the next round's plan is written from it)."""
        return _with_areas(self.testata, list(self))


def _with_areas(piano: Piano, aree: list[Area]) -> Piano:
    """``piano`` with other areas, given as ``piano`` gave them: the whole plan made again is the plan read,
    to its set of fields given."""
    copied = piano.model_copy(update={"aree": aree})
    object.__setattr__(copied, "__pydantic_fields_set__", piano.__pydantic_fields_set__)
    return copied


def read_plan_compact(path: Path, *, cartella: Path | None = None) -> PianoCompatto:
    """The plan at ``path``, read area by area; a plan with any problem is read again by ``read_plan``,
    which names it (file, field, line) exactly as every other command does. ``cartella``: see
    ``PianoCompatto``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size <= MAX_PLAN_BYTES:
            return _stream(path, cartella)
    except (OSError, ValueError, ijson.JSONError, RecursionError):  # ValidationError and _Duplicate too
        pass
    # Every failure is described by the one reader that knows how; should it accept what the stream
    # refused (a byte-order mark, say), the plan is taken from it.
    return PianoCompatto.from_piano(read_plan(path), cartella=cartella)


class _Duplicate(ValueError):
    """Two areas, or two rows of one area, with one name or code: ``read_plan`` names them."""


def _stream(path: Path, cartella: Path | None) -> PianoCompatto:
    header = _header(path)
    testata = Piano.model_validate({**header, "aree": []})
    names: set[str] = set()
    codes: set[str] = set()

    def areas() -> Iterator[Area]:
        with path.open("rb") as stream:
            for raw in ijson.items(stream, "aree.item", use_float=True):
                area = Area.model_validate(raw)
                if area.nome.casefold() in names or (area.codice and area.codice in codes):
                    raise _Duplicate(area.nome)
                if duplicate_row(area) is not None:
                    raise _Duplicate(area.nome)
                names.add(area.nome.casefold())
                codes.add(area.codice)
                yield area

    return PianoCompatto(testata, areas(), cartella=cartella)


def _header(path: Path) -> dict[str, Any]:
    """Every top-level field but the areas, built from the parser's events (the areas are skipped).

    The parser's plain events (no path per event: a plan's areas are half a million of them, every one
    passed over here) and the depth they are at: 1 inside the plan's object, where its keys are."""
    header: dict[str, Any] = {}
    key = ""
    builder: Any = None
    seen_areas = False
    depth = 0
    with path.open("rb") as stream:
        # Small reads: a buffer of 64 KB of «[» once cost seconds before the depth bound below could stop it.
        for event, value in ijson.basic_parse(stream, buf_size=4096, use_float=True):
            # Before any area is built (the areas' pass follows this one): a nesting no plan has is
            # refused here, not built by the parser and then validated level by level.
            if event == "start_map" or event == "start_array":
                depth += 1
                if depth > MAX_PLAN_DEPTH:
                    raise ValueError("annidamento oltre ogni piano")  # read_plan names it
                if depth == 1:
                    if event == "start_array":
                        raise ValueError("il piano non è un oggetto JSON")
                    continue
            elif event == "end_map" or event == "end_array":
                depth -= 1
                if depth == 0:
                    continue
            elif depth == 0:
                raise ValueError("il piano non è un oggetto JSON")
            elif depth == 1 and event == "map_key":
                if value in header or (value == "aree" and seen_areas):
                    raise _Duplicate(value)  # json.loads keeps the last one: read_plan decides
                seen_areas = seen_areas or value == "aree"
                key, builder = value, None
                continue
            # An event of the value of ``key``: a scalar at depth 1, else its containers from depth 2.
            if key == "aree":
                if (depth == 1 and event != "end_array") or (depth == 2 and event == "start_map"):
                    raise ValueError("«aree» non è un elenco")  # read_plan says so, with the line
                continue
            if builder is None:
                builder = ijson.ObjectBuilder()
            builder.event(event, value)
            if depth == 1:  # a scalar, or the end of the value's container
                header[key] = builder.value
                builder = None
    return header


__all__ = ["PianoCompatto", "PlanError", "read_plan_compact"]
