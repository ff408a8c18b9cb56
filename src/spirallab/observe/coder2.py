"""Phase coder, rules version 2.0.0: evidence of change decides, missing evidence never passes.

What changed from 1.0.0 (``docs/phase-coding.md`` documents every rule):

* **Practice on one scale.** PTS and physical integrity are mapped onto Fariss's theta scale
  through the same cut points that define the classes, and averaged; a source that starts or
  stops moves the average by the sources' disagreement only, instead of changing how a mean of
  rounded classes rounds. The average carries a measurement error, which gives the probability
  of each practice class.
* **Tactical concessions need evidence of a concession**: a case-file concession, or practice
  that improved beyond its uncertainty (Fariss theta); openness to NGO/IO investigation moves
  the probabilities towards phase 3. A ratification alone never decides phase 3 or 4 (003
  III: ratification under repression is decoupling, and denial-phase states ratify too).
* **Prescriptive status** needs the indicators of 001 "Phase 4" together: a fixed number of the
  four met, counted over all four (an unobserved indicator is not met, it does not lower the
  bar), and no denial or backlash in force.
* **Missing is missing.** A component of physical integrity that is not measured never counts
  as "no frequent abuse": rule-consistent behaviour then stays the set ``4|5``.
* **Not in a repressive situation** (``phase_set`` "0", ``p0``): good practice without the
  institutions of prescriptive status, or years before a case file's spiral begins.
* **Probabilities** ``p0``..``p5`` per coded country-year: the rules are run once for each
  practice class and mixed by the probability of that class; each rule puts its confidence on
  its phase set and the rest on the neighbouring phases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from spirallab.observe import coder as v1
from spirallab.observe.coder import (
    CLASS_NAMES,
    CONCESSION_EVENTS,
    PHASE_LABELS,
    PhaseRules,
    Rule,
)

__all__ = ["RULES_V2", "RULES_VERSION_V2", "RULE_BY_ID_V2", "PhaseRulesV2", "code_phases_v2"]

RULES_VERSION_V2 = "2.0.0"

#: Label of the state before (or outside) a spiral: good practice, no repressive situation.
NOT_REPRESSIVE = "not in a repressive situation"

# Amnesties free prisoners; read as concessions in 2.0.0 (the "releases and amnesties").
CONCESSION_EVENTS_V2 = CONCESSION_EVENTS | frozenset({"amnesty"})


@dataclass(frozen=True)
class Rule2(Rule):
    """A 2.0.0 rule: adds the line saying what evidence would decide an open set."""

    decide: str = ""


RULES_V2: tuple[Rule2, ...] = (
    Rule2("no_data", (), 0.0, "no practice indicator observed", "-"),
    Rule2(
        "p0_not_repressive", (0,), 0.8,
        "good practice and prescriptive status not established, or the years before a case "
        "file's repression_start: not in a repressive situation",
        '001 "Phase 1" (the spiral starts from repression); 000 (phases describe a repressive '
        "situation)",
        "a spell of repressive practice would start a spiral; the four indicators met would "
        "make it 4 or 5",
    ),
    Rule2(
        "p5_rule_consistent", (5,), 0.85,
        "prescriptive status; good practice for >= 2 years; every component of physical "
        "integrity measured and none frequent",
        '001 "Phase 5: rule-consistent behavior"; 000 row 5',
    ),
    Rule2(
        "p45_components_unmeasured", (4, 5), 0.9,
        "prescriptive status and good practice, but killings, disappearances, political "
        "imprisonment or torture not measured this year",
        '001 "Phase 5" (governments may accept the norms and still torture)',
        "CIRI/CIRIGHTS components: no frequent torture or political abuse -> 5; frequent -> 4",
    ),
    Rule2(
        "p4_endemic", (4,), 0.8,
        "prescriptive status; practice not severe; torture frequent but political abuse at "
        "most occasional",
        '001 "critical moments" (second: endemic low-level abuse after prescriptive status)',
    ),
    Rule2(
        "p4_prescriptive", (4,), 0.75,
        "prescriptive status (the indicators together) and practice not severe",
        '001 "Phase 4: prescriptive status", indicators 1-4',
    ),
    Rule2(
        "p4_abuse_continues", (4,), 0.55,
        "case file: prescriptive-status indicators met (including the government's own "
        "institutions or discourse) while practice is still severe",
        '001 "Phase 4" (validity no longer controversial even if behaviour still violates the '
        'rules; Guatemala, ch. 6)',
    ),
    Rule2(
        "p34_words_not_deeds", (3, 4), 0.8,
        "data only: prescriptive-status indicators met but practice severe",
        '001 "Phase 4" (words must be matched by deeds); 003 III (decoupling)',
        "a sustained improvement of practice (4) or a return to denial or backlash (3 or 2)",
    ),
    Rule2(
        "p2_denial", (2,), 0.85,
        "case file: abuse; latest statement a denial, or latest stance a backlash while on "
        "the agenda",
        '001 "Phase 2: denial"; 000 row 2 (denial/backlash)',
    ),
    Rule2(
        "p1_backlash_off_agenda", (1,), 0.6,
        "case file: abuse; crackdown or emergency before any agenda event",
        '001 "Phase 1: repression and activation of network"',
    ),
    Rule2(
        "p34_after_transition", (3, 4), 0.8,
        "case file: abuse; a liberalising transition is the latest move; prescriptive status "
        "incomplete",
        '001 "Phase 3" (its end: regime change or controlled liberalisation leads to phase 4)',
        "the new government's discourse (acceptance statement) and norms in law or a complaint "
        "mechanism -> 4",
    ),
    Rule2(
        "p3_concessions", (3,), 0.75,
        "case file: abuse; on the agenda; latest stance a concession (releases, amnesty, "
        "commission, law) or an acceptance",
        '001 "Phase 3: tactical concessions"; 000 row 3',
    ),
    Rule2(
        "p3_improving", (3,), 0.65,
        "abuse continues but Fariss theta improved beyond its uncertainty in the last "
        "concession_memory years, with no worsening since",
        '001 "Phase 3" (cosmetic improvement, e.g. prisoner releases)',
    ),
    Rule2(
        "p23_improving_severe", (2, 3), 0.8,
        "severe practice that improved beyond its uncertainty: a concession or only less "
        "killing, the data cannot tell",
        '001 "Phase 3" (cosmetic improvement) and "Phase 2" (denial while abuse continues)',
        "a concession recorded (releases, access for monitors, dialogue with critics) -> 3; a "
        "denial statement -> 2",
    ),
    Rule2(
        "p2_on_agenda", (2,), 0.6,
        "case file: abuse; on the agenda; no concession recorded",
        '001 "Phase 2: denial" (the initial reaction is almost always denial)',
    ),
    Rule2(
        "p1_repression", (1,), 0.6,
        "case file: abuse and no international agenda event yet",
        '001 "Phase 1: repression and activation of network"; hypothesis 1',
    ),
    Rule2(
        "p0_democracy_mixed", (0,), 0.6,
        "data only: mixed practice in a consolidated democracy without prescriptive status: "
        "not in a repressive situation",
        '001 "Phase 1" (the spiral starts from a repressive situation); assumption: mixed '
        "practice under consolidated democratic rule is not such a situation",
        "a spell of repressive practice would start a spiral",
    ),
    Rule2(
        "p34_committed_mixed", (3, 4), 0.8,
        "mixed practice, no concession evidence, at least two prescriptive-status indicators "
        "met, one of them norms in law or discourse (not treaties alone)",
        '001 "Phase 3" / "Phase 4" (behaviour can lag behind accepted norms)',
        "the remaining indicators (norms in law, complaint mechanism, acceptance) -> 4; a "
        "denial or backlash -> 2",
    ),
    Rule2(
        "p123_mixed", (1, 2, 3), 0.9,
        "mixed practice, no concession evidence, fewer than two indicators met",
        '001 "Phase 1" (levels of repression vary greatly) to "Phase 3"',
        "the international agenda and the government's answer: denial (2) or a concession (3)",
    ),
    Rule2(
        "p12_undecidable", (1, 2), 0.9,
        "repressive or severe practice and no evidence of a concession: repression or denial, "
        "never tactical concessions",
        '001 "Phase 1" / "Phase 2" (they differ by the international agenda); 003 III '
        "(ratifying while repressing is decoupling, not a concession)",
        "whether the country is on the international agenda and denies (2) or not yet (1); a "
        "concession (releases, access for monitors, improving practice) would make it 3",
    ),
    Rule2(
        "p45_unconfirmed", (4, 5), 0.85,
        "good practice, two prescriptive-status indicators met (one of them norms in law or "
        "discourse) but not enough",
        '001 "Phase 4" indicators; "Phase 5"',
        "the remaining indicators of prescriptive status",
    ),
)
RULE_BY_ID_V2: dict[str, Rule2] = {r.id: r for r in RULES_V2}


@dataclass(frozen=True)
class PhaseRulesV2(PhaseRules):
    """Thresholds of coder 2.0.0; the class thresholds are those of 1.0.0 (inherited).

    Units: years for windows, theta units for the measurement errors. Grounding of each default
    is in ``docs/phase-coding.md`` ("Parameters of 2.0.0").
    """

    version: str = RULES_VERSION_V2
    # PTS and physint on the theta scale: (value, theta) points, linear in between. The inner
    # points are the 1.0.0 class cut points, so a single indicator gives the same class.
    pts_theta_points: tuple[tuple[float, float], ...] = (
        (1.0, 1.45), (2.0, 0.55), (3.0, -0.55), (4.0, -1.4), (5.0, -2.3))
    physint_theta_points: tuple[tuple[float, float], ...] = (
        (0.0, -2.3), (2.0, -1.4), (4.0, -0.55), (7.0, 0.55), (8.0, 1.2))
    pts_error: float = 0.45
    physint_error: float = 0.45
    # Trend: stricter than 1.0.0 so that noise rarely reads as a concession.
    trend_z: float = 1.5
    concession_memory: int = 4
    # Prescriptive status: indicators met out of all four (unobserved = not met).
    prescriptive_min_indicators: int = 3
    # Consolidated democracy as data evidence for indicators 2 and 4.
    democracy_polity_min: float = 6.0
    democracy_years: int = 10
    discourse_lag: int = 1
    ngo_access_min: int = 1
    ngo_weight: float = 0.25
    sustain_years: int = 2

    def without(self, *rule_ids: str) -> PhaseRulesV2:
        """A copy with the given rules switched off."""
        unknown = [r for r in rule_ids if r not in RULE_BY_ID_V2]
        if unknown:
            raise ValueError(f"unknown rule ids: {unknown}")
        return replace(self, disabled=self.disabled | frozenset(rule_ids))


# ---------------------------------------------------------------------------------------------
# practice on the theta scale


def _interp(values: pd.Series, points: tuple[tuple[float, float], ...]) -> np.ndarray:
    v = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    out = np.interp(v, xs, ys)
    out[np.isnan(v)] = np.nan
    return out


_ndtr = np.vectorize(lambda z: 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))), otypes=[float])


def practice_scale(panel: pd.DataFrame, rules: PhaseRulesV2) -> pd.DataFrame:
    """Latent practice per country-year on the theta scale, its error and class probabilities.

    Columns ``m`` (mean of the available theta-scale readings), ``s`` (its error), ``n_ind``,
    ``cls`` (point class 0-3, NA without data), ``pc0``..``pc3`` (probability of each class),
    plus the raw readings and episodes.
    """
    pts = v1._combined_pts(panel)
    physint = v1._prefer(v1._col(panel, "cirights_physint"), v1._col(panel, "ciri_physint"))
    theta = v1._col(panel, "fariss_theta").to_numpy(dtype=float, na_value=np.nan)
    theta_sd = v1._col(panel, "fariss_sd").to_numpy(dtype=float, na_value=np.nan)
    eq = np.column_stack([
        _interp(pts, rules.pts_theta_points),
        _interp(physint, rules.physint_theta_points),
        theta,
    ])
    err = np.column_stack([
        np.full(len(panel), rules.pts_error),
        np.full(len(panel), rules.physint_error),
        np.where(np.isnan(theta_sd), 0.3, theta_sd),
    ])
    have = ~np.isnan(eq)
    n = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(n > 0, np.nansum(eq, axis=1) / np.maximum(n, 1), np.nan)
        var_mean = np.nansum(np.where(have, err**2, 0.0), axis=1) / np.maximum(n, 1) ** 2
        dev = np.where(have, eq - m[:, None], 0.0)
        between = np.where(n > 1, (dev**2).sum(axis=1) / np.maximum(n - 1, 1) / np.maximum(n, 1),
                           0.0)
    s = np.sqrt(var_mean + between)
    good, rep, sev = rules.theta_good_min, rules.theta_repressive_max, rules.theta_severe_max
    cls = np.select([m <= sev, m <= rep, m < good], [3, 2, 1], default=0).astype(float)
    cls[np.isnan(m)] = np.nan
    # class probabilities from a normal error around m
    with np.errstate(invalid="ignore", divide="ignore"):
        z = lambda c: _ndtr((c - m) / np.where(s > 0, s, 1e-9))  # noqa: E731
        below_sev, below_rep, below_good = z(sev), z(rep), z(good)
    pc = np.column_stack([1 - below_good, below_good - below_rep, below_rep - below_sev,
                          below_sev])
    # Episodes raise the class: state-led mass killing or large one-sided violence -> severe;
    # any one-sided government killing -> at least repressive.
    mk = v1._col(panel, "mass_killing", "Int64").fillna(0).astype(int).to_numpy() == 1
    osv = v1._col(panel, "osv_gov_deaths").fillna(0).astype(float).to_numpy()
    severe_ep = mk | (osv >= rules.osv_severe_deaths)
    some_ep = (osv > 0) & ~severe_ep
    known = ~np.isnan(m)
    cls = np.where(known & severe_ep, 3.0, cls)
    cls = np.where(known & some_ep & (cls < 2), 2.0, cls)
    pc[severe_ep] = [0.0, 0.0, 0.0, 1.0]
    lift = pc[some_ep, 0] + pc[some_ep, 1]
    pc[some_ep, 2] += lift
    pc[some_ep, 0] = 0.0
    pc[some_ep, 1] = 0.0
    pc[~known] = np.nan
    episode = np.where(mk, "mass killing ongoing", np.where(
        osv > 0, "UCDP one-sided government deaths=" + np.round(osv).astype(int).astype(str),
        ""))
    out = pd.DataFrame(
        {"m": m, "s": s, "n_ind": n, "cls": pd.array(cls, dtype="Float64"), "episode": episode,
         "pts": pts.to_numpy(dtype=float, na_value=np.nan),
         "physint": physint.to_numpy(dtype=float, na_value=np.nan),
         "theta": theta, "theta_sd": theta_sd},
        index=panel.index)
    for k in range(4):
        out[f"pc{k}"] = pc[:, k]
    return out


# ---------------------------------------------------------------------------------------------
# per-country history features


def _by_country(panel: pd.DataFrame) -> tuple[np.ndarray, pd.Series, pd.Series]:
    key = panel["country_id"].astype(str)
    years = panel["year"].astype(int)
    order = np.lexsort((years.to_numpy(), key.to_numpy()))
    return order, key, years


def _concession_memory(panel: pd.DataFrame, improved: pd.Series, worsened: pd.Series,
                       memory: int) -> tuple[pd.Series, pd.Series]:
    """Whether a theta improvement happened in the last ``memory`` years with no worsening since.

    Returns (flag, year of that improvement as float, NaN when none).
    """
    order, key, years = _by_country(panel)
    k = key.iloc[order]
    y = years.iloc[order].astype(float)
    imp_y = y.where(improved.iloc[order].to_numpy())
    wor_y = y.where(worsened.iloc[order].to_numpy())
    last_imp = imp_y.groupby(k, sort=False).ffill()
    last_wor = wor_y.groupby(k, sort=False).ffill()
    flag = (y - last_imp < memory) & ~(last_wor > last_imp)
    flag = flag.fillna(False).astype(bool)
    return flag.reindex(panel.index), last_imp.where(flag).reindex(panel.index)


def _consolidated_democracy(panel: pd.DataFrame, rules: PhaseRulesV2) -> pd.Series:
    """Whether the country is a consolidated democracy (evidence for indicators 2 and 4).

    Consolidated: polity2 >= ``democracy_polity_min`` for ``democracy_years`` consecutive
    observed years. Where polity2 is missing the last observed status carries forward (regime
    type persists until observed otherwise; Polity5 ends years before the other sources), and a
    carried year never adds to the run: a gap neither passes nor fails.
    """
    polity = v1._col(panel, "polity2")
    observed = polity.notna()
    dem = (polity >= rules.democracy_polity_min).fillna(False).astype(bool)
    sub = panel.loc[observed.to_numpy(), ["country_id", "year"]]
    run = v1._sustained_good(sub["country_id"], sub["year"].astype(int), dem[observed])
    status = pd.Series(np.nan, index=panel.index, dtype=float)
    status[observed] = (run >= rules.democracy_years).astype(float)
    order, key, _years = _by_country(panel)
    carried = status.iloc[order].groupby(key.iloc[order], sort=False).ffill()
    return carried.reindex(panel.index).fillna(0.0).astype(bool)


def _prior_run(panel: pd.DataFrame, good: pd.Series) -> pd.Series:
    """Consecutive good years immediately before each year (0 when last year was not good)."""
    run = v1._sustained_good(panel["country_id"], panel["year"].astype(int), good)
    order, key, years = _by_country(panel)
    r = run.iloc[order]
    y = years.iloc[order]
    prev = r.groupby(key.iloc[order], sort=False).shift(1)
    prev_y = y.groupby(key.iloc[order], sort=False).shift(1)
    prev = prev.where(prev_y == y - 1, 0).fillna(0).astype(int)
    return prev.reindex(panel.index)


# ---------------------------------------------------------------------------------------------
# the rules


def _cascade(c: np.ndarray, known: np.ndarray, f: pd.DataFrame, rules: PhaseRulesV2
             ) -> np.ndarray:
    """Rule id per row for practice class ``c`` (0-3); the first rule whose condition holds."""
    good, viol, severe = c == 0, c >= 1, c == 3
    mixed = c == 1
    presc = f["prescriptive"].to_numpy(dtype=bool)
    k = f["k"].to_numpy(dtype=int)
    case = f["case_on"].to_numpy(dtype=bool)
    before_case = f["before_case"].to_numpy(dtype=bool)
    agenda = f["agenda"].to_numpy(dtype=bool)
    stance = f["stance"].to_numpy(dtype=object)
    sustained = (f["prior_good"].to_numpy(dtype=int) + 1) >= rules.sustain_years
    comp_measured = f["components_measured"].to_numpy(dtype=bool)
    no_frequent = f["no_frequent_abuse"].to_numpy(dtype=bool)
    tort_freq = f["tort_frequent"].to_numpy(dtype=bool)
    pol_some = f["pol_at_most_occasional"].to_numpy(dtype=bool)
    improving = f["conceding_data"].to_numpy(dtype=bool)
    # ratification alone never opens phase 3 or 4: norms in law or discourse must be met too
    beyond_treaties = f["i2"].to_numpy(dtype=bool) | f["i4"].to_numpy(dtype=bool)
    democracy = f["democracy"].to_numpy(dtype=bool)
    conds: list[tuple[str, np.ndarray]] = [
        ("no_data", ~known),
        ("p0_not_repressive", before_case),
        ("p5_rule_consistent", presc & good & sustained & comp_measured & no_frequent),
        ("p45_components_unmeasured", presc & good & ~comp_measured),
        ("p4_endemic", presc & ~severe & tort_freq & pol_some),
        ("p4_prescriptive", presc & ~severe),
        ("p4_abuse_continues", presc & severe & case),
        ("p34_words_not_deeds", presc & severe),
        ("p2_denial", case & viol & ((stance == "denial") | ((stance == "backlash") & agenda))),
        ("p1_backlash_off_agenda", case & viol & (stance == "backlash") & ~agenda),
        ("p34_after_transition", case & viol & (stance == "transition")),
        ("p3_concessions", case & viol & agenda & np.isin(stance, ["concession", "acceptance"])),
        ("p3_improving", viol & ~severe & improving),
        ("p23_improving_severe", severe & improving),
        ("p2_on_agenda", case & viol & agenda),
        ("p1_repression", case & viol & ~agenda),
        ("p45_unconfirmed", good & (k >= 2) & beyond_treaties),
        ("p0_not_repressive", good),
        ("p0_democracy_mixed", mixed & democracy & ~case),
        ("p34_committed_mixed", mixed & (k >= 2) & beyond_treaties),
        ("p123_mixed", mixed),
        ("p12_undecidable", viol),
    ]
    rule = np.full(len(c), "", dtype=object)
    for rid, cond in conds:
        if rid in rules.disabled and rid != "no_data":
            continue
        take = cond & (rule == "")
        rule[take] = rid
    rule[rule == ""] = "unclassified"
    return rule


_PHASES = (0, 1, 2, 3, 4, 5)


def _rule_distribution(rid: str) -> np.ndarray:
    """p0..p5 a rule stands for: its confidence spread over its set, the rest over neighbours.

    A rule's ``base_confidence`` is read as the probability that the true phase lies in its set.
    """
    out = np.zeros(6)
    rule = RULE_BY_ID_V2.get(rid)
    if rule is None or not rule.phases:
        return out * np.nan
    inside = set(rule.phases)
    if inside == {0}:
        # not repressive: the alternatives are that repression has begun (1) or that the good
        # practice already rests on institutionalised norms (5)
        near = {1, 5}
    else:
        near = {p + d for p in inside for d in (-1, 1) if 1 <= p + d <= 5} - inside
    b = rule.base_confidence
    for p in inside:
        out[p] += b / len(inside)
    for p in near:
        out[p] += (1 - b) / len(near)
    if not near:
        out[list(inside)] += (1 - b) / len(inside)
    return out


_DIST = {r.id: _rule_distribution(r.id) for r in RULES_V2}


def _evidence(rid: str, f: Mapping[str, Any]) -> str:
    parts = []
    if not pd.isna(f["pts"]):
        parts.append(f"pts={v1._fmt(f['pts'])}")
    if not pd.isna(f["physint"]):
        parts.append(f"physint={v1._fmt(f['physint'])}")
    if not pd.isna(f["theta"]):
        parts.append(f"theta={v1._fmt(f['theta'])}±{v1._fmt(f['theta_sd'])}")
    if f["episode"]:
        parts.append(str(f["episode"]))
    cls = f["cls"]
    cname = CLASS_NAMES[int(cls)] if not pd.isna(cls) else "unknown"
    p = (f"{', '.join(parts)} -> scale {v1._fmt(f['m'])}±{v1._fmt(f['s'])}, {cname} practice"
         if parts else "no practice reading")
    met = ",".join(n for n, key in (("ratified", "i1"), ("norms", "i2"), ("complaints", "i3"),
                                    ("discourse", "i4")) if f[key]) or "none"
    com = f"indicators met {int(f['k'])}/4 ({met})"
    texts = {
        "no_data": "no PTS, CIRI/CIRIGHTS or Fariss value for this year",
        "p0_not_repressive": (
            f"{p}; before the case file's repression_start {int(f['case_from'])}"
            if f["before_case"] else f"{p}; {com} -> not in a repressive situation"),
        "p5_rule_consistent": f"{p} for {int(f['prior_good']) + 1}y; no frequent abuse; {com}",
        "p45_components_unmeasured": f"{p}; {com}; abuse components not measured",
        "p4_endemic": f"{p}; torture frequent, political abuse at most occasional; {com}",
        "p4_prescriptive": f"{p}; {com} -> prescriptive status",
        "p4_abuse_continues": f"{p}; {com}; abuse continues -> prescriptive status",
        "p34_words_not_deeds": f"{p}; {com} but severe practice",
        "p2_denial": f"{p}; latest stance {f['stance']} ({f['stance_ev']}) -> denial",
        "p1_backlash_off_agenda": f"{p}; {f['stance_ev']}, no agenda event yet -> repression",
        "p34_after_transition": f"{p}; {f['stance_ev']}, no statement since; {com}",
        "p3_concessions": f"{p}; latest stance {f['stance']} ({f['stance_ev']}) -> concessions",
        "p3_improving": (f"{p}; theta improved beyond its uncertainty in "
                         f"{v1._fmt(f['improved_year'], 0)} -> concessions"),
        "p23_improving_severe": (f"{p}; theta improved beyond its uncertainty in "
                                 f"{v1._fmt(f['improved_year'], 0)} but practice still severe"),
        "p2_on_agenda": f"{p}; on agenda ({f['agenda_ev']}), no concession -> denial",
        "p1_repression": f"{p}; case file records no agenda event yet -> repression",
        "p45_unconfirmed": f"{p}; {com} -> 4 or 5 (unconfirmed)",
        "p0_democracy_mixed": f"{p}; consolidated democracy (polity2); {com}",
        "p34_committed_mixed": f"{p}; {com}; no concession evidence -> 3 or 4",
        "p123_mixed": f"{p}; {com}; no concession evidence -> 1, 2 or 3",
        "p12_undecidable": f"{p}; no evidence of a concession -> repression or denial",
    }
    text = texts.get(rid, "all applicable rules disabled")
    rule = RULE_BY_ID_V2.get(rid)
    if rule is not None and rule.decide:
        text += f"; would decide: {rule.decide}"
    return f"{text} [{rid}]"


def code_phases_v2(
    panel: pd.DataFrame,
    casefiles: Mapping[str, Any] | None = None,
    rules: PhaseRulesV2 | None = None,
) -> pd.DataFrame:
    """Code every country-year with rules 2.0.0 (see :func:`spirallab.observe.code_phases`)."""
    rules = rules if rules is not None else PhaseRulesV2()
    if "country_id" not in panel.columns or "year" not in panel.columns:
        raise ValueError("panel must have country_id and year columns")
    panel = panel.reset_index(drop=True)
    years = panel["year"].astype(int)
    cfs = v1.resolve_casefiles(casefiles)
    prac = practice_scale(panel, rules)
    trend = v1.practice_features(panel, rules)[["improved", "worsened", "pol_min", "tort"]]
    case = v1.casefile_features(panel, cfs, CONCESSION_EVENTS_V2, changes_first=True)
    f = pd.concat([prac, trend, case], axis=1)

    # Concessions seen in the data.
    f["conceding_data"], f["improved_year"] = _concession_memory(
        panel, f["improved"], f["worsened"], rules.concession_memory)
    ngo = v1._col(panel, "cirights_ngo_investigate")
    f["open_to_monitors"] = (ngo >= rules.ngo_access_min).fillna(False).astype(bool)

    # Prescriptive status: the four indicators of 001 "Phase 4"; unobserved = not met.
    rat = {t: v1._bool_col(panel, f"ratified_{t}") for t in v1.COMMITMENT_TREATIES}
    democracy = _consolidated_democracy(panel, rules)
    f["democracy"] = democracy.astype(bool)
    has_case = case["has_case"].astype(bool)
    f["case_on"] = has_case & (years >= case["case_from"])
    f["before_case"] = has_case & (years < case["case_from"])
    f["i1"] = rat["iccpr"] | rat["cat"]
    f["i2"] = case["norms"].astype(bool) | democracy
    f["i3"] = case["mechanism"].astype(bool) | rat["iccpr_op1"]
    # One statement is not yet a discursive practice: an acceptance counts from the year after
    # it was made, while no denial, coup or regime change has voided it (001 "Phase 4":
    # argumentative consistency over time).
    accepted = (case["discourse"] == "acceptance") & (
        years >= case["discourse_year"] + rules.discourse_lag)
    f["i4"] = accepted | (democracy & ~has_case)
    f["k"] = f[["i1", "i2", "i3", "i4"]].astype(int).sum(axis=1)
    # A denial or backlash blocks prescriptive status until the government's next move (a
    # concession ends denial: 001 "Phase 3", governments stop denying when they concede).
    blocked = case["stance"].isin(["denial", "backlash"])
    f["prescriptive"] = (f["k"] >= rules.prescriptive_min_indicators) & ~blocked

    # Components of physical integrity: measured, and whether any abuse is frequent.
    pol_min, tort = f["pol_min"], f["tort"]
    f["components_measured"] = (pol_min.notna() & tort.notna()).astype(bool)
    f["no_frequent_abuse"] = ((pol_min >= 1) & (tort >= 1)).fillna(False).astype(bool)
    f["tort_frequent"] = (tort == 0).fillna(False).astype(bool)
    f["pol_at_most_occasional"] = (pol_min >= 1).fillna(False).astype(bool)
    f["prior_good"] = _prior_run(panel, (f["cls"] == 0).fillna(False).astype(bool))

    known = f["cls"].notna().to_numpy(dtype=bool)
    point = f["cls"].fillna(-1).astype(int).to_numpy()
    rule_id = _cascade(point, known, f, rules)

    # Probabilities: the cascade for each practice class, mixed by that class's probability.
    probs = np.zeros((len(panel), 6))
    for c in range(4):
        rc = _cascade(np.full(len(panel), c), known, f, rules)
        dist = np.vstack([_DIST.get(r, np.full(6, np.nan)) for r in rc])
        w = f[f"pc{c}"].to_numpy(dtype=float)
        probs += np.nan_to_num(dist) * np.nan_to_num(w)[:, None]
    # Openness to NGO/IO investigation is read in the probabilities only: its published
    # coverage is patchy (some years only), and a source that appears for a year must not move
    # phases. Where abuse continues it moves `ngo_weight` of the mass to tactical concessions.
    open_ = f["open_to_monitors"].to_numpy(dtype=bool) & (point >= 1)
    probs[open_] = (1 - rules.ngo_weight) * probs[open_] + rules.ngo_weight * np.eye(6)[3]
    probs[~known] = np.nan
    # Rows decided without reference to practice (before a case file's spiral) keep their rule.
    fixed = f["before_case"].to_numpy(dtype=bool) & known
    probs[fixed] = _DIST["p0_not_repressive"]
    tot = probs.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.round(probs / tot, 4)

    rid = pd.Series(rule_id, index=panel.index)
    phases = rid.map(lambda r: RULE_BY_ID_V2[r].phases if r in RULE_BY_ID_V2 else ())
    real = phases.map(lambda ps: tuple(p for p in ps if p >= 1))
    lo = real.map(lambda ps: min(ps) if ps else pd.NA).astype("Int64")
    hi = real.map(lambda ps: max(ps) if ps else pd.NA).astype("Int64")
    phase = lo.where(lo == hi).astype("Int64")
    phase_set = phases.map(lambda ps: "|".join(str(p) for p in ps))
    label = rid.map(_label)
    in_set = np.array([sum(probs[i, p] for p in ps) if ps else 0.0
                       for i, ps in enumerate(phases)])
    confidence = np.round(np.nan_to_num(in_set), 2)
    records = f.to_dict("records")
    evidence = [_evidence(r, row) for r, row in zip(rule_id, records, strict=True)]
    name = panel["name"] if "name" in panel.columns else panel["country_id"]
    out = pd.DataFrame({
        "country_id": panel["country_id"].astype(str),
        "name": name.astype(str),
        "year": years,
        "phase": phase,
        "phase_label": label,
        "phase_set": phase_set,
        "phase_lo": lo,
        "phase_hi": hi,
        "confidence": confidence.astype(float),
        "rule": rid.astype(str),
        "evidence": evidence,
        "practice": f["cls"].map(lambda x: CLASS_NAMES[int(x)] if not pd.isna(x) else "unknown"),
        "commitment_k": f["k"].astype(int),
        "stance": f["stance"].astype(str),
        "rules_version": rules.version,
        "decide": rid.map(lambda r: RULE_BY_ID_V2[r].decide if r in RULE_BY_ID_V2 else ""),
    })
    for p in _PHASES:
        out[f"p{p}"] = probs[:, p]
    return out.sort_values(["country_id", "year"]).reset_index(drop=True)


def _label(rid: str) -> str:
    rule = RULE_BY_ID_V2.get(rid)
    if rule is None or not rule.phases:
        return "undecidable: no data" if rid == "no_data" else "unclassified"
    return " or ".join(NOT_REPRESSIVE if p == 0 else PHASE_LABELS[p] for p in rule.phases)


def rules_for(version: str) -> PhaseRules:
    """The default rules of a version: ``"1.0.0"`` or ``"2.0.0"``."""
    if version == v1.RULES_VERSION_V1:
        return PhaseRules()
    if version == RULES_VERSION_V2:
        return PhaseRulesV2()
    raise ValueError(f"unknown rules version {version!r}; known: 1.0.0, 2.0.0")

