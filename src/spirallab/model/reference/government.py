"""The government of the target state: its stance, its practice and its institutions.

The stance moves by the four hypotheses of 001 (each a hazard, never a date):

- hypothesis 1: once on the network's agenda, a silent repressor denies (001 "Phase 2");
- hypothesis 2: denial gives way to tactical concessions at a rate set jointly by pressure,
  vulnerability and network mobilisation, slowed by an insurgency and by the nationalist rally,
  sped by world time (001 "Phase 2", "World time");
- tactical concessions are the precarious phase: three competing risks, a crackdown on the
  movement, a return to repression when pressure is weak, and hypothesis 3 (001 "Phase 3");
- hypothesis 3: a fully mobilised, linked opposition plus entrapment brings prescriptive status,
  by controlled liberalisation or by regime change (001 "Phase 3", last paragraphs);
- prescriptive status can be left again when a consolidated government retreats without
  pressure (000 "Change of policy and/or regime"; 001 critical moments).

Practice (repression) follows the stance; hypothesis 4's pincer and treaty leverage lower it;
habituation makes low repression stick (001 "Phase 5").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spirallab.model.context import Context, hazard_to_probability
from spirallab.model.events import Emit
from spirallab.model.f32math import exp_array, pow_array
from spirallab.model.government import PREFERENCE_HIGH, PREFERENCE_LOW
from spirallab.model.state import ACCEPTANCE, ARGUMENT, DENIAL, RHETORIC, SILENT, B, F, State
from spirallab.model.worldtime import CORE_OPEN_AFTER

ONE = np.float32(1.0)
ZERO = np.float32(0.0)


def vulnerability(ctx: Context) -> F:
    """Material and social vulnerability combined (001 "Phase 2", Conclusions)."""
    if not ctx.on.vulnerability:
        return np.ones_like(ctx.material_vulnerability)
    p = ctx.params
    v = p.material_weight * ctx.material_vulnerability + p.social_weight * ctx.social_vulnerability
    out: F = np.minimum(v, ONE)
    return out


def full_mobilisation(s: State, ctx: Context) -> F:
    """How far the opposition counts as fully mobilised: a logistic step at the threshold."""
    z = (s.mobilisation - ctx.params.mobilisation_threshold) * ctx.params.mobilisation_steepness
    out: F = ONE / (ONE + exp_array(-z))
    return out


def international_pressure(s: State) -> F:
    """What a conceding government weighs when deciding whether it can retreat."""
    out: F = np.float32(0.5) * (s.pressure_above + np.minimum(s.campaign, ONE))
    return out


def crack_down(s: State, ctx: Context, hit: B) -> State:
    """A crackdown: decapitation of the movement, fear, lost legitimacy, validated critics.

    Damage to the movement is larger the fewer key leaders it depends on (001 "Phase 3").
    With the ``decapitation`` mechanism off the movement itself is unharmed.
    """
    p = ctx.params
    h = hit.astype(np.float32)
    mobilisation: F = s.mobilisation
    leaders: F = s.key_leaders
    if ctx.on.decapitation:
        concentration = ONE / (ONE + s.key_leaders / p.leader_half)
        mobilisation = mobilisation * (ONE - h * p.crackdown_severity * concentration)
        leaders = leaders * (ONE - h * p.crackdown_severity)
        # The resulting fear paralyses the movement (001 "Phase 3").
        fear: F = s.fear + h * (np.maximum(s.fear, p.crackdown_severity) - s.fear)
    else:
        fear = s.fear
    return s.replace(
        mobilisation=mobilisation,
        key_leaders=leaders,
        fear=fear,
        legitimacy=np.maximum(s.legitimacy - h * p.crackdown_legitimacy_cost, ZERO),
        information=s.information + h * p.crackdown_information * (ONE - s.information),
        repression_political=s.repression_political
        + h * p.crackdown_repression * (ONE - s.repression_political),
    )


def decide(s: State, ctx: Context, emit: Emit) -> State:
    """The government's stance for this step: hypotheses 1-3, crackdowns, retreats, levers."""
    p, on, d = ctx.params, ctx.on, ctx.draws
    st = s.stance
    silent = (st == SILENT) & s.on_agenda
    denying = st == DENIAL
    conceding = (st == RHETORIC) | (st == ARGUMENT)
    accepting = st == ACCEPTANCE

    # Rally around the flag while denying; it wears off afterwards (001 Phases 2-3).
    rally_target = p.rally_strength * s.attention * denying if on.denial else ZERO
    rally = s.rally + ctx.dt * p.rally_decay * (rally_target - s.rally)

    # Hypothesis 2: pressure x vulnerability x network mobilisation.
    leverage = s.pressure_above * vulnerability(ctx)
    push = np.minimum(s.campaign, ONE) + p.domestic_push * s.mobilisation
    h2 = p.concession_rate * leverage * push * (ONE - rally)
    # World time shortens denial (001 "World time"); density is frozen when the mechanism is off.
    h2 = h2 * (ONE + p.world_time_speedup * ctx.density)
    if on.insurgency_threat:
        h2 = h2 * (ONE - p.insurgency_drag * ctx.insurgency)
    if not on.concessions:
        h2 = h2 * ZERO

    # Tactical concessions: three competing risks.
    threat = s.mobilisation / np.maximum(ctx.civil_society, np.float32(0.05))
    crack = p.crackdown_rate * threat * (ONE - s.entrapment)
    hold = np.maximum(ONE - international_pressure(s) / p.pressure_hold, ZERO)
    mobilised = full_mobilisation(s, ctx)
    # Entrapped in its own words, a government does not easily take them back (issue 10).
    locked = ONE - p.entrapment_hold * s.entrapment
    back = p.backslide_rate * hold * (ONE - mobilised) * locked if on.backsliding else ZERO * hold
    if on.prescriptive_status:
        pres = (
            p.prescriptive_rate
            * mobilised
            * (ONE - p.linkage_weight + p.linkage_weight * s.linkage)
            * (ONE - p.entrapment_weight + p.entrapment_weight * s.entrapment)
            # From above and from below at once (001 Phase 3; 003 decoupling).
            * (ONE - p.pressure_weight + p.pressure_weight * international_pressure(s))
        )
    else:
        pres = ZERO * mobilised

    # Prescriptive status: a consolidated, unhabituated government may retreat without pressure.
    if on.backsliding:
        consolidated = s.regime_age >= p.consolidation_years
        settled = s.habituation >= p.habituation_threshold
        calm = p.retreat_rate * hold * consolidated
        # An insurgency gives any unhabituated government its reason to retreat (001 Phase 2).
        threatened = ZERO * ctx.insurgency
        if on.insurgency_threat:
            threatened = p.insurgency_retreat * ctx.insurgency
        retreat = (calm + threatened) * (ONE - s.institutions) * ~settled
    else:
        retreat = ZERO * hold

    risk3 = crack + back + pres
    rate = denying * h2 + conceding * risk3 + accepting * retreat
    if not on.denial:  # ablation: on the agenda, a repressor may concede at once
        rate = rate + silent * (p.skip_denial_rate / p.concession_rate) * h2
    happens = d.phase < hazard_to_probability(rate, ctx.dt)
    x = d.choice * risk3  # where the draw falls among the competing risks of phase 3

    crackdown = happens & conceding & (x < crack)
    backslide = happens & conceding & (x >= crack) & (x < crack + back)
    prescriptive = happens & conceding & (x >= crack + back)
    concede = happens & (denying | (silent & (not on.denial)))
    retreating = happens & accepting

    # Route to prescriptive status: the less legitimate the government, the likelier it falls.
    route = (x - crack - back) / np.maximum(pres, np.float32(1e-9))
    falls = prescriptive & (route < (ONE - np.minimum(s.legitimacy + rally, ONE)))
    liberalises = prescriptive & ~falls

    new = s.replace(rally=rally)
    if crackdown.any():
        new = crack_down(new, ctx, crackdown)
    emit("crackdown", crackdown, "decapitating" if on.decapitation else "non-decapitating")

    stance = st.copy()
    if on.denial:
        stance[silent] = DENIAL
    stance[concede] = RHETORIC
    # Off the agenda there is no criticism left to deny: the government falls silent (issue 10).
    stance[denying & ~s.on_agenda & ~concede] = SILENT
    stance[backslide] = SILENT
    # A retreat from concessions is a backlash into denial rather than silence (000
    # "Denial/backlash"; 001 Phase 3): where the draw fell inside the backsliding risk decides.
    if on.denial:
        stance[backslide & ((x - crack) < p.backlash_denial * back)] = DENIAL
    stance[prescriptive] = ACCEPTANCE
    stance[retreating] = RHETORIC

    # Cosmetic concession on entering phase 3 (001 "Phase 3": prisoners released).
    relief = ONE - concede * p.cosmetic_relief
    emit("concession", concede, "prisoner release")
    emit("regime_change", falls, "opposition coalition takes power")
    emit("liberalisation", liberalises, "controlled liberalisation")
    emit("retreat", retreating, "consolidated government retreats")

    # Entrapment: arguing with critics ties the government to its words (001 "Phase 3").
    entrapment = new.entrapment
    if on.entrapment:
        dialogue = ONE + p.dialogue_gain * (st == ARGUMENT)
        gain = p.entrapment_rate * np.minimum(s.campaign, ONE) * dialogue * conceding
        entrapment = entrapment + ctx.dt * gain * (ONE - entrapment)
    entrapment = entrapment * (ONE - np.float32(0.5) * backslide)
    arguing = (stance == RHETORIC) & (entrapment >= p.argument_threshold) & conceding
    stance[arguing] = ARGUMENT
    emit("argumentation", arguing)

    regime_age = (new.regime_age + ctx.dt) * ~falls
    new = new.replace(
        stance=stance,
        repression_political=new.repression_political * relief,
        fear=new.fear * (ONE - p.release_fear_relief * concede),
        entrapment=entrapment,
        new_regime=new.new_regime | falls,
        regime_age=regime_age,
        legitimacy=np.where(falls, p.regime_change_legitimacy, new.legitimacy),
        rally=new.rally * ~falls,
    )
    if ctx.levers.any_active:
        new = apply_shocks(new, ctx, emit)
    return repressive_episode(new, ctx, emit)


