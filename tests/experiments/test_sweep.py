"""Sweeps: same results whatever the parallelism, nothing lost or doubled across a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spirallab.experiments.store import SweepStore
from spirallab.experiments.sweep import sweep


def _frame(out: Path) -> pd.DataFrame:
    return SweepStore.open(out).summaries()


def test_outputs_are_consistent(write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    exp = write_experiment(samples=2)
    report = sweep(exp, tmp_path / "o", workers=1)
    assert report.n_points == 2 * (2 + 2)
    df = _frame(tmp_path / "o")
    assert sorted(df["point"].unique()) == list(range(report.n_points))
    # One row per country and point, plus the pooled row.
    assert (df.groupby("point").size() == 12).all()
    for y in (1985, 2000):
        p = df[[f"p_phase{k}_by_{y}" for k in range(2, 6)]].to_numpy()
        assert (np.diff(p, axis=1) <= 0).all(), "reaching phase k+1 implies reaching phase k"
        assert ((p >= 0) & (p <= 1)).all()
    assert (df["p_phase3_by_1985"] <= df["p_phase3_by_2000"]).all()
    # Every country has the same replicates, so the pooled share is the mean of the countries'.
    pooled = df[df.country == "ALL"].set_index("point")["p_phase3_by_2000"]
    by_country = df[df.country != "ALL"].groupby("point")["p_phase3_by_2000"].mean()
    np.testing.assert_allclose(pooled, by_country, rtol=1e-12)


def test_factors_reach_the_model(write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    # A grid over the strength of the first lever (aid conditionality on Chile, 1976-89).
    text = write_experiment(samples=1).read_text().replace('kind = "sobol"', 'kind = "grid"')
    text = text.replace("low = 0.3\nhigh = 1.0", "levels = [0.9]")
    text = text.replace("low = 0.0\nhigh = 1.0", "levels = [0.0, 1.0]")
    exp = write_experiment(text=text)
    sweep(exp, tmp_path / "o", workers=1)
    df = _frame(tmp_path / "o").set_index(["country", "point"])
    chl = df.loc["CHL"]
    assert not chl.loc[0].equals(chl.loc[1]), "the lever's strength changed nothing in Chile"
    assert chl.loc[1, "final_repression"] <= chl.loc[0, "final_repression"]


def test_common_random_numbers(write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    # The same point twice: identical with common random numbers, different without.
    text = write_experiment(samples=1).read_text().replace('kind = "sobol"', 'kind = "grid"')
    text = text.replace("low = 0.3\nhigh = 1.0", "levels = [0.6, 0.6]")
    text = text.replace("low = 0.0\nhigh = 1.0", "levels = [0.5]")
    same = _frame_of(write_experiment, tmp_path, text, "crn")
    cols = [c for c in same.columns if c not in ("point", "country")]
    a, b = (same[same.point == k][cols].to_numpy() for k in (0, 1))
    np.testing.assert_array_equal(a, b)
    text2 = text.replace("end = 2000", "end = 2000\ncommon_random_numbers = false")
    diff = _frame_of(write_experiment, tmp_path, text2, "nocrn")
    a, b = (diff[diff.point == k][cols].to_numpy() for k in (0, 1))
    assert not np.array_equal(a, b)


def _frame_of(write: Callable[..., Path], tmp: Path, text: str, name: str) -> pd.DataFrame:
    exp = write(text=text, name=f"{name}.toml")
    sweep(exp, tmp / name, workers=1)
    return _frame(tmp / name)


def test_bit_identical_across_workers_chunks_and_dask(
    write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    exp = write_experiment(samples=4, trajectories=True)
    sweep(exp, tmp_path / "w1", workers=1)
    sweep(exp, tmp_path / "w2", workers=2, chunk_points=3)
    sweep(exp, tmp_path / "w2b", workers=2, chunk_points=7)

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address, chunk_points=5)

    reference = _frame(tmp_path / "w1")
    ref_traj = (
        SweepStore.open(tmp_path / "w1")
        .trajectories()
        .sort_values(["point", "country", "replicate", "year"], ignore_index=True)
    )
    for other in ("w2", "w2b", "dask"):
        pd.testing.assert_frame_equal(_frame(tmp_path / other), reference, check_exact=True)
        traj = SweepStore.open(tmp_path / other).trajectories()
        traj = traj.sort_values(["point", "country", "replicate", "year"], ignore_index=True)
        pd.testing.assert_frame_equal(traj, ref_traj, check_exact=True)


def test_store_is_queryable_with_duckdb(
    write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    duckdb = pytest.importorskip("duckdb")
    exp = write_experiment(samples=2)
    sweep(exp, tmp_path / "o", workers=1, chunk_points=3)
    n = duckdb.sql(
        f"SELECT count(DISTINCT point) FROM '{tmp_path / 'o'}/summaries/*.parquet' "
        "WHERE country = 'ALL'"
    ).fetchall()[0][0]
    assert n == 8


# --- crash safety -------------------------------------------------------------------------------

KILL_EXPERIMENT = """
name = "killme"
scenario = "stylised"
replicates = 8
seed = 3
end = 2000

