"""Parameter recovery on synthetic data: simulate at known parameters, recover them by ABC-SMC.

A tiny budget (CI): two parameters, a 20-country synthetic world, six truths drawn from the
prior. The fuller check is validation/recovery.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from spirallab.confront.calibrate import prior_draws, recovery, synthetic_problem


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    problem = synthetic_problem(n_countries=20, last=1996)
    truths = prior_draws(problem.priors, 6, seed=3)
    out = tmp_path_factory.mktemp("recovery")
    return problem, recovery(problem, truths, Path(out), simulations=280, population=40,
                             generations=5)


def test_intervals_cover_the_truth(recovered) -> None:  # type: ignore[no-untyped-def]
    _, table = recovered
    cover = table.groupby("parameter")[["in50", "in90"]].mean()
    # Six truths: 90% intervals should miss at most one; 50% ones neither always nor never.
    assert (cover["in90"] >= 5 / 6).all(), cover
    assert cover["in50"].mean() >= 0.3, cover


def test_posterior_follows_the_truth(recovered) -> None:  # type: ignore[no-untyped-def]
    problem, table = recovered
    noise = table[table["parameter"] == "pts_noise"]
    # The observation noise is identified: posterior medians rank the truths.
    rho = spearmanr(noise["truth"], noise["median"]).statistic
    assert rho >= 0.6, noise
    # The posterior is narrower than the prior for it.
    _, lo, hi = next(p for p in problem.priors if p[0] == "pts_noise")
    width = (noise["q95"] - noise["q05"]).to_numpy()
    assert np.mean(width) < 0.8 * 0.9 * (hi - lo)


def test_same_seed_same_posterior(tmp_path: Path) -> None:
    from spirallab.confront.calibrate import calibrate

    problem = synthetic_problem(n_countries=10, last=1986)
    observed = problem.simulate_stats({"concession_rate": 1.0, "pts_noise": 0.6}, seed=5)
    a = calibrate(problem, tmp_path / "a", simulations=60, population=20, seed=4,
                  observed=observed)
    b = calibrate(problem, tmp_path / "b", simulations=60, population=20, seed=4,
                  observed=observed)
    assert a.particles.equals(b.particles)


def test_calibration_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    from spirallab.confront.calibrate import calibrate

    problem = synthetic_problem(n_countries=8, last=1984)
    observed = problem.simulate_stats({"concession_rate": 1.0, "pts_noise": 0.6}, seed=5)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        post = calibrate(problem, tmp_path / "d", simulations=20, population=10,
                         client=client, observed=observed)
    assert len(post.particles) == 10
    assert post.meta["workers"] == "dask"
    assert np.isclose(post.particles["weight"].sum(), 1.0)


def test_resume_continues_the_history(tmp_path: Path) -> None:
    from spirallab.confront.calibrate import calibrate
    from spirallab.errors import InputError

    problem = synthetic_problem(n_countries=8, last=1984)
    observed = problem.simulate_stats({"concession_rate": 1.0, "pts_noise": 0.6}, seed=5)
    first = calibrate(problem, tmp_path / "r", simulations=1000, population=10, generations=2,
                      seed=2, observed=observed)
    more = calibrate(problem, tmp_path / "r", simulations=1000, population=10, generations=4,
                     seed=2, observed=observed, resume=True)
    assert first.meta["generations"] == 2 and more.meta["generations"] == 4
    assert more.meta["simulations"] > first.meta["simulations"]
    with pytest.raises(InputError, match="other settings"):
        calibrate(problem, tmp_path / "r", simulations=1000, population=10, generations=5,
                  seed=3, observed=observed, resume=True)
    with pytest.raises(InputError, match="nothing to resume"):
        calibrate(problem, tmp_path / "empty", simulations=100, population=10, resume=True,
                  observed=observed)
