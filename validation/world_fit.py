"""How far the simulated world's phase and PTS-level shares are from the record, per year.

Builds the world of ``--data`` from ``--first`` (data up to that year only for the start), runs
it to ``--last`` at the model defaults for a few seeds (or, with ``--posterior``, once at each
of ``--draws`` posterior draws: a posterior predictive check), and compares with the record cut
at ``--last`` on the same country-years. Prints the yearly total-variation distances, the
simulated and recorded shares every fifth year, the phase rise/fall rates, and last
``max_tv_phase: X max_tv_pts: Y`` over 1980-``--last``. A development check, not a score:

    python validation/world_fit.py --data ../shared/data --first 1976 --last 2010
    python validation/world_fit.py --data ../shared/data --posterior runs/cal --draws 20
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from spirallab.confront.calibrate import Posterior, build_problem
from spirallab.confront.record import load_record
from spirallab.confront.summaries import share_table, tv_distance
from spirallab.model.params import PARAMETERS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--first", type=int, default=1976)
    ap.add_argument("--last", type=int, default=2010)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--posterior", type=Path, default=None)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE parameter override")
    ap.add_argument("--pts-noise", type=float, default=0.6)
    ap.add_argument("--pts-country-sd", type=float, default=0.6)
    ap.add_argument("--pts-country-rho", type=float, default=1.0)
    ap.add_argument("--pts-accountability", type=float, default=0.0)
    args = ap.parse_args()
    record = load_record(args.data, until=args.last)
    problem = build_problem(record, args.first, args.last)
    theta: dict[str, float] = {
        "pts_noise": args.pts_noise,
        "pts_country_sd": args.pts_country_sd,
        "pts_country_rho": args.pts_country_rho,
        "pts_accountability": args.pts_accountability,
    }
    overrides: dict[str, float] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            ap.error(f"--set {item!r}: expected NAME=NUMBER")
        if not sep or not name.strip():
            ap.error(f"--set {item!r}: expected NAME=NUMBER")
    known = {par.name for par in PARAMETERS} | set(theta)
    unknown = sorted(set(overrides) - known)
    if unknown:
        ap.error(f"--set: unknown parameter {', '.join(unknown)} (see spirallab explain)")
    if args.posterior is not None:
        draws = Posterior.load(args.posterior).sample(args.draws, seed=1)
        # --set comes last, so an override also replaces a calibrated parameter's draws.
        points = [{**theta, **draws.iloc[i].to_dict(), **overrides} for i in range(args.draws)]
    else:
        points = [{**theta, **overrides}] * args.seeds
    stats = [problem.simulate_stats(point, 100 + i) for i, point in enumerate(points)]
    sim = {k: np.mean([s[k] for s in stats], axis=0) for k in stats[0]}
    rec = problem.observed_stats()
    years = problem.model.setup.years
    tv = pd.DataFrame(
        {
            "tv_phase": tv_distance(share_table(rec, years, "phase_share").to_numpy(),
                                    share_table(sim, years, "phase_share").to_numpy()),
            "tv_pts": tv_distance(share_table(rec, years, "pts_share").to_numpy(),
                                  share_table(sim, years, "pts_share").to_numpy()),
        },
        index=years,
    )
    shown = years[(years % 5 == 0)]
    for key in ("phase_share", "pts_share"):
        r = share_table(rec, years, key).loc[shown].round(2)
        s = share_table(sim, years, key).loc[shown].round(2)
        print(f"{key}: record | simulated")
        print(pd.concat([r, s], axis=1, keys=["record", "sim"]).to_string())
    n = len(rec["phase_moves"]) // 2
    print("phase rises per decade: record", np.round(rec["phase_moves"][:n], 3),
          "sim", np.round(sim["phase_moves"][:n], 3))
    print("phase falls per decade: record", np.round(rec["phase_moves"][n:], 3),
          "sim", np.round(sim["phase_moves"][n:], 3))
    print("ratified (every 5th year): record", np.round(rec["ratified"], 2),
          "sim", np.round(sim["ratified"], 2))
    print(tv.round(3).T.to_string())
    window = tv.loc[tv.index >= 1980]
    print(f"1980-{args.last}: phase {window.tv_phase.min():.2f}-{window.tv_phase.max():.2f},"
          f" PTS {window.tv_pts.min():.2f}-{window.tv_pts.max():.2f}")
    print(f"years within 0.10: phase {(window.tv_phase <= 0.10).sum()}/{len(window)}, "
          f"pts {(window.tv_pts <= 0.10).sum()}/{len(window)}")
    print(f"max_tv_phase: {window.tv_phase.max():.3f} max_tv_pts: {window.tv_pts.max():.3f}")


if __name__ == "__main__":
    main()
