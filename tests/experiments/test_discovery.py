"""Scenario discovery: a planted box is found, noise is not mistaken for rules, edge cases speak.

Stores are synthetic Latin hypercubes over three factors, the third of them inert.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import InputError
from spirallab.experiments.discovery import discover, write_discovery
from spirallab.experiments.store import SweepStore

NAMES = ["parameters.x1", "parameters.x2", "parameters.x3"]
N = 400


def lhs(n: int = N, seed: int = 4) -> np.ndarray:
    from SALib.sample import latin

    return np.asarray(
        latin.sample({"num_vars": 3, "names": NAMES, "bounds": [[0.0, 1.0]] * 3}, n, seed=seed)
    )


@pytest.fixture(scope="module")
def planted(
    tmp_path_factory: pytest.TempPathFactory, synthetic_store: Callable[..., SweepStore]
) -> SweepStore:
    """Success (p_phase5_by_2030 = 0.9) iff x1 > 0.6 and x2 < 0.4; x3 is inert."""
    x = lhs()
    inside = (x[:, 0] > 0.6) & (x[:, 1] < 0.4)
    p5 = np.where(inside, 0.9, 0.1)
    noise = np.random.default_rng(7).random(len(x))
    return synthetic_store(
        tmp_path_factory.mktemp("planted"),
        "lhs",
        x,
        {"p_phase5_by_2010": p5 / 2, "p_phase5_by_2030": p5, "noise": noise},
        [[0.0, 1.0]] * 3,
        len(x),
        by_years=[2010, 2030],
    )


def test_recovers_planted_box(planted: SweepStore) -> None:
    found = discover(planted)  # default outcome: p_phase5_by_2030 >= 0.5
    assert found.output == "p_phase5_by_2030" and found.n_points == N
    assert found.informative and found.cv_accuracy is not None
    assert found.cv_accuracy > found.majority_accuracy + 0.1
    best = found.success_boxes[0]
    assert set(best.bounds) == {"parameters.x1", "parameters.x2"}, best.rule
    lo1, hi1 = best.bounds["parameters.x1"]
    lo2, hi2 = best.bounds["parameters.x2"]
    assert lo1 == pytest.approx(0.6, abs=0.03) and hi1 is None
    assert lo2 is None and hi2 == pytest.approx(0.4, abs=0.03)
    assert "parameters.x1 >" in best.rule and "parameters.x2 <=" in best.rule
    assert best.density >= 0.9 and best.coverage >= 0.9 and best.strong
    assert found.importances["parameters.x3"] < 0.05


def test_random_outcome_gives_no_strong_rule(planted: SweepStore) -> None:
    found = discover(planted, output="noise", threshold=0.5)
    assert found.cv_accuracy is not None
    assert found.cv_accuracy < found.majority_accuracy + 0.05
    assert not found.informative
    assert not any(b.strong for b in found.boxes)
    assert "does not predict the outcome better than chance" in found.verdict()


def test_below_direction(planted: SweepStore) -> None:
    above = discover(planted, threshold=0.5)
    below = discover(planted, threshold=0.5, above=False)
    assert below.outcome == "p_phase5_by_2030 <= 0.5"
    assert below.n_success == N - above.n_success  # success and stagnation swap
    # The planted box is now the stagnation box.
    stagnant = [b for b in below.boxes if not b.predicts_success]
    assert stagnant and set(stagnant[0].bounds) == {"parameters.x1", "parameters.x2"}


@pytest.mark.parametrize(("threshold", "word"), [(0.05, "succeed"), (0.95, "fail")])
def test_degenerate_outcomes(
    planted: SweepStore, tmp_path: Path, threshold: float, word: str
) -> None:
    found = discover(planted, threshold=threshold)
    assert found.degenerate is not None and found.boxes == []
    assert f"All {N} points {word}" in found.degenerate and "--threshold" in found.degenerate
    paths = write_discovery(found, tmp_path)
    assert "png" not in paths
    assert found.degenerate in paths["md"].read_text(encoding="utf-8")


def test_bad_options(planted: SweepStore) -> None:
    with pytest.raises(InputError, match=r"--output: no output 'nope'.*p_phase5_by_2030"):
        discover(planted, output="nope")
    with pytest.raises(InputError, match=r"--min-leaf"):
        discover(planted, min_leaf=N)
    with pytest.raises(InputError, match=r"--max-depth"):
        discover(planted, max_depth=0)


def test_writer(planted: SweepStore, tmp_path: Path) -> None:
    found = discover(planted)
    paths = write_discovery(found, tmp_path / "d")
    assert {p.name for p in paths.values()} == {"discovery.md", "discovery.json", "discovery.png"}
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["outcome"] == "p_phase5_by_2030 >= 0.5" and data["informative"] is True
    assert data["boxes"][0]["density"] >= 0.9 and not math.isnan(data["cv_accuracy"])
    text = paths["md"].read_text(encoding="utf-8")
    assert "| rule | points | density | coverage |" in text and "parameters.x1 >" in text


def test_cli_discover(planted: SweepStore, tmp_path: Path) -> None:
    out = tmp_path / "disc"
    res = CliRunner().invoke(app, ["discover", str(planted.root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "predicts the outcome out of sample" in " ".join(res.output.split())
    for name in ("discovery.md", "discovery.json", "discovery.png"):
        assert (out / name).is_file(), name


def test_cli_discover_not_a_store(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["discover", str(tmp_path / "missing")])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a sweep results folder" in lines[0]
