"""Forecasts for every country, conditioned on its own observed history up to the origin.

The filter (docs/forecasting.md): a world is started ``window`` years before the origin from
the record at that year, and simulated to the last forecast year at ``draws`` posterior draws x
``replicates`` replicates (the particles). Each country's particles are weighted by the
likelihood of its own observations from its start to the origin (every PTS source's score under
the PTS observation model and the coded phase probabilities); because the model is Markov,
the weighted future of the particles is the forecast given the history (sequential importance
sampling; the effective sample size is reported per country). Only the record cut at the
origin is read, so no later value can enter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.confront.calibrate import RIVALS, Posterior
from spirallab.confront.observation import (
    OFFSET_NODES,
    OFFSET_WEIGHTS,
    floor_probabilities,
    phase_likelihood,
    pts_probabilities,
)
from spirallab.confront.record import PTS_SOURCES, Record
from spirallab.confront.simulate import WorldModel
from spirallab.confront.summaries import observed_grid
from spirallab.confront.world import LOOKBACK, world_scenario
from spirallab.errors import InputError

F64 = npt.NDArray[np.float64]
TARGETS: tuple[str, ...] = (*PTS_SOURCES, "phase")
COLUMNS = ["country_id", "year", "target", "level", "probability"]


@dataclass(frozen=True)
class ForecastResult:
    forecasts: pd.DataFrame  # COLUMNS
    diagnostics: pd.DataFrame  # country_id, start, ess, particles


def forecast(
    post: Posterior,
    record: Record,
    origin: int,
    to: int,
    *,
    window: int = 10,
    draws: int = 64,
    replicates: int = 8,
    seed: int = 1,
) -> ForecastResult:
    """Forecast PTS levels (per source that scores the country) and phases, origin+1..to."""
    if record.until != origin:
        raise ValueError("the record must be cut at the origin")
    if to <= origin:
        raise InputError(
            "--to must be after --origin", where="--to", found=to, expected=f"a year after {origin}"
        )
    first = max(record.first_year, origin - window)
    scenario = world_scenario(
        record,
        first,
        to,
        seed=int(post.meta.get("world_seed", 0)),
        mechanisms=RIVALS[str(post.meta.get("rival", "full"))],
    )
    model = WorldModel(scenario)
    theta = post.sample(draws, seed)
    params = {n: np.repeat(theta[n].to_numpy(dtype=np.float64), 1) for n in theta.columns}
    seeds = [seed * 100_003 + i for i in range(draws)]
    tr = model.run(params, seeds, replicates)
    noise = np.repeat(theta["pts_noise"].to_numpy(dtype=np.float64), replicates)
    # The country's persistent PTS offset (observation.py) is integrated out per particle on
    # Gauss-Hermite nodes rather than sampled: sampling it made the weights collapse onto the
    # few particles whose random offsets happened to fit.
    country_sd = np.repeat(
        theta["pts_country_sd"].to_numpy(dtype=np.float64)
        if "pts_country_sd" in theta.columns
        else np.zeros(draws),
        replicates,
    )
    bias = {k: float(v) for k, v in post.meta.get("pts_bias", {}).items()}
    years = model.setup.years
    starts = model.setup.starts
    obs = observed_grid(record, years, model.setup.country_ids)
    n_c, n_p = len(model.setup.country_ids), tr.phase.shape[2]
    offsets = country_sd[:, None] * OFFSET_NODES[None, :]  # (N, Z)
    node_ll = np.zeros((n_c, n_p, len(OFFSET_NODES)))
    phase_ll = np.zeros((n_c, n_p))
    # Condition on everything the record holds: the cut in load_record is the one guard
    # against look-ahead (tests/confront/test_lookahead.py shows a leak through it is caught).
    seen = int(record.panel["year"].max())
    hist = np.flatnonzero(years <= seen)
    for yi in hist:
        for c in range(n_c):
            if years[yi] <= starts[c]:
                continue  # the start year made the initial state; it is not evidence again
            rep = tr.repression[yi, c].astype(np.float64)[:, None]
            for k, s in enumerate(PTS_SOURCES):
                level = obs.pts[yi, c, k]
                if not np.isnan(level):
                    p = pts_probabilities(rep, noise[:, None], bias.get(s, 0.0), offsets)
                    node_ll[c] += np.log(np.maximum(p[..., int(level) - 1], 1e-12))
            phase_ll[c] += np.log(phase_likelihood(tr.phase[yi, c], obs.phase_probs[yi, c]))
    node_ll += np.log(OFFSET_WEIGHTS)[None, None, :]
    top = node_ll.max(axis=2, keepdims=True)
    loglik = phase_ll + np.log(np.exp(node_ll - top).sum(axis=2)) + top[..., 0]
    q = np.exp(node_ll - top)
    q /= q.sum(axis=2, keepdims=True)  # (C, N, Z): each particle's posterior over the offset
    w = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    ess = 1.0 / (w**2).sum(axis=1)
    confusion = coding_matrix(tr.phase, obs.phase_probs, w, hist, years, starts)
    recent = (years <= seen) & (years > seen - LOOKBACK)
    # (C, 3): the source scored the country in the last LOOKBACK years
    scored = np.asarray(~np.isnan(obs.pts[recent]).all(axis=0), dtype=bool)
    rows: list[pd.DataFrame] = []
    levels = np.arange(1, 6)
    for yi in np.flatnonzero(years > origin):
        year = int(years[yi])
        rep = tr.repression[yi].astype(np.float64)  # (C, N)
        for k, s in enumerate(PTS_SOURCES):
            cs = np.flatnonzero(scored[:, k])
            if not len(cs):
                continue
            probs = pts_probabilities(
                rep[cs][..., None], noise[None, :, None], bias.get(s, 0.0), offsets[None]
            )  # (c, N, Z, 5)
            f = floor_probabilities(np.einsum("cn,cnz,cnzk->ck", w[cs], q[cs], probs))
            rows.append(_tidy([model.setup.country_ids[c] for c in cs], year, s, f))
        onehot = (tr.phase[yi][..., None] == levels).astype(np.float64)
        # The target is the coded phase: the model's phase read through the coding matrix.
        f = floor_probabilities(np.einsum("cn,cnk,kj->cj", w, onehot, confusion))
        rows.append(_tidy(model.setup.country_ids, year, "phase", f))
    forecasts = pd.concat(rows, ignore_index=True)
    diagnostics = pd.DataFrame(
        {
            "country_id": model.setup.country_ids,
            "start": starts,
            "ess": np.round(ess, 2),
            "particles": tr.phase.shape[2],
        }
    )
    return ForecastResult(forecasts, diagnostics)


def coding_matrix(
    phase: npt.NDArray[np.int8],
    coded: F64,
    w: F64,
    hist: npt.NDArray[np.intp],
    years: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
) -> F64:
    """P(coded phase j | model phase k), 5x5, from the history up to the origin.

    Joint weight of the filtered particles' phase and the coder's probabilities over every
    country's history years (+0.5 per cell), rows normalised. It is the phase observation
    model of the forecast, as the PTS observation model is for PTS: the coder's phases and the
    model's differ systematically (docs/forecasting.md).
    """
    counts = np.full((5, 5), 0.5)
    levels = np.arange(1, 6)
    for yi in hist:
        ok = ~np.isnan(coded[yi]).any(axis=-1) & (years[yi] > starts)
        if not ok.any():
            continue
        model = np.einsum("cn,cnk->ck", w[ok], (phase[yi][ok][..., None] == levels))
        counts += model.T @ coded[yi][ok]
    out: F64 = counts / counts.sum(axis=1, keepdims=True)
    return out


def _tidy(ids: list[str], year: int, target: str, probs: F64) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "country_id": np.repeat(np.asarray(ids, dtype=object), 5),
            "year": np.full(n * 5, year, dtype=np.int64),
            "target": target,
            "level": np.tile(np.arange(1, 6, dtype=np.int64), n),
            "probability": probs.reshape(-1),
        }
    )


def check_forecasts(df: pd.DataFrame, where: str) -> None:
    """Refuse a forecast table that is not tidy or whose probabilities do not sum to 1."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            "missing column", file=where, where=missing[0], expected=", ".join(COLUMNS)
        )
    sums = df.groupby(["country_id", "year", "target"])["probability"].sum()
    bad = sums[(sums - 1.0).abs() > 1e-6]
    if len(bad):
        key = bad.index[0]
        raise InputError(
            "probabilities do not sum to 1",
            file=where,
            where=str(key),
            found=round(float(bad.iloc[0]), 6),
            expected="1 per country, year, target",
        )
