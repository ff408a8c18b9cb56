"""The sensitivity report: index tables, paper-ready figures and one self-contained HTML page.

:func:`write_sensitivity_report` writes to a folder::

    indices.csv, indices.parquet    the tidy index table (one row per output and factor)
    second_order.csv                S2 per output and pair of factors (Sobol' designs with S2)
    sensitivity.json                the analysis settings, caveats and skipped outputs
    sensitivity.html                offline page: caveats, heat map, one section per output
    sensitivity-heatmap.png         outputs x factors (ST, normalised mu* or delta)
    sensitivity-<output>.png        per output: S1 and ST (or mu* and sigma, or delta and S1)

Figures are drawn with matplotlib's object API (no pyplot, nothing global changed) and saved at
200 dpi; the page embeds the very same PNG bytes, so it works offline and matches the files.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spirallab.errors import InputError
from spirallab.experiments.sensitivity import Sensitivity, describe_output, short_factor
from spirallab.model.params import PARAMETERS
from spirallab.model.result import atomic_write
from spirallab.report.html import esc, figure_html, page_html

DPI = 200
FONT = 9.0
# Okabe-Ito colours (safe for the common forms of colour blindness).
FIRST_COLOUR = "#0072B2"
TOTAL_COLOUR = "#E69F00"
SIGMA_COLOUR = "#999999"
DELTA_COLOUR = "#009E73"

METHOD_NAMES = {
    "sobol": "Sobol' indices (Saltelli design)",
    "morris": "Morris elementary effects",
    "delta": "delta moment-independent measure (Latin hypercube)",
}
HEAT_LABEL = {
    "sobol": "ST, total-order Sobol' index",
    "morris": "mu* / largest mu* of the output",
    "delta": "delta, moment-independent index",
}
HEAT_COLUMN = {"sobol": "ST", "morris": "mu_star_norm", "delta": "delta"}


# --------------------------------------------------------------------------- figures


def png_bytes(fig: Figure) -> bytes:
    """Encode ``fig`` as PNG at :data:`DPI`, without metadata (bytes depend only on the drawing)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _country_text(sens: Sensitivity) -> str:
    return "pooled over countries" if sens.country == "ALL" else f"country {sens.country}"


def _sample_text(sens: Sensitivity) -> str:
    if sens.method == "sobol":
        return f"N = {sens.base_samples} ({sens.n_points} points)"
    if sens.method == "morris":
        return f"r = {sens.base_samples} trajectories ({sens.n_points} points)"
    return f"{sens.n_points} points"


