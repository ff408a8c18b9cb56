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
    # Each particle carries its own persistent PTS offset per country (observation.py); the
    # history weights select the offsets that fit the country's scores.
    country_sd = np.repeat(
        theta["pts_country_sd"].to_numpy(dtype=np.float64)
        if "pts_country_sd" in theta.columns
        else np.zeros(draws),
        replicates,
    )
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    bias = {k: float(v) for k, v in post.meta.get("pts_bias", {}).items()}
    years = model.setup.years
    starts = model.setup.starts
    obs = observed_grid(record, years, model.setup.country_ids)
    n_c = len(model.setup.country_ids)
    offset = rng.standard_normal((n_c, tr.phase.shape[2])) * country_sd[None, :]
    loglik = np.zeros((n_c, tr.phase.shape[2]))
    # Condition on everything the record holds: the cut in load_record is the one guard
    # against look-ahead (tests/confront/test_lookahead.py shows a leak through it is caught).
    seen = int(record.panel["year"].max())
    hist = np.flatnonzero(years <= seen)
    for yi in hist:
        for c in range(n_c):
            if years[yi] <= starts[c]:
                continue  # the start year made the initial state; it is not evidence again
            rep = tr.repression[yi, c].astype(np.float64)
            for k, s in enumerate(PTS_SOURCES):
                level = obs.pts[yi, c, k]
                if not np.isnan(level):
                    p = pts_probabilities(rep, noise, bias.get(s, 0.0), offset[c])[
                        :, int(level) - 1
                    ]
                    loglik[c] += np.log(np.maximum(p, 1e-12))
            loglik[c] += np.log(phase_likelihood(tr.phase[yi, c], obs.phase_probs[yi, c]))
    w = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    ess = 1.0 / (w**2).sum(axis=1)
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
                rep[cs], noise[None, :], bias.get(s, 0.0), offset[cs]
            )  # (c, N, 5)
            f = floor_probabilities(np.einsum("cn,cnk->ck", w[cs], probs))
            rows.append(_tidy([model.setup.country_ids[c] for c in cs], year, s, f))
        onehot = (tr.phase[yi][..., None] == levels).astype(np.float64)
        f = floor_probabilities(np.einsum("cn,cnk->ck", w, onehot))
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
