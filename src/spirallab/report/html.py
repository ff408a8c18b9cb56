"""The run report: one self-contained HTML page (inline CSS, base64 PNG figures, no scripts).

The page works offline: it links nothing, loads no font or script, and embeds every figure. It is
assembled from f-strings; every value that comes from a scenario or a frame is escaped.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spirallab import __version__
from spirallab.report import figures, stats
from spirallab.report.figures import PHASE_COLOURS, PHASE_NAMES
from spirallab.report.stats import LATER_PHASES, PHASES

# Above this many countries the page switches to the overview layout: an aggregate ribbon and a
# grid of small ribbons instead of a full set of panels per country.
MAX_DETAILED_COUNTRIES = 24
MAX_SMALL_RIBBONS = 24

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
margin:0 auto;max-width:1320px;padding:0 1.2rem 3rem;color:#1a1a1a;line-height:1.45}
h1{margin:1.2rem 0 .2rem;font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd}
h3{margin:1.6rem 0 .4rem}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.6rem 0}
.meta dt{font-weight:600}.meta dd{margin:0}
.note{background:#f3f6fa;border-left:4px solid #0072B2;padding:.5rem .8rem;margin:.8rem 0}
.warn{background:#fff4e5;border:2px solid #D55E00;padding:.6rem .9rem;margin:.8rem 0;
font-weight:600}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:right}
th{background:#f0f0f0}td.name,th.name{text-align:left}
tbody tr:nth-child(even){background:#fafafa}
.legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;list-style:none;padding:0;margin:.4rem 0}
.swatch{display:inline-block;width:1.1em;height:1.1em;vertical-align:-.2em;margin-right:.35em;
border:1px solid #555}
figure{margin:.6rem 0}figure img{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#444}
nav ul{columns:4 12rem;padding-left:1.2rem}
.muted{color:#666}
"""


# ----------------------------------------------------------------------------- formatting


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute use."""
    return html.escape(str(value), quote=True)


def _number(value: object) -> float | None:
    """``value`` as a float, or None where it is missing (None, NA, NaN) or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _missing(value: object) -> bool:
    return _number(value) is None


def fmt_p(value: object) -> str:
    """A probability or share with two decimals; a dash where there is none."""
    number = _number(value)
    return "–" if number is None else f"{number:.2f}"


def fmt_year(value: object) -> str:
    """A (median) year: whole years without decimals, half years kept; a dash where none."""
    number = _number(value)
    return "–" if number is None else f"{number:g}"


def _by_phase(mapping: Mapping[Any, Any] | None, k: int) -> object:
    """Look a phase up in a summary mapping whose keys are "2".."5" (JSON) or ints."""
    if not mapping:
        return None
    return mapping.get(str(k), mapping.get(k))


def anchor(country: str) -> str:
    """A stable fragment id for a country's section."""
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in country)


# ----------------------------------------------------------------------------- page parts


def country_order(summary: Mapping[str, Any], results: pd.DataFrame) -> list[str]:
    """Countries in scenario order (the summary's), then any others found in the results."""
    order = [str(c) for c in (summary.get("countries") or {})]
    seen = set(order)
    for c in pd.unique(results["country"]).tolist():
        if str(c) not in seen:
            order.append(str(c))
            seen.add(str(c))
    return order


def country_names(summary: Mapping[str, Any], results: pd.DataFrame) -> dict[str, str]:
    """Display name per country id: the summary's, else the results', else the id."""
    firsts = results.drop_duplicates("country")[["country", "country_name"]]
    names = {str(c): str(n) for c, n in zip(firsts["country"], firsts["country_name"], strict=True)}
    for c, info in (summary.get("countries") or {}).items():
        if isinstance(info, Mapping) and info.get("name"):
            names[str(c)] = str(info["name"])
    return names


def legend_html() -> str:
    """The phase colours as text, so the palette is explained without reading a figure."""
    items = "".join(
        f'<li><span class="swatch" style="background:{PHASE_COLOURS[k]}" aria-hidden="true">'
        f"</span>{k} {esc(PHASE_NAMES[k])}</li>"
        for k in PHASES
    )
    return f'<ul class="legend" aria-label="Phase colours">{items}</ul>'


