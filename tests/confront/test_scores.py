"""Scoring rules and baselines against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spirallab.confront.baselines import (
    change_distribution,
    climatology,
    persistence,
    transition_matrix,
)
from spirallab.confront.observation import pts_probabilities
from spirallab.confront.record import phase_probabilities
from spirallab.confront.score import brier, log_score, rps

F = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
O3 = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
O5 = np.array([0.0, 0.0, 0.0, 0.0, 1.0])


def test_log_score_by_hand() -> None:
    assert log_score(F, O3) == pytest.approx(math.log(0.4))
    assert log_score(F, O5) == pytest.approx(math.log(0.1))
    # An uncertain outcome (coded "4|5") is scored by its expectation.
    assert log_score(F, np.array([0, 0, 0, 0.5, 0.5])) == pytest.approx(
        0.5 * math.log(0.2) + 0.5 * math.log(0.1)
    )


def test_brier_by_hand() -> None:
    # (0.1^2 + 0.2^2 + 0.6^2 + 0.2^2 + 0.1^2) = 0.01 + 0.04 + 0.36 + 0.04 + 0.01
    assert brier(F, O3) == pytest.approx(0.46)
    assert brier(O3, O3) == 0.0
    assert brier(O5, O3) == pytest.approx(2.0)


def test_rps_by_hand() -> None:
    # F cumulative 0.1 0.3 0.7 0.9; O3 cumulative 0 0 1 1 -> (0.01 + 0.09 + 0.09 + 0.01) / 4
    assert rps(F, O3) == pytest.approx(0.05)
    # O5 cumulative 0 0 0 0 -> (0.01 + 0.09 + 0.49 + 0.81) / 4
    assert rps(F, O5) == pytest.approx(0.35)
    # A forecast one level off is penalised less than one four levels off (ordinal).
    one_off = np.array([0, 1.0, 0, 0, 0])
    far_off = np.array([0, 0, 0, 0, 1.0])
    o1 = np.array([1.0, 0, 0, 0, 0])
    assert rps(one_off, o1) == pytest.approx(0.25)
    assert rps(far_off, o1) == pytest.approx(1.0)


def test_scores_vectorise_over_rows() -> None:
    f = np.stack([F, F])
    o = np.stack([O3, O5])
    assert np.allclose(log_score(f, o), [math.log(0.4), math.log(0.1)])


def _onehot(levels: list[list[float]]) -> np.ndarray:
    """(years, countries) levels -> (years, countries, 5); NaN stays missing."""
    arr = np.array(levels, dtype=np.float64)
    out = np.full((*arr.shape, 5), np.nan)
    ok = ~np.isnan(arr)
    out[ok] = 0.0
    yi, ci = np.nonzero(ok)
    out[yi, ci, arr[ok].astype(int) - 1] = 1.0
    return out


def test_persistence_by_hand() -> None:
    # One country: 3, 3, 4, 4 -> one-year changes 0, +1, 0: P(0) = 2/3, P(+1) = 1/3.
    h = _onehot([[3], [3], [4], [4]])
    change = change_distribution(h[:, 0:1], 1)
    assert change[4] == pytest.approx(2 / 3) and change[5] == pytest.approx(1 / 3)
    # From level 5 a rise is clipped at 5.
    f = persistence(np.eye(5)[4], change)
    assert f[4] == pytest.approx(1.0)
    f = persistence(np.eye(5)[2], change)
    assert f[2] == pytest.approx(2 / 3) and f[3] == pytest.approx(1 / 3)


def test_markov_by_hand() -> None:
    # Transitions 1->1, 1->2, 2->2: counts + 0.5 smoothing.
    h = _onehot([[1], [1], [2], [2]])
    m, n = transition_matrix(h)
    assert n == 3
    assert m[0, 0] == pytest.approx(1.5 / 4.5) and m[0, 1] == pytest.approx(1.5 / 4.5)
    assert m[1, 1] == pytest.approx(1.5 / 3.5)
    assert np.allclose(m.sum(axis=1), 1.0)
    two = np.linalg.matrix_power(m, 2)
    assert two[0, 1] == pytest.approx(m[0, 0] * m[0, 1] + m[0, 1] * m[1, 1] + sum(
        m[0, k] * m[k, 1] for k in range(2, 5)))


def test_climatology_ignores_missing() -> None:
    h = _onehot([[1, float("nan")], [2, 2]])
    assert np.allclose(climatology(h), [1 / 3, 2 / 3, 0, 0, 0])


def test_pts_observation_model() -> None:
    p = pts_probabilities(np.array([0.0, 0.5, 1.0]), 0.5)
    assert np.allclose(p.sum(axis=-1), 1.0)
    assert p[0].argmax() == 0 and p[1].argmax() == 2 and p[2].argmax() == 4
    # Less noise, sharper: P(level 3 | repression 0.5) rises as the noise falls.
    assert pts_probabilities(0.5, 0.2)[2] > pts_probabilities(0.5, 1.0)[2]
    # A source bias of +1 moves the mode one level up.
    assert pts_probabilities(0.5, 0.3, bias=1.0).argmax() == 3


def test_phase_probabilities_from_sets_and_from_coder_columns() -> None:
    coded = pd.DataFrame({"phase_set": ["1|2", "3", "", "4|5"]})
    p = phase_probabilities(coded)
    assert np.allclose(p.iloc[0], [0.5, 0.5, 0, 0, 0])
    assert np.allclose(p.iloc[1], [0, 0, 1, 0, 0])
    assert p.iloc[2].isna().all()
    # Coder 2.0.0 columns win over the set when present.
    coded = coded.assign(p1=[0.7, 0, np.nan, 0], p2=[0.3, 0, np.nan, 0], p3=[0, 1, np.nan, 0],
                         p4=[0, 0, np.nan, 0.2], p5=[0, 0, np.nan, 0.8])
    p = phase_probabilities(coded)
    assert np.allclose(p.iloc[0], [0.7, 0.3, 0, 0, 0])
    assert np.allclose(p.iloc[3], [0, 0, 0, 0.2, 0.8])
    assert p.iloc[2].isna().all()
