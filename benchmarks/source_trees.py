"""Shared by the A/B benchmarks: run a child script against one source tree of spirallab.

``bench_engine_ab.py`` and ``bench_overhead.py`` compare two trees (an old copy of ``src`` and
the working one) in separate processes, alternating; each child prints its measurements as one
JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any


def run_child(src: str, child: str, *args: object) -> Any:
    """The last JSON line printed by ``python -c child args...`` with ``src`` first on the path."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    done = subprocess.run(
        [sys.executable, "-c", child, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def tree_arguments(description: str | None, repeats: int) -> argparse.ArgumentParser:
    """A parser with the A/B options both benchmarks share: the trees, rounds, repeats, size."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--a", required=True, help="the old tree's src folder")
    ap.add_argument("--b", required=True, help="the new tree's src folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=repeats)
    ap.add_argument("--replicates", type=int, default=67)
    return ap
