"""Fuzzing experiment files: ``spirallab sweep`` on mutated files gives a clean error or runs.

A valid, tiny experiment is mutated by hypothesis (values set to awkward ones of every type,
keys deleted or added, deep nesting, truncated or corrupted bytes). Each file goes through the
sweep command's planning (everything checked before any work); files that plan and are tiny
(at most 40 runs) are also swept. The outcome must be success, or exit status 2 with one line
naming the experiment file; never another exception (a traceback), and never more than the
suite's memory ceiling. Bounded by the ``ci`` profile (40 examples, fixed seed); ``make fuzz``
runs the ``long`` profile.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given

from spirallab.errors import SpiralLabError
from spirallab.experiments.spec import Design, Experiment, Factor, Outputs
from spirallab.experiments.sweep import plan_experiment, sweep

from .memory import within_ceiling
from .toml_mutations import mutated_toml

VALID = """
name = "fuzz"
scenario = "book-eleven"
replicates = 2
seed = 3
end = 1982
common_random_numbers = true

[design]
kind = "lhs"
samples = 3

[[factors]]
name = "parameters.lobbying_efficacy"
low = 0.3
high = 1.0

[[factors]]
name = "levers[0].strength"
low = 0.0
high = 1.0

[outputs]
by_years = [1982]
statistics = ["p_reach", "backsliding"]
"""
BASE = tomllib.loads(VALID)
KEYS = sorted({*Experiment.model_fields, *Design.model_fields, *Factor.model_fields,
               *Outputs.model_fields})


def _attempt(path: Path, out: Path) -> None:
    try:
        plan = within_ceiling(lambda: plan_experiment(path))
        if plan.n_points * plan.experiment.replicates <= 40:
            within_ceiling(lambda: sweep(path, out, workers=1))
    except SpiralLabError as exc:
        msg = str(exc)
        assert exc.exit_code == 2, msg
        assert "\n" not in msg, msg
        assert str(path) in msg or str(out) in msg, msg
        assert len(msg) < 2000, f"{len(msg)} characters"


def test_the_valid_experiment_sweeps() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exp.toml"
        path.write_text(VALID)
        report = sweep(path, Path(tmp) / "o", workers=1)
        assert report.chunks_run >= 1


@pytest.mark.fuzz
@given(raw=mutated_toml(BASE, KEYS))
def test_fuzz_experiment_files(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exp.toml"
        path.write_bytes(raw)
        _attempt(path, Path(tmp) / "out")