def header_html(
    summary: Mapping[str, Any], start: int, end: int, n_countries: int, has_history: bool = True
) -> str:
    """Title, run metadata, switched-off mechanisms, notes, and how to read the comparison."""
    scenario = summary.get("scenario", "scenario")
    off = [str(m) for m in summary.get("mechanisms_off") or []]
    if off:
        mech = (
            '<div class="warn" role="note">Mechanisms switched off in this run: '
            f"{esc(', '.join(off))}. Patterns that depend on them should vanish or reverse.</div>"
        )
    else:
        mech = '<p class="muted">All mechanisms switched on.</p>'
    description = summary.get("description") or ""
    notes = "".join(
        f'<div class="warn" role="note">{esc(n)}.</div>' for n in summary.get("notes") or []
    )
    if has_history:
        history = """<p class="note">
Historical outcomes are compared with the simulation, never scheduled: no transition in the
model is set by date. Each phase is read off a country's simulated state by documented rules;
the years listed under <em>history</em> are shown only beside the results.</p>"""
    else:
        history = """<p class="note">This scenario lists no historical outcomes, so the report
shows the simulation alone. Each phase is read off a country's simulated state by documented
rules; no transition in the model is set by date.</p>"""
    return f"""
<header>
<h1>Spiral Lab report: {esc(scenario)}</h1>
<p>{esc(description)}</p>
<dl class="meta">
<dt>Scenario</dt><dd>{esc(scenario)}</dd>
<dt>Seed</dt><dd>{esc(summary.get("seed", "–"))}</dd>
<dt>Replicates</dt><dd>{esc(summary.get("replicates", "–"))}</dd>
<dt>Years</dt><dd>{start}–{end}</dd>
<dt>Countries</dt><dd>{n_countries}</dd>
</dl>
{mech}
{notes}
{history}
{legend_html()}
</header>"""


def summary_table_html(
    summary: Mapping[str, Any],
    order: Sequence[str],
    names: Mapping[str, str],
    end: int,
    linked: Collection[str] = (),
) -> str:
    """Per country: P(reach phase k by end), median year of entering k, share that backslid."""
    info_all = summary.get("countries") or {}
    head_p = "".join(f"<th scope='col'>{k}</th>" for k in LATER_PHASES)
    rows = []
    for c in order:
        info = info_all.get(c) or {}
        p_reach, median = info.get("p_reach"), info.get("median_entry_year")
        cells_p = "".join(f"<td>{fmt_p(_by_phase(p_reach, k))}</td>" for k in LATER_PHASES)
        cells_y = "".join(f"<td>{fmt_year(_by_phase(median, k))}</td>" for k in LATER_PHASES)
        rows.append(
            f"<tr><th scope='row' class='name'>{_link(c, names, linked)}</th>"
            f"<td>{_span(info, end)}</td>{cells_p}{cells_y}"
            f"<td>{fmt_p(info.get('share_backslid'))}</td></tr>"
        )
    return f"""
<section id="summary">
<h2>Summary</h2>
<table>
<caption>Per country: probability of reaching each phase by {end} (or by the country's end, where
the Years column gives one), median year of entering it,
and share of replicates that backslid (phase 2: denial, 3: tactical concessions, 4: prescriptive
status, 5: rule-consistent behaviour). Reaching a phase means being at it or above it; the median
year is taken over the replicates that reach the phase (a dash: none does).</caption>
<thead>
<tr><th rowspan="2" scope="col" class="name">Country</th><th rowspan="2" scope="col">Years</th>
<th colspan="4" scope="colgroup">P(reach phase by {end})</th>
<th colspan="4" scope="colgroup">Median year entering phase</th>
<th rowspan="2" scope="col">Share backslid</th></tr>
<tr>{head_p}{head_p}</tr>
</thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
</section>"""


def _span(info: Mapping[str, Any], end: int) -> str:
    """A country's shown years: from its start to its own end, or to the run's end."""
    own_end = _number(info.get("end"))
    last = own_end if own_end is not None and own_end < end else end
    return f"{esc(fmt_year(info.get('start')))}–{fmt_year(last)}"


