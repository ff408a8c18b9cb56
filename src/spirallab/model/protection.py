"""Protection of human rights defenders: the levers and what limits them (seed 002, with 004).

002 distinguishes formal, institutional "big-M" mechanisms (UN Special Rapporteur communications,
regional rapporteurs and precautionary measures, national protection programmes and laws,
embassies acting under guidelines such as the EU Guidelines, temporary international relocation)
from the informal, personal and community "small-m" ones defenders rely on day to day (networks
and rapid alerts, protective accompaniment, awards and visibility, urgent actions by ordinary
citizens, training). It also reports why formal protection so often fails, and each limit is a
factor here:

- **access**: officials rarely leave the capital, so provincial and rural defenders, and above all
  those whose movement discriminatory norms limit, reach them less (:func:`access`);
- **verification**: a mechanism that cannot verify a threat through trusted contacts does not
  act, so formal protection rides on informal networks (:func:`verification`; "small-m carries
  big-M");
- **trust**: officials' suspicion of defenders (the ``official_trust`` parameter);
- **resources**: the lever's strength;
- **timeliness**: a case is taken up at a finite rate, so protection often comes late
  (:func:`case_uptake`);
- **visibility cuts both ways**: it deters perpetrators who care about international cost and
  exposes less visible associates (:func:`deterrence`, and ``spillover`` in defenders.py);
- **accompaniment** deters perpetrators sensitive to international repercussions, far less
  non-state ones (:func:`deterrence` with the perpetrator's cost sensitivity);
- **relocation** removes the immediate threat, and the defender from the movement
  (:func:`relocation_hazard`; the absence is counted in defenders.py).

Scalar float32 rules for one defender in one replicate (see :mod:`spirallab.model.rules`);
:func:`spirallab.model.defenders.defenders_step` composes them.
"""

from __future__ import annotations

from typing import Any

from spirallab.model.rules import ONE, P, as_f32, rule
from spirallab.scenarios.defenders import PROTECTION_KINDS

# Index of each protection lever kind in the defenders' lever arrays (scenarios/defenders.py).
KIND: dict[str, int] = {k: i for i, k in enumerate(PROTECTION_KINDS)}
N_KINDS = len(PROTECTION_KINDS)
UN, REGIONAL, PROGRAMME, EMBASSY, RELOCATION = (
    KIND["un_communication"],
    KIND["regional_mechanism"],
    KIND["national_programme"],
    KIND["embassy_guidelines"],
    KIND["temporary_relocation"],
)
ALERTS, ACCOMPANIMENT, VISIBILITY, URGENT, TRAINING = (
    KIND["rapid_alerts"],
    KIND["accompaniment"],
    KIND["visibility_campaign"],
    KIND["urgent_actions"],
    KIND["training"],
)
FORMAL_KINDS = (
    "un_communication",
    "regional_mechanism",
    "national_programme",
    "embassy_guidelines",
)

# What each lever does (002, 004), for the docs and `spirallab explain`.
LEVER_EFFECTS: dict[str, str] = {
    "un_communication": "big-M: UN Special Rapporteur urgent appeals take up threatened cases;"
    " allegation letters speed release",
    "regional_mechanism": "big-M: regional rapporteurs and precautionary measures take up cases",
    "national_programme": "big-M: national programmes and laws take up cases and add physical"
    " measures against any perpetrator, as far as defenders can trust the state",
    "embassy_guidelines": "big-M: embassies under the EU Guidelines: visits take up cases, trial"
    " observation speeds release, visas speed relocation",
    "temporary_relocation": "big-M (non-state): temporary international relocation for months",
    "rapid_alerts": "small-m: networks and rapid alerts add capacity, speed release and let"
    " formal mechanisms verify threats",
    "accompaniment": "small-m: protective accompaniment deters cost-sensitive perpetrators",
    "visibility_campaign": "small-m: awards, prizes and campaigns raise the defender's profile",
    "urgent_actions": "small-m: urgent actions and letters by ordinary citizens speed release",
    "training": "small-m: training in protection and information security adds capacity",
}


@rule
def access(rural: Any, restricted: Any, p: Any, j: int, sw: Any) -> Any:
    """How far formal mechanisms reach the defender (0-1).

    002: officials seldom travel outside the capital (physical security), so relationship
    building is harder for provincial and rural defenders, for whom expense, time and, for women
    defenders, discriminatory norms limit travel to the capital. With ``access`` off, 1.
    """
    if not sw.access:
        return ONE
    gap = p[P.access_gap + j]
    lost = gap + (ONE - gap) * p[P.movement_restriction + j] * restricted
    return ONE - rural * lost


