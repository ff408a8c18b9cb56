"""Book-eleven with the calibrated posterior: timing errors against the dated outcomes.

Runs the built-in book-eleven scenario at the model defaults and at the calibrated posterior
(``--posterior``: ``replicates`` runs at each of ``--draws`` posterior draws; the observation
model's parameters are not model parameters and are left out), and compares, for every dated
outcome of the scenario (its ``reference_outcomes``, never read by the model), the median year
the simulated country first reaches the outcome's phase with the outcome's year. Prints the
errors per outcome and their mean absolute value before and after; an outcome the country never
reaches in a majority of runs counts as the end year. The last line is
``timing_mae_posterior_years: X``.

    python validation/book_eleven.py --posterior runs/backtest/cal-full
    python validation/book_eleven.py --posterior runs/cal --keep attention_capacity
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from spirallab import Scenario, simulate
from spirallab.confront.calibrate import OBSERVATION_PARAMETERS, Posterior


def entry_years(
    scenario: Scenario, replicates: int, seed: int
) -> dict[tuple[str, int], list[float]]:
    """(country, phase) -> first years reaching the phase, one per replicate (NaN if never)."""
    res = simulate(scenario, replicates=replicates, seed=seed, events=False,
                   observables=["phase"])
    first = res.first_year_reached()
    end = float(res.years[-1])
    out: dict[tuple[str, int], list[float]] = {}
    for c, cid in enumerate(res.country_ids):
        for k in range(1, 6):
            f = first[k - 1, c]
            out[(cid, k)] = [float(v) for v in np.where(np.isnan(f), end + 1, f)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--posterior", type=Path, required=True)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--keep", action="append", default=[],
                    help="a parameter kept at the scenario's own value (e.g. attention_capacity:"
                    " book-eleven's focus-case capacity rather than the world's)")
    args = ap.parse_args()
    base = Scenario.load("book-eleven")
    post = Posterior.load(args.posterior)
    theta = post.sample(args.draws, seed=3)
    model_names = [
        n for n in theta.columns if n not in OBSERVATION_PARAMETERS and n not in args.keep
    ]
    before = entry_years(base, args.draws * args.replicates, seed=1)
    after: dict[tuple[str, int], list[float]] = {}
    for i in range(args.draws):
        values = {n: float(theta.iloc[i][n]) for n in model_names}
        params = {**base.parameters.model_dump(), **values}
        sc = base.model_copy(update={"parameters": type(base.parameters)(**params)})
        for key, years in entry_years(sc, args.replicates, seed=100 + i).items():
            after.setdefault(key, []).extend(years)
    rows = []
    for c in base.countries:
        for o in c.reference_outcomes:
            if o.phase < 2:
                continue
            b = float(np.median(before[(c.id, o.phase)]))
            a = float(np.median(after[(c.id, o.phase)]))
            rows.append({"country": c.id, "outcome": o.label, "year": o.year, "phase": o.phase,
                         "default_median": b, "posterior_median": a,
                         "error_default": b - o.year, "error_posterior": a - o.year})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(table.to_string(index=False))
    mae_b = table["error_default"].abs().mean()
    mae_a = table["error_posterior"].abs().mean()
    print(f"mean absolute timing error: defaults {mae_b:.1f} years, posterior {mae_a:.1f} years")
    print(f"timing_mae_posterior_years: {mae_a:.2f}")


if __name__ == "__main__":
    main()
