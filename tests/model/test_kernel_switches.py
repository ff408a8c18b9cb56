"""The kernel's version with every switch a constant gives what the version reading them gives.

With every mechanism switch on, ``run_tile`` replaces the switches it is given by a constant of
its own, all on (kernel.py, ``all_switches_on``), so the compiler drops their tests from the lane
loops. Here the same runs are made through the version that reads the switches (as runs with a
switch off do), and the results must be equal bit for bit; the twin, a switch off, must change
them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab import Scenario, simulate
from spirallab.model import kernel
from spirallab.scenarios.load import load_scenario


def _run(step: float = 1.0, off: tuple[str, ...] = (), levers: bool = False) -> Any:
    d = load_scenario("book-eleven").model_dump(mode="json")
    d["mechanisms"].update({m: False for m in off})
    if step != 1.0:
        d["step"] = step
    if levers:
        d["levers"] = [
            {"kind": kind, "start": 1960, "end": 2010, "strength": 0.3}
            for kind in ("imposed_crackdown", "naming_and_shaming", "aid_conditionality")
        ]
    return simulate(Scenario.model_validate(d), replicates=40, seed=7)


def _same(a: Any, b: Any) -> bool:
    if not np.array_equal(a.records, b.records):
        return False
    pd.testing.assert_frame_equal(a.events, b.events)
    return True


@pytest.mark.parametrize(("step", "levers"), [(1.0, False), (0.25, False), (1.0, True)])
def test_constant_switches_equal_read_switches(
    monkeypatch: pytest.MonkeyPatch, step: float, levers: bool
) -> None:
    assert kernel.all_switches_on(kernel._ALL_ON) == (True,)
    constant = _run(step, levers=levers)
    monkeypatch.setattr(kernel, "all_switches_on", lambda on: ())
    assert _same(constant, _run(step, levers=levers))


def test_a_switch_off_changes_the_run() -> None:
    assert not np.array_equal(_run().records, _run(off=("boomerang",)).records)
