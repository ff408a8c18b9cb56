"""A world from data starts at its observed practice (``Scenario.observed_start``; issue 10).

The scenario's repression is then the practice the record shows, not the government's
preference: every phase starts there, and the preferred level is inferred so that the starting
practice is the target of the starting state. The twin (``observed_start`` off, the synthetic
scenarios' reading) starts conceding and accepting states below their given repression and
lets denying states rise above it at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from spirallab import Scenario, simulate
from spirallab.model.context import ParamSet
from spirallab.model.reference import government as ref
from spirallab.model.setup import build_setup, initial_state
from spirallab.scenarios.load import load_scenario

OBSERVED = 0.5


def world(observed_start: bool, **extra: Any) -> Scenario:
    """Five countries alike but for their phase, all at the same observed repression."""
    countries = [
        {
            "id": f"P{phase}",
            "name": f"Phase {phase}",
            "start": 1980,
            "initial_phase": phase,
            "repression": OBSERVED,
            "endemic_abuse": 0.2,
            "civil_society": 0.6,
        }
        for phase in range(1, 6)
    ]
    return Scenario.model_validate(
        {
            "name": "observed",
            "start": 1980,
            "end": 1990,
            "seed": 3,
            "replicates": 64,
            "observed_start": observed_start,
            "countries": countries,
            **extra,
        }
    )


def political(result: Any) -> np.ndarray:
    return np.asarray(result.array("repression_political"))  # (years, countries, replicates)


def test_every_phase_starts_at_its_observed_practice() -> None:
    got = political(simulate(world(True)))[0]
    assert np.all(got == np.float32(OBSERVED))
    twin = political(simulate(world(False)))[0].mean(axis=1)
    # Off, the scenario's value is the preference: phases 3-5 start below it.
    assert np.all(twin[2:] < OBSERVED - 0.05)
    assert np.allclose(twin[:2], OBSERVED)


def inferred(scenario: Scenario, replicates: int) -> tuple[Any, ParamSet, Any, Any]:
    """The setup, its parameters, and the inferred preference with its starting target."""
    setup = build_setup(scenario)
    s = initial_state(setup, replicates)
    p = ParamSet(setup.params)
    insurgency = np.zeros((setup.n_countries, 1), dtype=np.float32)
    preferred = ref.preferred_at_rest(s, p, setup.switches, insurgency)
    target, _, _ = ref.repression_target(
        s, p, setup.switches, preferred, insurgency, np.zeros_like(preferred)
    )
    return setup, p, preferred, target


def test_the_inferred_preference_makes_the_start_the_target() -> None:
    _, _, preferred, target = inferred(world(True), 8)
    inside = (preferred > 0) & (preferred < 1)
    # Phases 1-3 need no clipping at this practice (an accepting state this repressive would
    # need a preference above 1 at the defaults: commitment alone lowers its target).
    assert inside[:3].all()
    assert np.allclose(target[:3], OBSERVED, atol=2e-6)
    # Full habit closes phase 5's target on the floor whatever the preference: kept as observed.
    assert (preferred[4] == np.float32(OBSERVED)).all()
    # Denial's hunt is already in a denying state's practice: its preference is lower; a
    # conceding state's relief already too: its preference is higher.
    assert (preferred[1] < OBSERVED).all() and (preferred[2] > OBSERVED).all()


@pytest.mark.parametrize("phase", [2, 3, 4])
def test_the_first_years_move_less_than_the_twin(phase: int) -> None:
    """The start is at rest: what moves it after is the dynamics, not a mismatch at the start.

    Off, the first year jumps towards a target the observed practice never had (denial up,
    concessions and commitment down); on, the first-year move is much smaller.
    """
    on = political(simulate(world(True)))[:, phase - 1].mean(axis=1)
    off = political(simulate(world(False)))[:, phase - 1].mean(axis=1)
    move_on = abs(float(on[1] - OBSERVED))
    move_off = abs(float(off[1] - OBSERVED))
    assert move_on < 0.5 * move_off, (move_on, move_off)


def test_synthetic_scenarios_keep_the_preference_reading() -> None:
    assert not build_setup(world(False)).observed_start
    for name in ("world-150", "book-eleven"):
        assert load_scenario(name).observed_start is False


# --- Ninth round (issue 10): the start at rest, the movement and the preference's range ---


def test_the_movement_starts_where_its_rule_holds_it() -> None:
    """On, mobilisation and fear start at the fixed point of society.mobilise; off, they move."""
    on = simulate(world(True), observables=["mobilisation", "fear"])
    off = simulate(world(True, movement_at_rest=False), observables=["mobilisation", "fear"])
    for name in ("mobilisation", "fear"):
        a = np.asarray(on.array(name))  # (years, countries, replicates)
        b = np.asarray(off.array(name))
        # Phase 1 (off the agenda, closed space): at rest the first year hardly moves it. (On
        # the agenda attention builds up from 0 and protects the movement, which moves fear.)
        move_on = np.abs(a[1, 0] - a[0, 0]).max()
        move_off = np.abs(b[1, 0] - b[0, 0]).mean()
        assert move_on < 0.005, (name, move_on)
        assert move_off > 0.02, (name, move_off)
    # The fixed point by hand, phase 1 at the defaults: fear = political, and growth into the
    # room left equals the toll of repression.
    setup = build_setup(world(True))
    p = setup.params
    s = initial_state(setup, 1)
    pol = float(s.repression_political[0, 0])
    growth = p["mobilisation_rate"] * p["closed_space"] * (1 - pol)
    expected = growth * 0.6 / (growth + p["repression_toll"] * pol)
    assert float(s.fear[0, 0]) == pytest.approx(pol, rel=1e-6)
    assert float(s.mobilisation[0, 0]) == pytest.approx(expected, rel=1e-5)
    # Synthetic scenarios and the twin keep the scenario's values.
    assert not build_setup(world(False)).movement_at_rest
    assert not build_setup(world(True, movement_at_rest=False)).movement_at_rest


def test_a_preference_below_zero_keeps_a_threatened_start_at_rest() -> None:
    """An insurgency's threat alone can ask for more than a mild observed practice.

    The preference is then inferred below 0, where the target is the observed practice; kept
    at 0, as before the ninth round, the target would lie above it and practice would climb.
    """
    setup = build_setup(world(True))
    s = initial_state(setup, 1)
    p = ParamSet({**setup.params, "insurgency_repression": 0.5})
    mild = s.replace(preferred_repression=np.full_like(s.preferred_repression, 0.05))
    insurgency = np.ones((setup.n_countries, 1), dtype=np.float32)
    preferred = ref.preferred_at_rest(mild, p, setup.switches, insurgency)
    zero = np.zeros_like(preferred)
    target, _, _ = ref.repression_target(mild, p, setup.switches, preferred, insurgency, zero)
    at_zero, _, _ = ref.repression_target(mild, p, setup.switches, zero, insurgency, zero)
    silent = slice(0, 3)  # phases 1-3: the preference enters the target
    assert (preferred[silent] < 0).all()
    assert np.allclose(target[silent], 0.05, atol=2e-6)
    assert (at_zero[silent] > 0.05 + 0.3).all()


def test_a_threatened_start_does_not_climb_in_its_first_year() -> None:
    """The same through the engine: an insurgency from before the start, a mild practice."""
    scen = world(True, parameters={"insurgency_repression": 0.5})
    countries = [
        c.model_copy(update={"repression": 0.05, "insurgency": [(1975, None)]})
        for c in scen.countries
    ]
    got = political(simulate(scen.model_copy(update={"countries": countries})))
    # Phases 1-2 (no concession draws): the mean first-year move is small beside the 0.3 or
    # so that the threat would add to a preference held at 0 (the test above).
    first = np.abs(got[1, :2].mean(axis=1) - 0.05)
    assert (first < 0.02).all(), first


# --- Tenth round (issue 10): the floor never raises practice ---


def below_the_floor(practice: float) -> Scenario:
    scen = world(True)
    countries = [c.model_copy(update={"repression": practice}) for c in scen.countries]
    return scen.model_copy(update={"countries": countries})


@pytest.mark.parametrize("practice", [0.02, 0.08, 0.5])
def test_an_accepting_start_is_the_target_on_either_side_of_the_bend(practice: float) -> None:
    """In acceptance the target bends where the relieved preference meets the floor (0.12).

    Below the bend commitment leaves practice as it is; above it, it closes part of the way
    to the floor. The inferred preference makes the start the target on either piece.
    """
    setup, p, preferred, target = inferred(below_the_floor(practice), 4)
    relieved = preferred[3] * (1 - p.cosmetic_relief)
    assert np.allclose(target[3], practice, atol=2e-6)  # phase 4 (commitment alone)
    if practice < setup.params["political_floor"]:
        # Below the floor the target is the relieved preference itself, phase 5 too.
        assert np.allclose(relieved, practice, atol=2e-6)
        assert np.allclose(target[4], practice, atol=2e-6)
    else:
        assert (relieved > practice).all()  # commitment lowers it to the observed practice
        assert (preferred[4] == np.float32(practice)).all()  # full habit: the floor, kept


def test_rule_consistent_states_below_the_floor_stay_there() -> None:
    """Through the engine: phase 4-5 starters below the floor do not climb to it; the twin
    above the floor still falls towards it (commitment and habit still act)."""
    low = political(simulate(below_the_floor(0.04)))
    high = political(simulate(below_the_floor(0.4)))
    floor = 0.12
    for phase in (4, 5):
        first = low[1:4, phase - 1].mean(axis=1)
        assert np.abs(first - 0.04).max() < 0.01, (phase, first)
        assert low[:, phase - 1].mean() < floor - 0.05
    # Phase 5 above the floor: habit closes the target on the floor.
    assert high[-1, 4].mean() < 0.4 - 0.1
