"""Risk = threats x vulnerabilities / capacities, as qualitative levels with the reasoning.

The formula is the security-management method that seed 002 cites (Eguren, first for Peace
Brigades International, then Front Line Defenders and Protection International; the reply
"HRD visibility as form of protection"). It is not arithmetic: there are no numbers to multiply,
and a score with decimals would be false precision. The rules below turn the recorded incidents
and factors into levels, and say at each step which record moved the level and why.

Rules (each an assumption of this implementation, documented in docs/protect.md):

* Threat, from the incidents dated on or before the assessment date:
  none recorded -> none; only past incidents -> low, or medium if one of them was grave or a
  direct threat within the last year; a continuing or imminent harassment, surveillance,
  defamation or judicial case -> medium; a continuing or imminent direct threat or grave act
  (attack, raid, detention, killing of an associate) -> high; and very high when, besides that,
  the defender has already suffered a grave act, or a grave act is announced as imminent.
  High and very high with a continuing or imminent incident are a *clear, present threat*.
* Vulnerability: the highest level recorded (one weak point is enough for an attacker);
  unrecorded counts as medium, and says so. Working far from the capital or having dependants
  adds a medium vulnerability when none is recorded in that category (002: rural defenders are
  far from those who act; visibility exposes family).
* Capacity: the median level recorded; none recorded counts as low.
* Risk starts at the threat level (no threat, low risk), goes one step up when vulnerability
  exceeds capacity and one step down when capacity exceeds vulnerability, but never below medium
  while the threat is clear and present.
* Review: very high within 7 days, high 14, medium 30, low 90; 7 at most while an incident is
  imminent.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from spirallab.act.protect.catalogue import RiskLevel
from spirallab.act.protect.records import (
    Area,
    AssessmentRecord,
    Case,
    Category,
    Factor,
    FactorKind,
    Incident,
    IncidentKind,
    Level,
    Status,
)

THREAT_LEVELS = ("none", "low", "medium", "high", "very high")
GRAVE = frozenset({IncidentKind.attack, IncidentKind.raid, IncidentKind.detention,
                   IncidentKind.killing_of_associate})
DIRECT = GRAVE | {IncidentKind.threat}
CURRENT = frozenset({Status.ongoing, Status.imminent})
REVIEW_DAYS = {RiskLevel.very_high: 7, RiskLevel.high: 14, RiskLevel.medium: 30,
               RiskLevel.low: 90}
_LEVEL_RANK = {Level.low: 0, Level.medium: 1, Level.high: 2}

#: How each category's vulnerability is reduced, or its capacity raised (after Eguren & Caraj,
#: New Protection Manual, 2009), and whether it can be done within days.
ACTIONS: dict[Category, tuple[str, bool]] = {
    Category.exposure: ("vary routes and routines; limit who knows the defender's movements", True),
    Category.isolation: ("agree daily check-ins with a trusted network, and a contact in the "
                         "capital who relays alerts to those who can act (002)", True),
    Category.information_security: ("separate and encrypt phones and computers, move sensitive "
                                    "files off them, secure accounts (a digital security "
                                    "helpline can help)", True),
    Category.networks: ("join or build a defenders' network that monitors members' safety (004)",
                        False),
    Category.legal_support: ("line up a lawyer ready to act at once on a detention or charge",
                             True),
    Category.family_situation: ("agree a plan for the family: where they go and whom they call",
                                True),
    Category.physical_security: ("secure home and office: locks, lighting, an alarm shared with "
                                 "neighbours", True),
    Category.resources: ("seek an emergency grant for the security measures", True),
    Category.security_plan: ("write a security plan with a protection organisation", False),
    Category.contacts_with_authorities: ("build contact with embassy human rights focal points "
                                         "and officials who can act (002)", False),
    Category.wellbeing: ("arrange psychosocial support and rest", False),
}


#: Capacities worth building, most protective first (assumption, after the same manual).
CAPACITY_FOCUS = (Category.security_plan, Category.networks, Category.legal_support,
                  Category.information_security, Category.contacts_with_authorities,
                  Category.resources, Category.physical_security, Category.wellbeing)


@dataclass(frozen=True)
class Lever:
    """One way to lower the risk: what to act on, what to do, why, and how soon."""

    target: str  # "threat" | "vulnerability" | "capacity"
    action: str
    why: str
    when: str  # "now" | "this week" | "medium term"


@dataclass(frozen=True)
class Assessment:
    """A dated, reasoned, qualitative risk assessment of one case."""

    case_id: str
    on: dt.date
    threat: str
    vulnerability: Level
    capacity: Level
    risk: RiskLevel
    clear_present_threat: bool
    threats: list[str]
    vulnerabilities: list[str]
    capacities: list[str]
    reasoning: list[str]
    levers: list[Lever]
    review_by: dt.date
    left_out: list[str] = field(default_factory=list)


def save_assessment(case: Case, a: Assessment, by: str) -> None:
    """Keep the assessment's date, levels and review date in the case."""
    case.assessments.append(AssessmentRecord.model_validate({
        "on": a.on, "risk": a.risk.value, "threat": a.threat, "vulnerability": a.vulnerability,
        "capacity": a.capacity, "review_by": a.review_by, "by": by}))


