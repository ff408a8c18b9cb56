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
    only3 = [0, 0, 1.0, 0, 0]
    nan = [np.nan] * 5
    probs = np.array([uniform12, nan, only3])

    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng(k)

    # A draw from the coder's probabilities (issue 10: the floor of the mean put every "1|2" in
    # phase 1), so that the starting shares match the record's in expectation.
    draws = [_phase_at(probs, years, 0, 0.8, rng(k)) for k in range(400)]
    assert set(draws) == {1, 2}
    assert 0.4 <= draws.count(1) / len(draws) <= 0.6
    assert _phase_at(probs, years, 2, 0.2, rng(0)) == 3
    # Undecidable year: the nearest coded year (ties: the earlier index first in the order).
    assert _phase_at(probs, years, 1, 0.2, rng(0)) in (1, 2)
    # Nothing coded nearby: repression decides.
    none = np.array([nan, nan, nan])
    assert _phase_at(none, years, 1, 0.8, rng(0)) == 1
    assert _phase_at(none, years, 1, 0.2, rng(0)) == 3


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
    # Observed ratifications up to the start only, never before a treaty opened (issue 10).
    flagged = panel[panel["year"] <= 1995]
    for c in countries:
        if c.ratified is None:
            continue
        for treaty, year in c.ratified.items():
            assert year <= c.start and year >= {"iccpr": 1966, "cat": 1984}[treaty]
            rows = flagged[(flagged["country_id"] == c.id) & (flagged["year"] == c.start)]
            assert rows.empty or bool(rows[f"ratified_{treaty}"].iloc[0])
    assert sum(1 for c in countries if c.ratified and len(c.ratified) == 2) >= 10


def test_the_practice_is_split_by_cirights_composition() -> None:
    """Ninth round (issue 10): PTS sets the level, CIRI's components the composition."""
    from spirallab.confront.world import EVEN_SPLIT, split_practice

    for overall in (0.0, 0.1, 0.5, 0.9):
        for share in (0.0, 0.25, EVEN_SPLIT, 1.0):
            pol, end = split_practice(overall, share)
            assert 1 - (1 - pol) * (1 - end) == pytest.approx(overall, abs=1e-12)
    # More political abuse, a larger political part; both above 0 when the share is inside.
    lo, _ = split_practice(0.5, 0.2)
    hi, _ = split_practice(0.5, 0.8)
    assert 0 < lo < hi
    pol, end = split_practice(0.5, EVEN_SPLIT)
    assert pol == pytest.approx(end)
    assert split_practice(0.4, 1.0) == pytest.approx((0.4, 0.0))


def test_the_political_share_reads_the_components_near_the_start() -> None:
    import pandas as pd

    from spirallab.confront.world import EVEN_SPLIT, _political_share

    panel = pd.DataFrame(
        {
            "year": [1980, 1982, 1983],
            "cirights_tort": [None, 0, 0],
            "cirights_kill": [None, 2, 2],
            "cirights_disap": [None, 2, 2],
            "cirights_polpris": [None, 0, 0],
            "ciri_tort": [None, None, 1],
            "ciri_kill": [None, None, 1],
            "ciri_disap": [None, None, 1],
            "ciri_polpris": [None, None, 1],
        }
    )
    # CIRIGHTS first: political abuse (0 + 0 + 1) / 3 beside torture's 1.
    assert _political_share(panel, 1983) == pytest.approx(0.25)
    # Nothing scored within the lookback (CIRI starts in 1981): the even split.
    assert _political_share(panel, 1980) == EVEN_SPLIT
    # Only CIRI scores torture: its own components.
    only_ciri = panel.assign(**{c: None for c in panel.columns if c.startswith("cirights")})
    assert _political_share(only_ciri, 1983) == pytest.approx(0.5)
