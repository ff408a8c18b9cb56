"""The persistent observation models of the forecast: PTS deviation and sticky coded phase.

Each persistence pattern is shown, and shown to vanish when its persistence is switched off
(rho = 0, stay = 0). The deviation's parameters are recovered from data simulated at known
values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spirallab.confront.forecast import estimate_deviation, estimate_stay
from spirallab.confront.observation import (
    PhaseStickiness,
    PtsDeviation,
    phase_filter,
    pts_filter,
)


def _one_step(dev: PtsDeviation, mean: float, levels: list[float]) -> np.ndarray:
    """P(next level) for one country and one particle at a constant latent mean."""
    t = len(levels)
    m = np.full((t, 1, 1), mean)
    state = pts_filter(m, np.array(levels)[:, None], np.ones((t, 1), dtype=bool), dev)
    b = state.belief[0, 0] @ dev.transition()
    out: np.ndarray = b @ dev.level_probabilities(np.array(mean))
    return out


def test_grid_pieces_are_probabilities() -> None:
    dev = PtsDeviation(rho=0.9, sd=0.7, noise=0.3)
    assert np.allclose(dev.transition().sum(axis=1), 1.0)
    # The stationary distribution is (nearly) invariant under the transition.
    pi = dev.stationary()
    assert np.abs(pi @ dev.transition() - pi).max() < 0.01
    probs = dev.level_probabilities(np.array([2.0, 4.2]))
    assert probs.shape == (2, dev.grid, 5)
    assert np.allclose(probs.sum(axis=-1), 1.0)
    like = dev.level_likelihood(np.array([2.0, 4.2]), np.array([1, 5]))
    assert np.allclose(like, probs[np.arange(2)[:, None], np.arange(dev.grid), [[0], [4]]])


def test_a_persistent_deviation_carries_the_last_level_and_vanishes_without_rho() -> None:
    # The model says 3; the source has said 5 for six years.
    sticky = _one_step(PtsDeviation(rho=0.95, sd=1.0, noise=0.3), 3.0, [5.0] * 6)
    assert sticky.argmax() == 4 and sticky[4] > 0.6
    # Without persistence the history says nothing about next year: the model's 3 is the mode.
    forgetful = _one_step(PtsDeviation(rho=0.0, sd=1.0, noise=0.3), 3.0, [5.0] * 6)
    assert forgetful.argmax() == 2
    stationary = PtsDeviation(rho=0.0, sd=1.0, noise=0.3).stationary()
    assert np.allclose(
        forgetful, stationary @ PtsDeviation(rho=0.0, sd=1.0, noise=0.3).level_probabilities(3.0),
        atol=1e-6,
    )


def test_the_last_level_fades_at_rate_rho() -> None:
    dev = PtsDeviation(rho=0.8, sd=1.0, noise=0.3)
    state = pts_filter(np.full((4, 1, 1), 3.0), np.full((4, 1), 5.0), np.ones((4, 1), bool), dev)
    mean_d = []
    b = state.belief[0, 0]
    for _ in range(4):
        b = b @ dev.transition()
        mean_d.append(float(b @ dev.nodes()))
    ratios = np.array(mean_d[1:]) / np.array(mean_d[:-1])
    assert np.allclose(ratios, 0.8, atol=0.02)


def test_a_year_that_is_not_evidence_moves_the_state_but_weighs_nothing() -> None:
    dev = PtsDeviation(rho=0.9, sd=1.0, noise=0.3)
    m = np.full((3, 1, 2), 3.0)
    m[:, 0, 1] = 1.0  # a second particle far from what is seen
    levels = np.array([[5.0], [np.nan], [5.0]])
    on = pts_filter(m, levels, np.ones((3, 1), bool), dev)
    off = pts_filter(m, levels, np.array([[False], [True], [True]]), dev)
    assert np.allclose(on.belief, off.belief)
    assert (off.loglik > on.loglik).all()


def test_deviation_parameters_are_recovered() -> None:
    rng = np.random.default_rng(3)
    truth = PtsDeviation(rho=0.85, sd=0.9, noise=0.3)
    n_c, t = 300, 14
    mean = rng.uniform(1.5, 4.5, n_c)
    d = rng.normal(0, truth.sd, n_c)
    levels = np.empty((t, n_c))
    for y in range(t):
        if y:
            d = truth.rho * d + rng.normal(0, truth.sd * math.sqrt(1 - truth.rho**2), n_c)
        latent = mean + d + rng.normal(0, truth.noise, n_c)
        levels[y] = np.clip(np.rint(latent), 1, 5)
    m = np.broadcast_to(mean[None, :, None], (t, n_c, 1)).copy()
    evidence = np.ones((t, n_c), dtype=bool)

    def fit(dev: PtsDeviation) -> float:
        return float(pts_filter(m, levels, evidence, dev).loglik.sum())

    est = estimate_deviation(fit)
    assert est.rho == pytest.approx(truth.rho, abs=0.08)
    assert est.sd == pytest.approx(truth.sd, abs=0.25)
    # The control without persistence holds rho at 0 and fits worse.
    control = estimate_deviation(fit, persistent=False)
    assert control.rho == 0.0 and fit(control) < fit(est) - 100


CODING = np.array(
    [
        [0.6, 0.3, 0.1, 0.0, 0.0],
        [0.2, 0.6, 0.2, 0.0, 0.0],
        [0.0, 0.2, 0.6, 0.2, 0.0],
        [0.0, 0.0, 0.2, 0.6, 0.2],
        [0.0, 0.0, 0.1, 0.3, 0.6],
    ]
)


def test_sticky_phase_by_hand_and_without_stickiness() -> None:
    phase = np.array([[[1]], [[5]]])  # (T, C, N): the model moves from phase 1 to 5
    coded = np.array([[[1.0, 0, 0, 0, 0]], [[0.5, 0.5, 0, 0, 0]]])
    evidence = np.array([[False], [True]])
    state = phase_filter(phase, coded, evidence, PhaseStickiness(0.7, CODING))
    # Year 2's forecast: 0.7 * (1, 0, 0, 0, 0) + 0.3 * coding[5], floored at 0.001 per level.
    f = 0.7 * np.array([1.0, 0, 0, 0, 0]) + 0.3 * CODING[4]
    f = (f * 0.995 + 0.001) / (f * 0.995 + 0.001).sum()
    assert state.loglik[0, 0] == pytest.approx(0.5 * math.log(f[0]) + 0.5 * math.log(f[1]))
    # The coded year sets the state.
    assert np.allclose(state.belief[0, 0], [0.5, 0.5, 0, 0, 0])
    # One more year at model phase 5: with stickiness the coded phase stays low ...
    sticky = PhaseStickiness(0.9, CODING).step(state.belief, np.array([[5]]))
    assert sticky[0, 0, :2].sum() > 0.85
    # ... and without it the forecast is the coding of the model's phase alone.
    loose = PhaseStickiness(0.0, CODING).step(state.belief, np.array([[5]]))
    assert np.allclose(loose[0, 0], CODING[4])


def test_stickiness_is_recovered() -> None:
    rng = np.random.default_rng(5)
    stay, n_c, t = 0.8, 400, 12
    phase = rng.integers(1, 6, size=(t, n_c, 1))
    coded = np.zeros((t, n_c, 5))
    current = np.array([rng.choice(5, p=CODING[k - 1]) for k in phase[0, :, 0]])
    for y in range(t):
        if y:
            move = rng.random(n_c) >= stay
            new = np.array([rng.choice(5, p=CODING[k - 1]) for k in phase[y, :, 0]])
            current = np.where(move, new, current)
        coded[y, np.arange(n_c), current] = 1.0
    evidence = np.ones((t, n_c), dtype=bool)

    def fit(s: float) -> float:
        return float(phase_filter(phase, coded, evidence, PhaseStickiness(s, CODING)).loglik.sum())

    est = estimate_stay(fit)
    assert est == pytest.approx(stay, abs=0.05)
