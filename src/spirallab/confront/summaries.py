"""Summary statistics shared by the record and simulated worlds (docs/calibration.md).

Both sides are computed on the same country-years: a simulated country-year counts only where
the record observes it (a coded phase, a PTS score from a source, a ratification status), so
missing data never biases the comparison. All statistics are shares or means in [0, 5]:

- ``phase_share``: share of coded countries in each phase, per year (record: the coder's phase
  probabilities averaged; simulation: simulated phases);
- ``pts_share``: share of PTS scores at each level 1-5, per year, all sources pooled (simulation:
  the observation model's expected shares at the simulated repression);
- ``phase_moves``: mean yearly rise and fall of the (expected) phase, per decade;
- ``pts_moves``: mean absolute yearly change of each source's PTS score, per decade (simulation:
  expected under the AR(1) observation model of forecast.py);
- ``time_in_phase``: across countries, the mean and standard deviation of the share of observed
  years spent in phases 1-2, 3 and 4-5;
- ``ratified``: share of countries with ICCPR and CAT ratified, every fifth year;
- ``pts_drift``: mean absolute change of each source's score over ``DRIFT_LAG`` (5) years, per
  decade of the later year (simulation: expected under the AR(1) observation model), which
  tells a persistent deviation from a fixed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr

from spirallab.confront.observation import OFFSET_NODES, OFFSET_WEIGHTS, accountability_shift
from spirallab.confront.record import PHASE_COLUMNS, PTS_SOURCES, Record, as_float

F64 = npt.NDArray[np.float64]
LEVELS = np.arange(1, 6, dtype=np.float64)
# Years between the two scores of the ``pts_drift`` statistic.
DRIFT_LAG = 5


@dataclass(frozen=True)
class Observed:
    """The record on a (years, countries) grid; NaN where nothing is observed."""

    years: npt.NDArray[np.int64]
    country_ids: list[str]
    phase_probs: F64  # (Y, C, 5)
    pts: F64  # (Y, C, 3) levels 1-5, sources in PTS_SOURCES order
    ratified: F64  # (Y, C) 0/1: ICCPR and CAT
    polity: F64  # (Y, C)


def observed_grid(record: Record, years: npt.NDArray[np.int64], country_ids: list[str]) -> Observed:
    """Lay the record on the grid of a simulated world."""
    y_index = {int(y): i for i, y in enumerate(years)}
    c_index = {c: j for j, c in enumerate(country_ids)}
    shape = (len(years), len(country_ids))
    probs = np.full((*shape, 5), np.nan)
    pts = np.full((*shape, 3), np.nan)
    ratified = np.full(shape, np.nan)
    polity = np.full(shape, np.nan)
    panel = record.panel
    sel = panel["year"].isin(list(y_index)) & panel["country_id"].isin(list(c_index))
    p = panel[sel]
    yi = p["year"].map(y_index).to_numpy(dtype=np.int64)
    ci = p["country_id"].map(c_index).to_numpy(dtype=np.int64)
    for k, s in enumerate(PTS_SOURCES):
        pts[yi, ci, k] = as_float(p[s])
    polity[yi, ci] = as_float(p["polity2"])
    covered = p["ratification_covered"].to_numpy(dtype=bool)
    both = p["ratified_iccpr"].to_numpy(dtype=bool) & p["ratified_cat"].to_numpy(dtype=bool)
    ratified[yi[covered], ci[covered]] = both[covered].astype(np.float64)
    coded = record.coded
    sel = coded["year"].isin(list(y_index)) & coded["country_id"].isin(list(c_index))
    c = coded[sel]
    probs[c["year"].map(y_index).to_numpy(), c["country_id"].map(c_index).to_numpy()] = c[
        list(PHASE_COLUMNS)
    ].to_numpy(dtype=np.float64)
    return Observed(years, country_ids, probs, pts, ratified, polity)


def _decades(years: npt.NDArray[np.int64]) -> list[npt.NDArray[np.bool_]]:
    dec = (years // 10) * 10
    return [dec == d for d in np.unique(dec)]


def _per_decade(values: F64, mask: npt.NDArray[np.bool_], years: npt.NDArray[np.int64]) -> F64:
    """Mean of ``values`` over ``mask`` (years on axis 0), one entry per decade."""
    out = []
    for d in _decades(years):
        m = mask[d]
        out.append(float(values[d][m].mean()) if m.any() else 0.0)
    return np.array(out)


def _time_in_phase(expected: F64, mask: npt.NDArray[np.bool_]) -> F64:
    groups = [expected <= 2.5, (expected > 2.5) & (expected < 3.5), expected >= 3.5]
    n = mask.sum(axis=0)
    keep = n >= 3
    out = []
    for g in groups:
        share = (g & mask).sum(axis=0)[keep] / n[keep]
        out += [
            float(share.mean()) if keep.any() else 0.0,
            float(share.std()) if keep.any() else 0.0,
        ]
    return np.array(out)


def record_summaries(obs: Observed) -> dict[str, F64]:
    """The statistics of the record itself."""
    coded = np.asarray(~np.isnan(obs.phase_probs).any(axis=-1), dtype=bool)
    shares = np.where(coded[..., None], obs.phase_probs, 0.0).sum(axis=1)
    phase_share = shares / np.maximum(coded.sum(axis=1), 1)[:, None]
    pts_counts = np.stack([(obs.pts == k).sum(axis=(1, 2)) for k in range(1, 6)], axis=1)
    pts_share = pts_counts / np.maximum(pts_counts.sum(axis=1, keepdims=True), 1)
    expected = np.where(coded, (obs.phase_probs * LEVELS).sum(axis=-1), np.nan)
    out = _dynamic_stats(expected, coded, obs, phase_share, pts_share, None, obs.ratified)
    lag = DRIFT_LAG
    pair = ~np.isnan(obs.pts[lag:]) & ~np.isnan(obs.pts[:-lag])
    moves = np.nan_to_num(np.abs(obs.pts[lag:] - obs.pts[:-lag]))
    out["pts_drift"] = _per_decade(moves, pair, obs.years[lag:])
    return out


def _dynamic_stats(
    expected: F64,
    coded: npt.NDArray[np.bool_],
    obs: Observed,
    phase_share: F64,
    pts_share: F64,
    pts_move_sim: F64 | None,
    ratified: F64,
) -> dict[str, F64]:
    years = obs.years
    both = coded[1:] & coded[:-1]
    d = np.nan_to_num(expected[1:] - expected[:-1])
    up = _per_decade(np.maximum(d, 0), both, years[1:])
    down = _per_decade(np.maximum(-d, 0), both, years[1:])
    if pts_move_sim is None:
        pair = ~np.isnan(obs.pts[1:]) & ~np.isnan(obs.pts[:-1])
        moves = np.nan_to_num(np.abs(obs.pts[1:] - obs.pts[:-1]))
        pts_moves = _per_decade(moves, pair, years[1:])
    else:
        pts_moves = pts_move_sim
    rat_mask = ~np.isnan(obs.ratified)
    marks = np.flatnonzero(years % 5 == 0)
    rat = np.array(
        [float(ratified[i][rat_mask[i]].mean()) if rat_mask[i].any() else 0.0 for i in marks]
    )
    return {
        "phase_share": phase_share.reshape(-1),
        "pts_share": pts_share.reshape(-1),
        "phase_moves": np.concatenate([up, down]),
        "pts_moves": pts_moves,
        "time_in_phase": _time_in_phase(np.nan_to_num(expected), coded),
        "ratified": rat,
    }


def simulated_summaries(
    obs: Observed,
    phase: npt.NDArray[np.int8],
    repression: npt.NDArray[np.float32],
    ratified: npt.NDArray[np.float32],
    pts_noise: float,
    bias: Mapping[str, float],
    country_sd: float = 0.0,
    country_rho: float = 1.0,
    accountability: float = 0.0,
    starts: npt.NDArray[np.int64] | None = None,
) -> dict[str, F64]:
    """Statistics of one simulated world (arrays (years, countries)) on the record's grid.

    PTS statistics follow the observation model of forecast.py: each source's latent score
    deviates from ``1 + 4 r + bias`` by an AR(1) deviation (stationary s.d. ``country_sd``,
    year-to-year correlation ``country_rho``; 1 is a fixed country offset) plus independent
    yearly noise (``pts_noise``). Two scores ``k`` years apart share the deviation's correlated
    part, ``country_sd * sqrt(rho**k) * z``, averaged over ``z`` by Gauss-Hermite quadrature,
    and are independent given ``z`` with noise ``sqrt(pts_noise**2 + country_sd**2 *
    (1 - rho**k))``: exact for the pair, so the yearly changes and the 5-year changes have
    their expectations under the AR(1) model; a single score's level shares are exact in closed
    form (noise ``sqrt(pts_noise**2 + country_sd**2)``). ``accountability``
    (PTS levels per decade since each country's start, ``starts``) is the stricter standard
    of observation.py's :func:`~spirallab.confront.observation.accountability_shift`.
    """
    coded = ~np.isnan(obs.phase_probs).any(axis=-1) & (phase > 0)
    onehot = (phase[..., None] == np.arange(1, 6)).astype(np.float64)
    phase_share = (onehot * coded[..., None]).sum(axis=1) / np.maximum(coded.sum(axis=1), 1)[
        :, None
    ]
    n_years = len(obs.years)
    scored = ~np.isnan(obs.pts)
    # Work on the scored entries only (flat), which is most of this function's cost.
    yi, ci, si = np.nonzero(scored)
    shift = np.array([bias.get(s, 0.0) for s in PTS_SOURCES])
    mu = 1.0 + 4.0 * repression[yi, ci].astype(np.float64) + shift[si]
    if accountability != 0.0:
        if starts is None:
            raise ValueError("a standard of accountability needs the countries' starts")
        mu += accountability_shift(obs.years, starts, accountability)[yi, ci]
    index = np.full(scored.shape, -1, dtype=np.int64)
    index[yi, ci, si] = np.arange(len(yi))
    # A single score's level: the deviation and the noise add to one normal of variance
    # pts_noise**2 + country_sd**2 (exact; the pairs below need the quadrature).
    cdf = _level_cdf(mu, float(np.hypot(pts_noise, country_sd)))
    probs = np.diff(cdf, axis=1, prepend=0.0, append=1.0)
    pts_counts = np.stack(
        [np.bincount(yi, weights=probs[:, k], minlength=n_years) for k in range(5)], axis=1
    )
    pts_share = pts_counts / np.maximum(pts_counts.sum(axis=1, keepdims=True), 1e-12)
    pts_moves = _expected_moves(obs, index, mu, 1, pts_noise, country_sd, country_rho)
    pts_drift = _expected_moves(obs, index, mu, DRIFT_LAG, pts_noise, country_sd, country_rho)
    expected = phase.astype(np.float64)
    rat = np.where(np.isnan(obs.ratified), np.nan, ratified.astype(np.float64))
    out = _dynamic_stats(expected, coded, obs, phase_share, pts_share, pts_moves, rat)
    out["pts_drift"] = pts_drift
    return out


_CUTS = np.array([1.5, 2.5, 3.5, 4.5])


def _nodes(sd: float) -> list[tuple[float, float]]:
    if sd <= 0:
        return [(0.0, 1.0)]
    return list(zip(OFFSET_NODES.tolist(), OFFSET_WEIGHTS.tolist(), strict=True))


def _level_cdf(mu: F64, noise: float) -> F64:
    """(N, 4) P(level <= k), k = 1..4, for latent means ``mu`` and Gaussian ``noise``."""
    out: F64 = ndtr((_CUTS[None, :] - mu[:, None]) / max(noise, 1e-6))
    return out


def _expected_moves(
    obs: Observed,
    index: npt.NDArray[np.int64],
    mu: F64,
    lag: int,
    noise: float,
    sd: float,
    rho: float,
) -> F64:
    """Per decade, E|X_(t+lag) - X_t| of a source's score over the record's scored pairs."""
    a, b = index[:-lag], index[lag:]
    pair = (a >= 0) & (b >= 0)
    ia, ib = a[pair], b[pair]
    corr = min(max(rho, 0.0), 1.0) ** lag
    shared = sd * np.sqrt(corr)
    indep = float(np.sqrt(noise**2 + sd**2 * (1.0 - corr)))
    move = np.zeros(len(ia))
    for z, wz in _nodes(shared):
        cdf = _level_cdf(mu + shared * z, indep)
        fa, fb = cdf[ia], cdf[ib]
        # For independent integer scores, E|X - Y| = sum_k P(X <= k < Y) + P(Y <= k < X).
        move += wz * (fa * (1.0 - fb) + fb * (1.0 - fa)).sum(axis=1)
    grid = np.zeros(pair.shape)
    grid[pair] = move
    return _per_decade(grid, pair, obs.years[lag:])


def compress(stats: Mapping[str, F64], n_years: int, block: int = 5) -> dict[str, F64]:
    """The statistics with the per-year share tables averaged over ``block``-year periods.

    ABC compares these: a few hundred noisy yearly shares would drown the other statistics.
    """
    out = dict(stats)
    edges = np.arange(0, n_years, block)
    for key in ("phase_share", "pts_share"):
        table = np.asarray(stats[key]).reshape(n_years, 5)
        out[key] = np.concatenate([table[a : a + block].mean(axis=0) for a in edges])
    return out


def flatten(stats: Mapping[str, F64]) -> F64:
    """All statistics in one vector (the order of :func:`record_summaries`)."""
    return np.concatenate([np.asarray(stats[k], dtype=np.float64) for k in stats])


def tv_distance(p: F64, q: F64) -> F64:
    """Total-variation distance between rows of two (years, levels) share tables."""
    out: F64 = 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)
    return out


def share_table(stats: Mapping[str, F64], years: npt.NDArray[np.int64], key: str) -> pd.DataFrame:
    """A (year x level) share table from a statistics dict."""
    values = np.asarray(stats[key]).reshape(len(years), 5)
    return pd.DataFrame(values, index=years, columns=[1, 2, 3, 4, 5])
