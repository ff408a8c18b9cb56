"""Domestic society: mobilisation, fear, key leaders and links abroad.

Seeds: 000 (activism too dangerous under repression; activists emboldened and protected by
international links once concessions begin), 001 "Phase 3" (concessions open space; the
international echo empowers and partly protects; the movement first depends on a handful of
leaders; people lose their fear), 001 purpose 2 of networks (partial protection).
"""

from __future__ import annotations

import numpy as np

from spirallab.model.context import Context
from spirallab.model.state import RHETORIC, F, State


def mobilise(s: State, ctx: Context) -> State:
    """Grow or erode the movement, its fear, its leadership and its links abroad."""
    p, on, dt, lv = ctx.params, ctx.on, ctx.dt, ctx.levers
    one = np.float32(1.0)
    protection: F = p.un_protection * lv.un_mechanism
    echo: F | np.float32 = one
    if on.boomerang:
        reach = s.attention * s.linkage
        protection = protection + p.protection_strength * reach
        echo = one + p.echo_gain * reach
    effective = s.repression_political * (one - np.minimum(protection, one))
    space = p.closed_space + (one - p.closed_space) * (s.stance >= RHETORIC)
    funding = one + p.funding_gain * lv.fund_domestic_groups

    growth = p.mobilisation_rate * space * (one - s.fear) * echo * funding
    room = np.maximum(ctx.civil_society - s.mobilisation, np.float32(0.0))
    mobilisation = s.mobilisation + dt * (
        growth * room - p.repression_toll * effective * s.mobilisation
    )
    mobilisation = np.minimum(np.maximum(mobilisation, np.float32(0.0)), ctx.civil_society)

    emboldened = one - p.courage * (s.stance >= RHETORIC)
    fear = s.fear + dt * p.fear_rate * (effective * emboldened - s.fear)
    linkage = s.linkage
    if on.boomerang:
        pull = (s.attention + s.mobilisation) * funding
        linkage = linkage + dt * (
            p.linkage_rate * pull * (one - linkage) - p.linkage_erosion * effective * linkage
        )
    leaders = s.key_leaders + dt * p.leader_growth * s.mobilisation
    return s.replace(mobilisation=mobilisation, fear=fear, linkage=linkage, key_leaders=leaders)
