"""Wall time of the default calibration, the command a user runs (issue 10: under 15 minutes on
2 cores).

Runs ``spirallab calibrate --data DATA --train 1976-YEAR --out TMP --workers 2`` (the default
budget: 6,000 simulations, population 200) in a subprocess, ``--repeats`` times with seeds 1,
2, ..., each into a fresh folder, after one small calibration that lets Numba compile or load
the kernel (a user's first run on a fresh checkout pays that too, about a minute, and it is not
counted here). Prints each run's wall time, simulations, generations and the load average when
it started, then the median last: ``calibrate_default_seconds: S``.

    python benchmarks/bench_calibrate.py --data ../shared/data [--last 2012] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def calibrate(data: Path, last: int, out: Path, seed: int, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "spirallab.cli", "calibrate", "--data", str(data),
           "--train", f"1976-{last}", "--out", str(out), "--workers", "2",
           "--seed", str(seed), *extra]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--last", type=int, default=2012, help="last training year")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = calibrate(args.data, args.last, Path(tmp) / "warm", 1,
                         ["--simulations", "200", "--population", "100"])
        print(f"warm-up (compile or load the kernel, 200 simulations): {warm:.1f} s")
        for i in range(args.repeats):
            out = Path(tmp) / f"run{i}"
            load = os.getloadavg()[0]
            seconds = calibrate(args.data, args.last, out, i + 1, [])
            meta = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
            times.append(seconds)
            print(f"seed {i + 1}: {seconds:.1f} s wall, {meta['simulations']} simulations, "
                  f"{meta['generations']} generations, load average at start {load:.1f}")
    print(f"calibrate_default_seconds: {statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
