"""Browse the coded record: one summary row per country and a sortable offline index page.

The page carries a few lines of bundled script that sort the table by a clicked column; it
loads nothing from outside and every string from the data is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from spirallab.observe.timeline import atomic_write_text

__all__ = ["country_summary", "write_country_index"]

_PHASE_COLS = ("0", "1", "2", "3", "4", "5")


def country_summary(coded: pd.DataFrame) -> pd.DataFrame:
    """Per country: phase now (latest year with data), years in each phase, coverage.

    Columns ``country_id``, ``name``, ``now_year``, ``now`` (phase set of that year), ``y0`` ..
    ``y5`` (years coded exactly that phase; ``y0`` = not in a repressive situation), ``y_set``
    (years coded as an open set), ``years_data`` (years with practice data), ``first``,
    ``last`` (first and last year with data), ``coverage`` (``years_data`` over that span).
    """
    rows = []
    for cid, c in coded.groupby("country_id", sort=True):
        data = c[c["phase_set"].fillna("") != ""].sort_values("year")
        row: dict[str, object] = {"country_id": str(cid), "name": str(c["name"].iloc[0])}
        if data.empty:
            row.update(now_year=None, now="", years_data=0, first=None, last=None, coverage=0.0)
        else:
            first, last = int(data["year"].min()), int(data["year"].max())
            row.update(now_year=int(data["year"].iloc[-1]), now=str(data["phase_set"].iloc[-1]),
                       years_data=len(data), first=first, last=last,
                       coverage=round(len(data) / (last - first + 1), 3))
        counts = data["phase_set"].value_counts()
        for p in _PHASE_COLS:
            row[f"y{p}"] = int(counts.get(p, 0))
        row["y_set"] = int(counts[[k for k in counts.index if "|" in str(k)]].sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("now_year", "first", "last"):
        out[col] = out[col].astype("Int64")
    return out


_SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var up = th.getAttribute('data-dir') !== 'up';
    th.parentNode.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
    th.setAttribute('data-dir', up ? 'up' : 'down');
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
      var nx = parseFloat(x), ny = parseFloat(y);
      var d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return up ? d : -d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""

_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1300px}"
    "table{border-collapse:collapse;font-size:12px}"
    "td,th{border:1px solid #ccc;padding:2px 6px}th{background:#eee;cursor:pointer}"
    "th[data-dir=up]::after{content:' \\25B2'}th[data-dir=down]::after{content:' \\25BC'}"
    "td.n{text-align:right}"
)


def _cell(value: object, numeric: bool = False, link: str | None = None) -> str:
    missing = value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))
    text = "" if missing else str(value)
    sort_key = html.escape(text if text or not numeric else "-1", quote=True)
    shown = html.escape(text)
    if link is not None:
        shown = f"<a href='{html.escape(link, quote=True)}'>{shown}</a>"
    cls = " class='n'" if numeric else ""
    return f"<td data-v='{sort_key}'{cls}>{shown}</td>"


def write_country_index(
    coded: pd.DataFrame,
    path: Path,
    hrefs: Mapping[str, str] | None = None,
    title: str = "Spiral Lab: coded countries",
    intro_html: str = "",
) -> Path:
    """Write the sortable index of every coded country; ``hrefs`` maps country ids to pages.

    ``intro_html`` is trusted markup written by the caller (never data).
    """
    summary = country_summary(coded)
    hrefs = hrefs or {}
    head = ["country", "id", "phase now", "year", "years 0 (not repressive)", "years 1",
            "years 2", "years 3", "years 4", "years 5", "years in an open set", "years with data",
            "first", "last", "coverage"]
    rows = []
    for r in summary.to_dict("records"):
        cid = str(r["country_id"])
        cells = [
            _cell(r["name"], link=hrefs.get(cid)), _cell(cid), _cell(r["now"]),
            _cell(r["now_year"], True),
            *(_cell(r[f"y{p}"], True) for p in _PHASE_COLS),
            _cell(r["y_set"], True), _cell(r["years_data"], True), _cell(r["first"], True),
            _cell(r["last"], True), _cell(r["coverage"], True),
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    th = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{intro_html}"
        f"<p>{len(summary)} countries; click a column heading to sort.</p>"
        f"<table class='sortable'><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"</table><script>{_SORT_JS}</script></body></html>"
    )
    atomic_write_text(Path(path), page)
    return Path(path)
