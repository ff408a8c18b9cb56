"""Where a full run's time goes beyond a lean one: kernel, record memory, event rows, frame.

Times ``--repeats`` runs of world-150 x ``--replicates`` replicates, full (22 observables and the
events frame) and lean (phase and repression, no events), by the process's CPU time (which the
load steals little of), and splits each call into: the kernel calls (``kernel.run_tile``), the
event rows of the codes (``events.tile_rows``), the events frame (``engine._events_frame``),
``pd.concat`` of the chunks' frames in ``simulate``, and the rest (setup, checks, the result).
The kernel's share is split again by runs of the engine alone (``engine.run``): 2 or 22
observables, event codes or none, records allocated fresh or touched beforehand (what faulting
in their memory costs). Medians; the load average is printed first.

    python benchmarks/profile_full.py [--repeats 7] [--replicates 67]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from spirallab import simulate  # noqa: E402
from spirallab.model import engine, kernel  # noqa: E402
from spirallab.model.setup import build_setup  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402

LEAN = ("phase", "repression")
spent: defaultdict[str, float] = defaultdict(float)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.process_time() - t0

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--replicates", type=int, default=67)
    args = ap.parse_args()
    print(f"load_average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    sc = load_scenario("world-150")
    simulate(sc, replicates=8, seed=0)  # warm-up: the compiled kernel and event walk
    kernel.run_tile = timed("kernel", kernel.run_tile)
    engine.tile_rows = timed("event rows", engine.tile_rows)  # type: ignore[attr-defined]
    engine._events_frame = timed("events frame", engine._events_frame)  # type: ignore[assignment]
    pd.concat = timed("concat", pd.concat)  # type: ignore[assignment]
    parts = ("kernel", "event rows", "events frame", "concat")
    for kind in ("lean", "full"):
        rows: defaultdict[str, list[float]] = defaultdict(list)
        for i in range(args.repeats):
            spent.clear()
            t0 = time.process_time()
            r = simulate(
                sc,
                replicates=args.replicates,
                seed=i,
                events=kind == "full",
                observables=LEAN if kind == "lean" else None,
            )
            total = time.process_time() - t0
            del r
            rows["total"].append(total)
            for p in parts:
                rows[p].append(spent[p])
            rows["rest"].append(total - sum(spent[p] for p in parts))
        print(
            f"{kind}: "
            + ", ".join(f"{k} {statistics.median(v) * 1e3:.1f} ms" for k, v in rows.items())
        )
    # The kernel alone: what the records and the event codes each cost it, and fresh memory.
    setup = build_setup(sc)
    for obs, with_events, fresh in (
        (LEAN, False, True),
        (LEAN, True, True),
        (engine.OBSERVABLES, False, False),
        (engine.OBSERVABLES, False, True),
        (engine.OBSERVABLES, True, True),
    ):
        shape = (len(setup.years), len(obs), setup.n_countries, args.replicates)
        kept = np.ones(shape, dtype=np.float32)
        times = []
        for i in range(args.repeats):
            rec = np.empty(shape, dtype=np.float32) if fresh else kept
            spent.clear()
            engine.run(setup, args.replicates, i, events=with_events, observables=obs, records=rec)
            times.append(spent["kernel"])
            del rec
        print(
            f"kernel alone, {len(obs)} observables, events {'on' if with_events else 'off'}, "
            f"{'fresh records' if fresh else 'records touched before'}: "
            f"{statistics.median(times) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
