"""The spiral model's country-level rules written as a Mesa model, and a speed benchmark.

This is a reference implementation written the way a Mesa user would write it: one
``CountryAgent`` per country, holding scalar attributes, with a ``step()`` in plain Python, and a
``SpiralModel`` holding what the countries share (world time and the transnational network's
limited stock of attention). It follows the engine's rules (the mechanism modules, composed by
``spirallab/model/kernel.py``) rule by rule and in the same order (docs/model.md, section 3),
with the same parameters, mechanism switches, covariates and levers, all read from the
scenario's ``Setup``.

It draws its own random numbers from Mesa's generator (``self.random``), one draw per decision
as it is needed, where the engine takes a fixed set of six draws per country and step (common
random numbers). The two therefore agree in distribution, not run by run:
``tests/benchmarks/test_mesa_reference.py`` checks that agreement. Other deliberate differences:
arithmetic is in Python floats (float64) rather than float32, and events are not logged (the
DataCollector records phase and repression per country per year).

Run as a script, it times both on the same scenario, one process, and prints the throughput of
each and, last, ``engine_over_mesa: R`` (the ratio of the median throughputs):

    python benchmarks/mesa_reference.py [--scenario book-eleven] [--replicates 2000]
        [--mesa-replicates 30] [--repeats 3]

Throughput is counted in country-steps: steps in which a country moves (its start year has
passed), summed over countries and replicates, divided by wall-clock seconds. A step is a year
in every built-in scenario. Both implementations are charged the same count for the same
scenario, so the ratio does not depend on the definition.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # One core: keep numpy's own threads out of the measurement (as benchmarks/bench_engine.py).
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import math
import statistics
import time
from dataclasses import dataclass
from types import SimpleNamespace

import mesa
import numpy as np
import numpy.typing as npt

from spirallab import simulate
from spirallab.model.params import PARAMETER_INDEX
from spirallab.model.setup import LEVER_KINDS, Setup, build_setup
from spirallab.model.state import ACCEPTANCE, ARGUMENT, DENIAL, RHETORIC, SILENT
from spirallab.model.worldtime import CORE_OPEN_AFTER
from spirallab.scenarios.load import load_scenario

# Phases 1-4 follow the stance (silent, denial, rhetoric, argument, acceptance); 5 is read below.
STANCE_TO_PHASE: tuple[int, ...] = (1, 2, 3, 3, 4)
# The stance a country starts in, by initial phase (index 0 unused).
INITIAL_STANCE: tuple[int, ...] = (SILENT, SILENT, DENIAL, RHETORIC, ACCEPTANCE, ACCEPTANCE)
# Lever strengths when no lever is in force for a country this step.
NO_LEVERS: dict[str, float] = dict.fromkeys(LEVER_KINDS, 0.0)


def probability(rate: float, dt: float) -> float:
    """Chance of at least one event in a step of ``dt`` years at a constant yearly ``rate``."""
    return 1.0 - math.exp(-rate * dt)


@dataclass(frozen=True)
class LeverSchedule:
    """One scheduled lever as one country sees it: its strength in each recorded year."""

    kind: str
    strength: list[float]  # by year index, as Setup.years
    phases: frozenset[int] | None  # act only while the country is in one of these phases


class CountryAgent(mesa.Agent):
    """One target state: its government, its society, and the network's view of it.

    The step is split in two stages because countries interact through the network's shared
    attention: ``gather_information`` (stage 1) sets how strongly each country calls for
    attention; the model then rations attention; ``step`` (stage 2) does the rest.
    """

    model: SpiralModel

    def __init__(self, model: SpiralModel, setup: Setup, index: int) -> None:
        """Read country ``index`` of the scenario and set its state from its initial phase."""
        super().__init__(model)
        p = model.p
        i = index
        self.country_id: str = setup.country_ids[i]
        self.start = int(setup.starts[i])

        # Covariates: constants, and tracks by year index for those that change over time.
        self.civil_society = float(setup.civil_society[i])
        self.security_control = float(setup.security_control[i])
        self.base_repression = float(setup.base_repression[i])
        self.endemic_base = float(setup.endemic_base[i])
        self.material_by_year = [float(v) for v in setup.material_vulnerability[:, i]]
        self.social_by_year = [float(v) for v in setup.social_vulnerability[:, i]]
        self.interest_by_year = [float(v) for v in setup.strategic_interest[:, i]]
        self.insurgency_by_year = [float(v) for v in setup.insurgency[:, i]]
        self.lever_schedules = [
            LeverSchedule(
                track.kind,
                [float(v) for v in track.strength[:, i]],
                frozenset(track.phases) if track.phases is not None else None,
            )
            for track in setup.levers
            if track.strength[:, i].any()
        ]

        # This step's inputs (set at the start of each step by gather_information).
        self.started = False  # the country moves this step (its start year has passed)
        self.present = False  # the country is recorded this year
        self.dt = 0.0
        self.material_vulnerability = self.material_by_year[0]
        self.social_vulnerability = self.social_by_year[0]
        self.strategic_interest = self.interest_by_year[0]
        self.insurgency = self.insurgency_by_year[0]
        self.lever = NO_LEVERS
        self.demand = 0.0

        # State, consistent with the initial phase (docs/model.md, section 5).
        phase0 = int(setup.initial_phase[i])
        accepted, rule_consistent = phase0 >= 4, phase0 >= 5
        self.stance = INITIAL_STANCE[phase0]
        political = self.base_repression
        if phase0 == 3:
            political *= 1.0 - p.cosmetic_relief
        self.repression_political = political  # accepted: set below, once institutions are
        self.repression_endemic = self.endemic_base * (0.2 if rule_consistent else 1.0)
        self.legitimacy = float(setup.initial_legitimacy[i])
        self.rally = 0.0
        self.entrapment = p.argument_threshold if accepted else 0.0
        self.habituation = 1.0 if rule_consistent else 0.0
        self.new_regime = False
        self.regime_age = 100.0
        self.episode = 0.0  # no repressive episode under way (issue 10, sixth round)
        known = int(setup.initial_ratified[i])  # -1: the scenario does not say
        self.ratified_core = accepted if known < 0 else known > 0
        self.ratified_protocols = rule_consistent
        self.constitution = accepted
        # Three of the coder's four indicators: without both core treaties, the complaint
        # mechanism (docs/phase-coding.md, step 2).
        self.complaint_mechanism = rule_consistent or (accepted and not self.ratified_core)
        self.trained_officials = rule_consistent
        if accepted:  # prescriptive status starts at its practice target (issue 10)
            relieved = self.base_repression * (1.0 - p.cosmetic_relief)
            share = 1.0 if rule_consistent else p.commitment_practice  # phase 5: habit
            floor = min(p.political_floor, relieved)  # the floor never raises practice
            self.repression_political = relieved + share * (floor - relieved)
        mobilisation = float(setup.initial_mobilisation[i])
        if phase0 >= 3:
            mobilisation = max(mobilisation, 0.2)
        self.mobilisation = min(mobilisation, self.civil_society)
        self.fear = 0.5 * self.base_repression
        self.key_leaders = float(setup.initial_leaders[i])
        self.linkage = float(setup.initial_linkage[i])
        self.information = p.agenda_threshold if phase0 >= 2 else 0.0
        self.on_agenda = phase0 >= 2
        self.attention = 0.0
        self.campaign = 0.0
        self.pressure_above = 0.0
        self.phase = phase0 if self.start <= model.year else 0
        self.initial_phase = phase0
        self.start_index = min(max(self.start - model.years[0], 0), len(model.years) - 1)
        self.start_density = float(setup.density[self.start_index])

    def start_demand(self) -> float:
        """Demand for attention at the start (0 off the agenda), as salience reads it."""
        p, on = self.model.p, self.model.on
        if not self.on_agenda:
            return 0.0
        if not on.attention_fading:
            return 1.0
        demand = self.repression_political + p.endemic_salience * self.repression_endemic
        return demand * (1.0 - p.attention_release * (self.initial_phase == 5))

    def start_on_agenda(self, total: float, n_countries: int) -> None:
        """A phase 2-5 starter, ``start_tenure`` years a campaign's target (docs/model.md 5)."""
        p, on = self.model.p, self.model.on
        if not self.on_agenda:
            return
        tenure = p.start_tenure
        density = self.start_density
        capacity = p.attention_capacity * n_countries * density
        ration = min(1.0, capacity / max(total, 1e-6))
        # Attention and campaign start at 0; what they would be drives the rest.
        attention = min(self.start_demand() * ration, 1.0)
        arguing = self.stance in (RHETORIC, ARGUMENT)
        campaign = attention * (p.shaming_gain_concessions if arguing else 1.0)
        pull = p.treaty_monitoring if (on.treaty_leverage and self.ratified_protocols) else 0.0
        if on.boomerang:
            lobbying = p.lobbying_efficacy * density * attention
            if self.initial_phase == 3 and self.mobilisation >= p.mobilisation_threshold:
                lobbying *= 1.0 + p.donor_coordination
            strategic = self.interest_by_year[self.start_index]
            pull += lobbying * (1.0 - strategic)
        self.pressure_above = min(pull, 1.0) * (1.0 - math.exp(-p.pressure_rate * tenure))
        if on.denial and self.stance == DENIAL:
            target_rally = p.rally_strength * attention
            self.rally = target_rally * (1.0 - math.exp(-p.rally_decay * tenure))
        if self.initial_phase == 3 and on.entrapment:
            gain = p.entrapment_rate * min(campaign, 1.0)
            self.entrapment = 1.0 - math.exp(-gain * tenure)
            if self.entrapment >= p.argument_threshold:
                self.stance = ARGUMENT

    # --- derived quantities ----------------------------------------------------------------

    @property
    def repression(self) -> float:
        """Overall repression: either kind of abuse counts."""
        return 1.0 - (1.0 - self.repression_political) * (1.0 - self.repression_endemic)

    @property
    def pressure_below(self) -> float:
        """A mobilised society that is not paralysed by fear."""
        return self.mobilisation * (1.0 - self.fear)

    @property
    def institutions(self) -> float:
        """Share of the five institutional indicators in place."""
        count = (
            self.ratified_core
            + self.ratified_protocols
            + self.constitution
            + self.complaint_mechanism
            + self.trained_officials
        )
        return 0.2 * count

    def vulnerability(self) -> float:
        """Material and social vulnerability combined (1 with the mechanism off)."""
        p = self.model.p
        if not self.model.on.vulnerability:
            return 1.0
        v = p.material_weight * self.material_vulnerability
        return min(v + p.social_weight * self.social_vulnerability, 1.0)

    def full_mobilisation(self) -> float:
        """How far the opposition counts as fully mobilised: a logistic step at the threshold."""
        p = self.model.p
        z = (self.mobilisation - p.mobilisation_threshold) * p.mobilisation_steepness
        return 1.0 / (1.0 + math.exp(-z))

    def international_pressure(self) -> float:
        """What a conceding government weighs when deciding whether it can retreat."""
        return 0.5 * (self.pressure_above + min(self.campaign, 1.0))

    def salience(self) -> float:
        """How strongly this country calls for the network's attention."""
        if not (self.on_agenda and self.started):
            return 0.0
        p = self.model.p
        if self.model.on.attention_fading:
            demand = self.repression_political + p.endemic_salience * self.repression_endemic
            if self.phase == 5:
                demand *= 1.0 - p.attention_release  # reduced network activity (000)
        else:
            demand = 1.0
        return demand + self.lever["naming_and_shaming"]

    def levers_in_force(self, year_index: int) -> dict[str, float]:
        """Lever strength by kind this step; phase-restricted levers use the current phase."""
        if not self.lever_schedules:
            return NO_LEVERS
        lever = dict(NO_LEVERS)
        for schedule in self.lever_schedules:
            strength = schedule.strength[year_index]
            if schedule.phases is not None and self.phase not in schedule.phases:
                strength = 0.0
            lever[schedule.kind] = min(lever[schedule.kind] + strength, 1.0)
        return lever

    # --- stage 1 ---------------------------------------------------------------------------

    def gather_information(self) -> None:
        """Read this step's inputs; information flows out (boomerang, hypothesis 1)."""
        model = self.model
        yi = model.year_index
        self.started = self.start < model.year
        self.present = self.start <= model.year
        self.dt = model.dt if self.started else 0.0
        self.material_vulnerability = self.material_by_year[yi]
        self.social_vulnerability = self.social_by_year[yi]
        self.strategic_interest = self.interest_by_year[yi]
        self.insurgency = self.insurgency_by_year[yi]
        self.lever = self.levers_in_force(yi)
        if not self.started:  # frozen until its start year has passed
            self.demand = 0.0
            return

        p, on, dt = model.p, model.on, self.dt
        choke = 1.0 - p.information_choke * self.repression_political
        # Repression chokes what monitors learn too (001 Phase 1; issue 10).
        inflow = p.monitoring_rate * model.density * choke
        inflow += p.un_information_gain * self.lever["un_mechanism"]
        if on.boomerang:
            inflow += p.information_rate * self.linkage * choke
        info = self.information
        info += dt * (inflow * (1.0 - info) - p.information_decay * info)
        massacre = False
        if on.egregious_events:
            # A massacre (an egregious event) activates the network (001 Phase 2).
            rate = p.massacre_rate * self.repression_political**2
            if self.random.random() < probability(rate, dt):
                massacre = True
                info += p.massacre_information * (1.0 - info)
                info = max(info, p.agenda_threshold)  # on the agenda (001 Phase 2; issue 10)
        self.information = min(info, 1.0)
        # The network takes up one case at a time (001 Phase 1-2; issue 10, third round).
        taken_up = massacre or self.random.random() < probability(p.agenda_uptake, dt)
        joins = self.information >= p.agenda_threshold and (self.on_agenda or taken_up)
        if not on.agenda_setting or joins:
            self.on_agenda = True
        elif self.information < p.agenda_memory * p.agenda_threshold:
            self.on_agenda = False  # without fresh information it drops off (issue 10)
        self.demand = self.salience()

    # --- stage 2 ---------------------------------------------------------------------------

    def step(self) -> None:
        """The rest of the step, in the engine's order; then the phase is read off the state."""
        if self.started:
            stance_before = self.stance
            self.allocate_attention()
            self.press_from_above()
            self.mobilise()
            self.decide()
            self.adjust_practice()
            self.build_institutions(stance_before)
        self.read_phase()

    def allocate_attention(self) -> None:
        """Take this country's ration of the network's attention; campaigns follow it."""
        p = self.model.p
        target = min(self.demand * self.model.ration, 1.0)
        self.attention += self.dt * p.attention_rate * (target - self.attention)
        arguing = self.stance in (RHETORIC, ARGUMENT)
        shaming = p.shaming_gain_concessions if arguing else 1.0
        self.campaign = self.attention * shaming * (1.0 + self.lever["naming_and_shaming"])

    def press_from_above(self) -> None:
        """Partners' pressure moves toward what lobbying, identity, interests and levers ask."""
        p, on, lever = self.model.p, self.model.on, self.lever
        target = (
            p.bilateral_pressure_gain * lever["bilateral_pressure"]
            + p.aid_leverage * lever["aid_conditionality"] * self.material_vulnerability
            + p.un_pressure * lever["un_mechanism"]
        )
        if on.treaty_leverage and self.ratified_protocols:
            target += p.treaty_monitoring  # treaty bodies keep watching
        if on.boomerang:
            lobbying = p.lobbying_efficacy * self.model.density * self.attention
            if self.phase == 3 and self.mobilisation >= p.mobilisation_threshold:
                lobbying *= 1.0 + p.donor_coordination  # donors coordinate late in phase 3
            target += lobbying * (1.0 - self.strategic_interest)
        target = min(target, 1.0) * (1.0 - lever["withdraw_pressure"])
        self.pressure_above += self.dt * p.pressure_rate * (target - self.pressure_above)

    def mobilise(self) -> None:
        """Grow or erode the movement, its fear, its leadership and its links abroad."""
        p, on, dt, lever = self.model.p, self.model.on, self.dt, self.lever
        opened = self.stance >= RHETORIC  # concessions open space and embolden activists
        protection = p.un_protection * lever["un_mechanism"]
        echo = 1.0
        if on.boomerang:
            reach = self.attention * self.linkage
            protection += p.protection_strength * reach
            echo = 1.0 + p.echo_gain * reach
        faced = self.repression_political * (1.0 - min(protection, 1.0))
        space = 1.0 if opened else p.closed_space
        funding = 1.0 + p.funding_gain * lever["fund_domestic_groups"]

        growth = p.mobilisation_rate * space * (1.0 - self.fear) * echo * funding
        room = max(self.civil_society - self.mobilisation, 0.0)
        erosion = p.repression_toll * faced * self.mobilisation
        mobilisation = self.mobilisation + dt * (growth * room - erosion)
        emboldened = 1.0 - p.courage if opened else 1.0
        self.fear += dt * p.fear_rate * (faced * emboldened - self.fear)
        if on.boomerang:
            pull = (self.attention + self.mobilisation) * funding
            self.linkage += dt * (
                p.linkage_rate * pull * (1.0 - self.linkage)
                - p.linkage_erosion * faced * self.linkage
            )
        self.key_leaders += dt * p.leader_growth * self.mobilisation
        self.mobilisation = min(max(mobilisation, 0.0), self.civil_society)

    def decide(self) -> None:
        """The government's stance: hypotheses 1-3, crackdowns, backsliding, retreat, levers."""
        p, on, dt = self.model.p, self.model.on, self.dt
        stance = self.stance
        silent = stance == SILENT and self.on_agenda
        denying = stance == DENIAL
        conceding = stance in (RHETORIC, ARGUMENT)
        accepting = stance == ACCEPTANCE

        # Rally around the flag while denying; it wears off afterwards.
        rally_target = p.rally_strength * self.attention if (on.denial and denying) else 0.0
        rally = self.rally + dt * p.rally_decay * (rally_target - self.rally)

        # Hypothesis 2: pressure x vulnerability x network mobilisation, sped by world time.
        leverage = self.pressure_above * self.vulnerability()
        push = min(self.campaign, 1.0) + p.domestic_push * self.mobilisation
        concession = p.concession_rate * leverage * push * (1.0 - rally)
        concession *= 1.0 + p.world_time_speedup * self.model.density
        if on.insurgency_threat:
            concession *= 1.0 - p.insurgency_drag * self.insurgency
        if not on.concessions:
            concession = 0.0

        # Tactical concessions: three competing risks.
        threat = self.mobilisation / max(self.civil_society, 0.05)
        crack = p.crackdown_rate * threat * (1.0 - self.entrapment)
        hold = max(1.0 - self.international_pressure() / p.pressure_hold, 0.0)
        mobilised = self.full_mobilisation()
        locked = 1.0 - p.entrapment_hold * self.entrapment  # entrapped: hard to go back
        back = p.backslide_rate * hold * (1.0 - mobilised) * locked if on.backsliding else 0.0
        prescriptive_risk = 0.0
        if on.prescriptive_status:
            prescriptive_risk = (
                p.prescriptive_rate
                * mobilised
                * (1.0 - p.linkage_weight + p.linkage_weight * self.linkage)
                * (1.0 - p.entrapment_weight + p.entrapment_weight * self.entrapment)
                # From above and from below at once (001 Phase 3; 003 decoupling).
                * (1.0 - p.pressure_weight + p.pressure_weight * self.international_pressure())
            )
        risk3 = crack + back + prescriptive_risk

        # Prescriptive status: a consolidated, unhabituated government may retreat.
        retreat = 0.0
        if on.backsliding and self.habituation < p.habituation_threshold:
            consolidated = self.regime_age >= p.consolidation_years
            calm = p.retreat_rate * hold if consolidated else 0.0
            # An insurgency gives any unhabituated government its reason to retreat (001 Phase 2).
            threatened = p.insurgency_retreat * self.insurgency if on.insurgency_threat else 0.0
            retreat = (calm + threatened) * (1.0 - self.institutions)

        if denying:
            rate = concession
        elif conceding:
            rate = risk3
        elif accepting:
            rate = retreat
        elif silent and not on.denial:  # ablation: a repressor may concede at once
            rate = p.skip_denial_rate / p.concession_rate * concession
        else:
            rate = 0.0
        happens = self.random.random() < probability(rate, dt)

        crackdown = backslide = prescriptive = concede = retreating = falls = False
        backlash = False
        if happens:
            if conceding:
                x = self.random.random() * risk3  # which of the competing risks it is
                if x < crack:
                    crackdown = True
                elif x < crack + back:
                    backslide = True
                    # A backlash into denial rather than silence (000 "Denial/backlash").
                    backlash = on.denial and x - crack < p.backlash_denial * back
                else:
                    prescriptive = True
                    # The less legitimate the government, the likelier it falls.
                    falls = self.random.random() < 1.0 - min(self.legitimacy + rally, 1.0)
            elif denying or (silent and not on.denial):
                concede = True
            elif accepting:
                retreating = True

        self.rally = rally
        if crackdown:
            self.crack_down()
        if silent and on.denial:
            self.stance = DENIAL  # hypothesis 1: on the agenda, a repressor denies
        if concede or retreating:
            self.stance = RHETORIC
        elif denying and not self.on_agenda:
            self.stance = SILENT  # off the agenda there is nothing left to deny (issue 10)
        elif backslide:
            self.stance = DENIAL if backlash else SILENT
        elif prescriptive:
            self.stance = ACCEPTANCE
        if concede:  # cosmetic concession: prisoners released
            self.repression_political *= 1.0 - p.cosmetic_relief
            self.fear *= 1.0 - p.release_fear_relief

        # Entrapment: arguing with critics ties the government to its words.
        if on.entrapment and conceding:
            dialogue = 1.0 + p.dialogue_gain if stance == ARGUMENT else 1.0
            gain = p.entrapment_rate * min(self.campaign, 1.0) * dialogue
            self.entrapment += dt * gain * (1.0 - self.entrapment)
        if backslide:
            self.entrapment *= 0.5
        if conceding and self.stance == RHETORIC and self.entrapment >= p.argument_threshold:
            self.stance = ARGUMENT

        if falls:  # regime change: the opposition coalition takes power
            self.new_regime = True
            self.regime_age = 0.0
            self.legitimacy = p.regime_change_legitimacy
            self.rally = 0.0
        else:
            self.regime_age += dt
        if self.lever["imposed_crackdown"] > 0.0 or self.lever["regime_change"] > 0.0:
            self.apply_shocks()
        self.repressive_episode()

    def repressive_episode(self) -> None:
        """A new repressive episode strikes, or the one under way fades (any phase)."""
        p, dt = self.model.p, self.dt
        self.episode = max(self.episode - dt * p.episode_decay * self.episode, 0.0)
        strikes = 1.0 - (1.0 - p.episode_rate) ** dt
        if self.model.on.repressive_episodes and dt > 0.0 and self.random.random() < strikes:
            self.episode = max(self.episode, p.episode_intensity)
            self.repression_political += p.episode_intensity * (1.0 - self.repression_political)

    def crack_down(self) -> None:
        """Decapitate the movement, spread fear, lose legitimacy, validate the critics."""
        p = self.model.p
        if self.model.on.decapitation:
            concentration = 1.0 / (1.0 + self.key_leaders / p.leader_half)
            self.mobilisation *= 1.0 - p.crackdown_severity * concentration
            self.key_leaders *= 1.0 - p.crackdown_severity
            self.fear = max(self.fear, p.crackdown_severity)
        self.legitimacy = max(self.legitimacy - p.crackdown_legitimacy_cost, 0.0)
        self.information += p.crackdown_information * (1.0 - self.information)
        self.repression_political += p.crackdown_repression * (1.0 - self.repression_political)

    def apply_shocks(self) -> None:
        """Levers that act as events: an imposed crackdown or a regime-change shock."""
        p, dt = self.model.p, self.dt
        imposed = 1.0 - (1.0 - self.lever["imposed_crackdown"]) ** dt
        shock = 1.0 - (1.0 - self.lever["regime_change"]) ** dt
        u = self.random.random()  # one draw: the two shocks exclude each other
        if u < imposed:
            self.crack_down()
        elif u < imposed + shock:
            settled = self.habituation >= p.habituation_threshold and self.stance == ACCEPTANCE
            if not settled:  # a habituated state keeps its practice whoever rules
                if self.mobilisation >= p.mobilisation_threshold:
                    self.stance = ACCEPTANCE  # the opposition coalition takes power
                else:
                    self.stance = SILENT  # a new repressive government
                    self.entrapment = 0.0
                    self.repression_political = max(self.repression_political, self.base_repression)
            self.new_regime = True
            self.regime_age = 0.0
            self.legitimacy = p.regime_change_legitimacy

    def adjust_practice(self) -> None:
        """Repression follows the stance; the pincer and treaty leverage push it down."""
        p, on, dt = self.model.p, self.model.on, self.dt
        accepting = self.stance == ACCEPTANCE
        conceding = self.stance in (RHETORIC, ARGUMENT)
        hunt = p.denial_repression * self.mobilisation if on.denial else 0.0

        # Hypothesis 4: improvement needs pressure from above and from below (the pincer).
        above = self.pressure_above / (p.pressure_half + self.pressure_above)
        below = self.pressure_below
        direct = 0.0
        if on.treaty_leverage and self.ratified_core:
            # A ratified treaty is a hook that a mobilised society can pull (003).
            m2 = self.mobilisation * self.mobilisation
            hook = m2 / (p.treaty_civil_half * p.treaty_civil_half + m2)
            below *= 1.0 + p.treaty_hook * hook
            if self.stance == ARGUMENT:
                direct = p.treaty_leverage * hook
        below = below / (p.pressure_half + below)
        push = above * below if on.pincer else max(above, below)
        if accepting:  # decoupling (003): the pincer closes the gap to the floor
            relieved = self.base_repression * (1.0 - p.cosmetic_relief)
            held = max(push, self.habituation)  # habit keeps it closed (001 Phase 5)
            share = p.commitment_practice + (1.0 - p.commitment_practice) * held
            floor = min(p.political_floor, relieved)
            target = relieved + share * (floor - relieved)
        elif conceding:
            target = self.base_repression + hunt - (p.cosmetic_relief * self.base_repression)
            target -= 0.5 * hunt
        else:
            target = self.base_repression + hunt
            if on.denial and self.stance == DENIAL:  # denial and backlash (001 Phase 2)
                target += p.backlash_repression * above * (1.0 - target)
        if on.insurgency_threat:  # threat (001 Phase 2)
            threat = p.insurgency_repression * self.insurgency * (1.0 - self.habituation)
            target += threat * (1.0 - target)
        target += self.episode * (1.0 - target)  # a repressive episode under way
        political = self.repression_political
        political += dt * p.repression_adjust * (target - political)
        control = p.control_floor + (1.0 - p.control_floor) * self.security_control
        if self.trained_officials:
            control += p.training_gain
        control = min(control, 1.0)
        improve = (p.compliance_rate * push * control if accepting else 0.0) + direct
        endemic = self.repression_endemic
        endemic += dt * (p.endemic_drift * (self.endemic_base - endemic) - improve * endemic)
        political -= dt * improve * political

        if on.habituation:
            low = 1.0 - (1.0 - political) * (1.0 - endemic) <= p.low_repression
            if low and accepting:
                self.habituation += (
                    dt * p.habituation_rate * self.institutions * (1.0 - self.habituation)
                )
            elif not low:
                erosion = p.habituation_erosion * p.habituation_rate * self.habituation
                self.habituation -= dt * erosion
        self.repression_political = min(max(political, 0.0), 1.0)
        self.repression_endemic = min(max(endemic, 0.0), 1.0)

    def build_institutions(self, stance_before: int) -> None:
        """Ratifications (own draw) and at most one domestic institution per step."""
        p, dt = self.model.p, self.dt
        if not self.model.on.institutions:
            return
        accepted = stance_before == ACCEPTANCE
        density = self.model.density
        if not self.ratified_core:  # core conventions, tactically while on the agenda (003)
            if self.model.year <= CORE_OPEN_AFTER:  # CAT not yet open (issue 10)
                rate = 0.0
            elif accepted:
                rate = density * p.ratification_rate
            elif self.on_agenda:
                rate = density * p.tactical_ratification_rate
            else:
                rate = 0.0
        elif accepted and not self.ratified_protocols:
            rate = density * p.protocol_rate
        else:
            rate = 0.0
        if self.random.random() < probability(rate, dt):
            if self.ratified_core:
                self.ratified_protocols = True
            else:
                self.ratified_core = True

        if not accepted:
            return
        constitution = 0.0 if self.constitution else p.institution_rate
        complaint = 0.0 if self.complaint_mechanism else p.institution_rate
        training = (
            p.institution_rate if self.complaint_mechanism and not self.trained_officials else 0.0
        )
        total = constitution + complaint + training
        if self.random.random() < probability(total, dt):
            x = self.random.random() * total
            if x < constitution:
                self.constitution = True
            elif x < constitution + complaint:
                self.complaint_mechanism = True
            else:
                self.trained_officials = True

    def read_phase(self) -> None:
        """The phase, read off the state (docs/model.md 7.8), with hysteresis for phase 5."""
        if not self.present:
            self.phase = 0
            return
        p = self.model.p
        phase = STANCE_TO_PHASE[self.stance]
        if self.stance == ACCEPTANCE:
            # Entering phase 5 needs low repression; staying tolerates a little more.
            limit = p.low_repression * (p.habituation_tolerance if self.phase == 5 else 1.0)
            consistent = self.repression <= limit
            if self.model.on.habituation:
                consistent = consistent and self.habituation >= p.habituation_threshold
            if consistent:
                phase = 5
        self.phase = phase


