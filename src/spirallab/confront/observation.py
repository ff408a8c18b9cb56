"""Observation models: how the model's hidden state shows up in the PTS scores and coded phases.

PTS (per source ``s``): a latent score ``1 + 4 * repression + bias_s + u_c + noise``, read as the
nearest level 1-5: ``noise`` is Gaussian, independent from year to year, with standard deviation
``pts_noise``; ``u_c`` is a country's persistent offset (how its scores sit above or below what
its modelled repression implies, for as long as it is observed), Gaussian with standard
deviation ``pts_country_sd``; both are calibrated. The ``1 + 4x``
scale is the one the scenario schema documents for repression; ``bias_s`` is each source's mean
difference from the other sources on the same country-years of the training record (Amnesty
reports tend to score a level higher than the State Department).

Coded phases: the coder gives probabilities ``p1``..``p5`` (uniform over its phase set when it
cannot tell phases apart); the likelihood of a simulated phase ``k`` is
``PHASE_SLACK / 5 + (1 - PHASE_SLACK) * p_k``, so a coding error costs a factor, not infinity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr

from spirallab.confront.record import PHASE_COLUMNS, PTS_SOURCES, as_float

F64 = npt.NDArray[np.float64]

# Share of coded phases taken to be wrong (assumption: the coder's rules are coarse).
PHASE_SLACK = 0.2
# No forecast probability is below this (a level the ensemble never visits is not impossible).
PROBABILITY_FLOOR = 1e-3


# Gauss-Hermite nodes and weights for averaging over a standard normal country offset.
_Z, _W = np.polynomial.hermite_e.hermegauss(7)
OFFSET_NODES: F64 = _Z
OFFSET_WEIGHTS: F64 = _W / _W.sum()


def pts_probabilities(repression: Any, noise: Any, bias: float = 0.0, offset: Any = 0.0) -> F64:
    """P(PTS level 1..5) for each repression value; output has a trailing axis of 5."""
    mu = 1.0 + 4.0 * np.asarray(repression, dtype=np.float64) + bias + np.asarray(offset)
    sd = np.maximum(np.asarray(noise, dtype=np.float64), 1e-6)
    cuts = np.array([1.5, 2.5, 3.5, 4.5])
    cdf = ndtr((cuts - mu[..., None]) / np.asarray(sd)[..., None])
    lower = np.concatenate([np.zeros((*cdf.shape[:-1], 1)), cdf], axis=-1)
    upper = np.concatenate([cdf, np.ones((*cdf.shape[:-1], 1))], axis=-1)
    out: F64 = np.clip(upper - lower, 0.0, 1.0)
    return out


def source_bias(observed: pd.DataFrame) -> dict[str, float]:
    """Each PTS source's mean difference from the mean of the sources on the same country-year.

    Only country-years scored by at least two sources count; a source never scored gets 0.
    """
    values = np.stack([as_float(observed[s]) for s in PTS_SOURCES], axis=1)
    n = np.sum(~np.isnan(values), axis=1)
    both = n >= 2
    out: dict[str, float] = {}
    if not both.any():
        return dict.fromkeys(PTS_SOURCES, 0.0)
    mean = np.nanmean(values[both], axis=1)
    for j, s in enumerate(PTS_SOURCES):
        d = values[both, j] - mean
        d = d[~np.isnan(d)]
        out[s] = round(float(d.mean()), 4) if len(d) else 0.0
    return out


def phase_likelihood(phase: npt.NDArray[Any], probs: F64) -> F64:
    """Likelihood of simulated phases (any shape, codes 1-5) given coded probabilities (5,)."""
    if np.isnan(probs).any():
        return np.ones(np.shape(phase))
    idx = np.clip(np.asarray(phase, dtype=np.int64) - 1, 0, 4)
    out: F64 = PHASE_SLACK / 5 + (1 - PHASE_SLACK) * probs[idx]
    return out


def coded_probabilities(row: pd.Series) -> F64:
    """The five phase probabilities of a record row (NaN if undecidable)."""
    return np.array([row[c] for c in PHASE_COLUMNS], dtype=np.float64)


def floor_probabilities(p: F64) -> F64:
    """Mix in a floor so that no level has probability below :data:`PROBABILITY_FLOOR`."""
    k = p.shape[-1]
    out: F64 = p * (1 - k * PROBABILITY_FLOOR) + PROBABILITY_FLOOR
    return out / out.sum(axis=-1, keepdims=True)
