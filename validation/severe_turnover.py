"""Who is severely repressive late in the record, and were they so at the world's start?

For the record's country-years ``--late-from``-``--last`` with mean PTS of at least ``--severe``:
their countries' level at the world's start (``1 + 4 r0`` as `spirallab world` sets it), the
share that started below 3, the share under an insurgency spell of the scenario, and how many of
the countries severe in the first ``--early-years`` years still are. The model's own level of
repression is fixed per state, so a record where severe states turn over is one it cannot
follow (docs/calibration.md, "Third round"):

    python validation/severe_turnover.py --data ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spirallab.confront.calibrate import build_problem
from spirallab.confront.record import load_record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--first", type=int, default=1976)
    ap.add_argument("--last", type=int, default=2010)
    ap.add_argument("--late-from", type=int, default=2003)
    ap.add_argument("--early-years", type=int, default=7)
    ap.add_argument("--severe", type=float, default=3.5)
    args = ap.parse_args()
    problem = build_problem(load_record(args.data, until=args.last), args.first, args.last)
    obs, setup = problem.observed, problem.model.setup
    years = obs.years
    n = (~np.isnan(obs.pts)).sum(axis=-1)
    pts = np.where(n > 0, np.nansum(obs.pts, axis=-1) / np.maximum(n, 1), np.nan)
    political0 = setup.base_repression.astype(np.float64)
    endemic0 = setup.endemic_base.astype(np.float64)
    start_level = 1.0 + 4.0 * (1.0 - (1.0 - political0) * (1.0 - endemic0))
    insurgency = setup.insurgency.astype(np.float64)

    late = years >= args.late_from
    severe = pts[late] >= args.severe
    countries = np.nonzero(severe)[1]
    print(f"record country-years {args.late_from}-{args.last} with mean PTS >= {args.severe}:"
          f" {int(severe.sum())} in {len(set(countries.tolist()))} countries")
    print(f"  their start level: mean {start_level[countries].mean():.2f}; started >= "
          f"{args.severe}: {(start_level[countries] >= args.severe).mean():.2f}; started < 3: "
          f"{(start_level[countries] < 3).mean():.2f}; in countries starting after {args.first}:"
          f" {(setup.starts[countries] > args.first).mean():.2f}")
    scored = ~np.isnan(pts[late])
    print(f"  under an insurgency spell: {insurgency[late][severe].mean():.2f} (all scored "
          f"country-years: {insurgency[late][scored].mean():.2f})")
    early = years < args.first + args.early_years
    early_severe = sorted(set(np.nonzero(pts[early] >= args.severe)[1].tolist()))
    counted = (~np.isnan(pts[late])).sum(axis=0)
    late_mean = np.where(
        counted > 0, np.nansum(pts[late], axis=0) / np.maximum(counted, 1), np.nan
    )
    still = sum(1 for c in early_severe if late_mean[c] >= args.severe)
    print(f"countries at >= {args.severe} in {args.first}-{args.first + args.early_years - 1}:"
          f" {len(early_severe)}, still so on average in {args.late_from}-{args.last}: {still}")


if __name__ == "__main__":
    main()
