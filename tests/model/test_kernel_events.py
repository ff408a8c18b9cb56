"""The kernel's event codes into rows: the compiled walk against a plain sort (issue 8).

``events.tile_rows`` walks the code array in the frame's order instead of sorting; here random
code arrays (sub-year steps, partial tiles, both decapitation settings) go through it and
through an independent oracle that lists every set bit and sorts the rows with Python's sort.
"""

from __future__ import annotations

import numpy as np
import pytest

from spirallab.model.events import BIT, EVENT_BITS, EVENT_NAMES, PHASE_SHIFT, bit_tables, tile_rows


def oracle(codes: np.ndarray, n_valid: int, col0: int, spy: int, years: np.ndarray, decap: bool):
    names = list(EVENT_NAMES)
    event_of_bit, detail_of_bit, _, _ = bit_tables(decap)
    rows = []
    n_steps, n_c, _ = codes.shape
    for t in range(n_steps):
        for c in range(n_c):
            for j in range(n_valid):
                v = int(codes[t, c, j])
                for bit in range(len(EVENT_BITS)):
                    if v >> bit & 1:
                        phased = bit in (BIT.transition, BIT.backslide)
                        before = (v >> PHASE_SHIFT) & 15 if phased else -1
                        after = (v >> (PHASE_SHIFT + 4)) & 15 if phased else -1
                        e = int(event_of_bit[bit])
                        key = (j, t // spy, c, e, t, bit)
                        row = (col0 + j, c, int(years[t // spy + 1]), e, before, after)
                        rows.append((key, (*row, int(detail_of_bit[bit]))))
    rows.sort()
    assert all(0 <= r[1][3] < len(names) for r in rows)
    return [r[1] for r in rows]


@pytest.mark.parametrize(("spy", "n_valid", "decap"), [(1, 32, True), (2, 9, False), (4, 17, True)])
def test_tile_rows_are_the_sorted_set_bits(spy: int, n_valid: int, decap: bool) -> None:
    rng = np.random.default_rng(spy * 100 + n_valid)
    n_years, n_c = 6, 5
    n_steps = n_years * spy
    # Sparse event bits (about one in four codes has some), random phases in the high bits.
    bits = rng.random((n_steps, n_c, 32, len(EVENT_BITS))) < 0.03
    codes = (bits * (1 << np.arange(len(EVENT_BITS)))).sum(axis=-1).astype(np.uint32)
    phases = rng.integers(0, 6, (2, n_steps, n_c, 32)).astype(np.uint32)
    codes |= (phases[0] << PHASE_SHIFT) | (phases[1] << (PHASE_SHIFT + 4))
    years = np.arange(2000, 2000 + n_years + 1, dtype=np.int64)
    got = tile_rows(codes, n_valid, 64, spy, years, bit_tables(decap))
    expected = oracle(codes, n_valid, 64, spy, years, decap)
    assert len(expected) > 50
    assert list(zip(*(a.tolist() for a in got), strict=True)) == expected


def test_no_events_give_no_rows() -> None:
    codes = np.full((3, 2, 32), 5 << PHASE_SHIFT, dtype=np.uint32)  # phases only, no event bit
    got = tile_rows(codes, 32, 0, 1, np.arange(4, dtype=np.int64), bit_tables(True))
    assert all(len(a) == 0 for a in got)
