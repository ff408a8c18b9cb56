"""Issue 10's model changes: what the coded record showed wrong, each fix with its twin.

- attention capacity is per country (size-invariant);
- no core treaty is ratified before both conventions were open; observed ratifications start
  the state;
- a country drops off the agenda without fresh information, and a denying government then
  falls silent;
- prescriptive status no longer sets practice by itself (decoupling, 003);
- an insurgency can roll prescriptive status back.
"""

from __future__ import annotations

from typing import Any

import pytest

from spirallab import Scenario, simulate
from spirallab.errors import InputError
from spirallab.model.worldtime import CORE_OPEN_AFTER, TREATY_OPENED

COUNTRY: dict[str, Any] = {
    "name": "Ruritania",
    "start": 1970,
    "repression": 0.85,
    "endemic_abuse": 0.5,
    "civil_society": 0.7,
}


def world(n: int, parameters: dict[str, float] | None = None, **country: Any) -> Scenario:
    """``n`` identical countries."""
    members = [{**COUNTRY, **country, "id": f"C{i}", "name": f"Copy {i}"} for i in range(n)]
    return Scenario.model_validate(
        {"name": "copies", "end": 2010, "countries": members, "parameters": parameters or {}}
    )


def test_attention_capacity_is_per_country() -> None:
    # Identical countries get the same share of attention however many there are, because
    # capacity grows with the number of countries; an absolute capacity (the same number of
    # campaigns for both worlds) would ration the larger world four times harder.
    small = simulate(world(3), replicates=64, seed=3).array("attention").mean()
    large = simulate(world(12), replicates=64, seed=3).array("attention").mean()
    assert abs(small - large) <= 0.1 * small
    absolute = simulate(world(12, {"attention_capacity": 0.25 * 3 / 12}), replicates=64, seed=3)
    assert absolute.array("attention").mean() < 0.7 * small


def test_no_core_ratification_before_the_treaties_opened() -> None:
    sc = world(4, {"tactical_ratification_rate": 3.0, "ratification_rate": 3.0})
    r = simulate(sc, replicates=64, seed=5)
    ratified = r.array("ratified_core")
    years = r.years
    assert ratified[years <= CORE_OPEN_AFTER].max() == 0.0
    # The gate is what stops them: at these rates nearly every country ratifies soon after.
    assert ratified[years == CORE_OPEN_AFTER + 5].mean() >= 0.9


def test_observed_ratifications_start_the_state() -> None:
    both = {"iccpr": 1968, "cat": 1986}
    sc = world(2, start=1990, initial_phase=2, ratified=both)
    r = simulate(sc, replicates=8, seed=1, observables=["ratified_core"])
    assert r.array("ratified_core")[0].min() == 1.0
    # Only one of the two: not ratified_core; absent: phase 4-5 only, as before.
    one = simulate(world(2, start=1990, initial_phase=2, ratified={"iccpr": 1968}), replicates=8,
                   seed=1, observables=["ratified_core"])
    assert one.array("ratified_core")[0].max() == 0.0
    none = simulate(world(2, start=1990, initial_phase=4, ratified={}), replicates=8, seed=1,
                    observables=["ratified_core"])
    assert none.array("ratified_core")[0].max() == 0.0
    default = simulate(world(2, start=1990, initial_phase=4), replicates=8, seed=1,
                       observables=["ratified_core"])
    assert default.array("ratified_core")[0].min() == 1.0


@pytest.mark.parametrize(
    ("ratified", "message"),
    [
        ({"cat": 1995}, "after the country's start"),
        ({"cat": 1980}, "before the treaty opened"),
        ({"icescr": 1980}, "ratified"),
    ],
)
def test_bad_ratifications_are_refused(ratified: dict[str, int], message: str) -> None:
    with pytest.raises((InputError, ValueError), match=message):
        world(1, start=1990, ratified=ratified)
    assert TREATY_OPENED["cat"] == 1984


def _agenda_falls(memory: float) -> tuple[float, float]:
    # A repressive state with no domestic links: what monitors learn decays fast.
    sc = world(
        3,
        {"agenda_memory": memory, "information_decay": 0.6, "massacre_information": 0.9},
        linkage=0.0,
        civil_society=0.05,
    )
    r = simulate(sc, replicates=64, seed=7, observables=["phase", "on_agenda"])
    ph = r.array("phase")
    falls = ((ph[1:] == 1) & (ph[:-1] == 2)).mean()
    off = (r.array("on_agenda")[1:] < r.array("on_agenda")[:-1]).mean()
    return float(falls), float(off)


