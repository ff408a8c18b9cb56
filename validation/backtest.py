"""Backtest: train 1976-2003 (a random fifth of countries held out), forecast 2004-2012 from 2003.

Calibrates the full spiral model and its two rivals (no boomerang; realist: no network, no world
time) the same way, forecasts every country, scores them beside persistence, the Markov chains and
climatology, and prints the mean log score per horizon for the trained and the held-out
countries, with 90% paired bootstrap intervals over countries for the difference of the spiral
model from every other method. Then it prints where the forecast loses: its drift (mean forecast
level minus mean observed level) per horizon and by the phase coded at the origin. Last it
simulates the calibrated world from 1976 to 2010 and prints the total-variation distance of its
phase and PTS-level shares from the record per year 1980-2010 (2004-2010 are out of the training
window). The last line is ``log_score_gap_spiral_minus_persistence: X`` (mean over all scored
rows; positive means the spiral model wins).

``--folds K`` (K > 1) splits the countries into K seeded fifths (or K-ths) and leaves each out
in turn: every country is held out once, and the held-out scores are pooled (K times the work).
The default, one fold, leaves out one seeded random fifth, as `calibrate --holdout 0.2` does.

``--select`` chooses forecasting settings by an inner backtest that reads only data up to the
origin: the full model calibrated on FIRST..(origin - H) (H = to - origin, the same held-out
countries left out), each candidate forecast from origin - H to the origin and scored on the
trained countries over those years; the best candidate is then used from the origin
(``spiral:selected``), and a linear pool with persistence whose weight the inner backtest chose
is scored as its own method (``blend:spiral+persistence``). No outcome after the origin chooses
anything.

The same as running, for each rival R in full, no-boomerang, realist:

    spirallab calibrate --data DATA --train 1976-2003 --holdout 0.2 --rival R --out OUT/cal-R
    spirallab forecast --posterior OUT/cal-R --data DATA --origin 2003 --to 2012 --out OUT/fc-R
    spirallab score OUT/fc-full --data DATA --rival no-boomerang=OUT/fc-no-boomerang \
        --rival realist=OUT/fc-realist

    python validation/backtest.py --data ../shared/data --out runs/backtest [--simulations 2000]
        [--folds 5] [--select]

The default budget (2,000 simulations per rival, population 100, 2 workers) takes about 6
minutes on 2 idle cores (``--select`` adds an inner calibration and three forecasts per fold);
the wall time is printed before the last line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spirallab.confront.baselines import baseline_forecasts, blend
from spirallab.confront.calibrate import (
    Posterior,
    Problem,
    build_problem,
    calibrate,
    holdout_countries,
    mask_countries,
    posterior_predictive,
)
from spirallab.confront.forecast import ForecastResult, forecast
from spirallab.confront.observation import source_bias
from spirallab.confront.record import Record, load_record
from spirallab.confront.report import share_comparison
from spirallab.confront.score import (
    common_rows,
    interval_table,
    outcomes,
    paired_bootstrap,
    score_rows,
)
from spirallab.confront.scoring import score_forecasts

RIVALS = ("full", "no-boomerang", "realist")
# The forecasting settings the inner backtest chooses between (the first is the default):
# the conditioning window (years of history the filter weighs) and the tempering of the
# history likelihood (how hard the history selects particles).
CANDIDATES: tuple[dict[str, float], ...] = (
    {"window": 10, "temper": 1.0},
    {"window": 20, "temper": 1.0},
    {"window": 10, "temper": 4.0},
    {"window": 20, "temper": 4.0},
)
BLEND_WEIGHTS = np.round(np.linspace(0.0, 1.0, 11), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/backtest"))
    ap.add_argument("--simulations", type=int, default=2000)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--train", default="1976-2003")
    ap.add_argument("--to", type=int, default=2012)
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--folds", type=int, default=1,
                    help="1: one seeded random fifth held out; K > 1: each K-th held out in turn")
    ap.add_argument("--fold-seed", type=int, default=0)
    ap.add_argument("--select", action="store_true",
                    help="choose forecasting settings by an inner backtest before the origin")
    ap.add_argument("--bootstrap", type=int, default=2000, help="bootstrap draws")
    ap.add_argument("--workers", type=int, default=2, help="pyabc multi-core sampler processes")
    ap.add_argument("--reuse", action="store_true", help="reuse finished calibrations in --out")
    ap.add_argument("--no-world", action="store_true", help="skip the total-variation check")
    ap.add_argument("--rivals", default=",".join(RIVALS),
                    help="comma-separated models to calibrate (full must be one)")
    ap.add_argument("--no-control", action="store_true",
                    help="skip the independent-noise control forecast")
    args = ap.parse_args()
    if args.folds < 1:
        ap.error("--folds must be at least 1")
    args.rivals = tuple(r for r in RIVALS if r in args.rivals.split(","))
    if "full" not in args.rivals:
        ap.error(f"--rivals must include full (known: {', '.join(RIVALS)})")
    started = time.perf_counter()
    first, origin = (int(x) for x in args.train.split("-"))
    args.out.mkdir(parents=True, exist_ok=True)
    record = load_record(args.data, until=origin)
    ids = build_problem(record, first, origin).model.setup.country_ids
    folds = held_out_sets(ids, args.folds, args.holdout, args.fold_seed)
    pooled, first_posts = [], None
    for f, held in enumerate(folds):
        out = args.out if args.folds == 1 else args.out / f"fold{f}"
        if args.folds > 1:
            print(f"\n== fold {f + 1} of {args.folds}: {len(held)} countries held out", flush=True)
        scores, posts = run_fold(args, record, first, origin, held, out)
        pooled.append(scores.assign(fold=f))
        first_posts = first_posts or posts
    scores = pd.concat(pooled, ignore_index=True)
    scores.to_parquet(args.out / "backtest_scores.parquet", index=False)
    print_tables(scores, record, origin, args)
    if not args.no_world and first_posts is not None:
        world_check(args, first, first_posts["full"])
    print(f"backtest wall time {time.perf_counter() - started:.0f} s")
    gap = (scores[scores["method"] == "spiral"]["log_score"].mean()
           - scores[scores["method"] == "persistence"]["log_score"].mean())
    print(f"log_score_gap_spiral_minus_persistence: {gap:.4f}")


def held_out_sets(ids: list[str], folds: int, fraction: float, seed: int) -> list[list[str]]:
    """One seeded random ``fraction`` (folds = 1), or a seeded partition into ``folds`` parts."""
    if folds == 1:
        return [holdout_countries(ids, fraction, seed)]
    order = np.random.default_rng(seed).permutation(sorted(ids))
    return [sorted(part.tolist()) for part in np.array_split(order, folds)]


def problem_for(record: Record, first: int, last: int, rival: str, held: list[str]) -> Problem:
    """The calibration problem with exactly ``held`` countries' observations left out."""
    problem = build_problem(record, first, last, rival=rival)
    problem.observed = mask_countries(problem.observed, held)
    problem.bias = source_bias(record.observed()[~record.observed()["country_id"].isin(held)])
    n = len(problem.model.setup.country_ids)
    problem.meta.update(held_out=sorted(held), holdout_fraction=round(len(held) / n, 4))
    return problem