# Event kinds in the order the spiral meets them; others follow alphabetically.
EVENT_ORDER = (
    "massacre",
    "on_agenda",
    "transition",
    "backslide",
    "concession",
    "crackdown",
    "ratification",
    "institution",
    "regime_change",
)


def events_table_html(rates: pd.DataFrame, order: Sequence[str], names: Mapping[str, str]) -> str:
    """Mean number of events of each kind per replicate, per country."""
    if rates.empty:
        return """
<section id="events"><h2>Events</h2><p>No events were recorded in this run.</p></section>"""
    kinds = [k for k in EVENT_ORDER if k in rates.columns]
    kinds += sorted(str(k) for k in rates.columns if k not in EVENT_ORDER)
    head = "".join(f"<th scope='col'>{esc(k.replace('_', ' '))}</th>" for k in kinds)
    rows = []
    for c in order:
        if c not in rates.index:
            values = "".join("<td>0.00</td>" for _ in kinds)
        else:
            row = rates.loc[c]
            values = "".join(f"<td>{row[k]:.2f}</td>" for k in kinds)
        rows.append(f"<tr><th scope='row' class='name'>{esc(names.get(c, c))}</th>{values}</tr>")
    return f"""
<section id="events">
<h2>Events</h2>
<table>
<caption>Mean number of events of each kind per replicate.</caption>
<thead><tr><th scope="col" class="name">Country</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody>
</table>
</section>"""


def _link(country: str, names: Mapping[str, str], linked: Collection[str]) -> str:
    """The country's name, linked to its section where it has one."""
    name = esc(names.get(country, country))
    return f"<a href='#{anchor(country)}'>{name}</a>" if country in linked else name


def nav_html(order: Sequence[str], names: Mapping[str, str]) -> str:
    """Links to each country's section."""
    items = "".join(f"<li><a href='#{anchor(c)}'>{esc(names.get(c, c))}</a></li>" for c in order)
    return f"<nav aria-label='Countries'><h2>Contents</h2><ul>{items}</ul></nav>"


def figure_html(uri: str, alt: str, caption: str) -> str:
    """An embedded figure with alt text and a visible caption."""
    return f'<figure><img src="{uri}" alt="{esc(alt)}"><figcaption>{caption}</figcaption></figure>'


def _share_text(shares: pd.DataFrame) -> str:
    last = shares.iloc[-1]
    year = shares.index[-1]
    parts = ", ".join(f"{PHASE_NAMES[k].lower()} {last[k]:.0%}" for k in PHASES)
    return f"in {year}: {parts}"


def ribbon_alt(name: str, shares: pd.DataFrame, replicates: object) -> str:
    """Alt text for a ribbon: what it shows and where it ends."""
    first = shares.index[0]
    return (
        f"Phase-probability ribbon for {name}, {first}–{shares.index[-1]}, share of {replicates} "
        f"replicates in each phase by year; {_share_text(shares)}."
    )


def fan_alt(name: str, fan: pd.DataFrame) -> str:
    """Alt text for a repression fan chart: the median at both ends and the final 90% band."""
    a, b = fan.iloc[0], fan.iloc[-1]
    return (
        f"Repression fan chart for {name}: median overall repression {a['q50']:.2f} in "
        f"{fan.index[0]} and {b['q50']:.2f} in {fan.index[-1]} (90% band {b['q05']:.2f}–"
        f"{b['q95']:.2f}); median political repression {b['political']:.2f} in {fan.index[-1]}."
    )


def entries_alt(name: str, entries: pd.DataFrame, reference: pd.DataFrame) -> str:
    """Alt text for the comparison with history: simulated medians and the historical years."""
    sim = "; ".join(
        f"{PHASE_NAMES[k].lower()} median {fmt_year(_observed_median(entries[k]))} "
        f"({entries[k].notna().mean():.0%} reach it)"
        for k in LATER_PHASES
        if k in entries.columns
    )
    hist = "; ".join(
        f"{row.label} {int(row.year)} (phase {int(row.phase)})"
        for row in reference.itertuples(index=False)
    )
    return f"Simulated first year in each phase for {name}: {sim}. Historical outcomes: {hist}."


