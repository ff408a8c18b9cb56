"""Three published findings, recomputed from the harmonised panel.

* :func:`torture_persistence` - Conrad & Moore (2010): once a state tortures, it keeps torturing.
  Share of country-years with any torture (CIRI ``TORT`` 0 or 1) whose next year (same country,
  consecutive year) also has any torture. They report 93%.
* :func:`empty_promises` - Hathaway (2002), Hafner-Burton & Tsutsui (2005), Neumayer (2005), as
  summarised in seed 003 section III: repression before vs after CAT ratification, by regime type
  and, where the data allow, by civil-society strength; bootstrap CIs over ratifying countries.
* :func:`changing_standard` - Fariss (2014): the distribution of PTS levels by year stays roughly
  flat while the mean latent protection score (theta) improves.

Each returns a small frozen result object carrying the numbers and a ``figure()`` method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from spirallab.observe.timeline import atomic_write_bytes

__all__ = [
    "ChangingStandardResult",
    "EmptyPromisesResult",
    "PersistenceResult",
    "changing_standard",
    "empty_promises",
    "regime_type",
    "save_figure",
    "torture_persistence",
]


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a figure as PNG atomically and close it."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").astype("Float64").astype(float)


# --------------------------------------------------------------------------------------------
# 1. torture persistence


@dataclass(frozen=True)
class PersistenceResult:
    """Torture persistence: share of torture years followed by a torture year."""

    column: str
    share: float
    n_pairs: int
    n_followed: int
    by_year: pd.DataFrame = field(repr=False)

    def figure(self) -> Figure:
        """Persistence share by (first) year of the pair."""
        fig = Figure(figsize=(8, 4))
        ax = fig.subplots()
        ax.plot(self.by_year["year"], self.by_year["share"], marker="o")
        ax.axhline(0.93, color="grey", ls="--", label="Conrad & Moore (2010): 0.93")
        ax.axhline(self.share, color="black", label=f"pooled: {self.share:.3f}")
        ax.set_ylim(0.5, 1.0)
        ax.set_xlabel("year t")
        ax.set_ylabel("P(torture in t+1 | torture in t)")
        ax.set_title(f"Torture persistence from {self.column}")
        ax.legend()
        fig.tight_layout()
        return fig


def torture_persistence(panel: pd.DataFrame, column: str = "ciri_tort") -> PersistenceResult:
    """Share of country-years with any torture (0 or 1) followed next year by any torture.

    Only pairs of consecutive years of the same country with both values observed count.
    """
    d = pd.DataFrame(
        {"k": panel["country_id"].astype(str), "y": panel["year"].astype(int),
         "t": _num(panel, column)}
    ).dropna(subset=["t"]).sort_values(["k", "y"])
    nxt = d.groupby("k")["t"].shift(-1)
    ny = d.groupby("k")["y"].shift(-1)
    pair = (ny == d["y"] + 1) & (d["t"] <= 1) & nxt.notna()
    followed = pair & (nxt <= 1)
    n_pairs = int(pair.sum())
    n_followed = int(followed.sum())
    by = pd.DataFrame({"year": d["y"], "pair": pair, "followed": followed})
    by_year = by[by["pair"]].groupby("year")["followed"].agg(["mean", "size"]).reset_index()
    by_year.columns = ["year", "share", "n"]
    share = n_followed / n_pairs if n_pairs else float("nan")
    return PersistenceResult(column, share, n_pairs, n_followed, by_year)


# --------------------------------------------------------------------------------------------
# 2. empty promises


def regime_type(polity2: pd.Series) -> pd.Series:
    """Polity2 >= 6 democracy, <= -6 autocracy, else anocracy (NA stays NA)."""
    p = pd.to_numeric(polity2, errors="coerce").astype(float)
    out = np.where(p >= 6, "democracy", np.where(p <= -6, "autocracy", "anocracy"))
    return pd.Series(out, index=polity2.index).where(p.notna())


@dataclass(frozen=True)
class EmptyPromisesResult:
    """Before/after CAT ratification comparison.

    ``changes`` has one row per ratifying country (ratification year, regime, civil society group,
    mean outcome before and after, change). ``summary`` has one row per group with the mean
    change, its bootstrap 95% CI and the number of countries. ``improvement_sign`` is +1 when a
    positive change means better practice (theta), -1 when negative does (PTS).
    """

    treaty: str
    outcome: str
    window: int
    relative_to_world: bool
    improvement_sign: int
    civil_society: str | None
    changes: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame

    def direction(self, group: str = "all") -> str:
        """'better', 'worse' or 'no clear change' (CI includes 0) for a group."""
        row = self.summary.set_index("group").loc[group]
        lo, hi = row["ci_lo"] * self.improvement_sign, row["ci_hi"] * self.improvement_sign
        lo, hi = min(lo, hi), max(lo, hi)
        if lo > 0:
            return "better"
        if hi < 0:
            return "worse"
        return "no clear change"

    def figure(self) -> Figure:
        """Mean change with bootstrap CI per group."""
        s = self.summary
        fig = Figure(figsize=(8, 4))
        ax = fig.subplots()
        x = np.arange(len(s))
        err = np.vstack([s["mean_change"] - s["ci_lo"], s["ci_hi"] - s["mean_change"]])
        ax.errorbar(x, s["mean_change"], yerr=err, fmt="o", capsize=4)
        ax.axhline(0, color="grey")
        ax.set_xticks(x, [f"{g}\n(n={n})" for g, n in zip(s["group"], s["n"], strict=True)],
                      fontsize=8)
        better = "up" if self.improvement_sign > 0 else "down"
        ax.set_ylabel(f"change in mean {self.outcome}\n({better} = better practice)")
        ax.set_title(
            f"{self.treaty.upper()} ratification: {self.window} years after minus before"
        )
        fig.tight_layout()
        return fig


def _bootstrap_ci(
    values: np.ndarray, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    if len(values) < 2:
        return (float("nan"), float("nan"))
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _ratification_changes(
    panel: pd.DataFrame, treaty: str, outcome: str, window: int, min_years: int,
    relative_to_world: bool,
) -> pd.DataFrame:
    col = f"ratified_{treaty}"
    d = pd.DataFrame(
        {
            "k": panel["country_id"].astype(str),
            "y": panel["year"].astype(int),
            "rat": panel[col].astype("boolean").fillna(False).astype(bool),
            "v": _num(panel, outcome),
        }
    ).sort_values(["k", "y"])
    if relative_to_world:
        # Remove the world trend ("world time", 001): each value minus that year's mean.
        d["v"] = d["v"] - d.groupby("y")["v"].transform("mean")
    rows = []
    for k, g in d.groupby("k", sort=False):
        yes = g.loc[g["rat"], "y"]
        if yes.empty or int(yes.min()) <= int(g["y"].min()):
            continue  # never ratified, or ratified before the country's first observed year
        r = int(yes.min())
        before = g[(g["y"] >= r - window) & (g["y"] < r)]["v"].dropna()
        after = g[(g["y"] > r) & (g["y"] <= r + window)]["v"].dropna()
        if len(before) < min_years or len(after) < min_years:
            continue
        rows.append({"country_id": k, "ratified": r, "before": before.mean(),
                     "after": after.mean(), "change": after.mean() - before.mean()})
    return pd.DataFrame(rows, columns=["country_id", "ratified", "before", "after", "change"])


def empty_promises(
    panel: pd.DataFrame,
    treaty: str = "cat",
    outcome: str = "fariss_theta",
    window: int = 5,
    min_years: int = 3,
    civil_society: str | None = "cirights_assn",
    relative_to_world: bool = True,
    n_boot: int = 2000,
    seed: int = 0,
) -> EmptyPromisesResult:
    """Mean ``outcome`` in the ``window`` years after vs before ratifying ``treaty``.

    The ratification year itself is excluded; a country needs ``min_years`` observed years on
    each side. Regime type is the mean polity2 over the years before ratification. Civil-society
    strength splits countries at the median of ``civil_society`` (mean over the years before
    ratification) when that column has values for at least 10 ratifiers; otherwise the split is
    reported as unavailable (``civil_society`` is None in the result). With
    ``relative_to_world`` (default) the outcome is first taken relative to that year's mean over
    all countries, so that the secular trend of the outcome is not read as a treaty effect.
    """
    ch = _ratification_changes(panel, treaty, outcome, window, min_years, relative_to_world)
    d = pd.DataFrame(
        {"k": panel["country_id"].astype(str), "y": panel["year"].astype(int),
         "polity2": _num(panel, "polity2"),
         "cs": _num(panel, civil_society) if civil_society else np.nan}
    )
    pol, cs = [], []
    for _, r in ch.iterrows():
        pre = d[(d["k"] == r["country_id"]) & (d["y"] >= r["ratified"] - window)
                & (d["y"] < r["ratified"])]
        pol.append(pre["polity2"].mean())
        cs.append(pre["cs"].mean())
    ch["polity2_before"] = pol
    ch["regime"] = regime_type(ch["polity2_before"]) if len(ch) else pd.Series(dtype=object)
    ch["civil_society_before"] = cs
    cs_used: str | None = civil_society
    if civil_society is None or ch["civil_society_before"].notna().sum() < 10:
        cs_used = None
        ch["civil_society"] = pd.NA
    else:
        med = ch["civil_society_before"].median()
        strong = pd.Series(
            np.where(ch["civil_society_before"] > med, "strong civil society",
                     "weak civil society"), index=ch.index,
        )
        ch["civil_society"] = strong.where(ch["civil_society_before"].notna())
    rng = np.random.default_rng(seed)
    groups: list[tuple[str, pd.Series]] = [("all", ch["change"])]
    for g in ("democracy", "anocracy", "autocracy"):
        groups.append((g, ch.loc[ch["regime"] == g, "change"]))
    if cs_used is not None:
        for g in ("strong civil society", "weak civil society"):
            groups.append((g, ch.loc[ch["civil_society"] == g, "change"]))
    summary = []
    for name, vals in groups:
        v = vals.dropna().to_numpy(dtype=float)
        lo, hi = _bootstrap_ci(v, n_boot, rng)
        summary.append({"group": name, "n": len(v),
                        "mean_change": float(v.mean()) if len(v) else float("nan"),
                        "ci_lo": lo, "ci_hi": hi})
    sign = -1 if outcome.startswith("pts") or outcome.startswith("hathaway") else 1
    return EmptyPromisesResult(treaty, outcome, window, relative_to_world, sign, cs_used, ch,
                               pd.DataFrame(summary))


# --------------------------------------------------------------------------------------------
# 3. changing standard of accountability


@dataclass(frozen=True)
class ChangingStandardResult:
    """Yearly PTS level shares and mean theta, with linear trends in pooled-SD units per decade.

    Computed on country-years where both the combined PTS and theta are observed, so that the two
    series describe the same countries.
    """

    start: int
    end: int
    by_year: pd.DataFrame = field(repr=False)
    pts_slope_sd_per_decade: float
    theta_slope_sd_per_decade: float

    @property
    def ratio(self) -> float:
        """|improvement in PTS| relative to the theta improvement (both in SD units)."""
        return abs(self.pts_slope_sd_per_decade) / abs(self.theta_slope_sd_per_decade)

    def figure(self) -> Figure:
        """Stacked PTS level shares by year (left) and mean theta by year (right)."""
        b = self.by_year
        fig = Figure(figsize=(12, 4.5))
        (a1, a2) = fig.subplots(1, 2)
        levels = [c for c in b.columns if c.startswith("share_pts_")]
        colours = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
        a1.stackplot(b["year"], *[b[c] for c in levels], labels=[c[-1] for c in levels],
                     colors=colours[: len(levels)])
        a1.set_ylim(0, 1)
        a1.set_title("Share of country-years by PTS level")
        a1.legend(title="PTS", fontsize=7, loc="lower left")
        a2.plot(b["year"], b["mean_theta"], color="#4575b4", label="mean theta")
        a2b = a2.twinx()
        a2b.plot(b["year"], b["mean_pts"], color="#d73027", label="mean PTS (right)")
        a2b.invert_yaxis()
        a2.set_title("Mean latent protection (theta) vs mean PTS")
        a2.legend(loc="upper left", fontsize=8)
        a2b.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        return fig


def changing_standard(
    panel: pd.DataFrame, start: int = 1980, end: int = 2012
) -> ChangingStandardResult:
    """Fariss (2014): raw PTS roughly flat while latent theta improves, over ``start``-``end``.

    The PTS level of a country-year is the combined PTS rounded half up. Trends are OLS slopes of
    the yearly means, divided by the pooled SD of the respective variable, per decade. PTS is
    sign-flipped so that a positive slope means improvement on both.
    """
    d = pd.DataFrame({"y": panel["year"].astype(int), "pts": _num(panel, "pts"),
                      "theta": _num(panel, "fariss_theta")}).dropna()
    d = d[(d["y"] >= start) & (d["y"] <= end)]
    d["level"] = np.floor(d["pts"] + 0.5).clip(1, 5).astype(int)
    g = d.groupby("y")
    by = pd.DataFrame({"n": g.size(), "mean_pts": g["pts"].mean(), "mean_theta": g["theta"].mean()})
    shares = pd.crosstab(d["y"], d["level"], normalize="index")
    for lvl in range(1, 6):
        by[f"share_pts_{lvl}"] = shares[lvl] if lvl in shares.columns else 0.0
    by = by.reset_index().rename(columns={"y": "year"})
    yrs = by["year"].to_numpy(dtype=float)
    pts_slope = float(np.polyfit(yrs, -by["mean_pts"].to_numpy(dtype=float), 1)[0])
    th_slope = float(np.polyfit(yrs, by["mean_theta"].to_numpy(dtype=float), 1)[0])
    return ChangingStandardResult(
        start, end, by,
        pts_slope_sd_per_decade=10 * pts_slope / float(d["pts"].std()),
        theta_slope_sd_per_decade=10 * th_slope / float(d["theta"].std()),
    )
