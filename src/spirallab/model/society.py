"""Domestic society: mobilisation, fear, key leaders and links abroad.

Seeds: 000 (activism too dangerous under repression; activists emboldened and protected by
international links once concessions begin), 001 "Phase 3" (concessions open space; the
international echo empowers and partly protects; the movement first depends on a handful of
leaders; people lose their fear), 001 purpose 2 of networks (partial protection).

A scalar float32 rule for one country-replicate (see :mod:`spirallab.model.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.model.f32math import at
from spirallab.model.rules import F32, ONE, RHETORIC, ZERO, P, as_f32, rule

F32s = npt.NDArray[np.float32]


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


# A movement in a conceding or accepting state is at least this strong at its start
# (assumption; setup.initial_state; 001 "Phase 3": concessions give the opposition room).
MOVEMENT_IN_CONCESSIONS = F32(0.2)
_TINY_FLOW = F32(1e-9)


def movement_at_rest(
    mobilisation: F32s,
    political: F32s,
    stance: npt.NDArray[np.int8],
    attention: F32s,
    linkage: F32s,
    civil_society: F32s,
    p: Mapping[str, Any],
    on: Any,
) -> tuple[F32s, F32s]:
    """The movement's mobilisation and fear at rest in the starting state (issue 10, ninth round).

    A country started from data (``Scenario.observed_start``) shows a practice that has lived
    with its movement for years, and the preference inferred from it
    (:func:`~spirallab.model.government.preferred_at_rest`) assumes the state is at rest. So
    the movement starts where :func:`mobilise` would hold it in the starting state, no lever
    acting: fear at its target ``effective * emboldened``, and mobilisation where growth into
    the room left (``civil_society - m``) equals the toll of repression, ``m = g c / (g + toll
    * effective)``. A movement that neither grows nor is harmed keeps its value. In phases 3-5
    it is at least :data:`MOVEMENT_IN_CONCESSIONS`, and never above ``civil_society``.

    Unlike the rules above this runs once, on the initial state's arrays (NumPy, float32; ``p``
    holds each parameter as a number or one value per replicate column), so both engines start
    from the same numbers. Returns (mobilisation, fear).
    """
    one, zero = F32(1.0), F32(0.0)
    protection: Any = zero
    echo: Any = one
    if on.boomerang:
        reach = attention * linkage
        protection = F32(p["protection_strength"]) * reach
        echo = one + F32(p["echo_gain"]) * reach
    effective = political * (one - np.minimum(protection, one))
    opened = (stance >= RHETORIC).astype(np.float32)
    closed = F32(p["closed_space"])
    space = closed + (one - closed) * opened
    fear = effective * (one - F32(p["courage"]) * opened)
    growth = F32(p["mobilisation_rate"]) * space * (one - fear) * echo
    flow = growth + F32(p["repression_toll"]) * effective
    rest = np.where(
        flow > _TINY_FLOW, growth * civil_society / np.maximum(flow, _TINY_FLOW), mobilisation
    )
    rest = np.maximum(rest, MOVEMENT_IN_CONCESSIONS * opened)
    out = np.minimum(np.maximum(rest, zero), civil_society)
    return out.astype(np.float32), fear.astype(np.float32)
