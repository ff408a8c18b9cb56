"""Domestic society: mobilisation, fear, key leaders and links abroad.

Seeds: 000 (activism too dangerous under repression; activists emboldened and protected by
international links once concessions begin), 001 "Phase 3" (concessions open space; the
international echo empowers and partly protects; the movement first depends on a handful of
leaders; people lose their fear), 001 purpose 2 of networks (partial protection).

A scalar float32 rule for one country-replicate (see :mod:`spirallab.model.rules`).
"""

from __future__ import annotations

from typing import Any

from spirallab.model.f32math import at
from spirallab.model.rules import ONE, RHETORIC, ZERO, P, as_f32, rule


@rule
def mobilise(
    mobilisation: Any,
    fear: Any,
    linkage: Any,
    key_leaders: Any,
    attention: Any,
    political: Any,
    stance: Any,
    dt: Any,
    civil_society: Any,
    un_lever: Any,
    fund_lever: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """Grow or erode the movement, its fear, its leadership and its links abroad.

    Returns (mobilisation, fear, linkage, key_leaders).
    """
    protection = at(p, P.un_protection + j) * un_lever
    echo = ONE
    if on.boomerang:
        reach = attention * linkage
        protection = protection + at(p, P.protection_strength + j) * reach
        echo = ONE + at(p, P.echo_gain + j) * reach
    effective = political * (ONE - min(protection, ONE))
    opened = as_f32(stance >= RHETORIC)
    space = at(p, P.closed_space + j) + (ONE - at(p, P.closed_space + j)) * opened
    funding = ONE + at(p, P.funding_gain + j) * fund_lever

    growth = at(p, P.mobilisation_rate + j) * space * (ONE - fear) * echo * funding
    room = max(civil_society - mobilisation, ZERO)
    grown = mobilisation + dt * (
        growth * room - at(p, P.repression_toll + j) * effective * mobilisation
    )
    grown = min(max(grown, ZERO), civil_society)

    emboldened = ONE - at(p, P.courage + j) * opened
    new_fear = fear + dt * at(p, P.fear_rate + j) * (effective * emboldened - fear)
    new_linkage = linkage
    if on.boomerang:
        pull = (attention + mobilisation) * funding
        new_linkage = linkage + dt * (
            at(p, P.linkage_rate + j) * pull * (ONE - linkage)
            - at(p, P.linkage_erosion + j) * effective * linkage
        )
    leaders = key_leaders + dt * at(p, P.leader_growth + j) * mobilisation
    return grown, new_fear, new_linkage, leaders
