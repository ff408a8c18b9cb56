"""Observation models: how the model's hidden state shows up in the PTS scores and coded phases.

PTS (per source ``s``): a latent score ``1 + 4 * repression + bias_s + u_c + noise``, read as the
nearest level 1-5: ``noise`` is Gaussian, independent from year to year, with standard deviation
``pts_noise``; ``u_c`` is a country's persistent offset (how its scores sit above or below what
its modelled repression implies, for as long as it is observed), Gaussian with standard
deviation ``pts_country_sd``; both are calibrated. The ``1 + 4x``
scale is the one the scenario schema documents for repression; ``bias_s`` is each source's mean
difference from the other sources on the same country-years of the training record (Amnesty
reports tend to score a level higher than the State Department).

The standard of accountability: the reports behind the PTS judge the same practice more harshly
as the years pass (more information, wider definitions of abuse; Fariss 2014, "Respect for human
rights has improved over time: modeling the changing standard of accountability", APSR 108(2)).
On the record the Fariss latent score improves by about one standard deviation from 1976 to
2012 while the world's mean PTS stays flat. The latent score therefore adds
``pts_accountability`` PTS levels per decade since the country's start
(:func:`accountability_shift`): a world from data reads each country's repression from its PTS
at its start, at that year's standard, so the shift is zero there. Calibrated; 0 is the model
without it.

Coded phases: the coder gives probabilities ``p1``..``p5`` (uniform over its phase set when it
cannot tell phases apart); the likelihood of a simulated phase ``k`` is
``PHASE_SLACK / 5 + (1 - PHASE_SLACK) * p_k``, so a coding error costs a factor, not infinity.

The forecast (forecast.py) reads both through persistent observation models, because real
scores stick to their own past beyond anything a latent trend explains:

- :class:`PtsDeviation`: per source, ``latent = 1 + 4 * repression + bias_s + d_t + e_t`` with
  ``d_t = rho * d_(t-1) + eta_t`` (AR(1), stationary standard deviation ``sd``) and ``e_t``
  independent (``noise``); ``d`` is filtered exactly on a grid (a hidden Markov chain), so a
  forecast at horizon ``h`` starts from the interval of the last observed level and forgets it
  at the rate ``rho ** h``;
- :class:`PhaseStickiness`: the coded phase keeps last year's coded phase with probability
  ``stay``, else is drawn from the coding matrix at the model's phase that year.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def accountability_shift(years: Any, starts: Any, per_decade: Any) -> F64:
    """PTS levels the stricter standard of accountability adds, (T, C) or (T, C, N).

    ``years`` (T,), ``starts`` (C,) each country's start year, ``per_decade`` a number or one
    value per particle (N,): ``per_decade * (year - start) / 10``, zero up to the start.
    """
    gap = np.asarray(years, dtype=np.float64)[:, None] - np.asarray(starts, dtype=np.float64)
    since = np.maximum(gap, 0.0) / 10.0
    rate = np.asarray(per_decade, dtype=np.float64)
    out: F64 = since * rate if rate.ndim == 0 else since[..., None] * rate[None, None, :]
    return out


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


_CUTS = np.array([-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf])


@dataclass(frozen=True)
class PtsDeviation:
    """The persistent deviation of a PTS source's latent score from the model (AR(1) + noise).

    ``rho``: year-to-year autocorrelation of the deviation (per year, 0-1); ``sd``: its
    stationary standard deviation (PTS levels); ``noise``: the standard deviation of the
    independent yearly part (PTS levels). The form is an assumption; the values are estimated
    by maximum likelihood on the training countries' history up to the origin (forecast.py).
    The deviation lives on ``grid`` nodes spanning +-4 stationary standard deviations.
    """

    rho: float = 0.8
    sd: float = 0.6
    noise: float = 0.3
    grid: int = 41

    def nodes(self) -> F64:
        out: F64 = np.linspace(-4.0, 4.0, self.grid) * self.sd
        return out

    def stationary(self) -> F64:
        """(G,) the deviation's stationary distribution on the nodes."""
        return _discretised(np.zeros(1), self.nodes(), self.sd)[0]

    def transition(self) -> F64:
        """(G, G) P(d_t = node j | d_(t-1) = node i), Tauchen's discretisation."""
        g = self.nodes()
        innovation = self.sd * np.sqrt(max(1.0 - self.rho**2, 1e-6))
        return _discretised(self.rho * g, g, innovation)

    # Both work in float32 (twice as fast, and these are the filter's cost); a probability
    # below float32's resolution near 1 comes out 0, which the filter's floor absorbs.
    def level_probabilities(self, mean: Any) -> F64:
        """P(level 1..5 | latent mean + d at each node): shape (*mean.shape, G, 5)."""
        mu = np.asarray(mean, dtype=np.float32)[..., None] + self.nodes().astype(np.float32)
        z = (_CUTS.astype(np.float32) - mu[..., None]) / np.float32(max(self.noise, 1e-6))
        out: F64 = np.clip(np.diff(ndtr(z), axis=-1), 0.0, 1.0).astype(np.float64)
        return out

    def level_likelihood(self, mean: Any, level: Any) -> F64:
        """P(observed level | latent mean + d at each node): shape (*mean.shape, G)."""
        mu = np.asarray(mean, dtype=np.float32)[..., None] + self.nodes().astype(np.float32)
        k = np.asarray(level, dtype=np.int64)[..., None]
        cuts, s = _CUTS.astype(np.float32), np.float32(max(self.noise, 1e-6))
        p = ndtr((cuts[k] - mu) / s) - ndtr((cuts[k - 1] - mu) / s)
        out: F64 = np.clip(p, 0.0, 1.0).astype(np.float64)
        return out


