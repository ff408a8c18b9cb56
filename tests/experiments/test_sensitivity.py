"""Sensitivity indices of a sweep: known answers, caveats, skipped outputs, errors and the CLI.

Every store here is synthetic: the design comes from SALib's samplers (as in a real sweep) and the
outputs from closed-form functions, so the right indices are known.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import InputError
from spirallab.experiments.sensitivity import analyse
from spirallab.experiments.sensitivity_report import write_sensitivity_report
from spirallab.experiments.store import SweepStore

PI = math.pi
NAMES = ["parameters.x1", "parameters.x2", "parameters.x3"]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytic S1 and ST of the Ishigami function."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * PI**8 / 225
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def sobol_store(
    make: Callable[..., SweepStore],
    root: Path,
    n: int,
    second_order: bool = False,
    **extra: Callable[[np.ndarray], np.ndarray],
) -> SweepStore:
    """A Sobol' store of the Ishigami function over [-pi, pi]^3, plus outputs ``extra(x)``."""
    from SALib.sample import sobol

    bounds = [[-PI, PI]] * 3
    problem = {"num_vars": 3, "names": NAMES, "bounds": bounds}
    x = sobol.sample(problem, n, calc_second_order=second_order, scramble=True, seed=1)
    outputs = {"ishigami": ishigami(x), **{k: f(x) for k, f in extra.items()}}
    return make(root, "sobol", x, outputs, bounds, n, second_order=second_order)


@pytest.fixture(scope="module")
def ishigami_1024(
    tmp_path_factory: pytest.TempPathFactory, synthetic_store: Callable[..., SweepStore]
) -> SweepStore:
    return sobol_store(synthetic_store, tmp_path_factory.mktemp("ishigami"), 1024)


def test_sobol_matches_analytic_ishigami(ishigami_1024: SweepStore) -> None:
    sens = analyse(ishigami_1024, resamples=500)
    s1, st = ishigami_indices()
    rows = sens.for_output("ishigami").set_index("factor").loc[NAMES]
    for col, truth in (("S1", s1), ("ST", st)):
        est, conf = rows[col].to_numpy(), rows[f"{col}_conf"].to_numpy()
        # Within the bootstrap interval, and close in absolute terms at N = 1024.
        assert np.all(np.abs(est - truth) <= np.maximum(conf, 0.02)), (col, est, truth, conf)
        assert np.all(np.abs(est - truth) < 0.05), (col, est, truth)
    assert list(rows["method"].unique()) == ["sobol"]
    assert rows.loc["parameters.x1", "rank"] == 1 and rows.loc["parameters.x3", "rank"] == 3
    assert sens.base_samples == 1024 and sens.n_points == 1024 * 5
    assert not [c for c in sens.caveats if c.kind in ("small_sample", "wide_ci")]


def test_small_sample_warning_fires_at_16(
    tmp_path: Path, synthetic_store: Callable[..., SweepStore]
) -> None:
    sens = analyse(sobol_store(synthetic_store, tmp_path, 16), resamples=200)
    small = [c for c in sens.caveats if c.kind == "small_sample"]
    assert len(small) == 1 and "N = 16" in small[0].message and small[0].output is None
    wide = [c for c in sens.caveats if c.kind == "wide_ci"]
    assert wide and wide[0].output == "ishigami" and wide[0].factors


def test_second_order_pairs(tmp_path: Path, synthetic_store: Callable[..., SweepStore]) -> None:
    sens = analyse(sobol_store(synthetic_store, tmp_path, 512, second_order=True), resamples=200)
    assert sens.second_order is not None
    s2 = sens.second_order.set_index(["factor_1", "factor_2"])
    assert len(s2) == 3
    # Ishigami's only interaction is x1 x x3, worth ST1 - S1 = 0.244 of the variance.
    assert s2.loc[("parameters.x1", "parameters.x3"), "S2"] == pytest.approx(0.244, abs=0.1)
    assert abs(s2.loc[("parameters.x1", "parameters.x2"), "S2"]) < 0.1


