"""Match a case to the protection mechanisms that fit it, with why, what they need and their limits.

A mechanism fits when it can act in the defender's country, when an incident of the kind it deals
with has the status it is for (an urgent appeal for an ongoing or imminent violation, an
allegation letter for a past one), when the perpetrator is within its remit and the assessed risk
reaches its threshold. Its limits come from the catalogue; the matcher marks those that bite in
this case (002: rural defenders far from capital-based officials; unverified reports; a state
perpetrator who is also the protector; slowness against a present threat; visibility exposing
family and associates).

The country's phase in the spiral is taken from the coded record when a data folder is given
(:func:`country_phase`), using only years up to the assessment date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from spirallab.act.protect.catalogue import Catalogue, LimitKind, Mechanism, Speed, region_of
from spirallab.act.protect.records import Area, Case, Consent, Perpetrator, Region, Status
from spirallab.act.protect.risk import Assessment
from spirallab.errors import InputError

FAST = frozenset({Speed.hours_days, Speed.days_weeks})
_SYSTEM_ORDER = ("un", "inter-american", "african", "european", "diplomatic", "national", "ngo",
                 "informal")

#: What each phase of the spiral means for a defender's protection (seed 000's table; Risse &
#: Sikkink 1999, seed 001).
PHASE_NOTES = {
    1: "repression: domestic activism is too dangerous or ineffectual; information has to reach "
       "international partners, who press the state directly and through other states (000)",
    2: "denial: the government rejects criticism as interference and attacks the credibility of "
       "claimants; defenders may suffer renewed attacks; international pressure must be kept up "
       "(000)",
    3: "tactical concessions: the government engages with critics to deflect criticism; "
       "domestic activists, protected in part by their international links, carry more of the "
       "work; the time for shaming (000)",
    4: "prescriptive status: rights are in law and discourse; national mechanisms and courts "
       "become usable, but a new regime may retreat once consolidated (000)",
    5: "rule-consistent behaviour: practice backed by the rule of law; domestic remedies come "
       "first (000)",
}


@dataclass(frozen=True)
class PhaseNote:
    country: str
    year: int
    phase: int | None
    label: str
    confidence: str
    note: str


@dataclass(frozen=True)
class Option:
    """A mechanism that fits the case, with the reasons and the limits that apply here."""

    mechanism: Mechanism
    fits: list[str]
    cautions: list[str]
    fast: bool
    stale: bool
    consent: Consent | None


@dataclass(frozen=True)
class Options:
    case_id: str
    on: dt.date
    region: Region
    region_how: str
    options: list[Option]
    not_fitting: list[tuple[str, str]]
    phase: PhaseNote | None = None
    notes: list[str] = field(default_factory=list)


def _fit(m: Mechanism, case: Case, assessment: Assessment, region: Region,
         on: dt.date) -> tuple[list[str], str | None]:
    """(reasons it fits, None) or ([], reason it does not)."""
    country = case.defender.location.country
    if not m.covers(country, region):
        return [], f"does not act in {country} ({region.value})"
    known = [i for i in case.incidents if i.date <= on]
    relevant = [i for i in known if not m.incident_kinds or i.kind in m.incident_kinds]
    if m.incident_kinds and not relevant:
        return [], "for " + ", ".join(k.value for k in m.incident_kinds) + " only"
    why = [f"acts in {country}" if m.scope != "global" else "acts worldwide"]
    if known:
        timed = [i for i in relevant if i.status in m.timing and i.perpetrator in m.perpetrators]
        if not timed:
            what = " or ".join(k.value for k in m.incident_kinds) if m.incident_kinds \
                else "violations"
            return [], "for " + " or ".join(st.value for st in m.timing) + f" {what} by " \
                + " or ".join(p.value for p in m.perpetrators) + " perpetrators; none recorded"
        why.append("fits " + ", ".join(f"{i.id} ({i.status.value} {i.kind.value} by "
                                       f"{i.perpetrator.value})" for i in timed))
    elif set(m.timing) != set(Status):
        return [], "needs a recorded incident"
    if assessment.risk.rank < m.min_risk.rank:
        return [], f"for risk {m.min_risk.value} or above; assessed {assessment.risk.value}"
    if m.min_risk.rank > 0:
        why.append(f"risk {assessment.risk.value} reaches its threshold ({m.min_risk.value})")
    return why, None


def _cautions(m: Mechanism, case: Case, assessment: Assessment, on: dt.date) -> list[str]:
    d = case.defender
    known = [i for i in case.incidents if i.date <= on]
    unverified = [str(i.id) for i in known if not i.verified]
    state_any = any(i.perpetrator is Perpetrator.state for i in known)
    out: list[str] = []
    if assessment.clear_present_threat and m.speed not in FAST:
        out.append(f"slow ({m.speed.value}): not a first response to a clear, present threat")
    for lim in m.limits:
        applies = ""
        if lim.kind is LimitKind.access and d.location.area in (Area.rural, Area.provincial):
            applies = f"applies: the defender works in a {d.location.area.value} area. "
        elif lim.kind is LimitKind.verification and unverified:
            applies = f"applies: {', '.join(unverified)} not verified. "
        elif lim.kind is LimitKind.trust and state_any:
            applies = "applies: a state perpetrator is recorded. "
        elif lim.kind is LimitKind.timeliness and assessment.clear_present_threat:
            applies = "applies: the threat is present now. "
        elif lim.kind is LimitKind.exposure and d.dependants:
            applies = "applies: the defender has dependants. "
        out.append(f"{lim.kind.value}: {applies}{lim.text}")
    return out


def match(case: Case, catalogue: Catalogue, assessment: Assessment, on: dt.date,
          phase: PhaseNote | None = None) -> Options:
    """The catalogue's mechanisms that fit ``case``; fast ones first under a present threat."""
    region, how = region_of(case.defender.location.country, case.defender.location.region)
    fitting: list[Option] = []
    not_fitting: list[tuple[str, str]] = []
    for m in catalogue.mechanism:
        why, reason = _fit(m, case, assessment, region, on)
        if reason is not None:
            not_fitting.append((m.id, reason))
            continue
        fitting.append(Option(m, why, _cautions(m, case, assessment, on), m.speed in FAST,
                              m.stale(on), case.consent_for(m.id)))

    def order(o: Option) -> tuple[int, int]:
        urgency = 0 if (o.fast or not assessment.clear_present_threat) else 1
        return urgency, _SYSTEM_ORDER.index(o.mechanism.system)

    fitting.sort(key=order)
    notes: list[str] = []
    regional = {"inter-american", "african", "european"}
    if not any(o.mechanism.system in regional for o in fitting):
        notes.append(f"no regional mechanism in the catalogue acts for {region.value}; the UN, "
                     "embassies, NGOs and informal protection remain")
    if case.defender.real_name is None:
        notes.append("the defender is recorded under an alias only; UN and regional mechanisms "
                     "need the identity, which drafts add only with consent to share it")
    return Options(case.id, on, region, how, fitting, not_fitting, phase, notes)


