"""The observed record, cut at a year before anything reads it.

Every command of this pillar reads the data through :func:`load_record`: the harmonised panel is
loaded, rows after ``until`` are dropped, and only then is the phase coder run on what is left,
so no coded phase, proxy or baseline can see a later value. Phase probabilities come from the
coder's ``p1``..``p5`` columns when it provides them (coder 2.0.0), else uniformly over its
``phase_set``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.errors import InputError

PTS_SOURCES: tuple[str, ...] = ("pts_a", "pts_h", "pts_s")
PHASE_COLUMNS: tuple[str, ...] = ("p1", "p2", "p3", "p4", "p5")

# Test hook for the no-look-ahead test: a number of years the cut lets through after ``until``.
# It is 0 in every real use; a test sets it to 1 to show that the look-ahead test can fail.
_LEAK_YEARS = 0


@dataclass(frozen=True)
class Record:
    """The panel and its coded phases up to ``until`` (inclusive)."""

    panel: pd.DataFrame
    coded: pd.DataFrame  # country_id, year, phase, phase_set, p1..p5 (NaN where undecidable)
    until: int
    first_year: int
    data_dir: str

    def observed(self) -> pd.DataFrame:
        """One row per country-year with any PTS score or a coded phase: pts_*, p1..p5, polity2."""
        cols = ["country_id", "year", *PTS_SOURCES, "polity2", "fariss_theta"]
        df = self.panel[cols].merge(
            self.coded[["country_id", "year", *PHASE_COLUMNS]], on=["country_id", "year"]
        )
        has = df[list(PTS_SOURCES)].notna().any(axis=1) | df["p1"].notna()
        return df[has].reset_index(drop=True)


def phase_probabilities(coded: pd.DataFrame) -> pd.DataFrame:
    """``p1``..``p5`` per coded row: the coder's own columns if present, else uniform over the set.

    Undecidable rows (empty set) get NaN in all five columns, and so do rows that coder 2.0.0
    puts mostly (p0 >= 0.5) in its state 0, outside the spiral; elsewhere p1..p5 are rescaled
    to sum to 1 over what p0 leaves.
    """
    if all(c in coded.columns for c in PHASE_COLUMNS):
        out = coded[list(PHASE_COLUMNS)].astype("float64")
        if "p0" in coded.columns:
            # Coder 2.0.0's state 0 ("not in a repressive situation") has no twin among the
            # model's five phases: a year that is mostly 0 carries no phase information, and
            # otherwise the five phases share what the 0 leaves.
            p0 = coded["p0"].astype("float64").fillna(0.0)
            rest = out.sum(axis=1)
            out = out.div(rest.where(rest > 0), axis=0)
            out.loc[p0 >= 0.5] = np.nan
        return out.where(out.notna().all(axis=1))
    probs = np.full((len(coded), 5), np.nan)
    for i, text in enumerate(coded["phase_set"].fillna("").astype(str)):
        members = [int(x) for x in text.split("|") if x.strip()]
        if members:
            probs[i] = 0.0
            for k in members:
                probs[i, k - 1] = 1.0 / len(members)
    return pd.DataFrame(probs, columns=list(PHASE_COLUMNS), index=coded.index)


def load_record(data: Path | str, until: int, first_year: int | None = None) -> Record:
    """Load the panel from a data folder, cut it at ``until`` and code its phases.

    ``first_year`` drops earlier rows too (the panel reaches back to 1800 for Polity); the
    default keeps everything up to ``until``. Refuses a ``until`` outside the data's PTS years.
    """
    from spirallab.data import DataSources, load_panel
    from spirallab.observe import code_phases

    data = Path(data)
    panel = load_panel(DataSources.from_dir(data))
    pts_years = panel.loc[panel[list(PTS_SOURCES)].notna().any(axis=1), "year"]
    if pts_years.empty:
        raise InputError("no PTS scores in the data", file=data, expected="a PTS file")
    lo, hi = int(pts_years.min()), int(pts_years.max())
    if not lo <= until <= hi:
        raise InputError(
            "year outside the data",
            file=data,
            found=until,
            expected=f"a year from {lo} to {hi} (the years with PTS scores)",
        )
    keep = panel["year"] <= until + _LEAK_YEARS
    if first_year is not None:
        keep &= panel["year"] >= first_year
    cut = panel[keep].reset_index(drop=True)
    coded = code_phases(cut, casefiles={})
    probs = phase_probabilities(coded)
    coded = pd.concat(
        [
            coded[["country_id", "year", "phase", "phase_set"]].reset_index(drop=True),
            probs.reset_index(drop=True),
        ],
        axis=1,
    )
    return Record(
        panel=cut,
        coded=coded,
        until=until,
        first_year=max(lo, first_year or lo),
        data_dir=str(data),
    )


def pts_range(data: Path | str) -> tuple[int, int]:
    """First and last year with a PTS score (cheap check before work)."""
    from spirallab.data import DataSources, load_panel

    panel = load_panel(DataSources.from_dir(Path(data)))
    years = panel.loc[panel[list(PTS_SOURCES)].notna().any(axis=1), "year"]
    if years.empty:
        raise InputError("no PTS scores in the data", file=data, expected="a PTS file")
    return int(years.min()), int(years.max())


def as_float(values: pd.Series) -> npt.NDArray[np.float64]:
    """A nullable column as float64 with NaN for missing."""
    return values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
