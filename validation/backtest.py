"""Backtest: train 1976-2003 (a random fifth of countries held out), forecast 2004-2012 from 2003.

Calibrates the full spiral model and its two rivals (no boomerang; realist: no network, no world
time) the same way, forecasts every country, scores them beside persistence, the Markov chains and
climatology, and prints the mean log score per horizon for the trained and the held-out
countries. Then simulates the calibrated world from 1976 to 2010 and prints the total-variation
distance of its phase and PTS-level shares from the record per year 1980-2010 (2004-2010 are out
of the training window). The last line is ``log_score_gap_spiral_minus_persistence: X`` (mean over
all scored rows; positive means the spiral model wins).

The same as running, for each rival R in full, no-boomerang, realist:

    spirallab calibrate --data DATA --train 1976-2003 --holdout 0.2 --rival R --out OUT/cal-R
    spirallab forecast --posterior OUT/cal-R --data DATA --origin 2003 --to 2012 --out OUT/fc-R
    spirallab score OUT/fc-full --data DATA --rival no-boomerang=OUT/fc-no-boomerang \
        --rival realist=OUT/fc-realist

    python validation/backtest.py --data ../shared/data --out runs/backtest [--simulations 2000]

The default budget (2,000 simulations per rival, population 100, 2 workers) is sized to finish
in about 20 minutes on 2 idle cores; the wall time is printed before the last line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spirallab.confront.calibrate import Posterior, build_problem, calibrate, posterior_predictive
from spirallab.confront.forecast import ForecastResult, forecast
from spirallab.confront.record import load_record
from spirallab.confront.report import share_comparison
from spirallab.confront.scoring import score_forecasts

RIVALS = ("full", "no-boomerang", "realist")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/backtest"))
    ap.add_argument("--simulations", type=int, default=2000)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--train", default="1976-2003")
    ap.add_argument("--to", type=int, default=2012)
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=2, help="pyabc multi-core sampler processes")
    ap.add_argument("--reuse", action="store_true", help="reuse finished calibrations in --out")
    args = ap.parse_args()
    started = time.perf_counter()
    first, origin = (int(x) for x in args.train.split("-"))
    args.out.mkdir(parents=True, exist_ok=True)
    record = load_record(args.data, until=origin)
    posts: dict[str, Posterior] = {}
    for rival in RIVALS:
        cal = args.out / f"cal-{rival}"
        t0 = time.perf_counter()
        if args.reuse and (cal / "posterior.parquet").is_file():
            posts[rival] = Posterior.load(cal)
        else:
            problem = build_problem(record, first, origin, rival=rival, holdout=args.holdout)
            posts[rival] = calibrate(problem, cal, simulations=args.simulations,
                                     population=args.population, workers=args.workers)
        res = _forecast(posts[rival], record, origin, args.to, args.out / f"fc-{rival}", True)
        print(f"{rival}: calibrated and forecast in {time.perf_counter() - t0:.0f} s;"
              f" ESS median {res.diagnostics['ess'].median():.1f};"
              f" observation {_brief(res.observation)}", flush=True)
    # The control: the full model read through observation models without persistence.
    res = _forecast(posts["full"], record, origin, args.to, args.out / "fc-independent", False)
    print(f"full, independent observation noise: observation {_brief(res.observation)}")
    rivals = {f"spiral:{r}": args.out / f"fc-{r}" for r in RIVALS if r != "full"}
    rivals["spiral:independent-noise"] = args.out / "fc-independent"
    score_forecasts(args.out / "fc-full", args.data, args.out / "scores", rivals)
    scores = pd.read_parquet(args.out / "scores" / "scores.parquet")
    held = set(posts["full"].meta["held_out"])
    scores["group"] = np.where(scores["country_id"].isin(held), "held-out", "trained")
    print(f"\nMean log score per horizon (origin {origin}; higher is better;"
          f" {len(held)} held-out countries)")
    table = scores.pivot_table(index=["group", "horizon"], columns="method", values="log_score")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
        print("\nOverall")
        print(scores.pivot_table(index="group", columns="method", values="log_score").round(3)
              .to_string())
        print("\nPer target (all countries)")
        print(scores.pivot_table(index="target", columns="method", values="log_score").round(3)
              .to_string())
        # Where it loses: by the phase coded at the origin, and the countries it loses most on.
        coded = record.coded[record.coded["year"] == origin].set_index("country_id")
        probs = coded[["p1", "p2", "p3", "p4", "p5"]].dropna()
        modal = probs.idxmax(axis=1).str[1]
        # "-": no phase information at the origin (undecided, or mostly coder 2.0's state 0).
        scores["origin_phase"] = scores["country_id"].map(modal).fillna("-")
        print("\nBy the phase coded at the origin (most probable)")
        print(scores.pivot_table(index="origin_phase", columns="method", values="log_score")
              .round(3).to_string())
        per_country = scores.pivot_table(index="country_id", columns="method",
                                         values="log_score")
        gap = (per_country["spiral"] - per_country["persistence"]).sort_values()
        print("\nCountries where the spiral model loses most to persistence (log score gap)")
        print(gap.head(10).round(3).to_string())
        print(f"spiral beats persistence in {(gap > 0).sum()} of {len(gap)} countries")
    table.to_csv(args.out / "backtest_by_horizon.csv")
    # The calibrated world against the record, 1976-2010.
    record_late = load_record(args.data, until=_last_year(args.data))
    problem = build_problem(record_late, first, int(record_late.until), rival="full")
    problem.bias = dict(posts["full"].meta["pts_bias"])  # the training record's source biases
    ppc = posterior_predictive(problem, posts["full"], draws=20)
    tv = share_comparison(problem.observed_stats(), ppc, problem.observed.years)
    tv = tv[(tv["year"] >= 1980) & (tv["year"] <= 2010)]
    tv.to_csv(args.out / "tv_1980_2010.csv", index=False)
    print("\nTotal-variation distance, calibrated world vs record (target: <= 0.10 every year)")
    print(tv.round(3).to_string(index=False))
    print(f"max TV phase {tv['tv_phase_share'].max():.3f}, PTS {tv['tv_pts_share'].max():.3f};"
          f" years within 0.10: phase {(tv['tv_phase_share'] <= 0.1).sum()}/{len(tv)},"
          f" PTS {(tv['tv_pts_share'] <= 0.1).sum()}/{len(tv)}")
    print(f"backtest wall time {time.perf_counter() - started:.0f} s")
    gap = (scores[scores["method"] == "spiral"]["log_score"].mean()
           - scores[scores["method"] == "persistence"]["log_score"].mean())
    print(f"log_score_gap_spiral_minus_persistence: {gap:.4f}")


def _forecast(post: Posterior, record: Any, origin: int, to: int, fc: Path, persistent: bool
              ) -> ForecastResult:
    fc.mkdir(parents=True, exist_ok=True)
    res = forecast(post, record, origin, to, persistent=persistent)
    res.forecasts.to_parquet(fc / "forecasts.parquet", index=False)
    res.diagnostics.to_parquet(fc / "diagnostics.parquet", index=False)
    post.particles.to_parquet(fc / "posterior.parquet", index=False)
    meta = {"origin": origin, "to": to, "calibration": post.meta, "observation": res.observation}
    (fc / "forecast.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return res


def _brief(observation: dict[str, Any]) -> str:
    pts = "; ".join(f"{s} rho {d['rho']:.3f} sd {d['sd']:.3f} noise {d['noise']:.3f}"
                    for s, d in observation["pts"].items())
    return f"{pts}; phase stay {observation['phase_stay']:.3f}"


def _last_year(data: Path) -> int:
    from spirallab.confront.record import pts_range

    return min(2010, pts_range(data)[1])


if __name__ == "__main__":
    main()