class SpiralModel(mesa.Model):
    """The world: world time, the network's shared attention, and one agent per country."""

    def __init__(self, setup: Setup, seed: int | None = None) -> None:
        """Build the countries of a resolved scenario; ``seed`` seeds Mesa's generator."""
        super().__init__(seed=seed)
        unknown = set(setup.params) - set(PARAMETER_INDEX)
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        self.p = SimpleNamespace(**{k: float(v) for k, v in setup.params.items()})
        self.on = setup.switches
        self.years = [int(y) for y in setup.years]
        self.density_by_year = [float(d) for d in setup.density]
        self.steps_per_year = setup.steps_per_year
        self.dt = float(setup.step)
        self.year_index = 0
        self.year = self.years[0]  # the year being simulated toward (recorded at its end)
        self.density = self.density_by_year[0]
        self.ration = 1.0  # share of each country's demand for attention the network meets

        for index in range(setup.n_countries):
            CountryAgent(self, setup, index)
        self.country_ids = {a.unique_id: a.country_id for a in self.agents}
        # Starters on the agenda come with the network's attention (issue 10, fourth round).
        by_start = {a.unique_id: a.start_demand() for a in self.agents}
        for agent in self.agents:
            earlier = sum(by_start[b.unique_id] for b in self.agents if b.start <= agent.start)
            agent.start_on_agenda(earlier, len(self.agents))

        self.datacollector = mesa.DataCollector(
            model_reporters={"year": "year", "density": "density"},
            agent_reporters={"phase": "phase", "repression": "repression"},
        )
        self.datacollector.collect(self)

    def step(self) -> None:
        """One step: information, shared attention, then every country's own rules."""
        k = (self.steps - 1) % self.steps_per_year  # Mesa has already counted this step
        self.year_index = (self.steps - 1) // self.steps_per_year + 1
        self.year = self.years[self.year_index]
        self.density = self.density_by_year[self.year_index]

        self.agents.shuffle_do("gather_information")
        # The network's limited attention: demand is rationed in proportion above capacity.
        total = sum(agent.demand for agent in self.agents)
        capacity = self.p.attention_capacity * len(self.agents) * self.density
        self.ration = min(1.0, capacity / max(total, 1e-6))
        self.agents.shuffle_do("step")

        if k == self.steps_per_year - 1:  # a year is complete: record it
            self.datacollector.collect(self)
            if self.year_index == len(self.years) - 1:
                self.running = False


