"""International partners: pressure from above.

Seeds: 001 "Phase 2" (networks lobby Western states, reminding them of their identity as
promoters of human rights), 001 "Phase 3" (late in concessions donors coordinate aid), issue 2
(pressure damped by strategic interests; aid conditionality, bilateral pressure, UN and regional
mechanisms, withdrawal of pressure as levers).
"""

from __future__ import annotations

import numpy as np

from spirallab.model.context import Context
from spirallab.model.state import State


def press_from_above(s: State, ctx: Context) -> State:
    """Partners' pressure moves toward what lobbying, identity, interests and levers call for."""
    p, lv, dt = ctx.params, ctx.levers, ctx.dt
    target = (
        p.bilateral_pressure_gain * lv.bilateral_pressure
        + p.aid_leverage * lv.aid_conditionality * ctx.material_vulnerability
        + p.un_pressure * lv.un_mechanism
    )
    if ctx.on.treaty_leverage:
        # Treaty bodies keep watching after the network's attention has moved on.
        target = target + p.treaty_monitoring * s.ratified_protocols
    if ctx.on.boomerang:
        # Identity as a promoter of human rights grows with world time (001 World time).
        lobbying = p.lobbying_efficacy * ctx.density * s.attention
        late_concessions = (s.phase == 3) & (s.mobilisation >= p.mobilisation_threshold)
        lobbying = lobbying * (1.0 + p.donor_coordination * late_concessions)
        target = target + lobbying * (1.0 - ctx.strategic_interest)
    target = np.minimum(target, np.float32(1.0)) * (1.0 - lv.withdraw_pressure)
    above = s.pressure_above + dt * p.pressure_rate * (target - s.pressure_above)
    return s.replace(pressure_above=above)
