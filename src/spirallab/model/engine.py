"""The engine: run the compiled kernel over blocks of replicates and collect what happens.

Reproducibility: replicates are grouped in fixed blocks of :data:`BLOCK` replicates; block ``b``
draws all its random numbers for the whole run from its own generator seeded by ``(seed, b)``.
Work is split between processes or chunks only along block boundaries, and every mechanism acts
element by element (sums run over countries, never over replicates), so a seed gives
bit-identical results whatever the number of workers or the chunk size.

The stepping itself is :func:`spirallab.model.kernel.run_tile`, one compiled call per block;
this module prepares its inputs, allocates the records once and turns the kernel's per-step
event codes into the events frame.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model import defender_results, defenders, kernel, pcg64
from spirallab.model.events import (
    EventRows,
    bit_tables,
    category_dtypes,
    empty_events,
    tile_rows,
)
from spirallab.model.params import PARAMETERS
from spirallab.model.setup import LEVER_KINDS, Setup, initial_state
from spirallab.model.state import ROW, STATE_ROWS

BLOCK = 32
N_DRAWS = 6

# What is recorded for every replicate, country and year (float32; phase and stance as codes).
OBSERVABLES: tuple[str, ...] = (
    "phase",
    "stance",
    "repression",
    "repression_political",
    "repression_endemic",
    "legitimacy",
    "entrapment",
    "institutions",
    "habituation",
    "mobilisation",
    "fear",
    "key_leaders",
    "linkage",
    "information",
    "on_agenda",
    "attention",
    "campaign",
    "pressure_above",
    "pressure_below",
    "ratified_core",
    "ratified_protocols",
    "new_regime",
)

Progress = Callable[[int, int], None]  # (units done, units in all)
# What the kernel draws from for one block: an array of draws, or an empty one and the state of
# the block's PCG64 generator, which the kernel then advances itself (same numbers).
TileDraws = tuple[npt.NDArray[np.float32], npt.NDArray[np.uint64]]
_KERNEL_DRAWS = np.empty((0, N_DRAWS, 0, BLOCK), dtype=np.float32)
_NO_RNG = np.zeros(4, dtype=np.uint64)
Tick = Callable[[int], None]


@dataclass
class ChunkOutput:
    first_replicate: int
    records: npt.NDArray[np.float32]  # (n_years, n_obs, C, R_chunk)
    events: pd.DataFrame
    defenders: npt.NDArray[np.float32] | None = None  # issue 11: (years, outcomes, C, G, R)


def block_draws(seed: int, block: int, n_steps: int, n_countries: int) -> npt.NDArray[np.float32]:
    """All uniform draws of one block of replicates for a whole run."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    return rng.random((n_steps, N_DRAWS, n_countries, BLOCK), dtype=np.float32)


def run_chunk(
    setup: Setup,
    seed: int,
    first_block: int,
    n_replicates: int,
    progress: Tick | None = None,
    events: bool = True,
    observables: tuple[str, ...] = OBSERVABLES,
    out: npt.NDArray[np.float32] | None = None,
) -> ChunkOutput:
    """Simulate ``n_replicates`` replicates starting at block ``first_block``.

    ``events=False`` skips the event log (an empty frame is returned) and ``observables`` limits
    what is recorded; neither changes the trajectories. ``out``, if given, is where the records
    go, shaped (n_years, n_obs, C, n_replicates) (a view into a larger array is fine).
    """

    def tile_draws(i: int) -> TileDraws:
        return _KERNEL_DRAWS, pcg64.initial_state(seed, first_block + i)

    records = _records(setup, n_replicates, observables) if out is None else out
    # Defenders (issue 11): their random keys come from the seed and the replicate's index.
    drecords = defender_results.allocate(setup, n_replicates)

    def tile_keys(i: int) -> npt.NDArray[np.uint64]:
        reps = (first_block + i) * BLOCK + np.arange(BLOCK)
        return defenders.lane_keys(np.full(BLOCK, seed % 2**64, dtype=np.uint64), reps)

    frame = _simulate(
        setup,
        tile_draws,
        n_replicates,
        setup.params,
        observables,
        records,
        events,
        first_block * BLOCK,
        progress,
        tile_keys,
        drecords,
    )
    return ChunkOutput(first_block * BLOCK, records, frame, drecords)


