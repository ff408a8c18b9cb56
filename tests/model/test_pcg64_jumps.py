"""Runs of dormant countries' draws jumped over in one go land where NumPy's stream is.

The kernel (issue 8, fifth pass) no longer jumps the 16-way generator over each dormant
country's 32 draws one by one: it counts them and makes one jump of ``k`` countries' draws
(``pcg64.jump_table``) before the next draws. The ways must end exactly where ``k`` single
jumps leave them, for any ``k`` up to the table's end, and so give NumPy's stream.
"""

from __future__ import annotations

import numpy as np

from spirallab.model import pcg64
from spirallab.model.f32math import njit


@njit
def _runs(rng: np.ndarray, runs: np.ndarray, n_table: int, single: bool) -> np.ndarray:
    """Draw one country's 32 floats after each run of ``runs[i]`` skipped countries."""
    pcg64.start_ways(rng)
    a_hi, a_lo, c_hi, c_lo = pcg64.jump_constants(rng, pcg64.WAYS)
    jumps = np.zeros(4 * (n_table + 1), np.uint64)
    pcg64.jump_table(jumps, a_hi, a_lo, c_hi, c_lo)
    n = (rng.shape[0] - 4) // 2
    out = np.zeros(runs.shape[0] * 2 * n, np.float32)
    for i in range(runs.shape[0]):
        if single:
            for _ in range(runs[i]):
                pcg64.jump_ways(rng, n, a_hi, a_lo, c_hi, c_lo)
        else:
            k = 4 * runs[i]
            pcg64.jump_ways(rng, n, jumps[k], jumps[k + 1], jumps[k + 2], jumps[k + 3])
        pcg64.fill_ways(rng, n, out, i * 2 * n, a_hi, a_lo, c_hi, c_lo)
    return out


def test_one_jump_of_k_countries_is_k_jumps_and_numpys_stream() -> None:
    runs = np.array([0, 1, 2, 5, 0, 17, 3, 40], dtype=np.int64)
    per = 2 * pcg64.WAYS
    for seed, block in [(0, 0), (5, 2), (2**40 + 3, 17)]:
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        stream = gen.random((int(runs.sum()) + runs.size) * per, dtype=np.float32)
        got = _runs(pcg64.initial_state(seed, block), runs, 40, False)
        assert np.array_equal(got, _runs(pcg64.initial_state(seed, block), runs, 40, True))
        at = np.cumsum(runs) + np.arange(runs.size)  # each draw's position, in countries
        expected = np.concatenate([stream[k * per : (k + 1) * per] for k in at])
        assert np.array_equal(got, expected)


def test_the_table_starts_at_no_jump_and_a_wrong_entry_is_seen() -> None:
    rng = pcg64.initial_state(3, 1)
    runs = np.array([2, 2], dtype=np.int64)
    right = _runs(rng.copy(), runs, 4, False)
    # Using the entry of one country fewer gives other numbers: the table's index is the count.
    wrong = _runs(rng.copy(), runs - 1, 4, False)
    assert not np.array_equal(right, wrong)
    zero = _runs(rng.copy(), np.zeros(2, dtype=np.int64), 4, False)
    assert np.array_equal(zero, _runs(rng.copy(), np.zeros(2, dtype=np.int64), 4, True))
