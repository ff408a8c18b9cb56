"""Draft submissions: only where the defender consented, only the fields the destination needs.

A draft is a starting point for a person to check and complete, never something sent by this
program (it has no network). Which case fields go in is the catalogue entry's ``draft`` list; a
field that is not listed is not written, whatever the case holds. Contact details never are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from spirallab.act.protect.catalogue import Mechanism
from spirallab.act.protect.records import Case, Consent, Incident, Status
from spirallab.act.protect.risk import Assessment
from spirallab.errors import InputError


def _incident_lines(incs: list[Incident]) -> list[str]:
    out = []
    for i in incs:
        who = i.perpetrator.value + (f" ({i.perpetrator_detail})" if i.perpetrator_detail else "")
        out.append(f"- {i.date.isoformat()}: {i.kind.value} ({i.status.value}), attributed to "
                   f"{who}. {i.what}")
    return out or ["- none recorded"]


def _sections(case: Case, consent: Consent, a: Assessment, on: dt.date
              ) -> dict[str, Callable[[], list[str]]]:
    d = case.defender
    known = [i for i in case.incidents if i.date <= on]
    current = [i for i in known if i.status is not Status.past]
    past = [i for i in known if i.status is Status.past]

    def identity() -> list[str]:
        if d.real_name and consent.share_real_name:
            return [f"Name: {d.real_name} ({d.kind}; the defender consented to share the name "
                    f"on {consent.date.isoformat()})"]
        return [f"Referred to as: {d.alias} ({d.kind}). [The identity is to be added by the "
                "submitter only with the defender's consent to share it; the mechanism needs "
                "it to act.]"]

    return {
        "identity": identity,
        "work": lambda: [f"Human rights work: {d.work}"],
        "country": lambda: [f"Country: {d.location.country}"],
        "area": lambda: [f"Works in: a {d.location.area.value} area"],
        "province": lambda: [f"Province or locality: {d.location.province}"]
        if d.location.province else [],
        "incidents_current": lambda: ["Ongoing or imminent violations:",
                                      *_incident_lines(current)],
        "incidents_past": lambda: ["Past violations:", *_incident_lines(past)],
        "perpetrators": lambda: ["Alleged perpetrators: " + "; ".join(sorted({
            i.perpetrator.value + (f" ({i.perpetrator_detail})" if i.perpetrator_detail else "")
            for i in known})) if known else "Alleged perpetrators: none recorded"],
        "verification": lambda: ["How the facts were verified:", *[
            f"- {i.date.isoformat()} {i.kind.value}: "
            + (f"verified ({i.verification})" if i.verified else "not independently verified")
            for i in known]],
        "domestic_steps": lambda: ["Steps taken with national authorities:", *[
            f"- {i.date.isoformat()} {i.kind.value}: "
            + ("reported to the authorities" if i.reported_to_authorities else "not reported")
            for i in known]],
        "risk_summary": lambda: [f"Risk assessed on {a.on.isoformat()}: {a.risk.value} "
                                 f"(threat {a.threat}, vulnerability {a.vulnerability.value}, "
                                 f"capacity {a.capacity.value}).", *[f"- {r}" for r in
                                                                      a.reasoning]],
        "needs": lambda: ["What would lower the risk:", *[f"- {lv.action} ({lv.when})"
                                                          for lv in a.levers[:3]]],
        "gender": lambda: [f"Gender: {d.gender}"] if d.gender else [],
        "dependants": lambda: ["The defender has dependants who may be exposed."]
        if d.dependants else [],
    }


def draft(case: Case, mechanism: Mechanism, assessment: Assessment, on: dt.date) -> str:
    """The draft text for ``mechanism``; refused without consent or without a template."""
    consent = case.consent_for(mechanism.id)
    if consent is None:
        raise InputError(f"no consent recorded for {mechanism.id}; record the defender's "
                         "informed consent first with `spirallab protect consent`",
                         where="DESTINATION")
    if not mechanism.draft:
        raise InputError(f"{mechanism.id} has no draft template (its catalogue entry lists no "
                         "`draft` fields)", where="DESTINATION",
                         expected="a destination whose entry has a `draft` list")
    sections = _sections(case, consent, assessment, on)
    lines = [
        f"DRAFT for: {mechanism.name}",
        f"Prepared {on.isoformat()} by the supporting organisation. Check it with the defender, "
        "complete it and follow the mechanism's current procedure before sending.",
        f"Catalogue entry last checked {mechanism.last_checked.isoformat()} "
        f"({mechanism.checked_how}). Source: {mechanism.source}",
        f"Consent: given {consent.date.isoformat()} by {consent.given_by}.",
        "",
    ]
    for name in mechanism.draft:
        body = sections[name]()
        if body:
            lines.extend([*body, ""])
    lines.append("The mechanism asks for: " + "; ".join(mechanism.needs))
    return "\n".join(lines).rstrip() + "\n"
