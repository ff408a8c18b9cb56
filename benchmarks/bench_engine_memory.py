"""Peak memory of one run against the size of its records (target: at most 1.5x).

Runs the synthetic world (150 countries, 80 years) with all 22 observables and the event log in a
fresh process, and compares the growth of the peak resident memory during ``simulate`` with the
bytes of the records array it returns. Prints the sizes and, last, ``peak_over_records: X``.

    python benchmarks/bench_engine_memory.py [--replicates 400]
"""

from __future__ import annotations

import argparse
import os
import resource

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from spirallab import simulate  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replicates", type=int, default=400)
    args = ap.parse_args()
    scenario = load_scenario("world-150")
    simulate(scenario, replicates=2, seed=0)  # imports and the compiled kernel, not counted
    before = peak_mb()
    result = simulate(scenario, replicates=args.replicates, seed=1)
    grown = peak_mb() - before
    records_mb = result.records.nbytes / 2**20
    events_mb = result.events.memory_usage(deep=True).sum() / 2**20
    print(f"replicates: {args.replicates}; events: {len(result.events)} rows, {events_mb:.0f} MB")
    print(f"records_mb: {records_mb:.0f}")
    print(f"peak_growth_mb: {grown:.0f}")
    print(f"peak_over_records: {grown / records_mb:.2f}")


if __name__ == "__main__":
    main()