def reference_table_html(name: str, entries: pd.DataFrame, reference: pd.DataFrame) -> str:
    """Each historical outcome beside the simulated year of first reaching the phase it marks."""
    rows = []
    for row in reference.itertuples(index=False):
        k = int(row.phase)
        year = int(row.year)
        span_end = None if _missing(row.year_end) else int(row.year_end)
        years = f"{year}" if span_end in (None, year) else f"{year}–{span_end}"
        median = med_err = abs_err = never = "–"
        if k in entries.columns:
            col = entries[k]
            median = fmt_year(_observed_median(col))
            errors = stats.timing_errors(col, year, span_end if span_end is not None else year)
            if errors.size:
                med_err = f"{float(np.median(errors)):+.0f}"
                abs_err = f"{float(np.mean(np.abs(errors))):.1f}"
            never = fmt_p(float(col.isna().mean()))
        rows.append(
            f"<tr><td class='name'>{esc(row.label)}</td><td>{years}</td>"
            f"<td class='name'>{k} {esc(PHASE_NAMES.get(k, '?'))}</td><td>{median}</td>"
            f"<td>{med_err}</td><td>{abs_err}</td><td>{never}</td></tr>"
        )
    return f"""
<table>
<caption>{esc(name)}: historical outcomes (compared, never scheduled) beside the simulated year
of first reaching the phase each is taken to mark. Timing errors are two-sided, simulated minus
historical year over the replicates that reach the phase (0 inside a span, early negative, late
positive), so arriving early costs as much as arriving late.</caption>
<thead><tr><th scope="col" class="name">Outcome</th><th scope="col">Year(s)</th>
<th scope="col" class="name">Phase marked</th><th scope="col">Simulated median year</th>
<th scope="col">Timing error, median (years)</th><th scope="col">Mean |error| (years)</th>
<th scope="col">Never reached</th>
</tr></thead>
<tbody>{"".join(rows)}</tbody>
</table>"""


def country_section_html(
    country: str,
    name: str,
    shares: pd.DataFrame,
    fan: pd.DataFrame,
    entries: pd.DataFrame | None,
    reference: pd.DataFrame | None,
    xlim: tuple[float, float],
    replicates: object,
) -> str:
    """A country's panels (ribbon, fan chart, history where there is one) and its outcome table."""
    fig = figures.country_figure(name, shares, fan, entries, reference, xlim)
    uri = figures.to_data_uri(fig)
    alt = ribbon_alt(name, shares, replicates) + " " + fan_alt(name, fan)
    caption = (
        f"Left: share of replicates in each phase by year, from the start of repression "
        f"({shares.index[0]}). Middle: repression across replicates, median (solid) with 50% and "
        f"90% bands; median political repression dashed, endemic abuse dotted."
    )
    table = ""
    if entries is not None and reference is not None and not reference.empty:
        alt += " " + entries_alt(name, entries, reference)
        caption += (
            " Right: year of first reaching each phase (at or above it) across replicates, box "
            "quartiles and whiskers 5–95%, share reaching it by the end at right; historical "
            "outcomes as diamonds, spans shaded."
        )
        table = reference_table_html(name, entries, reference)
    return f"""
<section id="{anchor(country)}">
<h3>{esc(name)} <span class="muted">({esc(country)})</span></h3>
{figure_html(uri, alt, caption)}
{table}
</section>"""


def _observed_median(values: pd.Series) -> float | None:
    """The lower middle value where the count is even, so a median year is a year."""
    arr = values.dropna().to_numpy(dtype=np.float64)
    return float(np.quantile(arr, 0.5, method="inverted_cdf")) if arr.size else None


def time_in_phase_html(results: pd.DataFrame, end: int) -> str:
    """Small multiples of years spent per phase, with the censoring stated."""
    years = stats.years_in_phase(results)
    last = stats.final_phase(results)
    still_in = {k: float((last == k).mean()) for k in PHASES}
    uri = figures.to_data_uri(figures.time_in_phase_figure(years, still_in, end))
    medians = "; ".join(
        f"{PHASE_NAMES[k].lower()} median "
        f"{fmt_year(_observed_median(years[k][years[k] > 0]))} years"
        for k in PHASES
    )
    alt = (
        f"Histograms of years spent in each phase across {len(years)} replicate-countries, among "
        f"those that entered it: {medians}."
    )
    caption = (
        f"Years spent in each phase per replicate-country (all spells in that phase summed), "
        f"among those that entered it; dashed line: median. Censored: spells still running in "
        f"{end} are cut at {end}, so long phases, and phases entered late, are understated; the "
        f"share still in each phase at {end} is given above each panel."
    )
    return f"""
<section id="time-in-phase">
<h2>Time in phase</h2>
{figure_html(uri, alt, caption)}
</section>"""


