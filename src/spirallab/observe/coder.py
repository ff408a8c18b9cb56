"""The phase coder: one spiral phase per country-year, with the evidence that decided it.

The rules operationalise the five phases of Risse & Sikkink (1999) (seed 001, "Phase 1" to
"Phase 5") from observable indicators. Every rule has an id, a base confidence and a seed
grounding; all of them are listed in ``docs/phase-coding.md``. The coder works in three
vectorised steps:

1. **practice**: a repression class per country-year (0 good, 1 mixed, 2 repressive, 3 severe)
   from PTS, CIRI/CIRIGHTS physical integrity and Fariss theta, raised by mass-killing and
   one-sided-violence episodes; whether abuse is political (killings, disappearances, political
   prisoners) or only endemic (torture); whether theta improved by more than its uncertainty.
2. **commitment**: the four indicators of prescriptive status (001 "Phase 4"), from the
   ratification columns of the panel and, where a case file exists, from its dated events; plus the
   government's current stance (denial, backlash, concession, acceptance) read from the case file.
3. **phase**: the first rule (in a fixed priority order) whose condition holds decides the phase.
   Where the evidence cannot separate two phases (typically repression vs denial without any sign
   that the country is on the international agenda) the result is a *set* (``phase_set`` "1|2")
   with ``phase`` left missing, never a silent pick.

Nothing here is scheduled by date: a phase changes only when an indicator or a dated case-file
event changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spirallab.model.state import PHASE_LABELS  # one vocabulary for simulated and coded phases

__all__ = [
    "DEFAULT_RULES",
    "PHASE_LABELS",
    "RULES",
    "RULES_V1",
    "RULES_VERSION",
    "RULES_VERSION_V1",
    "PhaseRules",
    "Rule",
    "casefile_features",
    "code_phases",
    "practice_features",
    "resolve_casefiles",
]

RULES_VERSION_V1 = "1.0.0"
#: The default rules version (coder 2.0.0, :mod:`spirallab.observe.coder2`).
RULES_VERSION = "2.0.0"


CLASS_NAMES = ("good", "mixed", "repressive", "severe")

# Treaties whose ratification is indicator 1 of prescriptive status (core + optional protocols).
CORE_TREATIES = ("iccpr", "cat")
PROTOCOLS = ("iccpr_op1", "opcat")
COMMITMENT_TREATIES = CORE_TREATIES + PROTOCOLS

# Case-file event types by what they say about the government's stance or the agenda.
AGENDA_EVENTS = frozenset(
    {"denial_statement", "aid_cut", "sanctions", "international_mechanism", "massacre"}
)
CONCESSION_EVENTS = frozenset(
    {
        "prisoner_release",
        "commission_created",
        "complaint_mechanism",
        "truth_commission",
        "law",
        "constitution",
        "peace_accord",
    }
)
BACKLASH_EVENTS = frozenset({"crackdown", "state_of_emergency", "martial_law"})
RESET_EVENTS = frozenset({"coup", "regime_change", "transition"})
NORM_EVENTS = frozenset({"constitution", "law"})
MECHANISM_EVENTS = frozenset({"complaint_mechanism", "commission_created", "truth_commission"})


@dataclass(frozen=True)
class Rule:
    """One decision rule: id, the phase(s) it assigns, base confidence, seed grounding."""

    id: str
    phases: tuple[int, ...]
    base_confidence: float
    summary: str
    grounding: str


RULES: tuple[Rule, ...] = (
    Rule("no_data", (), 0.0, "no practice indicator observed", "-"),
    Rule(
        "p5_rule_consistent", (5,), 0.85,
        "prescriptive status, good practice sustained, no component of abuse frequent",
        '001 "Phase 5: rule-consistent behavior"; 000 row 5',
    ),
    Rule(
        "p4_endemic", (4,), 0.8,
        "prescriptive status, political abuse absent or occasional but torture frequent",
        '001 "critical moments" (second: endemic low-level abuse after prescriptive status)',
    ),
    Rule(
        "p4_prescriptive", (4,), 0.75,
        "prescriptive status (indicators 1-4) and practice not severe",
        '001 "Phase 4: prescriptive status", indicators 1-4',
    ),
    Rule(
        "p3_decoupled", (3,), 0.6,
        "prescriptive-status indicators met but practice severe: commitment decoupled from "
        "practice",
        '003 section III (decoupling; Cambodia read as stage 3); 001 "Phase 4" (words matched by '
        "deeds)",
    ),
    Rule(
        "p2_denial", (2,), 0.85,
        "case file: latest government stance is a denial statement or a backlash (crackdown, "
        "martial law, emergency) while on the agenda",
        '001 "Phase 2: denial"; 000 row 2 (denial/backlash)',
    ),
    Rule(
        "p1_backlash_off_agenda", (1,), 0.6,
        "case file: crackdown or emergency with no international agenda event yet",
        '001 "Phase 1: repression and activation of network"',
    ),
    Rule(
        "p34_after_transition", (3, 4), 0.5,
        "case file: transition (liberalising change of government), abuse continues, the new "
        "government's discourse not yet recorded and prescriptive status incomplete",
        '001 "Phase 3" (end: regime change or controlled liberalisation leads to phase 4)',
    ),
    Rule(
        "p3_concessions", (3,), 0.75,
        "case file: latest stance is a concession or acceptance while abuse continues",
        '001 "Phase 3: tactical concessions"; 000 row 3',
    ),
    Rule(
        "p3_ratified_under_repression", (3,), 0.6,
        "ratified ICCPR, CAT or a protocol during the current spell of abuse",
        '003 section III (ratification as strategic adaptation); 001 "Phase 3"',
    ),
    Rule(
        "p3_improving", (3,), 0.65,
        "case file shows the country on the agenda and Fariss theta improved beyond its "
        "uncertainty while abuse continues",
        '001 "Phase 3" (temporary improvement, e.g. prisoner releases)',
    ),
    Rule(
        "p2_on_agenda", (2,), 0.6,
        "case file: on the international agenda, abuse continues, no concession recorded "
        "(the initial reaction is almost always denial)",
        '001 "Phase 2: denial" (initial reaction almost always denial)',
    ),
    Rule(
        "p1_repression", (1,), 0.6,
        "case file: abuse and no international agenda event recorded yet",
        '001 "Phase 1: repression and activation of network"; hypothesis 1',
    ),
    Rule(
        "p34_committed_mixed", (3, 4), 0.45,
        "mixed practice, treaties ratified but prescriptive status not established",
        '001 "Phase 3" / "Phase 4" (behaviour may lag behind accepted norms); 003 III',
    ),
    Rule(
        "p123_mixed_uncommitted", (1, 2, 3), 0.4,
        "mixed practice, no treaty ratified, no case file",
        '001 "Phase 1" (repression levels vary greatly, e.g. Tunisia) to "Phase 3"',
    ),
    Rule(
        "p12_undecidable", (1, 2), 0.5,
        "repressive or severe practice and no evidence of the international agenda: repression "
        "or denial",
        '001 "Phase 1" / "Phase 2" (the difference is the agenda, which the data do not carry)',
    ),
    Rule(
        "p45_unconfirmed", (4, 5), 0.4,
        "good practice but the observable prescriptive-status indicators are incomplete",
        '001 "Phase 4" indicators; "Phase 5"',
    ),
)
RULE_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


@dataclass(frozen=True)
class PhaseRules:
    """Thresholds and switches of the coder. Change them with :func:`dataclasses.replace`.

    ``disabled`` holds rule ids that must not fire (their cases fall through to later rules).
    """

    version: str = RULES_VERSION_V1
    # Repression classes: PTS (1-5, 5 worst)
    pts_good_max: float = 2.0
    pts_repressive_min: float = 3.0
    pts_severe_min: float = 4.0
    # CIRI/CIRIGHTS physical integrity (0-8, 8 best)
    physint_good_min: int = 7
    physint_repressive_max: int = 4
    physint_severe_max: int = 2
    # Fariss theta (higher = more respect); cut points are the mean theta of PTS 2, 3 and 4
    # country-years in LHRS v4.02 (0.56, -0.55, -1.41).
    theta_good_min: float = 0.55
    theta_repressive_max: float = -0.55
    theta_severe_max: float = -1.4
    # Episodes
    osv_severe_deaths: float = 1000.0
    # Trend: theta change over `trend_window` years must exceed `trend_z` SDs of the difference.
    trend_window: int = 3
    trend_z: float = 1.0
    # Prescriptive status: indicators met out of those observable
    prescriptive_min_indicators: int = 3
    sustain_years: int = 2
    disabled: frozenset[str] = field(default_factory=frozenset)

    def without(self, *rule_ids: str) -> PhaseRules:
        """A copy with the given rules switched off."""
        unknown = [r for r in rule_ids if r not in RULE_BY_ID]
        if unknown:
            raise ValueError(f"unknown rule ids: {unknown}")
        return replace(self, disabled=self.disabled | frozenset(rule_ids))


RULES_V1 = PhaseRules()
if TYPE_CHECKING:  # defined lazily by __getattr__ below (2.0.0 lives in coder2)
    DEFAULT_RULES: PhaseRules


# --------------------------------------------------------------------------------------------
# helpers


def _col(panel: pd.DataFrame, name: str, dtype: str = "Float64") -> pd.Series:
    """A panel column as a nullable series, or all-missing when the panel lacks it."""
    if name in panel.columns:
        return pd.to_numeric(panel[name], errors="coerce").astype(dtype)
    return pd.Series(pd.NA, index=panel.index, dtype=dtype)


def _bool_col(panel: pd.DataFrame, name: str) -> pd.Series:
    if name in panel.columns:
        return panel[name].astype("boolean").fillna(False).astype(bool)
    return pd.Series(False, index=panel.index)


def _fmt(x: Any, nd: int = 2) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    if isinstance(x, (float, np.floating)):
        return f"{x:.{nd}f}".rstrip("0").rstrip(".")
    return str(x)


def _class_from(
    values: pd.Series, good: float, rep: float, sev: float, higher_is_worse: bool
) -> pd.Series:
    """Repression class 0-3 from one indicator (NA stays NA)."""
    v = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if higher_is_worse:
        cls = np.select([v >= sev, v >= rep, v > good], [3, 2, 1], default=0)
    else:
        cls = np.select([v <= sev, v <= rep, v < good], [3, 2, 1], default=0)
    out = pd.Series(cls, index=values.index, dtype="Int64")
    return out.mask(np.isnan(v))


def _combined_pts(panel: pd.DataFrame) -> pd.Series:
    """The panel's combined PTS; where missing, the mean of the available A/H/S scores."""
    sources = pd.concat([_col(panel, c) for c in ("pts_a", "pts_h", "pts_s")], axis=1)
    mean = sources.mean(axis=1, skipna=True).astype("Float64")
    pts = _col(panel, "pts")
    return pts.fillna(mean)


