"""A redacted report for sharing: aliases only, no contact details, no sources.

Left out of every export: real names, contact details, province or locality, who reported each
incident and how it was verified (both can identify witnesses), the free-text notes of
vulnerabilities and capacities, and what defenders were told when they consented. What stays:
the alias, the kind of work, the country and the kind of area, each incident's date, kind,
status, perpetrator type and description, whether it was verified, the risk assessment and the
destinations consented to.
"""

from __future__ import annotations

import datetime as dt

from spirallab.act.protect.records import Case
from spirallab.act.protect.risk import assess


def redacted_report(cases: list[Case], on: dt.date) -> str:
    """The redacted report of ``cases`` as known on ``on`` (plain text, Markdown-flavoured)."""
    lines = [f"# Protection cases: redacted report ({on.isoformat()})", "",
             "Aliases only; no names, contact details, localities, sources or witnesses.", ""]
    for case in cases:
        d = case.defender
        a = assess(case, on)
        lines += [f"## {d.alias} ({d.kind})", "",
                  f"- country: {d.location.country}; area: {d.location.area.value}",
                  f"- work: {d.work}",
                  f"- risk on {on.isoformat()}: {a.risk.value} (threat {a.threat}, vulnerability "
                  f"{a.vulnerability.value}, capacity {a.capacity.value}); review by "
                  f"{a.review_by.isoformat()}", "", "Incidents:"]
        for i in case.incidents:
            if i.date > on:
                continue
            lines.append(f"- {i.date.isoformat()} {i.kind.value} ({i.status.value}) by "
                         f"{i.perpetrator.value}; {'verified' if i.verified else 'not verified'}"
                         f": {i.what}")
        lines += ["", "Factors: " + (", ".join(f"{f.kind.value} {f.category.value} "
                                               f"({f.level.value})" for f in case.factors)
                                     or "none recorded")]
        live = [c for c in case.consents if c.withdrawn is None]
        lines += ["Consented destinations: " + (", ".join(
            f"{c.destination} ({c.date.isoformat()})" for c in live) or "none"), ""]
    return "\n".join(lines).rstrip() + "\n"
