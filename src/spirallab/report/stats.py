"""The numbers behind the report: small pure functions over the tidy results and events frames.

Every function here is vectorised (pandas groupby, numpy) because the report must stay quick for
150 countries x 100 replicates x 80 years; none loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

PHASES: tuple[int, ...] = (1, 2, 3, 4, 5)
# Phases a country can enter after its start (it starts in repression).
LATER_PHASES: tuple[int, ...] = (2, 3, 4, 5)

RESULTS_COLUMNS: tuple[str, ...] = (
    "replicate",
    "country",
    "country_name",
    "year",
    "phase",
    "repression",
    "repression_political",
)
EVENTS_COLUMNS: tuple[str, ...] = ("replicate", "country", "year", "event")
REFERENCE_COLUMNS: tuple[str, ...] = ("country", "label", "year", "year_end", "phase")

FAN_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` naming the missing columns if ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {', '.join(missing)}")


def check_phases(results: pd.DataFrame) -> None:
    """Raise ``ValueError`` if a phase lies outside 1-5 (shares would then not sum to one)."""
    if results.empty:
        return
    if results["phase"].isna().any():
        raise ValueError("results: phase is missing in some rows")
    phase = results["phase"].to_numpy(dtype=np.int64)
    lo, hi = int(phase.min()), int(phase.max())
    if lo < PHASES[0] or hi > PHASES[-1]:
        raise ValueError(f"results: phase must lie in 1-5, found values from {lo} to {hi}")


def phase_shares(results: pd.DataFrame, by: Sequence[str] = ("country", "year")) -> pd.DataFrame:
    """Share of rows in each phase per group: P(phase = k | country, year) across replicates.

    Returns one row per group (index ``by``) and one column per phase 1-5, each row summing to 1.
    With ``by=("year",)`` it gives the share of all country-replicates in each phase per year,
    among the countries whose repression has already begun.
    """
    keys = list(by)
    counts = (
        results.groupby([*keys, "phase"], sort=True)
        .size()
        .unstack("phase", fill_value=0)
        .reindex(columns=list(PHASES), fill_value=0)
    )
    counts.columns.name = "phase"
    totals = counts.sum(axis=1).to_numpy(dtype=np.float64)
    shares = counts.to_numpy(dtype=np.float64) / totals[:, None]
    return pd.DataFrame(shares, index=counts.index, columns=counts.columns)


def repression_fan(results: pd.DataFrame) -> pd.DataFrame:
    """Quantiles of overall repression across replicates per country-year, for fan charts.

    Columns ``q05 q25 q50 q75 q95`` (overall repression), ``political`` (median of high-profile
    political repression) and, when the results carry it, ``endemic`` (median endemic abuse).
    """
    grouped = results.groupby(["country", "year"], sort=True)
    fan = grouped["repression"].quantile(list(FAN_QUANTILES)).unstack()
    fan.columns = [f"q{round(q * 100):02d}" for q in FAN_QUANTILES]
    fan["political"] = grouped["repression_political"].median()
    if "repression_endemic" in results.columns:
        fan["endemic"] = grouped["repression_endemic"].median()
    return fan


def first_entry_years(results: pd.DataFrame, phases: Sequence[int] = LATER_PHASES) -> pd.DataFrame:
    """Year each replicate-country first reached each phase: the first year at phase k or above.

    "At or above" because a regime change can skip a phase; a country that jumps from denial to
    prescriptive status has reached tactical concessions too. One row per (replicate, country),
    one column per phase, NaN where the phase was never reached by the end year.
    """
    keys = ["replicate", "country"]
    index = results[keys].drop_duplicates().set_index(keys).index.sort_values()
    out = pd.DataFrame(index=index)
    phase = results["phase"].to_numpy(dtype=np.int64)
    for k in phases:
        reached = results.loc[phase >= k]
        out[k] = reached.groupby(keys, sort=True)["year"].min().reindex(index).astype("float64")
    return out


def years_in_phase(results: pd.DataFrame) -> pd.DataFrame:
    """Years each replicate-country spent in each phase, all spells summed.

    Counts rows, so one row must be one year. Spells still running in the end year are cut there
    (right-censored). One row per (replicate, country), one column per phase 1-5 (0 if never).
    """
    return (
        results.groupby(["replicate", "country", "phase"], sort=True)
        .size()
        .unstack("phase", fill_value=0)
        .reindex(columns=list(PHASES), fill_value=0)
    )


def final_phase(results: pd.DataFrame) -> pd.Series:
    """Phase of each replicate-country in its last simulated year (index: replicate, country)."""
    last = results.groupby(["replicate", "country"], sort=True)["year"].idxmax()
    return pd.Series(
        results.loc[last.to_numpy(), "phase"].to_numpy(), index=last.index, name="phase"
    )


def event_rates(events: pd.DataFrame, replicates: int) -> pd.DataFrame:
    """Mean number of events of each kind per replicate: a row per country, a column per kind."""
    if events.empty or replicates <= 0:
        return pd.DataFrame()
    counts = events.groupby(["country", "event"], sort=True).size().unstack("event", fill_value=0)
    return counts / float(replicates)


def timing_errors(entry_years: pd.Series, first: int, last: int) -> npt.NDArray[np.float64]:
    """Simulated minus historical year for the replicates that reach the phase.

    Zero inside the historical span ``first``..``last``, negative before it (early), positive
    after it (late): both directions count, unlike a share reached by the outcome year.
    """
    years = entry_years.dropna().to_numpy(dtype=np.float64)
    return np.where(years < first, years - first, np.where(years > last, years - last, 0.0))
