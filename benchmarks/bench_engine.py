"""Engine throughput: the full model for 10,000 country-replicates over 80 years, on one core.

Runs the built-in synthetic world (150 countries, 1950-2030) with 67 replicates (10,050
country-replicates) several times in this one process and prints the median throughput as its
last line, ``country_steps_per_second: N`` (target: at least 2e7), after the peak resident memory
of the process (target: under 2 GB). The first, warm-up run is not counted.

    python benchmarks/bench_engine.py [--repeats 5] [--replicates 67]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

# One core: keep numpy's own threads out of the measurement.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from spirallab import simulate  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--replicates", type=int, default=67)
    args = ap.parse_args()

    scenario = load_scenario("world-150")
    simulate(scenario, replicates=8, seed=0)  # warm-up: imports, caches
    rates, seconds = [], []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        result = simulate(scenario, replicates=args.replicates, seed=i)
        dt = time.perf_counter() - t0
        n_countries = len(result.country_ids)
        n_steps = (len(result.years) - 1) * round(1 / result.setup.step)
        country_steps = n_countries * args.replicates * n_steps
        rates.append(country_steps / dt)
        seconds.append(dt)
        del result
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"country_replicates: {n_countries * args.replicates}")
    print(f"years: {n_steps}")
    print(
        f"seconds_median: {statistics.median(seconds):.3f} (runs: "
        + ", ".join(f"{s:.3f}" for s in seconds)
        + ")"
    )
    print(f"peak_memory_mb: {peak_mb:.0f}")
    print(f"country_steps_per_second: {statistics.median(rates):.4g}")


if __name__ == "__main__":
    main()
