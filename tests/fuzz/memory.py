"""The memory ceiling of the fuzzing suite: what one example may allocate at its peak."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Every input in the suite is a few kilobytes, so a few tens of megabytes is generous; a bad
# input that makes a loader allocate by a value it holds (a year of 10^9, a count of 10^7) is
# caught well before it exhausts the machine. Traced by tracemalloc: Python objects and NumPy
# arrays.
CEILING_MB = 64


def within_ceiling(call: Callable[[], T]) -> T:
    """Run ``call`` and fail if its traced allocations peaked above :data:`CEILING_MB`."""
    tracemalloc.start()
    try:
        result = call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= CEILING_MB * 2**20, f"peak {peak / 2**20:.0f} MB over {CEILING_MB} MB"
    return result