def repressive_episode(s: State, ctx: Context, emit: Emit) -> State:
    """A new repressive episode strikes, or the one under way fades (issue 10, sixth round).

    Any phase: a government may turn on rights again (000 "Change of policy and/or regime"),
    and a perceived threat brings more repression (001 Phase 2). The top of the lever draw; at
    once it fills ``episode_intensity`` of the room left to full political repression.
    """
    p = ctx.params
    pe = ONE - pow_array(ONE - p.episode_rate, ctx.dt)
    strikes = (ctx.draws.lever >= ONE - pe) & (ctx.dt > 0)
    if not ctx.on.repressive_episodes:
        strikes = np.zeros_like(strikes)
    faded = np.maximum(s.episode - ctx.dt * p.episode_decay * s.episode, ZERO)
    pol = s.repression_political
    jumped = pol + p.episode_intensity * (ONE - pol)
    emit("repressive_episode", strikes)
    return s.replace(
        episode=np.where(strikes, np.maximum(faded, p.episode_intensity), faded),
        repression_political=np.where(strikes, jumped, pol),
    )


def apply_shocks(s: State, ctx: Context, emit: Emit) -> State:
    """Levers that act as events: an imposed crackdown and a regime-change shock.

    A lever's strength is its yearly probability of striking a target while it is active.
    A regime change brings the opposition coalition to power if the movement is fully
    mobilised, otherwise a new repressive government; a habituated state keeps its practice
    whoever rules (001 "Phase 5").
    """
    p, lv, u = ctx.params, ctx.levers, ctx.draws.lever
    started = ctx.dt > 0
    pc = ONE - pow_array(ONE - lv.imposed_crackdown, ctx.dt)
    pr = ONE - pow_array(ONE - lv.regime_change, ctx.dt)
    imposed = (u < pc) & started
    shock = (u >= pc) & (u < pc + pr) & started
    new = s
    if imposed.any():
        new = crack_down(new, ctx, imposed)
        emit("crackdown", imposed, "imposed (lever)")
    if shock.any():
        settled = (new.habituation >= p.habituation_threshold) & (new.stance == ACCEPTANCE)
        liberal = shock & ~settled & (new.mobilisation >= p.mobilisation_threshold)
        repressive = shock & ~settled & ~liberal
        stance = new.stance.copy()
        stance[liberal] = ACCEPTANCE
        stance[repressive] = SILENT
        emit("regime_change", liberal, "shock (lever): opposition coalition takes power")
        emit("regime_change", repressive, "shock (lever): new repressive government")
        emit("regime_change", shock & settled, "shock (lever): habituated state keeps practice")
        new = new.replace(
            stance=stance,
            new_regime=new.new_regime | shock,
            regime_age=new.regime_age * ~shock,
            legitimacy=np.where(shock, p.regime_change_legitimacy, new.legitimacy),
            entrapment=new.entrapment * ~repressive,
            repression_political=np.where(
                repressive,
                np.maximum(new.repression_political, ctx.base_repression),
                new.repression_political,
            ),
        )
    return new


