"""`spirallab compare`: two-sided timing errors, proper scores, report section, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import InputError
from spirallab.observe.compare import (
    CODED_FILE,
    add_coded_section,
    compare_run,
    load_run,
    proper_scores,
    timing_errors,
)

runner = CliRunner()
YEARS = list(range(1970, 2001))


def coded_record(entry4: int = 1990) -> pd.DataFrame:
    """A coded record: phase 2 from 1970, 3 from 1980, 4 from ``entry4``."""
    sets = ["2" if y < 1980 else "3" if y < entry4 else "4" for y in YEARS]
    df = pd.DataFrame({"country_id": "AAA", "name": "Testland", "year": YEARS,
                       "phase_set": sets, "rules_version": "2.0.0"})
    df["phase_lo"] = df["phase_set"].astype(int)
    df["phase_hi"] = df["phase_lo"]
    return df


def simulated(entry4: int, replicates: int = 20, spread: int = 0) -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(1)
    for r in range(replicates):
        e4 = entry4 + (int(rng.integers(-spread, spread + 1)) if spread else 0)
        for y in YEARS:
            rows.append({"replicate": r, "country": "AAA", "year": y,
                         "phase": 2 if y < 1980 else 3 if y < e4 else 4})
    return pd.DataFrame(rows)


def test_timing_errors_are_two_sided() -> None:
    coded = coded_record(1990)
    early = timing_errors(simulated(1984), coded).set_index("phase")
    late = timing_errors(simulated(1996), coded).set_index("phase")
    assert early.loc[4, "median_error"] == -6 and early.loc[4, "early"] == 1.0
    assert late.loc[4, "median_error"] == 6 and late.loc[4, "late"] == 1.0
    assert early.loc[4, "mae"] == late.loc[4, "mae"] == 6
    assert early.loc[3, "median_error"] == 0


def test_scores_penalise_early_arrival() -> None:
    """P(reached by the outcome year) is 1 for a run that arrives early and for one on time;
    the Brier and log scores over all years prefer the one on time."""
    coded = coded_record(1990)
    on_time = proper_scores(simulated(1990), coded).set_index(["country_id", "phase"])
    early = proper_scores(simulated(1980), coded).set_index(["country_id", "phase"])
    late = proper_scores(simulated(2000), coded).set_index(["country_id", "phase"])
    for col in ("brier", "log_score"):
        assert on_time.loc[("AAA", 4), col] < early.loc[("AAA", 4), col]
        assert on_time.loc[("AAA", 4), col] < late.loc[("AAA", 4), col]
    assert ("all", 4) in on_time.index
    assert np.isfinite(early["log_score"]).all()


def test_never_entering_is_censored_not_dropped() -> None:
    coded = coded_record(1990)
    t = timing_errors(simulated(2005), coded).set_index("phase")  # never inside 1970-2000
    assert t.loc[4, "both"] == 0 and t.loc[4, "censored"] == 20
    assert t.loc[4, "censored_bound"] == 2001 - 1990


def test_no_common_country_is_input_error() -> None:
    coded = coded_record().assign(country_id="BBB")
    with pytest.raises(InputError, match="both simulated and coded"):
        compare_run(simulated(1990), coded)


def test_report_section_added_once(tmp_path: Path) -> None:
    page = "<html><body><h1>run</h1></body></html>"
    res = simulated(1990)
    assert add_coded_section(page, res, tmp_path) == page  # nothing beside the run
    coded_record().to_parquet(tmp_path / CODED_FILE, index=False)
    once = add_coded_section(page, res, tmp_path)
    twice = add_coded_section(once, res, tmp_path)
    assert once.count("id='coded-comparison'") == 1 == twice.count("id='coded-comparison'")
    assert "Brier" in once and "data:image/png;base64," in once


def test_load_run_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"results\.parquet"):
        load_run(tmp_path)
    (tmp_path / "results.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="unreadable"):
        load_run(tmp_path)


def test_compare_cli_bad_run_dir_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", str(tmp_path), "--data", str(tmp_path)])
    assert isinstance(res.exception, InputError)


@pytest.mark.realdata
def test_compare_on_a_book_eleven_run(shared_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    res = runner.invoke(app, ["run", "book-eleven", "--replicates", "5", "--out", str(run)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["compare", str(run), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(run / "compare_scores.csv")
    timing = pd.read_csv(run / "compare_timing.csv")
    assert {"CHL", "POL", "all"} <= set(scores["country_id"])
    assert scores["brier"].between(0, 1).all()
    assert set(timing["phase"]) == {2, 3, 4, 5}
    report = (run / "report.html").read_text()
    assert report.count("id='coded-comparison'") == 1
    assert (run / "compare.html").stat().st_mode & 0o777 == 0o644 & ~_umask()
    assert json.loads((run / "summary.json").read_text())["scenario"] == "book-eleven"
    # a new run into the folder keeps the comparison: the report reads the coded record
    res = runner.invoke(app, ["run", "book-eleven", "--replicates", "5", "--out", str(run)])
    assert res.exit_code == 0, res.output
    assert (run / "report.html").read_text().count("id='coded-comparison'") == 1


def _umask() -> int:
    import os

    m = os.umask(0)
    os.umask(m)
    return m


def test_a_new_run_drops_the_old_comparison_outputs(tmp_path: Path) -> None:
    """The coded record is carried into a new run's folder; outputs about the old run are not."""
    run = tmp_path / "run"
    res = runner.invoke(app, ["run", "stylised", "--replicates", "2", "--out", str(run),
                              "--no-report"])
    assert res.exit_code == 0, res.output
    (run / "coded_phases.parquet").write_bytes(b"coded")
    (run / "compare.html").write_text("old comparison")
    res = runner.invoke(app, ["run", "stylised", "--replicates", "2", "--out", str(run),
                              "--no-report"])
    assert res.exit_code == 0, res.output
    assert (run / "coded_phases.parquet").read_bytes() == b"coded"
    assert not (run / "compare.html").exists()
