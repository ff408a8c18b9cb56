"""Forecasts for every country, conditioned on its own observed history up to the origin.

The filter (docs/forecasting.md): a world is started ``window`` years before the origin from
the record at that year, and simulated to the last forecast year at ``draws`` posterior draws x
``replicates`` replicates (the particles). Each country's particles are weighted by the
likelihood of its own observations from its start to the origin under the persistent
observation models (observation.py): every PTS source's scores with an AR(1) deviation from the
particle's latent score, filtered exactly on a grid, and the coded phases with a sticky coding.
Because the model is Markov, the weighted future of the particles, read through the filtered
observation state, is the forecast given the history (sequential importance sampling; the
effective sample size is reported per country). The observation models' parameters are
estimated by maximum likelihood on the training countries' history up to the origin. Only the
record cut at the origin is read, so no later value can enter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp

from spirallab.confront.calibrate import RIVALS, Posterior
from spirallab.confront.observation import (
    FilterState,
    PhaseStickiness,
    PtsDeviation,
    accountability_shift,
    floor_probabilities,
    move_on,
    phase_filter,
    phase_likelihood,
    pts_filter,
)
from spirallab.confront.record import PTS_SOURCES, Record
from spirallab.confront.simulate import WorldModel
from spirallab.confront.summaries import observed_grid
from spirallab.confront.world import LOOKBACK, world_scenario
from spirallab.errors import InputError

F64 = npt.NDArray[np.float64]
TARGETS: tuple[str, ...] = (*PTS_SOURCES, "phase")
COLUMNS = ["country_id", "year", "target", "level", "probability"]
# Particles per country used to estimate the observation models (spread over the draws).
ESTIMATION_PARTICLES = 64
# Countries per block when mixing the PTS forecast (bounds memory: block x N x G x 5 floats).
_BLOCK = 24


@dataclass(frozen=True)
class ForecastResult:
    forecasts: pd.DataFrame  # COLUMNS
    diagnostics: pd.DataFrame  # country_id, start, ess, particles
    observation: dict[str, Any] = field(default_factory=dict)  # the estimated observation models
    # Forecasts from the same particles at the other temperings asked for (``also_tempers``).
    tempered: dict[float, pd.DataFrame] = field(default_factory=dict)


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
    persistent: bool = True,
    temper: float = 1.0,
    also_tempers: tuple[float, ...] = (),
) -> ForecastResult:
    """Forecast PTS levels (per source that scores the country) and phases, origin+1..to.

    ``persistent=False`` switches the observation models' persistence off (rho = 0, stay = 0:
    independent yearly PTS deviations, the coded phase the coding of the model's phase alone),
    the control that shows what the persistence earns. ``temper`` raises each particle's
    history likelihood to that power in the forecast's weights (1: the filter; above 1 the
    history selects particles harder, at a lower effective sample size; 0: equal weights, the
    model's predictive from the window's start); the observation models are estimated at 1.
    ``also_tempers`` adds forecasts from the same particles at other temperings
    (``ForecastResult.tempered``), for choosing one without simulating again.
    """
    if temper < 0 or any(t < 0 for t in also_tempers):
        raise InputError("the tempering must be >= 0", where="temper", found=temper,
                         expected="a number >= 0 (1 = the filter)")
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
    params = {n: theta[n].to_numpy(dtype=np.float64) for n in theta.columns}
    tr = model.run(params, [seed * 100_003 + i for i in range(draws)], replicates)
    bias = {k: float(v) for k, v in post.meta.get("pts_bias", {}).items()}
    years, starts = model.setup.years, model.setup.starts
    ids = model.setup.country_ids
    obs = observed_grid(record, years, ids)
    n_p = tr.phase.shape[2]
    # Condition on everything the record holds: the cut in load_record is the one guard
    # against look-ahead (tests/confront/test_lookahead.py shows a leak through it is caught).
    seen = int(record.panel["year"].max())
    n_hist = int(np.sum(years <= seen))
    # The start year made the initial state; it is not evidence again.
    evidence = years[:n_hist, None] > starts[None, :]
    train = ~np.isin(np.asarray(ids, dtype=object), list(post.meta.get("held_out", [])))
    # Each particle reads PTS at its draw's standard of accountability (columns draw-major).
    accountability = np.repeat(
        theta["pts_accountability"].to_numpy(dtype=np.float64)
        if "pts_accountability" in theta.columns
        else np.zeros(draws),
        replicates,
    )
    stricter = accountability_shift(years, starts, accountability)
    means = {
        k: 1.0 + 4.0 * tr.repression.astype(np.float64) + bias.get(s, 0.0) + stricter
        for k, s in enumerate(PTS_SOURCES)
    }
    sources = [k for k in range(len(PTS_SOURCES)) if not np.isnan(obs.pts[:n_hist, :, k]).all()]
    phase_h, coded_h = tr.phase[:n_hist], obs.phase_probs[:n_hist]

    # 1. The PTS deviation, with the phases read as independent codings for now.
    phase_ll0 = np.zeros((len(ids), n_p))
    for t in range(n_hist):
        for c in np.flatnonzero(evidence[t]):
            phase_ll0[c] += np.log(phase_likelihood(phase_h[t, c], coded_h[t, c]))
    sub = slice(None, None, max(1, n_p // ESTIMATION_PARTICLES))

    def pts_state(k: int, dev: PtsDeviation, sub: slice = slice(None)) -> FilterState:
        return pts_filter(means[k][:n_hist, :, sub], obs.pts[:n_hist, :, k], evidence, dev)

    def pts_fit(k: int) -> Callable[[PtsDeviation], float]:
        # Each source's own deviation (the sources report differently), fitted on its scores.
        return lambda dev: _marginal(phase_ll0[:, sub] + pts_state(k, dev, sub).loglik, train)

    devs = {k: estimate_deviation(pts_fit(k), persistent) for k in sources}
    pts = {k: pts_state(k, devs[k]) for k in sources}
    pts_ll = sum((f.loglik for f in pts.values()), np.zeros((len(ids), n_p)))
    # 2. The coding matrix from the particles weighted so far, then the coded phase's stickiness.
    w1 = _normalised(pts_ll + phase_ll0)
    hist = np.arange(n_hist)
    confusion = coding_matrix(tr.phase, obs.phase_probs, w1, hist, years, starts)

    def phase_state(stay: float) -> FilterState:
        return phase_filter(phase_h, coded_h, evidence, PhaseStickiness(stay, confusion))

    stay = (
        estimate_stay(lambda s: _marginal(pts_ll + phase_state(s).loglik, train))
        if persistent
        else 0.0
    )
    sticky = PhaseStickiness(stay, confusion)
    phase = phase_state(stay)
    loglik = pts_ll + phase.loglik
    # One weight matrix per tempering (the first is the forecast's): (T, C, N).
    tempers = (temper, *also_tempers)
    ws = np.stack([_normalised(t * loglik) for t in tempers])
    w = ws[0]
    ess = 1.0 / (w**2).sum(axis=1)
    recent = (years <= seen) & (years > seen - LOOKBACK)
    # (C, 3): the source scored the country in the last LOOKBACK years
    scored = np.asarray(~np.isnan(obs.pts[recent]).all(axis=0), dtype=bool)
    rows: list[list[pd.DataFrame]] = [[] for _ in tempers]
    trans = {k: d.transition() for k, d in devs.items()}
    pts_belief = {k: pts[k].belief for k in sources}
    phase_belief = phase.belief
    for yi in range(n_hist, len(years)):
        # Between the last history year and a forecast year the hidden states move on unseen.
        pts_belief = {k: move_on(b, trans[k]) for k, b in pts_belief.items()}
        phase_belief = sticky.step(phase_belief, tr.phase[yi])
        if years[yi] <= origin:
            continue
        year = int(years[yi])
        for k, s in enumerate(PTS_SOURCES):
            cs = np.flatnonzero(scored[:, k])
            if not len(cs):
                continue
            # A source with no history years in the window starts from its stationary state.
            belief = pts_belief.get(k)
            dev = devs.get(k, PtsDeviation())
            f = np.empty((len(tempers), len(cs), 5))
            for lo in range(0, len(cs), _BLOCK):
                block = cs[lo : lo + _BLOCK]
                b = (
                    belief[block]
                    if belief is not None
                    else np.broadcast_to(dev.stationary(), (len(block), n_p, dev.grid))
                )
                probs = dev.level_probabilities(means[k][yi, block])  # (c, N, G, 5)
                level = np.einsum("cng,cngk->cnk", b, probs)
                f[:, lo : lo + _BLOCK] = np.einsum("tcn,cnk->tck", ws[:, block], level)
            for t in range(len(tempers)):
                rows[t].append(_tidy([ids[c] for c in cs], year, s, floor_probabilities(f[t])))
        f = np.einsum("tcn,cnk->tck", ws, phase_belief)
        for t in range(len(tempers)):
            rows[t].append(_tidy(ids, year, "phase", floor_probabilities(f[t])))
    forecasts = pd.concat(rows[0], ignore_index=True)
    tempered = {t: pd.concat(r, ignore_index=True) for t, r in zip(tempers[1:], rows[1:],
                                                                 strict=True)}
    diagnostics = pd.DataFrame(
        {"country_id": ids, "start": starts, "ess": np.round(ess, 2), "particles": n_p}
    )
    observation = {
        "pts": {
            PTS_SOURCES[k]: {"rho": round(d.rho, 4), "sd": round(d.sd, 4),
                             "noise": round(d.noise, 4)}
            for k, d in devs.items()
        },
        "phase_stay": round(stay, 4),
        "estimated_on_countries": int(train.sum()),
        "history_years": [int(years[0]), seen],
        "coding_matrix": np.round(confusion, 4).tolist(),
    }
    return ForecastResult(forecasts, diagnostics, observation, tempered)


def _normalised(loglik: F64) -> F64:
    w = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    out: F64 = w / w.sum(axis=1, keepdims=True)
    return out


def _marginal(loglik: F64, countries: npt.NDArray[np.bool_]) -> float:
    """Sum over the chosen countries of log mean_n P(history | particle n)."""
    ll = loglik[countries]
    return float(np.sum(logsumexp(ll, axis=1) - np.log(ll.shape[1])))


def estimate_deviation(fit: Callable[[PtsDeviation], float], persistent: bool = True
                       ) -> PtsDeviation:
    """The PTS deviation maximising ``fit`` (a log likelihood), by Nelder-Mead.

    Searched on rho in (0, 0.995), sd in (0.05, 3) and noise in (0.1, 1.5) levels, from
    rho 0.8, sd 0.6, noise 0.3 (assumptions: a persistent deviation of about half a level).
    ``persistent=False`` holds rho at 0.
    """

    def build(x: F64) -> PtsDeviation:
        return PtsDeviation(
            rho=float(0.995 / (1.0 + np.exp(-x[0]))) if persistent else 0.0,
            sd=float(np.clip(np.exp(x[1]), 0.05, 3.0)),
            noise=float(np.clip(np.exp(x[2]), 0.1, 1.5)),
        )

    x0 = np.array([np.log(0.8 / 0.195), np.log(0.6), np.log(0.3)])
    res = minimize(lambda x: -fit(build(x)), x0, method="Nelder-Mead",
                   options={"maxiter": 60, "xatol": 0.05, "fatol": 1.0})
    return build(np.asarray(res.x))


def estimate_stay(fit: Callable[[float], float]) -> float:
    """The coded phase's yearly stickiness in [0, 0.99] maximising ``fit`` (bounded Brent)."""
    res = minimize_scalar(lambda s: -fit(float(s)), bounds=(0.0, 0.99), method="bounded",
                          options={"xatol": 1e-3})
    return float(res.x)


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
