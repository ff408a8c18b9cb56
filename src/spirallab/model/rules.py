"""What every scalar rule shares: the float32 constants, the decorator and the hazard.

A rule is a Numba function of one country-replicate's values (float32 scalars; phase and stance
as float32 codes, flags as bools) that returns new values. Rules are branch-free where it
matters for speed: switches and masks choose between values (``a if cond else b`` on scalars,
which the compiler turns into selects), never between code paths with side effects. Parameters
are read from the kernel's parameter tile, ``p[SLOT.name, j]`` for lane ``j``.

Every literal is a float32 constant from here: a bare ``1.0`` would be float64 in Numba and
change the rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from spirallab.model.f32math import exp32, njit

F32 = np.float32
ONE = F32(1.0)
ZERO = F32(0.0)
HALF = F32(0.5)

# Stance codes as float32 (state.py holds the labels).
SILENT = F32(0.0)
DENIAL = F32(1.0)
RHETORIC = F32(2.0)
ARGUMENT = F32(3.0)
ACCEPTANCE = F32(4.0)

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def rule(fn: _Fn) -> _Fn:
    """Compile a scalar rule so that the kernel inlines it (no call in the vectorised loop)."""
    compiled: _Fn = njit(inline="always")(fn)
    return compiled


@rule
def as_f32(flag: Any) -> Any:
    """A flag as 1.0 or 0.0 (what NumPy does when it multiplies a float by a bool)."""
    return ONE if flag else ZERO


@rule
def hazard(rate: Any, dt: Any) -> Any:
    """Probability of at least one event in a step of ``dt`` years at a constant yearly rate."""
    return ONE - exp32(-rate * dt)
