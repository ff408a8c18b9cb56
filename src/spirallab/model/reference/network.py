"""The transnational advocacy network: information, the agenda, attention and campaigns.

Seeds: 001 "Phase 1" (information needs links and is choked by repression; hypothesis 1),
001 "Phase 2" (egregious events activate the network), issue 2 (a limited stock of attention
shared by all countries), 001 "Phase 5" and the critical moments (attention fades with gross
violations), 000 (reduced network activity once rights are respected).
"""

from __future__ import annotations

import numpy as np

from spirallab.model.context import Context, hazard_to_probability
from spirallab.model.events import Emit
from spirallab.model.state import ARGUMENT, RHETORIC, F, State


def gather_information(s: State, ctx: Context, emit: Emit) -> State:
    """Boomerang, first leg, and hypothesis 1: information flows out; enough sets the agenda."""
    p, on, dt = ctx.params, ctx.on, ctx.dt
    choke = 1.0 - p.information_choke * s.repression_political
    # Repression chokes what monitors learn too, not only what domestic links send (001 Phase 1).
    inflow = p.monitoring_rate * ctx.density * choke
    inflow = inflow + p.un_information_gain * ctx.levers.un_mechanism
    if on.boomerang:
        inflow = inflow + p.information_rate * s.linkage * choke
    info = s.information + dt * (
        inflow * (1.0 - s.information) - p.information_decay * s.information
    )

    if on.egregious_events:
        rate = p.massacre_rate * s.repression_political * s.repression_political
        massacre = (ctx.draws.massacre < hazard_to_probability(rate, dt)) & ctx.started
        info = info + massacre * (p.massacre_information * (1.0 - info))
        # An egregious event puts the country on the agenda (001 Phase 2; issue 10).
        info = np.where(massacre, np.maximum(info, p.agenda_threshold), info)
        emit("massacre", massacre)

    else:
        massacre = np.zeros_like(s.on_agenda)

    info = np.minimum(info, np.float32(1.0))
    if on.agenda_setting:
        # Without fresh information a country drops off the agenda (issue 10).
        kept = s.on_agenda & (info >= p.agenda_memory * p.agenda_threshold)
        # The network takes up one case at a time (001 Phase 1-2): the top of the massacre draw.
        uptake = hazard_to_probability(p.agenda_uptake * np.ones_like(s.information), dt)
        taken_up = ctx.draws.massacre >= np.float32(1.0) - uptake
        on_agenda = kept | ((info >= p.agenda_threshold) & (taken_up | massacre) & ctx.started)
    else:
        on_agenda = s.on_agenda | ctx.started
    emit("on_agenda", on_agenda & ~s.on_agenda)
    return s.replace(information=info, on_agenda=on_agenda)


def salience(s: State, ctx: Context) -> F:
    """How strongly a country calls for the network's attention."""
    p = ctx.params
    if ctx.on.attention_fading:
        demand = s.repression_political + p.endemic_salience * s.repression_endemic
        # 000, "Respect for human rights": reduced network activity.
        demand = demand * (1.0 - p.attention_release * (s.phase == 5))
    else:
        demand = np.ones_like(s.repression_political)
    demand = (demand + ctx.levers.naming_and_shaming) * (s.on_agenda & ctx.started)
    out: F = demand
    return out


def allocate_attention(s: State, ctx: Context) -> State:
    """Share the network's limited attention among the countries on its agenda.

    Demand is rationed in proportion when it exceeds capacity; capacity grows with world time.
    """
    p, dt = ctx.params, ctx.dt
    demand = salience(s, ctx)
    # Rows added one by one in country order, the order the kernel adds them in.
    total = np.zeros_like(demand[:1])
    for row in demand:
        total = total + row
    # Capacity is per country of the scenario (size-invariant, issue 10).
    capacity = p.attention_capacity * np.float32(demand.shape[0]) * ctx.density
    ration = np.minimum(np.float32(1.0), capacity / np.maximum(total, np.float32(1e-6)))
    target = np.minimum(demand * ration, np.float32(1.0))
    attention = s.attention + dt * p.attention_rate * (target - s.attention)
    arguing = (s.stance == RHETORIC) | (s.stance == ARGUMENT)
    shaming = 1.0 + (p.shaming_gain_concessions - 1.0) * arguing
    campaign = attention * shaming * (1.0 + ctx.levers.naming_and_shaming)
    return s.replace(attention=attention, campaign=campaign)
