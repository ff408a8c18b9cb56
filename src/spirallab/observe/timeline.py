"""Country timelines: repression series over coloured phase bands, with treaty and event markers.

A timeline has three stacked panels sharing the year axis: the Political Terror Scale (three report
sources and their combination), Fariss's latent protection score with its 95% band, and the CIRI /
CIRIGHTS physical-integrity index. Behind each panel, the coded phase of every year is a coloured
band (hatched grey where the coder returned a set of phases). Vertical lines mark ratifications of
ICCPR, ICCPR-OP1, CAT and OPCAT; triangles on the top strip mark case-file events.

PNG files are written with matplotlib's Agg backend; the HTML page embeds the PNG as base64 so it
works offline.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from spirallab.observe.coder import PHASE_LABELS

__all__ = [
    "MARKED_TREATIES",
    "PHASE_COLOURS",
    "atomic_write_bytes",
    "atomic_write_text",
    "plot_timeline",
    "timeline_figure",
    "write_index",
]

PHASE_COLOURS: dict[int, str] = {
    0: "#d1e5f0",  # not in a repressive situation (rules 2.0.0)
    1: "#b2182b",
    2: "#ef8a62",
    3: "#fddbc7",
    4: "#a6dba0",
    5: "#1b7837",
}
SET_COLOUR = "#bdbdbd"
MARKED_TREATIES = ("iccpr", "iccpr_op1", "cat", "opcat")
_TREATY_STYLE = {"iccpr": "-", "iccpr_op1": "--", "cat": "-.", "opcat": ":"}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates 0600 files; outputs are ordinary files (0644 less the umask)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _one_country(coded: pd.DataFrame, country_id: str | None) -> str:
    if country_id is not None:
        return country_id
    ids = coded["country_id"].astype(str).unique()
    if len(ids) != 1:
        raise ValueError(f"coded holds {len(ids)} countries; pass country_id")
    return str(ids[0])


def _ratification_years(
    country_id: str, panel: pd.DataFrame, ratifications: pd.DataFrame | None
) -> dict[str, int]:
    """First year of each marked treaty: from the ratification table, else from the panel."""
    years: dict[str, int] = {}
    if ratifications is not None and len(ratifications):
        r = ratifications[ratifications["country_id"].astype(str) == country_id]
        if "state_party" in r.columns:
            r = r[r["state_party"].astype("boolean").fillna(False).astype(bool)]
        for _, row in r.iterrows():
            t = str(row["treaty"])
            if t in MARKED_TREATIES and not pd.isna(row["year"]):
                years[t] = int(row["year"])
    p = panel[panel["country_id"].astype(str) == country_id]
    for t in MARKED_TREATIES:
        col = f"ratified_{t}"
        if t in years or col not in p.columns:
            continue
        yes = p.loc[p[col].astype("boolean").fillna(False).astype(bool), "year"]
        # only mark a year we actually saw change (not the first observed year)
        if len(yes) and int(yes.min()) > int(p["year"].min()):
            years[t] = int(yes.min())
    return years


_EVENT_COLOURS = {
    "agenda": "#2166ac",
    "denial/backlash": "#b2182b",
    "concession": "#e08214",
    "acceptance": "#1b7837",
    "change of government": "#762a83",
    "other": "#555555",
}


def _event_kind(t: str) -> str:
    """Group case-file event types as the coder reads them (for marker colours)."""
    from spirallab.observe.coder import (
        AGENDA_EVENTS,
        BACKLASH_EVENTS,
        CONCESSION_EVENTS,
        RESET_EVENTS,
    )

    if t in ("denial_statement",) or t in BACKLASH_EVENTS:
        return "denial/backlash"
    if t == "acceptance_statement":
        return "acceptance"
    if t in CONCESSION_EVENTS:
        return "concession"
    if t in AGENDA_EVENTS:
        return "agenda"
    if t in RESET_EVENTS:
        return "change of government"
    return "other"


_LABEL_PT = 6.0
# Width of the years axis in points (figure 11 in wide, about 85% of it for the axes).
_AXIS_PT = 11 * 72 * 0.85


def _label_lanes(labels: Sequence[tuple[int, str] | tuple[int, str, int]], lo: int, hi: int
                 ) -> list[int]:
    """A lane (row) per event label so that no two labels (or spans) on one lane overlap.

    ``labels`` are (year, text) or (year, text, last year of the event's span). Labels are laid
    left to right; each takes the first lane whose last label and span end before it starts.
    Widths are estimated from the text length at the label font size (a character is taken as
    0.62 of the font size, which overestimates DejaVu Sans) plus the marker offset.
    """
    span = max(hi - lo + 1, 1)
    years_per_pt = span / _AXIS_PT
    ends: list[float] = []
    lanes: list[int] = []
    for item in labels:
        year, text = item[0], item[1]
        span_end = min(item[2], hi) + 0.3 if len(item) > 2 else year
        start = year - 0.3
        end_here = max(year + (len(text) * 0.62 * _LABEL_PT + 8) * years_per_pt, span_end)
        for i, end in enumerate(ends):
            if end < start:
                ends[i] = end_here
                lanes.append(i)
                break
        else:
            ends.append(end_here)
            lanes.append(len(ends) - 1)
    return lanes


def _event_labels(events: Sequence[Any], lo: int) -> list[tuple[int, str, int]]:
    """(first shown year, label text, last year of its span) per event, sorted by year."""
    out = []
    for e in sorted(events, key=lambda e: int(e.year)):
        y0 = max(int(e.year), lo)
        end = getattr(e, "end_year", None)
        out.append((y0, str(getattr(e.type, "value", e.type)).replace("_", " "),
                    int(end) if end is not None else y0))
    return out


def _phase_runs(coded: pd.DataFrame) -> list[tuple[int, int, str]]:
    """Runs of consecutive years with the same phase set: (first year, last year, set)."""
    runs: list[tuple[int, int, str]] = []
    for _, row in coded.sort_values("year").iterrows():
        y, ps = int(row["year"]), str(row["phase_set"])
        if runs and runs[-1][2] == ps and runs[-1][1] == y - 1:
            runs[-1] = (runs[-1][0], y, ps)
        else:
            runs.append((y, y, ps))
    return runs


def _phase_bands(ax: Any, runs: list[tuple[int, int, str]]) -> None:
    for y0, y1, ps in runs:
        if not ps:
            continue
        if "|" not in ps:
            ax.axvspan(y0 - 0.5, y1 + 0.5, color=PHASE_COLOURS[int(ps)], alpha=0.35, lw=0)
        else:
            ax.axvspan(y0 - 0.5, y1 + 0.5, facecolor=SET_COLOUR, alpha=0.3, hatch="//",
                       edgecolor="#777777", lw=0)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(float("nan"), index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def timeline_figure(
    coded: pd.DataFrame,
    panel: pd.DataFrame,
    casefile: Any = None,
    ratifications: pd.DataFrame | None = None,
    *,
    country_id: str | None = None,
) -> Figure:
    """Build the timeline figure for one country (not saved)."""
    cid = _one_country(coded, country_id)
    c = coded[coded["country_id"].astype(str) == cid].sort_values("year")
    name = str(c["name"].iloc[0]) if len(c) else cid
    # Show the years with practice data (and the case file's events), not e.g. Polity's 1800s.
    with_data = c[c["rule"] != "no_data"] if "rule" in c.columns else c
    if len(with_data):
        lo, hi = int(with_data["year"].min()), int(with_data["year"].max())
        c = c[(c["year"] >= lo) & (c["year"] <= hi)]
    elif len(c):
        lo, hi = int(c["year"].min()), int(c["year"].max())
    else:
        lo, hi = 1946, 2012
    p = panel[panel["country_id"].astype(str) == cid].sort_values("year")
    p = p[(p["year"] >= lo) & (p["year"] <= hi)]

    n_lanes = 1
    if casefile is not None:
        evs = [e for e in getattr(casefile, "events", []) if int(e.year) <= hi]
        n_lanes = max(_label_lanes(_event_labels(evs, lo), lo, hi), default=0) + 1
    ev_h = max(1.3, 0.28 * n_lanes)
    fig = Figure(figsize=(11, 8.2 + ev_h))
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [ev_h, 2, 2, 1.6]})
    ev_ax, pts_ax, th_ax, ci_ax = axes
    runs = _phase_runs(c)
    for ax in axes[1:]:
        _phase_bands(ax, runs)
    x = p["year"].astype(int)

    # PTS: combined line plus the three report sources as points (5 = worst: axis inverted so
    # that "up" always means more respect, as for theta and physint).
    for col, mk, lab in (("pts_a", "o", "Amnesty"), ("pts_h", "s", "HRW"), ("pts_s", "^", "State")):
        pts_ax.scatter(x, _num(p, col), marker=mk, s=12, alpha=0.6, label=f"PTS {lab}")
    pts_ax.plot(x, _num(p, "pts"), color="black", lw=1.5, label="PTS combined")
    pts_ax.set_ylim(5.4, 0.6)
    pts_ax.set_ylabel("PTS (1 best)")
    pts_ax.legend(loc="upper left", fontsize=7, ncol=4)

    th = _num(p, "fariss_theta")
    sd = _num(p, "fariss_sd")
    th_ax.fill_between(x, th - 1.96 * sd, th + 1.96 * sd, color="#4575b4", alpha=0.25,
                       label="95% band (±1.96 sd)")
    th_ax.plot(x, th, color="#4575b4", lw=1.5, label="Fariss theta")
    th_ax.set_ylabel("latent protection")
    th_ax.legend(loc="upper left", fontsize=7)

    ci_ax.plot(x, _num(p, "ciri_physint"), color="#762a83", lw=1.2, marker=".",
               label="CIRI physint")
    ci_ax.plot(x, _num(p, "cirights_physint"), color="#5aae61", lw=1.2, marker=".",
               label="CIRIGHTS physint")
    ci_ax.set_ylim(-0.5, 8.5)
    ci_ax.set_ylabel("physint (8 best)")
    ci_ax.set_xlabel("year")
    ci_ax.legend(loc="upper left", fontsize=7)

    rat = _ratification_years(cid, panel, ratifications)
    for t, y in sorted(rat.items(), key=lambda kv: kv[1]):
        for ax in axes[1:]:
            ax.axvline(y, color="#333333", ls=_TREATY_STYLE[t], lw=1)
        pts_ax.annotate(t.upper().replace("_", "-"), (y, 0.6), rotation=90, fontsize=7,
                        va="top", ha="right", xytext=(-2, -2), textcoords="offset points")

    ev_ax.set_yticks([])
    fig.suptitle(f"{name} ({cid}): coded spiral phases and repression", fontsize=11)
    ev_handles: dict[str, Any] = {}
    lanes_used = 1
    if casefile is not None:
        events = sorted(getattr(casefile, "events", []), key=lambda e: int(e.year))
        shown = [e for e in events if int(e.year) <= hi]
        lanes = _label_lanes(_event_labels(shown, lo), lo, hi)
        lanes_used = max(lanes, default=0) + 1
        for ev, lane in zip(shown, lanes, strict=True):
            t = str(getattr(ev.type, "value", ev.type))
            kind = _event_kind(t)
            colour = _EVENT_COLOURS[kind]
            y0 = max(int(ev.year), lo)
            y1 = int(ev.end_year) if getattr(ev, "end_year", None) is not None else y0
            level = lane + 0.5
            if y1 > y0:
                ev_ax.plot([y0, min(y1, hi)], [level, level], color=colour, lw=2, alpha=0.6)
            (h,) = ev_ax.plot([y0], [level], marker="v", color=colour, ms=5, ls="")
            ev_handles.setdefault(kind, h)
            # the label sits above its marker and span line, so the line never crosses it
            ev_ax.annotate(t.replace("_", " "), (y0, level), fontsize=_LABEL_PT, xytext=(3, 1.5),
                           textcoords="offset points", color=colour, gid="event-label",
                           va="bottom")
        if ev_handles:
            ev_ax.legend(list(ev_handles.values()), list(ev_handles.keys()), fontsize=6,
                         loc="lower left", bbox_to_anchor=(0, 1.0), ncol=6, frameon=False)
    ev_ax.set_ylim(lanes_used + 0.2, -0.2)  # lane 0 on top
    handles = [Patch(color=PHASE_COLOURS[0], alpha=0.5, label="0 not repressive")]
    handles += [Patch(color=PHASE_COLOURS[k], alpha=0.5, label=f"{k} {v}")
                for k, v in PHASE_LABELS.items()]
    handles.append(Patch(facecolor=SET_COLOUR, hatch="//", alpha=0.5, label="undecidable set"))
    ci_ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.75), ncol=7,
                 fontsize=7, frameon=False)
    if len(c):
        ci_ax.set_xlim(lo - 0.5, hi + 0.5)
    fig.tight_layout()
    return fig


def _png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


_TABLE_COLS = ("year", "phase_set", "phase_label", "confidence", "rule", "evidence")
_PROB_COLS = ("p0", "p1", "p2", "p3", "p4", "p5")


def _html_table(df: pd.DataFrame, cols: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for _, r in df.iterrows():
        cells = "".join(
            f"<td>{html.escape('' if pd.isna(r[c]) else str(r[c]))}</td>" for c in cols
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;font-size:12px}"
    "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}"
    "th{background:#eee}img{max-width:100%}"
)


def _with_data(coded: pd.DataFrame) -> pd.DataFrame:
    """The coded rows from the first to the last year with practice data (all rows if none)."""
    if "rule" not in coded.columns:
        return coded
    data = coded[coded["rule"] != "no_data"]
    if data.empty:
        return coded
    lo, hi = int(data["year"].min()), int(data["year"].max())
    return coded[coded["year"].between(lo, hi)]


def _country_html(
    cid: str, name: str, png: bytes, coded: pd.DataFrame, casefile: Any, rules_version: str
) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(name)}: spiral phases</title><style>{_CSS}</style></head><body>",
        f"<p><a href='index.html'>all countries</a></p><h1>{html.escape(name)} ({cid})</h1>",
        f"<p>Phase rules version {html.escape(rules_version)}; see docs/phase-coding.md.</p>",
        f"<img alt='timeline of {html.escape(name)}' src='data:image/png;base64,{b64}'>",
    ]
    if casefile is not None and getattr(casefile, "events", None):
        ev = pd.DataFrame(
            [
                {
                    "year": e.year,
                    "end": e.end_year if e.end_year is not None else "",
                    "type": str(getattr(e.type, "value", e.type)),
                    "description": e.description,
                    "source": e.source,
                }
                for e in casefile.events
            ]
        )
        parts += ["<h2>Case-file events</h2>", _html_table(ev, list(ev.columns))]
    cols = list(_TABLE_COLS[:4]) + [c for c in _PROB_COLS if c in coded.columns] + list(
        _TABLE_COLS[4:])
    parts += ["<h2>Coded phases</h2>", _html_table(_with_data(coded).sort_values("year"), cols)]
    parts.append("</body></html>")
    return "".join(parts)


def plot_timeline(
    coded: pd.DataFrame,
    panel: pd.DataFrame,
    casefile: Any = None,
    ratifications: pd.DataFrame | None = None,
    *,
    path_png: Path,
    path_html: Path | None = None,
    country_id: str | None = None,
) -> Path:
    """Draw one country's timeline to ``path_png`` (and an HTML page to ``path_html``).

    ``coded`` is the output of :func:`~spirallab.observe.coder.code_phases` (whole or for one
    country; pass ``country_id`` when it holds several). Returns the PNG path.
    """
    cid = _one_country(coded, country_id)
    c = coded[coded["country_id"].astype(str) == cid]
    fig = timeline_figure(c, panel, casefile, ratifications, country_id=cid)
    png = _png_bytes(fig)
    atomic_write_bytes(Path(path_png), png)
    if path_html is not None:
        name = str(c["name"].iloc[0]) if len(c) else cid
        version = str(c["rules_version"].iloc[0]) if len(c) else ""
        atomic_write_text(Path(path_html), _country_html(cid, name, png, c, casefile, version))
    return Path(path_png)


def write_index(
    entries: Iterable[tuple[str, str, str]],
    path: Path,
    title: str = "Spiral Lab: country timelines",
    extra_html: str = "",
) -> Path:
    """An index page linking country pages: ``entries`` are (country_id, name, relative href)."""
    items = "".join(
        f"<li><a href='{html.escape(href)}'>{html.escape(name)}</a> ({html.escape(cid)})</li>"
        for cid, name, href in sorted(entries, key=lambda e: e[1])
    )
    text = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{extra_html}"
        f"<ul>{items}</ul></body></html>"
    )
    atomic_write_text(Path(path), text)
    return Path(path)
