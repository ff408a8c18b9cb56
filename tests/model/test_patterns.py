"""P1-P12: the patterns the model must reproduce, each with an ablation twin.

Every test runs a seeded ensemble and checks a statistic against the threshold stated and
justified in docs/model.md ("Patterns"); its twin switches the responsible mechanism off and
shows the pattern vanish or reverse. Ensembles are small enough to keep the file under a minute;
the thresholds leave room for Monte Carlo error at these sizes (see the docs for the figures).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from spirallab import Scenario, simulate
from spirallab.experiments import patterns as P
from spirallab.model.engine import OBSERVABLES
from spirallab.scenarios.load import load_scenario

N = 400


def variant(
    sc: Scenario,
    mechanisms: dict[str, bool] | None = None,
    country: dict[str, Any] | None = None,
    **top: Any,
) -> Scenario:
    """A copy of a scenario with some mechanisms, country fields or top-level keys changed."""
    d = sc.model_dump(mode="json")
    if mechanisms:
        d["mechanisms"].update(mechanisms)
    if country:
        d["countries"] = [dict(c, **country) for c in d["countries"]]
    # Parameters are merged, so a scenario's own values (stylised's capacity) are kept.
    d["parameters"].update(top.pop("parameters", {}))
    d.update(top)
    return Scenario.model_validate(d)


@pytest.fixture(scope="module")
def stylised() -> Scenario:
    return load_scenario("stylised")


@pytest.fixture(scope="module")
def book() -> Scenario:
    return load_scenario("book-eleven")


@pytest.fixture(scope="module")
def book_run(book: Scenario) -> Any:
    return simulate(book, replicates=200, seed=11)


# P1 ------------------------------------------------------------------------------------------
def test_p1_denial_comes_first(stylised: Scenario) -> None:
    assert P.share_through_denial(simulate(stylised, replicates=N, seed=1)) >= 0.9


def test_p1_twin_without_denial_states_skip_it(stylised: Scenario) -> None:
    r = simulate(variant(stylised, {"denial": False}), replicates=N, seed=1)
    assert P.share_through_denial(r) < 0.5


# P2 ------------------------------------------------------------------------------------------
def test_p2_denial_is_the_hardest_step(book_run: Any) -> None:
    rep, den, con = (np.median(P.years_in_phase_before(book_run, k, 4)) for k in (1, 2, 3))
    assert den > rep and den > con


def test_p2_twin_without_denial(book: Scenario) -> None:
    r = simulate(variant(book, {"denial": False}), replicates=200, seed=11)
    rep, den, con = (np.median(P.years_in_phase_before(r, k, 4)) for k in (1, 2, 3))
    assert not (den > rep and den > con)


# P3 ------------------------------------------------------------------------------------------
def test_p3_concessions_are_precarious(book_run: Any) -> None:
    rates = P.backslide_rates(book_run)
    assert rates[3] > 0
    assert rates[3] == max(rates.values())


def test_p3_twin_without_backsliding(book: Scenario) -> None:
    rates = P.backslide_rates(
        simulate(variant(book, {"backsliding": False}), replicates=200, seed=11)
    )
    assert rates[3] == 0.0
    assert rates[3] < max(rates.values()) or max(rates.values()) == 0.0


# P4 ------------------------------------------------------------------------------------------
def _early_late(sc: Scenario, mechanisms: dict[str, bool] | None = None) -> tuple[float, float]:
    early = simulate(variant(sc, mechanisms, {"start": 1965}), replicates=N, seed=4)
    late = simulate(variant(sc, mechanisms, {"start": 1990}), replicates=N, seed=4)
    return (
        float(np.nanmedian(P.years_to_phase(early, 4))),
        float(np.nanmedian(P.years_to_phase(late, 4))),
    )


def test_p4_world_time_speeds_later_cases(stylised: Scenario) -> None:
    early, late = _early_late(stylised)
    assert late <= early - 3


def test_p4_twin_without_world_time(stylised: Scenario) -> None:
    early, late = _early_late(stylised, {"world_time": False})
    assert abs(late - early) <= 1


# P5 ------------------------------------------------------------------------------------------
def _denial_years(
    sc: Scenario, mechanisms: dict[str, bool] | None = None, insurgency: bool = False
) -> float:
    country = {"insurgency": [[1970, 2000]]} if insurgency else None
    r = simulate(variant(sc, mechanisms, country), replicates=N, seed=5)
    return float(P.years_in_phase_before(r, 2, 3).mean())


def test_p5_insurgency_prolongs_denial(stylised: Scenario) -> None:
    assert _denial_years(stylised, insurgency=True) >= 1.5 * _denial_years(stylised)


def test_p5_twin_without_insurgency_threat(stylised: Scenario) -> None:
    off = {"insurgency_threat": False}
    # Same seed, same draws: with the mechanism off the insurgency changes nothing at all.
    assert _denial_years(stylised, off, insurgency=True) == _denial_years(stylised, off)


# P6 ------------------------------------------------------------------------------------------
INVULNERABLE = {"material_vulnerability": 0.0, "social_vulnerability": 0.0}


def test_p6_invulnerable_states_stay_in_denial(stylised: Scenario) -> None:
    r = simulate(variant(stylised, country=INVULNERABLE), replicates=N, seed=6)
    assert P.share_leaving_denial_within(r, 30) <= 0.1


def test_p6_twin_without_vulnerability(stylised: Scenario) -> None:
    r = simulate(variant(stylised, {"vulnerability": False}, INVULNERABLE), replicates=N, seed=6)
    assert P.share_leaving_denial_within(r, 30) >= 0.5


# P7 ------------------------------------------------------------------------------------------
WITHDRAW_IN_3 = [
    {"kind": "withdraw_pressure", "start": 1970, "end": 2030, "strength": 1.0, "phases": [3]}
]


def _returns(sc: Scenario, mechanisms: dict[str, bool] | None, withdraw: bool) -> float:
    s = variant(sc, mechanisms, levers=WITHDRAW_IN_3 if withdraw else [])
    return P.returns_to_repression_from_concessions(simulate(s, replicates=N, seed=7))


def test_p7_withdrawal_during_concessions_brings_back_repression(stylised: Scenario) -> None:
    assert _returns(stylised, None, True) >= _returns(stylised, None, False) + 0.05


def test_p7_twin_without_backsliding(stylised: Scenario) -> None:
    off = {"backsliding": False}
    assert _returns(stylised, off, True) == _returns(stylised, off, False) == 0.0


# P8 ------------------------------------------------------------------------------------------
CRACKDOWN_IN_3 = [
    {"kind": "imposed_crackdown", "start": 1970, "end": 2030, "strength": 0.5, "phases": [3]}
]


def _decapitation(
    sc: Scenario, mechanisms: dict[str, bool] | None = None
) -> tuple[float, float, float]:
    base = simulate(variant(sc, mechanisms), replicates=N, seed=8)
    hit = simulate(variant(sc, mechanisms, levers=CRACKDOWN_IN_3), replicates=N, seed=8)
    f0, f1 = P.first_year(base, 4), P.first_year(hit, 4)
    # Mean, not median: a median of whole years moves in steps of half a year (issue 10).
    delay = float(np.nanmean(f1) - np.nanmean(f0))
    return delay, float(np.mean(~np.isnan(f0))), float(np.mean(~np.isnan(f1)))


def test_p8_decapitation_delays_but_rarely_stops(stylised: Scenario) -> None:
    delay, share0, share1 = _decapitation(stylised)
    assert delay >= 1.5
    assert share0 - share1 <= 0.05


def test_p8_twin_without_decapitation(stylised: Scenario) -> None:
    delay, _, _ = _decapitation(stylised, {"decapitation": False})
    assert delay < 1


# P9 ------------------------------------------------------------------------------------------
def _pincer(sc: Scenario, mechanisms: dict[str, bool] | None = None) -> dict[str, float]:
    start = {"start": 1990, "initial_phase": 4}
    runs = {
        "both": variant(sc, mechanisms, start),
        "above only": variant(
            sc, mechanisms, {**start, "civil_society": 0.05, "mobilisation": 0.02}
        ),
        "below only": variant(
            sc,
            mechanisms,
            start,
            levers=[{"kind": "withdraw_pressure", "start": 1990, "end": 2030, "strength": 1.0}],
        ),
    }
    return {
        k: float(np.mean(~np.isnan(P.first_year(simulate(s, replicates=N, seed=9), 5))))
        for k, s in runs.items()
    }


def test_p9_pincer_needs_both_jaws(stylised: Scenario) -> None:
    share = _pincer(stylised)
    assert share["both"] >= 0.6
    assert share["above only"] <= 0.2
    assert share["below only"] <= 0.2


def test_p9_twin_without_pincer_one_jaw_suffices(stylised: Scenario) -> None:
    share = _pincer(stylised, {"pincer": False})
    assert max(share["above only"], share["below only"]) >= 0.5


# P10 -----------------------------------------------------------------------------------------
def test_p10_attention_fades(book_run: Any) -> None:
    by_phase = P.mean_by_phase(book_run, "attention")
    engaged = min(by_phase[2], by_phase[3])
    assert by_phase[5] < 0.5 * engaged
    assert P.attention_endemic_only(book_run) < 0.5 * engaged


def test_p10_twin_without_attention_fading(book: Scenario) -> None:
    r = simulate(variant(book, {"attention_fading": False}), replicates=200, seed=11)
    by_phase = P.mean_by_phase(r, "attention")
    assert by_phase[5] >= 0.8 * min(by_phase[2], by_phase[3])


# P11 ---------------------------------------------------------------------------------------------
# An empty promise is a ratification where society cannot pull the treaty's hook: Ruritania with
# no civil society to speak of (0.05, as P9's "above only"); the mobilised case is Ruritania as
# it is. (Before issue 10 the two contexts were told apart within one run by the state at
# ratification; since no core treaty can be ratified before CAT opened (1984), ratifications in
# denial come late, just before the society mobilises, and that split no longer isolates them.)
NO_CIVIL_SOCIETY = {"civil_society": 0.05, "mobilisation": 0.02}


def _ratification_effect(
    sc: Scenario, mechanisms: dict[str, bool] | None = None, lag: int = 5
) -> tuple[float, int]:
    """Paired effect of ratifying on repression ``lag`` years later, and the number of cases.

    The same seed is run with ratification possible and impossible; because every run draws the
    same random numbers, the difference for a country-replicate is the effect of its ratification
    (common random numbers).
    """
    with_r = simulate(variant(sc, mechanisms), replicates=N, seed=12)
    no_r = simulate(
        variant(
            sc, mechanisms, parameters={"ratification_rate": 0.0, "tactical_ratification_rate": 0.0}
        ),
        replicates=N,
        seed=12,
    )
    ratified = with_r.array("ratified_core")
    rep_a, rep_b = with_r.array("repression"), no_r.array("repression")
    first = (ratified > 0).argmax(axis=0)  # (countries, replicates)
    ok = (ratified > 0).any(axis=0) & (first + lag < ratified.shape[0]) & (first > 0)
    c, r = np.nonzero(ok)
    t = first[c, r]
    effect = rep_a[t + lag, c, r] - rep_b[t + lag, c, r]
    return float(effect.mean()), int(ok.sum())


def test_p11_empty_promises(stylised: Scenario) -> None:
    empty, n_empty = _ratification_effect(variant(stylised, country=NO_CIVIL_SOCIETY))
    mobilised, n_mobilised = _ratification_effect(stylised)
    assert n_empty >= 20 and n_mobilised >= 20
    assert abs(empty) <= 0.02
    assert mobilised <= -0.025
    assert mobilised < 2 * empty


def test_p11_twin_without_treaty_leverage(stylised: Scenario) -> None:
    mobilised, _ = _ratification_effect(stylised, {"treaty_leverage": False})
    assert abs(mobilised) <= 0.01


# P12 -----------------------------------------------------------------------------------------
def test_p12_convergence_in_world_time(book_run: Any) -> None:
    conv = P.convergence(book_run)
    assert 1984 <= conv["median_year"] <= 1996
    assert conv["spread_reached"] < conv["spread_starts"]


def test_p12_twin_without_world_time(book: Scenario) -> None:
    conv = P.convergence(simulate(variant(book, {"world_time": False}), replicates=200, seed=11))
    assert not (
        1984 <= conv["median_year"] <= 1996 and conv["spread_reached"] < conv["spread_starts"]
    )


def test_observables_cover_the_entities() -> None:
    for name in (
        "repression_political",
        "repression_endemic",
        "entrapment",
        "institutions",
        "legitimacy",
        "mobilisation",
        "fear",
        "key_leaders",
        "linkage",
        "information",
        "attention",
        "campaign",
        "pressure_above",
        "pressure_below",
    ):
        assert name in OBSERVABLES