def overview_html(
    results: pd.DataFrame,
    shares: pd.DataFrame,
    order: Sequence[str],
    names: Mapping[str, str],
    xlim: tuple[float, float],
) -> str:
    """For many countries: aggregate ribbon plus small ribbons for the first countries."""
    agg = stats.phase_shares(results, by=("year",))
    agg_uri = figures.to_data_uri(figures.aggregate_ribbon_figure(agg, xlim))
    agg_alt = (
        f"Share of all country-replicates in each phase by year, {agg.index[0]}–{agg.index[-1]}; "
        f"{_share_text(agg)}."
    )
    present = set(shares.index.get_level_values("country"))
    shown = [c for c in order if c in present][:MAX_SMALL_RIBBONS]
    by_country = {c: shares.xs(c, level="country") for c in shown}
    panels = [(names.get(c, c), by_country[c]) for c in shown]
    grid_uri = figures.to_data_uri(figures.small_ribbons_figure(panels, xlim))
    grid_alt = "Small phase-probability ribbons for " + "; ".join(
        f"{names.get(c, c)} ({_share_text(by_country[c])})" for c in shown
    )
    return f"""
<section id="overview">
<h2>All countries</h2>
<p class="note">This scenario has {len(order)} countries, too many for a full set of panels each.
The page shows the share of all countries in each phase over time (among those whose repression
has begun by that year), small ribbons for the first {len(shown)} countries in scenario order, and
the summary table below for all of them.</p>
{figure_html(agg_uri, agg_alt, "Share of all country-replicates in each phase by year.")}
{figure_html(grid_uri, grid_alt, f"Phase-probability ribbons, first {len(shown)} countries.")}
</section>"""


