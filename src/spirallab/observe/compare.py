"""A simulated run beside the coded record: ribbons, two-sided timing errors, proper scores.

For every country that is both simulated and coded:

* **ribbons**: the share of replicates in each simulated phase per year, with the coded phase
  (or set) of each year drawn over them;
* **timing**: for each phase k = 2..5, simulated minus coded year of entering phase k or above,
  per replicate, so that early and late arrivals both count (the coded entry is the first year
  of a spell of at least three coded years at k or above, :func:`audit.phase_entry_year`);
  replicates or records that never enter inside the years both cover give a bound, counted
  separately as censored;
* **proper scores**: for each year both cover, the simulated probability q = P(phase >= k by
  that year) against the coded outcome o (1 once the coded record has entered k): Brier score
  (q - o)^2 and log score -log(q if o else 1 - q), with q from n replicates shrunk to
  (count + 0.5) / (n + 1) so that a log score stays finite. Lower is better for both; a
  simulation that arrives early pays in the years before the coded entry, which
  "P(reached by the outcome year)" did not.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from spirallab.errors import InputError
from spirallab.observe.audit import phase_entry_year
from spirallab.observe.timeline import PHASE_COLOURS, atomic_write_text

__all__ = [
    "CODED_FILE",
    "Comparison",
    "add_coded_section",
    "compare_run",
    "comparison_html",
    "load_run",
    "proper_scores",
    "simulated_entry_years",
    "simulated_shares",
    "timing_errors",
    "write_comparison",
]

#: The coded record written beside a run by ``spirallab compare``; the run report reads it.
CODED_FILE = "coded_phases.parquet"  # also in runfolder.CARRIED_FILES
PHASES = (2, 3, 4, 5)
MAX_FIGURES = 24
_RESULT_COLUMNS = ("replicate", "country", "year", "phase")
_START, _END = "<!-- spirallab:compare -->", "<!-- /spirallab:compare -->"


def load_run(run_dir: Path) -> pd.DataFrame:
    """The run's results table (replicate, country, year, phase); errors name the file."""
    path = Path(run_dir) / "results.parquet"
    if not path.is_file():
        raise InputError("no run results", where=str(path), found="missing",
                         expected="a folder written by `spirallab run` (results.parquet)")
    try:
        res = pd.read_parquet(path, columns=list(_RESULT_COLUMNS))
    except (OSError, ValueError, KeyError) as exc:
        raise InputError("unreadable run results", where=str(path), found=str(exc).split("\n")[0],
                         expected=f"a parquet table with columns {', '.join(_RESULT_COLUMNS)}"
                         ) from exc
    res["country"] = res["country"].astype(str)
    return res


def simulated_shares(results: pd.DataFrame) -> pd.DataFrame:
    """Share of replicates in each phase 1-5 per country and year (columns ``s1``..``s5``)."""
    counts = results.groupby(["country", "year"])["phase"].value_counts(normalize=True)
    wide = counts.unstack("phase", fill_value=0.0)
    for k in range(1, 6):
        if k not in wide.columns:
            wide[k] = 0.0
    wide = wide[[1, 2, 3, 4, 5]]
    wide.columns = [f"s{k}" for k in range(1, 6)]
    return wide.reset_index()


def simulated_entry_years(results: pd.DataFrame) -> pd.DataFrame:
    """Per country, replicate and phase k = 2..5: first simulated year at k or above (NaN never)."""
    r = results.sort_values(["country", "replicate", "year"])
    rows = []
    for k in PHASES:
        hit = r[r["phase"] >= k].groupby(["country", "replicate"])["year"].min()
        all_ = r.groupby(["country", "replicate"])["year"].min()
        entry = hit.reindex(all_.index)
        frame = entry.rename("year").reset_index()
        frame["phase"] = k
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def _span(results: pd.DataFrame, coded: pd.DataFrame, cid: str) -> tuple[int, int] | None:
    """Years both simulated and coded (with data) for a country."""
    sim = results.loc[results["country"] == cid, "year"]
    cod = coded.loc[(coded["country_id"] == cid) & (coded["phase_set"].fillna("") != ""), "year"]
    if sim.empty or cod.empty:
        return None
    lo, hi = max(int(sim.min()), int(cod.min())), min(int(sim.max()), int(cod.max()))
    return (lo, hi) if lo <= hi else None


