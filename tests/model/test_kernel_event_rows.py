"""The yearly walk over the kernel's event codes gives the general walk's rows, in order.

``events._yearly_rows`` (issue 8, fifth pass) reads the codes in the kernel's layout and visits
only the set bits, in event order, through tables; ``events._tile_rows`` transposes the codes
and tests every bit. On random codes (every bit pattern, phases in the high bits, partial
tiles) both must give the same rows in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest

from spirallab.model import events
from spirallab.model.events import EVENT_BITS, PHASE_SHIFT, bit_tables


@pytest.mark.parametrize("n_valid", [32, 3])
@pytest.mark.parametrize("decapitation", [True, False])
@pytest.mark.parametrize("density", [0.05, 0.5])
def test_yearly_rows_equal_the_general_walk(
    n_valid: int, decapitation: bool, density: float
) -> None:
    rng = np.random.default_rng(int(density * 100) + n_valid)
    n_steps, n_c = 12, 9
    bits = rng.random((n_steps, n_c, 32, len(EVENT_BITS))) < density
    codes = (bits * (np.uint32(1) << np.arange(len(EVENT_BITS), dtype=np.uint32))).sum(-1)
    phases = rng.integers(0, 6, (2, n_steps, n_c, 32)).astype(np.uint32)
    codes = codes.astype(np.uint32) | (phases[0] << PHASE_SHIFT) | (phases[1] << (PHASE_SHIFT + 4))
    years = np.arange(1990, 1990 + n_steps + 1, dtype=np.int64)
    tables = bit_tables(decapitation)
    got = events._yearly_rows(codes, n_valid, 64, years, *tables)
    by_lane = np.ascontiguousarray(codes[:, :, :n_valid].transpose(2, 0, 1))
    want = events._tile_rows(by_lane, 64, 1, years, *tables)
    assert len(got[0]) == len(want[0]) > 0
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # What a lane past n_valid holds is not read.
    codes[:, :, n_valid:] = 0xFFFFFFFF if n_valid < 32 else codes[:, :, n_valid:]
    again = events._yearly_rows(codes, n_valid, 64, years, *tables)
    assert all(np.array_equal(a, b) for a, b in zip(again, got, strict=True))
