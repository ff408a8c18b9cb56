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
from spirallab.memory import check_run_fits
from spirallab.model.engine import OBSERVABLES, run
from spirallab.model.events import empty_events
from spirallab.model.result import SimulationResult
from spirallab.model.setup import build_setup, resolve_countries
from spirallab.scenarios.schema import YEAR_MAX, YEAR_MIN, Scenario

# The schema's cap on replicates, applied to the API and the command line as well.
MAX_REPLICATES = 10_000_000


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
    # A value from the file is reported at its key in the file; one given here at its option.
    replicates_at = "--replicates" if replicates is not None else "replicates"
    replicates_file = None if replicates is not None else scenario.source
    replicates = scenario.replicates if replicates is None else replicates
    seed = scenario.seed if seed is None else seed
    _check_int(replicates, "--replicates", 1, None)
    _check_int(seed, "--seed", 0, None)
    for value, where in ((start, "--start"), (end, "--end")):
        if value is not None:
            _check_int(value, where, YEAR_MIN, YEAR_MAX)
    countries = resolve_countries(scenario)
    first = start if start is not None else scenario.start
    if first is None:
        first = min(c.start for c in countries)
    last = end if end is not None else scenario.end
    if last <= first:
        raise InputError(
            "end year must be after the start year",
            where="--end" if end is not None else "--start",
            found=last if end is not None else first,
            expected=f"a year after {first}" if end is not None else f"a year before {last}",
        )
    if not any(c.start <= last and (c.end is None or c.end >= first) for c in countries):
        latest_end = max((c.end for c in countries if c.end is not None), default=None)
        raise InputError(
            f"no country is simulated in {first}-{last}: the earliest start is "
            f"{min(c.start for c in countries)}"
            + (f" and the latest end {latest_end}" if latest_end is not None else ""),
            where="--end" if end is not None else "--start",
            found=last if end is not None else first,
        )
    recorded = _observables(observables)
    # The memory figure first: it says how many replicates would fit, which the cap does not.
    check_run_fits(
        last - first + 1,
        len(countries),
        replicates,
        len(recorded),
        where=replicates_at,
        file=replicates_file,
    )
    _check_int(replicates, "--replicates", 1, MAX_REPLICATES)
    setup = build_setup(scenario, start=start, end=end)
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
    if len(frames) == 1 and frames[0].index.equals(pd.RangeIndex(len(frames[0]))):
        log = frames[0]  # one chunk's frame, indexed 0, 1, ...: what concat would copy
    elif frames:
        log = pd.concat(frames, ignore_index=True)
    elif not events:  # the engine's frame already is the empty one (a run has a chunk)
        log = outs[0].events
    else:  # no event happened: the plain empty frame (no defender columns), as always
        log = empty_events(setup.country_ids)
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


def _check_int(value: object, where: str, lo: int, hi: int | None) -> None:
    """A whole number within [lo, hi], else one clear line naming the option."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError("expected a whole number", where=where, found=value)
    if value < lo or (hi is not None and value > hi):
        rng = f"a whole number from {lo} to {hi}" if hi is not None else f"a whole number >= {lo}"
        raise InputError("out of range", where=where, found=int(value), expected=rng)


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
