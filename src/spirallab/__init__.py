"""Spiral Lab: the spiral model of human rights change, executable and testable against data."""

from __future__ import annotations

from spirallab.api import simulate
from spirallab.errors import InputError, SpiralLabError
from spirallab.model.result import SimulationResult
from spirallab.scenarios.schema import Country, Lever, Scenario

__version__ = "0.1.0"

__all__ = [
    "Country",
    "InputError",
    "Lever",
    "Scenario",
    "SimulationResult",
    "SpiralLabError",
    "__version__",
    "simulate",
]
