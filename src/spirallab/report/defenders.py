"""The report's defenders section (issue 11): tables from the summary's ``defenders`` entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spirallab.report.html import esc


def _cell(value: object) -> str:
    return "–" if value is None else esc(f"{value:.3f}" if isinstance(value, float) else value)


def defenders_html(section: Mapping[str, Any]) -> str:
    """Attack rates by decade, location and visibility; outcomes per country; protection levers."""
    parts = ["<section id='defenders'><h2>Defenders</h2>", f"<p>{esc(section['note'])}.</p>"]
    by_decade = section["attack_rate_by_decade"]
    decades = sorted({d for rates in by_decade.values() for d in rates})
    parts.append("<table><caption>Attacks per defender-year at home</caption><tr><th></th>")
    parts += [f"<th>{esc(d)}s</th>" for d in decades] + ["</tr>"]
    for label, rates in by_decade.items():
        row = "".join(f"<td>{_cell(rates.get(d))}</td>" for d in decades)
        parts.append(f"<tr><th>{esc(label)}</th>{row}</tr>")
    parts.append("</table>")
    parts.append(
        "<table><caption>Per country: mean per replicate over the run</caption><tr><th>country"
        "</th><th>defenders</th><th>killings</th><th>relocations</th><th>share protected</th>"
        "<th>attack rate by group</th></tr>"
    )
    for cid, c in section["countries"].items():
        groups = ", ".join(f"{esc(g)} {_cell(r)}" for g, r in c["attack_rate_by_group"].items())
        parts.append(
            f"<tr><td>{esc(cid)}</td><td>{c['defenders']}</td><td>{_cell(c['mean_killings'])}</td>"
            f"<td>{_cell(c['mean_relocations'])}</td><td>{_cell(c['share_protected'])}</td>"
            f"<td>{groups}</td></tr>"
        )
    parts.append("</table>")
    if section["levers"]:
        parts.append(
            "<table><caption>Protection levers: attack rate of the groups reached</caption><tr>"
            "<th>lever</th><th>in force</th><th>other years</th></tr>"
        )
        for lv in section["levers"]:
            parts.append(
                f"<tr><td>{esc(lv['lever'])}</td><td>{_cell(lv['attack_rate_reached_in_force'])}"
                f"</td><td>{_cell(lv['attack_rate_reached_other_years'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</section>")
    return "\n".join(parts)
