"""The paired country bootstrap of score differences recovers known differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spirallab.confront.score import interval_table, paired_bootstrap


def synthetic_scores(countries: int, gap: float, seed: int = 0, years: int = 9) -> pd.DataFrame:
    """Two methods on the same rows: 'spiral' = 'persistence' + gap + country and row noise.

    Each country has a large shared difficulty (common to both methods) and its own gap
    offset, so the right interval is set by the number of countries, not of rows.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(countries):
        difficulty = rng.normal(-1.0, 1.0)
        offset = rng.normal(0.0, 0.1)
        for h in range(1, years + 1):
            for target in ("pts_a", "phase"):
                base = difficulty + rng.normal(0.0, 0.3)
                own = gap + offset + rng.normal(0.0, 0.05) + (0.02 * h if gap else 0.0)
                key = {"country_id": f"C{c:03d}", "year": 2000 + h, "target": target,
                       "horizon": h}
                rows.append({**key, "method": "persistence", "log_score": base})
                rows.append({**key, "method": "spiral", "log_score": base + own})
    return pd.DataFrame(rows)


def test_known_difference_recovered_and_interval_shrinks() -> None:
    small = paired_bootstrap(synthetic_scores(30, 0.1, seed=1), "spiral", draws=1000)
    large = paired_bootstrap(synthetic_scores(480, 0.1, seed=2), "spiral", draws=1000)
    for b in (small, large):
        row = b.iloc[0]
        assert row["method"] == "persistence"
        # The mean gap is 0.1 + 0.02 * mean horizon (5) = 0.2; the interval holds it.
        assert row["lo"] < 0.2 < row["hi"]
    w_small = float(small["hi"].iloc[0] - small["lo"].iloc[0])
    w_large = float(large["hi"].iloc[0] - large["lo"].iloc[0])
    # 16 times the countries: about a quarter of the width (the country offsets dominate).
    assert w_large < 0.4 * w_small
    assert w_large > 0.1 * w_small
    # The width matches the country-level spread: 90% of a normal, sd 0.1 / sqrt(30).
    assert w_small == pytest.approx(2 * 1.645 * 0.1 / np.sqrt(30), rel=0.35)


def test_pairing_removes_shared_difficulty() -> None:
    # Country difficulty has sd 1.0; unpaired intervals would be ~10 times wider.
    b = paired_bootstrap(synthetic_scores(40, 0.0, seed=3), "spiral", draws=1000)
    row = b.iloc[0]
    assert row["lo"] < 0.0 < row["hi"]
    assert row["hi"] - row["lo"] < 0.15


def test_per_horizon_intervals_follow_the_horizon_trend() -> None:
    b = paired_bootstrap(synthetic_scores(200, 0.1, seed=4), "spiral", by="horizon", draws=500)
    assert list(b["horizon"]) == list(range(1, 10))
    assert (b["countries"] == 200).all()
    assert (b["rows"] == 400).all()
    for _, r in b.iterrows():
        truth = 0.1 + 0.02 * r["horizon"]
        assert r["lo"] < truth < r["hi"]
    assert b["difference"].iloc[-1] > b["difference"].iloc[0]


def test_countries_resampled_whole_not_rows() -> None:
    # One country with a huge gap: a country bootstrap sees it in or out (wide interval),
    # a row bootstrap would average it away.
    s = synthetic_scores(20, 0.0, seed=5)
    big = (s["country_id"] == "C000") & (s["method"] == "spiral")
    s.loc[big, "log_score"] += 2.0
    b = paired_bootstrap(s, "spiral", draws=2000).iloc[0]
    assert b["difference"] == pytest.approx(0.1, abs=0.02)  # 2.0 / 20 countries
    assert b["hi"] - b["lo"] > 0.25


def test_seeded_and_readable() -> None:
    s = synthetic_scores(25, 0.1, seed=6)
    a = paired_bootstrap(s, "spiral", draws=300, seed=9)
    b = paired_bootstrap(s, "spiral", draws=300, seed=9)
    pd.testing.assert_frame_equal(a, b)
    table = interval_table(paired_bootstrap(s, "spiral", by="horizon", draws=300), "horizon")
    assert list(table.columns) == ["persistence"] and len(table) == 9
    cell = table.iloc[0, 0]
    assert cell.startswith("+0.") and "[" in cell
    with pytest.raises(ValueError, match="no method"):
        paired_bootstrap(s, "realist")
