"""Work spread over the cores: one process per core by default, the results in the order given.

The shared data (a plan) reaches each worker once, through ``initializer``; each task is an index.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def default_processes() -> int:
    """The cores this process may use (a container or ``taskset`` may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def workers_for(processi: int | None, tasks: int) -> int:
    """How many processes to start for ``tasks`` (``processi`` None: one per core); 1 means here, serially."""
    wanted = default_processes() if processi is None else processi
    if wanted < 1:
        raise ValueError("processi must be at least 1")
    return max(1, min(wanted, tasks))


def ordered_map(
    function: Callable[[int], T],
    tasks: int,
    *,
    workers: int,
    initializer: Callable[..., None],
    initargs: Sequence[Any],
) -> list[T]:
    """``function(i)`` for i in range(tasks) on ``workers`` processes, in order; an error is re-raised here.

    ``function`` and ``initializer`` are module-level functions (they travel to the workers by name).
    """
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=tuple(initargs)) as pool:
        return list(pool.map(function, range(tasks)))
