"""The Python API; it mirrors the command line.

>>> from spirallab import Scenario, simulate
>>> result = simulate(Scenario.load("stylised"), replicates=200, seed=1)
>>> result.to_frame().groupby("year")["phase"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from spirallab.errors import InputError
from spirallab.model.engine import OBSERVABLES, run
from spirallab.model.events import empty_events
from spirallab.model.result import SimulationResult
from spirallab.model.setup import build_setup
from spirallab.scenarios.schema import Scenario


def simulate(
    scenario: Scenario | str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    start: int | None = None,
    end: int | None = None,
    workers: int = 1,
    chunk_replicates: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    events: bool = True,
    observables: Sequence[str] | None = None,
) -> SimulationResult:
    """Run a scenario; defaults for replicates, seed, start and end come from the scenario.

    Results are bit-identical for a seed whatever ``workers`` and ``chunk_replicates`` are.
    ``progress(done, total)`` is called as the run advances (units: simulated chunk-years).
    ``events=False`` skips the event log (``result.events`` is then empty), which saves about a
    sixth of the time when only the trajectories are wanted; the trajectories are the same.
    ``observables`` records only the named state variables (``phase`` is always kept, the
    summaries need it), which saves memory and time for large ensembles.
    """
    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    replicates = scenario.replicates if replicates is None else replicates
    seed = scenario.seed if seed is None else seed
    if replicates < 1:
        raise InputError("replicates must be at least 1", where="--replicates", found=replicates)
    if seed < 0:
        raise InputError("seed must be 0 or more", where="--seed", found=seed)
    first = start if start is not None else scenario.start
    last = end if end is not None else scenario.end
    if first is not None and last <= first:
        raise InputError(
            "end year must be after the start year",
            where="--end",
            found=last,
            expected=f"a year after {first}",
        )
    recorded = _observables(observables)
    setup = build_setup(scenario, start=start, end=end)
    if len(setup.years) < 2:
        raise InputError(
            "the run covers less than two years",
            where="--start/--end",
            found=f"{setup.years[0]}-{setup.years[-1]}",
        )
    # Allocated once and filled by every chunk: no concatenation, no second copy.
    records = np.empty(
        (len(setup.years), len(recorded), setup.n_countries, replicates), dtype=np.float32
    )
    outs = run(
        setup,
        replicates,
        seed,
        workers=workers,
        chunk_replicates=chunk_replicates,
        progress=progress,
        events=events,
        observables=recorded,
        records=records,
    )
    frames = [o.events for o in outs if len(o.events)]
    log = pd.concat(frames, ignore_index=True) if frames else empty_events(setup.country_ids)
    # Defenders (issue 11): their yearly outcomes, when the scenario has any.
    parts = [o.defenders for o in outs if o.defenders is not None]
    drecords = np.concatenate(parts, axis=-1) if parts else None
    return SimulationResult(
        scenario=scenario,
        setup=setup,
        seed=seed,
        records=records,
        events=log,
        observables=recorded,
        defenders=drecords,
    )


def _observables(names: Sequence[str] | None) -> tuple[str, ...]:
    if names is None:
        return OBSERVABLES
    unknown = [n for n in names if n not in OBSERVABLES]
    if unknown:
        raise InputError(
            "unknown observable",
            where="observables",
            found=unknown[0],
            expected="names from " + ", ".join(OBSERVABLES),
        )
    # Recorded in the engine's order, phase first, each once.
    wanted = {"phase", *names}
    return tuple(n for n in OBSERVABLES if n in wanted)