def review_due(case: Case, today: dt.date) -> str:
    """The latest saved assessment and whether its review is due, as one phrase."""
    if not case.assessments:
        return "not assessed yet"
    last = max(case.assessments, key=lambda r: r.on)
    due = " (REVIEW OVERDUE)" if last.review_by < today else ""
    return f"risk {last.risk} on {last.on.isoformat()}, review by " \
           f"{last.review_by.isoformat()}{due}"


def _describe(inc: Incident) -> str:
    who = inc.perpetrator.value + (f" ({inc.perpetrator_detail})" if inc.perpetrator_detail
                                   else "")
    check = f"verified: {inc.verification}" if inc.verified else "not verified"
    return f"{inc.id} {inc.date.isoformat()} {inc.kind.value}, {inc.status.value}, by {who}; " \
           f"{check}"


def threat_level(incidents: list[Incident], on: dt.date) -> tuple[str, bool, list[str]]:
    """(level, clear and present, reasons) from the incidents known on ``on``."""
    if not incidents:
        return "none", False, ["no incident recorded"]
    current = [i for i in incidents if i.status in CURRENT]
    reasons: list[str] = []
    if current:
        direct_now = [i for i in current if i.kind in DIRECT]
        if direct_now:
            grave_before = [i for i in incidents if i.kind in GRAVE and i not in direct_now[:1]]
            grave_imminent = [i for i in current if i.kind in GRAVE
                              and i.status is Status.imminent]
            reasons.append("continuing or imminent direct threat or grave act: "
                           + ", ".join(str(i.id) for i in direct_now))
            if grave_before or grave_imminent:
                basis = grave_imminent or grave_before
                reasons.append("and a grave act already suffered or announced: "
                               + ", ".join(str(i.id) for i in basis)
                               + " (threats against this defender have been carried out before)")
                return "very high", True, reasons
            return "high", True, reasons
        reasons.append("continuing harassment, surveillance, defamation or judicial action: "
                       + ", ".join(str(i.id) for i in current))
        return "medium", False, reasons
    recent = [i for i in incidents if (on - i.date).days <= 365 and i.kind in DIRECT]
    if recent:
        reasons.append("no continuing incident; a direct threat or grave act within the last "
                       "year: " + ", ".join(str(i.id) for i in recent))
        return "medium", False, reasons
    reasons.append("only past incidents, none grave within the last year")
    return "low", False, reasons


def _with_implicit(case: Case) -> tuple[list[Factor], list[str]]:
    """The recorded factors plus those the case's facts imply, with notes on the implied ones."""
    factors = list(case.factors)
    notes: list[str] = []
    recorded = {(f.category, f.kind) for f in factors}
    d = case.defender
    if d.location.area in (Area.rural, Area.provincial) and \
            (Category.isolation, FactorKind.vulnerability) not in recorded:
        factors.append(Factor(category=Category.isolation, kind=FactorKind.vulnerability,
                              level=Level.medium, note="implied"))
        notes.append(f"isolation (medium, implied): works in a {d.location.area.value} area, far "
                     "from capital-based officials who act on protection requests (002)")
    if d.dependants and (Category.family_situation, FactorKind.vulnerability) not in recorded:
        factors.append(Factor(category=Category.family_situation, kind=FactorKind.vulnerability,
                              level=Level.medium, note="implied"))
        notes.append("family situation (medium, implied): dependants who visibility or reprisals "
                     "could reach (002)")
    return factors, notes