def run_points(
    setup: Setup,
    seeds: Sequence[int],
    replicates: int,
    parameters: Mapping[str, npt.NDArray[np.float64]],
    observables: tuple[str, ...] = OBSERVABLES,
) -> npt.NDArray[np.float32]:
    """Simulate several parameter points of one scenario side by side, without events.

    Point ``i`` takes replicate columns ``i*replicates`` to ``(i+1)*replicates - 1``, its random
    numbers from ``seeds[i]`` exactly as :func:`run_chunk` would, and the values
    ``parameters[name][i]`` for the named parameters (the others from the setup). Replicate
    columns never interact, so each point's records are bit-identical to a run of its own.
    """
    n_points = len(seeds)
    for name, values in parameters.items():
        if name not in setup.params:
            raise KeyError(f"unknown parameter {name!r}")
        if len(values) != n_points:
            raise ValueError(f"{name}: {len(values)} values for {n_points} points")
    pieces: dict[int, npt.NDArray[np.float32]] = {}
    for seed in set(seeds):
        pieces[seed] = _draws(setup, seed, 0, replicates)
    draws = np.concatenate([pieces[seed] for seed in seeds], axis=-1)
    del pieces
    columns: dict[str, float | npt.NDArray[np.float32]] = dict(setup.params)
    for name, values in parameters.items():
        columns[name] = np.repeat(np.asarray(values, dtype=np.float32), replicates)[None, :]
    n_cols = draws.shape[-1]

    def tile_draws(i: int) -> TileDraws:
        lo, hi = i * BLOCK, min((i + 1) * BLOCK, n_cols)
        tile = np.zeros((*draws.shape[:-1], BLOCK), dtype=np.float32)
        tile[..., : hi - lo] = draws[..., lo:hi]
        return tile, _NO_RNG

    point_seeds = np.array([int(x) % 2**64 for x in seeds], dtype=np.uint64)

    def tile_keys(i: int) -> npt.NDArray[np.uint64]:  # defenders (issue 11), as in run_chunk
        cols = i * BLOCK + np.arange(BLOCK)
        point = np.minimum(cols // replicates, n_points - 1)
        return defenders.lane_keys(point_seeds[point], cols % replicates)

    records = _records(setup, n_cols, observables)
    _simulate(setup, tile_draws, n_cols, columns, observables, records, False, 0, None, tile_keys)
    return records


def _records(
    setup: Setup, n_replicates: int, observables: tuple[str, ...]
) -> npt.NDArray[np.float32]:
    shape = (len(setup.years), len(observables), setup.n_countries, n_replicates)
    return np.empty(shape, dtype=np.float32)


def _draws(setup: Setup, seed: int, first_block: int, n_replicates: int) -> npt.NDArray[np.float32]:
    c = setup.n_countries
    n_steps = (len(setup.years) - 1) * setup.steps_per_year
    n_blocks = -(-n_replicates // BLOCK)
    draws = np.empty((n_steps, N_DRAWS, c, n_replicates), dtype=np.float32)
    for j in range(n_blocks):
        lo, hi = j * BLOCK, min((j + 1) * BLOCK, n_replicates)
        draws[..., lo:hi] = block_draws(seed, first_block + j, n_steps, c)[..., : hi - lo]
    return draws


def _param_tile(
    parameters: Mapping[str, float | npt.NDArray[np.float32]], n_cols: int
) -> npt.NDArray[np.float32]:
    """(n_params, columns padded to whole blocks): each parameter's float32 value per column."""
    n_pad = -(-n_cols // BLOCK) * BLOCK
    tile = np.empty((len(PARAMETERS), n_pad), dtype=np.float32)
    values = [parameters[par.name] for par in PARAMETERS]
    # Plain numbers (every parameter of a simulate call) in one cast, the same float32 values.
    plain = [k for k, v in enumerate(values) if isinstance(v, float | int)]
    if len(plain) == len(values):
        tile[:] = np.array(values, dtype=np.float32)[:, None]
        return tile
    tile[plain] = np.array([values[k] for k in plain], dtype=np.float32)[:, None]
    for k in sorted(set(range(len(values))) - set(plain)):
        value = np.asarray(values[k], dtype=np.float32).reshape(-1)
        if value.size == 1:
            tile[k] = value[0]
        else:
            tile[k, :n_cols] = value
            tile[k, n_cols:] = value[-1]  # padding lanes: any valid value
    return tile


def _initial_tile(
    setup: Setup, params: npt.NDArray[np.float32], parameters: Mapping[str, object]
) -> npt.NDArray[np.float32]:
    """(blocks, state rows, C, BLOCK): the initial state as the kernel's float32 rows.

    Block-major, so that each block's rows are one contiguous slice the kernel reads as is.
    """
    c, n_pad = setup.n_countries, params.shape[1]
    n_tiles = n_pad // BLOCK
    columns = {par.name: params[k][None, :] for k, par in enumerate(PARAMETERS)}
    # One replicate column, broadcast across the tile: the state is element-wise in its rows, so
    # only the parameter-dependent rows need every column (they get it from ``columns``).
    s = initial_state(setup, 1, columns)
    started0 = (setup.starts <= setup.years[0])[:, None]
    init = np.empty((n_tiles, len(STATE_ROWS), c, BLOCK), dtype=np.float32)
    rows = init.transpose(1, 2, 0, 3)  # (rows, C, blocks, BLOCK): a view to write through
    for r, name in enumerate(STATE_ROWS):
        value = getattr(s, name)
        if name == "phase":
            value = value * started0
        rows[r] = np.broadcast_to(value, (c, n_pad)).reshape(c, n_tiles, BLOCK)
    if setup.observed_start:
        # The government's preferred repression, from the observed practice (issue 10).
        at_start = np.clip(setup.starts - setup.years[0], 0, len(setup.years) - 1)
        insurgency = np.ascontiguousarray(setup.insurgency[at_start, np.arange(c)])
        on = kernel.switch_flags(setup.switches)
        for i in range(n_tiles):
            block = np.ascontiguousarray(params[:, i * BLOCK : (i + 1) * BLOCK]).reshape(-1)
            kernel.preferred_at_rest(init[i], block, insurgency, on)
    return init


# One block's initial tile per setup and parameter values, for runs whose parameters are the
# same in every column (every run_chunk): about half a millisecond a call otherwise.
_INITIAL_KEPT = 8
_INITIAL: OrderedDict[tuple[object, ...], tuple[tuple[object, ...], npt.NDArray[np.float32]]] = (
    OrderedDict()
)


def _initial_blocks(
    setup: Setup, params: npt.NDArray[np.float32], parameters: Mapping[str, object]
) -> npt.NDArray[np.float32]:
    """The initial tile as :func:`_initial_tile`, or one block of it when all blocks are equal.

    With every parameter the same in all columns, every column's initial state is the same
    (it is element-wise), so block ``i`` of the tile is block 0 for every ``i``: the caller
    takes ``out[min(i, len(out) - 1)]``. That one block is kept, keyed by the setup arrays it
    is made of (held, so their ids stay theirs) and the parameters' float32 values.
    """
    if not (params == params[:, :1]).all():
        return _initial_tile(setup, params, parameters)
    held = (
        setup.initial_phase,
        setup.initial_ratified,
        setup.starts,
        setup.years,
        setup.base_repression,
        setup.endemic_base,
        setup.civil_society,
        setup.initial_mobilisation,
        setup.initial_linkage,
        setup.initial_leaders,
        setup.initial_legitimacy,
        setup.insurgency,
    )
    flags = (setup.observed_start, setup.movement_at_rest, *kernel.switch_flags(setup.switches))
    key = (*map(id, held), *flags, params[:, 0].tobytes())
    kept = _INITIAL.pop(key, None)  # put back last below: the most recent
    if kept is None:
        kept = held, _initial_tile(setup, np.ascontiguousarray(params[:, :BLOCK]), parameters)
    _INITIAL[key] = kept
    while len(_INITIAL) > _INITIAL_KEPT:
        _INITIAL.popitem(last=False)
    return kept[1]


def _lever_tracks(
    setup: Setup,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    n = len(setup.levers)
    kind = np.array([LEVER_KINDS.index(t.kind) for t in setup.levers], dtype=np.int64)
    strength = np.zeros((n, len(setup.years), setup.n_countries), dtype=np.float32)
    phases = np.zeros((n, 6), dtype=np.bool_)
    for i, track in enumerate(setup.levers):
        strength[i] = track.strength
        phases[i, list(track.phases) if track.phases is not None else slice(None)] = True
    return kind, strength, phases


def _simulate(
    setup: Setup,
    tile_draws: Callable[[int], TileDraws],
    n_cols: int,
    parameters: Mapping[str, float | npt.NDArray[np.float32]],
    observables: tuple[str, ...],
    records: npt.NDArray[np.float32],
    events: bool,
    replicate_offset: int,
    progress: Tick | None,
    tile_keys: Callable[[int], npt.NDArray[np.uint64]] | None = None,
    drecords: npt.NDArray[np.float32] | None = None,
) -> pd.DataFrame:
    """Run the kernel over every block of ``n_cols`` columns into ``records``; the events frame."""
    c = setup.n_countries
    n_years = len(setup.years)
    n_steps = (n_years - 1) * setup.steps_per_year
    # The kernel writes records by element offsets from their strides, replicates contiguous.
    if records.dtype != np.float32 or records.strides[-1] != 4 or records.ndim != 4:
        raise ValueError("records must be a float32 (years, obs, C, R) array, R contiguous")
    params = _param_tile(parameters, n_cols)
    init = _initial_blocks(setup, params, parameters)
    kind, strength, phases = _lever_tracks(setup)
    obs_rows = np.array([getattr(ROW, name) for name in observables], dtype=np.int64)
    # Every bit set, not zeros: the kernel writes every code it reports (also for the countries
    # it skips before their start), and a code it missed would show up as events in the tests.
    codes = np.full((n_steps if events else 1) * c * BLOCK, 0xFFFFFFFF, dtype=np.uint32)
    on = kernel.switch_flags(setup.switches)
    covariates = (
        setup.starts.astype(np.int64),
        setup.years.astype(np.int64),
        setup.steps_per_year,
        np.float32(setup.step),
        setup.density.astype(np.float32),
        setup.material_vulnerability,
        setup.social_vulnerability,
        setup.strategic_interest,
        setup.insurgency,
        setup.security_control,
        setup.civil_society,
        setup.endemic_base,
        kind,
        strength,
        phases,
    )
    tile = np.zeros(c * kernel.ROW_SIZE, dtype=np.float32)
    total = np.zeros(BLOCK, dtype=np.float32)
    found: list[EventRows] = []
    years = setup.years.astype(np.int64)
    bit_tables_ = bit_tables(setup.switches.decapitation) if events else ()
    # Defenders (issue 11): their kernel inputs, and the events their codes hold.
    dinputs = defenders.kernel_inputs(setup.defenders, c, n_years, n_steps, events)
    dfound: list[tuple[npt.NDArray[np.intp], ...]] = []
    no_keys = np.zeros(BLOCK, dtype=np.uint64)
    # The kernel's jumps over runs of dormant countries' draws: up to a step's worth at once.
    jumps = np.zeros(4 * (N_DRAWS * c + 1), dtype=np.uint64)
    # Without defenders the kernel reads nothing of ``dx`` but its flag: one for every tile.
    no_dx = None if dinputs[0] else defenders.pack(dinputs, no_keys, drecords)
    n_tiles = -(-n_cols // BLOCK)
    reported = 0
    shocks = kernel.shock_levers(kind)
    switches_on = kernel.all_switches_on(on)
    for i in range(n_tiles):
        lo = i * BLOCK
        n_valid = min(BLOCK, n_cols - lo)
        kernel.run_tile(
            *tile_draws(i),
            np.ascontiguousarray(params[:, lo : lo + BLOCK]).reshape(-1),
            on,
            init[min(i, len(init) - 1)],
            *covariates,
            obs_rows,
            records,
            lo,
            n_valid,
            codes,
            tile,
            total,
            dx := no_dx
            if no_dx is not None
            else defenders.pack(dinputs, tile_keys(i) if tile_keys else no_keys, drecords),
            jumps,
            shocks,
            switches_on,
        )
        if events:
            found.append(
                tile_rows(
                    codes.reshape(n_steps, c, BLOCK),
                    n_valid,
                    lo,
                    setup.steps_per_year,
                    years,
                    bit_tables_,
                )
            )
            if dinputs[0]:
                dfound.append(defender_results.event_rows(dx, n_valid, lo))
        if progress is not None:
            years_done = (n_years - 1) * (i + 1) // n_tiles
            if years_done > reported:
                progress(years_done - reported)
                reported = years_done
    if not events:
        return empty_events(setup.country_ids)
    frame = _events_frame(setup, found, replicate_offset)
    if dinputs[0]:
        frame = defender_results.merge_events(frame, setup, dfound, replicate_offset)
    return frame


def _events_frame(setup: Setup, found: list[EventRows], replicate_offset: int) -> pd.DataFrame:
    """The tidy events frame from the tiles' rows (each tile's in order, tiles in column order).

    Sorted by replicate, year, country and event; ties keep the order the mechanisms raised
    them in (step, then bit), as :func:`spirallab.model.events.tile_rows` walks the codes.
    """
    if not found or not sum(len(f[0]) for f in found):
        return empty_events(setup.country_ids)
    col, country, year, event, before, after, detail = (
        np.concatenate([f[k] for f in found]) if len(found) > 1 else found[0][k] for k in range(7)
    )
    # The codes are the walk's own, valid by construction: no check of them, types made once,
    # and the columns' arrays taken as they are (about 2 ms a full world-150 run otherwise).
    countries, events, details = category_dtypes(tuple(setup.country_ids))
    return pd.DataFrame(
        {
            "replicate": col + replicate_offset if replicate_offset else col,
            "country": pd.Categorical.from_codes(country, dtype=countries, validate=False),
            "year": year,
            "event": pd.Categorical.from_codes(event, dtype=events, validate=False),
            "from_phase": pd.arrays.IntegerArray(before, before < 0),
            "to_phase": pd.arrays.IntegerArray(after, after < 0),
            "detail": pd.Categorical.from_codes(detail, dtype=details, validate=False),
        },
        copy=False,
    )


def _run_chunk_args(args: tuple[Setup, int, int, int, bool, tuple[str, ...]]) -> ChunkOutput:
    setup, seed, first_block, n, events, observables = args
    return run_chunk(setup, seed, first_block, n, events=events, observables=observables)


def default_chunk(setup: Setup) -> int:
    """Replicates per chunk: whole blocks, keeping what one chunk holds near 512 MB.

    (A chunk holds its records, or fills a view of the run's; sweeps' points also hold draws.)
    """
    per_rep = setup.n_countries * len(setup.years) * 4 * (len(OBSERVABLES) + N_DRAWS)
    return int(max(BLOCK, (512 * 2**20 // max(per_rep, 1)) // BLOCK * BLOCK))


def plan_chunks(
    setup: Setup, replicates: int, workers: int = 1, chunk_replicates: int | None = None
) -> list[tuple[int, int]]:
    """(first block, replicates) of each chunk: whole blocks, enough chunks to feed the workers."""
    if chunk_replicates is None:
        chunk_replicates = default_chunk(setup)
        if workers > 1:
            per_worker = -(-replicates // (workers * BLOCK)) * BLOCK
            chunk_replicates = min(chunk_replicates, max(BLOCK, per_worker))
    chunk_blocks = max(1, -(-chunk_replicates // BLOCK))
    n_blocks = -(-replicates // BLOCK)
    return [
        (b0, min(chunk_blocks * BLOCK, replicates - b0 * BLOCK))
        for b0 in range(0, n_blocks, chunk_blocks)
    ]


def run(
    setup: Setup,
    replicates: int,
    seed: int,
    workers: int = 1,
    chunk_replicates: int | None = None,
    progress: Progress | None = None,
    events: bool = True,
    observables: tuple[str, ...] = OBSERVABLES,
    records: npt.NDArray[np.float32] | None = None,
) -> list[ChunkOutput]:
    """Run all replicates, in chunks of whole blocks, serially or in worker processes.

    ``progress(done, total)`` is called as simulated years complete (per chunk in workers).
    ``records``, if given, is the (n_years, n_obs, C, replicates) array to fill: chunks then
    hold views into it, so the records exist once (workers' chunks are copied in as they come).
    """
    plan = plan_chunks(setup, replicates, workers, chunk_replicates)
    n_years = len(setup.years) - 1
    total = len(plan) * n_years
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    def part(b0: int, n: int) -> npt.NDArray[np.float32] | None:
        return None if records is None else records[..., b0 * BLOCK : b0 * BLOCK + n]

    if workers <= 1 or len(plan) == 1:
        return [
            run_chunk(
                setup,
                seed,
                b0,
                n,
                progress=tick,
                events=events,
                observables=observables,
                out=part(b0, n),
            )
            for b0, n in plan
        ]
    outs: list[ChunkOutput] = []
    jobs = [(setup, seed, b0, n, events, observables) for b0, n in plan]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        for out, (b0, n) in zip(pool.map(_run_chunk_args, jobs), plan, strict=True):
            view = part(b0, n)
            if view is not None:
                view[...] = out.records
                out = ChunkOutput(out.first_replicate, view, out.events, out.defenders)
            outs.append(out)
            tick(n_years)
    return outs
