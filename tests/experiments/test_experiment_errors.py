"""Bad experiment files and unusable output folders: precise messages, before any work is done."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import InputError
from spirallab.experiments.spec import builtin_experiment_names, load_experiment
from spirallab.experiments.store import StoreError, SweepStore
from spirallab.experiments.sweep import plan_experiment, sweep

BASE = """
name = "bad"
scenario = "book-eleven"
replicates = 10
end = 2000
{top}
[design]
kind = "{kind}"
samples = {samples}
{design}
[[factors]]
name = "{name}"
{range}
"""


class Case(NamedTuple):
    fields: dict[str, str]
    message: str


CASES = {
    "unknown parameter": Case(
        {"name": "parameters.lobbying"}, r"factors\[0\]\.name: unknown parameter"
    ),
    "malformed name": Case({"name": "lobbying_efficacy"}, r"not of the form parameters\.<name>"),
    "empty range": Case({"range": "low = 0.5\nhigh = 0.5"}, r"empty range, low 0\.5"),
    "reversed range": Case({"range": "low = 0.9\nhigh = 0.1"}, r"empty range"),
    "outside the parameter's range": Case(
        {"name": "parameters.pressure_rate", "range": "low = 1\nhigh = 50"},
        r"factors\[0\]: value outside .*found 50.*from 0\.01 to 10\.0 \(per year\)",
    ),
    "too large for the budget": Case(
        {"samples": "4096", "top": "budget_runs = 100000"},
        r"too large for the budget: 12,288 points x 10 replicates = 122,880 runs.*"
        r"at most 10,000 points",
    ),
    "sobol not a power of two": Case({"samples": "100"}, r"power of two \(e\.g\. 64 or 128\)"),
    "unknown design key": Case(
        {"design": "samples_n = 3"},
        r"design\.samples_n: unknown key \(found 3\); expected one of: kind, samples",
    ),
    "unknown design kind": Case({"kind": "fractional"}, r"design\.kind"),
    "unknown lever": Case(
        {"name": "levers[40].strength"}, r"no such lever in the base scenario.*levers\[0\] to"
    ),
    "unknown country": Case(
        {"name": "countries.XYZ.civil_society"}, r"unknown country \(found 'XYZ'\)"
    ),
    "unknown covariate": Case(
        {"name": "countries.CHL.wealth"}, r"unknown or non-numeric country covariate"
    ),
    "mechanism outside a grid": Case(
        {"name": "mechanisms.pincer", "range": ""}, r"can only be varied in a grid"
    ),
    "grid without levels": Case(
        {"kind": "grid", "range": "low = 0.1\nhigh = 0.9"}, r"needs levels = \[\.\.\.\] or low"
    ),
    "unknown base scenario": Case(
        {"top": 'scenario = "narnia"'}, r"scenario: unknown base scenario"
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_experiment_files(tmp_path: Path, case: str) -> None:
    fields = {
        "top": "",
        "kind": "sobol",
        "samples": "8",
        "design": "",
        "name": "parameters.lobbying_efficacy",
        "range": "low = 0.2\nhigh = 0.9",
    }
    fields.update(CASES[case].fields)
    text = BASE.format(**fields)
    if 'scenario = "narnia"' in text:
        text = text.replace('scenario = "book-eleven"\n', "")
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=CASES[case].message) as info:
        plan_experiment(path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "out").exists()


def test_year_outside_the_run(write_experiment: Callable[..., Path]) -> None:
    exp = write_experiment()
    exp.write_text(exp.read_text().replace("by_years = [1985, 2000]", "by_years = [2040]"))
    with pytest.raises(InputError, match=r"outputs\.by_years\[0\].*from 1948 to 2000"):
        plan_experiment(exp)


def test_malformed_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text('name = "x"\n[design\n', encoding="utf-8")
    with pytest.raises(InputError, match="malformed TOML"):
        load_experiment(bad)
    with pytest.raises(InputError, match="experiment file not found"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(InputError, match=r"no experiment named 'nope'.*boomerang-sobol"):
        load_experiment("nope")


def test_builtin_experiments_are_valid() -> None:
    names = builtin_experiment_names()
    assert {"boomerang-sobol", "screening-morris"} <= set(names)
    for name in names:
        plan = plan_experiment(name)
        assert plan.n_points * plan.experiment.replicates <= plan.experiment.budget_runs


def test_unreachable_scheduler_fails_before_writing(
    write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    exp = write_experiment(samples=1)
    with pytest.raises(InputError, match=r"--scheduler: cannot reach the Dask scheduler"):
        sweep(exp, tmp_path / "o", scheduler="tcp://127.0.0.1:9", scheduler_timeout=1.0)
    assert not (tmp_path / "o").exists()


def test_unwritable_output_fails_early(
    write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    exp = write_experiment(samples=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot write results there"):
        sweep(exp, blocker / "out", workers=1)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(StoreError, match="cannot write results there"):
                sweep(exp, locked / "out", workers=1)
        finally:
            locked.chmod(0o700)


def test_full_disk_fails_before_running(
    write_experiment: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = write_experiment(samples=1)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=100_000))  # 100 kB left
    with pytest.raises(StoreError, match=r"needs about 1\.\d MB of disk .* only 0\.1 MB is free"):
        sweep(exp, tmp_path / "o", workers=1)
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_disk_filling_up_midway_keeps_what_was_saved(
    write_experiment: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = write_experiment(samples=2)
    original = SweepStore.write_chunk
    calls = {"n": 0}

    def fill_up(self: SweepStore, chunk: int, *args: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:

            def no_space() -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            from spirallab.experiments.store import guard

            guard(self.root, no_space)
        original(self, chunk, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SweepStore, "write_chunk", fill_up)
    with pytest.raises(
        StoreError, match=r"disk is full; results written so far are safe.*--resume"
    ):
        sweep(exp, tmp_path / "o", workers=1, chunk_points=1)
    store = SweepStore.open(tmp_path / "o")
    assert store.done_chunks() == {0, 1}
    assert store.manifest["done_chunks"] == [0, 1]
    monkeypatch.setattr(SweepStore, "write_chunk", original)
    sweep(exp, tmp_path / "o", workers=1, resume=True)
    assert SweepStore.open(tmp_path / "o").finished


def test_cli_reports_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        BASE.format(
            top="",
            kind="sobol",
            samples="8",
            design="",
            name="parameters.nope",
            range="low = 0\nhigh = 1",
        ),
        encoding="utf-8",
    )
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "sweep", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "factors[0].name: unknown parameter" in " ".join(res.stderr.split())
    assert not (tmp_path / "o").exists()


def test_cli_sweep_runs(write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    exp = write_experiment(samples=1)
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "runs/s" in result.output and "Done:" in result.output
    again = CliRunner().invoke(app, ["sweep", str(exp), "--out", str(out), "--resume"])
    assert again.exit_code == 0 and "Nothing to do" in again.output
