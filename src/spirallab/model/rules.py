"""What every scalar rule shares: the float32 constants, the decorator and the hazard.

A rule is a Numba function of one country-replicate's values (float32 scalars; phase and stance
as float32 codes, flags as bools) that returns new values. Rules are branch-free where it
matters for speed: switches and masks choose between values (``a if cond else b`` on scalars,
which the compiler turns into selects), never between code paths with side effects. Parameters
are read from the kernel's flat parameter tile, ``p[P.name + j]`` for lane ``j``: each
parameter has a row of :data:`LANES` values, ``P.name`` is where that row starts.

Flags combine with ``&``, ``|`` and ``not``, never with ``and``/``or``: on two bools the
results are the same (no operand has side effects), but Python's short-circuit forms reach LLVM
as chains of selects (``select a, b, false``), which on the 16-lane vector masks cost mask moves
and spills, where ``&`` is one mask instruction (docs/model.md, Performance, sixth and seventh
passes). Mind the precedence: ``&`` binds tighter than a comparison, so compare in parentheses.

Every literal is a float32 constant from here: a bare ``1.0`` would be float64 in Numba and
change the rounding.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from spirallab.model.f32math import exp32, njit
from spirallab.model.params import PARAMETERS

# Replicates stepped side by side in one tile: the engine's block; 16 float32 fill an AVX-512
# register, so a tile is two registers wide.
LANES = 32

# Start of each parameter's row in the flat parameter tile (a named tuple of ints, which Numba
# reads as compile-time constants, so every access has a fixed offset).
_Rows = namedtuple("_Rows", [par.name for par in PARAMETERS])  # type: ignore[misc]
P: Any = _Rows(*(k * LANES for k in range(len(PARAMETERS))))

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
    compiled: Any = njit(inline="always", error_model="numpy")(fn)
    return compiled


@rule
def as_f32(flag: Any) -> Any:
    """A flag as 1.0 or 0.0 (what NumPy does when it multiplies a float by a bool)."""
    return ONE if flag else ZERO


@rule
def hazard(rate: Any, dt: Any) -> Any:
    """Probability of at least one event in a step of ``dt`` years at a constant yearly rate."""
    return ONE - exp32(-rate * dt)
