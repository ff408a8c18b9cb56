"""Sweep scaling: the same experiment with 1 and 2 local workers, and on a 2-worker Dask cluster.

Writes a Latin-hypercube experiment over three parameters of the book-eleven scenario (by default
240 points x 50 replicates), runs it into fresh folders and reports median wall times over the
repeats, the parallel efficiency ``t1 / (2 * t2)`` and the overhead of the Dask path relative to
local processes (``t_dask / t2 - 1``; the cluster is started before the clock starts, as a user's
cluster would already be running). Every run's results are checked to be identical. The last line
is ``scaling_efficiency_2_workers: E``.

    python benchmarks/bench_sweep.py [--points 240] [--replicates 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import pandas as pd  # noqa: E402

from spirallab.experiments.store import SweepStore  # noqa: E402
from spirallab.experiments.sweep import sweep  # noqa: E402

EXPERIMENT = """
name = "bench-sweep"
scenario = "book-eleven"
replicates = {replicates}
seed = 1
budget_runs = 10_000_000

[design]
kind = "lhs"
samples = {points}

[[factors]]
name = "parameters.lobbying_efficacy"
low = 0.3
high = 1.0

[[factors]]
name = "parameters.mobilisation_rate"
low = 0.1
high = 1.0

[[factors]]
name = "parameters.crackdown_rate"
low = 0.0
high = 1.0
"""


def write_experiment(path: Path, points: int, replicates: int) -> Path:
    """The benchmark experiment: a Latin hypercube over three parameters of book-eleven."""
    path.write_text(EXPERIMENT.format(points=points, replicates=replicates))
    return path


def _timed(run: object, out: Path) -> float:
    t0 = time.perf_counter()
    run(out)  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=240)
    ap.add_argument("--replicates", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        exp = write_experiment(root / "bench.toml", args.points, args.replicates)
        times: dict[str, list[float]] = {"1 worker": [], "2 workers": [], "dask, 2 workers": []}
        frames: list[pd.DataFrame] = []
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            runners = {
                "1 worker": lambda out: sweep(exp, out, workers=1),
                "2 workers": lambda out: sweep(exp, out, workers=2),
                "dask, 2 workers": lambda out: sweep(exp, out, scheduler=cluster.scheduler_address),
            }
            sweep(exp, root / "warmup", workers=2)
            for rep in range(args.repeats):
                for label, run in runners.items():
                    out = root / f"{label.replace(' ', '_').replace(',', '')}-{rep}"
                    times[label].append(_timed(run, out))
                    frames.append(SweepStore.open(out).summaries())
        for other in frames[1:]:
            pd.testing.assert_frame_equal(other, frames[0], check_exact=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    runs = args.points * args.replicates
    print(f"experiment: {args.points} points x {args.replicates} replicates, book-eleven")
    print(f"machine: {os.cpu_count()} cores; results identical across all runs: yes")
    for label, t in med.items():
        print(
            f"{label:>16}: median {t:6.2f} s  ({runs / t:,.0f} runs/s)  all: "
            + ", ".join(f"{x:.2f}" for x in times[label])
        )
    efficiency = med["1 worker"] / (2 * med["2 workers"])
    overhead = med["dask, 2 workers"] / med["2 workers"] - 1
    print(f"dask_overhead_vs_local_processes: {overhead:+.1%}")
    print(f"scaling_efficiency_2_workers: {efficiency:.2f}")


if __name__ == "__main__":
    main()
