"""Each lever pushes in the direction docs/model.md (7.9) says, on the stylised country."""

from __future__ import annotations

import numpy as np
import pytest

from spirallab import Scenario, simulate
from spirallab.experiments import patterns as P
from spirallab.scenarios.load import load_scenario

N = 300


def _mean_year_of(phase: int, levers: list[dict[str, object]]) -> float:
    d = load_scenario("stylised").model_dump(mode="json")
    d["levers"] = levers
    r = simulate(Scenario.model_validate(d), replicates=N, seed=21)
    # Mean, not median: the yearly grid makes medians too coarse for small effects.
    return float(np.nanmean(P.first_year(r, phase)))


@pytest.fixture(scope="module")
def baseline() -> dict[int, float]:
    return {k: _mean_year_of(k, []) for k in (2, 3, 4)}


@pytest.mark.parametrize(
    ("kind", "phase"),
    [
        ("aid_conditionality", 3),
        ("bilateral_pressure", 3),
        ("un_mechanism", 2),
        ("fund_domestic_groups", 4),
    ],
)
def test_supportive_levers_speed_the_spiral(
    baseline: dict[int, float], kind: str, phase: int
) -> None:
    lever = {"kind": kind, "start": 1970, "end": 2000, "strength": 0.8}
    assert _mean_year_of(phase, [lever]) < baseline[phase]


def test_shaming_speeds_the_spiral_where_attention_is_scarce() -> None:
    """Shaming adds salience and campaign intensity: it matters most when the network's attention
    is rationed (with a lone country the campaign already saturates)."""
    d = load_scenario("stylised").model_dump(mode="json")
    d["parameters"]["attention_capacity"] = 0.5
    base = simulate(Scenario.model_validate(d), replicates=N, seed=21)
    d["levers"] = [{"kind": "naming_and_shaming", "start": 1970, "end": 2000, "strength": 0.8}]
    shamed = simulate(Scenario.model_validate(d), replicates=N, seed=21)
    for phase in (3, 4):
        earlier = np.nanmean(P.first_year(base, phase)) - np.nanmean(P.first_year(shamed, phase))
        assert earlier >= 1.0


def test_withdrawing_pressure_slows_it(baseline: dict[int, float]) -> None:
    lever = {"kind": "withdraw_pressure", "start": 1970, "end": 2000, "strength": 1.0}
    assert _mean_year_of(3, [lever]) > baseline[3]


def test_levers_outside_their_window_change_nothing() -> None:
    d = load_scenario("stylised").model_dump(mode="json")
    base = simulate(Scenario.model_validate(d), replicates=32, seed=2)
    d["levers"] = [{"kind": "bilateral_pressure", "start": 2040, "end": 2050, "strength": 1.0}]
    d["end"] = 2030
    late = simulate(Scenario.model_validate(d), replicates=32, seed=2)
    assert np.array_equal(base.records, late.records)
