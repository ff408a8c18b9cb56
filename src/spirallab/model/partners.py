"""International partners: pressure from above.

Seeds: 001 "Phase 2" (networks lobby Western states, reminding them of their identity as
promoters of human rights), 001 "Phase 3" (late in concessions donors coordinate aid), issue 2
(pressure damped by strategic interests; aid conditionality, bilateral pressure, UN and regional
mechanisms, withdrawal of pressure as levers).

A scalar float32 rule for one country-replicate (see :mod:`spirallab.model.rules`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spirallab.model.f32math import at
from spirallab.model.rules import ONE, P, as_f32, rule

_PHASE3 = np.float32(3.0)


@rule
def press_from_above(
    pressure_above: Any,
    attention: Any,
    mobilisation: Any,
    phase: Any,
    ratified_protocols: Any,
    dt: Any,
    density: Any,
    material_vulnerability: Any,
    strategic_interest: Any,
    bilateral_lever: Any,
    aid_lever: Any,
    un_lever: Any,
    withdraw_lever: Any,
    p: Any,
    j: int,
    on: Any,
) -> Any:
    """Partners' pressure moves toward what lobbying, identity, interests and levers call for."""
    target = (
        at(p, P.bilateral_pressure_gain + j) * bilateral_lever
        + at(p, P.aid_leverage + j) * aid_lever * material_vulnerability
        + at(p, P.un_pressure + j) * un_lever
    )
    if on.treaty_leverage:
        # Treaty bodies keep watching after the network's attention has moved on.
        target = target + at(p, P.treaty_monitoring + j) * as_f32(ratified_protocols)
    if on.boomerang:
        # Identity as a promoter of human rights grows with world time (001 World time).
        lobbying = at(p, P.lobbying_efficacy + j) * density * attention
        late_concessions = (phase == _PHASE3) & (
            mobilisation >= at(p, P.mobilisation_threshold + j)
        )
        lobbying = lobbying * (ONE + at(p, P.donor_coordination + j) * as_f32(late_concessions))
        target = target + lobbying * (ONE - strategic_interest)
    target = min(target, ONE) * (ONE - withdraw_lever)
    return pressure_above + dt * at(p, P.pressure_rate + j) * (target - pressure_above)
