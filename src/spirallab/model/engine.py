"""The engine: step the mechanisms over blocks of replicates and record what happens.

Reproducibility: replicates are grouped in fixed blocks of :data:`BLOCK` replicates; block ``b``
draws all its random numbers for the whole run from its own generator seeded by ``(seed, b)``.
Work is split between processes or chunks only along block boundaries, and every mechanism acts
element by element (sums run over countries, never over replicates), so a seed gives
bit-identical results whatever the number of workers or the chunk size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model import government, network, partners, society
from spirallab.model.context import Context, Draws, Levers, ParamSet
from spirallab.model.events import EventLog
from spirallab.model.setup import LEVER_KINDS, Setup, initial_state
from spirallab.model.state import State

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
Tick = Callable[[int], None]


@dataclass
class ChunkOutput:
    first_replicate: int
    records: npt.NDArray[np.float32]  # (n_years, n_obs, C, R_chunk)
    events: pd.DataFrame


def block_draws(seed: int, block: int, n_steps: int, n_countries: int) -> npt.NDArray[np.float32]:
    """All uniform draws of one block of replicates for a whole run."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    return rng.random((n_steps, N_DRAWS, n_countries, BLOCK), dtype=np.float32)


def _levers(
    setup: Setup, yi: int, phase: npt.NDArray[np.int8], zero: npt.NDArray[np.float32]
) -> Levers:
    by_kind: dict[str, npt.NDArray[np.float32]] = {}
    for track in setup.levers:
        s = track.strength[yi][:, None]
        if not s.any():
            continue
        if track.phases is not None:
            s = s * np.isin(phase, track.phases)
        prev = by_kind.get(track.kind)
        by_kind[track.kind] = s if prev is None else np.minimum(prev + s, np.float32(1.0))
    return Levers(**{k: by_kind.get(k, zero) for k in LEVER_KINDS}, any_active=bool(by_kind))


def step(s: State, ctx: Context, emit: Callable[..., None]) -> State:
    """One step of the model, in the order documented in docs/model.md (ODD, scheduling)."""
    stance_before = s.stance
    s = network.gather_information(s, ctx, emit)
    s = network.allocate_attention(s, ctx)
    s = partners.press_from_above(s, ctx)
    s = society.mobilise(s, ctx)
    s = government.decide(s, ctx, emit)
    s = government.adjust_practice(s, ctx)
    s = government.build_institutions(s, stance_before, ctx, emit)
    return government.read_phase(s, ctx)


def _observe(s: State, out: npt.NDArray[np.float32], names: tuple[str, ...]) -> None:
    for k, name in enumerate(names):
        out[k] = getattr(s, name)


def run_chunk(
    setup: Setup,
    seed: int,
    first_block: int,
    n_replicates: int,
    progress: Tick | None = None,
    events: bool = True,
    observables: tuple[str, ...] = OBSERVABLES,
) -> ChunkOutput:
    """Simulate ``n_replicates`` replicates starting at block ``first_block``.

    ``events=False`` skips the event log (an empty frame is returned) and ``observables`` limits
    what is recorded; neither changes the trajectories.
    """
    draws = _draws(setup, seed, first_block, n_replicates)
    log = EventLog(replicate_offset=first_block * BLOCK, year=int(setup.years[0]))
    records = _simulate(setup, draws, setup.params, log if events else None, progress, observables)
    return ChunkOutput(first_block * BLOCK, records, log.frame(setup.country_ids))


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
    columns: dict[str, float | npt.NDArray[np.float32]] = dict(setup.params)
    for name, values in parameters.items():
        columns[name] = np.repeat(np.asarray(values, dtype=np.float32), replicates)[None, :]
    return _simulate(setup, draws, columns, None, None, observables)