def country_phase(data: Path, country: str, on: dt.date) -> PhaseNote:
    """The country's phase from the coded record in ``data``, in the last year up to ``on``.

    Only panel years up to the assessment year are coded, so nothing after it is read.
    """
    from spirallab.data import DataSources, load_panel
    from spirallab.observe import code_phases

    if not data.is_dir():
        raise InputError("data folder not found", where="--data",
                         expected="a folder laid out like ../shared/data")
    panel = load_panel(DataSources.from_dir(data))
    panel = panel[panel["year"].astype(int) <= on.year]
    ids = panel["country_id"].astype(str)
    mine = ids == country
    if "iso3" in panel.columns:
        mine = mine | (panel["iso3"].astype(str) == country)
    if not mine.any():
        return PhaseNote(country, on.year, None, "not coded",
                         "none", f"no coded record for {country} up to {on.year} in the data given")
    coded = code_phases(panel)
    rows = coded[coded["country_id"].astype(str).isin(set(ids[mine]))]
    rows = rows[rows["phase"].notna()].sort_values("year")
    if rows.empty:
        return PhaseNote(country, on.year, None, "undecided", "none",
                         f"the coded record cannot decide {country}'s phase up to {on.year}")
    last = rows.iloc[-1]
    phase = int(last["phase"])
    return PhaseNote(country, int(last["year"]), phase, str(last["phase_label"]),
                     str(last["confidence"]), PHASE_NOTES.get(phase, ""))
