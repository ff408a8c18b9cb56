"""A/B engine throughput: two source trees of spirallab, alternated, on a shared machine.

On a machine shared with other engineers' tests single figures swing by 2x as the load changes,
so a speed change is measured by alternating the old and the new code: one process per source
tree and round (``--rounds``), A B A B ..., each timing ``--repeats`` runs of world-150 x 67
replicates (``--levers``: with every lever kind), full (22 observables and the events frame)
and lean (phase and repression, no events), by the process's CPU time (what the load steals
from a process is mostly wall time).
Prints each round, the medians per tree, the ratio B/A, ``uptime`` before and after, and last
``ab_lean_ratio: R``.

    python benchmarks/bench_engine_ab.py --a /tmp/old/src --b src [--rounds 3] [--repeats 5]

Each tree needs its kernel compiled once (the first round pays it; it is not timed).
"""

from __future__ import annotations

import os
import statistics

from source_trees import load_average, run_child, tree_arguments

_CHILD = r"""
import json, os, sys, time
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
from spirallab import simulate
from spirallab.scenarios.load import load_scenario
from spirallab import Scenario
from spirallab.model.setup import LEVER_KINDS
repeats, replicates, levers = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
sc = load_scenario("world-150")
if levers:  # every lever kind, as benchmarks/check_kernel_identity.py
    d = sc.model_dump(mode="json")
    d["levers"] = [
        {"kind": k, "start": 1955 + 6 * i, "end": 2020, "strength": 0.25, "phases": [1 + i % 5]}
        for i, k in enumerate(LEVER_KINDS)
    ]
    sc = Scenario.model_validate(d)
simulate(sc, replicates=8, seed=0)  # warm-up: the compiled kernel, the synthetic world
out = {"lean": [], "full": []}
for kind in ("lean", "full"):
    for i in range(repeats):
        t0 = time.process_time()
        r = simulate(sc, replicates=replicates, seed=i, events=kind == "full",
                     observables=("phase", "repression") if kind == "lean" else None)
        dt = time.process_time() - t0
        steps = len(r.country_ids) * replicates * (len(r.years) - 1) * round(1 / r.setup.step)
        out[kind].append(steps / dt)
        del r
print(json.dumps(out))
"""


def run_tree(src: str, repeats: int, replicates: int, levers: bool) -> dict[str, list[float]]:
    """Rates (country-steps per CPU second) of one process running the tree at ``src``."""
    rates: dict[str, list[float]] = run_child(src, _CHILD, repeats, replicates, int(levers))
    return rates


def main() -> None:
    ap = tree_arguments(__doc__, repeats=5)
    ap.add_argument("--levers", action="store_true", help="world-150 with every lever kind")
    args = ap.parse_args()
    print(f"load_average_before: {load_average()} on {os.cpu_count()} CPUs")
    for src in (args.a, args.b):  # compile (or load) each kernel once, untimed
        run_tree(src, 1, 8, args.levers)
    pooled: dict[str, dict[str, list[float]]] = {
        "A": {"lean": [], "full": []},
        "B": {"lean": [], "full": []},
    }
    for k in range(args.rounds):
        for name, src in (("A", args.a), ("B", args.b)):
            rates = run_tree(src, args.repeats, args.replicates, args.levers)
            for kind in ("lean", "full"):
                pooled[name][kind] += rates[kind]
            print(
                f"round {k + 1} {name}: lean {statistics.median(rates['lean']):.4g}, "
                f"full {statistics.median(rates['full']):.4g} (load {load_average()})"
            )
    ratios = {}
    for kind in ("full", "lean"):
        a, b = statistics.median(pooled["A"][kind]), statistics.median(pooled["B"][kind])
        ratios[kind] = b / a
        print(f"{kind}: A {a:.4g}, B {b:.4g} country-steps per CPU second, B/A {b / a:.3f}")
    print(f"load_average_after: {load_average()}")
    print(f"ab_full_ratio: {ratios['full']:.3f}")
    print(f"ab_lean_ratio: {ratios['lean']:.3f}")


if __name__ == "__main__":
    main()
