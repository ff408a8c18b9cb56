"""Engine throughput on one core: the full model, a lean variant, and how it scales.

Runs the built-in synthetic world (150 countries, 1950-2030, 80 yearly steps) in this one process:

- first call: the seconds the first ``simulate`` of the process takes, which loads the compiled
  kernel from Numba's cache (or compiles it, about a minute, when the cache is cold; say
  ``--compile`` to time a compilation from scratch, without touching the cache);
- full: 67 replicates (10,050 country-replicates) recording all 22 observables and the event log,
  as ``spirallab run`` does (target: at least 2e7 country-steps/s);
- lean: the same recording phase and repression only, without events, as sweeps run (target: at
  least 5e7; stretch 1e8);
- scaling: the lean run at 10^3, 10^4, 10^5 and 10^6 country-replicates (``--max-scale`` lowers the
  top), which must not fall as the run grows; each size's first run is printed beside the median
  (it faults in fresh record memory, see ``timed_rate``).

Medians of ``--repeats`` runs after a warm-up; the machine's load average is printed first. The
headline figures count every country-step of the run, as they always did; beside them the script
prints the share of country-steps before a country's start (``prestart_share``, which the kernel
skips, docs/model.md, Performance) and the same runs' rate over the other, active country-steps
(``active_country_steps_per_second``), so the skip cannot hide in the headline. The
last lines are ``lean_country_steps_per_second: N``, ``defenders_country_steps_per_second: N``
(the full run with ``--defenders`` defenders in every country, issue 11; 0 skips it) and
``country_steps_per_second: N`` (full), after the peak resident memory (target: under 2 GB).

    python benchmarks/bench_engine.py [--repeats 5] [--replicates 67] [--max-scale 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import numpy as np

# One core: keep numpy's own threads out of the measurement.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from spirallab import Scenario, simulate  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402

LEAN = ("phase", "repression")


def timed_rate(
    scenario: object, replicates: int, repeats: int, lean: bool
) -> tuple[float, float, float]:
    """(median seconds, median country-steps per second, first run's rate) of ``repeats`` runs.

    The first run of a size also pays for faulting in its fresh record memory, which on a VM
    that hands freed pages back to its host can take seconds at 10^6 country-replicates (and
    milliseconds once the memory was recently used). The median is of the repeats; the first
    is printed beside it.
    """
    rates, seconds = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        result = simulate(
            scenario,  # type: ignore[arg-type]
            replicates=replicates,
            seed=i,
            events=not lean,
            observables=LEAN if lean else None,
        )
        dt = time.perf_counter() - t0
        n_steps = (len(result.years) - 1) * round(1 / result.setup.step)
        rates.append(len(result.country_ids) * replicates * n_steps / dt)
        seconds.append(dt)
        del result
    return statistics.median(seconds), statistics.median(rates), rates[0]


def prestart_share(scenario: object) -> float:
    """Share of the run's country-steps before the country's start (``start > year``)."""
    from spirallab.model.setup import build_setup

    setup = build_setup(scenario)  # type: ignore[arg-type]
    years = np.repeat(setup.years[1:], setup.steps_per_year)
    return float((setup.starts[:, None] > years[None, :]).mean())


def compile_seconds() -> float:
    """Seconds to compile the kernel from scratch (a fresh dispatcher, no cache)."""
    from spirallab.model import engine, kernel
    from spirallab.model.f32math import njit

    fresh = njit(nogil=True, error_model="numpy", _nrt=False)(kernel.run_tile.py_func)
    cached = kernel.run_tile
    kernel.run_tile = fresh
    try:
        t0 = time.perf_counter()
        simulate(load_scenario("stylised"), replicates=1, seed=0)
        return time.perf_counter() - t0
    finally:
        kernel.run_tile = cached
        del engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--replicates", type=int, default=67)
    ap.add_argument(
        "--defenders", type=int, default=10, help="defenders per country in the defenders run"
    )
    ap.add_argument("--max-scale", type=int, default=1_000_000)
    ap.add_argument("--compile", action="store_true", help="also time a compilation from scratch")
    args = ap.parse_args()

    print(f"load_average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    scenario = load_scenario("world-150")
    t0 = time.perf_counter()
    simulate(scenario, replicates=8, seed=0)  # warm-up: imports, the compiled kernel
    print(f"first_call_seconds: {time.perf_counter() - t0:.2f} (kernel from the cache or compiled)")
    if args.compile:
        print(f"compile_seconds: {compile_seconds():.1f}")

    n_countries = 150
    print(
        "scaling (lean): country_replicates, seconds_median, country_steps_per_second"
        " (median; first run)"
    )
    size = 1000
    while size <= args.max_scale:
        replicates = max(1, round(size / n_countries))
        repeats = args.repeats if size <= 100_000 else max(3, args.repeats // 2)
        sec, rate, first = timed_rate(scenario, replicates, repeats, lean=True)
        print(f"  {replicates * n_countries:>9} {sec:9.3f} {rate:.4g} (first {first:.4g})")
        size *= 10

    lean_sec, lean_rate, _ = timed_rate(scenario, args.replicates, args.repeats, lean=True)
    full_sec, full_rate, _ = timed_rate(scenario, args.replicates, args.repeats, lean=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    defender_rates = _with_defenders(scenario, args) if args.defenders > 0 else []
    print(f"country_replicates: {n_countries * args.replicates}")
    print(f"steps: 80; seconds_median full {full_sec:.3f}, lean {lean_sec:.3f}")
    print(f"peak_memory_mb: {peak_mb:.0f}")
    share = prestart_share(scenario)
    print(
        f"prestart_share: {share:.3f}; active_country_steps_per_second: lean"
        f" {lean_rate * (1 - share):.4g}, full {full_rate * (1 - share):.4g}"
    )
    print(f"lean_country_steps_per_second: {lean_rate:.4g}")
    if defender_rates:  # issue 11: the full run with defenders in every country
        print(
            f"defenders_country_steps_per_second: {statistics.median(defender_rates):.4g}"
            f" ({args.defenders} defenders per country, half capital, half rural;"
            " state threat only)"
        )
    print(f"country_steps_per_second: {full_rate:.4g}")


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
