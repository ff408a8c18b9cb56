"""Coverage-robust coding: a source that starts, stops or is absent never moves other phases.

Sources are censored on the real panel (one year only; dropped from a year on; absent) and the
coded record is compared. The censoring year is taken inside the panel's own years, never a
fixed calendar year of the development copy. "Churn" is the share of countries whose phase set
changes to a disjoint one from one year to the next (audit.set_churn_by_year).
"""

from __future__ import annotations

import pandas as pd
import pytest

from spirallab.observe.audit import set_churn_by_year
from spirallab.observe.coder import RULES_V1, code_phases

pytestmark = pytest.mark.realdata

SOURCES = {
    "pts": ("pts_a", "pts_h", "pts_s", "pts", "pts_n_sources"),
    "fariss": ("fariss_theta", "fariss_sd"),
    "physint": ("ciri_", "cirights_"),  # prefixes: CIRI and CIRIGHTS together
    "polity": ("polity2",),
}
KEY = ["country_id", "year"]


def _columns(panel: pd.DataFrame, source: str) -> list[str]:
    names = SOURCES[source]
    return [c for c in panel.columns if c in names or any(
        n.endswith("_") and c.startswith(n) for n in names)]


def censor(panel: pd.DataFrame, source: str, keep: pd.Series) -> pd.DataFrame:
    out = panel.copy()
    for c in _columns(panel, source):
        out[c] = out[c].where(keep)
    return out


def _year_with(panel: pd.DataFrame, source: str) -> int:
    """A censoring year well inside the years where the source has values."""
    cols = _columns(panel, source)
    years = panel.loc[panel[cols].notna().any(axis=1), "year"].astype(int)
    return int(years.quantile(0.6))


def _changed(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    m = a[[*KEY, "phase_set"]].merge(b[[*KEY, "phase_set"]], on=KEY, suffixes=("_a", "_b"))
    return m[m["phase_set_a"] != m["phase_set_b"]]


def _churn_ok(coded: pd.DataFrame, year: int) -> tuple[float, float]:
    ch = set_churn_by_year(coded).set_index("year")["churn"]
    before = ch[(ch.index < year) & (ch.index >= year - 12)]
    return float(ch.get(year, 0.0)), float(before.max())


@pytest.fixture(scope="module")
def full(real_panel: pd.DataFrame) -> pd.DataFrame:
    return code_phases(real_panel)


@pytest.mark.parametrize("source", ["pts", "fariss", "physint"])
def test_source_present_in_one_year_only_moves_only_that_year(
    real_panel: pd.DataFrame, source: str
) -> None:
    y = _year_with(real_panel, source)
    years = real_panel["year"].astype(int)
    absent = code_phases(censor(real_panel, source, years < -10_000))
    one = code_phases(censor(real_panel, source, years == y))
    diff = _changed(absent, one)
    assert (diff["year"] < y).sum() == 0, "no look-back: earlier years never change"
    # a year's reading enters the next years only through the trend window and the run of
    # good years; beyond that nothing changes, and inside it very little
    window = 3  # PhaseRulesV2.trend_window
    assert (diff["year"] > y + window).sum() == 0
    later = diff[diff["year"] > y]
    assert len(later) <= 0.02 * real_panel["country_id"].nunique()
    churn_y, usual = _churn_ok(one, y)
    churn_next, _ = _churn_ok(one, y + 1)
    assert churn_y <= usual + 0.02 and churn_next <= usual + 0.02


@pytest.mark.parametrize("source", ["pts", "fariss", "physint", "polity"])
def test_source_dropped_from_a_year_on_does_not_move_earlier_phases_or_spike(
    real_panel: pd.DataFrame, full: pd.DataFrame, source: str
) -> None:
    y = _year_with(real_panel, source)
    dropped = code_phases(censor(real_panel, source, real_panel["year"].astype(int) < y))
    diff = _changed(full, dropped)
    assert (diff["year"] < y).sum() == 0
    churn_y, usual = _churn_ok(dropped, y)
    assert churn_y <= usual + 0.02, f"churn {churn_y:.3f} at the boundary vs {usual:.3f} before"


def test_rules_1_0_0_fail_the_one_year_check(real_panel: pd.DataFrame) -> None:
    """The same check fails for 1.0.0 (a ratification or theta reading carried through a whole
    spell): the test sees the defect it guards against."""
    y = _year_with(real_panel, "pts")
    years = real_panel["year"].astype(int)
    absent = code_phases(censor(real_panel, "pts", years < -10_000), rules=RULES_V1)
    one = code_phases(censor(real_panel, "pts", years == y), rules=RULES_V1)
    diff = _changed(absent, one)
    assert (diff["year"] > y + 3).sum() > 0


def test_no_year_of_the_coded_record_spikes(full: pd.DataFrame) -> None:
    """Churn per year stays within twice its median: no wave where a source starts covering
    more countries (e.g. CIRI adding microstates) or a threshold is reached by many at once."""
    ch = set_churn_by_year(full)
    ch = ch[ch["countries"] >= 100]
    assert len(ch) >= 10
    assert ch["churn"].max() <= 2 * ch["churn"].median(), ch.to_string()


@pytest.mark.parametrize("source", ["pts", "fariss", "physint"])
def test_whole_source_absent_leaves_years_without_it_alone(
    real_panel: pd.DataFrame, full: pd.DataFrame, source: str
) -> None:
    cols = _columns(real_panel, source)
    without = real_panel[cols].isna().all(axis=1)
    years = real_panel["year"].astype(int)
    absent = code_phases(censor(real_panel, source, years < -10_000))
    untouched = real_panel.loc[without, KEY].assign(year=lambda d: d["year"].astype(int))
    diff = _changed(full, absent).merge(untouched, on=KEY)
    # rows that never had the source change only through the years just after it (trend,
    # runs of good years): at most 1% of them
    assert len(diff) <= 0.01 * len(untouched)
