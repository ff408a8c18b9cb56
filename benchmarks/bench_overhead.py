"""Per-call overhead outside the compiled kernel: two source trees of spirallab, alternated.

One lean ``simulate`` of world-150 x 67 replicates (phase and repression, no events) spends most
of its time in :func:`spirallab.model.kernel.run_tile`; the rest (``build_setup``, the
parameter and initial tiles, the generator seeds, the events frame, the result) is paid by
every call however small, and is what sweeps and particle filters multiply. Each child process
times ``--repeats`` lean calls by CPU time, with the kernel's calls timed separately by wrapping
``kernel.run_tile``; outside = call - kernel. ``build_setup`` alone is timed too. A and B
alternate in ``--rounds`` rounds (the machine is shared: single figures swing with the load).
Prints medians per tree, ``uptime`` before and after, and last ``outside_kernel_ms_b: X``.

    python benchmarks/bench_overhead.py --a /tmp/old/src --b src [--rounds 3] [--repeats 40]
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
from spirallab.model import kernel
from spirallab.model.setup import build_setup
from spirallab.scenarios.load import load_scenario
repeats, replicates = int(sys.argv[1]), int(sys.argv[2])
sc = load_scenario("world-150")
inner = kernel.run_tile
spent = [0.0]
def timed(*args):
    t0 = time.process_time()
    try:
        return inner(*args)
    finally:
        spent[0] += time.process_time() - t0
kernel.run_tile = timed
lean = dict(events=False, observables=("phase", "repression"))
simulate(sc, replicates=8, seed=0, **lean)  # warm-up: the compiled kernel, the synthetic world
out = {"call": [], "kernel": [], "outside": [], "setup": []}
for i in range(repeats):
    spent[0] = 0.0
    t0 = time.process_time()
    r = simulate(sc, replicates=replicates, seed=i, **lean)
    dt = time.process_time() - t0
    del r
    out["call"].append(dt * 1e3)
    out["kernel"].append(spent[0] * 1e3)
    out["outside"].append((dt - spent[0]) * 1e3)
    t0 = time.process_time()
    build_setup(sc)
    out["setup"].append((time.process_time() - t0) * 1e3)
print(json.dumps(out))
"""

KEYS = ("call", "kernel", "outside", "setup")


def run_tree(src: str, repeats: int, replicates: int) -> dict[str, list[float]]:
    """Milliseconds per lean call (and its parts) of one process running the tree at ``src``."""
    times: dict[str, list[float]] = run_child(src, _CHILD, repeats, replicates)
    return times


def main() -> None:
    ap = tree_arguments(__doc__, repeats=40)
    args = ap.parse_args()
    print(f"load_average_before: {load_average()} on {os.cpu_count()} CPUs")
    pooled: dict[str, dict[str, list[float]]] = {"A": {k: [] for k in KEYS}, "B": {}}
    pooled["B"] = {k: [] for k in KEYS}
    for k in range(args.rounds):
        for name, src in (("A", args.a), ("B", args.b)):
            times = run_tree(src, args.repeats, args.replicates)
            for key in KEYS:
                pooled[name][key] += times[key]
            shown = ", ".join(f"{key} {statistics.median(times[key]):.2f}" for key in KEYS)
            print(f"round {k + 1} {name}: {shown} ms (load {load_average()})")
    med = {n: {key: statistics.median(v) for key, v in t.items()} for n, t in pooled.items()}
    for key in KEYS:
        a, b = med["A"][key], med["B"][key]
        print(f"{key}: A {a:.2f} ms, B {b:.2f} ms, B-A {b - a:+.2f} ms (CPU time, medians)")
    print(f"load_average_after: {load_average()}")
    print(f"outside_kernel_ms_a: {med['A']['outside']:.2f}")
    print(f"outside_kernel_ms_b: {med['B']['outside']:.2f}")


if __name__ == "__main__":
    main()