def page_html(
    title: str, parts: Iterable[str], fingerprint: Mapping[str, Any] | None = None
) -> str:
    """Wrap the parts in a complete HTML document with its styles inline.

    ``fingerprint`` (the run's, from the summary) is recorded in a ``<meta>`` tag, so the page
    can be matched with the results it was drawn from.
    """
    body = "\n".join(parts)
    fp = (
        f'<meta name="spirallab-fingerprint" content="{esc(json.dumps(dict(fingerprint)))}">\n'
        if fingerprint
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Spiral Lab {esc(__version__)}">
{fp}<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
{body}
<footer><p class="muted">Written by Spiral Lab {esc(__version__)}. Self-contained: no
network access needed.</p></footer>
</body>
</html>
"""


# ----------------------------------------------------------------------------- entry points


def build_report(
    results: pd.DataFrame,
    events: pd.DataFrame,
    summary: dict[str, Any],
    reference_outcomes: pd.DataFrame,
) -> str:
    """Return the run report as one self-contained HTML page.

    ``results`` has one row per replicate x country x year (from each country's start of
    repression), ``events`` one row per event, ``summary`` the run summary (as in
    ``summary.json``) and ``reference_outcomes`` the historical outcomes to compare against
    (may be empty). Raises ``ValueError`` if a frame lacks a column the report needs.
    """
    stats.require_columns(results, stats.RESULTS_COLUMNS, "results")
    stats.require_columns(events, stats.EVENTS_COLUMNS, "events")
    if not reference_outcomes.empty:
        stats.require_columns(reference_outcomes, stats.REFERENCE_COLUMNS, "reference_outcomes")
    stats.check_phases(results)

    order = country_order(summary, results)
    names = country_names(summary, results)
    start, end = year_span(summary, results)
    xlim = (float(start), float(end))
    replicates = summary.get("replicates") or results["replicate"].nunique()
    reference = reference_outcomes.copy()
    if not reference.empty:
        reference["country"] = reference["country"].astype(str)
    many = len(order) > MAX_DETAILED_COUNTRIES
    detailed = detailed_countries(order, results, reference, many)

    table = summary_table_html(summary, order, names, end, linked=detailed)
    parts = [header_html(summary, start, end, len(order), has_history=not reference.empty)]
    if results.empty:
        parts += [table, "<p class='warn'>The results frame has no rows: nothing to draw.</p>"]
    else:
        shares = stats.phase_shares(results)
        sections = country_sections_html(results, shares, reference, detailed, names, xlim)
        timing = time_in_phase_html(results, end)
        if many:
            # The overview comes before the long table, so the figures are seen first.
            parts += [overview_html(results, shares, order, names, xlim), timing, table, sections]
        else:
            parts += [nav_html(detailed, names), table, sections, timing]
    if "defenders" in summary:  # issue 11
        from spirallab.report.defenders import defenders_html

        parts.append(defenders_html(summary["defenders"]))
    rates = stats.event_rates(events, int(replicates))
    parts.append(events_table_html(rates, order, names))
    title = f"Spiral Lab report: {summary.get('scenario', 'scenario')} (seed {summary.get('seed')})"
    fingerprint = summary.get("fingerprint")
    return page_html(title, parts, fingerprint if isinstance(fingerprint, Mapping) else None)


def year_span(summary: Mapping[str, Any], results: pd.DataFrame) -> tuple[int, int]:
    """First and last year to draw: the run's span, widened to any rows outside it."""
    years = results["year"]
    lo = int(years.min()) if len(years) else None
    hi = int(years.max()) if len(years) else None
    start = summary.get("start") or lo or 0
    end = summary.get("end") or hi or start
    return min(int(start), lo if lo is not None else int(start)), max(
        int(end), hi if hi is not None else int(end)
    )


def detailed_countries(
    order: Sequence[str], results: pd.DataFrame, reference: pd.DataFrame, many: bool
) -> list[str]:
    """Countries that get a full set of panels: all (up to 24), or for a scenario with many
    countries only those with historical outcomes to compare against (again at most 24)."""
    present = set(pd.unique(results["country"]).astype(str).tolist())
    with_ref = set(reference["country"]) if not reference.empty else set()
    chosen = [c for c in order if c in present and (not many or c in with_ref)]
    return chosen[:MAX_DETAILED_COUNTRIES]


def country_sections_html(
    results: pd.DataFrame,
    shares: pd.DataFrame,
    reference: pd.DataFrame,
    detailed: Sequence[str],
    names: Mapping[str, str],
    xlim: tuple[float, float],
) -> str:
    """Full panels for each detailed country; fan and entry statistics computed in one pass."""
    if not detailed:
        return ""
    sub = results.loc[results["country"].isin(detailed)]
    fan = stats.repression_fan(sub)
    with_ref = set(reference["country"]) if not reference.empty else set()
    ref_countries = [c for c in detailed if c in with_ref]
    entries = (
        stats.first_entry_years(sub.loc[sub["country"].isin(ref_countries)])
        if ref_countries
        else None
    )
    replicates = sub["replicate"].nunique()
    parts = ["<section id='countries'><h2>Countries</h2>"]
    for c in detailed:
        ref_c = entries_c = None
        if entries is not None and c in with_ref:
            ref_c = reference.loc[reference["country"] == c]
            entries_c = entries.xs(c, level="country")
        parts.append(
            country_section_html(
                c,
                names.get(c, c),
                shares.xs(c, level="country"),
                fan.xs(c, level="country"),
                entries_c,
                ref_c,
                xlim,
                replicates,
            )
        )
    parts.append("</section>")
    return "\n".join(parts)


def write_report(
    results: pd.DataFrame,
    events: pd.DataFrame,
    summary: dict[str, Any],
    reference_outcomes: pd.DataFrame,
    path: Path,
) -> None:
    """Build the report and write it to ``path`` atomically.

    The page is built in memory first, then written to a temporary file in the same folder and
    renamed over ``path``; a failed build or write leaves no partial file and no temporary file,
    and any earlier report at ``path`` untouched.
    """
    path = Path(path)
    page = build_report(results, events, summary, reference_outcomes)
    from spirallab.observe.compare import add_coded_section  # coded record beside the run

    page = add_coded_section(page, results, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); a report is meant to be shared.
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
