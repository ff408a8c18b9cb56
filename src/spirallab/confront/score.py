"""Scoring rules for probabilistic forecasts over five ordered levels.

For a forecast ``f`` and an outcome ``o`` (one-hot for a PTS score; the coder's probabilities
for a phase, so an uncertain coding is scored by its expectation):

- log score: ``sum_k o_k log f_k`` (natural log; higher is better; one-hot: log f of the outcome);
- Brier: ``sum_k (f_k - o_k)^2`` (0 best, 2 worst);
- ranked probability score: ``sum_{k=1..4} (F_k - O_k)^2 / 4`` with cumulative F, O (0 best).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.confront.record import PHASE_COLUMNS, PTS_SOURCES, Record

F64 = npt.NDArray[np.float64]


def log_score(f: F64, o: F64) -> F64:
    out: F64 = np.sum(np.asarray(o) * np.log(np.maximum(np.asarray(f), 1e-300)), axis=-1)
    return out


def brier(f: F64, o: F64) -> F64:
    out: F64 = np.sum((np.asarray(f) - np.asarray(o)) ** 2, axis=-1)
    return out


def rps(f: F64, o: F64) -> F64:
    cf = np.cumsum(np.asarray(f), axis=-1)[..., :-1]
    co = np.cumsum(np.asarray(o), axis=-1)[..., :-1]
    out: F64 = np.sum((cf - co) ** 2, axis=-1) / (np.asarray(f).shape[-1] - 1)
    return out


def outcomes(record: Record) -> pd.DataFrame:
    """Observed outcome vectors: country_id, year, target, o1..o5."""
    frames = []
    p = record.panel
    for s in PTS_SOURCES:
        v = p[["country_id", "year", s]].dropna()
        if v.empty:
            continue
        lv = v[s].astype(int).to_numpy()
        onehot = np.eye(5)[lv - 1]
        df = pd.DataFrame(onehot, columns=[f"o{k}" for k in range(1, 6)])
        df.insert(0, "target", s)
        df.insert(0, "year", v["year"].to_numpy())
        df.insert(0, "country_id", v["country_id"].to_numpy())
        frames.append(df)
    c = record.coded.dropna(subset=list(PHASE_COLUMNS))
    df = pd.DataFrame(c[list(PHASE_COLUMNS)].to_numpy(), columns=[f"o{k}" for k in range(1, 6)])
    df.insert(0, "target", "phase")
    df.insert(0, "year", c["year"].to_numpy())
    df.insert(0, "country_id", c["country_id"].to_numpy())
    frames.append(df)
    return pd.concat(frames, ignore_index=True)


def wide(forecasts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Tidy forecasts -> one row per key with columns f1..f5."""
    w = forecasts.pivot_table(index=keys, columns="level", values="probability", aggfunc="first")
    w.columns = [f"f{int(k)}" for k in w.columns]
    return w.reset_index()


def score_rows(forecasts: pd.DataFrame, observed: pd.DataFrame, origin: int) -> pd.DataFrame:
    """Per method, country, year, target: the three scores. ``forecasts`` has a method column."""
    keys = ["method", "country_id", "year", "target"]
    w = wide(forecasts, keys).merge(observed, on=["country_id", "year", "target"], how="inner")
    f = w[[f"f{k}" for k in range(1, 6)]].to_numpy(dtype=np.float64)
    o = w[[f"o{k}" for k in range(1, 6)]].to_numpy(dtype=np.float64)
    out = w[keys].copy()
    out["horizon"] = out["year"] - origin
    out["log_score"] = log_score(f, o)
    out["brier"] = brier(f, o)
    out["rps"] = rps(f, o)
    # The forecast's and the outcome's mean level: their difference is the forecast's drift.
    levels = np.arange(1, 6, dtype=np.float64)
    out["expected"] = f @ levels
    out["observed"] = o @ levels
    return out


