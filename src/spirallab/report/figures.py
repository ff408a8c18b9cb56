"""Figures for the report, drawn with matplotlib's object API on the Agg canvas.

Figures are built as :class:`matplotlib.figure.Figure` objects, never through pyplot, so they are
not registered with a GUI backend and are freed as soon as they are encoded; nothing global (the
backend, rcParams) is changed. Each is returned as a base64 PNG data URI so the page works offline.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from spirallab.model.state import PHASE_LABELS
from spirallab.report.stats import LATER_PHASES, PHASES

# One source for phase names: the model's labels, capitalised for display.
PHASE_NAMES: dict[int, str] = {k: v.capitalize() for k, v in PHASE_LABELS.items()}

# Okabe-Ito colours, ordered warm (violation) to cool (compliance); safe for the common forms of
# colour blindness, and neighbouring phases differ in lightness as well as hue.
PHASE_COLOURS: dict[int, str] = {
    1: "#D55E00",
    2: "#E69F00",
    3: "#F0E442",
    4: "#56B4E9",
    5: "#0072B2",
}
# Lines that are not phases use colours outside the phase palette.
MEDIAN_COLOUR = "#222222"
POLITICAL_COLOUR = "#CC79A7"
ENDEMIC_COLOUR = "#009E73"
BAND90_COLOUR = "#d9d9d9"
BAND50_COLOUR = "#a6a6a6"

DPI = 110
FONT = 8.0


def to_data_uri(fig: Figure) -> str:
    """Encode ``fig`` as a PNG data URI (no metadata, so the bytes depend only on the drawing)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax: Axes, title: str, xlim: tuple[float, float]) -> None:
    # Titles carry user text (country names): never read "$...$" in them as math markup.
    ax.set_title(title, fontsize=FONT + 1, loc="left", parse_math=False)
    ax.set_xlim(*xlim)
    ax.tick_params(labelsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)


def phase_legend_handles() -> list[Patch]:
    """One coloured patch per phase, for figure legends."""
    return [Patch(facecolor=PHASE_COLOURS[k], label=f"{k} {PHASE_NAMES[k]}") for k in PHASES]


def fan_legend_handles() -> list[Artist]:
    """The bands and lines of the repression fan chart, for figure legends."""
    return [
        Patch(facecolor=BAND90_COLOUR, label="repression, 90% band"),
        Patch(facecolor=BAND50_COLOUR, label="repression, 50% band"),
        Line2D([], [], color=MEDIAN_COLOUR, linewidth=1.4, label="median repression"),
        Line2D(
            [], [], color=POLITICAL_COLOUR, linewidth=1.3, linestyle="--", label="median political"
        ),
        Line2D([], [], color=ENDEMIC_COLOUR, linewidth=1.2, linestyle=":", label="median endemic"),
    ]


def draw_ribbon(ax: Axes, shares: pd.DataFrame, xlim: tuple[float, float], title: str) -> None:
    """Stacked areas of the share in each phase per year (``shares``: index year, columns 1-5)."""
    years = shares.index.to_numpy(dtype=np.float64)
    ax.stackplot(
        years,
        shares[list(PHASES)].to_numpy().T,
        colors=[PHASE_COLOURS[k] for k in PHASES],
        linewidth=0.0,
    )
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("share in phase", fontsize=FONT)
    _style(ax, title, xlim)


def draw_fan(ax: Axes, fan: pd.DataFrame, xlim: tuple[float, float], title: str) -> None:
    """Median repression with 50% and 90% bands across replicates; political median dashed."""
    years = fan.index.to_numpy(dtype=np.float64)
    ax.fill_between(years, fan["q05"], fan["q95"], color=BAND90_COLOUR, linewidth=0)
    ax.fill_between(years, fan["q25"], fan["q75"], color=BAND50_COLOUR, linewidth=0)
    ax.plot(years, fan["q50"], color=MEDIAN_COLOUR, linewidth=1.4, label="median, overall")
    ax.plot(
        years,
        fan["political"],
        color=POLITICAL_COLOUR,
        linewidth=1.3,
        linestyle="--",
        label="median, political",
    )
    if "endemic" in fan.columns:
        ax.plot(
            years,
            fan["endemic"],
            color=ENDEMIC_COLOUR,
            linewidth=1.2,
            linestyle=":",
            label="median, endemic",
        )
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("repression (0-1)", fontsize=FONT)
    _style(ax, title, xlim)


