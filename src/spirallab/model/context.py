"""What a mechanism sees besides the state: the year, world time, covariates, levers and draws."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.model.f32math import exp_array
from spirallab.model.state import B, F


class ParamSet:
    """Parameter values by attribute (``p.information_rate``), as float32 scalars.

    A value may also be a (1, R) row, one value per replicate column, when several parameter
    points are simulated side by side; it broadcasts like a scalar in every mechanism.
    """

    def __init__(self, values: Mapping[str, float | npt.NDArray[np.float32]]) -> None:
        self._values: dict[str, Any] = {
            k: np.float32(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float32)
            for k, v in values.items()
        }

    def __getattr__(self, name: str) -> np.float32:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, float]:
        """The scalar values (per-replicate rows are left out)."""
        return {k: float(v) for k, v in self._values.items() if np.ndim(v) == 0}


@dataclass(frozen=True)
class Switches:
    """Which mechanisms are on (names as in the scenario's [mechanisms] table)."""

    boomerang: bool = True
    agenda_setting: bool = True
    egregious_events: bool = True
    denial: bool = True
    vulnerability: bool = True
    insurgency_threat: bool = True
    concessions: bool = True
    entrapment: bool = True
    decapitation: bool = True
    backsliding: bool = True
    prescriptive_status: bool = True
    institutions: bool = True
    pincer: bool = True
    habituation: bool = True
    attention_fading: bool = True
    world_time: bool = True
    treaty_leverage: bool = True
    repressive_episodes: bool = True


@dataclass(frozen=True)
class Levers:
    """Lever strengths in force this step, each shaped (countries, 1) or (countries, replicates).

    Zero means the lever is not active for that country. Phase-restricted levers are already
    masked by the phase at the start of the step.
    """

    aid_conditionality: F
    naming_and_shaming: F
    un_mechanism: F
    bilateral_pressure: F
    withdraw_pressure: F
    fund_domestic_groups: F
    imposed_crackdown: F
    regime_change: F
    any_active: bool


@dataclass(frozen=True)
class Draws:
    """Uniform random numbers for this step, each shaped (countries, replicates).

    The set of draws is fixed whatever happens in the run, so two scenarios that differ only in
    a lever or a mechanism see the same random numbers (common random numbers).
    """

    phase: F  # the government's transition or crisis this step (competing risks)
    choice: F  # which of the competing outcomes, and the route to prescriptive status
    massacre: F
    institution: F
    ratification: F
    lever: F


@dataclass(frozen=True)
class Context:
    """Everything exogenous for one step."""

    year: float
    dt: F  # (countries, 1): step length in years, 0 for countries not yet started
    density: np.float32  # world-time norm density in [0, 1]
    started: B  # (countries, 1): the country moves in this step (its start year has passed)
    present: B  # (countries, 1): the country is recorded this year (start year or later)
    material_vulnerability: F  # (countries, 1)
    social_vulnerability: F
    strategic_interest: F
    insurgency: F  # (countries, 1): 1.0 while an insurgency is active
    security_control: F
    civil_society: F
    base_repression: F  # the government's own preferred political repression
    endemic_base: F
    levers: Levers
    draws: Draws
    params: ParamSet
    on: Switches


def hazard_to_probability(rate: F, dt: F) -> F:
    """Probability of at least one event in a step of ``dt`` years at a constant yearly rate."""
    # The model's own exp (f32math), the one the compiled kernel uses, so both round alike.
    out: F = np.float32(1.0) - exp_array(-rate * dt)
    return out