def calibrated(args: Any, record: Record, first: int, last: int, rival: str, held: list[str],
               cal: Path) -> Posterior:
    if args.reuse and (cal / "posterior.parquet").is_file():
        return Posterior.load(cal)
    problem = problem_for(record, first, last, rival, held)
    for seed in (1, 2, 3):
        try:
            return calibrate(problem, cal, simulations=args.simulations,
                             population=args.population, workers=args.workers, seed=seed)
        except AssertionError as exc:
            # pyabc can lose a whole generation's weight (prior / transition density 0); say so
            # and start again from another seed rather than lose the run.
            print(f"{cal.name}: calibration failed at seed {seed} ({exc}); retrying", flush=True)
    raise SystemExit(f"{cal}: calibration failed at seeds 1-3")


def run_fold(args: Any, record: Record, first: int, origin: int, held: list[str], out: Path
             ) -> tuple[pd.DataFrame, dict[str, Posterior]]:
    """Calibrate, forecast and score one fold; its scores with a held-out/trained group."""
    out.mkdir(parents=True, exist_ok=True)
    posts: dict[str, Posterior] = {}
    for rival in args.rivals:
        t0 = time.perf_counter()
        posts[rival] = calibrated(args, record, first, origin, rival, held, out / f"cal-{rival}")
        res = _forecast(posts[rival], record, origin, args.to, out / f"fc-{rival}", True)
        print(f"{rival}: calibrated and forecast in {time.perf_counter() - t0:.0f} s;"
              f" ESS median {res.diagnostics['ess'].median():.1f};"
              f" observation {_brief(res.observation)}", flush=True)
    rivals = {f"spiral:{r}": out / f"fc-{r}" for r in args.rivals if r != "full"}
    if not args.no_control:
        # The control: the full model read through observation models without persistence.
        res = _forecast(posts["full"], record, origin, args.to, out / "fc-independent", False)
        print(f"full, independent observation noise: observation {_brief(res.observation)}")
        rivals["spiral:independent-noise"] = out / "fc-independent"
    if args.select:
        rivals.update(select_and_forecast(args, record, first, origin, held, posts["full"], out))
    score_forecasts(out / "fc-full", args.data, out / "scores", rivals)
    scores = pd.read_parquet(out / "scores" / "scores.parquet")
    scores["group"] = np.where(scores["country_id"].isin(set(held)), "held-out", "trained")
    return scores, posts


