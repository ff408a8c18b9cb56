"""Mean PTS by phase and period: the record's against the simulated world's (issue 10).

The record's side: each coded country-year in the coder's most likely phase, its mean PTS over
the sources that score it. The simulated side: each country-year the record scores, in its
simulated phase, the model's ``1 + 4 r`` (the observation model's mean before source bias and
noise). Also the share of the simulated denial pool that started the run in denial or phase 1
(composition), the mean base repression of the states in each phase (``1 + 4 r`` of their start
repression) and the share of country-years under an insurgency, so that a change in a phase's
mean can be told apart as composition (which states) or practice (how they repress). Runs the
world of ``--data`` from ``--first`` to ``--last`` at the defaults, ``--set`` overrides, or at
``--draws`` posterior draws:

    python validation/pts_by_phase.py --data ../shared/data --posterior runs/c0 --draws 8
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.confront.calibrate import Posterior, build_problem
from spirallab.confront.record import load_record
from spirallab.confront.summaries import share_table, simulated_summaries, tv_distance

PERIODS = ((1976, 1989), (1990, 1999), (2000, 2010))
F64 = npt.NDArray[np.float64]


def _period_means(values: F64, phase: F64, years: npt.NDArray[np.int64]) -> pd.DataFrame:
    """Mean of ``values`` (years, cases) by phase 1-5 and period; NaN where none."""
    rows = {}
    for ph in range(1, 6):
        cells = []
        for lo, hi in PERIODS:
            sel = (years >= lo) & (years <= hi)
            m = (phase[sel] == ph) & ~np.isnan(values[sel])
            cells.append(float(values[sel][m].mean()) if m.any() else np.nan)
        rows[ph] = cells
    return pd.DataFrame(rows, index=[f"{lo}-{hi}" for lo, hi in PERIODS]).T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--first", type=int, default=1976)
    ap.add_argument("--last", type=int, default=2010)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--posterior", type=Path, default=None)
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE parameter override")
    args = ap.parse_args()
    record = load_record(args.data, until=args.last)
    problem = build_problem(record, args.first, args.last)
    obs = problem.observed
    years = obs.years
    theta: dict[str, float] = {}
    for item in args.set:
        name, value = item.split("=")
        theta[name] = float(value)
    if args.posterior is not None:
        draws = Posterior.load(args.posterior).sample(args.draws, seed=1)
        points = [{**draws.iloc[i].to_dict(), **theta} for i in range(args.draws)]
    else:
        points = [theta] * args.seeds

    coded = ~np.isnan(obs.phase_probs).any(axis=-1)
    rec_phase = np.where(coded, np.argmax(np.nan_to_num(obs.phase_probs), axis=-1) + 1.0, 0.0)
    n_src = (~np.isnan(obs.pts)).sum(axis=-1)
    rec_pts = np.where(n_src > 0, np.nansum(obs.pts, axis=-1) / np.maximum(n_src, 1), np.nan)
    setup = problem.model.setup
    political0 = setup.base_repression.astype(np.float64)
    endemic0 = setup.endemic_base.astype(np.float64)
    start_rep = 1.0 + 4.0 * (1.0 - (1.0 - political0) * (1.0 - endemic0))
    insurgent = setup.insurgency.astype(np.float64)
    scored = ~np.isnan(rec_pts)

    tables, bases, denial_origin, cy, stats = [], [], [], [], []
    for i, point in enumerate(points):
        params = {k: [float(v)] for k, v in point.items()}
        tr = problem.model.run(params, [100 + i], 1)
        stats.append(
            simulated_summaries(
                obs,
                tr.phase[..., 0],
                tr.repression[..., 0],
                tr.ratified[..., 0],
                float(point.get("pts_noise", 0.6)),
                problem.bias,
                float(point.get("pts_country_sd", 0.6)),
                float(point.get("pts_country_rho", 1.0)),
            )
        )
        phase = tr.phase[..., 0].astype(np.float64)
        level = np.where(scored, 1.0 + 4.0 * tr.repression[..., 0].astype(np.float64), np.nan)
        tables.append(_period_means(level, np.where(coded, phase, 0.0), years))
        base = np.where(scored, np.broadcast_to(start_rep, phase.shape), np.nan)
        bases.append(_period_means(base, np.where(coded, phase, 0.0), years))
        first = phase[0]
        origin = np.broadcast_to(np.isin(first, (1.0, 2.0)), phase.shape).astype(np.float64)
        denial_origin.append(_period_means(origin, phase, years))
        cy.append(_period_means(np.broadcast_to(insurgent, phase.shape).copy(), phase, years))
    sim = sum(tables) / len(tables)
    print("mean PTS by phase: record (coder's most likely phase) | simulated (1 + 4 r)")
    rec = _period_means(rec_pts, rec_phase, years)
    print(pd.concat([rec, sim], axis=1, keys=["record", "sim"]).round(2).to_string())
    print("simulated: mean start repression (1 + 4 r0) of the states in each phase")
    print((sum(bases) / len(bases)).round(2).to_string())
    print("simulated: share of each phase's country-years whose state started in phase 1-2")
    print((sum(denial_origin) / len(denial_origin)).round(2).to_string())
    print("simulated: share of each phase's country-years under an insurgency (scenario spells)")
    print((sum(cy) / len(cy)).round(3).to_string())
    share = (insurgent.sum(axis=1) / max(insurgent.shape[1], 1))[years % 5 == 0]
    print("insurgency share of countries every fifth year:", np.round(share, 3).tolist())
    rec_mean = {f"{lo}-{hi}": rec.loc[2, f"{lo}-{hi}"] for lo, hi in PERIODS}
    gap = [round(float(rec_mean[k] - sim.loc[2, k]), 2) for k in rec_mean]
    print(f"denial gap (record - sim) by period: {gap}")
    observed = problem.observed_stats()
    window = years >= 1980
    for key in ("phase_share", "pts_share"):
        mean = np.mean([st[key] for st in stats], axis=0)
        rec_table = share_table(observed, years, key).to_numpy()
        tv = tv_distance(rec_table, share_table({key: mean}, years, key).to_numpy())[window]
        print(f"{key} TV 1980-{args.last}: {tv.min():.3f}-{tv.max():.3f}, mean {tv.mean():.3f},"
              f" years within 0.10: {(tv <= 0.10).sum()}/{len(tv)}")


if __name__ == "__main__":
    main()
