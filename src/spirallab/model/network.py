"""The transnational advocacy network: information, the agenda, attention and campaigns.

Seeds: 001 "Phase 1" (information needs links and is choked by repression; hypothesis 1),
001 "Phase 2" (egregious events activate the network), issue 2 (a limited stock of attention
shared by all countries), 001 "Phase 5" and the critical moments (attention fades with gross
violations), 000 (reduced network activity once rights are respected).

Scalar float32 rules for one country-replicate (see :mod:`spirallab.model.rules`); the kernel
(:mod:`spirallab.model.kernel`) composes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spirallab.model.f32math import at
from spirallab.model.rules import ARGUMENT, ONE, RHETORIC, P, as_f32, hazard, rule

F32 = np.float32
_PHASE5 = F32(5.0)
_TINY_TOTAL = F32(1e-6)


@rule
def gather_information(
    information: Any,
    on_agenda: Any,
    linkage: Any,
    political: Any,
    u_massacre: Any,
    started: Any,
    dt: Any,
    density: Any,
    un_lever: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """Boomerang, first leg, and hypothesis 1: information flows out; enough sets the agenda.

    A country with information at the threshold joins the agenda at ``agenda_uptake`` a year (at
    once after a massacre); on the agenda it stays there while its information is at least
    ``agenda_memory`` times the threshold. Returns (information, on_agenda, massacre happened,
    newly on the agenda).
    """
    choke = ONE - at(p, P.information_choke + j) * political
    # Repression chokes what monitors learn too, not only what domestic links send (001 Phase 1).
    inflow = at(p, P.monitoring_rate + j) * density * choke
    inflow = inflow + at(p, P.un_information_gain + j) * un_lever
    if on.boomerang:
        inflow = inflow + at(p, P.information_rate + j) * linkage * choke
    info = information + dt * (
        inflow * (ONE - information) - at(p, P.information_decay + j) * information
    )
    massacre = False
    if on.egregious_events:
        rate = at(p, P.massacre_rate + j) * political * political
        # Flags with & and |, not and/or, here and below (speed: see spirallab.model.rules).
        massacre = (u_massacre < hazard(rate, dt)) & started
        info = info + as_f32(massacre) * (at(p, P.massacre_information + j) * (ONE - info))
        # An egregious event puts the country on the agenda (001 Phase 2; issue 10).
        info = max(info, at(p, P.agenda_threshold + j)) if massacre else info
    info = min(info, ONE)
    if on.agenda_setting:
        threshold = at(p, P.agenda_threshold + j)
        # Without fresh information a country drops off the agenda (issue 10).
        kept = on_agenda & (info >= at(p, P.agenda_memory + j) * threshold)
        # Enough information makes a case the network can take up, one case at a time
        # (001 Phase 1-2); the top of the massacre draw decides, a massacre puts it on at once.
        taken_up = u_massacre >= ONE - hazard(at(p, P.agenda_uptake + j), dt)
        agenda = kept | ((info >= threshold) & (taken_up | massacre) & started)
    else:
        agenda = on_agenda | started
    return info, agenda, massacre, agenda & (not on_agenda)


@rule
def salience(
    political: Any,
    endemic: Any,
    phase: Any,
    on_agenda: Any,
    started: Any,
    naming_lever: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """How strongly a country calls for the network's attention."""
    if on.attention_fading:
        demand = political + at(p, P.endemic_salience + j) * endemic
        # 000, "Respect for human rights": reduced network activity.
        demand = demand * (ONE - at(p, P.attention_release + j) * as_f32(phase == _PHASE5))
    else:
        demand = ONE
    return (demand + naming_lever) * as_f32(on_agenda & started)


@rule
def allocate_attention(
    attention: Any,
    demand: Any,
    total_demand: Any,
    stance: Any,
    dt: Any,
    density: Any,
    naming_lever: Any,
    n_countries: Any,
    p: Any,
    j: int,
) -> Any:
    """The country's share of the network's limited attention, and its campaign.

    ``total_demand`` is the demand of all ``n_countries`` countries of the replicate, added in
    country order. Demand is rationed in proportion when it exceeds capacity; capacity is a
    number of campaigns per country (size-invariant) and grows with world time.
    Returns (attention, campaign).
    """
    capacity = at(p, P.attention_capacity + j) * F32(n_countries) * density
    ration = min(ONE, capacity / max(total_demand, _TINY_TOTAL))
    target = min(demand * ration, ONE)
    attention = attention + dt * at(p, P.attention_rate + j) * (target - attention)
    arguing = (stance == RHETORIC) | (stance == ARGUMENT)
    shaming = ONE + (at(p, P.shaming_gain_concessions + j) - ONE) * as_f32(arguing)
    campaign = attention * shaming * (ONE + naming_lever)
    return attention, campaign
