"""The kernel's copy of pass 2 without the shock levers gives what the copy with them gives.

Without a track of an imposed crackdown or a regime change the kernel runs a copy of pass 2
that leaves ``government.shock_outcome`` out (kernel.py, ``shocks``). That is exact only
because a zero lever never strikes (``pow32(1, dt)`` is exactly 1): here zero-strength shock
tracks make the kernel run the copy with the rule, and the results must equal a run without
them, bit for bit; the twin, a shock lever with strength, must change them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spirallab import Scenario, simulate
from spirallab.scenarios.load import load_scenario


def _run(levers: list[dict[str, Any]], step: float = 1.0) -> Any:
    d = load_scenario("book-eleven").model_dump(mode="json")
    d["levers"] = levers
    if step != 1.0:
        d["step"] = step
    return simulate(Scenario.model_validate(d), replicates=40, seed=5)


def _shock_tracks(strength: float) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "start": 1960, "end": 2010, "strength": strength}
        for kind in ("imposed_crackdown", "regime_change")
    ]


def _same(a: Any, b: Any) -> bool:
    if not np.array_equal(a.records, b.records):
        return False
    pd.testing.assert_frame_equal(a.events, b.events)
    return True


def test_zero_shock_levers_equal_none() -> None:
    assert _same(_run([]), _run(_shock_tracks(0.0)))


def test_zero_shock_levers_equal_none_with_quarter_steps() -> None:
    assert _same(_run([], step=0.25), _run(_shock_tracks(0.0), step=0.25))


def test_shock_levers_with_strength_change_the_run() -> None:
    assert not np.array_equal(_run([]).records, _run(_shock_tracks(0.3)).records)