def repression_target(
    s: State, p: Any, on: Any, base: F, insurgency: F, episode: F
) -> tuple[F, F, F]:
    """The target of political repression, the pincer's push and treaty leverage's direct
    effect (rule: government.repression_target). Returns (target, push, direct)."""
    st = s.stance
    accepting = st == ACCEPTANCE
    conceding = (st == RHETORIC) | (st == ARGUMENT)
    hunt = p.denial_repression * s.mobilisation if on.denial else ZERO * s.mobilisation
    target = base + hunt
    target = target - conceding * (p.cosmetic_relief * base + np.float32(0.5) * hunt)

    above = s.pressure_above / (p.pressure_half + s.pressure_above)
    if on.denial:
        # Denial and backlash (001 Phase 2): the first boomerang throw is answered with more
        # repression, whether or not a domestic movement has formed yet.
        backlash = p.backlash_repression * above * (st == DENIAL)
        target = target + backlash * (ONE - target)
    below_raw = s.pressure_below
    direct = ZERO * below_raw
    if on.treaty_leverage:
        # A ratified treaty is a hook that a mobilised society can pull (003): it strengthens
        # pressure from below, and already lowers repression while the state argues.
        m2 = s.mobilisation * s.mobilisation
        hook = s.ratified_core * (m2 / (p.treaty_civil_half * p.treaty_civil_half + m2))
        below_raw = below_raw * (ONE + p.treaty_hook * hook)
        direct = p.treaty_leverage * hook * (st == ARGUMENT)
    below = below_raw / (p.pressure_half + below_raw)
    push = above * below if on.pincer else np.maximum(above, below)
    # Decoupling (003): commitment alone moves the target part of the way to the floor;
    # sustained pressure from above and below closes the rest (hypothesis 4), and so does
    # habit once it has formed, when the pressure is gone (001 Phase 5).
    relieved = base * (ONE - p.cosmetic_relief)
    held = np.maximum(push, s.habituation)
    share = p.commitment_practice + (ONE - p.commitment_practice) * held
    floor = np.minimum(p.political_floor, relieved)  # never raises practice
    committed = relieved + share * (floor - relieved)
    target = target + accepting * (committed - target)
    if on.insurgency_threat:
        # Threat (001 Phase 2): an insurgency heightens the perception that the nation is at
        # stake; a government whose practice is not yet habit represses more.
        threat = p.insurgency_repression * insurgency * (ONE - s.habituation)
        target = target + threat * (ONE - target)
    # A repressive episode under way (0 when the mechanism is off).
    target = target + episode * (ONE - target)
    return target, push, direct