def draw_entries(
    ax: Axes,
    entries: pd.DataFrame,
    reference: pd.DataFrame,
    xlim: tuple[float, float],
    title: str,
) -> None:
    """Simulated first year in phases 2-5 (box: quartiles, whiskers 5-95%) beside history.

    ``entries`` has one row per replicate and a column per phase (NaN: never reached);
    ``reference`` the historical outcomes (``label year year_end phase``) for this country, drawn
    as black diamonds (a band where the outcome spans years) on the row of the phase it marks.
    """
    ref_phases = [int(p) for p in reference["phase"].dropna().unique()]
    rows = sorted(set(LATER_PHASES) | set(ref_phases))
    n = max(len(entries), 1)
    for k in rows:
        if k not in entries.columns:
            continue
        values = entries[k].dropna().to_numpy(dtype=np.float64)
        if values.size:
            ax.boxplot(
                [values],
                positions=[k],
                orientation="horizontal",
                widths=0.5,
                whis=(5, 95),
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": PHASE_COLOURS[k], "edgecolor": "#333333"},
                medianprops={"color": "#000000", "linewidth": 1.4},
                whiskerprops={"color": "#333333"},
                capprops={"color": "#333333"},
            )
        ax.text(xlim[1], k, f" {values.size / n:.0%}", va="center", ha="left", fontsize=FONT - 1)
    # Alternate labels above and below the row so two outcomes for one phase stay readable.
    seen: dict[int, int] = {}
    for row in reference.itertuples(index=False):
        k = int(row.phase)
        y0 = float(row.year)
        offset = -0.36 if seen.get(k, 0) % 2 == 0 else 0.42
        seen[k] = seen.get(k, 0) + 1
        if not pd.isna(row.year_end) and float(row.year_end) > y0:
            ax.fill_betweenx(
                [k - 0.3, k + 0.3],
                y0,
                float(row.year_end),
                color="#000000",
                alpha=0.18,
                linewidth=0,
            )
        ax.plot([y0], [k], marker="D", color="#000000", markersize=5, linestyle="none")
        label = str(row.label)
        label = label if len(label) <= 34 else label[:33] + "…"
        ax.text(
            y0,
            k + offset,
            f"{label} ({int(y0)})",
            parse_math=False,
            fontsize=FONT - 1.5,
            ha="center",
            va="center",
            color="#000000",
        )
    ax.set_yticks(rows, [PHASE_NAMES[k] for k in rows], fontsize=FONT)
    ax.set_ylim(max(rows) + 0.7, min(rows) - 0.7)
    _style(ax, title, xlim)
    ax.set_xlabel("year first reached; ◆ history; share reaching", fontsize=FONT)


def _inches(fig: Figure, left: float, bottom: float, width: float, height: float) -> Axes:
    """Add axes placed in inches: a fixed layout is much faster than a layout engine."""
    w, h = fig.get_size_inches()
    return fig.add_axes((left / w, bottom / h, width / w, height / h))


def country_figure(
    name: str,
    shares: pd.DataFrame,
    fan: pd.DataFrame,
    entries: pd.DataFrame | None,
    reference: pd.DataFrame | None,
    xlim: tuple[float, float],
) -> Figure:
    """One row of panels for a country: phase ribbon, repression fan, and history if any.

    With history the legend runs in two rows under the panels; without it, the legend takes the
    place of the third panel, so both layouts are equally wide and line up on the page.
    """
    with_history = entries is not None and reference is not None and not reference.empty
    width = 12.6
    height, top = 3.5, 0.32
    bottom = 0.95 if with_history else 0.45
    fig = Figure(figsize=(width, height))
    panel_h = height - bottom - top
    draw_ribbon(_inches(fig, 0.45, bottom, 3.35, panel_h), shares, xlim, f"{name}: P(phase)")
    draw_fan(_inches(fig, 4.5, bottom, 3.5, panel_h), fan, xlim, f"{name}: repression")
    if with_history:
        assert entries is not None and reference is not None
        ax = _inches(fig, 9.75, bottom, 2.4, panel_h)
        draw_entries(ax, entries, reference, xlim, f"{name}: first reached vs history")
        # Legends fill column by column: interleave so phases form row one, fan lines row two.
        handles = [
            h
            for pair in zip(phase_legend_handles(), fan_legend_handles(), strict=True)
            for h in pair
        ]
        fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=5,
            fontsize=FONT,
            frameon=False,
        )
    else:
        fig.legend(
            handles=phase_legend_handles() + fan_legend_handles(),
            loc="center left",
            bbox_to_anchor=(8.4 / width, 0.5),
            ncols=1,
            fontsize=FONT,
            frameon=False,
        )
    return fig