[design]
kind = "lhs"
samples = 60

[[factors]]
name = "parameters.pressure_rate"
low = 0.2
high = 2.0

[outputs]
by_years = [2000]
"""


def _start_sweep(
    tmp_path: Path, out: Path, parts_before_return: int, **popen: object
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the kill experiment with 2 workers; return once that many chunks are saved."""
    exp = tmp_path / "kill.toml"
    exp.write_text(KILL_EXPERIMENT, encoding="utf-8")
    cmd = [sys.executable, "-m", "spirallab", "sweep", str(exp), "--out", str(out)]
    proc: subprocess.Popen[str] = subprocess.Popen(
        [*cmd, "--workers", "2", "--chunk-points", "1"],
        stdout=subprocess.DEVNULL,
        text=True,
        **popen,
    )
    parts = out / "summaries"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if parts.is_dir() and len(list(parts.glob("part-*.parquet"))) >= parts_before_return:
            return proc, cmd
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        time.sleep(0.01)
    raise AssertionError("the sweep saved too few chunks in 120 s")


def test_sigkill_then_resume_loses_and_doubles_nothing(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    parts = out / "summaries"
    # Its own process group, so the kill takes the workers too.
    proc, cmd = _start_sweep(tmp_path, out, 5, stderr=subprocess.DEVNULL, start_new_session=True)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = len(list(parts.glob("part-*.parquet")))
    assert 5 <= done_at_kill < 60, "the kill must land in the middle of the sweep"

    resumed = subprocess.run([*cmd, "--resume", "--workers", "2"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] and len(manifest["done_chunks"]) == 60
    assert not [f for f in parts.iterdir() if f.name.startswith(".")], "temporary files left"

    sweep(tmp_path / "kill.toml", tmp_path / "clean", workers=1)
    got, want = _frame(out), _frame(tmp_path / "clean")
    assert got[got.country == "ALL"]["point"].tolist() == list(range(60)), "each point once"
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_folder_rules(write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    from spirallab.errors import InputError

    exp = write_experiment(samples=1)
    sweep(exp, tmp_path / "o", workers=1)
    with pytest.raises(InputError, match=r"already holds this sweep.*--resume"):
        sweep(exp, tmp_path / "o", workers=1)
    report = sweep(exp, tmp_path / "o", workers=1, resume=True)
    assert report.chunks_run == 0
    other = write_experiment(samples=2, name="other.toml")
    with pytest.raises(InputError, match="different experiment"):
        sweep(other, tmp_path / "o", workers=1, resume=True)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        sweep(exp, tmp_path / "busy", workers=1)


PARAMETERS_ONLY = """
name = "params"
scenario = "book-eleven"
replicates = 40
seed = 9
end = 2010
common_random_numbers = {crn}

[design]
kind = "lhs"
samples = 9

[[factors]]
name = "parameters.mobilisation_rate"

[[factors]]
name = "parameters.crackdown_rate"
low = 0.0
high = 1.0

[outputs]
by_years = [2010]
trajectories = true
"""


@pytest.mark.parametrize("crn", ["true", "false"])
def test_points_side_by_side_equal_points_alone(tmp_path: Path, crn: str) -> None:
    """Only parameters vary, so points share engine calls; each must match its own run."""
    from spirallab import simulate
    from spirallab.experiments.sweep import plan_experiment, point_seed

    exp = tmp_path / "p.toml"
    exp.write_text(PARAMETERS_ONLY.format(crn=crn), encoding="utf-8")
    sweep(exp, tmp_path / "a", workers=1)
    sweep(exp, tmp_path / "b", workers=2, chunk_points=2)
    pd.testing.assert_frame_equal(_frame(tmp_path / "a"), _frame(tmp_path / "b"), check_exact=True)

    plan = plan_experiment(exp)
    traj = SweepStore.open(tmp_path / "a").trajectories()
    for point in (0, 4, 8):
        row = plan.points.iloc[point]
        params = plan.base.parameters.model_copy(
            update={
                "mobilisation_rate": float(row["parameters.mobilisation_rate"]),
                "crackdown_rate": float(row["parameters.crackdown_rate"]),
            }
        )
        alone = simulate(
            plan.base.model_copy(update={"parameters": params}),
            replicates=40,
            seed=9 if crn == "true" else point_seed(9, point),
            end=2010,
        ).to_frame()
        mine = traj[traj.point == point].astype({"country": str})
        alone = alone.astype({"country": str})
        got = mine.sort_values(["country", "replicate", "year"])["phase"].to_numpy()
        want = alone.sort_values(["country", "replicate", "year"])["phase"].to_numpy()
        np.testing.assert_array_equal(got, want)


def test_a_worker_killed_midway_is_reported_and_resumable(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "o"
    proc, cmd = _start_sweep(tmp_path, out, 3, stderr=subprocess.PIPE)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers, "no worker processes found"
    os.kill(workers[0].pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "a worker process died" in " ".join(err.split()) and "Traceback" not in err
    resumed = subprocess.run([*cmd, "--resume", "--workers", "1"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert SweepStore.open(out).finished
