"""A read-only sequence whose items are made again on each access: what the compressed stores share.

``AreeCompresse`` (areas) and ``AnomalieCompresse`` (findings) keep their items compressed and give
fresh models on each access; indexing, slicing and comparing work the same for both, here once.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """Indexing (negative too), slicing and equality over ``_item(position)``, which makes one item."""

    @abstractmethod
    def _item(self, position: int) -> T: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def _position(self, index: int) -> int:
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"{index} fuori dall'elenco di {len(self)}")
        return position

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        return self._item(self._position(index))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]
