"""The one-page country brief: what it says (pure) and its PDF (matplotlib's PDF backend).

The brief answers four questions for one country, in plain words: where it stands in the spiral
and on what evidence; what the model forecasts; which levers matter most and how sure the model
is about them; what the model cannot see. The HTML page prints on one A4 page (print
stylesheet); the PDF is drawn here so it needs no browser.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure

from spirallab.workbench.atlas import HORIZON, Atlas
from spirallab.workbench.playbook import plays_for
from spirallab.workbench.whatif import WhatIfResult

CAVEATS = (
    "The phase is read from published indicators (PTS, CIRI/CIRIGHTS, Fariss scores, treaty"
    " ratifications) and, where one exists, a case file; where they cannot tell two phases apart"
    " the brief says so instead of choosing.",
    "The data stop at the last year with PTS scores; anything after that, including recent"
    " events, is unknown to the model.",
    "The model is a simplification: it knows pressure from partners, networks and domestic"
    " groups, not elections, economic shocks, leaders' personalities or armed groups' plans.",
    "Material vulnerability and partners' strategic interest are not in the data; they are drawn"
    " at random from a calibrated distribution, so lever effects on aid or trade are rough.",
    "Lever effects are averages over many simulated futures; a lever that helps on average can"
    " fail in a given year, and small differences are within the stated uncertainty.",
)


@dataclass
class Brief:
    country_id: str
    name: str
    year: int
    phase: str
    label: str
    confidence: float | None
    evidence: str
    years_in: int
    trend: str
    events: list[dict[str, Any]]
    outlook: dict[str, float | None]
    forecast_line: str
    levers: list[dict[str, Any]]
    parameters: str
    plays: list[Any]
    caveats: tuple[str, ...] = CAVEATS


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def build_brief(atlas: Atlas, country_id: str, whatif: WhatIfResult | None) -> Brief:
    """The brief's content for one country (``whatif``: every lever alone, or None)."""
    table = atlas.world_table()
    row = table[table["country_id"] == country_id]
    if row.empty:
        raise KeyError(country_id)
    r = row.iloc[0]
    timeline = atlas.timeline(country_id)
    last = timeline[timeline["year"] == r["year"]].iloc[-1]
    events = [e for e in atlas.events(country_id) if e["year"] >= int(r["year"]) - 12]
    outlook = {"p_improve": r["p_improve"], "p_worsen": r["p_worsen"]}
    if atlas.forecast is None:
        forecast_line = (
            "No forecast: the workbench was started without a calibrated posterior"
            " (spirallab serve --posterior DIR)."
        )
    else:
        p_i, p_w = outlook["p_improve"], outlook["p_worsen"]
        forecast_line = (
            f"Over {HORIZON} years from {atlas.forecast.origin}: chance of a better phase"
            f" {_pct(p_i)}, of a worse one {_pct(p_w)}"
            + ("" if p_i is None or p_w is None else f", of the same {_pct(1 - p_i - p_w)}")
            + "."
        )
    levers: list[dict[str, Any]] = []
    parameters = "no what-if was run"
    if whatif is not None:
        parameters = whatif.parameters
        for e in whatif.effects:
            m = e.mean_phase
            sure = "helps" if m.lo > 0 else "harms" if m.hi < 0 else "unclear"
            levers.append(
                {
                    "label": e.lever.label,
                    "mean": m.mean,
                    "lo": m.lo,
                    "hi": m.hi,
                    "p_high": e.p_high.mean,
                    "verdict": sure,
                }
            )
    conf = last.get("confidence")
    return Brief(
        country_id=country_id,
        name=str(r["name"]),
        year=int(r["year"]),
        phase=str(r["phase"]),
        label=str(r["label"]),
        confidence=None if conf is None or (isinstance(conf, float) and np.isnan(conf))
        else float(conf),
        evidence=str(last.get("evidence", "")),
        years_in=int(r["years_in"]),
        trend=str(r["trend"]),
        events=events[-6:],
        outlook=outlook,
        forecast_line=forecast_line,
        levers=levers,
        parameters=parameters,
        plays=plays_for(str(r["phase"])),
    )


def brief_pdf(brief: Brief) -> bytes:
    """The brief on one A4 page, as PDF bytes (the text shrinks until it fits)."""
    scale = 1.0
    for _ in range(6):
        fig, bottom = _draw(brief, scale)
        if bottom >= 0.02:
            break
        fig.clear()
        scale *= 0.9
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "Producer": "spirallab"})
    fig.clear()
    return buf.getvalue()


def _draw(brief: Brief, scale: float) -> tuple[Figure, float]:
    """Lay the brief out at ``scale`` x the base font sizes; returns the figure and the lowest
    text position (0 is the page's bottom edge)."""
    fig = Figure(figsize=(8.27, 11.69))
    FigureCanvasPdf(fig)
    y = 0.96
    width = 105

    def write(text: str, size: float = 9.0, bold: bool = False, gap: float = 0.004) -> None:
        nonlocal y
        size *= scale
        for line in textwrap.wrap(text, width=int(width * 9.0 / size)) or [""]:
            fig.text(0.06, y, line, fontsize=size, fontweight="bold" if bold else "normal",
                     va="top", family="DejaVu Sans")
            y -= size / 72.0 / 11.69 * 1.35
        y -= gap * scale

    write(f"{brief.name} ({brief.country_id}): country brief", 15, True, 0.01)
    write(f"Spiral Lab workbench; data up to {brief.year}.", 8)
    write("Where it stands", 11, True)
    write(f"Phase {brief.phase}: {brief.label}, for {brief.years_in} year(s); PTS trend over the"
          f" last 3 years: {brief.trend}.")
    write(f"Evidence ({brief.year}): {brief.evidence}", 8)
    for e in brief.events:
        write(f"{e['year']}: {e['description']} [{e['source']}]", 7.5, gap=0)
    y -= 0.006
    write("Forecast", 11, True)
    write(brief.forecast_line)
    write("Levers that matter most", 11, True)
    if brief.levers:
        for lv in brief.levers[:6]:
            write(
                f"{lv['label']}: expected phase {lv['mean']:+.2f} (90% interval {lv['lo']:+.2f}"
                f" to {lv['hi']:+.2f}), P(phase 4-5) {100 * lv['p_high']:+.0f} points:"
                f" {lv['verdict']}.",
                8.5,
                gap=0,
            )
        write(f"Each lever alone at strength 0.5 for 5 years; {brief.parameters}.", 7.5)
    else:
        write("No what-if was run.")
    write("What the playbook says for this phase (after seed 000)", 11, True)
    for play in brief.plays:
        write(f"Phase {play.phase}, {play.title}.", 9, True, 0)
        write("State: " + " ".join(play.state), 8, gap=0)
        write("Activists: " + " ".join(play.activists), 8, gap=0)
        write("Partners: " + " ".join(play.partners), 8)
    write("What the model cannot see", 11, True)
    for c in brief.caveats:
        write("- " + c, 8, gap=0)
    return fig, y