def _draws(setup: Setup, seed: int, first_block: int, n_replicates: int) -> npt.NDArray[np.float32]:
    c = setup.n_countries
    n_steps = (len(setup.years) - 1) * setup.steps_per_year
    n_blocks = -(-n_replicates // BLOCK)
    draws = np.empty((n_steps, N_DRAWS, c, n_replicates), dtype=np.float32)
    for j in range(n_blocks):
        lo, hi = j * BLOCK, min((j + 1) * BLOCK, n_replicates)
        draws[..., lo:hi] = block_draws(seed, first_block + j, n_steps, c)[..., : hi - lo]
    return draws


def _no_events(*args: object, **kwargs: object) -> None:
    pass


def _simulate(
    setup: Setup,
    draws: npt.NDArray[np.float32],
    parameters: Mapping[str, float | npt.NDArray[np.float32]],
    log: EventLog | None,
    progress: Tick | None,
    observables: tuple[str, ...] = OBSERVABLES,
) -> npt.NDArray[np.float32]:
    """Step the state through every year; returns the records (n_years, n_obs, C, R)."""
    c = setup.n_countries
    spy = setup.steps_per_year
    n_years = len(setup.years)
    n_replicates = draws.shape[-1]
    params = ParamSet(parameters)
    emit = log.emit if log is not None else _no_events
    records = np.empty((n_years, len(observables), c, n_replicates), dtype=np.float32)
    s = initial_state(setup, n_replicates, parameters)
    started0 = (setup.starts <= setup.years[0])[:, None]
    s = s.replace(phase=(s.phase * started0).astype(np.int8))
    _observe(s, records[0], observables)
    zero = np.zeros((c, 1), dtype=np.float32)
    dt_full = np.float32(setup.step)

    for yi in range(1, n_years):
        year = int(setup.years[yi])
        if log is not None:
            log.year = year
        # A country's start year records its initial state; it moves from the next step on.
        started = (setup.starts < year)[:, None]
        present = (setup.starts <= year)[:, None]
        dt = (started * dt_full).astype(np.float32)
        for k in range(spy):
            t = (yi - 1) * spy + k
            u = draws[t]
            ctx = Context(
                year=year - 1 + (k + 1) / spy,
                dt=dt,
                density=np.float32(setup.density[yi]),
                started=started,
                present=present,
                material_vulnerability=setup.material_vulnerability[yi][:, None],
                social_vulnerability=setup.social_vulnerability[yi][:, None],
                strategic_interest=setup.strategic_interest[yi][:, None],
                insurgency=setup.insurgency[yi][:, None],
                security_control=setup.security_control[:, None],
                civil_society=setup.civil_society[:, None],
                base_repression=setup.base_repression[:, None],
                endemic_base=setup.endemic_base[:, None],
                levers=_levers(setup, yi, s.phase, zero),
                draws=Draws(
                    phase=u[0],
                    choice=u[1],
                    massacre=u[2],
                    institution=u[3],
                    ratification=u[4],
                    lever=u[5],
                ),
                params=params,
                on=setup.switches,
            )
            before = s.phase
            s = step(s, ctx, emit)
            if log is not None:
                log.emit_transitions(before, s.phase)
        _observe(s, records[yi], observables)
        if progress is not None:
            progress(1)
    return records


def _run_chunk_args(args: tuple[Setup, int, int, int, bool, tuple[str, ...]]) -> ChunkOutput:
    setup, seed, first_block, n, events, observables = args
    return run_chunk(setup, seed, first_block, n, events=events, observables=observables)


def default_chunk(setup: Setup) -> int:
    """Replicates per chunk: whole blocks, keeping one chunk's draws and records near 512 MB."""
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
) -> list[ChunkOutput]:
    """Run all replicates, in chunks of whole blocks, serially or in worker processes.

    ``progress(done, total)`` is called as simulated years complete (per chunk in workers).
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

    if workers <= 1 or len(plan) == 1:
        return [
            run_chunk(setup, seed, b0, n, progress=tick, events=events, observables=observables)
            for b0, n in plan
        ]
    outs: list[ChunkOutput] = []
    jobs = [(setup, seed, b0, n, events, observables) for b0, n in plan]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        for out in pool.map(_run_chunk_args, jobs):
            outs.append(out)
            tick(n_years)
    return outs
