"""The government of the target state: its stance, its practice and its institutions.

The stance moves by the four hypotheses of 001 (each a hazard, never a date):

- hypothesis 1: once on the network's agenda, a silent repressor denies (001 "Phase 2");
- hypothesis 2: denial gives way to tactical concessions at a rate set jointly by pressure,
  vulnerability and network mobilisation, slowed by an insurgency and by the nationalist rally,
  sped by world time (001 "Phase 2", "World time");
- tactical concessions are the precarious phase: three competing risks, a crackdown on the
  movement, a return to repression when pressure is weak (a backlash into denial, or silence),
  and hypothesis 3 (001 "Phase 3");
- hypothesis 3: a fully mobilised, linked opposition plus entrapment brings prescriptive status,
  by controlled liberalisation or by regime change (001 "Phase 3", last paragraphs);
- prescriptive status can be left again when a consolidated government retreats without
  pressure (000 "Change of policy and/or regime"; 001 critical moments).

Practice (repression) follows the stance; hypothesis 4's pincer and treaty leverage lower it;
habituation makes low repression stick (001 "Phase 5").

Scalar float32 rules for one country-replicate (see :mod:`spirallab.model.rules`); the kernel
(:mod:`spirallab.model.kernel`) composes them. Stance and phase are float32 codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spirallab.model.f32math import at, exp32, pow32
from spirallab.model.rules import (
    ACCEPTANCE,
    ARGUMENT,
    DENIAL,
    HALF,
    ONE,
    RHETORIC,
    SILENT,
    ZERO,
    P,
    as_f32,
    hazard,
    rule,
)
from spirallab.model.worldtime import CORE_OPEN_AFTER

F32 = np.float32
_MIN_CIVIL_SOCIETY = F32(0.05)
_TINY_RATE = F32(1e-9)
_PHASE5 = F32(5.0)
_FIFTH = F32(0.2)


@rule
def vulnerability(material: Any, social: Any, p: Any, j: int, on: Any) -> Any:
    """Material and social vulnerability combined (001 "Phase 2", Conclusions)."""
    if not on.vulnerability:
        return ONE
    v = at(p, P.material_weight + j) * material + at(p, P.social_weight + j) * social
    return min(v, ONE)


@rule
def full_mobilisation(mobilisation: Any, p: Any, j: int) -> Any:
    """How far the opposition counts as fully mobilised: a logistic step at the threshold."""
    z = (mobilisation - at(p, P.mobilisation_threshold + j)) * at(p, P.mobilisation_steepness + j)
    return ONE / (ONE + exp32(-z))


@rule
def international_pressure(pressure_above: Any, campaign: Any) -> Any:
    """What a conceding government weighs when deciding whether it can retreat."""
    return HALF * (pressure_above + min(campaign, ONE))


@rule
def institutions_index(
    core: Any, protocols: Any, constitution: Any, complaint: Any, trained: Any
) -> Any:
    """Institutionalisation index: share of the five indicators in place (001 Phase 4)."""
    total = as_f32(core) + as_f32(protocols) + as_f32(constitution)
    total = total + as_f32(complaint) + as_f32(trained)
    return total * _FIFTH


@rule
def crack_down(
    hit: Any,
    mobilisation: Any,
    key_leaders: Any,
    fear: Any,
    legitimacy: Any,
    information: Any,
    political: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """A crackdown: decapitation of the movement, fear, lost legitimacy, validated critics.

    Damage to the movement is larger the fewer key leaders it depends on (001 "Phase 3").
    With the ``decapitation`` mechanism off the movement itself is unharmed. Values are
    unchanged where ``hit`` is false. Returns (mobilisation, key_leaders, fear, legitimacy,
    information, political repression).
    """
    severity = at(p, P.crackdown_severity + j)
    m, k, f = mobilisation, key_leaders, fear
    if on.decapitation:
        concentration = ONE / (ONE + key_leaders / at(p, P.leader_half + j))
        m = mobilisation * (ONE - severity * concentration)
        k = key_leaders * (ONE - severity)
        # The resulting fear paralyses the movement (001 "Phase 3").
        f = fear + (max(fear, severity) - fear)
    lg = max(legitimacy - at(p, P.crackdown_legitimacy_cost + j), ZERO)
    info = information + at(p, P.crackdown_information + j) * (ONE - information)
    pol = political + at(p, P.crackdown_repression + j) * (ONE - political)
    return (
        m if hit else mobilisation,
        k if hit else key_leaders,
        f if hit else fear,
        lg if hit else legitimacy,
        info if hit else information,
        pol if hit else political,
    )


@rule
def decide(
    stance: Any,
    on_agenda: Any,
    rally: Any,
    attention: Any,
    campaign: Any,
    pressure_above: Any,
    mobilisation: Any,
    linkage: Any,
    entrapment: Any,
    legitimacy: Any,
    regime_age: Any,
    habituation: Any,
    institutions: Any,
    u_phase: Any,
    u_choice: Any,
    dt: Any,
    density: Any,
    vulnerable: Any,
    insurgency: Any,
    civil_society: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """The government's stance for this step: hypotheses 1-3, and what the decision changes.

    ``vulnerable`` is :func:`vulnerability`. Returns (stance, rally, entrapment, regime_age,
    relief factor on political repression, factor on fear, and the flags crackdown, concede,
    falls, liberalises, retreats, argues). The caller applies :func:`crack_down` where
    ``crackdown`` is set, then the factors; where ``falls`` a new, opposition government takes
    power (legitimacy ``regime_change_legitimacy``, rally reset).
    """
    silent = (stance == SILENT) & on_agenda
    denying = stance == DENIAL
    conceding = (stance == RHETORIC) | (stance == ARGUMENT)
    accepting = stance == ACCEPTANCE

    # Rally around the flag while denying; it wears off afterwards (001 Phases 2-3).
    rally_target = ZERO
    if on.denial:
        rally_target = at(p, P.rally_strength + j) * attention * as_f32(denying)
    new_rally = rally + dt * at(p, P.rally_decay + j) * (rally_target - rally)

    # Hypothesis 2: pressure x vulnerability x network mobilisation.
    leverage = pressure_above * vulnerable
    push = min(campaign, ONE) + at(p, P.domestic_push + j) * mobilisation
    h2 = at(p, P.concession_rate + j) * leverage * push * (ONE - new_rally)
    # World time shortens denial (001 "World time"); density is frozen when the mechanism is off.
    h2 = h2 * (ONE + at(p, P.world_time_speedup + j) * density)
    if on.insurgency_threat:
        h2 = h2 * (ONE - at(p, P.insurgency_drag + j) * insurgency)
    if not on.concessions:
        h2 = h2 * ZERO

    # Tactical concessions: three competing risks.
    threat = mobilisation / max(civil_society, _MIN_CIVIL_SOCIETY)
    crack = at(p, P.crackdown_rate + j) * threat * (ONE - entrapment)
    hold = max(
        ONE - international_pressure(pressure_above, campaign) / at(p, P.pressure_hold + j), ZERO
    )
    mobilised = full_mobilisation(mobilisation, p, j)
    back_rate = at(p, P.backslide_rate + j)
    # Entrapped in its own words, a government does not easily take them back (issue 10).
    locked = ONE - at(p, P.entrapment_hold + j) * entrapment
    back = back_rate * hold * (ONE - mobilised) * locked if on.backsliding else ZERO * hold
    if on.prescriptive_status:
        lw, ew = at(p, P.linkage_weight + j), at(p, P.entrapment_weight + j)
        # From above and from below at once (001 Phase 3): without pressure from abroad a
        # mobilised, entrapped state can sit in its concessions (003: decoupling).
        pw = at(p, P.pressure_weight + j)
        pres = (
            at(p, P.prescriptive_rate + j)
            * mobilised
            * (ONE - lw + lw * linkage)
            * (ONE - ew + ew * entrapment)
            * (ONE - pw + pw * international_pressure(pressure_above, campaign))
        )
    else:
        pres = ZERO * mobilised

    # Prescriptive status: a consolidated, unhabituated government may retreat without pressure.
    if on.backsliding:
        consolidated = regime_age >= at(p, P.consolidation_years + j)
        settled = habituation >= at(p, P.habituation_threshold + j)
        calm = at(p, P.retreat_rate + j) * hold * as_f32(consolidated)
        # An insurgency gives any unhabituated government its reason to retreat (001 Phase 2).
        threatened = ZERO * insurgency
        if on.insurgency_threat:
            threatened = at(p, P.insurgency_retreat + j) * insurgency
        retreat = (calm + threatened) * (ONE - institutions) * as_f32(not settled)
    else:
        retreat = ZERO * hold

    risk3 = crack + back + pres
    rate = as_f32(denying) * h2 + as_f32(conceding) * risk3 + as_f32(accepting) * retreat
    if not on.denial:  # ablation: on the agenda, a repressor may concede at once
        rate = (
            rate
            + as_f32(silent) * (at(p, P.skip_denial_rate + j) / at(p, P.concession_rate + j)) * h2
        )
    happens = u_phase < hazard(rate, dt)
    x = u_choice * risk3  # where the draw falls among the competing risks of phase 3

    # Flags combine with & and |, not and/or: the short-circuit forms compile to chains of
    # selects on the vector masks, which cost the kernel mask operations and spills.
    crackdown = happens & conceding & (x < crack)
    backslide = happens & conceding & (x >= crack) & (x < crack + back)
    prescriptive = happens & conceding & (x >= crack + back)
    concede = happens & (denying | (silent & (not on.denial)))
    retreating = happens & accepting

    # Route to prescriptive status: the less legitimate the government, the likelier it falls.
    route = (x - crack - back) / max(pres, _TINY_RATE)
    falls = prescriptive & (route < (ONE - min(legitimacy + new_rally, ONE)))
    liberalises = prescriptive & (not falls)

    # The new stance. The stances held (silent, denying, conceding, accepting) exclude one
    # another, and so do the moves out of each; only a concession outranks falling silent.
    # Off the agenda there is no criticism left to deny: the government falls silent (issue 10).
    new_stance = SILENT if (denying & (not on_agenda)) else stance
    if on.denial:
        new_stance = DENIAL if silent else new_stance
    # A retreat from concessions is a backlash: the government denies again rather than falling
    # silent (000 "Denial/backlash"; 001 Phase 3). Where the draw fell inside the backsliding
    # risk decides which, so no new random number is needed.
    backlash = (x - crack) < at(p, P.backlash_denial + j) * back
    if not on.denial:
        backlash = False
    new_stance = (DENIAL if backlash else SILENT) if backslide else new_stance
    new_stance = ACCEPTANCE if prescriptive else new_stance
    new_stance = RHETORIC if (concede | retreating) else new_stance

    # Cosmetic concession on entering phase 3 (001 "Phase 3": prisoners released).
    relief = ONE - as_f32(concede) * at(p, P.cosmetic_relief + j)
    fear_factor = ONE - at(p, P.release_fear_relief + j) * as_f32(concede)

    # Entrapment: arguing with critics ties the government to its words (001 "Phase 3").
    trapped = entrapment
    if on.entrapment:
        dialogue = ONE + at(p, P.dialogue_gain + j) * as_f32(stance == ARGUMENT)
        gain = at(p, P.entrapment_rate + j) * min(campaign, ONE) * dialogue * as_f32(conceding)
        trapped = trapped + dt * gain * (ONE - trapped)
    trapped = trapped * (ONE - HALF * as_f32(backslide))
    argues = (new_stance == RHETORIC) & (trapped >= at(p, P.argument_threshold + j)) & conceding
    new_stance = ARGUMENT if argues else new_stance

    age = (regime_age + dt) * as_f32(not falls)
    new_rally = new_rally * as_f32(not falls)
    return (
        new_stance,
        new_rally,
        trapped,
        age,
        relief,
        fear_factor,
        crackdown,
        concede,
        falls,
        liberalises,
        retreating,
        argues,
    )


@rule
def shock_outcome(
    u_lever: Any,
    imposed_lever: Any,
    regime_lever: Any,
    started: Any,
    dt: Any,
) -> Any:
    """Levers that act as events: does an imposed crackdown or a regime-change shock strike?

    A lever's strength is its yearly probability of striking a target while it is active.
    Returns (imposed crackdown, regime-change shock).
    """
    pc = ONE - pow32(ONE - imposed_lever, dt)
    pr = ONE - pow32(ONE - regime_lever, dt)
    # Flags with & and |, not and/or (speed: see spirallab.model.rules); so below.
    imposed = (u_lever < pc) & started
    shock = (u_lever >= pc) & (u_lever < pc + pr) & started
    return imposed, shock


@rule
def episode_threshold(rate: Any, dt: Any) -> Any:
    """The lever draw at or above which an episode strikes in a step of ``dt`` years.

    ``rate`` is the yearly probability ``episode_rate``. The kernel computes it once per tile
    and lane (it depends on the parameter and the step only), not in every step.
    """
    return ONE - (ONE - pow32(ONE - rate, dt))


@rule
def repressive_episode(
    episode: Any,
    political: Any,
    u_lever: Any,
    threshold: Any,
    started: Any,
    dt: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """A new repressive episode strikes, or the one under way fades (issue 10, sixth round).

    Progress can roll back in any phase: a government may turn on rights again once its position
    is consolidated (000 "Change of policy and/or regime"), and a perceived threat to the order
    of the nation brings more repression (001 Phase 2). An episode (a security crisis, a contested
    election, a coup) strikes at a constant yearly probability, whatever the phase. At once it
    fills ``episode_intensity`` of the room left to full political repression, as a crackdown
    does; while it fades it holds the political-repression target up (:func:`adjust_practice`),
    so practice returns at the slower of ``episode_decay`` and ``repression_adjust``. It uses
    the top of the lever draw, whose bottom :func:`shock_outcome` uses: no draw is added, so the
    other mechanisms' random numbers stay as they were; ``threshold`` is
    :func:`episode_threshold` for the step. Returns (episode strength, political repression,
    strikes).
    """
    strikes = (u_lever >= threshold) & started
    if not on.repressive_episodes:
        strikes = False
    intensity = at(p, P.episode_intensity + j)
    faded = max(episode - dt * at(p, P.episode_decay + j) * episode, ZERO)
    jumped = political + intensity * (ONE - political)
    return (
        max(faded, intensity) if strikes else faded,
        jumped if strikes else political,
        strikes,
    )


@rule
def regime_change_shock(
    shock: Any,
    stance: Any,
    habituation: Any,
    mobilisation: Any,
    p: Any,
    j: int,
) -> Any:
    """Who rules after a regime-change shock.

    The opposition coalition comes to power if the movement is fully mobilised, otherwise a new
    repressive government; a habituated state keeps its practice whoever rules (001 "Phase 5").
    Returns (stance, liberal, repressive, settled).
    """
    settled = (habituation >= at(p, P.habituation_threshold + j)) & (stance == ACCEPTANCE)
    liberal = shock & (not settled) & (mobilisation >= at(p, P.mobilisation_threshold + j))
    repressive = shock & (not settled) & (not liberal)
    new_stance = ACCEPTANCE if liberal else stance
    new_stance = SILENT if repressive else new_stance
    return new_stance, liberal, repressive, shock & settled


@rule
def repression_target(
    stance: Any,
    mobilisation: Any,
    fear: Any,
    pressure_above: Any,
    ratified_core: Any,
    habituation: Any,
    base_repression: Any,
    insurgency: Any,
    episode: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """The political repression the government steers to, and what pushes practice down.

    Its preferred level, raised by the denial hunt of the movement and the backlash to pressure
    from above, lowered by tactical concessions (001 "Phase 2", "Phase 3"); in acceptance,
    commitment moves it part of the way to the floor and the pincer or habit the rest
    (decoupling, 003; hypothesis 4, 001 "Phase 5"); an insurgency or a repressive episode raises
    it again (001 "Phase 2"). The target is affine in ``base_repression`` (used by
    :func:`preferred_at_rest`). Returns (target, push, direct).
    """
    accepting = stance == ACCEPTANCE
    conceding = (stance == RHETORIC) | (stance == ARGUMENT)
    hunting = at(p, P.denial_repression + j)
    hunt = hunting * mobilisation if on.denial else ZERO * mobilisation
    target = base_repression + hunt
    target = target - as_f32(conceding) * (
        at(p, P.cosmetic_relief + j) * base_repression + HALF * hunt
    )
    above = pressure_above / (at(p, P.pressure_half + j) + pressure_above)
    if on.denial:
        # Denial and backlash (001 Phase 2): the first boomerang throw is answered with more
        # repression, whether or not a domestic movement has formed yet.
        backlash = at(p, P.backlash_repression + j) * above * as_f32(stance == DENIAL)
        target = target + backlash * (ONE - target)
    below_raw = mobilisation * (ONE - fear)  # pressure from below
    direct = ZERO * below_raw
    if on.treaty_leverage:
        # A ratified treaty is a hook that a mobilised society can pull (003): it strengthens
        # pressure from below, and already lowers repression while the state argues.
        m2 = mobilisation * mobilisation
        half = at(p, P.treaty_civil_half + j)
        hook = as_f32(ratified_core) * (m2 / (half * half + m2))
        below_raw = below_raw * (ONE + at(p, P.treaty_hook + j) * hook)
        direct = at(p, P.treaty_leverage + j) * hook * as_f32(stance == ARGUMENT)
    below = below_raw / (at(p, P.pressure_half + j) + below_raw)
    push = above * below if on.pincer else max(above, below)
    # Decoupling (003): commitment alone moves the target part of the way to the floor;
    # sustained pressure from above and below closes the rest (hypothesis 4), and so does
    # habit once it has formed, when the pressure is gone (001 Phase 5).
    relieved = base_repression * (ONE - at(p, P.cosmetic_relief + j))
    # The floor lowers practice, never raises it: a state already below it keeps its level
    # (issue 10, tenth round).
    floor = min(at(p, P.political_floor + j), relieved)
    cp = at(p, P.commitment_practice + j)
    share = cp + (ONE - cp) * max(push, habituation)
    committed = relieved + share * (floor - relieved)
    target = target + as_f32(accepting) * (committed - target)
    if on.insurgency_threat:
        # Threat (001 Phase 2): an insurgency heightens the perception that the nation is at
        # stake; a government whose practice is not yet habit represses more.
        threat = at(p, P.insurgency_repression + j) * insurgency * (ONE - habituation)
        target = target + threat * (ONE - target)
    # A repressive episode under way (0 when the mechanism is off: none ever strikes).
    target = target + episode * (ONE - target)
    return target, push, direct


_FLAT_TARGET = F32(1e-6)
# The range an inferred preference is kept in. Below 0 where the pushes of the starting state
# (an insurgency's threat, the hunt of a movement) alone ask for more than the observed practice,
# which then already holds the government's restraint: at 0 the start would not be at rest and
# practice would climb at once (issue 10, ninth round). A threat scales the preference's part
# of the target by ``1 - threat``, so a mild practice under a strong threat needs a preference
# well below 0: -4 covers a threat of 0.8 at a practice of 0 (assumption). Above 1 where
# concessions' relief hides a practice near full repression. Practice stays within 0-1.
PREFERENCE_LOW = F32(-4.0)
PREFERENCE_HIGH = F32(2.0)


@rule
def preferred_at_rest(
    observed: Any,
    stance: Any,
    mobilisation: Any,
    fear: Any,
    pressure_above: Any,
    ratified_core: Any,
    habituation: Any,
    insurgency: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """The preferred repression whose target, in the starting state, is the observed practice.

    A country started from data (``Scenario.observed_start``, issue 10, seventh round) shows
    its practice, which already holds the denial hunt, the backlash or the concessions of its
    phase; read as the preference, the rules would add them a second time. Outside acceptance
    the target is affine in the preference, and two evaluations of :func:`repression_target`
    invert it. In acceptance it has two affine pieces, bent where the relieved preference meets
    the floor (the floor never raises practice): below the bend the target is the relieved
    preference, above it commitment closes part of the way to the floor; three evaluations
    find the piece and invert it. Kept within :data:`PREFERENCE_LOW` to
    :data:`PREFERENCE_HIGH`; where the target does not depend on the preference (habit has
    closed it on the floor) the observed value is kept.
    """
    # The same starting state at chosen preferences, no episode under way (numba inlines
    # rules and cannot unpack a shared tuple of arguments into them).
    low, _, _ = repression_target(stance, mobilisation, fear, pressure_above, ratified_core,
                                  habituation, ZERO, insurgency, ZERO, p, j, on)
    high, _, _ = repression_target(stance, mobilisation, fear, pressure_above, ratified_core,
                                   habituation, ONE, insurgency, ZERO, p, j, on)
    slope = high - low
    inverted = (observed - low) / max(slope, _FLAT_TARGET)
    preferred = inverted if slope > _FLAT_TARGET else observed
    # Acceptance: the bend, and one step past it.
    bend = at(p, P.political_floor + j) / max(ONE - at(p, P.cosmetic_relief + j), _FLAT_TARGET)
    at_bend, _, _ = repression_target(stance, mobilisation, fear, pressure_above, ratified_core,
                                      habituation, bend, insurgency, ZERO, p, j, on)
    past, _, _ = repression_target(stance, mobilisation, fear, pressure_above, ratified_core,
                                   habituation, bend + ONE, insurgency, ZERO, p, j, on)
    upper = past - at_bend
    on_upper = bend + (observed - at_bend) / max(upper, _FLAT_TARGET)
    on_upper = on_upper if upper > _FLAT_TARGET else observed
    lower = (at_bend - low) / max(bend, _FLAT_TARGET)
    on_lower = (observed - low) / max(lower, _FLAT_TARGET)
    on_lower = on_lower if lower > _FLAT_TARGET else observed
    bent = on_upper if observed >= at_bend else on_lower
    preferred = bent if stance == ACCEPTANCE else preferred
    return min(max(preferred, PREFERENCE_LOW), PREFERENCE_HIGH)


@rule
def adjust_practice(
    stance: Any,
    political: Any,
    endemic: Any,
    habituation: Any,
    mobilisation: Any,
    fear: Any,
    pressure_above: Any,
    ratified_core: Any,
    trained_officials: Any,
    institutions: Any,
    dt: Any,
    base_repression: Any,
    endemic_base: Any,
    security_control: Any,
    insurgency: Any,
    episode: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """Repression follows the stance; the pincer and treaty leverage push it down.

    Hypothesis 4 (001 "Phase 5"): improvement of practice needs sustained pressure from above
    and from below at once; with the ``pincer`` mechanism off either one is enough.
    003: ratified treaties lower repression only where a mobilised civil society invokes them
    and the government no longer denies the norm. The target is :func:`repression_target`: a
    denying state answers pressure from above with repression, and an insurgency raises any
    unhabituated government's repression (001 Phase 2); so does a repressive episode
    (:func:`repressive_episode`), whatever the phase. Returns (political, endemic, habituation).
    """
    accepting = stance == ACCEPTANCE
    target, push, direct = repression_target(
        stance,
        mobilisation,
        fear,
        pressure_above,
        ratified_core,
        habituation,
        base_repression,
        insurgency,
        episode,
        p,
        j,
        on,
    )
    pol = political + dt * at(p, P.repression_adjust + j) * (target - political)
    control_floor = at(p, P.control_floor + j)
    control = min(
        control_floor
        + (ONE - control_floor) * security_control
        + at(p, P.training_gain + j) * as_f32(trained_officials),
        ONE,
    )
    improve = at(p, P.compliance_rate + j) * push * control * as_f32(accepting) + direct
    end = endemic + dt * (at(p, P.endemic_drift + j) * (endemic_base - endemic) - improve * endemic)
    pol = pol - dt * improve * pol

    hab = habituation
    if on.habituation:
        low = (ONE - (ONE - pol) * (ONE - end)) <= at(p, P.low_repression + j)
        rate = at(p, P.habituation_rate + j)
        grow = rate * institutions * as_f32(low & accepting) * (ONE - hab)  # &: rules.py
        erode = at(p, P.habituation_erosion + j) * rate * as_f32(not low) * hab
        hab = hab + dt * (grow - erode)
    return min(max(pol, ZERO), ONE), min(max(end, ZERO), ONE), hab


@rule
def ratification(
    accepted_before: Any,
    on_agenda: Any,
    ratified_core: Any,
    ratified_protocols: Any,
    u_ratification: Any,
    dt: Any,
    density: Any,
    year: Any,
    p: Any,
    j: int,
) -> Any:
    """Ratifications (001 "Phase 4", indicator 1): returns (got core, got protocols).

    Core conventions may be ratified tactically at any point on the agenda (003: commitment
    decoupled from practice); optional protocols follow acceptance. Treaties have their own
    draw: core conventions first, then the protocols, so they never compete with domestic
    institutions for one draw (clean paired comparisons). At most one treaty step per step.
    No core ratification before both conventions were open (``year`` is the year stepped into).
    """
    opened = as_f32(year > CORE_OPEN_AFTER)
    # Flags with & and |, not and/or (speed: see spirallab.model.rules); so below.
    core = (
        density
        * (
            at(p, P.ratification_rate + j) * as_f32(accepted_before)
            + at(p, P.tactical_ratification_rate + j) * as_f32((not accepted_before) & on_agenda)
        )
        * as_f32(not ratified_core)
        * opened
    )
    prot = (
        density
        * at(p, P.protocol_rate + j)
        * as_f32(accepted_before & ratified_core & (not ratified_protocols))
    )
    ratifies = u_ratification < hazard(core + prot, dt)
    return ratifies & (not ratified_core), ratifies & ratified_core


@rule
def domestic_institutions(
    accepted_before: Any,
    constitution: Any,
    complaint: Any,
    trained: Any,
    u_institution: Any,
    u_choice: Any,
    dt: Any,
    p: Any,
    j: int,
) -> Any:
    """Domestic institutions after acceptance (001 "Phase 4", indicators 2-3), at most one a step.

    Returns (got constitution, got complaint mechanism, got trained officials).
    """
    rate = at(p, P.institution_rate + j)
    # Flags with & and |, not and/or (speed: see spirallab.model.rules).
    con = rate * as_f32(accepted_before & (not constitution))
    com = rate * as_f32(accepted_before & (not complaint))
    tra = rate * as_f32(accepted_before & complaint & (not trained))
    total = con + com + tra
    happens = u_institution < hazard(total, dt)
    x = u_choice * total
    got_con = happens & (x < con)
    got_com = happens & (x >= con) & (x < con + com)
    got_tra = happens & (x >= con + com)
    return got_con, got_com, got_tra


@rule
def read_phase(
    stance: Any,
    previous_phase: Any,
    repression: Any,
    habituation: Any,
    present: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """The phase of a country-replicate, read off its state (documented in docs/model.md).

    Phases 1-4 follow the government's stance toward the norm, which is how 001 tells the phases
    apart; phase 5 is prescriptive status with low overall repression that has become habit.
    """
    # Stance codes 0-4 map to phases 1, 2, 3, 3, 4.
    phase = stance + ONE - as_f32(stance >= ARGUMENT)
    # Hysteresis: entering phase 5 needs low repression; staying tolerates a little more.
    tolerance = at(p, P.habituation_tolerance + j)
    limit = at(p, P.low_repression + j) * (
        ONE + (tolerance - ONE) * as_f32(previous_phase == _PHASE5)
    )
    # Flags with & and |, not and/or (speed: see spirallab.model.rules).
    consistent = (stance == ACCEPTANCE) & (repression <= limit)
    if on.habituation:
        consistent = consistent & (habituation >= at(p, P.habituation_threshold + j))
    return (phase + as_f32(consistent)) * as_f32(present)