def _prefer(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where observed, else ``b`` (CIRIGHTS before classic CIRI)."""
    return a.fillna(b)


# --------------------------------------------------------------------------------------------
# step 1: practice


def practice_features(panel: pd.DataFrame, rules: PhaseRules = RULES_V1) -> pd.DataFrame:
    """Practice indicators per country-year, aligned with ``panel``'s index.

    Columns: ``pts``, ``physint``, ``theta``, ``theta_sd``, ``cls_pts``, ``cls_physint``,
    ``cls_theta``, ``cls`` (combined 0-3), ``n_ind`` (indicators observed), ``spread`` (max-min of
    the indicator classes), ``episode`` (text), ``pol_min`` (worst of kill/disap/polpris, 0-2),
    ``tort`` (0-2), ``improved``, ``worsened`` (theta change beyond its uncertainty).
    """
    r = rules
    pts = _combined_pts(panel)
    physint = _prefer(_col(panel, "cirights_physint"), _col(panel, "ciri_physint"))
    theta = _col(panel, "fariss_theta")
    theta_sd = _col(panel, "fariss_sd")

    cls_pts = _class_from(pts, r.pts_good_max, r.pts_repressive_min, r.pts_severe_min, True)
    # physint: 8 best; map onto the same classes with "higher is better"
    cls_phy = _class_from(
        physint, r.physint_good_min, r.physint_repressive_max, r.physint_severe_max, False
    )
    cls_theta = _class_from(
        theta, r.theta_good_min, r.theta_repressive_max, r.theta_severe_max, False
    )

    stack = pd.concat([cls_pts, cls_phy, cls_theta], axis=1).astype("Float64")
    n_ind = stack.notna().sum(axis=1).astype(int)
    # Mean class rounded half up: where indicators disagree, lean towards more abuse, since
    # the worst governments restrict the information that reports rely on (001 Phase 1).
    mean_cls = stack.mean(axis=1, skipna=True)
    cls = np.floor(mean_cls.astype(float) + 0.5)
    spread = (stack.max(axis=1) - stack.min(axis=1)).astype("Float64")

    # Episodes raise the class: state-led mass killing, or one-sided government violence.
    mk = _col(panel, "mass_killing", "Int64").fillna(0).astype(int) == 1
    osv = _col(panel, "osv_gov_deaths").fillna(0).astype(float)
    severe_ep = mk | (osv >= r.osv_severe_deaths)
    some_ep = osv > 0
    cls_s = pd.Series(cls, index=panel.index).astype("Float64")
    cls_s = cls_s.mask(severe_ep, 3.0)
    cls_s = cls_s.mask(some_ep & ~severe_ep & (cls_s.fillna(-1) < 2), 2.0)
    episode = np.where(
        mk,
        "mass killing ongoing",
        np.where(
            osv > 0, "UCDP one-sided government deaths=" + osv.round(0).astype(int).astype(str), ""
        ),
    )

    kill = _prefer(_col(panel, "cirights_kill"), _col(panel, "ciri_kill"))
    disap = _prefer(_col(panel, "cirights_disap"), _col(panel, "ciri_disap"))
    polpris = _prefer(_col(panel, "cirights_polpris"), _col(panel, "ciri_polpris"))
    tort = _prefer(_col(panel, "cirights_tort"), _col(panel, "ciri_tort"))
    pol_min = pd.concat([kill, disap, polpris], axis=1).min(axis=1, skipna=True).astype("Float64")

    # Trend: theta change over the window compared with the SD of the difference.
    key = panel["country_id"]
    years = panel["year"].astype(int)
    order = np.lexsort((years.to_numpy(), key.astype(str).to_numpy()))
    df = pd.DataFrame({"k": key, "y": years, "t": theta, "s": theta_sd}).iloc[order]
    g = df.groupby("k", sort=False)
    w = r.trend_window
    prev_t = g["t"].shift(w)
    prev_s = g["s"].shift(w)
    prev_y = g["y"].shift(w)
    contiguous = (df["y"] - prev_y) == w
    diff = (df["t"] - prev_t).astype(float)
    sd_diff = np.sqrt(df["s"].astype(float) ** 2 + prev_s.astype(float) ** 2)
    improved = (contiguous & (diff > r.trend_z * sd_diff)).fillna(False)
    worsened = (contiguous & (diff < -r.trend_z * sd_diff)).fillna(False)
    trend_diff = diff.where(contiguous)

    out = pd.DataFrame(
        {
            "pts": pts,
            "physint": physint,
            "theta": theta,
            "theta_sd": theta_sd,
            "cls_pts": cls_pts,
            "cls_physint": cls_phy,
            "cls_theta": cls_theta,
            "cls": cls_s.astype("Int64"),
            "n_ind": n_ind,
            "spread": spread,
            "episode": episode,
            "pol_min": pol_min,
            "tort": tort,
        },
        index=panel.index,
    )
    out["improved"] = improved.reindex(panel.index).astype(bool)
    out["worsened"] = worsened.reindex(panel.index).astype(bool)
    out["theta_change"] = trend_diff.reindex(panel.index)
    return out


# --------------------------------------------------------------------------------------------
# step 2: commitment and case-file stance


def _ratification_features(
    panel: pd.DataFrame, cls: pd.Series, count_from: pd.Series
) -> pd.DataFrame:
    """Indicator 1 (ratification) and whether a ratification happened in the current abuse spell.

    Ratifications before ``count_from`` (a case file's ``repression_start``) are commitments of an
    earlier government and do not count as concessions of the current one.
    """
    key = panel["country_id"].astype(str)
    years = panel["year"].astype(int)
    rat = {t: _bool_col(panel, f"ratified_{t}") for t in COMMITMENT_TREATIES}
    core_all = rat["iccpr"] & rat["cat"]
    core_any = rat["iccpr"] | rat["cat"]
    proto_any = rat["iccpr_op1"] | rat["opcat"]
    c1 = np.where(core_all & proto_any, 1.0, np.where(core_any | proto_any, 0.5, 0.0))

    order = np.lexsort((years.to_numpy(), key.to_numpy()))
    df = pd.DataFrame({"k": key, "y": years, "viol": (cls.fillna(0) >= 1)}).iloc[order]
    counts = (years >= count_from).iloc[order]
    new_rat = pd.Series(False, index=df.index)
    new_names: pd.Series = pd.Series("", index=df.index)
    g = df.groupby("k", sort=False)
    for t in COMMITMENT_TREATIES:
        r = rat[t].iloc[order]
        prev = r.groupby(df["k"], sort=False).shift(1).fillna(False).astype(bool)
        first_row = g.cumcount() == 0
        # A country first observed already ratified: the ratification year is not in the panel
        # window, so we cannot tell whether it was made under abuse; it does not count.
        became = r & ~prev & ~first_row
        new_rat |= became
        new_names = new_names.where(~became, new_names + np.where(new_names == "", "", ",") + t)
    # Spells of abuse: runs of consecutive violating years per country.
    spell_start = df["viol"] & ~g["viol"].shift(1).fillna(False).astype(bool)
    spell_id = spell_start.groupby(df["k"], sort=False).cumsum()
    # Only a ratification in a repressive or severe year reads as a concession under pressure.
    rep = (cls.fillna(0) >= 2).iloc[order]
    under = new_rat & rep & counts
    under_in_spell = under.groupby([df["k"], spell_id], sort=False).cummax() & df["viol"]
    # remember what and when, for the evidence string
    label = pd.Series(
        np.where(under, new_names + " " + df["y"].astype(str), ""), index=df.index
    ).replace("", np.nan)
    label = label.groupby([df["k"], spell_id], sort=False).ffill().fillna("")
    out = pd.DataFrame(
        {
            "c1": pd.Series(c1, index=panel.index),
            "rat_under_abuse": under_in_spell.reindex(panel.index).astype(bool),
            "rat_under_label": label.reindex(panel.index).where(
                under_in_spell.reindex(panel.index), ""
            ),
        }
    )
    for t in COMMITMENT_TREATIES:
        out[f"r_{t}"] = rat[t]
    return out


def _event_type(ev: Any) -> str:
    t = ev.type
    return str(getattr(t, "value", t))


def casefile_features(
    panel: pd.DataFrame,
    casefiles: Mapping[str, Any] | None,
    concession_events: frozenset[str] = CONCESSION_EVENTS,
    changes_first: bool = False,
) -> pd.DataFrame:
    """Per country-year features read from case files (NA/empty for countries without one).

    ``has_case``, ``agenda`` (+ ``agenda_ev``), ``norms`` (indicator 2), ``mechanism``
    (indicator 3), ``stance`` in {"", denial, backlash, concession, acceptance, transition,
    reset, coup}
    with ``stance_ev`` naming the event, and ``accepts`` (indicator 4). ``concession_events``
    are the event types read as concessions; ``changes_first`` orders a year's changes of
    government before its other moves.
    """
    n = len(panel)
    has_case = np.zeros(n, dtype=bool)
    agenda = np.zeros(n, dtype=bool)
    agenda_ev = np.full(n, "", dtype=object)
    norms = np.zeros(n, dtype=bool)
    norms_ev = np.full(n, "", dtype=object)
    mech = np.zeros(n, dtype=bool)
    mech_ev = np.full(n, "", dtype=object)
    stance = np.full(n, "", dtype=object)
    stance_ev = np.full(n, "", dtype=object)
    discourse = np.full(n, "", dtype=object)
    discourse_ev = np.full(n, "", dtype=object)
    discourse_year = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    case_from = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if casefiles:
        keys = panel["country_id"].astype(str).to_numpy()
        years = panel["year"].astype(int).to_numpy()
        for cid, cf in casefiles.items():
            rows = np.flatnonzero(keys == cid)
            if rows.size == 0:
                continue
            has_case[rows] = True
            start = getattr(cf, "repression_start", None)
            case_from[rows] = int(start) if start is not None else np.iinfo(np.int64).min
            # Stance moves: (year, order-within-year, stance, label). End of a spell of martial
            # law or emergency counts as a concession in the year after it ends.
            moves: list[tuple[int, int, str, str]] = []
            agenda_first: tuple[int, str] | None = None
            norm_first: tuple[int, str] | None = None
            mech_first: tuple[int, str] | None = None
            for i, ev in enumerate(cf.events):
                t = _event_type(ev)
                lab = f"{t} {ev.year}"
                if t in AGENDA_EVENTS and (agenda_first is None or ev.year < agenda_first[0]):
                    agenda_first = (ev.year, lab)
                if t in NORM_EVENTS and (norm_first is None or ev.year < norm_first[0]):
                    norm_first = (ev.year, lab)
                if t in MECHANISM_EVENTS and (mech_first is None or ev.year < mech_first[0]):
                    mech_first = (ev.year, lab)
                if t == "denial_statement":
                    moves.append((ev.year, i, "denial", lab))
                elif t == "acceptance_statement":
                    moves.append((ev.year, i, "acceptance", lab))
                elif t in BACKLASH_EVENTS:
                    moves.append((ev.year, i, "backlash", lab))
                    if ev.end_year is not None and t != "crackdown":
                        moves.append((ev.end_year + 1, i, "concession", f"{t} ended {ev.end_year}"))
                elif t in concession_events:
                    moves.append((ev.year, i, "concession", lab))
                elif t == "coup":
                    moves.append((ev.year, i, "coup", lab))
                elif t == "transition":
                    moves.append((ev.year, i, "transition", lab))
                elif t in RESET_EVENTS:
                    moves.append((ev.year, i, "reset", lab))
            # Concessions also put a country on the agenda: they answer pressure.
            for y, _i, s, lab in moves:
                earlier = agenda_first is None or y < agenda_first[0]
                if s in ("concession", "acceptance") and earlier:
                    agenda_first = (y, lab)
            if changes_first:
                # A change of government in a year comes before that year's other moves: the
                # year's statements and deeds are the new government's (rules 2.0.0).
                moves.sort(key=lambda m: (m[0], m[2] not in ("coup", "transition", "reset"),
                                          m[1]))
            else:
                moves.sort(key=lambda m: (m[0], m[1]))
            yrs = years[rows]
            if agenda_first is not None:
                on = yrs >= agenda_first[0]
                agenda[rows[on]] = True
                agenda_ev[rows[on]] = agenda_first[1]
            if norm_first is not None:
                on = yrs >= norm_first[0]
                norms[rows[on]] = True
                norms_ev[rows[on]] = norm_first[1]
            if mech_first is not None:
                on = yrs >= mech_first[0]
                mech[rows[on]] = True
                mech_ev[rows[on]] = mech_first[1]
            if moves:
                my = np.array([m[0] for m in moves])
                # index of the last move with year <= row year
                idx = np.searchsorted(my, yrs, side="right") - 1
                ok = idx >= 0
                stance[rows[ok]] = [moves[j][2] for j in idx[ok]]
                stance_ev[rows[ok]] = [moves[j][3] for j in idx[ok]]
            # Discourse (indicator 4) changes only with statements and changes of government:
            # a coup or regime change voids whatever the old government said; a transition
            # voids a denial but keeps an acceptance (the new government came from the
            # opposition that carried the rights claims, 001 Phase 4); concessions and
            # crackdowns are deeds, not discourse.
            talk: list[tuple[int, str, str]] = []
            for y, _i, st, lab in moves:
                prev = talk[-1][1] if talk else ""
                if st in ("denial", "acceptance"):
                    talk.append((y, st, lab))
                elif st in ("coup", "reset") or (st == "transition" and prev == "denial"):
                    talk.append((y, "", lab))
            if talk:
                ty = np.array([m[0] for m in talk])
                idx = np.searchsorted(ty, yrs, side="right") - 1
                ok = idx >= 0
                discourse[rows[ok]] = [talk[j][1] for j in idx[ok]]
                discourse_ev[rows[ok]] = [talk[j][2] for j in idx[ok]]
                discourse_year[rows[ok]] = [talk[j][0] for j in idx[ok]]
    return pd.DataFrame(
        {
            "has_case": has_case,
            "agenda": agenda,
            "agenda_ev": agenda_ev,
            "norms": norms,
            "norms_ev": norms_ev,
            "mechanism": mech,
            "mechanism_ev": mech_ev,
            "stance": stance,
            "stance_ev": stance_ev,
            "discourse": discourse,
            "discourse_ev": discourse_ev,
            "discourse_year": discourse_year,
            "case_from": case_from,
        },
        index=panel.index,
    )


def _commitment(
    panel: pd.DataFrame, rat: pd.DataFrame, case: pd.DataFrame, rules: PhaseRules
) -> pd.DataFrame:
    """The four indicators of prescriptive status, how many are met and how many observable."""
    i1 = rat["c1"] >= 1.0
    i3_op1 = rat["r_iccpr_op1"]
    has_case = case["has_case"]
    i2 = case["norms"].where(has_case, False)
    i3 = case["mechanism"] | i3_op1
    ngo = _col(panel, "cirights_ngo_investigate")
    # Indicator 4, discourse: the case file's latest statement; else openness to NGO/IO scrutiny.
    i4_case = case["discourse"] == "acceptance"
    ngo_open = (ngo >= 2).fillna(False).astype(bool)
    i4 = np.where(has_case, i4_case | ngo_open, ngo_open)
    i4_obs = has_case | ngo.notna()
    n_obs = 2 + has_case.astype(int) + i4_obs.astype(int)  # i1 and i3 are always observable
    k = i1.astype(int) + i2.astype(int) + i3.astype(int) + pd.Series(i4, index=panel.index).astype(
        int
    )
    need = np.minimum(rules.prescriptive_min_indicators, n_obs)
    # Denial in force voids discursive acceptance and prescriptive status.
    # A denial in force voids prescriptive status; so does a backlash (crackdown, emergency)
    # not yet followed by a concession: words must be matched by a sustained effort (001 Phase 4).
    blocked = (case["discourse"] == "denial") | (case["stance"] == "backlash")
    prescriptive = (k >= need) & ~blocked
    return pd.DataFrame(
        {
            "i1": i1,
            "i2": i2.astype(bool),
            "i3": i3.astype(bool),
            "i4": pd.Series(i4, index=panel.index).astype(bool),
            "k": k,
            "n_obs": n_obs,
            "prescriptive": prescriptive,
        },
        index=panel.index,
    )


# --------------------------------------------------------------------------------------------
# step 3: phase


def _practice_text(f: Mapping[str, Any]) -> str:
    parts = []
    if not pd.isna(f["pts"]):
        parts.append(f"pts={_fmt(f['pts'])}")
    if not pd.isna(f["physint"]):
        parts.append(f"physint={_fmt(f['physint'])}")
    if not pd.isna(f["theta"]):
        parts.append(f"theta={_fmt(f['theta'])}±{_fmt(f['theta_sd'])}")
    if f["episode"]:
        parts.append(str(f["episode"]))
    cls = f["cls"]
    name = CLASS_NAMES[int(cls)] if not pd.isna(cls) else "unknown"
    return f"{', '.join(parts)} -> {name} practice"


def _commit_text(f: Mapping[str, Any]) -> str:
    names = []
    for t in COMMITMENT_TREATIES:
        if f[f"r_{t}"]:
            names.append(t.upper().replace("_", "-"))
    rat = "+".join(names) if names else "none"
    return f"indicators {int(f['k'])}/{int(f['n_obs'])} observable met (ratified: {rat})"


def _evidence(rule_id: str, f: Mapping[str, Any]) -> str:
    """A short human-readable sentence: which indicator, which value, which rule."""
    p = _practice_text(f)
    if rule_id == "no_data":
        return "no PTS, CIRI/CIRIGHTS or Fariss value for this year"
    if rule_id == "p5_rule_consistent":
        return (
            f"{p} for {int(f['sustain'])}y; no frequent abuse; {_commit_text(f)} "
            "-> rule-consistent"
        )
    if rule_id == "p4_endemic":
        return (
            f"{p}; torture frequent (tort=0) but political abuse at most occasional "
            f"(min kill/disap/polpris={_fmt(f['pol_min'])}); {_commit_text(f)} -> prescriptive, "
            "endemic abuse"
        )
    if rule_id == "p4_prescriptive":
        return f"{p}; {_commit_text(f)} -> prescriptive status"
    if rule_id == "p3_decoupled":
        return f"{p}; {_commit_text(f)} but severe abuse -> commitment decoupled from practice"
    if rule_id == "p2_denial":
        return f"{p}; latest stance {f['stance']} ({f['stance_ev']}) on the agenda -> denial"
    if rule_id == "p1_backlash_off_agenda":
        return f"{p}; {f['stance_ev']} and no agenda event yet -> repression"
    if rule_id == "p34_after_transition":
        return (
            f"{p}; {f['stance_ev']}, no statement since, {_commit_text(f)} -> "
            "concessions or prescriptive status"
        )
    if rule_id == "p3_concessions":
        return f"{p}; latest stance {f['stance']} ({f['stance_ev']}) -> tactical concessions"
    if rule_id == "p3_ratified_under_repression":
        return f"{p}; ratified {f['rat_under_label']} during this spell of abuse -> concessions"
    if rule_id == "p3_improving":
        return (
            f"{p}; theta +{_fmt(f['theta_change'])} over the trend window exceeds its uncertainty, "
            f"on agenda since {f['agenda_ev']} -> concessions"
        )
    if rule_id == "p2_on_agenda":
        return f"{p}; on agenda ({f['agenda_ev']}), no concession recorded -> denial"
    if rule_id == "p1_repression":
        return f"{p}; case file records no agenda event yet -> repression"
    if rule_id == "p34_committed_mixed":
        return f"{p}; {_commit_text(f)}, prescriptive status not established -> 3 or 4"
    if rule_id == "p123_mixed_uncommitted":
        return f"{p}; no treaty ratified, no case-file evidence -> 1, 2 or 3"
    if rule_id == "p12_undecidable":
        before = (
            f" (before the case file's repression_start {int(f['case_from'])})"
            if f["has_case"]
            else ""
        )
        return f"{p} and no agenda evidence{before} -> repression or denial"
    if rule_id == "p45_unconfirmed":
        return f"{p}; {_commit_text(f)} -> prescriptive status or rule-consistent (unconfirmed)"
    return rule_id


def _sustained_good(key: pd.Series, years: pd.Series, good: pd.Series) -> pd.Series:
    """Length of the current run of consecutive good years (per country)."""
    order = np.lexsort((years.to_numpy(), key.astype(str).to_numpy()))
    k = key.iloc[order]
    g = good.iloc[order].astype(bool)
    y = years.iloc[order]
    gap = (y - y.groupby(k, sort=False).shift(1)).ne(1)
    breaks = (~g) | gap
    run_id = breaks.groupby(k, sort=False).cumsum()
    run = g.astype(int).groupby([k, run_id], sort=False).cumsum()
    return run.reindex(key.index)


def resolve_casefiles(casefiles: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if casefiles is not None:
        return casefiles
    try:
        from spirallab.observe.casefiles import builtin_casefiles
    except ImportError:  # the case-file module is optional at import time
        return {}
    return builtin_casefiles()


def code_phases(
    panel: pd.DataFrame,
    casefiles: Mapping[str, Any] | None = None,
    rules: PhaseRules | None = None,
) -> pd.DataFrame:
    """Code every country-year of ``panel`` into a spiral phase, with its evidence.

    ``casefiles`` maps country ids to case files; ``None`` uses the built-in case files, ``{}``
    codes from the data sets alone. ``rules`` selects the version: ``None`` or a
    :class:`~spirallab.observe.coder2.PhaseRulesV2` codes with 2.0.0 (the default), a plain
    :class:`PhaseRules` (``RULES_V1``) with 1.0.0. Returns one row per panel row with columns
    ``country_id``, ``name``, ``year``, ``phase`` (Int64, NA when undecidable), ``phase_label``,
    ``phase_set``, ``phase_lo``, ``phase_hi``, ``confidence``, ``rule``, ``evidence``,
    ``rules_version``, and the main intermediate indicators (``practice``, ``commitment_k``,
    ``stance``); 2.0.0 adds ``decide`` and the phase probabilities ``p0``..``p5``.
    """
    from spirallab.observe.coder2 import PhaseRulesV2, code_phases_v2

    if rules is None or isinstance(rules, PhaseRulesV2):
        return code_phases_v2(panel, casefiles, rules)
    return _code_phases_v1(panel, casefiles, rules)


def _code_phases_v1(
    panel: pd.DataFrame, casefiles: Mapping[str, Any] | None, rules: PhaseRules
) -> pd.DataFrame:
    """Rules 1.0.0 (kept selectable with ``--rules 1.0.0``)."""
    if "country_id" not in panel.columns or "year" not in panel.columns:
        raise ValueError("panel must have country_id and year columns")
    panel = panel.reset_index(drop=True)
    cfs = resolve_casefiles(casefiles)
    prac = practice_features(panel, rules)
    case = casefile_features(panel, cfs)
    # data-only countries: every ratification counts (minimum int64 as "from the beginning")
    count_from = case["case_from"].where(case["has_case"], np.iinfo(np.int64).min)
    rat = _ratification_features(panel, prac["cls"], count_from)
    com = _commitment(panel, rat, case, rules)
    f = pd.concat([prac, rat, case, com], axis=1)
    f["sustain"] = _sustained_good(
        panel["country_id"], panel["year"].astype(int), (f["cls"] == 0).fillna(False)
    )

    cls = f["cls"].astype("Float64")
    known = cls.notna()
    c = cls.fillna(-1).astype(int)
    good, viol, severe = c == 0, c >= 1, c == 3
    presc = f["prescriptive"].astype(bool)
    stance = f["stance"]
    # Case-file rules apply from the case's repression_start; earlier years are coded from data.
    has_case = f["has_case"].astype(bool) & (panel["year"].astype(int) >= f["case_from"])
    agenda = f["agenda"].astype(bool)
    # rule-consistent: no *frequent* abuse in any component (occasional cases remain possible)
    pol_ok = f["pol_min"].isna() | (f["pol_min"] >= 1).fillna(False)
    pol_some = (f["pol_min"] >= 1).fillna(False)
    tort = f["tort"]
    tort_freq = (tort == 0).fillna(False)
    tort_ok = tort.isna() | (tort >= 1).fillna(False)
    denial_now = stance == "denial"

    conds: list[tuple[str, pd.Series]] = [
        ("no_data", ~known),
        (
            "p5_rule_consistent",
            presc & good & (f["sustain"] >= rules.sustain_years) & pol_ok & tort_ok,
        ),
        ("p4_endemic", presc & ~severe & tort_freq & pol_some),
        ("p4_prescriptive", presc & ~severe),
        ("p3_decoupled", presc & severe),
        ("p2_denial", has_case & viol & ((denial_now) | ((stance == "backlash") & agenda))),
        ("p1_backlash_off_agenda", has_case & viol & (stance == "backlash") & ~agenda),
        ("p34_after_transition", has_case & viol & (stance == "transition")),
        (
            "p3_concessions",
            has_case & viol & agenda & stance.isin(["concession", "acceptance"]),
        ),
        ("p3_ratified_under_repression", viol & f["rat_under_abuse"].astype(bool)),
        ("p3_improving", has_case & viol & agenda & f["improved"].astype(bool)),
        ("p2_on_agenda", has_case & viol & agenda),
        ("p1_repression", has_case & viol & ~agenda),
        ("p34_committed_mixed", viol & (c == 1) & (f["c1"] > 0)),
        ("p123_mixed_uncommitted", viol & (c == 1)),
        ("p12_undecidable", viol),
        ("p45_unconfirmed", good),
    ]
    rule_id = pd.Series("", index=panel.index, dtype=object)
    for rid, cond in conds:
        if rid in rules.disabled and rid != "no_data":
            continue
        take = cond.fillna(False).astype(bool) & (rule_id == "")
        rule_id = rule_id.mask(take, rid)
    # Anything left (only possible when rules are disabled) is explicitly unclassified.
    rule_id = rule_id.mask(rule_id == "", "unclassified")

    lo = rule_id.map(lambda r: _phase_bound(r, min)).astype("Int64")
    hi = rule_id.map(lambda r: _phase_bound(r, max)).astype("Int64")
    phase = lo.where(lo == hi).astype("Int64")
    phase_set = rule_id.map(
        lambda r: "|".join(str(p) for p in RULE_BY_ID[r].phases) if r in RULE_BY_ID else ""
    )
    label = rule_id.map(_label_for)

    base = rule_id.map(lambda r: RULE_BY_ID[r].base_confidence if r in RULE_BY_ID else 0.0)
    coverage = f["n_ind"].map({0: 0.0, 1: 0.75, 2: 0.9, 3: 1.0}).astype(float)
    agreement = np.where(f["spread"].fillna(0).astype(float) >= 2, 0.8, 1.0)
    uses_commitment = rule_id.isin(
        ["p5_rule_consistent", "p4_endemic", "p4_prescriptive", "p3_decoupled", "p45_unconfirmed",
         "p34_committed_mixed"]
    )
    observ = np.where(uses_commitment, 0.7 + 0.3 * f["n_obs"].astype(float) / 4.0, 1.0)
    confidence = (base.astype(float) * coverage * agreement * observ).round(2)

    evidence = [
        _evidence(r, row) if r != "unclassified" else "all applicable rules disabled"
        for r, row in zip(rule_id, f.to_dict("records"), strict=True)
    ]
    evidence = [f"{e} [{r}]" for e, r in zip(evidence, rule_id, strict=True)]

    name = panel["name"] if "name" in panel.columns else panel["country_id"]
    out = pd.DataFrame(
        {
            "country_id": panel["country_id"].astype(str),
            "name": name.astype(str),
            "year": panel["year"].astype(int),
            "phase": phase,
            "phase_label": label,
            "phase_set": phase_set,
            "phase_lo": lo,
            "phase_hi": hi,
            "confidence": confidence.astype(float),
            "rule": rule_id.astype(str),
            "evidence": evidence,
            "practice": f["cls"].map(
                lambda x: CLASS_NAMES[int(x)] if not pd.isna(x) else "unknown"
            ),
            "commitment_k": f["k"].astype(int),
            "stance": f["stance"].astype(str),
            "rules_version": rules.version,
        }
    )
    return out.sort_values(["country_id", "year"]).reset_index(drop=True)


def _phase_bound(rule_id: str, pick: Callable[[tuple[int, ...]], int]) -> Any:
    rule = RULE_BY_ID.get(rule_id)
    return pick(rule.phases) if rule is not None and rule.phases else pd.NA


def _label_for(rule_id: str) -> str:
    rule = RULE_BY_ID.get(rule_id)
    if rule is None or not rule.phases:
        return "undecidable: no data" if rule_id == "no_data" else "unclassified"
    return " or ".join(PHASE_LABELS[p] for p in rule.phases)


def __getattr__(name: str) -> Any:
    # The default rules are 2.0.0's, defined in coder2 (which builds on this module's helpers).
    if name == "DEFAULT_RULES":
        from spirallab.observe.coder2 import PhaseRulesV2

        return PhaseRulesV2()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
