"""The vectorised covariate tracks of build_setup equal the per-country construction bit for bit.

The reference below is the construction build_setup used before it was vectorised (one NumPy
mask per country, point and year range); every Setup array must match it in dtype, shape and
bits over built-in scenarios, start/end overrides, random step functions and insurgency spells.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from spirallab.model.setup import Setup, _spell_tracks, _tracks, build_setup, resolve_countries
from spirallab.scenarios.load import load_scenario
from spirallab.scenarios.schema import Scenario, TimeVarying

F32 = npt.NDArray[np.float32]
STACKED = ("material_vulnerability", "social_vulnerability", "strategic_interest")


def _track_reference(value: TimeVarying, years: npt.NDArray[np.int64]) -> F32:
    if isinstance(value, int | float):
        return np.full(len(years), value, dtype=np.float32)
    points = sorted(value)
    out = np.full(len(years), points[0][1], dtype=np.float32)
    for year, v in points:
        out[years >= year] = v
    return out


def _spells_reference(spells: list[tuple[int, int | None]], years: npt.NDArray[np.int64]) -> F32:
    out = np.zeros(len(years), dtype=np.float32)
    for a, b in spells:
        out[(years >= a) & (years <= (b if b is not None else 10_000))] = 1.0
    return out


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _check(scenario: Scenario, start: int | None = None, end: int | None = None) -> Setup:
    setup = build_setup(scenario, start=start, end=end)
    countries = resolve_countries(scenario)
    years = setup.years
    for attr in STACKED:
        ref = np.stack([_track_reference(getattr(c, attr), years) for c in countries], axis=1)
        _same(getattr(setup, attr), ref)
    ref = np.stack([_track_reference(c.non_state_threat, years) for c in countries], axis=1)
    _same(_tracks([c.non_state_threat for c in countries], years), ref)
    ref = np.stack([_spells_reference(c.insurgency, years) for c in countries], axis=1)
    _same(setup.insurgency, ref)
    return setup


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("world-150", None, None),
        ("world-150", 1990, 2005),
        ("book-eleven", None, None),
        ("book-eleven", 1975, 1999),
        ("book-eleven", None, 2030),
        ("protection", None, None),
        ("stylised", None, None),
    ],
)
def test_builtin_scenarios_match_reference(name: str, start: int | None, end: int | None) -> None:
    _check(load_scenario(name), start, end)


def test_book_eleven_has_steps_and_spells() -> None:
    # The scenario exercises what the reference compares: stepped covariates and spells.
    setup = _check(load_scenario("book-eleven"))
    assert setup.insurgency.any() and not setup.insurgency.all()
    assert any(np.ptp(getattr(setup, a), axis=0).any() for a in STACKED)


def _random_world(rng: np.random.Generator, n: int) -> dict[str, Any]:
    countries = []
    for k in range(n):
        c: dict[str, Any] = {"id": f"C{k:03d}", "name": f"Country {k}", "start": 1950}
        c["start"] = int(rng.integers(1950, 1990))
        c["initial_phase"] = int(rng.integers(1, 6))
        for attr in STACKED:
            if rng.random() < 0.4:
                c[attr] = float(rng.random())
            else:  # strictly increasing years, some before and after the run
                pts = np.sort(rng.choice(np.arange(1930, 2040), rng.integers(1, 6), replace=False))
                c[attr] = [[int(y), float(rng.random())] for y in pts]
        spells = []
        for _ in range(int(rng.integers(0, 4))):
            a = int(rng.integers(1940, 2030))
            b = None if rng.random() < 0.3 else a + int(rng.integers(0, 15))
            spells.append([a, b])
        c["insurgency"] = spells
        countries.append(c)
    return {"name": "random-tracks", "end": 2020, "countries": countries}


@pytest.mark.parametrize("seed", range(6))
def test_random_step_functions_and_spells_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scenario = Scenario.model_validate(_random_world(rng, 40))
    _check(scenario)
    _check(scenario, start=1965, end=2001)


def test_unsorted_and_tied_points_match_reference() -> None:
    # non_state_threat is not checked for increasing years: the reference sorts (year, value),
    # so of two points in one year the larger value holds.
    years = np.arange(1980, 2011, dtype=np.int64)
    values: list[TimeVarying] = [
        [(2000, 0.5), (1990, 0.2), (2000, 0.1)],
        0.3,
        [(2015, 0.9)],
        [(1970, 0.4), (1985, 0.6)],
        1.0,
    ]
    ref = np.stack([_track_reference(v, years) for v in values], axis=1)
    _same(_tracks(values, years), ref)
    # The tie really is resolved (it would show as 0.1 if the last-written order were kept).
    assert _tracks(values, years)[years.tolist().index(2005), 0] == np.float32(0.5)


def test_spell_tracks_edges() -> None:
    years = np.arange(1990, 2001, dtype=np.int64)
    spells: list[list[tuple[int, int | None]]] = [
        [],
        [(1990, 1990)],
        [(1995, None)],
        [(1980, 1989)],
    ]
    got = _spell_tracks(spells, years)
    ref = np.stack([_spells_reference(s, years) for s in spells], axis=1)
    _same(got, ref)
    assert got[:, 1].sum() == 1 and got[:, 2].sum() == 6 and not got[:, 3].any()
    _same(_spell_tracks([[], []], years), np.zeros((len(years), 2), dtype=np.float32))
