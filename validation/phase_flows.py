"""Where the simulated world's phase shares go wrong: transitions, spells and the phase-5 inflow.

Builds the world of ``--data`` from ``--first`` as ``world_fit.py`` does, runs it to ``--last``
at one parameter point (``--set NAME=VALUE``, or ``--posterior`` with ``--particle best`` /
``median`` / an index) for ``--replicates`` replicates, and compares with the record on the
same coded country-years (the record's phase: a draw from the coder's probabilities with one
uniform per country and replicate, so an unchanged open set keeps its phase). Prints per decade
the yearly transition rates out of each phase (to each other phase), the mean completed spell
length by phase, the yearly shares split by the starting phase, and where the countries in
phase 5 at ``--last`` started. A development check, not a score:

    python validation/phase_flows.py --data ../shared/data --posterior runs/c0 --particle best
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.confront.calibrate import Posterior, build_problem
from spirallab.confront.record import load_record
from spirallab.confront.simulate import RECORDED
from spirallab.model.engine import run_points

I8 = npt.NDArray[np.int8]


def _point(args: argparse.Namespace) -> dict[str, float]:
    theta: dict[str, float] = {}
    if args.posterior is not None:
        post = Posterior.load(args.posterior)
        parts = post.particles
        if args.particle == "best":
            row = parts.loc[parts["weight"].idxmax()]
        elif args.particle == "median":
            q = post.quantiles([0.5])
            row = pd.Series({n: q.loc[n, 0.5] for n in post.names})
        else:
            row = parts.iloc[int(args.particle)]
        theta = {n: float(row[n]) for n in post.names}
    for item in args.set:
        name, value = item.split("=")
        theta[name] = float(value)
    return theta


def record_draws(probs: npt.NDArray[np.float64], coded: npt.NDArray[np.bool_], replicates: int,
                 seed: int) -> I8:
    """The record's phase as a draw from the coder's probabilities, one uniform per country and
    replicate for all years: an unchanged probability vector (an open set such as ``1|2``) keeps
    its phase, so only a change of the coder's evidence reads as a transition."""
    u = np.random.default_rng(seed).random((1, probs.shape[1], replicates))
    cum = np.cumsum(np.nan_to_num(probs), axis=-1)
    cum = cum / np.maximum(cum[..., -1:], 1e-12)
    phase = 1 + (u[..., None] > cum[..., None, :]).sum(axis=-1)  # (Y, C, R)
    return (np.minimum(phase, 5) * coded[..., None]).astype(np.int8)


def transitions(phase: I8, years: npt.NDArray[np.int64]) -> pd.DataFrame:
    """Yearly rate of moving from each phase to each other, per decade of the later year.

    ``phase`` is (years, countries, replicates) with 0 where unobserved; a pair of consecutive
    observed years counts once.
    """
    a, b = phase[:-1], phase[1:]
    ok = (a > 0) & (b > 0)
    dec = (years[1:] // 10) * 10
    rows = []
    for d in np.unique(dec):
        m = ok & (dec == d)[:, None, None]
        for i in range(1, 6):
            at = m & (a == i)
            n = int(at.sum())
            row = {"decade": int(d), "from": i, "years": n}
            for k in range(1, 6):
                row[f"to{k}"] = float((at & (b == k)).sum() / n) if n and k != i else 0.0
            row["out"] = sum(row[f"to{k}"] for k in range(1, 6))
            rows.append(row)
    return pd.DataFrame(rows)


def spells(phase: I8) -> pd.Series:
    """Mean length of completed spells (entered and left inside the window) by phase."""
    lengths: dict[int, list[int]] = {k: [] for k in range(1, 6)}
    y, c, r = phase.shape
    flat = phase.reshape(y, c * r)
    for col in range(flat.shape[1]):
        s = flat[:, col]
        start, cur = -1, 0
        for t in range(y):
            v = int(s[t])
            if v != cur:
                if cur > 0 and start > 0 and v > 0:
                    lengths[cur].append(t - start)
                start, cur = t, v
    return pd.Series({k: float(np.mean(v)) if v else np.nan for k, v in lengths.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--first", type=int, default=1976)
    ap.add_argument("--last", type=int, default=2010)
    ap.add_argument("--replicates", type=int, default=8)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--posterior", type=Path, default=None)
    ap.add_argument("--particle", default="best")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE parameter override")
    args = ap.parse_args()
    record = load_record(args.data, until=args.last)
    problem = build_problem(record, args.first, args.last)
    theta = _point(args)
    setup = problem.model.setup
    known = {k: np.array([v]) for k, v in theta.items() if k in setup.params}
    rec = run_points(setup, [args.seed], args.replicates, known, observables=RECORDED)
    years = setup.years
    probs = problem.observed.phase_probs
    coded = ~np.isnan(probs).any(axis=-1)
    sim = rec[:, RECORDED.index("phase")].astype(np.int8) * coded[..., None]
    recp = record_draws(probs, coded, args.replicates, args.seed)
    pd.set_option("display.width", 160)
    tr_r, tr_s = transitions(recp, years), transitions(sim, years)
    cols = ["to1", "to2", "to3", "to4", "to5", "out"]
    both = tr_r[["decade", "from", "years"]].copy()
    for c in cols:
        both[f"r_{c}"] = tr_r[c].round(3)
        both[f"s_{c}"] = tr_s[c].round(3)
    print("yearly transition rates by decade (r_ record drawn, s_ simulated):")
    print(both.to_string(index=False))
    print("mean completed spell (years): record", spells(recp).round(1).to_dict(),
          "sim", spells(sim).round(1).to_dict())
    # Shares by the starting phase (the first coded simulated year of each country).
    first_idx = np.argmax(coded, axis=0)
    c_idx = np.arange(sim.shape[1])
    start_sim = sim[first_idx, c_idx]  # (C, R)
    start_rec = recp[first_idx, c_idx]
    shown = years[(years % 5 == 0)]
    for s in range(1, 6):
        out = []
        for y in shown:
            t = int(np.flatnonzero(years == y)[0])
            ms = (sim[t] > 0) & (start_sim == s)
            mr = (recp[t] > 0) & (start_rec == s)
            out.append({"year": int(y),
                        "n_sim": round(float(ms.sum() / sim.shape[2]), 1),
                        **{f"s{k}": round(float((sim[t][ms] == k).mean()), 2) if ms.any()
                           else np.nan for k in range(1, 6)},
                        "n_rec": round(float(mr.sum() / sim.shape[2]), 1),
                        **{f"r{k}": round(float((recp[t][mr] == k).mean()), 2) if mr.any()
                           else np.nan for k in range(1, 6)}})
        print(f"started in phase {s}: shares by year (s simulated, r record drawn)")
        print(pd.DataFrame(out).to_string(index=False))
    t = len(years) - 1
    five = sim[t] == 5
    print(f"phase 5 in {years[t]}: by starting phase (sim)",
          {k: round(float((five & (start_sim == k)).sum() / sim.shape[2]), 1) for k in range(1, 6)},
          "record", {k: round(float(((recp[t] == 5) & (start_rec == k)).sum() / sim.shape[2]), 1)
                     for k in range(1, 6)})


if __name__ == "__main__":
    main()
