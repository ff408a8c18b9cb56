"""Issue 9 defect 11 (grid size overflow) and issue 14's README snippet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spirallab.errors import InputError
from spirallab.experiments.design import design_size
from spirallab.experiments.spec import load_experiment
from spirallab.model.params import PARAMETERS

REPO = Path(__file__).resolve().parents[2]


def grid_experiment(tmp_path: Path, n: int) -> Path:
    factors = "".join(
        f'[[factors]]\nname = "parameters.{p.name}"\nlevels = [{p.lo}, {p.hi}]\n'
        for p in PARAMETERS[:n]
    )
    text = (
        'name = "huge-grid"\nscenario = "stylised"\nreplicates = 1\n'
        f'[design]\nkind = "grid"\n{factors}'
    )
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_11_grid_of_64_two_level_factors_has_2_to_the_64_points(tmp_path: Path) -> None:
    experiment, _, _ = load_experiment(grid_experiment(tmp_path, 64))
    assert design_size(experiment) == 2**64


def test_11_the_budget_check_refuses_the_huge_grid(tmp_path: Path) -> None:
    from spirallab.experiments.sweep import plan_experiment

    with pytest.raises(InputError, match="too large for the budget"):
        plan_experiment(grid_experiment(tmp_path, 64))


def test_readme_python_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"The same from Python:\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md", "exec"), {})
    assert (tmp_path / "runs" / "mine" / "report.html").is_file()