@rule
def verification(network: Any, alerts: Any, p: Any, j: int, sw: Any) -> Any:
    """Share of the defender's threats a formal mechanism can verify (0-1).

    002 (Verification): officials who lack a broad network of trusted defenders cannot verify
    reports of threats and so do not act; networks and rapid alerts (small-m) supply those
    trusted contacts. With ``verification`` off, 1.
    """
    if not sw.verification:
        return ONE
    floor = p[P.verification_floor + j]
    contacts = min(network * (ONE + alerts), ONE)
    return floor + (ONE - floor) * contacts


@rule
def formal_strength(un: Any, regional: Any, programme: Any, embassy: Any) -> Any:
    """Combined strength of the big-M mechanisms that take up cases (resources), at most 1.

    002: UN communications, regional mechanisms, national programmes and embassies under the
    EU Guidelines all act on individual cases; what they can do is bounded by their resources.
    """
    return min(un + regional + programme + embassy, ONE)


@rule
def case_uptake(formal: Any, reach: Any, verified: Any, threat: Any, p: Any, j: int) -> Any:
    """Yearly hazard that a formal mechanism takes up the defender's case.

    002: urgent appeals and precautionary measures need the case to reach officials (access), to
    be verified (verification) and believed (trust), and resources (the levers' strength); the
    finite rate is the mechanism's delay (timeliness). Only threatened defenders are taken up.
    """
    return (
        p[P.formal_uptake_rate + j]
        * formal
        * reach
        * verified
        * p[P.official_trust + j]
        * min(threat, ONE)
    )


@rule
def effective_visibility(visibility: Any, campaign: Any, p: Any, j: int) -> Any:
    """The defender's profile after awards and visibility campaigns (002: raising profiles)."""
    return visibility + (ONE - visibility) * p[P.visibility_gain + j] * campaign


@rule
def deterrence(
    sensitivity: Any, visibility: Any, accompanied: Any, covered: Any, p: Any, j: int
) -> Any:
    """Share of a perpetrator's attacks deterred by international cost (0-1).

    002: visibility protects (Sakharov) and protective accompaniment dissuades (PBI in Colombia)
    only perpetrators who care about international repercussions; 004: a case taken up by
    governments signals such repercussions. ``sensitivity`` is the perpetrator's (the state's
    vulnerability, or the non-state perpetrators' ``non_state_sensitivity``).
    """
    shield = (
        p[P.visibility_deterrence + j] * visibility
        + p[P.accompaniment_deterrence + j] * accompanied
        + p[P.formal_deterrence + j] * as_f32(covered)
    )
    return min(sensitivity * shield, ONE)


@rule
def physical_protection(
    programme: Any, reach: Any, covered: Any, political: Any, p: Any, j: int
) -> Any:
    """Share of any perpetrator's attacks a national programme's physical measures prevent.

    002: national mechanisms (Mexico, Colombia) protect against any perpetrator, but lack staff
    and resources, and a defender can trust them only as far as the state does not itself
    repress (1 - political repression).
    """
    trust = ONE - political
    return p[P.programme_protection + j] * programme * reach * trust * as_f32(covered)


@rule
def release_hazard(
    network: Any, alerts: Any, urgent: Any, formal: Any, reach: Any, verified: Any, p: Any, j: int
) -> Any:
    """Yearly hazard that a detained defender is released.

    004: networks rapidly disseminate information on defenders at risk; 002: urgent actions by
    NGO subscribers, letters to prisons, support networks for detained defenders (Otpor),
    allegation letters and trial observation by embassies. ``network`` is 0 with ``networks``
    off.
    """
    alert = p[P.alert_release_gain + j] * network * (ONE + alerts + urgent)
    formal_push = p[P.formal_release_gain + j] * formal * reach * verified
    return p[P.release_rate + j] * (ONE + alert + formal_push)


@rule
def relocation_hazard(relocation: Any, embassy: Any, reach: Any, risk: Any, p: Any, j: int) -> Any:
    """Yearly hazard that a threatened defender is temporarily relocated abroad.

    002: temporary international relocation initiatives, organised and sometimes well
    resourced, remove the defender from the dangerous environment; 004: governments can speed
    up visas for defenders who have to relocate (the embassy lever multiplies the rate).
    """
    return p[P.relocation_rate + j] * relocation * (ONE + embassy) * reach * min(risk, ONE)


@rule
def return_hazard(p: Any, j: int) -> Any:
    """Yearly hazard that a relocated defender returns (002: relocation for months)."""
    return ONE / p[P.relocation_years + j]


@rule
def capacity(network: Any, trained: Any, alerts: Any, training: Any, p: Any, j: int) -> Any:
    """The defender's capacities, the denominator of risk (1 = an isolated, untrained defender).

    004: networks monitor defenders' safety and provide protection, rapid alerts strengthen them;
    training in information security and risk assessment. ``network`` is 0 with ``networks`` off.
    """
    skills = max(trained, training)
    return (
        ONE
        + p[P.network_capacity + j] * network * (ONE + alerts)
        + p[P.training_capacity + j] * skills
    )
