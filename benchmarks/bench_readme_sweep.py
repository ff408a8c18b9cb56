"""The README's sweep, timed as a user would run it: median wall time of repeated runs, with load.

Runs ``spirallab sweep boomerang-sobol --workers 2`` into a fresh folder ``--repeats`` times (the
whole command, interpreter start included) and prints each time with the 1-minute load average
read just before it, then the median. Other work on the machine slows it down: quote the load
with the figure. The last line is ``readme_sweep_median_s: T``.

    python benchmarks/bench_readme_sweep.py [--repeats 3] [--workers 2] [--experiment NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--experiment", default="boomerang-sobol")
    args = ap.parse_args()

    times: list[float] = []
    for i in range(args.repeats):
        out = Path(tempfile.mkdtemp(prefix="readme-sweep-")) / "store"
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "spirallab",
                "sweep",
                args.experiment,
                "--out",
                str(out),
                "--workers",
                str(args.workers),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - t0)
        shutil.rmtree(out.parent, ignore_errors=True)
        print(f"run {i + 1}: {times[-1]:.1f} s (load average before: {load:.2f})", flush=True)
    print(f"cores: {os.cpu_count()}; load average now: {os.getloadavg()[0]:.2f}")
    print(f"readme_sweep_median_s: {statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
