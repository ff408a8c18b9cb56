"""Summary outputs of one point: what a sweep keeps instead of every trajectory.

Each point yields one row per country and one pooled row (``country = "ALL"``, statistics over
every country-replicate). Column names are stable and documented in docs/experiments.md:

- ``p_phase{k}_by_{Y}``: share of runs that reached phase k (or higher) by the end of year Y;
- ``years_in_phase{k}``: median number of recorded years spent in phase k;
- ``backsliding``: share of runs whose phase fell at least once;
- ``final_repression`` and ``final_phase``: means in each country's last shown year.

Like a run's summary, every statistic stops at a country's ``end`` (the engine simulates the
years after it, but they are never shown).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.experiments.spec import Outputs
from spirallab.model.defender_results import DEFENDER_COLUMNS, defender_outputs
from spirallab.model.result import SimulationResult

POOLED = "ALL"


def output_columns(outputs: Outputs, by_years: list[int]) -> list[str]:
    """The summary columns an experiment produces, in order."""
    cols: list[str] = []
    for kind in outputs.statistics:
        if kind == "p_reach":
            cols += [f"p_phase{k}_by_{y}" for y in by_years for k in range(2, 6)]
        elif kind == "years_in_phase":
            cols += [f"years_in_phase{k}" for k in range(1, 6)]
        elif kind == "defenders":  # issue 11
            cols += list(DEFENDER_COLUMNS)
        else:
            cols.append(kind)
    return cols


def summarise(result: SimulationResult, outputs: Outputs, by_years: list[int]) -> pd.DataFrame:
    """One row per country plus the pooled row; columns as :func:`output_columns`."""
    ids = [*result.country_ids, POOLED]
    first = result.first_year_reached(shown=True)  # (5, C, R)
    phases = result.shown_phases()  # (Y, C, R), 0 outside start..end
    # Row of each country's last shown year (its end, else the run's last year).
    last = np.searchsorted(result.years, result.country_ends())
    cols = np.arange(len(result.country_ids))
    table: dict[str, npt.NDArray[np.float64]] = {}

    def per_country(x: npt.NDArray[np.float64], how: str) -> npt.NDArray[np.float64]:
        # x: (C, R) values per run -> (C + 1,) with the pooled statistic last.
        f = np.mean if how == "mean" else np.median
        return np.append(f(x, axis=1), f(x))

    for kind in outputs.statistics:
        if kind == "p_reach":
            for y in by_years:
                for k in range(2, 6):
                    reached = (first[k - 1] <= y).astype(np.float64)  # NaN compares False
                    table[f"p_phase{k}_by_{y}"] = per_country(reached, "mean")
        elif kind == "years_in_phase":
            for k in range(1, 6):
                years = (phases == k).sum(axis=0).astype(np.float64)
                table[f"years_in_phase{k}"] = per_country(years, "median")
        elif kind == "backsliding":
            back = result.backslid(shown=True).astype(np.float64)
            table["backsliding"] = per_country(back, "mean")
        elif kind == "final_repression":
            rep = result.array("repression")[last, cols].astype(np.float64)
            table["final_repression"] = per_country(rep, "mean")
        elif kind == "final_phase":
            final = result.phases[last, cols].astype(np.float64)
            table["final_phase"] = per_country(final, "mean")
        elif kind == "defenders":  # issue 11
            table.update(defender_outputs(result))
    frame = pd.DataFrame(table)
    frame.insert(0, "country", ids)
    return frame


def trajectories(result: SimulationResult) -> pd.DataFrame:
    """Phase and repression per replicate, country and year (compact dtypes).

    Years before a country's start (phase 0) and after its ``end`` are left out, as in
    ``SimulationResult.to_frame``.
    """
    ph = result.phases
    rep = result.array("repression")
    n_y, n_c, n_r = ph.shape
    frame = pd.DataFrame(
        {
            "country": pd.Categorical(np.repeat(result.country_ids, n_r).tolist() * n_y),
            "replicate": np.tile(np.arange(n_r, dtype=np.int32), n_y * n_c),
            "year": np.repeat(result.years.astype(np.int16), n_c * n_r),
            "phase": ph.reshape(-1).astype(np.int8),
            "repression": rep.reshape(-1).astype(np.float32),
        }
    )
    # Rows as in a run's results: from each country's start to its end (if it has one).
    shown = np.repeat(result.active().reshape(-1), n_r)
    return frame[shown & (frame["phase"] > 0).to_numpy()].reset_index(drop=True)
