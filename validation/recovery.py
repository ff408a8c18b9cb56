"""Parameter recovery and simulation-based calibration, fuller than the CI test.

Draws ``--truths`` parameter points from the prior of ``--parameters`` (default: four of the
calibrated parameters), simulates a synthetic world at each, calibrates on its statistics with
the same ABC-SMC as ``spirallab calibrate`` and reports how often the 50% and 90% posterior
intervals cover the truth (they should about 50% and 90% of the time) and the posterior-to-prior
width ratio. The last line is ``coverage_90: X``.

    python validation/recovery.py [--truths 20] [--simulations 1500] [--countries 60]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from spirallab.confront.calibrate import PRIORS, prior_draws, recovery, synthetic_problem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--truths", type=int, default=20)
    ap.add_argument("--simulations", type=int, default=1500)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--countries", type=int, default=60)
    ap.add_argument("--parameters", default="concession_rate,prescriptive_rate,backslide_rate,"
                    "pts_noise")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    names = args.parameters.split(",")
    priors = tuple(p for p in PRIORS if p[0] in names)
    problem = synthetic_problem(n_countries=args.countries, priors=priors)
    truths = prior_draws(priors, args.truths, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        table = recovery(problem, truths, Path(tmp), simulations=args.simulations,
                         population=args.population, generations=20)
    table["width_ratio"] = [
        (r.q95 - r.q05) / (0.9 * (hi - lo))
        for r in table.itertuples()
        for name, lo, hi in priors
        if name == r.parameter
    ]
    summary = table.groupby("parameter")[["in50", "in90", "width_ratio"]].mean()
    print(table.round(3).to_string(index=False))
    print("\ncoverage of the 50% and 90% intervals, mean width ratio (posterior / prior)")
    print(summary.round(3).to_string())
    print(f"coverage_50: {table['in50'].mean():.3f}")
    print(f"coverage_90: {table['in90'].mean():.3f}")


if __name__ == "__main__":
    main()
