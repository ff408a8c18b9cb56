"""Issue 9 defect 26: a run folder is one whole run, whatever moment a run is killed at."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from spirallab import runfolder
from spirallab.errors import InputError

Run = Callable[..., Any]
SRC = str(Path(__file__).resolve().parents[2] / "src")


def start_run(out: Path, seed: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spirallab",
            "run",
            "stylised",
            "--replicates",
            "8",
            "--seed",
            str(seed),
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, **env},
    )


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 120) -> None:
    t0 = time.monotonic()
    while not cond():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)


def seeds_in(out: Path) -> set[int]:
    """The seed every file of the folder says it comes from (one value if the set is whole)."""
    summary = json.loads((out / "summary.json").read_text())
    runfolder.verify(out)  # raises if the files carry different fingerprints
    return {summary["seed"], summary["fingerprint"]["seed"]}


def test_26_killed_while_saving_over_a_run_leaves_the_old_run(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli("run", "stylised", "--replicates", "8", "--seed", "1", "--out", str(out)).rc == 0
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = start_run(out, seed=2, SPIRALLAB_TEST_SLOW_SAVE="30")
    # Kill it once the new results are written beside the old folder (it pauses after each file).
    wait_for(lambda: any((d / "results.parquet").exists() for d in tmp_path.glob(".o.new-*")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert seeds_in(out) == {1}
    # The next run clears what the killed one left and replaces the folder whole.
    res = cli(
        "run", "stylised", "--replicates", "8", "--seed", "3", "--no-report", "--out", str(out)
    )
    assert res.rc == 0, res.stderr
    assert seeds_in(out) == {3}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".o.lock", "o"]


def test_26_fallback_swap_killed_between_renames_is_recovered(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli("run", "stylised", "--replicates", "8", "--seed", "1", "--out", str(out)).rc == 0
    proc = start_run(out, seed=2, SPIRALLAB_NO_RENAME_EXCHANGE="1", SPIRALLAB_TEST_SLOW_SAVE="0.3")
    # The old run is aside and the new not yet in: the one moment the folder is missing.
    wait_for(lambda: any(tmp_path.glob(".o.old-*")) and not out.exists(), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    runfolder.recover(out)
    assert seeds_in(out) == {1}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".o.lock", "o"]


def test_26_no_report_over_a_run_leaves_no_old_report(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli("run", "stylised", "--replicates", "8", "--seed", "1", "--out", str(out)).rc == 0
    assert (out / "report.html").is_file()
    res = cli(
        "run", "stylised", "--replicates", "8", "--seed", "2", "--no-report", "--out", str(out)
    )
    assert res.rc == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "events.parquet",
        "results.parquet",
        "summary.json",
    ]
    assert seeds_in(out) == {2}


def test_every_file_carries_the_fingerprint_and_a_mix_is_detected(cli: Run, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out, seed in ((a, "1"), (b, "2")):
        assert (
            cli("run", "stylised", "--replicates", "8", "--seed", seed, "--out", str(out)).rc == 0
        )
    ids = {runfolder.verify(a), runfolder.verify(b)}
    assert len(ids) == 2
    fp = json.loads((a / "summary.json").read_text())["fingerprint"]
    assert set(fp) == {"run_id", "scenario_sha256", "seed", "replicates", "start", "end", "version"}
    assert fp["replicates"] == 8 and fp["seed"] == 1
    # Rebuild the mix of defect 26: new results beside old events, summary and report.
    (a / "results.parquet").write_bytes((b / "results.parquet").read_bytes())
    with pytest.raises(InputError, match="the files come from different runs"):
        runfolder.verify(a)
    assert pd.read_parquet(a / "results.parquet")["replicate"].nunique() == 8


def test_a_folder_with_other_files_is_never_replaced(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    res = cli("run", "stylised", "--replicates", "2", "--out", str(out))
    res.one_line_error(str(out), "notes.txt", "choose an empty or new --out")
    assert (out / "notes.txt").read_text() == "keep me"


def test_two_runs_never_write_one_folder_at_once(cli: Run, tmp_path: Path) -> None:
    from filelock import FileLock

    out = tmp_path / "o"
    with FileLock(str(tmp_path / ".o.lock")):
        res = cli("run", "stylised", "--replicates", "2", "--out", str(out))
    res.one_line_error(str(out), "another spirallab run is writing this folder")
    assert not out.exists()


def test_an_error_between_the_fallback_renames_puts_the_old_run_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "o[1]"  # glob characters in the name must not matter
    runfolder.write_run_folder(out, {"summary.json": lambda p: p.write_text("old")})
    monkeypatch.setenv("SPIRALLAB_NO_RENAME_EXCHANGE", "1")

    def fail() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runfolder, "_after_aside_hook", fail)
    with pytest.raises(runfolder.RunFolderError, match="No space left on device"):
        runfolder.write_run_folder(out, {"summary.json": lambda p: p.write_text("new")})
    assert (out / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".o[1].lock", "o[1]"]
