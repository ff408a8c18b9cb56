"""The four commands end to end on the real data (tiny budgets), and bad input refused first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import InputError
from spirallab.scenarios.schema import Scenario

from .conftest import tiny_posterior

runner = CliRunner()


@pytest.fixture(scope="module")
def calibrated(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cal") / "post"
    res = runner.invoke(app, ["calibrate", "--data", str(shared_data), "--train", "1994-2000",
                              "--out", str(out), "--simulations", "40", "--population", "20"])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.realdata
def test_world_writes_a_scenario_that_run_accepts(shared_data: Path, tmp_path: Path) -> None:
    toml = tmp_path / "world.toml"
    res = runner.invoke(app, ["world", "--data", str(shared_data), "--start", "1995",
                              "--out", str(toml), "--end", "1998"])
    assert res.exit_code == 0, res.output
    scenario = Scenario.load(toml)
    assert len(scenario.countries) > 50
    assert all(c.start >= 1995 for c in scenario.countries)
    res = runner.invoke(app, ["run", str(toml), "--replicates", "2", "--out", str(tmp_path / "r"),
                              "--no-report"] if _has_no_report() else
                        ["run", str(toml), "--replicates", "2", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "results.parquet").is_file()


def _has_no_report() -> bool:
    res = runner.invoke(app, ["run", "--help"])
    return "--no-report" in res.output


@pytest.mark.realdata
def test_calibrate_forecast_score(calibrated: Path, shared_data: Path, tmp_path: Path) -> None:
    meta = json.loads((calibrated / "calibration.json").read_text())
    assert meta["train"] == [1994, 2000] and meta["simulations"] >= 40
    assert (calibrated / "calibration.html").is_file()
    assert (calibrated / "identifiability.csv").is_file()
    # Every dynamic statistic the calibration fits is checked against its posterior predictive.
    ppc = json.loads((calibrated / "ppc.json").read_text())
    assert set(ppc) == {"phase_moves", "pts_moves", "pts_drift", "time_in_phase", "ratified"}
    assert all(len(v["record"]) == len(v["predictive"]) > 0 for v in ppc.values())
    fc = tmp_path / "fc"
    res = runner.invoke(app, ["forecast", "--posterior", str(calibrated), "--data",
                              str(shared_data), "--origin", "2000", "--to", "2003", "--out",
                              str(fc), "--draws", "8", "--replicates", "4"])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(fc / "forecasts.parquet")
    assert list(df.columns) == ["country_id", "year", "target", "level", "probability"]
    sums = df.groupby(["country_id", "year", "target"])["probability"].sum()
    assert np.allclose(sums, 1.0)
    assert set(df["year"]) == {2001, 2002, 2003}
    assert {"phase", "pts_s"} <= set(df["target"])
    # The observation models' estimates are kept with the forecast.
    observation = json.loads((fc / "forecast.json").read_text())["observation"]
    assert 0 <= observation["pts"]["pts_s"]["rho"] < 1 and 0 <= observation["phase_stay"] < 1
    res = runner.invoke(app, ["score", str(fc), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    overall = pd.read_csv(fc / "skill_overall.csv")
    assert {"spiral", "persistence", "markov", "markov_regime", "climatology"} <= set(
        overall["method"])
    assert (fc / "report.html").read_text().count("data:image/png") >= 3
    # The comparison's uncertainty: spiral minus every other method, with a 90% interval.
    diff = pd.read_csv(fc / "skill_difference.csv")
    assert set(diff["method"]) == {"persistence", "markov", "markov_regime", "climatology"}
    assert (diff["lo"] <= diff["difference"]).all() and (diff["difference"] <= diff["hi"]).all()
    assert "How sure" in (fc / "report.html").read_text()
    assert "http" not in (fc / "report.html").read_text().replace("http-equiv", "")


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert isinstance(res.exception, InputError), res.output
    return str(res.exception)


@pytest.mark.realdata
def test_origin_outside_the_data(shared_data: Path, tmp_path: Path) -> None:
    post = tiny_posterior(tmp_path / "p")
    msg = _refused(["forecast", "--posterior", str(post), "--data", str(shared_data),
                    "--origin", "2040", "--to", "2045", "--out", str(tmp_path / "f")])
    assert "2040" in msg and "outside the data" in msg
    assert not (tmp_path / "f").exists()


@pytest.mark.realdata
def test_train_window_after_the_origin(shared_data: Path, tmp_path: Path) -> None:
    post = tiny_posterior(tmp_path / "p", train=(1990, 2005))
    msg = _refused(["forecast", "--posterior", str(post), "--data", str(shared_data),
                    "--origin", "2000", "--to", "2003", "--out", str(tmp_path / "f")])
    assert "after the origin" in msg


def test_posterior_from_another_model_version(tmp_path: Path) -> None:
    post = tiny_posterior(tmp_path / "p")
    meta = json.loads((post / "calibration.json").read_text())
    meta["model_fingerprint"] = "0123456789abcdef"
    (post / "calibration.json").write_text(json.dumps(meta))
    msg = _refused(["forecast", "--posterior", str(post), "--data", str(tmp_path),
                    "--origin", "2000", "--to", "2003", "--out", str(tmp_path / "f")])
    assert "another model version" in msg and "model_fingerprint" in msg


def test_posterior_for_another_scenario(tmp_path: Path) -> None:
    post = tiny_posterior(tmp_path / "p")
    meta = json.loads((post / "calibration.json").read_text())
    meta["scenario"] = "book-eleven"
    (post / "calibration.json").write_text(json.dumps(meta))
    msg = _refused(["forecast", "--posterior", str(post), "--data", str(tmp_path),
                    "--origin", "2000", "--to", "2003", "--out", str(tmp_path / "f")])
    assert "another scenario" in msg


def test_not_a_posterior_folder(tmp_path: Path) -> None:
    msg = _refused(["forecast", "--posterior", str(tmp_path), "--data", str(tmp_path),
                    "--origin", "2000", "--to", "2003", "--out", str(tmp_path / "f")])
    assert "not a calibration folder" in msg


def test_unreachable_scheduler_refused_before_work(tmp_path: Path) -> None:
    # The data folder does not even exist: the scheduler is checked first.
    proc = subprocess.run(
        [sys.executable, "-m", "spirallab.cli", "calibrate", "--data", str(tmp_path / "none"),
         "--train", "1976-2003", "--out", str(tmp_path / "o"), "--scheduler",
         "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("window", ["2003-1976", "1976", "19x6-2003"])
def test_bad_training_window(window: str, tmp_path: Path) -> None:
    msg = _refused(["calibrate", "--data", str(tmp_path), "--train", window,
                    "--out", str(tmp_path / "o")])
    assert "--train" in msg


@pytest.mark.realdata
def test_train_window_outside_the_data(shared_data: Path, tmp_path: Path) -> None:
    msg = _refused(["calibrate", "--data", str(shared_data), "--train", "1976-2030",
                    "--out", str(tmp_path / "o")])
    assert "2030" in msg


def test_score_needs_a_forecast_folder(tmp_path: Path) -> None:
    msg = _refused(["score", str(tmp_path), "--data", str(tmp_path)])
    assert "not a forecast folder" in msg
