"""Small experiment files for the sweep tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab.experiments.store import FORMAT, SweepStore

NAMES = ["parameters.x1", "parameters.x2", "parameters.x3"]

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


def make_store(
    root: Path,
    kind: str,
    x: np.ndarray,
    outputs: dict[str, np.ndarray],
    bounds: list[list[float]],
    samples: int,
    second_order: bool = False,
    levels: int = 4,
    complete: bool = True,
    by_years: list[int] | None = None,
) -> SweepStore:
    """A finished (or, with ``complete=False``, half-finished) store of a synthetic sweep."""
    n, d = x.shape
    names = NAMES[:d]
    points = pd.DataFrame(x, columns=names)
    points.insert(0, "point", np.arange(n, dtype=np.int64))
    grid = kind == "grid"
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "experiment": "synthetic",
        "scenario": "none",
        "countries": ["AAA"],
        "years": [2000, 2030],
        "design": {
            "kind": kind,
            "samples": samples,
            "second_order": second_order,
            "levels": levels,
            "seed": 1,
        },
        "factors": [
            {"name": nm, "levels": sorted(set(x[:, i]))} if grid else {"name": nm, "bounds": b}
            for i, (nm, b) in enumerate(zip(names, bounds, strict=True))
        ],
        "problem": None if grid else {"num_vars": d, "names": names, "bounds": bounds},
        "replicates": 10,
        "seed": 1,
        "common_random_numbers": True,
        "by_years": by_years or [2030],
        "outputs": list(outputs),
        "trajectories": False,
        "n_points": n,
        "chunk_points": n if complete else math.ceil(n / 2),
        "n_chunks": 1 if complete else 2,
    }
    store = SweepStore.create(root, manifest, "", "{}", points)
    rows = pd.DataFrame({"point": np.arange(n, dtype=np.int64), "country": "ALL", **outputs})
    store.write_chunk(0, rows if complete else rows.iloc[: math.ceil(n / 2)], None)
    store.save_manifest()
    return store


@pytest.fixture(scope="session")
def synthetic_store() -> Callable[..., SweepStore]:
    """Build a results store from a design matrix and closed-form outputs (see make_store)."""
    return make_store
