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