def _coded_entries(coded: pd.DataFrame, cid: str, lo: int, hi: int) -> dict[int, int | None]:
    window = coded[(coded["country_id"] == cid) & coded["year"].between(lo, hi)]
    return {k: phase_entry_year(window, cid, k, lo) for k in PHASES}


def timing_errors(results: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """Two-sided timing errors per country and phase (simulated minus coded entry year).

    Columns: ``country_id``, ``phase``, ``coded`` (entry year or NA), ``sim_median`` (median
    entry over replicates that enter), ``n`` (replicates), ``both`` (replicates where both
    enter), ``mean_error``, ``median_error``, ``mae`` (over ``both``), ``early``/``late``
    (shares of ``both`` with error < 0 / > 0), ``censored`` (replicates where only one side
    enters inside the common years; their error is at least ``censored_bound`` years).
    """
    entries = simulated_entry_years(results)
    rows = []
    for cid in sorted(set(results["country"]) & set(coded["country_id"])):
        span = _span(results, coded, cid)
        if span is None:
            continue
        lo, hi = span
        coded_k = _coded_entries(coded, cid, lo, hi)
        e = entries[entries["country"] == cid]
        for k in PHASES:
            sim = e.loc[e["phase"] == k, "year"].to_numpy(dtype=float)
            sim = np.where(sim > hi, np.nan, sim)  # entering after the common years = not yet
            c = coded_k[k]
            n = len(sim)
            entered = ~np.isnan(sim)
            if c is None:
                both = np.zeros(n, dtype=bool)
                censored = entered  # simulated entered, the record did not by `hi`
                bound = (sim[censored] - (hi + 1)) if censored.any() else np.array([])
            else:
                both = entered
                censored = ~entered  # the record entered, the replicate not by `hi`
                bound = np.full(int(censored.sum()), (hi + 1) - c, dtype=float)
            err = sim[both] - (c if c is not None else 0)
            rows.append({
                "country_id": cid, "phase": k, "coded": c,
                "sim_median": float(np.median(sim[entered])) if entered.any() else np.nan,
                "n": n, "both": int(both.sum()),
                "mean_error": float(err.mean()) if err.size else np.nan,
                "median_error": float(np.median(err)) if err.size else np.nan,
                "mae": float(np.abs(err).mean()) if err.size else np.nan,
                "early": float((err < 0).mean()) if err.size else np.nan,
                "late": float((err > 0).mean()) if err.size else np.nan,
                "censored": int(censored.sum()),
                "censored_bound": float(np.abs(bound).min()) if bound.size else np.nan,
            })
    out = pd.DataFrame(rows)
    if not out.empty:
        out["coded"] = out["coded"].astype("Int64")
    return out


def proper_scores(results: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """Brier and log score of simulated P(phase >= k by year) vs the coded record.

    One row per country and phase k (``years`` scored, mean ``brier``, mean ``log_score``),
    plus rows with ``country_id`` "all" (means over every scored country-year of that phase).
    """
    entries = simulated_entry_years(results)
    rows = []
    pooled: dict[int, list[tuple[float, float]]] = {k: [] for k in PHASES}
    for cid in sorted(set(results["country"]) & set(coded["country_id"])):
        span = _span(results, coded, cid)
        if span is None:
            continue
        lo, hi = span
        years = np.arange(lo, hi + 1)
        coded_k = _coded_entries(coded, cid, lo, hi)
        e = entries[entries["country"] == cid]
        for k in PHASES:
            sim = e.loc[e["phase"] == k, "year"].to_numpy(dtype=float)
            n = len(sim)
            if n == 0:
                continue
            count = (sim[None, :] <= years[:, None]).sum(axis=1)  # NaN compares False
            q = (count + 0.5) / (n + 1)
            c = coded_k[k]
            o = (years >= c).astype(float) if c is not None else np.zeros(len(years))
            brier = (q - o) ** 2
            logs = -np.log(np.where(o == 1, q, 1 - q))
            pooled[k] += list(zip(brier, logs, strict=True))
            rows.append({"country_id": cid, "phase": k, "years": len(years),
                         "brier": float(brier.mean()), "log_score": float(logs.mean())})
    for k in PHASES:
        if pooled[k]:
            b, lg = np.array(pooled[k]).T
            rows.append({"country_id": "all", "phase": k, "years": len(b),
                         "brier": float(b.mean()), "log_score": float(lg.mean())})
    return pd.DataFrame(rows, columns=["country_id", "phase", "years", "brier", "log_score"])


@dataclass(frozen=True)
class Comparison:
    """The comparison tables and the countries compared."""

    countries: list[str]
    timing: pd.DataFrame
    scores: pd.DataFrame


def compare_run(results: pd.DataFrame, coded: pd.DataFrame) -> Comparison:
    """Timing errors and proper scores for the countries both simulated and coded."""
    common = sorted(set(results["country"].astype(str)) & set(coded["country_id"].astype(str)))
    if not common:
        raise InputError("no country is both simulated and coded", where="compare",
                         found=", ".join(sorted(set(results["country"].astype(str)))[:8]),
                         expected="run countries with the panel's country ids (ISO3)")
    res = results[results["country"].isin(common)]
    cod = coded[coded["country_id"].isin(common)]
    return Comparison(common, timing_errors(res, cod), proper_scores(res, cod))


# ------------------------------------------------------------------------------------ figures


def _ribbon_png(shares: pd.DataFrame, coded: pd.DataFrame, cid: str, name: str) -> bytes:
    s = shares[shares["country"] == cid].sort_values("year")
    years = s["year"].to_numpy()
    fig = Figure(figsize=(9, 2.6))
    ax = fig.subplots()
    for k in range(1, 6):
        share = s[f"s{k}"].to_numpy()
        for y, v in zip(years, share, strict=True):
            if v > 0:
                ax.add_patch(_rect(y, k, v, PHASE_COLOURS[k]))
    c = coded[(coded["country_id"] == cid) & coded["year"].between(years.min(), years.max())]
    for _, r in c.iterrows():
        ps = [int(p) for p in str(r["phase_set"]).split("|") if p]
        if not ps:
            continue
        y = int(r["year"])
        if len(ps) == 1:
            ax.plot([y], [ps[0]], "o", color="black", ms=3)
        else:
            ax.plot([y, y], [min(ps), max(ps)], color="#555555", lw=1.6)
    ax.set_xlim(years.min() - 0.5, years.max() + 0.5)
    ax.set_ylim(-0.6, 5.6)
    ax.set_yticks(range(0, 6))
    ax.set_yticklabels(["0 not rep.", "1", "2", "3", "4", "5"], fontsize=7)
    ax.set_title(f"{name}: simulated phase shares (shading) and coded phases (dots; bars = sets)",
                 fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _rect(year: int, phase: int, share: float, colour: str) -> Rectangle:
    return Rectangle((year - 0.5, phase - 0.45), 1.0, 0.9, color=colour,
                     alpha=float(min(1.0, 0.1 + 0.9 * share)), lw=0)


def _table(df: pd.DataFrame, cols: list[str], digits: int = 2) -> str:
    head = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in cols)
    body = []
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                text = ""
            elif isinstance(v, float):
                text = f"{v:.{digits}f}"
            else:
                text = str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def comparison_html(results: pd.DataFrame, coded: pd.DataFrame) -> str:
    """The comparison as an HTML section (figures embedded), for compare.html and report.html."""
    cmp_ = compare_run(results, coded)
    shares = simulated_shares(results[results["country"].isin(cmp_.countries)])
    names = coded.drop_duplicates("country_id").set_index("country_id")["name"].astype(str)
    version = str(coded["rules_version"].iloc[0]) if "rules_version" in coded.columns else "?"
    parts = [
        f"{_START}<section id='coded-comparison'><h2>Simulation beside the coded record</h2>",
        f"<p>Coded phases: rules {html.escape(version)} (docs/phase-coding.md). Timing error = "
        "simulated minus coded year of entering the phase (negative = early, positive = late); "
        "Brier and log scores of the simulated P(phase &ge; k by year) against the coded record, "
        "lower is better. Censored: replicates where only one side enters within the years "
        "both cover.</p>",
        "<h3>Scores</h3>",
        _table(cmp_.scores, ["country_id", "phase", "years", "brier", "log_score"], 3),
        "<h3>Timing errors (years)</h3>",
        _table(cmp_.timing, ["country_id", "phase", "coded", "sim_median", "both",
                             "median_error", "mae", "early", "late", "censored"], 1),
    ]
    for cid in cmp_.countries[:MAX_FIGURES]:
        png = _ribbon_png(shares, coded, cid, str(names.get(cid, cid)))
        b64 = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(str(names.get(cid, cid)), quote=True)}: "
                     f"simulated and coded phases' src='data:image/png;base64,{b64}'></figure>")
    if len(cmp_.countries) > MAX_FIGURES:
        parts.append(f"<p>Figures for the first {MAX_FIGURES} of {len(cmp_.countries)} "
                     "countries; the tables list all.</p>")
    parts.append(f"</section>{_END}")
    return "\n".join(parts)