def phase_history(model: SpiralModel) -> npt.NDArray[np.int8]:
    """Recorded phases of one run, shaped (years, countries) in scenario order."""
    df = model.datacollector.get_agent_vars_dataframe()
    table = df["phase"].unstack("AgentID")
    return table.to_numpy(dtype=np.int8)


def run_mesa(setup: Setup, replicates: int, seed: int = 0) -> npt.NDArray[np.int8]:
    """Run ``replicates`` independent models; phases shaped (years, countries, replicates)."""
    runs = []
    for r in range(replicates):
        model = SpiralModel(setup, seed=seed * 1_000_003 + r)
        model.run_model()
        runs.append(phase_history(model))
    return np.stack(runs, axis=2)


def moving_country_steps(setup: Setup) -> int:
    """Country-steps of one replicate in which a country moves (its start year has passed)."""
    later_years = setup.years[1:, None]
    moving_years = int((later_years > setup.starts[None, :]).sum())
    return moving_years * setup.steps_per_year


def main() -> None:
    """Time the engine and the Mesa reference on one scenario and print the ratio last."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="book-eleven")
    ap.add_argument("--replicates", type=int, default=2000, help="engine replicates per run")
    ap.add_argument("--mesa-replicates", type=int, default=30, help="Mesa models per run")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each; medians are reported")
    args = ap.parse_args()

    scenario = load_scenario(args.scenario)
    setup = build_setup(scenario)
    per_replicate = moving_country_steps(setup)
    # Warm-up (imports, caches), not counted.
    simulate(scenario, replicates=32, seed=0, workers=1)
    run_mesa(setup, 1, seed=0)

    # Like for like: the Mesa model keeps phase and repression and logs no events, so the engine
    # is timed recording the same two variables without its event log. The engine as `spirallab
    # run` uses it (all 22 observables and the event log) is timed too and reported on the line
    # before the ratio.
    engine_s, engine_events_s, mesa_s = [], [], []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        simulate(
            scenario,
            replicates=args.replicates,
            seed=i + 1,
            workers=1,
            events=False,
            observables=("phase", "repression"),
        )
        engine_s.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        simulate(scenario, replicates=args.replicates, seed=i + 1, workers=1)
        engine_events_s.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        mesa_setup = build_setup(scenario)  # as simulate() does, once per batch
        for r in range(args.mesa_replicates):
            model = SpiralModel(mesa_setup, seed=(i + 1) * 1_000_003 + r)
            model.run_model()
        mesa_s.append(time.perf_counter() - t0)

    engine_rate = per_replicate * args.replicates / statistics.median(engine_s)
    events_rate = per_replicate * args.replicates / statistics.median(engine_events_s)
    mesa_rate = per_replicate * args.mesa_replicates / statistics.median(mesa_s)
    print(f"scenario: {args.scenario}")
    print(
        f"moving_country_steps_per_replicate: {per_replicate} "
        f"({setup.n_countries} countries, {len(setup.years) - 1} years, "
        f"{setup.steps_per_year} step(s) a year)"
    )
    print(
        f"engine, phase and repression, no event log: {args.replicates} replicates, seconds "
        + ", ".join(f"{s:.3f}" for s in engine_s)
        + f"; median rate {engine_rate:.4g} country-steps/s"
    )
    print(
        "engine, all observables and the event log: seconds "
        + ", ".join(f"{s:.3f}" for s in engine_events_s)
        + f"; median rate {events_rate:.4g} country-steps/s"
    )
    print(
        f"mesa {mesa.__version__}: {args.mesa_replicates} replicates, seconds "
        + ", ".join(f"{s:.3f}" for s in mesa_s)
        + f"; median rate {mesa_rate:.4g} country-steps/s"
    )
    print(f"engine_recording_everything_over_mesa: {events_rate / mesa_rate:.1f}")
    print(f"engine_over_mesa: {engine_rate / mesa_rate:.1f}")


if __name__ == "__main__":
    main()