_FLAT_TARGET = np.float32(1e-6)


def preferred_at_rest(s: State, p: Any, on: Any, insurgency: F) -> F:
    """The preferred repression whose starting target is the observed practice held in
    ``s.preferred_repression`` (rule: government.preferred_at_rest)."""
    observed = s.preferred_repression
    zero = np.zeros_like(observed)
    low, _, _ = repression_target(s, p, on, zero, insurgency, zero)
    high, _, _ = repression_target(s, p, on, zero + ONE, insurgency, zero)
    slope = high - low
    inverted = (observed - low) / np.maximum(slope, _FLAT_TARGET)
    preferred = np.where(slope > _FLAT_TARGET, inverted, observed)
    # Acceptance: two affine pieces, bent where the relieved preference meets the floor.
    bend = zero + p.political_floor / np.maximum(ONE - p.cosmetic_relief, _FLAT_TARGET)
    at_bend, _, _ = repression_target(s, p, on, bend, insurgency, zero)
    past, _, _ = repression_target(s, p, on, bend + ONE, insurgency, zero)
    upper = past - at_bend
    on_upper = bend + (observed - at_bend) / np.maximum(upper, _FLAT_TARGET)
    on_upper = np.where(upper > _FLAT_TARGET, on_upper, observed)
    lower = (at_bend - low) / np.maximum(bend, _FLAT_TARGET)
    on_lower = (observed - low) / np.maximum(lower, _FLAT_TARGET)
    on_lower = np.where(lower > _FLAT_TARGET, on_lower, observed)
    bent = np.where(observed >= at_bend, on_upper, on_lower)
    preferred = np.where(s.stance == ACCEPTANCE, bent, preferred)
    return np.minimum(np.maximum(preferred, PREFERENCE_LOW), PREFERENCE_HIGH).astype(np.float32)