def test_without_information_a_country_drops_off_the_agenda() -> None:
    falls, off = _agenda_falls(0.9)
    assert off > 0.0 and falls > 0.0
    # Twin: with no agenda memory (the model before issue 10) the agenda is for ever.
    assert _agenda_falls(0.0) == (0.0, 0.0)


def _practice_after_acceptance(commitment: float, **country: Any) -> float:
    sc = world(3, {"commitment_practice": commitment}, start=1990, initial_phase=4, **country)
    r = simulate(sc, replicates=64, seed=9, observables=["repression_political", "stance"])
    pol, stance = r.array("repression_political"), r.array("stance")
    return float(pol[5:][stance[5:] == 4].mean())


def test_commitment_alone_does_not_set_practice() -> None:
    # Without pressure from below (no civil society) a state with prescriptive status keeps
    # much of its repression (decoupling, 003); with commitment_practice 1 (the old rule) its
    # practice falls to political_floor whatever the pressure.
    decoupled = _practice_after_acceptance(0.2, civil_society=0.05, mobilisation=0.02)
    coupled = _practice_after_acceptance(1.0, civil_society=0.05, mobilisation=0.02)
    assert coupled <= 0.15
    assert decoupled >= coupled + 0.2


def _rollbacks(rate: float, spell: list[list[int | None]]) -> float:
    sc = world(4, {"insurgency_retreat": rate}, start=1990, initial_phase=4, insurgency=spell)
    r = simulate(sc, replicates=64, seed=13, observables=["phase"])
    ph = r.array("phase")
    return float(((ph[1:] < ph[:-1]) & (ph[:-1] == 4)).mean())


def test_an_insurgency_rolls_prescriptive_status_back() -> None:
    at_war = _rollbacks(0.5, [[1990, None]])
    assert at_war > 2 * _rollbacks(0.5, [])
    # Twin: at rate 0 the insurgency adds next to nothing (it still slows re-entry, P5).
    calm = _rollbacks(0.0, [])
    assert abs(_rollbacks(0.0, [[1990, None]]) - calm) <= 0.25 * calm
    assert at_war > 4 * calm


def _on_agenda_share(mechanisms: dict[str, bool]) -> float:
    # Information alone never reaches a threshold this high for a country without links.
    sc = world(3, {"agenda_threshold": 0.95, "massacre_rate": 0.5}, linkage=0.0,
               civil_society=0.05, repression=0.95)
    d = sc.model_dump(mode="json")
    d["mechanisms"].update(mechanisms)
    r = simulate(Scenario.model_validate(d), replicates=32, seed=17, observables=["on_agenda"])
    return float(r.array("on_agenda")[-1].mean())


def test_an_egregious_event_puts_a_country_on_the_agenda() -> None:
    assert _on_agenda_share({}) >= 0.5
    # Twin: without egregious events the information never gets there.
    assert _on_agenda_share({"egregious_events": False}) == 0.0


# --- Issue 10, third round: repression against the record (docs/model.md section 12) ---


def _denial_practice(backlash: float) -> float:
    # Ruritania on the agenda from the start, denying, with little domestic movement: the
    # mobilisation-driven hunt (denial_repression) adds next to nothing here.
    sc = world(3, {"backlash_repression": backlash, "concession_rate": 0.0}, start=1990,
               initial_phase=2, repression=0.3, civil_society=0.1, mobilisation=0.01)
    r = simulate(sc, replicates=64, seed=21, observables=["repression_political", "stance"])
    pol, stance = r.array("repression_political"), r.array("stance")
    return float(pol[5:][stance[5:] == 1].mean())


def test_a_denying_state_answers_criticism_with_repression() -> None:
    neutral = _denial_practice(0.0)
    assert _denial_practice(0.6) >= neutral + 0.05
    # Twin: at 0 a denying state keeps about its own level (0.3) with no movement to hunt.
    assert abs(neutral - 0.3) <= 0.03


def _practice_at_war(threat: float, spell: list[list[int | None]]) -> float:
    sc = world(3, {"insurgency_repression": threat, "concession_rate": 0.0}, start=1990,
               initial_phase=1, repression=0.3, insurgency=spell)
    r = simulate(sc, replicates=32, seed=23, observables=["repression_political"])
    return float(r.array("repression_political")[5:].mean())


def test_an_insurgency_raises_repression() -> None:
    war = [[1990, None]]
    assert _practice_at_war(0.5, war) >= _practice_at_war(0.5, []) + 0.1
    # Twin: at 0 the insurgency leaves practice where it was.
    assert abs(_practice_at_war(0.0, war) - _practice_at_war(0.0, [])) <= 1e-6
