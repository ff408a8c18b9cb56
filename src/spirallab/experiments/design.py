"""Designs: the table of points an experiment runs (one row per point, one column per factor).

Latin hypercube, Saltelli (for Sobol indices) and Morris samples come from SALib; a full grid is
the product of each factor's levels. The table is a pure function of the experiment, so a resumed
or distributed sweep sees exactly the same points.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from spirallab.experiments.spec import DesignKind, Experiment, factor_bounds, grid_levels


def salib_problem(experiment: Experiment) -> dict[str, Any]:
    """The SALib problem dictionary of the experiment's continuous factors."""
    return {
        "num_vars": len(experiment.factors),
        "names": [f.name for f in experiment.factors],
        "bounds": [list(factor_bounds(f)) for f in experiment.factors],
    }


def design_size(experiment: Experiment) -> int:
    """Number of points the design will have, computed without sampling."""
    d = experiment.design
    k = len(experiment.factors)
    if d.kind == DesignKind.grid:
        # Python integers: np.prod wraps around in int64 (64 two-level factors gave 0).
        return math.prod(len(grid_levels(f)) for f in experiment.factors)
    if d.kind == DesignKind.lhs:
        return d.samples
    if d.kind == DesignKind.sobol:
        return d.samples * (2 * k + 2 if d.second_order else k + 2)
    return d.samples * (k + 1)


def sample_points(experiment: Experiment) -> pd.DataFrame:
    """The design matrix: a ``point`` column (0..n-1) and one column per factor."""
    d = experiment.design
    names = [f.name for f in experiment.factors]
    seed = experiment.seed if d.seed is None else d.seed
    if d.kind == DesignKind.grid:
        rows = list(itertools.product(*(grid_levels(f) for f in experiment.factors)))
        table = pd.DataFrame(rows, columns=names)
    else:
        problem = salib_problem(experiment)
        x = _salib_sample(d.kind, problem, d.samples, d.second_order, d.levels, seed)
        table = pd.DataFrame(x, columns=names)
    table.insert(0, "point", np.arange(len(table), dtype=np.int64))
    return table


def _salib_sample(
    kind: DesignKind,
    problem: dict[str, Any],
    samples: int,
    second_order: bool,
    levels: int,
    seed: int,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if kind == DesignKind.lhs:
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, samples, seed=seed))
    if kind == DesignKind.sobol:
        from SALib.sample import sobol

        # Scrambling is seeded, so the same experiment always yields the same points.
        return np.asarray(
            sobol.sample(problem, samples, calc_second_order=second_order, scramble=True, seed=seed)
        )
    from SALib.sample import morris

    return np.asarray(morris.sample(problem, samples, num_levels=levels, seed=seed))
