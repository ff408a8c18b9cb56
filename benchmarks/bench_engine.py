"""Engine throughput: the full model for 10,000 country-replicates over 80 years, on one core.

Runs the built-in synthetic world (150 countries, 1950-2030) with 67 replicates (10,050
country-replicates) several times in this one process and prints the median throughput as its
last line, ``country_steps_per_second: N`` (target: at least 2e7), after the peak resident memory
of the process (target: under 2 GB). The first, warm-up run is not counted. Just before the last
line, ``defenders_country_steps_per_second: N`` is the same run with ``--defenders`` defenders in
every country (issue 11; 0 skips it).

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

from spirallab import Scenario, simulate  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--replicates", type=int, default=67)
    ap.add_argument(
        "--defenders", type=int, default=10, help="defenders per country in the defenders run"
    )
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
    defender_rates = _with_defenders(scenario, args) if args.defenders > 0 else []
    print(f"country_replicates: {n_countries * args.replicates}")
    print(f"years: {n_steps}")
    print(
        f"seconds_median: {statistics.median(seconds):.3f} (runs: "
        + ", ".join(f"{s:.3f}" for s in seconds)
        + ")"
    )
    print(f"peak_memory_mb: {peak_mb:.0f}")
    if defender_rates:  # issue 11: the same run with defenders in every country
        print(
            f"defenders_country_steps_per_second: {statistics.median(defender_rates):.4g}"
            f" ({args.defenders} defenders per country, half capital, half rural;"
            " state threat only)"
        )
    print(f"country_steps_per_second: {statistics.median(rates):.4g}")


def _with_defenders(scenario: Scenario, args: argparse.Namespace) -> list[float]:
    """Median-able throughputs of the same run with defenders in every country (issue 11)."""
    half = args.defenders // 2
    d = scenario.model_dump(mode="json")
    d["defenders"] = {
        "groups": [
            {"group": "capital", "count": args.defenders - half, "visibility": 0.4, "network": 0.7},
            {"group": "rural", "count": half, "location": "rural", "network": 0.3},
        ]
    }
    with_defenders = Scenario.model_validate(d)
    simulate(with_defenders, replicates=8, seed=0)  # warm-up
    rates = []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        result = simulate(with_defenders, replicates=args.replicates, seed=i)
        dt = time.perf_counter() - t0
        n_steps = (len(result.years) - 1) * round(1 / result.setup.step)
        rates.append(len(result.country_ids) * args.replicates * n_steps / dt)
        del result
    return rates


if __name__ == "__main__":
    main()
