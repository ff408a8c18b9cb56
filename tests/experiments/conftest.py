"""Small experiment files for the sweep tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SMALL = """
name = "small"
scenario = "book-eleven"
replicates = 12
seed = 5
end = 2000
{extra}
[design]
kind = "{kind}"
samples = {samples}

[[factors]]
name = "parameters.lobbying_efficacy"
low = 0.3
high = 1.0

[[factors]]
name = "levers[0].strength"
low = 0.0
high = 1.0

[outputs]
by_years = [1985, 2000]
trajectories = {trajectories}
"""


@pytest.fixture
def write_experiment(tmp_path: Path) -> Callable[..., Path]:
    """Write an experiment file; keyword arguments fill the template above."""

    def write(
        text: str | None = None,
        kind: str = "sobol",
        samples: int = 4,
        trajectories: bool = False,
        extra: str = "",
        name: str = "exp.toml",
    ) -> Path:
        path = tmp_path / name
        body = (
            text
            if text is not None
            else SMALL.format(
                kind=kind, samples=samples, trajectories=str(trajectories).lower(), extra=extra
            )
        )
        path.write_text(body, encoding="utf-8")
        return path

    return write