def select_and_forecast(args: Any, record: Record, first: int, origin: int, held: list[str],
                        post: Posterior, out: Path) -> dict[str, Path]:
    """The inner backtest (data up to ``origin`` only) and the chosen forecasts from the origin.

    Returns the forecast folders of ``spiral:selected`` and ``blend:spiral+persistence``.
    """
    t0 = time.perf_counter()
    horizon = args.to - origin
    inner = origin - horizon
    inner_record = load_record(args.data, until=inner)
    inner_post = calibrated(args, inner_record, first, inner, "full", held, out / "cal-inner")
    # What happened between the inner origin and the origin: the record cut at the origin.
    observed = outcomes(record)
    observed = observed[observed["year"] > inner]
    trained = sorted(set(record.panel["country_id"]) - set(held))
    frames: dict[str, pd.DataFrame] = {}
    for window in sorted({int(c["window"]) for c in CANDIDATES}):
        tempers = [c["temper"] for c in CANDIDATES if int(c["window"]) == window]
        # One simulation per window; the temperings reweigh the same particles.
        res = forecast(inner_post, inner_record, inner, origin, window=window,
                       temper=tempers[0], also_tempers=tuple(tempers[1:]))
        for t in tempers:
            fc = res.forecasts if t == tempers[0] else res.tempered[t]
            frames[_label({"window": window, "temper": t})] = fc
    base = baseline_forecasts(inner_record, inner, origin, trained,
                              sorted(observed["target"].unique()))
    persistence = base[base["method"] == "persistence"].drop(columns="method")
    inner_scores = _score({**frames, "persistence": persistence}, observed, inner, trained)
    means = inner_scores.groupby("method")["log_score"].mean()
    best = max(frames, key=lambda k: float(means[k]))
    blends = {w: blend(frames[best], persistence, float(w)) for w in BLEND_WEIGHTS}
    blend_scores = _score({f"{w:.2f}": f for w, f in blends.items()}, observed, inner, trained)
    by_weight = blend_scores.groupby("method")["log_score"].mean()
    weight = float(max(by_weight.index, key=lambda k: float(by_weight[k])))
    print(f"inner backtest (origin {inner}, scored {inner + 1}-{origin} on {len(trained)}"
          f" trained countries, {time.perf_counter() - t0:.0f} s): mean log score "
          + ", ".join(f"{k} {means[k]:.3f}" for k in means.index)
          + f"; chosen {best}; blend weight on the spiral model {weight:.1f}"
          f" ({by_weight[f'{weight:.2f}']:.3f} against {by_weight['1.00']:.3f} at 1.0)",
          flush=True)
    chosen = next(c for c in CANDIDATES if _label(c) == best)
    res = forecast(post, record, origin, args.to, window=int(chosen["window"]),
                   temper=chosen["temper"])
    selected = out / "fc-selected"
    _write(res, post, origin, args.to, selected, {"selected": chosen, "inner": means.to_dict()})
    outer_base = baseline_forecasts(record, origin, args.to,
                                    sorted(res.forecasts["country_id"].unique()),
                                    sorted(res.forecasts["target"].unique()))
    mixed = blend(res.forecasts, outer_base[outer_base["method"] == "persistence"], weight)
    pool = out / "fc-blend"
    pool.mkdir(parents=True, exist_ok=True)
    mixed.to_parquet(pool / "forecasts.parquet", index=False)
    meta = {"origin": origin, "to": args.to, "blend": {"spiral": best, "weight": weight},
            "calibration": {**post.meta, "rival": "blend"}}
    (pool / "forecast.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {"spiral:selected": selected, "blend:spiral+persistence": pool}


def _label(c: dict[str, float]) -> str:
    return f"window {int(c['window'])}, temper {c['temper']:g}"


def _score(frames: dict[str, pd.DataFrame], observed: pd.DataFrame, origin: int,
           countries: list[str]) -> pd.DataFrame:
    allf = pd.concat([f.assign(method=m) for m, f in frames.items()], ignore_index=True)
    allf = allf[allf["country_id"].isin(set(countries))]
    return common_rows(score_rows(allf, observed, origin))


def print_tables(scores: pd.DataFrame, record: Record, origin: int, args: Any) -> None:
    held_n = scores.loc[scores["group"] == "held-out", "country_id"].nunique()
    folds = scores["fold"].nunique()
    how = "pooled over folds, each country held out once" if folds > 1 else "one fold"
    print(f"\nMean log score per horizon (origin {origin}; higher is better;"
          f" {held_n} held-out countries, {how})")
    table = scores.pivot_table(index=["group", "horizon"], columns="method", values="log_score")
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 30):
        print(table.round(3).to_string())
        print("\nOverall")
        print(scores.pivot_table(index="group", columns="method", values="log_score").round(3)
              .to_string())
        print("\nPer target (all countries)")
        print(scores.pivot_table(index="target", columns="method", values="log_score").round(3)
              .to_string())
        # How sure: spiral minus each method, 90% paired bootstrap over countries.
        print(f"\nMean log-score difference, spiral minus each method, with 90% intervals"
              f" (paired bootstrap over countries, {args.bootstrap} draws; > 0: spiral better)")
        boots = []
        for group, g in scores.groupby("group"):
            for by in (None, "horizon"):
                b = paired_bootstrap(g, "spiral", by=by, draws=args.bootstrap)
                boots.append(b.assign(group=group, horizon=b["horizon"] if by else "all"))
        boot = pd.concat(boots, ignore_index=True)
        boot["horizon"] = boot["horizon"].astype(str)
        boot.to_csv(args.out / "backtest_differences.csv", index=False)
        shown = boot[boot["method"].isin(["persistence", "markov_regime", "spiral:realist",
                                          "spiral:no-boomerang", "spiral:selected",
                                          "blend:spiral+persistence"])]
        print(interval_table(shown, ["group", "horizon"]).to_string())
        for group in ("trained", "held-out"):
            b = boot[(boot["group"] == group) & (boot["horizon"] == "all")].set_index("method")
            sure = [m for m in b.index if b.loc[m, "lo"] > 0]
            worse = [m for m in b.index if b.loc[m, "hi"] < 0]
            print(f"{group}: spiral surely better than {', '.join(sure) or 'none'};"
                  f" surely worse than {', '.join(worse) or 'none'}")
        where_it_loses(scores, record, origin)
    table.to_csv(args.out / "backtest_by_horizon.csv")


