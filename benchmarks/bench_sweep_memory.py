"""Sweep memory: peak resident memory of a large sweep that keeps only summaries.

Runs the Latin-hypercube experiment of bench_sweep.py (three parameters of book-eleven; by
default 10,000 points x 100 replicates = one million runs of eleven countries over 83 years)
with two local workers, sampling the resident memory of the whole process tree (the sweep and its
workers) every 0.2 s. It does so first for a tenth of the points: bounded memory means the two
peaks are about the same. The last line is ``peak_memory_mb: N`` for the full sweep.

    python benchmarks/bench_sweep_memory.py [--points 10000] [--replicates 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import psutil  # noqa: E402

from bench_sweep import write_experiment  # noqa: E402  (the same experiment, run larger)
from spirallab.experiments.store import SweepStore  # noqa: E402
from spirallab.experiments.sweep import sweep  # noqa: E402


class TreeMemory:
    """Samples the summed resident memory of this process and its children."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker that just exited
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(root: Path, points: int, replicates: int, workers: int) -> tuple[float, float, int]:
    exp = write_experiment(root / f"mem-{points}.toml", points, replicates)
    out = root / f"out-{points}"
    with TreeMemory() as mem:
        t0 = time.perf_counter()
        sweep(exp, out, workers=workers)
        seconds = time.perf_counter() - t0
    rows = len(SweepStore.open(out).summaries())
    return mem.peak / 2**20, seconds, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = max(1, args.points // 10)
        for n in (small, args.points):
            peak, seconds, rows = measure(Path(tmp), n, args.replicates, args.workers)
            runs = n * args.replicates
            print(
                f"{n:>6,} points x {args.replicates} replicates: {seconds:7.1f} s "
                f"({runs / seconds:,.0f} runs/s), {rows:,} summary rows, "
                f"peak {peak:,.0f} MB (sweep + {args.workers} workers)"
            )
    print(f"peak_memory_mb: {peak:.0f}")


if __name__ == "__main__":
    main()
