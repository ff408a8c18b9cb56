"""The compiled kernel against the NumPy reference engine over at least 10^7 country-steps.

The CI matrix (tests/model/test_kernel.py) checks bit identity at small sizes; this script runs
the same comparison at scale on the synthetic world (150 countries, 80 years): several seeds,
every lever kind at once, half-year steps, mechanisms switched off, chunked and two-worker runs.
Every recorded value and the whole events frame must be equal. It prints one line per case and,
last, ``country_steps_checked: N`` (exit status 1 at the first difference).

    python benchmarks/check_kernel_identity.py [--replicates 96]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from spirallab import Scenario, simulate  # noqa: E402
from spirallab.model.engine import BLOCK, OBSERVABLES, _draws  # noqa: E402
from spirallab.model.reference.engine import simulate_arrays  # noqa: E402
from spirallab.model.setup import LEVER_KINDS, build_setup  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402


def case(base: Scenario, **top: Any) -> Scenario:
    d = base.model_dump(mode="json")
    mechanisms = top.pop("off", ())
    d["mechanisms"].update({m: False for m in mechanisms})
    d.update(top)
    return Scenario.model_validate(d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replicates", type=int, default=96)
    args = ap.parse_args()
    world = load_scenario("world-150")
    levers = [
        {"kind": k, "start": 1955 + 6 * i, "end": 2020, "strength": 0.25, "phases": [1 + i % 5]}
        for i, k in enumerate(LEVER_KINDS)
    ]
    cases: list[tuple[str, Scenario, int, dict[str, Any]]] = [
        ("seed 1", world, 1, {}),
        ("seed 2", world, 2, {}),
        ("seed 123456789", world, 123456789, {}),
        ("every lever kind", case(world, levers=levers), 4, {}),
        ("half-year steps", case(world, step=0.5), 5, {}),
        ("quarter-year steps, levers", case(world, step=0.25, levers=levers), 6, {}),
        (
            "boomerang, denial, pincer off",
            case(world, off=("boomerang", "denial", "pincer")),
            7,
            {},
        ),
        ("institutions, habituation off", case(world, off=("institutions", "habituation")), 8, {}),
        ("chunks of one block", world, 9, {"chunk_replicates": BLOCK}),
        ("two workers", world, 10, {"workers": 2}),
    ]
    checked = 0
    for label, sc, seed, kwargs in cases:
        t0 = time.perf_counter()
        got = simulate(sc, replicates=args.replicates, seed=seed, **kwargs)
        setup = build_setup(sc)
        records, events = simulate_arrays(
            setup, _draws(setup, seed, 0, args.replicates), setup.params, OBSERVABLES
        )
        same = bool(np.array_equal(records, got.records))
        try:
            pd.testing.assert_frame_equal(events, got.events)
        except AssertionError:
            same = False
        steps = setup.n_countries * args.replicates * (len(setup.years) - 1) * setup.steps_per_year
        checked += steps
        print(
            f"{label}: {steps} country-steps, {len(events)} events, identical {same} "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        if not same:
            sys.exit(1)
    print(f"country_steps_checked: {checked}")


if __name__ == "__main__":
    main()