def where_it_loses(scores: pd.DataFrame, record: Record, origin: int) -> None:
    """Drift per horizon and the score by the phase coded at the origin."""
    shown = [m for m in ("spiral", "spiral:realist", "spiral:no-boomerang", "spiral:selected",
                         "blend:spiral+persistence", "persistence") if m in set(scores["method"])]
    s = scores[scores["method"].isin(shown)].copy()
    s["kind"] = np.where(s["target"] == "phase", "phase", "PTS")
    s["drift"] = s["expected"] - s["observed"]
    print("\nDrift: mean forecast level minus mean observed level (PTS 1-5: > 0 forecasts more"
          " repression; phase 1-5: > 0 forecasts a later phase), all countries")
    observed = s[s["method"] == "spiral"].groupby(["kind", "horizon"])["observed"].mean()
    drift = s.pivot_table(index=["kind", "horizon"], columns="method", values="drift")
    print(drift.assign(observed_mean=observed).round(3).to_string())
    coded = record.coded[record.coded["year"] == origin].set_index("country_id")
    probs = coded[["p1", "p2", "p3", "p4", "p5"]].dropna()
    modal = probs.idxmax(axis=1).str[1]
    # "-": no phase information at the origin (undecided, or mostly coder 2.0's state 0).
    scores = scores.assign(origin_phase=scores["country_id"].map(modal).fillna("-"))
    s = s.assign(origin_phase=s["country_id"].map(modal).fillna("-"))
    print("\nBy the phase coded at the origin (most probable): mean log score")
    by_phase = scores.pivot_table(index="origin_phase", columns="method", values="log_score")
    n = scores[scores["method"] == "spiral"].groupby("origin_phase")["country_id"].nunique()
    print(by_phase.round(3).assign(countries=n).to_string())
    print("\nBy the phase coded at the origin: drift (forecast minus observed), PTS and phase")
    print(s.pivot_table(index=["kind", "origin_phase"], columns="method", values="drift")
          .round(3).to_string())
    per_country = scores.pivot_table(index="country_id", columns="method", values="log_score")
    gap = (per_country["spiral"] - per_country["persistence"]).sort_values()
    print("\nCountries where the spiral model loses most to persistence (log score gap)")
    print(gap.head(10).round(3).to_string())
    print(f"spiral beats persistence in {(gap > 0).sum()} of {len(gap)} countries")


