"""The world from data: mapping rules, and a world of the real panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spirallab.confront.world import _phase_at, _spells


def test_conflict_years_become_spells() -> None:
    # Gaps of one year are joined; a spell still running at the cut stays open.
    assert _spells([1990, 1991, 1993, 1997, 1998], until=2000) == [(1990, 1993), (1997, 1998)]
    assert _spells([1995, 1996, 2000], until=2000) == [(1995, 1996), (2000, None)]
    assert _spells([], until=2000) == []


def test_initial_phase_from_the_coder_probabilities() -> None:
    years = np.array([1990, 1991, 1992])
    uniform12 = [0.5, 0.5, 0, 0, 0]
    uniform45 = [0, 0, 0, 0.5, 0.5]
    nan = [np.nan] * 5
    probs = np.array([uniform12, nan, uniform45])
    assert _phase_at(probs, years, 0, overall=0.8) == 1
    assert _phase_at(probs, years, 2, overall=0.2) == 4
    # Undecidable year: the nearest coded year (ties: the earlier index first in the order).
    assert _phase_at(probs, years, 1, overall=0.2) in (1, 4)
    # Nothing coded nearby: repression decides.
    none = np.array([nan, nan, nan])
    assert _phase_at(none, years, 1, overall=0.8) == 1
    assert _phase_at(none, years, 1, overall=0.2) == 3


@pytest.mark.realdata
def test_world_of_the_real_panel(shared_data: Path) -> None:
    from spirallab.confront.record import load_record
    from spirallab.confront.world import world_countries

    record = load_record(shared_data, until=1995)
    countries, starts = world_countries(record, 1990)
    assert len(countries) > 100
    assert all(1990 <= c.start <= 1995 for c in countries)
    by_id = {s.country_id: s for s in starts}
    # The mapping follows the data: a country's overall repression is (PTS - 1) / 4 of its
    # scores, so it lies in [0, 1] and is higher where PTS is higher.
    assert all(0.0 <= s.repression <= 1.0 for s in starts)
    panel = record.panel
    at = panel[(panel["year"] == 1990) & panel["pts_s"].notna()].set_index("country_id")
    common = [c for c in at.index if c in by_id and by_id[c].start == 1990]
    high = [by_id[c].repression for c in common if at.loc[c, "pts_s"] >= 4]
    low = [by_id[c].repression for c in common if at.loc[c, "pts_s"] <= 2]
    assert high and low and min(high) > max(low)
    # Every repression value is consistent with the political/endemic split.
    for c in countries:
        overall = 1 - (1 - c.repression) * (1 - c.endemic_abuse)
        assert abs(overall - by_id[c.id].repression) < 1e-3