def common_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """Only the country-year-targets that every method forecast (like with like)."""
    n = scores["method"].nunique()
    key = ["country_id", "year", "target"]
    count = scores.groupby(key)["method"].transform("nunique")
    return scores[count == n].reset_index(drop=True)


def skill_tables(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Mean scores overall, per horizon, per target and per country, methods side by side."""
    metrics = ["log_score", "brier", "rps"]
    overall = scores.groupby("method")[metrics].mean().reset_index()
    overall["n"] = scores.groupby("method").size().to_numpy()
    tables = {"overall": overall}
    for by in ("horizon", "target", "country_id"):
        t = scores.groupby([by, "method"])["log_score"].mean().unstack("method").reset_index()
        tables[f"by_{by}"] = t
    return tables


def paired_bootstrap(
    scores: pd.DataFrame,
    reference: str,
    *,
    by: str | None = None,
    metric: str = "log_score",
    draws: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean score difference ``reference`` minus every other method, with a bootstrap interval.

    A paired cluster bootstrap over countries: each draw resamples the countries with
    replacement, keeping each country's years and targets together (its rows are not
    independent), and takes the difference of the two methods on the same rows (the pairing
    removes what is common to both: how hard a country is to forecast). The statistic is the
    mean difference per row, as the skill tables report it, so a draw's value is the sum of
    the resampled countries' differences over the sum of their rows. With ``by`` (for example
    ``"horizon"``) the same draws of countries give an interval per value of that column.
    Columns: method, [by], difference, lo, hi, countries, rows; positive favours ``reference``.
    """
    if reference not in set(scores["method"]):
        raise ValueError(f"no method {reference!r} in the scores")
    keys = ["country_id", "year", "target"]
    wide = scores.pivot_table(index=keys, columns="method", values=metric, aggfunc="first")
    extra = scores.drop_duplicates(keys).set_index(keys)
    group = extra[by].reindex(wide.index) if by is not None else pd.Series("all", wide.index)
    countries = wide.index.get_level_values("country_id")
    ids, cidx = np.unique(np.asarray(countries, dtype=str), return_inverse=True)
    gvals, gidx = np.unique(group.to_numpy(), return_inverse=True)
    n_c, n_g = len(ids), len(gvals)
    rows = np.zeros((n_c, n_g))
    np.add.at(rows, (cidx, gidx), 1.0)
    rng = np.random.default_rng(seed)
    # (draws, countries): how many times each country enters each resample.
    times = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=draws).astype(np.float64)
    alpha = (1.0 - level) / 2.0
    out = []
    for method in wide.columns:
        if method == reference:
            continue
        d = (wide[reference] - wide[method]).to_numpy(dtype=np.float64)
        ok = ~np.isnan(d)
        sums = np.zeros((n_c, n_g))
        np.add.at(sums, (cidx[ok], gidx[ok]), d[ok])
        n_ok = np.zeros((n_c, n_g))
        np.add.at(n_ok, (cidx[ok], gidx[ok]), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (times @ sums) / (times @ n_ok)  # (draws, groups)
            point = sums.sum(axis=0) / n_ok.sum(axis=0)
        lo, hi = np.nanquantile(boot, [alpha, 1.0 - alpha], axis=0)
        for g, value in enumerate(gvals):
            row: dict[str, object] = {"method": method}
            if by is not None:
                row[by] = value
            row.update(
                difference=float(point[g]),
                lo=float(lo[g]),
                hi=float(hi[g]),
                countries=int((n_ok[:, g] > 0).sum()),
                rows=int(n_ok[:, g].sum()),
            )
            out.append(row)
    return pd.DataFrame(out)


def interval_table(boot: pd.DataFrame, index: str | list[str]) -> pd.DataFrame:
    """Bootstrap rows as a readable table: "+0.033 [-0.010, +0.071]", methods as columns."""
    cells = boot.assign(
        cell=[f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
              for d, lo, hi in zip(boot["difference"], boot["lo"], boot["hi"], strict=True)]
    )
    return cells.pivot_table(index=index, columns="method", values="cell", aggfunc="first")
