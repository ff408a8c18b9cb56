"""Charts for the workbench, drawn server side with matplotlib and sent as SVG (or into a PDF).

Figures use matplotlib's object API (never pyplot, so nothing global changes and threads do not
share state) and the report's colour-blind-safe Okabe-Ito phase palette. SVGs are written
without dates or random ids so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spirallab.report.figures import (
    BAND50_COLOUR,
    BAND90_COLOUR,
    MEDIAN_COLOUR,
    PHASE_COLOURS,
    PHASE_NAMES,
)

PHASES = (1, 2, 3, 4, 5)
FONT = 8.5
# rc_context changes matplotlib's global settings for the duration of a save; routes draw in
# several threads, so saves take turns (drawing the figures themselves does not need to).
_SAVE = threading.Lock()


def to_svg(fig: Figure) -> bytes:
    """The figure as SVG bytes, deterministic (no date, fixed id salt)."""
    import matplotlib

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with _SAVE, matplotlib.rc_context({"svg.hashsalt": "spirallab", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    fig.clear()
    return buf.getvalue()


def _style(ax: Axes, title: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=FONT + 1, loc="left")
    ax.tick_params(labelsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)


def _stack(ax: Axes, shares: pd.DataFrame, alpha: float = 1.0, label: bool = True) -> None:
    years = shares.index.to_numpy(dtype=float)
    names = [f"{k} {PHASE_NAMES[k]}" if label else f"_{k}" for k in PHASES]
    ax.stackplot(
        years,
        *[shares[k].to_numpy(dtype=float) for k in PHASES],
        colors=[PHASE_COLOURS[k] for k in PHASES],
        alpha=alpha,
        labels=names,
        linewidth=0,
    )


def world_chart(record: pd.DataFrame, forecast: pd.DataFrame) -> Figure:
    """Phase shares per year: the coded record, then (hatched, lighter) the forecast."""
    fig = Figure(figsize=(8.0, 2.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    _stack(ax, record)
    if not forecast.empty:
        last = record.iloc[[-1]] if not record.empty else forecast.iloc[[0]]
        joined = pd.concat([last, forecast])
        _stack(ax, joined, alpha=0.55, label=False)
        ax.axvline(float(last.index[0]), color=MEDIAN_COLOUR, linewidth=1.0, linestyle="--")
        ax.text(
            float(last.index[0]) + 0.3, 1.02, "forecast", fontsize=FONT, va="bottom"
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of countries", fontsize=FONT)
    _style(ax, "Phase shares per year (coded record; forecast after the line)")
    ax.legend(fontsize=FONT - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def quantiles(probs: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of discrete distributions over levels 1-5: rows of ``probs`` -> (rows, len(qs))."""
    cum = np.cumsum(probs, axis=1)
    cum = cum / cum[:, -1:]
    return np.stack([1 + (cum < q - 1e-12).sum(axis=1) for q in qs], axis=1).astype(float)


def country_chart(
    timeline: pd.DataFrame, pts_forecast: pd.DataFrame, phase_forecast: pd.DataFrame
) -> Figure:
    """Top: PTS (mean of sources) and its forecast fan; bottom: coded phase and P(phase)."""
    fig = Figure(figsize=(8.0, 4.2), dpi=100, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.1, 1.0])
    years = timeline["year"].to_numpy(dtype=float)
    pts = timeline[["pts_a", "pts_h", "pts_s"]].astype("Float64").mean(axis=1)
    top.plot(years, pts.to_numpy(dtype=float, na_value=np.nan), color=MEDIAN_COLOUR,
             linewidth=1.4, marker=".", label="PTS, mean of sources (observed)")
    if not pts_forecast.empty:
        fy = pts_forecast.index.to_numpy(dtype=float)
        q = quantiles(pts_forecast.to_numpy(dtype=float), (0.05, 0.25, 0.5, 0.75, 0.95))
        top.fill_between(fy, q[:, 0], q[:, 4], color=BAND90_COLOUR, step="mid",
                         label="forecast, 90% band")
        top.fill_between(fy, q[:, 1], q[:, 3], color=BAND50_COLOUR, step="mid",
                         label="forecast, 50% band")
        mean = pts_forecast.to_numpy(dtype=float) @ np.arange(1, 6)
        top.plot(fy, mean, color=MEDIAN_COLOUR, linestyle="--", linewidth=1.2,
                 label="forecast, expected level")
    top.set_ylim(0.8, 5.2)
    top.set_yticks([1, 2, 3, 4, 5])
    top.set_ylabel("PTS (5 = worst)", fontsize=FONT)
    _style(top, "Political Terror Scale")
    top.legend(fontsize=FONT - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    lo = timeline["phase_lo"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    hi = timeline["phase_hi"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    for y, a, b in zip(years, lo, hi, strict=True):
        if np.isnan(a):
            continue
        for k in range(int(a), int(b) + 1):
            bottom.bar(y, 1.0, bottom=k - 0.5, width=1.0, color=PHASE_COLOURS[k],
                       alpha=1.0 if a == b else 0.5, linewidth=0)
    if not phase_forecast.empty:
        fy = phase_forecast.index.to_numpy(dtype=float)
        for k in PHASES:
            p = phase_forecast[k].to_numpy(dtype=float)
            bottom.bar(fy, p * 0.9, bottom=k - 0.45, width=0.8, color=PHASE_COLOURS[k],
                       edgecolor=MEDIAN_COLOUR, linewidth=0.4)
    bottom.set_ylim(0.5, 5.5)
    bottom.set_yticks(list(PHASES))
    bottom.set_yticklabels([f"{k} {PHASE_NAMES[k][:12]}" for k in PHASES], fontsize=FONT - 1)
    _style(bottom, "Coded phase (pale: the data cannot tell these apart); forecast P(phase) as"
           " bar height")
    return fig


def whatif_chart(base: Sequence[float], with_levers: Sequence[float],
                 base_err: Sequence[tuple[float, float]],
                 with_err: Sequence[tuple[float, float]], end: int) -> Figure:
    """P(phase) at the horizon without and with the levers, with 90% intervals."""
    fig = Figure(figsize=(6.4, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(5)
    b, w = np.asarray(base), np.asarray(with_levers)
    be = np.abs(np.asarray(base_err).T - b)
    we = np.abs(np.asarray(with_err).T - w)
    ax.bar(x - 0.2, b, width=0.38, color=[PHASE_COLOURS[k] for k in PHASES], alpha=0.45,
           edgecolor=MEDIAN_COLOUR, hatch="//", yerr=be, capsize=2, label="without levers")
    ax.bar(x + 0.2, w, width=0.38, color=[PHASE_COLOURS[k] for k in PHASES],
           edgecolor=MEDIAN_COLOUR, yerr=we, capsize=2, label="with levers")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{k} {PHASE_NAMES[k][:14]}" for k in PHASES], fontsize=FONT - 1)
    ax.set_ylabel(f"P(phase in {end})", fontsize=FONT)
    ax.set_ylim(0, 1)
    _style(ax, f"Phase in {end}: hatched without, solid with the levers (90% intervals)")
    ax.legend(fontsize=FONT - 1, frameon=False)
    return fig
