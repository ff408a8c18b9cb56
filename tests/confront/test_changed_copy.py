"""The no-look-ahead tests' changed copy reaches every source and leaves the past alone.

`changed_after` rewrites the published files in place (keeping each one's encoding, line
endings and quirks). If it missed a source, or damaged a row it should not touch, the
no-look-ahead tests would pass for the wrong reason; this checks the panel built from the copy
against the panel built from the originals, column by column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spirallab.data import DataSources, load_panel

from .conftest import changed_after

Panels = tuple[pd.DataFrame, pd.DataFrame]

# Early enough that every source, Hathaway's 1985-1999 included, has years after it.
YEAR = 1995

# Scores moved to another level, so every observed value after YEAR must differ.
EVERY_VALUE = ["pts_a", "pts_h", "pts_s", "fariss_theta", "fariss_sd", "ciri_tort", "ciri_kill",
               "ciri_disap", "ciri_polpris", "cirights_tort", "cirights_kill", "cirights_disap",
               "cirights_polpris", "cirights_physint", "cirights_assn", "hathaway_torture",
               "mass_killing", "mass_killing_onset"]
# Sums and flags: some values after YEAR must differ (polity2's zeros and codes, fatality sums of
# zero, ratifications already in force stay as they were).
SOME_VALUES = ["polity2", "osv_gov_deaths", "osv_nonstate_deaths", "ratified_iccpr",
               "ratified_cat", "ratified_opcat", "ratified_cped"]


def _later(panels: Panels, column: str) -> tuple[pd.Series, pd.Series]:
    """``column`` after YEAR in the original and the changed panel, by country and year."""
    a, b = (p[p["year"] > YEAR].set_index(["country_id", "year"])[column] for p in panels)
    return a, b


@pytest.fixture(scope="module")
def panels(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Panels:
    changed = changed_after(shared_data, tmp_path_factory.mktemp("changed") / "data", YEAR)
    a = load_panel(DataSources.from_dir(shared_data))
    b = load_panel(DataSources.from_dir(changed))
    return a, b


@pytest.mark.realdata
def test_the_past_is_untouched(panels: Panels) -> None:
    a, b = panels
    assert list(a.columns) == list(b.columns)
    past_a = a[a["year"] <= YEAR].reset_index(drop=True)
    past_b = b[b["year"] <= YEAR].reset_index(drop=True)
    assert len(past_a) > 1000
    pd.testing.assert_frame_equal(past_a, past_b)


@pytest.mark.realdata
@pytest.mark.parametrize("column", EVERY_VALUE)
def test_every_later_score_changes(panels: Panels, column: str) -> None:
    later_a, later_b = _later(panels, column)
    seen = later_a.notna()
    if not seen.any():  # PTS_H, for one, starts after this copy of the data ends
        pytest.skip(f"{column} has no values after {YEAR} in this copy of the data")
    assert later_b[seen].notna().all()
    same = (later_a[seen].astype("float64") == later_b[seen].astype("float64"))
    assert not same.any(), f"{column}: {int(same.sum())} later values unchanged"


@pytest.mark.realdata
@pytest.mark.parametrize("column", SOME_VALUES)
def test_later_sums_and_flags_change(panels: Panels, column: str) -> None:
    later_a, later_b = _later(panels, column)
    differ = later_a.astype("float64").fillna(-1e9) != later_b.astype("float64").fillna(-1e9)
    assert differ.any(), f"{column}: nothing after {YEAR} changed"


@pytest.mark.realdata
def test_the_copy_keeps_each_files_format(shared_data: Path, tmp_path: Path) -> None:
    changed = changed_after(shared_data, tmp_path / "data", YEAR)
    for name in ("ciri", "cirights", "pts"):
        before = next((shared_data / name).glob("*.csv")).read_bytes()
        after = next((changed / name).glob("*.csv")).read_bytes()
        assert before[:3] == after[:3]  # the BOM, where there is one
        for ending in (b"\r\n", b"\r", b"\n"):
            assert (ending in before) == (ending in after), (name, ending)
