"""`spirallab run` end to end, and atomic outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spirallab import simulate
from spirallab.model import result as result_module
from spirallab.scenarios.load import load_scenario


def test_run_writes_all_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "run", "stylised", "--replicates", "40",
         "--seed", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )
    assert res.returncode == 0, res.stderr
    assert {p.name for p in out.iterdir()} == {
        "results.parquet", "events.parquet", "summary.json", "report.html"}
    frame = pd.read_parquet(out / "results.parquet")
    assert frame["replicate"].nunique() == 40
    assert set(frame["year"]) == set(range(1970, 2031))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["replicates"] == 40
    assert set(summary["countries"]["RUR"]["p_reach"]) == {"2", "3", "4", "5"}
    # The one-screen summary is printed.
    assert "Ruritania" in res.stdout and "P4" in res.stdout
    assert "report.html" in res.stdout


def test_default_output_folder_is_named_by_scenario_and_seed(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "run", "stylised", "--replicates", "8",
         "--seed", "5", "--no-report"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "runs" / "stylised-5" / "results.parquet").is_file()


def test_unwritable_output_fails_before_simulating(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "run", "stylised", "--out", str(blocker / "sub")],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 2
    assert "output path is not a folder" in res.stderr
    assert "Traceback" not in res.stderr


def test_interrupted_write_leaves_no_complete_looking_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = simulate(load_scenario("stylised"), replicates=8, seed=1)

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(KeyboardInterrupt):
        r.save(tmp_path / "run", report=False)
    # No run folder, and no temporary folder left beside it (only the lock file).
    assert [p.name for p in tmp_path.iterdir()] == [".run.lock"]


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")

    def fail(p: Path) -> None:
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        result_module.atomic_write(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
