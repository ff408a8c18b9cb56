"""Baselines every forecast is scored beside, fitted on the record up to the origin only.

All work on probability vectors over five levels, so PTS (one-hot) and coded phases (the
coder's probabilities) share one code:

- climatology: the share of each level over all observed country-years;
- persistence: the last observed level (within :data:`~spirallab.confront.world.LOOKBACK` years of
  the origin) moved by the empirical distribution of k-year changes (clipped at 1 and 5);
- Markov: a first-order chain over levels (transition counts + 0.5), k steps = the matrix power;
- Markov by regime: one chain per regime class at the origin (Polity2 >= 6, -5..5, <= -6,
  unknown), the pooled chain where a class has fewer than 50 transitions.

A country without a recent observation gets climatology from every baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.confront.observation import floor_probabilities
from spirallab.confront.record import PTS_SOURCES, Record
from spirallab.confront.summaries import Observed, observed_grid
from spirallab.confront.world import LOOKBACK

F64 = npt.NDArray[np.float64]
BASELINES: tuple[str, ...] = ("climatology", "persistence", "markov", "markov_regime")


def target_history(obs: Observed, target: str) -> F64:
    """(years, countries, 5) probabilities of a target; NaN where unobserved."""
    if target == "phase":
        return obs.phase_probs
    k = PTS_SOURCES.index(target)
    levels = obs.pts[..., k]
    out = np.full((*levels.shape, 5), np.nan)
    ok = ~np.isnan(levels)
    out[ok] = 0.0
    yi, ci = np.nonzero(ok)
    out[yi, ci, levels[ok].astype(int) - 1] = 1.0
    return out


def climatology(h: F64) -> F64:
    ok = ~np.isnan(h).any(axis=-1)
    if not ok.any():
        return np.full(5, 0.2)
    return np.asarray(h[ok].mean(axis=0))


def change_distribution(h: F64, k: int) -> F64:
    """P(level change = d) over k years, d = -4..4, from all observed pairs."""
    a, b = h[:-k], h[k:]
    ok = ~np.isnan(a).any(axis=-1) & ~np.isnan(b).any(axis=-1)
    out = np.zeros(9)
    if ok.any():
        joint = np.einsum("ni,nj->ij", a[ok], b[ok])
        for i in range(5):
            for j in range(5):
                out[j - i + 4] += joint[i, j]
    if out.sum() == 0:
        out[4] = 1.0
    return out / out.sum()


def persistence(last: F64, change: F64) -> F64:
    out = np.zeros(5)
    for i in range(5):
        for d in range(-4, 5):
            out[int(np.clip(i + d, 0, 4))] += last[i] * change[d + 4]
    return out


def transition_matrix(h: F64, keep: npt.NDArray[np.bool_] | None = None) -> tuple[F64, float]:
    """Row-stochastic 5x5 matrix from consecutive observed years (+0.5 smoothing), and n pairs."""
    a, b = h[:-1], h[1:]
    ok = ~np.isnan(a).any(axis=-1) & ~np.isnan(b).any(axis=-1)
    if keep is not None:
        ok &= keep[:-1]
    counts = np.einsum("ni,nj->ij", a[ok], b[ok]) if ok.any() else np.zeros((5, 5))
    n = float(counts.sum())
    counts = counts + 0.5
    return counts / counts.sum(axis=1, keepdims=True), n


def regime_class(polity: F64) -> npt.NDArray[np.int64]:
    """0 democracy (>= 6), 1 anocracy (-5..5), 2 autocracy (<= -6), 3 unknown."""
    out = np.full(polity.shape, 3, dtype=np.int64)
    out[polity >= 6] = 0
    out[(polity > -6) & (polity < 6)] = 1
    out[polity <= -6] = 2
    return out


def _last(h: F64, years: npt.NDArray[np.int64], origin: int) -> F64:
    """(C, 5) latest observed vector within LOOKBACK years of the origin; NaN if none."""
    out = np.full(h.shape[1:], np.nan)
    for yi in np.flatnonzero((years <= origin) & (years > origin - LOOKBACK)):
        ok = ~np.isnan(h[yi]).any(axis=-1)
        out[ok] = h[yi][ok]
    return out


def baseline_forecasts(
    record: Record, origin: int, to: int, country_ids: Sequence[str], targets: Sequence[str]
) -> pd.DataFrame:
    """Every baseline's forecast, tidy: method, country_id, year, target, level, probability."""
    years = np.arange(record.first_year, origin + 1, dtype=np.int64)
    obs = observed_grid(record, years, list(country_ids))
    regimes = regime_class(_last_polity(obs.polity))
    history_regime = regime_class(obs.polity)
    rows = []
    horizons = list(range(1, to - origin + 1))
    for target in targets:
        h = target_history(obs, target)
        clim = climatology(h)
        last = _last(h, years, origin)
        pooled, _ = transition_matrix(h)
        by_regime = {}
        for r in range(4):
            m, n = transition_matrix(h, history_regime == r)
            by_regime[r] = m if n >= 50 else pooled
        for k in horizons:
            change = change_distribution(h, k)
            p_pool = np.linalg.matrix_power(pooled, k)
            p_reg = {r: np.linalg.matrix_power(m, k) for r, m in by_regime.items()}
            for c, cid in enumerate(country_ids):
                v = last[c]
                if np.isnan(v).any():
                    f = dict.fromkeys(BASELINES, clim)
                else:
                    f = {
                        "climatology": clim,
                        "persistence": persistence(v, change),
                        "markov": v @ p_pool,
                        "markov_regime": v @ p_reg[int(regimes[c])],
                    }
                for method, p in f.items():
                    p = floor_probabilities(np.asarray(p, dtype=np.float64))
                    rows.append((method, cid, origin + k, target, p))
    methods, cids, yrs, tgts, probs = zip(*rows, strict=True) if rows else ((), (), (), (), ())
    n = len(methods)
    return pd.DataFrame(
        {
            "method": np.repeat(np.asarray(methods, dtype=object), 5),
            "country_id": np.repeat(np.asarray(cids, dtype=object), 5),
            "year": np.repeat(np.asarray(yrs, dtype=np.int64), 5),
            "target": np.repeat(np.asarray(tgts, dtype=object), 5),
            "level": np.tile(np.arange(1, 6, dtype=np.int64), n),
            "probability": np.concatenate(probs) if n else np.array([]),
        }
    )


def _last_polity(polity: F64) -> F64:
    out = np.full(polity.shape[1], np.nan)
    for yi in range(polity.shape[0]):
        ok = ~np.isnan(polity[yi])
        out[ok] = polity[yi][ok]
    return out


def blend(first: pd.DataFrame, second: pd.DataFrame, weight: float) -> pd.DataFrame:
    """The linear pool ``weight * first + (1 - weight) * second`` of two tidy forecasts.

    Only the country-year-targets both forecast; columns country_id, year, target, level,
    probability (a ``method`` column is dropped). A blend is its own method, never either part.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"blend weight {weight} outside [0, 1]")
    keys = ["country_id", "year", "target", "level"]
    m = first[[*keys, "probability"]].merge(
        second[[*keys, "probability"]], on=keys, suffixes=("_a", "_b"), validate="one_to_one"
    )
    m["probability"] = weight * m["probability_a"] + (1.0 - weight) * m["probability_b"]
    return m[[*keys, "probability"]].reset_index(drop=True)