def adjust_practice(s: State, ctx: Context) -> State:
    """Repression follows the stance; the pincer and treaty leverage push it down.

    Hypothesis 4 (001 "Phase 5"): improvement of practice needs sustained pressure from above
    and from below at once; with the ``pincer`` mechanism off either one is enough.
    003: ratified treaties lower repression only where a mobilised civil society invokes them
    and the government no longer denies the norm. A denying state answers pressure from above
    with repression, and an insurgency raises any unhabituated government's repression (001
    Phase 2).
    """
    p, on, dt = ctx.params, ctx.on, ctx.dt
    accepting = s.stance == ACCEPTANCE
    target, push, direct = repression_target(
        s, p, on, ctx.base_repression, ctx.insurgency, s.episode
    )
    political = s.repression_political + dt * p.repression_adjust * (
        target - s.repression_political
    )
    control = np.minimum(
        p.control_floor
        + (ONE - p.control_floor) * ctx.security_control
        + p.training_gain * s.trained_officials,
        ONE,
    )
    improve = p.compliance_rate * push * control * accepting + direct
    endemic = s.repression_endemic + dt * (
        p.endemic_drift * (ctx.endemic_base - s.repression_endemic) - improve * s.repression_endemic
    )
    political = political - dt * improve * political

    habituation = s.habituation
    if on.habituation:
        low = (ONE - (ONE - political) * (ONE - endemic)) <= p.low_repression
        grow = p.habituation_rate * s.institutions * (low & accepting) * (ONE - habituation)
        erode = p.habituation_erosion * p.habituation_rate * ~low * habituation
        habituation = habituation + dt * (grow - erode)
    return s.replace(
        repression_political=np.clip(political, ZERO, ONE),
        repression_endemic=np.clip(endemic, ZERO, ONE),
        habituation=habituation,
    )


def build_institutions(s: State, stance_before: np.ndarray, ctx: Context, emit: Emit) -> State:
    """Ratifications and domestic institutions (001 "Phase 4", indicators 1-3).

    Core conventions may be ratified tactically at any point on the agenda (003: commitment
    decoupled from practice); optional protocols and domestic institutions follow acceptance.
    At most one treaty step and one domestic institution per country per step.
    """
    if not ctx.on.institutions:
        return s
    p, d = ctx.params, ctx.draws
    acc = stance_before == ACCEPTANCE
    dens = ctx.density
    # Treaties have their own draw: core conventions first, then the optional protocols, so
    # they never compete with domestic institutions for one draw (clean paired comparisons).
    core = (
        dens
        * (p.ratification_rate * acc + p.tactical_ratification_rate * (~acc & s.on_agenda))
        * ~s.ratified_core
        * np.float32(ctx.year > CORE_OPEN_AFTER)
    )
    prot = dens * p.protocol_rate * (acc & s.ratified_core & ~s.ratified_protocols)
    ratifies = d.ratification < hazard_to_probability(core + prot, ctx.dt)
    got_core = ratifies & ~s.ratified_core
    got_prot = ratifies & s.ratified_core
    emit("ratification", got_core, "core conventions (ICCPR, CAT)")
    emit("ratification", got_prot, "optional protocols (ICCPR-OP1, OPCAT)")

    con = p.institution_rate * (acc & ~s.constitution)
    com = p.institution_rate * (acc & ~s.complaint_mechanism)
    tra = p.institution_rate * (acc & s.complaint_mechanism & ~s.trained_officials)
    total = con + com + tra
    happens = d.institution < hazard_to_probability(total, ctx.dt)
    x = d.choice * total
    got_con = happens & (x < con)
    got_com = happens & (x >= con) & (x < con + com)
    got_tra = happens & (x >= con + com)
    emit("institution", got_con, "norms in constitution and law")
    emit("institution", got_com, "complaint mechanism")
    emit("institution", got_tra, "trained officials")
    return s.replace(
        ratified_core=s.ratified_core | got_core,
        ratified_protocols=s.ratified_protocols | got_prot,
        constitution=s.constitution | got_con,
        complaint_mechanism=s.complaint_mechanism | got_com,
        trained_officials=s.trained_officials | got_tra,
    )


STANCE_TO_PHASE = np.array([1, 2, 3, 3, 4], dtype=np.int8)


def read_phase(s: State, ctx: Context) -> State:
    """The phase of each country-replicate, read off its state (documented in docs/model.md).

    Phases 1-4 follow the government's stance toward the norm, which is how 001 tells the phases
    apart; phase 5 is prescriptive status with low overall repression that has become habit.
    """
    p = ctx.params
    phase = STANCE_TO_PHASE[s.stance]
    # Hysteresis: entering phase 5 needs low repression; staying tolerates a little more.
    limit = p.low_repression * (ONE + (p.habituation_tolerance - ONE) * (s.phase == 5))
    consistent = (s.stance == ACCEPTANCE) & (s.repression <= limit)
    if ctx.on.habituation:
        consistent &= s.habituation >= p.habituation_threshold
    phase = phase + consistent.astype(np.int8)
    phase = phase * ctx.present.astype(np.int8)
    return s.replace(phase=phase.astype(np.int8))