def aggregate_ribbon_figure(shares: pd.DataFrame, xlim: tuple[float, float]) -> Figure:
    """Share of all country-replicates in each phase per year (``shares`` indexed by year)."""
    fig = Figure(figsize=(10.0, 3.4))
    ax = _inches(fig, 0.7, 0.4, 6.9, 2.65)
    draw_ribbon(ax, shares, xlim, "All countries: share in each phase by year")
    ax.set_ylabel("share of country-replicates", fontsize=FONT)
    fig.legend(
        handles=phase_legend_handles(),
        loc="center left",
        bbox_to_anchor=(0.78, 0.5),
        fontsize=FONT,
        frameon=False,
    )
    return fig


def _decade_ticks(xlim: tuple[float, float]) -> list[float]:
    """Ticks every 20 years (every 10 for short spans) within the limits."""
    step = 10 if xlim[1] - xlim[0] <= 40 else 20
    first = math.ceil(xlim[0] / step) * step
    return [float(y) for y in range(first, int(xlim[1]) + 1, step)]


def small_ribbons_figure(
    panels: Sequence[tuple[str, pd.DataFrame]], xlim: tuple[float, float], ncols: int = 6
) -> Figure:
    """A grid of small phase ribbons sharing axes, one per (name, shares-by-year) panel."""
    nrows = max(1, -(-len(panels) // ncols))
    height = 1.55 * nrows + 0.6
    fig = Figure(figsize=(12.0, height))
    # Axes are not shared: sharing makes every limit change ripple through all panels (slow);
    # the limits are fixed and equal anyway, so inner tick labels are simply hidden.
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.subplots_adjust(
        left=0.04, right=0.99, bottom=0.55 / height, top=1 - 0.25 / height, hspace=0.5, wspace=0.1
    )
    xticks = _decade_ticks(xlim)
    for i, (ax, (name, shares)) in enumerate(zip(axes.flat, panels, strict=False)):
        draw_ribbon(ax, shares, xlim, name)
        ax.title.set_fontsize(FONT)
        ax.set_ylabel("")
        ax.set_xticks(xticks)
        ax.set_yticks([0.0, 0.5, 1.0])
        ax.tick_params(
            labelsize=FONT - 1.5,
            labelleft=i % ncols == 0,
            labelbottom=i + ncols >= len(panels),
        )
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    fig.legend(
        handles=phase_legend_handles(),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=5,
        fontsize=FONT,
        frameon=False,
    )
    return fig


def time_in_phase_figure(years: pd.DataFrame, still_in: Mapping[int, float], end: int) -> Figure:
    """Small multiples: distribution of years spent in each phase among those that entered it.

    ``years`` has one row per replicate-country and a column per phase; ``still_in[k]`` is the
    share of replicate-countries still in phase k in the end year (their spell is censored).
    """
    fig = Figure(figsize=(12.0, 2.9))
    axes = fig.subplots(1, len(PHASES), sharey=False)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.16, top=0.74, wspace=0.3)
    total = max(len(years), 1)
    for ax, k in zip(axes, PHASES, strict=True):
        values = years[k].to_numpy(dtype=np.int64)
        values = values[values > 0]
        if values.size:
            counts = np.bincount(values)
            ax.bar(
                np.arange(counts.size),
                counts / values.size,
                width=1.0,
                color=PHASE_COLOURS[k],
                edgecolor="none",
            )
            # A median that is itself an observed count of years, never a fraction like 12.5.
            median = float(np.quantile(values, 0.5, method="inverted_cdf"))
            ax.axvline(median, color=MEDIAN_COLOUR, linewidth=1.0, linestyle="--")
            sub = f"entered {values.size / total:.0%}; median {median:g} y"
        else:
            sub = "never entered"
        ax.set_title(
            f"{PHASE_NAMES[k]}\n{sub}\nstill in at {end}: {still_in.get(k, 0.0):.0%}",
            fontsize=FONT,
            loc="left",
        )
        ax.tick_params(labelsize=FONT)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_xlabel("years in phase", fontsize=FONT)
    axes[0].set_ylabel("share of those entering", fontsize=FONT)
    return fig