def add_coded_section(page: str, results: pd.DataFrame, folder: Path) -> str:
    """``page`` with the comparison section when a coded record lies beside the run.

    Looks for ``coded_phases.parquet`` in ``folder``; replaces an earlier section, so calling it
    twice leaves one. Returns the page unchanged when there is no coded record.
    """
    path = Path(folder) / CODED_FILE
    if not path.is_file():
        return page
    coded = pd.read_parquet(path)
    res = results[["replicate", "country", "year", "phase"]].copy()
    res["country"] = res["country"].astype(str)
    try:
        section = comparison_html(res, coded)
    except InputError as exc:
        section = (f"{_START}<section id='coded-comparison'><p>Coded record beside the run "
                   f"not compared: {html.escape(str(exc))}</p></section>{_END}")
    page = re.sub(re.escape(_START) + ".*?" + re.escape(_END), "", page, flags=re.S)
    if "</body>" in page:
        return page.replace("</body>", section + "</body>", 1)
    return page + section


def write_comparison(run_dir: Path, results: pd.DataFrame, coded: pd.DataFrame) -> dict[str, Path]:
    """Write the coded record, the tables and compare.html into ``run_dir``; refresh its report.

    The run's ``report.html``, when present, gets (or has replaced) the comparison section.
    """
    run_dir = Path(run_dir)
    from spirallab.observe.timeline import atomic_write_bytes

    cmp_ = compare_run(results, coded)
    kept = coded[coded["country_id"].isin(cmp_.countries)]
    buf = io.BytesIO()
    kept.to_parquet(buf, index=False)
    paths = {"coded": run_dir / CODED_FILE, "timing": run_dir / "compare_timing.csv",
             "scores": run_dir / "compare_scores.csv", "html": run_dir / "compare.html"}
    atomic_write_bytes(paths["coded"], buf.getvalue())
    atomic_write_text(paths["timing"], cmp_.timing.to_csv(index=False))
    atomic_write_text(paths["scores"], cmp_.scores.to_csv(index=False))
    section = comparison_html(results, kept)
    atomic_write_text(paths["html"], (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Spiral Lab: simulation beside "
        "the coded record</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
        "padding:2px 6px}img{max-width:100%}</style></head><body>" + section + "</body></html>"))
    report = run_dir / "report.html"
    if report.is_file():
        atomic_write_text(report, add_coded_section(report.read_text(encoding="utf-8"), results,
                                                    run_dir))
        paths["report"] = report
    return paths