def bar_figure(sens: Sensitivity, output: str) -> Figure:
    """Per factor: S1 and ST (Sobol'), mu* and sigma (Morris) or delta and S1, with CI bars."""
    rows = sens.for_output(output)
    title, unit = describe_output(output)
    n = len(rows)
    fig = Figure(figsize=(6.8, 1.5 + 0.46 * n), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(np.float64)  # rank 1 on top
    labels = [short_factor(f) for f in rows["factor"]]
    level = round(sens.conf_level * 100)
    err = {"capsize": 2.5, "elinewidth": 0.9, "ecolor": "#333333"}
    if sens.method == "morris":
        series = [
            ("mu_star", "mu_star_conf", f"mu* (mean |effect|), {level}% CI", FIRST_COLOUR),
            ("sigma", None, "sigma (spread of effects)", SIGMA_COLOUR),
        ]
        xlabel = f"elementary effect: change in output ({unit}) per full range of the factor"
    elif sens.method == "sobol":
        series = [
            ("S1", "S1_conf", f"S1, first order, {level}% CI", FIRST_COLOUR),
            ("ST", "ST_conf", f"ST, total order, {level}% CI", TOTAL_COLOUR),
        ]
        xlabel = "Sobol' index: share of the output's variance"
    else:
        series = [
            ("delta", "delta_conf", f"delta, {level}% CI", DELTA_COLOUR),
            ("S1", "S1_conf", f"S1, first order, {level}% CI", FIRST_COLOUR),
        ]
        xlabel = "index (0 = no influence)"
    height = 0.38
    lows: list[float] = [0.0]
    highs: list[float] = [0.0]
    for i, (col, conf, label, colour) in enumerate(series):
        values = rows[col].to_numpy(dtype=np.float64)
        xerr = rows[conf].to_numpy(dtype=np.float64) if conf else None
        offset = height / 2 if i == 0 else -height / 2
        ax.barh(
            y + offset,
            values,
            height=height,
            color=colour,
            label=label,
            xerr=xerr,
            error_kw=err,
        )
        spread = values if xerr is None else np.r_[values - xerr, values + xerr]
        finite = spread[np.isfinite(spread)]
        if finite.size:
            lows.append(float(finite.min()))
            highs.append(float(finite.max()))
    if sens.method in ("sobol", "delta"):
        # Indices live on 0-1; keep that scale, but show intervals that reach past it (clipped
        # at -1 and 2 so one huge interval does not flatten the bars).
        left, right = max(-1.0, min(lows)), min(2.0, max(1.0, max(highs)))
    else:
        left, right = min(lows), max(highs)
    pad = 0.03 * (right - left or 1.0)
    ax.set_xlim(left - pad, right + pad)
    ax.axvline(0.0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=FONT)
    ax.tick_params(axis="x", labelsize=FONT)
    ax.set_xlabel(xlabel, fontsize=FONT)
    ax.set_title(
        f"{title}\n{output}, {_country_text(sens)}, {_sample_text(sens)}",
        fontsize=FONT + 1,
        loc="left",
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    # Below the axes, so it never hides a bar or an interval.
    fig.legend(fontsize=FONT - 1, loc="outside lower center", ncols=2, frameon=False)
    return fig


def heatmap_figure(sens: Sensitivity) -> Figure:
    """Outputs (rows) x factors (columns) of the ranking index, annotated with its value."""
    col = HEAT_COLUMN[sens.method]
    table = sens.indices.pivot(index="output", columns="factor", values=col)
    outputs = sens.outputs
    factors = list(table.mean(axis=0).sort_values(ascending=False).index)
    values = table.loc[outputs, factors].to_numpy(dtype=np.float64)
    n_out, n_fac = values.shape
    fig = Figure(figsize=(3.4 + 0.72 * n_fac, 1.8 + 0.34 * n_out), layout="constrained")
    ax = fig.add_subplot()
    shown = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0)
    image = ax.imshow(shown, aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(n_out):
        for j in range(n_fac):
            v = values[i, j]
            text = "–" if not math.isfinite(v) else f"{v:.2f}"
            colour = "white" if shown[i, j] > 0.6 else "#1a1a1a"
            ax.text(j, i, text, ha="center", va="center", fontsize=FONT - 1, color=colour)
    ax.set_xticks(
        range(n_fac), [short_factor(f) for f in factors], rotation=35, ha="right", fontsize=FONT
    )
    ax.set_yticks(range(n_out), outputs, fontsize=FONT)
    ax.set_xlabel("factor", fontsize=FONT)
    ax.set_ylabel("output", fontsize=FONT)
    ax.set_title(
        f"{sens.experiment or 'sweep'}: {HEAT_LABEL[sens.method]}\n"
        f"{_country_text(sens)}, {_sample_text(sens)}",
        fontsize=FONT + 1,
        loc="left",
    )
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(HEAT_LABEL[sens.method], fontsize=FONT)
    bar.ax.tick_params(labelsize=FONT - 1)
    return fig


# --------------------------------------------------------------------------- html


def _num(value: object, digits: int = 3) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(v) else f"{v:.{digits}f}"


def _pm(row: pd.Series, col: str) -> str:
    return f"{_num(row[col])} ± {_num(row[f'{col}_conf'])}"


def _factor_unit(name: str) -> str:
    if name.startswith("parameters."):
        spec = {p.name: p for p in PARAMETERS}.get(name.split(".", 1)[1])
        return spec.unit if spec is not None else ""
    if name.endswith(".strength"):
        return "share (0-1)"
    if name.endswith((".start", ".end")):
        return "year"
    return ""


def _slug(output: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "-", output)


def _index_table(sens: Sensitivity, output: str) -> str:
    rows = sens.for_output(output)
    if sens.method == "sobol":
        head = ["factor", "rank", "S1 ± CI", "ST ± CI"]
        cells = [[_pm(r, "S1"), _pm(r, "ST")] for _, r in rows.iterrows()]
    elif sens.method == "morris":
        head = ["factor", "rank", "mu", "mu* ± CI", "sigma", "mu* / max"]
        cells = [
            [_num(r["mu"]), _pm(r, "mu_star"), _num(r["sigma"]), _num(r["mu_star_norm"], 2)]
            for _, r in rows.iterrows()
        ]
    else:
        head = ["factor", "rank", "delta ± CI", "S1 ± CI"]
        cells = [[_pm(r, "delta"), _pm(r, "S1")] for _, r in rows.iterrows()]
    ths = "".join(
        f'<th class="name">{esc(h)}</th>' if i == 0 else f"<th>{esc(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        f'<tr><td class="name">{esc(f)}</td><td>{int(k)}</td>'
        + "".join(f"<td>{esc(c)}</td>" for c in cs)
        + "</tr>"
        for f, k, cs in zip(rows["factor"], rows["rank"], cells, strict=True)
    )
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table>"


def _second_order_table(sens: Sensitivity, output: str) -> str:
    if sens.second_order is None:
        return ""
    rows = sens.second_order[sens.second_order["output"] == output]
    rows = rows.reindex(rows["S2"].abs().sort_values(ascending=False).index)
    body = "".join(
        f'<tr><td class="name">{esc(a)} × {esc(b)}</td><td>{esc(_num(s))} ± {esc(_num(c))}</td>'
        "</tr>"
        for a, b, s, c in zip(
            rows["factor_1"], rows["factor_2"], rows["S2"], rows["S2_conf"], strict=True
        )
    )
    return (
        "<table><caption>Second-order indices (interaction of two factors)</caption>"
        f'<thead><tr><th class="name">pair</th><th>S2 ± CI</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _caveat_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in items) + "</ul>"


def _how_to_read(sens: Sensitivity) -> str:
    level = round(sens.conf_level * 100)
    if sens.method == "sobol":
        text = (
            "S1 is the share of an output's variance due to a factor alone; ST adds every "
            "interaction the factor takes part in. A factor with ST near 0 can be fixed anywhere "
            "in its range without changing the output; ST much larger than S1 means the factor "
            "acts through interactions."
        )
    elif sens.method == "morris":
        text = (
            "mu* is the mean absolute change in the output when the factor moves across its "
            "range (in the output's units, so compare factors within an output); sigma is the "
            "spread of those changes: sigma comparable to or above mu* means a non-linear effect "
            "or interactions with other factors. The heat map divides mu* by the largest mu* of "
            "each output. Morris screens factors; it does not apportion variance."
        )
    else:
        text = (
            "delta measures how much the whole distribution of the output shifts when a factor "
            "is known (0: not at all); S1 is the share of variance due to the factor alone, "
            "estimated from the same points."
        )
    return (
        f'<p class="note">{esc(text)} Error bars and ± are {level}% bootstrap confidence '
        f"intervals ({sens.resamples} resamples). Outputs are summaries over "
        f"{sens.replicates} replicates per point, {esc(_country_text(sens))}.</p>"
    )


def report_html(sens: Sensitivity, images: dict[str, bytes]) -> str:
    """The page: settings, caveats, skipped outputs, heat map, factors, one section per output."""

    def uri(key: str) -> str:
        return "data:image/png;base64," + base64.b64encode(images[key]).decode("ascii")

    meta = [
        ("Experiment", sens.experiment),
        ("Scenario", sens.scenario),
        ("Design", f"{sens.design}, {_sample_text(sens)}"),
        ("Method", METHOD_NAMES[sens.method]),
        ("Country", _country_text(sens)),
        ("Replicates per point", str(sens.replicates)),
        ("Bootstrap", f"{sens.resamples} resamples, {round(sens.conf_level * 100)}% intervals"),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta)
    general = [c.message for c in sens.caveats_for(None)]
    per_output = [c.message for c in sens.caveats if c.output is not None]
    if general or per_output:
        warn = (
            f"<section><h2>Warnings ({len(general) + len(per_output)})</h2>"
            f'<div class="warn" role="note">{_caveat_list(general + per_output)}</div></section>'
        )
    else:
        warn = (
            '<section><h2>Warnings</h2><p class="muted">None: the sample meets the usual size '
            "guidance and the top factors' intervals are narrow.</p></section>"
        )
    skipped = ""
    if sens.skipped:
        items = "".join(f"<li><b>{esc(s.output)}</b>: {esc(s.reason)}</li>" for s in sens.skipped)
        skipped = f"<section><h2>Outputs not analysed</h2><ul>{items}</ul></section>"
    factor_rows = "".join(
        f'<tr><td class="name">{esc(f)}</td><td>{lo:g}</td><td>{hi:g}</td>'
        f'<td class="name">{esc(_factor_unit(f))}</td></tr>'
        for f, (lo, hi) in zip(sens.factors, sens.bounds, strict=True)
    )
    factors = (
        "<section><h2>Factors</h2><table><thead><tr><th class='name'>factor</th><th>low</th>"
        f"<th>high</th><th class='name'>unit</th></tr></thead><tbody>{factor_rows}</tbody>"
        "</table></section>"
    )
    nav = "".join(f"<li><a href='#o-{_slug(o)}'>{esc(o)}</a></li>" for o in sens.outputs)
    heat = figure_html(
        uri("heatmap"),
        f"Heat map of {HEAT_LABEL[sens.method]} for {len(sens.outputs)} outputs and "
        f"{len(sens.factors)} factors",
        esc(
            f"{HEAT_LABEL[sens.method]} per output (row) and factor (column); darker is more "
            "influential. Factors are ordered by their mean across outputs."
        ),
    )
    sections = []
    for o in sens.outputs:
        title, unit = describe_output(o)
        notes = [c.message for c in sens.caveats_for(o)]
        warn_o = f'<div class="warn" role="note">{_caveat_list(notes)}</div>' if notes else ""
        top = sens.for_output(o).iloc[0]
        alt = (
            f"Bar chart of the indices of {len(sens.factors)} factors for {o}; the most "
            f"influential is {short_factor(str(top['factor']))} "
            f"({sens.rank_index} = {_num(top[sens.rank_index])})"
        )
        clip = (
            " The axis spans at most -1 to 2; longer intervals run off it."
            if sens.method != "morris"
            else ""
        )
        caption = esc(f"{title} ({unit}); factors ordered by {sens.rank_index}.{clip}")
        sections.append(
            f"<section id='o-{_slug(o)}'><h2>{esc(title)}</h2>"
            f"<p class='muted'>column <code>{esc(o)}</code>, unit: {esc(unit)}</p>{warn_o}"
            f"{figure_html(uri(o), alt, caption)}{_index_table(sens, o)}"
            f"{_second_order_table(sens, o)}</section>"
        )
    header = (
        f"<header><h1>Sensitivity: {esc(sens.experiment or 'sweep')}</h1>"
        f"<dl class='meta'>{dl}</dl>{_how_to_read(sens)}</header>"
    )
    overview = f"<section><h2>Overview</h2>{heat}<nav><ul>{nav}</ul></nav></section>"
    return page_html(
        f"Sensitivity: {sens.experiment or 'sweep'}",
        [header, warn, skipped, overview, factors, *sections],
    )


# --------------------------------------------------------------------------- writing


class ReportFolder:
    """An output folder, created up front; each file is written atomically and remembered."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.paths: dict[str, Path] = {}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the output folder ({exc.strerror or exc})",
                where="--out",
                found=str(self.folder),
            ) from None

    def put(self, role: str, name: str, write: Any) -> None:
        path = self.folder / name
        try:
            atomic_write(path, write)
        except OSError as exc:
            raise InputError(f"cannot write ({exc.strerror or exc})", file=path) from None
        self.paths[role] = path


def write_sensitivity_report(sens: Sensitivity, folder: str | Path) -> dict[str, Path]:
    """Write the tables, figures and page into ``folder``; returns the paths by role."""
    out = ReportFolder(folder)
    put, paths = out.put, out.paths
    images = {"heatmap": png_bytes(heatmap_figure(sens))}
    for o in sens.outputs:
        images[o] = png_bytes(bar_figure(sens, o))

    put("csv", "indices.csv", lambda p: sens.indices.to_csv(p, index=False))
    put("parquet", "indices.parquet", lambda p: sens.indices.to_parquet(p, index=False))
    if sens.second_order is not None:
        s2 = sens.second_order
        put("second_order", "second_order.csv", lambda p: s2.to_csv(p, index=False))
    summary = json.dumps(sens.summary(), indent=2)
    put("json", "sensitivity.json", lambda p: p.write_text(summary, encoding="utf-8"))
    page = report_html(sens, images)
    put("html", "sensitivity.html", lambda p: p.write_text(page, encoding="utf-8"))
    for key, data in images.items():
        name = f"sensitivity-{_slug(key)}.png"
        put(f"png:{key}", name, lambda p, data=data: p.write_bytes(data))
    return paths
