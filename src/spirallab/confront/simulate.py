"""Run a world scenario at many parameter points through the engine's public ``run_points``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spirallab.model.engine import OBSERVABLES, run_points
from spirallab.model.setup import Setup, build_setup
from spirallab.scenarios.schema import Scenario

RECORDED = tuple(n for n in OBSERVABLES if n in ("phase", "repression", "ratified_core"))


@dataclass(frozen=True)
class Trajectories:
    """Simulated phase, overall repression and ICCPR+CAT ratification, (years, countries, N)."""

    years: npt.NDArray[np.int64]
    country_ids: list[str]
    phase: npt.NDArray[np.int8]
    repression: npt.NDArray[np.float32]
    ratified: npt.NDArray[np.float32]


class WorldModel:
    """A world scenario resolved once, simulated at parameter points on demand."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.setup: Setup = build_setup(scenario)

    def run(
        self,
        parameters: Mapping[str, Sequence[float] | npt.NDArray[np.float64]],
        seeds: Sequence[int],
        replicates: int = 1,
    ) -> Trajectories:
        """Point ``i`` (values ``parameters[name][i]``, seed ``seeds[i]``) takes columns
        ``i*replicates .. (i+1)*replicates - 1``. Names not in the model (the observation
        model's) are ignored here."""
        known = {
            k: np.asarray(v, dtype=np.float64)
            for k, v in parameters.items()
            if k in self.setup.params
        }
        rec = run_points(self.setup, list(seeds), replicates, known, observables=RECORDED)
        return Trajectories(
            years=self.setup.years,
            country_ids=self.setup.country_ids,
            phase=rec[:, RECORDED.index("phase")].astype(np.int8),
            repression=rec[:, RECORDED.index("repression")],
            ratified=rec[:, RECORDED.index("ratified_core")],
        )
