"""Fixtures shared by tests/model: small one-country scenarios with defenders (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from spirallab.scenarios.load import parse_scenario
from spirallab.scenarios.schema import Scenario


def defender_scenario(
    groups: list[dict[str, Any]],
    levers: list[dict[str, Any]] | None = None,
    defenders: dict[str, Any] | None = None,
    country: dict[str, Any] | None = None,
    mechanisms: dict[str, bool] | None = None,
    parameters: dict[str, float] | None = None,
    start: int = 1990,
    end: int = 2010,
) -> Scenario:
    """One country that stays in denial unless told otherwise (no concessions), so that the
    threats defenders face are the same in every variant of a pattern test."""
    c: dict[str, Any] = {
        "id": "TST",
        "name": "Testland",
        "start": start,
        "initial_phase": 2,
        "repression": 0.7,
        "material_vulnerability": 0.8,
        "social_vulnerability": 0.8,
        "defenders": groups,
    }
    c.update(country or {})
    data: dict[str, Any] = {
        "name": "defenders-test",
        "end": end,
        "countries": [c],
        "levers": [
            {"kind": k["kind"], "targets": ["TST"], "start": start, "end": end, **k}
            for k in (levers or [])
        ],
        "mechanisms": {"concessions": False, **(mechanisms or {})},
        "parameters": parameters or {},
    }
    if defenders is not None:
        data["defenders"] = defenders
    return parse_scenario(data)


@pytest.fixture(scope="session")
def make_defenders() -> Callable[..., Scenario]:
    """:func:`defender_scenario`, for tests."""
    return defender_scenario
