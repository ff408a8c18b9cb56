"""Offline HTML reports of a calibration and of scored forecasts (figures by matplotlib, inline)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from spirallab.confront.calibrate import Posterior, Problem

CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}img{max-width:100%}"
)


SHOWN = ("train", "rival", "simulations", "generations", "seconds", "countries")


def _png(fig: Figure) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)


def _page(title: str, body: list[str]) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        + "\n".join(body)
        + "</body></html>"
    )


def _posterior_figure(particles: pd.DataFrame, priors: list[Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [p[0] for p in priors]
    cols = 4
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, (name, lo, hi) in zip(axes.flat, priors, strict=False):
        ax.hist(
            particles[name], bins=20, range=(lo, hi), weights=particles["weight"], color="#4477aa"
        )
        ax.set_title(name, fontsize=9)
        ax.set_xlim(lo, hi)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle("posterior (weighted particles) over the prior range")
    return _png(fig)


def share_comparison(
    record: dict[str, Any], sim: dict[str, Any], years: np.ndarray
) -> pd.DataFrame:
    """Per year: total-variation distance of phase and PTS shares, simulated vs record."""
    y = len(years)
    rows = {"year": years}
    for key in ("phase_share", "pts_share"):
        a = np.asarray(record[key]).reshape(y, 5)
        b = np.asarray(sim[key]).reshape(y, 5)
        rows[f"tv_{key}"] = 0.5 * np.abs(a - b).sum(axis=1)
    return pd.DataFrame(rows)


def _shares_figure(record: dict[str, Any], sim: dict[str, Any], years: np.ndarray) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = len(years)
    fig, axes = plt.subplots(2, 5, figsize=(15, 5.5), sharex=True)
    for r, key in enumerate(("phase_share", "pts_share")):
        a = np.asarray(record[key]).reshape(y, 5)
        b = np.asarray(sim[key]).reshape(y, 5)
        for k in range(5):
            ax = axes[r, k]
            ax.plot(years, a[:, k], color="black", label="record")
            ax.plot(years, b[:, k], color="#cc6677", label="posterior predictive")
            ax.set_title(f"{'phase' if r == 0 else 'PTS'} {k + 1}", fontsize=9)
            ax.set_ylim(0, 1)
    axes[0, 0].legend(fontsize=7)
    return _png(fig)


def calibration_report(problem: Problem, post: Posterior, out: Path, draws: int = 20) -> None:
    """calibration.html: identifiability, posterior, posterior predictive checks."""
    from spirallab.confront.calibrate import identifiability, posterior_predictive

    rec = problem.observed_stats()
    ppc = posterior_predictive(problem, post, draws=draws)
    years = problem.observed.years
    tv = share_comparison(rec, ppc, years)
    tv.to_csv(out / "ppc_tv.csv", index=False)
    checks = {
        k: {"record": np.round(rec[k], 4).tolist(), "predictive": np.round(ppc[k], 4).tolist()}
        for k in ("phase_moves", "pts_moves", "pts_drift", "time_in_phase", "ratified")
    }
    (out / "ppc.json").write_text(json.dumps(checks, indent=2), encoding="utf-8")
    rows = [
        pd.DataFrame(
            {
                "statistic": [f"{k}[{i}]" for i in range(len(v["record"]))],
                "record": v["record"],
                "predictive": v["predictive"],
            }
        )
        for k, v in checks.items()
    ]
    body = [
        f"<p>{html.escape(json.dumps({k: post.meta[k] for k in SHOWN}))}</p>",
        "<h2>Identifiability: posterior against prior width</h2>",
        _table(identifiability(post)),
        "<h2>Posterior</h2>",
        _posterior_figure(post.particles, post.meta["priors"]),
        "<h2>Posterior predictive: phase and PTS shares per year</h2>",
        _shares_figure(rec, ppc, years),
        f"<p>Largest total-variation distance: phases {tv['tv_phase_share'].max():.3f},"
        f" PTS {tv['tv_pts_share'].max():.3f}.</p>",
        _table(tv.round(3)),
        "<h2>Posterior predictive: transitions, time in phase, ratification</h2>",
        _table(pd.concat(rows, ignore_index=True)),
    ]
    (out / "calibration.html").write_text(_page("Calibration", body), encoding="utf-8")


def _reliability_figure(allf: pd.DataFrame, observed: pd.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    long = observed.melt(
        id_vars=["country_id", "year", "target"],
        value_vars=[f"o{k}" for k in range(1, 6)],
        var_name="lv",
        value_name="o",
    )
    long["level"] = long["lv"].str[1].astype(int)
    m = allf.merge(
        long[["country_id", "year", "target", "level", "o"]],
        on=["country_id", "year", "target", "level"],
    )
    methods = sorted(m["method"].unique())
    fig, ax = plt.subplots(figsize=(5.5, 5))
    bins = np.linspace(0, 1, 11)
    for method in methods:
        g = m[m["method"] == method]
        idx = np.clip(np.digitize(g["probability"], bins) - 1, 0, 9)
        freq = g.groupby(idx)["o"].mean()
        mid = g.groupby(idx)["probability"].mean()
        ax.plot(mid, freq, marker="o", label=method)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=7)
    ax.set_title("reliability, all levels and targets")
    return _png(fig)


def _fans(fc: pd.DataFrame, history: pd.DataFrame, target: str, origin: int) -> list[str]:
    """Every country's fan (median, 50% and 90% bands) with what was then observed.

    Small multiples drawn on one set of axes (cells offset in x and y): hundreds of separate
    axes would take minutes to draw.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = fc[fc["target"] == target]
    ids = sorted(sub["country_id"].unique())
    if not ids:
        return []
    cols = 8
    rows = -(-len(ids) // cols)
    past = 1  # the cell starts just before the origin
    span = int(sub["year"].max()) - origin + past + 3
    fig, ax = plt.subplots(figsize=(16, 1.15 * rows + 0.6))
    hist = history[(history["year"] > origin - past) & (history["year"] <= sub["year"].max())]
    wide = sub.pivot_table(index=["country_id", "year"], columns="level", values="probability")
    cdf = wide.cumsum(axis=1)
    levels = np.array(cdf.columns, dtype=float)
    for n, cid in enumerate(ids):
        x0 = (n % cols) * span - (origin - past)
        y0 = -(n // cols) * 6.5
        c = cdf.loc[cid]
        yrs = c.index.to_numpy(dtype=float) + x0
        values = c.to_numpy()

        def level_at(q: float, values: np.ndarray = values) -> np.ndarray:
            out: np.ndarray = levels[np.argmax(values >= q - 1e-9, axis=1)]
            return out

        for q, alpha in ((0.05, 0.2), (0.25, 0.45)):
            ax.fill_between(yrs, level_at(q) + y0, level_at(1 - q) + y0, color="#4477aa",
                            alpha=alpha, step="mid", linewidth=0)
        ax.step(yrs, level_at(0.5) + y0, where="mid", color="#4477aa", linewidth=1)
        h = hist[hist["country_id"] == cid]
        ax.plot(h["year"] + x0, h["value"] + y0, color="black", marker=".", markersize=2,
                linewidth=0.7)
        ax.text(origin - past + x0, y0 + 5.6, cid, fontsize=6)
        ax.plot([origin + 0.5 + x0] * 2, [y0 + 0.6, y0 + 5.4], color="grey", linewidth=0.4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{target}: forecast median, 50% and 90% bands after the origin (grey line);"
                 " what happened (levels 1-5) in black", fontsize=9)
    return [_png(fig)]


def _difference_section(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The comparison's uncertainty: paired bootstrap intervals, if there is a comparison."""
    if "difference" not in tables:
        return []
    from spirallab.confront.score import interval_table

    by_h = interval_table(tables["difference_by_horizon"], "horizon").reset_index()
    overall = tables["difference"].round(4)
    return [
        "<h2>How sure: mean log-score difference, this forecast minus each method</h2>",
        "<p>Positive favours this forecast. 90% intervals from a paired bootstrap over"
        " countries (each country's years and targets resampled together, 2,000 draws).</p>",
        _table(overall),
        _table(by_h),
    ]


def forecast_report(
    allf: pd.DataFrame,
    scores: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    observed: pd.DataFrame,
    meta: dict[str, Any],
    folder: Path,
    path: Path,
) -> None:
    """report.html: skill tables, reliability, each country's fan, the posterior."""
    from spirallab.confront.score import outcomes  # noqa: F401  (documented dependency)

    main = allf[allf["method"].str.startswith("spiral")]
    main = main[main["method"] == main["method"].iloc[0]] if len(main) else main
    obs_long = observed.copy()
    obs_long["value"] = (obs_long[[f"o{k}" for k in range(1, 6)]].to_numpy() * np.arange(1, 6)).sum(
        axis=1
    )
    body = [
        f"<p>origin {meta['origin']}, forecasts to {meta['to']}; rows scored by every method:"
        f" {len(scores) // max(scores['method'].nunique(), 1)}</p>",
        "<h2>Skill: mean scores (log score higher is better; Brier, RPS lower)</h2>",
        _table(tables["overall"]),
        *_difference_section(tables),
        "<h2>Mean log score per horizon</h2>",
        _table(tables["by_horizon"]),
        "<h2>Mean log score per target</h2>",
        _table(tables["by_target"]),
        "<h2>Reliability</h2>",
        _reliability_figure(allf, observed),
    ]
    post_path = folder / "posterior.parquet"
    if post_path.is_file() and "calibration" in meta:
        body += [
            "<h2>Posterior</h2>",
            _posterior_figure(pd.read_parquet(post_path), meta["calibration"]["priors"]),
        ]
    for target in sorted(main["target"].unique()):
        hist = obs_long[obs_long["target"] == target]
        body += [f"<h2>Fans: {html.escape(target)}</h2>",
                 *_fans(main, hist, target, int(meta["origin"]))]
    body += ["<h2>Mean log score per country</h2>", _table(tables["by_country_id"])]
    path.write_text(_page("Forecast scores", body), encoding="utf-8")
