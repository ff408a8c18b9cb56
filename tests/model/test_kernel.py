"""The compiled kernel against the NumPy reference engine: bit for bit, over a matrix.

The reference (spirallab.model.reference) is the NumPy engine the project ran before the kernel,
a second writing of every rule; the kernel is what ``simulate`` runs. Any rule changed in one and
not the other fails here. Sizes are small (the kernel is compiled once per process and cached on
disk); ``benchmarks/check_kernel_identity.py`` runs the same comparison over 10^7 country-steps.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab import Scenario, simulate
from spirallab.model.context import Switches
from spirallab.model.engine import BLOCK, OBSERVABLES, _draws, run_points
from spirallab.model.f32math import exp_array, pow_array
from spirallab.model.reference.engine import simulate_arrays
from spirallab.model.setup import LEVER_KINDS, build_setup
from spirallab.scenarios.load import load_scenario


def reference(sc: Scenario, replicates: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    setup = build_setup(sc)
    draws = _draws(setup, seed, 0, replicates)
    return simulate_arrays(setup, draws, setup.params, OBSERVABLES)


def assert_identical(sc: Scenario, replicates: int, seed: int, **kwargs: Any) -> None:
    got = simulate(sc, replicates=replicates, seed=seed, **kwargs)
    records, events = reference(sc, replicates, seed)
    for k, name in enumerate(OBSERVABLES):
        same = records[:, k] == got.records[:, k]
        assert same.all(), f"{name}: {int((~same).sum())} values differ"
    pd.testing.assert_frame_equal(events, got.events)


def variant(sc: Scenario, **top: Any) -> Scenario:
    d = sc.model_dump(mode="json")
    d.update(top)
    return Scenario.model_validate(d)


@pytest.fixture(scope="module")
def book() -> Scenario:
    return load_scenario("book-eleven")


@pytest.mark.parametrize("seed", [0, 7, 2**31 + 5])
def test_seeds(book: Scenario, seed: int) -> None:
    assert_identical(book, BLOCK + 9, seed)


@pytest.mark.parametrize("switch", [f.name for f in fields(Switches)])
def test_every_mechanism_switched_off(book: Scenario, switch: str) -> None:
    mechanisms = book.mechanisms.model_dump()
    mechanisms[switch] = False
    assert_identical(variant(book, mechanisms=mechanisms), 24, 3)


def test_all_mechanisms_off(book: Scenario) -> None:
    off = {f.name: False for f in fields(Switches)}
    assert_identical(variant(book, mechanisms=off), 16, 4)


@pytest.mark.parametrize("kind", LEVER_KINDS)
def test_every_lever_kind(book: Scenario, kind: str) -> None:
    """Each lever alone, overlapping a second track of its kind limited to some phases."""
    levers = [
        {"kind": kind, "targets": ["CHL", "ZAF"], "start": 1960, "end": 1990, "strength": 0.7},
        {"kind": kind, "start": 1975, "end": 2000, "strength": 0.6, "phases": [2, 3]},
    ]
    assert_identical(variant(book, levers=levers), 40, 5)


def test_all_levers_at_once(book: Scenario) -> None:
    levers = [
        {"kind": k, "start": 1950 + 5 * i, "end": 2010, "strength": 0.3, "phases": [1 + i % 5]}
        for i, k in enumerate(LEVER_KINDS)
    ]
    assert_identical(variant(book, levers=levers), 40, 6)


@pytest.mark.parametrize("off", [(), ("agenda_setting",), ("denial", "institutions")])
def test_countries_before_their_start_are_skipped_exactly(
    book: Scenario, off: tuple[str, ...]
) -> None:
    """Late starters in every initial phase, levers already acting on them before their start.

    The kernel skips a country's steps before its start (its state is a fixed point there) and
    jumps over its draws; records and events must still equal the reference, which steps them.
    """
    d = book.model_dump(mode="json")
    for i, country in enumerate(d["countries"]):
        country["initial_phase"] = 1 + i % 5
    d["mechanisms"].update({m: False for m in off})
    d["step"] = 0.5
    d["levers"] = [
        {"kind": k, "start": 1950, "end": 2000, "strength": 0.4}
        for k in ("naming_and_shaming", "un_mechanism", "imposed_crackdown", "regime_change")
    ]
    late = Scenario.model_validate(d)
    setup = build_setup(late)
    assert (setup.starts > setup.years[1] + 10).sum() >= 5  # the skip has work to do
    assert_identical(late, 40, 12)


@pytest.mark.parametrize("step", [0.5, 0.25])
def test_sub_year_steps(book: Scenario, step: float) -> None:
    levers = [{"kind": "regime_change", "start": 1980, "end": 1985, "strength": 0.5}]
    assert_identical(variant(book, step=step, levers=levers), 20, 8)


@pytest.mark.parametrize(("chunk", "workers"), [(BLOCK, 1), (2 * BLOCK, 1), (BLOCK, 2)])
def test_chunkings_and_workers(book: Scenario, chunk: int, workers: int) -> None:
    assert_identical(book, 3 * BLOCK + 1, 9, chunk_replicates=chunk, workers=workers)


def test_synthetic_world() -> None:
    assert_identical(load_scenario("world-150"), 6, 2)


@pytest.mark.parametrize("switch", [None, "denial", "pincer", "insurgency_threat"])
def test_observed_start(book: Scenario, switch: str | None) -> None:
    """A world from data: the preferred repression inferred at the start, in both engines."""
    mechanisms = book.mechanisms.model_dump()
    if switch:
        mechanisms[switch] = False
    assert_identical(variant(book, observed_start=True, mechanisms=mechanisms), BLOCK + 3, 6)


def test_observed_start_side_by_side(book: Scenario) -> None:
    """Per-column parameters (calibration's path) give each column its own inferred level."""
    setup = build_setup(variant(book, observed_start=True))
    values = {"cosmetic_relief": np.array([0.1, 0.6]), "denial_repression": np.array([0.1, 0.5])}
    assert_points_match_the_reference(setup, values)


def test_points_side_by_side_match_the_reference(book: Scenario) -> None:
    """Sweeps' path (per-column parameters, several seeds) against the reference."""
    setup = build_setup(book)
    values = {"concession_rate": np.array([0.2, 0.9]), "low_repression": np.array([0.2, 0.4])}
    assert_points_match_the_reference(setup, values)


def assert_points_match_the_reference(setup: Any, values: dict[str, np.ndarray]) -> None:
    """Two parameter points side by side in one kernel run, each against its own reference run."""
    seeds, replicates = [3, 11], 19
    got = run_points(setup, seeds, replicates, values, ("phase", "repression"))
    for i, seed in enumerate(seeds):
        params = dict(setup.params, **{k: float(v[i]) for k, v in values.items()})
        records, _ = simulate_arrays(
            setup, _draws(setup, seed, 0, replicates), params, ("phase", "repression"), events=False
        )
        assert np.array_equal(records, got[..., i * replicates : (i + 1) * replicates])


def test_switching_the_kernel_rule_off_is_seen(book: Scenario) -> None:
    """The comparison can fail: a different parameter in the reference shows up at once."""
    setup = build_setup(book)
    draws = _draws(setup, 1, 0, 16)
    records, _ = simulate_arrays(
        setup,
        draws,
        dict(setup.params, concession_rate=setup.params["concession_rate"] * 1.01),
        OBSERVABLES,
    )
    got = simulate(book, replicates=16, seed=1)
    assert not np.array_equal(records, got.records)


def test_shared_exp_and_pow_are_accurate() -> None:
    x = np.linspace(-87.0, 88.0, 200_001, dtype=np.float32)
    exact = np.exp(x.astype(np.float64))
    ulp = np.abs(exp_array(x) - exact) / np.spacing(exact.astype(np.float32))
    assert ulp.max() <= 1.0
    assert exp_array(np.array([-np.inf, np.inf, 0.0, 100.0, -100.0], np.float32)).tolist() == [
        0.0,
        np.inf,
        1.0,
        np.inf,
        0.0,
    ]
    base = np.linspace(0.0, 1.0, 10_001, dtype=np.float32)
    for dt in (1.0, 0.5, 0.25):
        got = pow_array(base, np.float32(dt)).astype(np.float64)
        assert np.abs(got - base.astype(np.float64) ** dt).max() < 1e-6
    assert pow_array(np.float32(0.0), np.float32(0.0)) == 1.0  # a country not yet started
    assert pow_array(np.float32(0.0), np.float32(0.5)) == 0.0


def test_a_missing_compiler_is_a_clear_error() -> None:
    """Without Numba a run stops with one line saying why; there is no slow fallback."""
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "from spirallab import simulate\n"
        "from spirallab.errors import SpiralLabError\n"
        "try:\n"
        "    simulate('stylised', replicates=2)\n"
        "except SpiralLabError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("CompiledEngineError the compiled engine needs numba")


def test_kernel_draws_numpys_pcg64_stream_bit_for_bit() -> None:
    """The kernel's own PCG64 gives exactly the float32 uniforms NumPy gives for a block."""
    from spirallab.model import pcg64
    from spirallab.model.engine import block_draws
    from spirallab.model.f32math import njit

    @njit
    def draw(rng: np.ndarray, n: int) -> np.ndarray:
        out = np.empty(n, np.float32)
        pcg64.fill_uniform(rng, out, 0, n)
        return out

    for seed, block in [(0, 0), (3, 1), (2**40 + 3, 17)]:
        expected = block_draws(seed, block, 3, 5).reshape(-1)
        assert np.array_equal(draw(pcg64.initial_state(seed, block), expected.size), expected)


def test_jumping_the_pcg64_stream_lands_where_numpy_does() -> None:
    """Skipping a dormant country's 32 draws (16 outputs) by a jump leaves NumPy's stream."""
    from spirallab.model import pcg64
    from spirallab.model.f32math import njit

    @njit
    def skip_then_draw(rng: np.ndarray, skips: int, steps: int, n: int) -> np.ndarray:
        a_hi, a_lo, c_hi, c_lo = pcg64.jump_constants(rng, steps)
        for _ in range(skips):
            pcg64.jump(rng, a_hi, a_lo, c_hi, c_lo)
        out = np.empty(n, np.float32)
        pcg64.fill_uniform(rng, out, 0, n)
        return out

    for seed, block in [(0, 0), (5, 2), (2**40 + 3, 17)]:
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        stream = gen.random(7 * 32 + 64, dtype=np.float32)
        for skips, steps in [(1, 16), (7, 16), (3, 1)]:
            got = skip_then_draw(pcg64.initial_state(seed, block), skips, steps, 64)
            first = skips * steps * 2
            assert np.array_equal(got, stream[first : first + 64])
        # A jump of the wrong length is seen: one output short of NumPy's position.
        short = skip_then_draw(pcg64.initial_state(seed, block), 1, 15, 64)
        assert not np.array_equal(short, stream[32:96])


def test_vectorised_ways_give_numpys_stream() -> None:
    """The kernel's 16-way generator: fills and skips in any order stay on NumPy's stream."""
    from spirallab.model import pcg64
    from spirallab.model.f32math import njit

    @njit
    def ways(rng: np.ndarray, pattern: np.ndarray) -> np.ndarray:
        pcg64.start_ways(rng)
        a_hi, a_lo, c_hi, c_lo = pcg64.jump_constants(rng, pcg64.WAYS)
        n = (rng.shape[0] - 4) // 2
        out = np.zeros(pattern.shape[0] * 2 * n, np.float32)
        for k in range(pattern.shape[0]):
            if pattern[k]:
                pcg64.fill_ways(rng, n, out, k * 2 * n, a_hi, a_lo, c_hi, c_lo)
            else:
                pcg64.jump_ways(rng, n, a_hi, a_lo, c_hi, c_lo)
        return out

    pattern = np.array([1, 0, 0, 1, 1, 0, 1] * 3, dtype=np.bool_)
    per = 2 * pcg64.WAYS
    for seed, block in [(0, 0), (5, 2), (2**40 + 3, 17)]:
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        stream = gen.random(pattern.size * per, dtype=np.float32).reshape(pattern.size, per)
        got = ways(pcg64.initial_state(seed, block), pattern).reshape(pattern.size, per)
        assert np.array_equal(got[pattern], stream[pattern])
        assert not got[~pattern].any()
