"""How far each country's simulated repression moves after its start, by the phase it started in.

A world from data starts at rest (docs/model.md, section 5): what moves a country's practice in
its first years should be the dynamics, not a mismatch between its observed practice and its
starting state. This script runs the world of ``--data`` from ``--first`` to ``--last`` once at
each of ``--draws`` posterior draws (or at the defaults) and prints, for each lag, the mean
change of overall repression (in PTS levels, ``4 x`` the change) since each country's start,
by its starting phase, beside the record's mean change of PTS (the mean of its sources) over the
same years for the countries that start in that phase. Issue 10, ninth round:

    python validation/start_drift.py --data ../shared/data --posterior runs/c18 --draws 20
    python validation/start_drift.py --data ../shared/data --posterior runs/c18 \\
        --set insurgency_repression=0 --no-movement-at-rest

The last line is ``first_year_drift_max: X``, the largest first-year mean over the phases.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spirallab.confront.calibrate import Posterior, build_problem
from spirallab.confront.record import load_record
from spirallab.confront.simulate import WorldModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--first", type=int, default=1976)
    ap.add_argument("--last", type=int, default=2010)
    ap.add_argument("--posterior", type=Path, default=None)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--lags", default="1,2,4,8")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE parameter override")
    ap.add_argument("--no-movement-at-rest", action="store_true")
    args = ap.parse_args()
    record = load_record(args.data, until=args.last)
    problem = build_problem(record, args.first, args.last)
    model = problem.model
    if args.no_movement_at_rest:
        model = WorldModel(model.scenario.model_copy(update={"movement_at_rest": False}))
    setup = model.setup
    n = args.draws
    params: dict[str, np.ndarray] = {}
    if args.posterior is not None:
        draws = Posterior.load(args.posterior).sample(n, seed=0)
        params = {k: draws[k].to_numpy() for k in draws.columns if k in setup.params}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in setup.params:
            ap.error(f"--set {item!r}: expected NAME=NUMBER with a model parameter's name")
        try:
            params[name.strip()] = np.full(n, float(value))
        except ValueError:
            ap.error(f"--set {item!r}: expected NAME=NUMBER")
    runs = model.run(params, list(range(n)), 1)
    years, starts = setup.years, setup.starts
    repression = runs.repression.astype(np.float64)
    first = starts - years[0]
    # The record's own move over the same years, for the countries starting in each phase: the
    # mean of the PTS sources at the start and ``lag`` years later, where both are scored.
    pts = record.panel.set_index(["country_id", "year"])["pts"]
    worst = 0.0
    for lag in (int(x) for x in args.lags.split(",")):
        cells = []
        for phase in range(1, 6):
            moves: list[float] = []
            for c in range(len(starts)):
                i0 = int(first[c])
                if i0 < 0 or i0 + lag >= len(years):
                    continue
                here = runs.phase[i0, c] == phase
                moves.extend(4.0 * (repression[i0 + lag, c, here] - repression[i0, c, here]))
            mean = float(np.mean(moves)) if moves else float("nan")
            if lag == 1 and moves:
                worst = max(worst, abs(mean))
            seen: list[float] = []
            for c, cid in enumerate(setup.country_ids):
                if int(setup.initial_phase[c]) != phase:
                    continue
                a = pts.get((cid, int(starts[c])))
                b = pts.get((cid, int(starts[c]) + lag))
                if a is not None and b is not None and np.isfinite(a) and np.isfinite(b):
                    seen.append(float(b - a))
            rec = f"{np.mean(seen):+.3f}" if seen else "  n/a"
            cells.append(f"phase {phase} {mean:+.3f} (n={len(moves)}; record {rec}, n={len(seen)})")
        print(f"lag {lag}: " + "  ".join(cells))
    print(f"first_year_drift_max: {worst:.3f}")


if __name__ == "__main__":
    main()