def move_on(belief: F64, transition: F64) -> F64:
    """One year of a grid chain: ``belief`` (..., G) times ``transition`` (G, G).

    Flattened to one matrix product: numpy's stacked matmul does not reach BLAS here and was
    the filter's main cost.
    """
    out: F64 = (belief.reshape(-1, belief.shape[-1]) @ transition).reshape(belief.shape)
    return out


def _discretised(centres: F64, nodes: F64, sd: float) -> F64:
    """(len(centres), G): a normal around each centre, as probabilities of the nodes' cells."""
    half = (nodes[1] - nodes[0]) / 2 if len(nodes) > 1 else np.inf
    edges = np.concatenate([[-np.inf], nodes[:-1] + half, [np.inf]])
    cdf = ndtr((edges[None, :] - centres[:, None]) / max(sd, 1e-9))
    out: F64 = np.diff(cdf, axis=1)
    return out / out.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class FilterState:
    """Filtered hidden observation state per country and particle, and the history's likelihood."""

    loglik: F64  # (C, N) log P(history | particle)
    belief: F64  # (C, N, K) P(hidden state at the last history year | history, particle)


def pts_filter(mean: F64, levels: F64, evidence: npt.NDArray[np.bool_], dev: PtsDeviation
               ) -> FilterState:
    """Forward filter of the PTS deviation over the history years.

    ``mean`` (T, C, N): the latent mean ``1 + 4 * repression + bias`` per year; ``levels``
    (T, C): the source's observed level (NaN where missing); ``evidence`` (T, C): the years
    that weigh the particles. Years without a score only move the deviation on.
    """
    _, n_c, n_p = mean.shape
    trans = dev.transition()
    belief = np.broadcast_to(dev.stationary(), (n_c, n_p, dev.grid)).copy()
    loglik = np.zeros((n_c, n_p))
    for t in range(mean.shape[0]):
        if t > 0:
            belief = move_on(belief, trans)
        cs = np.flatnonzero(~np.isnan(levels[t]))
        if not len(cs):
            continue
        like = dev.level_likelihood(mean[t, cs], levels[t, cs][:, None])
        b = belief[cs] * like
        total = np.maximum(b.sum(axis=-1), 1e-300)
        # A year that is not evidence (the start year, which made the initial state) still
        # tells where the deviation stands, but does not weigh the particles.
        loglik[cs] += np.log(total) * evidence[t, cs][:, None]
        belief[cs] = b / total[..., None]
    return FilterState(loglik, belief)


@dataclass(frozen=True)
class PhaseStickiness:
    """The coded phase's persistence beyond the model's phase.

    The coder's phase probabilities are observed, so they are the state: each year the coded
    vector stays where it was with probability ``stay`` (per year, 0-1), else is drawn from
    ``coding[k]``, the coding matrix's row at the model's phase ``k`` that year; its expectation
    ``stay * last + (1 - stay) * coding[k]`` is the one-year forecast. The form is an
    assumption; ``stay`` is estimated by maximum likelihood on the training countries' coded
    history up to the origin, ``coding`` from the filtered particles (forecast.py).
    """

    stay: float
    coding: F64  # (5, 5)

    def step(self, belief: F64, model_phase: npt.NDArray[Any]) -> F64:
        """One year on: ``belief`` (..., 5) given the model's phase (...) that year."""
        k = np.clip(np.asarray(model_phase, dtype=np.int64) - 1, 0, 4)
        out: F64 = self.stay * belief + (1.0 - self.stay) * self.coding[k]
        return out


def phase_filter(phase: npt.NDArray[Any], coded: F64, evidence: npt.NDArray[np.bool_],
                 sticky: PhaseStickiness) -> FilterState:
    """The coded phase through the history: ``phase`` (T, C, N) model phases, ``coded``
    (T, C, 5) the coder's probabilities (NaN where undecided), ``evidence`` (T, C) the years
    whose coding counts in the likelihood.

    Each year's likelihood is ``exp(sum_j o_j ln f_j)`` for the coded vector ``o`` and the
    one-year forecast ``f`` (floored like every forecast): for a one-hot coding the
    probability of the coded phase, for an uncertain one the log score's kernel. A coded year
    sets the state to its vector; an undecided year moves the state on unseen.
    """
    n_c, n_p = phase.shape[1:]
    belief = sticky.coding[np.clip(np.asarray(phase[0], dtype=np.int64) - 1, 0, 4)].copy()
    loglik = np.zeros((n_c, n_p))
    for t in range(phase.shape[0]):
        if t > 0:
            belief = sticky.step(belief, phase[t])
        seen = ~np.isnan(coded[t]).any(axis=-1)
        cs = np.flatnonzero(evidence[t] & seen)
        if len(cs):
            f = floor_probabilities(belief[cs])
            loglik[cs] += np.einsum("ck,cnk->cn", coded[t, cs], np.log(f))
        set_ = np.flatnonzero(seen)
        belief[set_] = coded[t, set_][:, None, :]
    return FilterState(loglik, belief)
