"""Statistics of the patterns P1-P12 the model must reproduce (docs/model.md, "Patterns").

Each function reads a :class:`~spirallab.model.result.SimulationResult` and returns plain
numbers, so the same statistic serves the tests, the documentation and later calibration.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from spirallab.model.result import SimulationResult


def _phases(result: SimulationResult) -> npt.NDArray[np.int8]:
    """(years, country-replicates) phase codes, 0 before a country's start."""
    ph = result.phases
    return ph.reshape(ph.shape[0], -1)


def _series(result: SimulationResult, name: str) -> npt.NDArray[np.float32]:
    a = result.array(name)
    return a.reshape(a.shape[0], -1)


def years_in_phase_before(
    result: SimulationResult, phase: int, reached: int
) -> npt.NDArray[np.float64]:
    """Years spent in ``phase`` before first reaching ``reached``, for units that reach it."""
    ph = _phases(result)
    first = np.where((ph >= reached).any(axis=0), (ph >= reached).argmax(axis=0), -1)
    keep = first >= 0
    rows = np.arange(ph.shape[0])[:, None]
    before = rows < first[None, :]
    counts = ((ph == phase) & before).sum(axis=0)
    out: npt.NDArray[np.float64] = counts[keep].astype(np.float64)
    return out


def share_through_denial(result: SimulationResult) -> float:
    """P1: of units that reach phase 3 from phase 1, the share that passed through phase 2."""
    ph = _phases(result)
    reached = (ph == 3).any(axis=0)
    first3 = (ph == 3).argmax(axis=0)
    rows = np.arange(ph.shape[0])[:, None]
    denied = ((ph == 2) & (rows < first3[None, :])).any(axis=0)
    began_repressed = ph.max(axis=0) > 0
    first_active = (ph > 0).argmax(axis=0)
    began_repressed &= ph[first_active, np.arange(ph.shape[1])] == 1
    units = reached & began_repressed
    return float(denied[units].mean()) if units.any() else float("nan")


def backslide_rates(result: SimulationResult) -> dict[int, float]:
    """P3: yearly rate of falling to a lower phase, by the phase fallen from."""
    ph = _phases(result).astype(np.int16)
    prev, nxt = ph[:-1], ph[1:]
    valid = (prev > 0) & (nxt > 0)
    rates: dict[int, float] = {}
    for k in range(1, 6):
        at = valid & (prev == k)
        n = int(at.sum())
        rates[k] = float(((nxt < prev) & at).sum() / n) if n else 0.0
    return rates


def first_year(result: SimulationResult, phase: int) -> npt.NDArray[np.float64]:
    """(countries, replicates): first year at or above ``phase``; NaN where never."""
    out: npt.NDArray[np.float64] = result.first_year_reached()[phase - 1]
    return out


def years_to_phase(result: SimulationResult, phase: int) -> npt.NDArray[np.float64]:
    """(countries, replicates): years from the country's start to first reaching ``phase``."""
    out: npt.NDArray[np.float64] = first_year(result, phase) - result.setup.starts[:, None]
    return out


def share_leaving_denial_within(result: SimulationResult, years: int) -> float:
    """P6: of units that enter denial, the share reaching phase 3 within ``years`` of it."""
    t2 = first_year(result, 2)
    t3 = first_year(result, 3)
    entered = ~np.isnan(t2)
    left = entered & ~np.isnan(t3) & (t3 - t2 <= years)
    return float(left.sum() / entered.sum()) if entered.any() else float("nan")


def returns_to_repression_from_concessions(result: SimulationResult) -> float:
    """P7: share of units that, once in phase 3, fall back to phase 1 or 2 at least once.

    A return to repression is silence or a backlash into denial (000 "Denial/backlash"; issue 10,
    third round: the model's retreats now mostly land in phase 2, as the record's do).
    """
    ph = _phases(result).astype(np.int16)
    was3 = np.maximum.accumulate(ph == 3, axis=0)
    back = (ph >= 1) & (ph <= 2)
    fell = (back & np.vstack([np.zeros((1, ph.shape[1]), bool), was3[:-1]])).any(axis=0)
    reached = (ph == 3).any(axis=0)
    return float(fell[reached].mean()) if reached.any() else float("nan")


def mean_by_phase(result: SimulationResult, name: str) -> dict[int, float]:
    """Mean of an observable over unit-years in each phase."""
    ph = _phases(result)
    x = _series(result, name)
    return {k: float(x[ph == k].mean()) if (ph == k).any() else float("nan") for k in range(1, 6)}


def attention_endemic_only(result: SimulationResult, gross: float = 0.2) -> float:
    """P10: mean attention in prescriptive status where only endemic abuse remains."""
    ph = _phases(result)
    att = _series(result, "attention")
    pol = _series(result, "repression_political")
    end = _series(result, "repression_endemic")
    sel = (ph == 4) & (pol < gross) & (end >= gross)
    return float(att[sel].mean()) if sel.any() else float("nan")


def convergence(result: SimulationResult, phase: int = 4) -> dict[str, float]:
    """P12: median year of reaching ``phase`` per country, their median and spreads."""
    med = np.nanmedian(first_year(result, phase), axis=1)
    starts = result.setup.starts.astype(np.float64)
    return {
        "median_year": float(np.nanmedian(med)),
        "spread_reached": float(np.nanstd(med)),
        "spread_starts": float(np.std(starts)),
        "share_reaching": float((~np.isnan(first_year(result, phase))).mean()),
    }
