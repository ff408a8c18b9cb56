"""How close the memory estimate of ``spirallab run`` is to the memory a run really takes.

Runs ``spirallab run SCENARIO --replicates R`` in a fresh process for each R (the last one also
writes the report), reads each process's peak resident memory and prints it beside
:func:`spirallab.memory.run_bytes`. The estimate must stay above the measurement (a ratio below
1), or a run it lets through could exhaust memory. The last line is
``memory_measured_over_estimate_max: X``.

    python benchmarks/bench_run_memory.py [--scenario stylised] [--replicates 2000 8000 20000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spirallab.memory import human, run_bytes
from spirallab.model.engine import OBSERVABLES
from spirallab.model.setup import resolve_countries
from spirallab.scenarios.load import load_scenario

PEAK = (
    "import resource, runpy, sys; sys.argv = ['spirallab', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('spirallab', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="stylised")
    ap.add_argument("--replicates", type=int, nargs="+", default=[2000, 8000, 20000])
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    countries = resolve_countries(sc)
    first = sc.start or min(c.start for c in countries)
    years = sc.end - first + 1
    ratios = []
    for i, r in enumerate(args.replicates):
        out = Path(tempfile.mkdtemp(prefix="bench-mem-")) / "run"
        report = [] if i == len(args.replicates) - 1 else ["--no-report"]
        res = subprocess.run(
            [
                sys.executable,
                "-c",
                PEAK,
                "run",
                args.scenario,
                "--replicates",
                str(r),
                "--out",
                str(out),
                *report,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        shutil.rmtree(out.parent, ignore_errors=True)
        peak = int(res.stderr.split("PEAK_KB")[-1].split()[0]) * 1024
        estimate = run_bytes(years, len(countries), r, len(OBSERVABLES))
        ratios.append(peak / estimate)
        print(
            f"{args.scenario} x {r} replicates{'' if report else ' with report'}: peak "
            f"{human(peak)}, estimate {human(estimate)}, ratio {ratios[-1]:.2f}",
            flush=True,
        )
    print(f"memory_measured_over_estimate_max: {max(ratios):.2f}")


if __name__ == "__main__":
    main()