def world_check(args: Any, first: int, post: Posterior) -> None:
    """The calibrated world against the record, 1976-2010: total variation per year."""
    record_late = load_record(args.data, until=_last_year(args.data))
    problem = build_problem(record_late, first, int(record_late.until), rival="full")
    problem.bias = dict(post.meta["pts_bias"])  # the training record's source biases
    ppc = posterior_predictive(problem, post, draws=20)
    tv = share_comparison(problem.observed_stats(), ppc, problem.observed.years)
    tv = tv[(tv["year"] >= 1980) & (tv["year"] <= 2010)]
    tv.to_csv(args.out / "tv_1980_2010.csv", index=False)
    print("\nTotal-variation distance, calibrated world vs record (target: <= 0.10 every year)")
    print(tv.round(3).to_string(index=False))
    print(f"max TV phase {tv['tv_phase_share'].max():.3f}, PTS {tv['tv_pts_share'].max():.3f};"
          f" years within 0.10: phase {(tv['tv_phase_share'] <= 0.1).sum()}/{len(tv)},"
          f" PTS {(tv['tv_pts_share'] <= 0.1).sum()}/{len(tv)}")


def _forecast(post: Posterior, record: Any, origin: int, to: int, fc: Path, persistent: bool
              ) -> ForecastResult:
    res = forecast(post, record, origin, to, persistent=persistent)
    _write(res, post, origin, to, fc, {})
    return res


def _write(res: ForecastResult, post: Posterior, origin: int, to: int, fc: Path,
           extra: dict[str, Any]) -> None:
    fc.mkdir(parents=True, exist_ok=True)
    res.forecasts.to_parquet(fc / "forecasts.parquet", index=False)
    res.diagnostics.to_parquet(fc / "diagnostics.parquet", index=False)
    post.particles.to_parquet(fc / "posterior.parquet", index=False)
    meta = {"origin": origin, "to": to, "calibration": post.meta, "observation": res.observation,
            **extra}
    (fc / "forecast.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _brief(observation: dict[str, Any]) -> str:
    pts = "; ".join(f"{s} rho {d['rho']:.3f} sd {d['sd']:.3f} noise {d['noise']:.3f}"
                    for s, d in observation["pts"].items())
    return f"{pts}; phase stay {observation['phase_stay']:.3f}"


def _last_year(data: Path) -> int:
    from spirallab.confront.record import pts_range

    return min(2010, pts_range(data)[1])


if __name__ == "__main__":
    main()