def assess(case: Case, on: dt.date) -> Assessment:
    """Assess ``case`` as known on ``on``; incidents dated later are left out, and listed."""
    known = [i for i in case.incidents if i.date <= on]
    left_out = [f"{i.id} dated {i.date.isoformat()}, after the assessment date"
                for i in case.incidents if i.date > on]
    t_level, clear, t_reasons = threat_level(known, on)
    factors, implied = _with_implicit(case)
    vul = [f for f in factors if f.kind is FactorKind.vulnerability]
    cap = [f for f in factors if f.kind is FactorKind.capacity]
    reasoning = [f"threat {t_level}: " + "; ".join(t_reasons)]

    if vul:
        v_level = max((f.level for f in vul), key=_LEVEL_RANK.__getitem__)
        worst = [f.category.value for f in vul if f.level is v_level]
        reasoning.append(f"vulnerability {v_level.value}: the highest recorded, in "
                         + ", ".join(worst))
    else:
        v_level = Level.medium
        reasoning.append("vulnerability medium: none recorded, assumed; record them")
    if cap:
        ranks = sorted(_LEVEL_RANK[f.level] for f in cap)
        c_rank = int(statistics.median_low(ranks))
        c_level = next(lv for lv, r in _LEVEL_RANK.items() if r == c_rank)
        reasoning.append(f"capacity {c_level.value}: the median of {len(cap)} recorded")
    else:
        c_level = Level.low
        reasoning.append("capacity low: none recorded")

    if t_level == "none":
        risk = RiskLevel.low
        reasoning.append("risk low: no threat recorded (vulnerabilities still matter if one "
                         "appears)")
    else:
        base = RiskLevel(t_level)
        rank = base.rank
        balance = _LEVEL_RANK[v_level] - _LEVEL_RANK[c_level]
        if balance > 0 and rank < RiskLevel.very_high.rank:
            rank += 1
            reasoning.append(f"risk raised from {base.value}: vulnerability exceeds capacity")
        elif balance > 0:
            reasoning.append("risk very high: the top level, and vulnerability exceeds capacity")
        elif balance < 0:
            floor = RiskLevel.medium.rank if clear else RiskLevel.low.rank
            new = max(rank - 1, floor)
            reasoning.append(f"risk lowered from {base.value}: capacity exceeds vulnerability"
                             if new < rank else
                             f"risk kept at {base.value}: capacities do not offset a clear, "
                             "present threat")
            rank = new
        else:
            reasoning.append(f"risk {base.value}: vulnerability and capacity balance")
        risk = list(RiskLevel)[rank]

    days = REVIEW_DAYS[risk]
    if any(i.status is Status.imminent for i in known):
        days = min(days, 7)
    return Assessment(
        case_id=case.id, on=on, threat=t_level, vulnerability=v_level, capacity=c_level,
        risk=risk, clear_present_threat=clear,
        threats=[_describe(i) for i in known],
        vulnerabilities=[f"{f.category.value} ({f.level.value})" for f in vul
                         if f.note != "implied"] + implied,
        capacities=[f"{f.category.value} ({f.level.value})" for f in cap],
        reasoning=reasoning, levers=levers(case, known, factors, clear, t_level),
        review_by=on + dt.timedelta(days=days), left_out=left_out,
    )


def levers(case: Case, known: list[Incident], factors: list[Factor], clear: bool,
           t_level: str) -> list[Lever]:
    """What would lower the risk most, first things first.

    Against a clear, present threat the method's rule is that building capacity is too slow:
    first reduce the threat (or the defender's exposure to it), then the vulnerabilities that
    can be reduced within days; capacities come after the emergency.
    """
    out: list[Lever] = []
    vul = sorted((f for f in factors if f.kind is FactorKind.vulnerability),
                 key=lambda f: -_LEVEL_RANK[f.level])
    caps = {f.category: f.level for f in factors if f.kind is FactorKind.capacity}
    if clear:
        perps = sorted({i.perpetrator.value for i in known if i.status in CURRENT})
        out.append(Lever(
            "threat", "reduce the threat or the exposure to it: move out of reach (temporary "
            "relocation), accompaniment, and pressure on those who can restrain the "
            f"perpetrator ({', '.join(perps)}) through urgent appeals and protection requests",
            "a clear, present threat: only measures that act within days lower the risk in "
            "time", "now"))
        for f in vul:
            action, quick = ACTIONS[f.category]
            if quick and f.level is not Level.low:
                out.append(Lever("vulnerability", action,
                                 f"{f.category.value} is a {f.level.value} vulnerability and "
                                 "can be reduced within days", "this week"))
        slow = [c for c in CAPACITY_FOCUS if caps.get(c, Level.low) is not Level.high]
        if slow:
            out.append(Lever(
                "capacity", "after the emergency, build capacities: "
                + ", ".join(c.value for c in slow[:4]),
                "building capacity is too slow against a clear, present threat (the method's "
                "rule); it lowers the risk over months", "medium term"))
        return out
    for f in vul:
        if f.level is not Level.low:
            out.append(Lever("vulnerability", ACTIONS[f.category][0],
                             f"{f.category.value} is a {f.level.value} vulnerability",
                             "this week" if f.level is Level.high else "medium term"))
    for cat in (Category.security_plan, Category.networks, Category.legal_support,
                Category.information_security):
        if caps.get(cat, Level.low) is Level.low:
            out.append(Lever("capacity", ACTIONS[cat][0],
                             f"{cat.value}: no capacity recorded or low", "medium term"))
    if t_level != "none":
        out.append(Lever("threat", "keep documenting incidents, with dates and how they were "
                         "verified, so that a request can be made quickly if the threat grows",
                         "requests fail for lack of verified information (002)", "this week"))
    return out