def test_morris_ranks_inert_factor_last(
    tmp_path: Path, synthetic_store: Callable[..., SweepStore]
) -> None:
    from SALib.sample import morris

    bounds = [[0.0, 1.0]] * 3
    problem = {"num_vars": 3, "names": NAMES, "bounds": bounds}
    x = morris.sample(problem, 20, num_levels=4, seed=3)
    y = 3.0 * x[:, 0] + x[:, 1] ** 2  # x3 does nothing
    store = synthetic_store(tmp_path, "morris", x, {"y": y}, bounds, 20)
    sens = analyse(store, resamples=200)
    rows = sens.for_output("y").set_index("factor")
    assert sens.method == "morris" and sens.base_samples == 20
    assert rows.loc["parameters.x3", "rank"] == 3
    assert rows.loc["parameters.x3", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert rows.loc["parameters.x1", "mu_star"] == pytest.approx(3.0, rel=1e-6)
    assert rows.loc["parameters.x1", "mu_star_norm"] == pytest.approx(1.0)
    assert not [c for c in sens.caveats if c.kind == "small_sample"]


def test_morris_small_sample(tmp_path: Path, synthetic_store: Callable[..., SweepStore]) -> None:
    from SALib.sample import morris

    bounds = [[0.0, 1.0]] * 2
    x = morris.sample({"num_vars": 2, "names": NAMES[:2], "bounds": bounds}, 4, seed=3)
    store = synthetic_store(tmp_path, "morris", x, {"y": x[:, 0]}, bounds, 4)
    sens = analyse(store, resamples=50)
    assert any(c.kind == "small_sample" and "4 trajectories" in c.message for c in sens.caveats)


def test_constant_and_missing_outputs_are_skipped_with_reasons(
    tmp_path: Path, synthetic_store: Callable[..., SweepStore]
) -> None:
    def flat(x: np.ndarray) -> np.ndarray:
        return np.full(len(x), 0.25)

    def holes(x: np.ndarray) -> np.ndarray:
        y = x[:, 0].copy()
        y[[3, 7]] = np.nan
        return y

    sens = analyse(
        sobol_store(synthetic_store, tmp_path, 64, flat=flat, holes=holes), resamples=100
    )
    reasons = {s.output: s.reason for s in sens.skipped}
    assert set(reasons) == {"flat", "holes"}
    assert "constant (= 0.25 at every point)" in reasons["flat"]
    assert (
        "NaN" in reasons["holes"] and "2 of 320" in reasons["holes"] and "3, 7" in reasons["holes"]
    )
    assert sens.outputs == ["ishigami"]


def test_delta_for_lhs_and_no_global_side_effects(
    tmp_path: Path, synthetic_store: Callable[..., SweepStore]
) -> None:
    from SALib.sample import latin

    bounds = [[-PI, PI]] * 3
    x = latin.sample({"num_vars": 3, "names": NAMES, "bounds": bounds}, 150, seed=2)
    store = synthetic_store(tmp_path, "lhs", x, {"ishigami": ishigami(x)}, bounds, 150)
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    sens = analyse(store, resamples=20)
    assert np.random.random() == expected  # SALib's reseeding is undone
    rows = sens.for_output("ishigami").set_index("factor")
    assert sens.method == "delta"
    assert {"delta", "delta_conf", "S1", "S1_conf"} <= set(rows.columns)
    assert rows.loc["parameters.x3", "S1"] < 0.15  # x3 has no first-order effect
    assert any(c.kind == "small_sample" for c in sens.caveats)


def test_grid_design_is_refused(tmp_path: Path, synthetic_store: Callable[..., SweepStore]) -> None:
    x = np.array([[a, b] for a in (0.0, 1.0) for b in (0.0, 1.0)])
    store = synthetic_store(tmp_path, "grid", x, {"y": x[:, 0]}, [[0, 1]] * 2, 0)
    with pytest.raises(InputError, match=r"design\.kind.*found 'grid'.*sobol, morris or lhs"):
        analyse(store)


def test_incomplete_store_is_refused(
    tmp_path: Path, synthetic_store: Callable[..., SweepStore]
) -> None:
    from SALib.sample import sobol

    bounds = [[0.0, 1.0]] * 2
    x = sobol.sample(
        {"num_vars": 2, "names": NAMES[:2], "bounds": bounds}, 8, calc_second_order=False, seed=1
    )
    store = synthetic_store(tmp_path, "sobol", x, {"y": x[:, 0]}, bounds, 8, complete=False)
    with pytest.raises(InputError, match=r"the sweep is incomplete: 1 of 2 chunks"):
        analyse(store)


def test_bad_options(ishigami_1024: SweepStore) -> None:
    with pytest.raises(InputError, match=r"--output: no such output.*found 'nope'.*ishigami"):
        analyse(ishigami_1024, outputs=["nope"])
    with pytest.raises(InputError, match=r"--conf"):
        analyse(ishigami_1024, conf_level=1.5)
    with pytest.raises(InputError, match=r"no such country.*found 'XYZ'"):
        analyse(ishigami_1024, country="XYZ")


def test_report_files(tmp_path: Path, synthetic_store: Callable[..., SweepStore]) -> None:
    sens = analyse(sobol_store(synthetic_store, tmp_path / "s", 32), resamples=100)
    paths = write_sensitivity_report(sens, tmp_path / "r")
    names = {p.name for p in paths.values()}
    assert {
        "indices.csv",
        "indices.parquet",
        "sensitivity.html",
        "sensitivity.json",
        "sensitivity-heatmap.png",
        "sensitivity-ishigami.png",
    } <= names
    table = pd.read_csv(tmp_path / "r" / "indices.csv")
    assert list(table.columns[:4]) == ["output", "factor", "method", "rank"]
    assert pd.read_parquet(tmp_path / "r" / "indices.parquet").shape == table.shape
    page = (tmp_path / "r" / "sensitivity.html").read_text(encoding="utf-8")
    assert 'class="warn"' in page and "Small sample" in page
    assert "http" not in page.replace('content="width=device-width', "")  # offline
    assert page.count("data:image/png;base64,") == 2
    png = (tmp_path / "r" / "sensitivity-ishigami.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((tmp_path / "r" / "sensitivity.json").read_text(encoding="utf-8"))
    assert meta["method"] == "sobol" and meta["caveats"]


def test_cli_sensitivity(tmp_path: Path, synthetic_store: Callable[..., SweepStore]) -> None:
    store = sobol_store(synthetic_store, tmp_path / "s", 32, flat=lambda x: np.zeros(len(x)))
    res = CliRunner().invoke(app, ["sensitivity", str(store.root), "--resamples", "100"])
    assert res.exit_code == 0, res.output
    assert "x1" in res.output and "warning" in res.output and "skipped flat" in res.output
    folder = store.root / "sensitivity"
    for name in ("indices.csv", "indices.parquet", "sensitivity.html", "sensitivity-heatmap.png"):
        assert (folder / name).is_file(), name


def test_cli_sensitivity_not_a_store(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["sensitivity", str(tmp_path)])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a sweep results folder" in lines[0]
    assert "Traceback" not in res.output
