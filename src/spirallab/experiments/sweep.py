"""Run an experiment: every point of its design, in chunks, into a crash-safe results store.

Each point is simulated on its own with the experiment's seed (or a seed derived from the point
number when common random numbers are off), so its results depend on nothing but the experiment:
not on the number of workers, on where a chunk runs (a local process or a Dask worker) or on
whether the sweep was interrupted and resumed. Workers return summaries; only this process writes
to the store.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import ValidationError

from spirallab.errors import InputError, SpiralLabError
from spirallab.experiments.design import design_size, salib_problem, sample_points
from spirallab.experiments.outputs import output_columns, summarise, trajectories
from spirallab.experiments.spec import (
    DesignKind,
    Experiment,
    Outputs,
    Scalar,
    apply_factors,
    factor_bounds,
    grid_levels,
    load_experiment,
)
from spirallab.experiments.store import (
    FORMAT,
    Damage,
    StoreError,
    SweepStore,
    clear_half_made,
    half_made,
    lock_store,
    preflight,
)
from spirallab.model.engine import run_points
from spirallab.model.events import empty_events
from spirallab.model.result import SimulationResult
from spirallab.model.setup import build_setup
from spirallab.scenarios.schema import Scenario

# A chunk of about this many country-steps takes a few seconds: small enough that a crash loses
# little, large enough that scheduling and file overheads stay small.
CHUNK_COUNTRY_STEPS = 8_000_000
# What a sweep records: the summaries and trajectories need nothing else.
RECORDED = ("phase", "repression")
# Points simulated side by side hold at most this many country x replicate columns (about 50 MB
# of records and random numbers for 80 years): wide enough to amortise NumPy's per-call cost.
BATCH_COUNTRY_COLUMNS = 20_000


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to simulate one chunk of points (picklable)."""

    chunk: int
    base: Scenario
    factor_names: tuple[str, ...]
    points: tuple[int, ...]
    values: tuple[tuple[Scalar, ...], ...]
    replicates: int
    seed: int
    common_random_numbers: bool
    start: int | None
    end: int | None
    outputs: Outputs
    by_years: tuple[int, ...]


@dataclass(frozen=True)
class ChunkResult:
    chunk: int
    summaries: pd.DataFrame
    trajectories: pd.DataFrame | None
    runs: int


def point_seed(seed: int, point: int) -> int:
    """An independent seed for one point, derived from the experiment seed."""
    state = np.random.SeedSequence((seed, point)).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 32 | int(state[1])


def run_chunk_task(task: ChunkTask) -> ChunkResult:
    """Simulate every point of a chunk and summarise it. Runs in a worker."""
    summaries: list[pd.DataFrame] = []
    trajs: list[pd.DataFrame] = []
    for point, result in _simulate_points(task):
        frame = summarise(result, task.outputs, list(task.by_years))
        frame.insert(0, "point", np.int64(point))
        summaries.append(frame)
        if task.outputs.trajectories:
            traj = trajectories(result)
            traj.insert(0, "point", np.int64(point))
            trajs.append(traj)
    return ChunkResult(
        chunk=task.chunk,
        summaries=pd.concat(summaries, ignore_index=True),
        trajectories=pd.concat(trajs, ignore_index=True) if trajs else None,
        runs=len(task.points) * task.replicates,
    )


def _simulate_points(task: ChunkTask) -> Iterator[tuple[int, SimulationResult]]:
    """Each point's result, in order.

    When only model parameters vary, several points are simulated side by side in one engine
    call (their replicate columns never interact, so each point's numbers are the same as in a
    run of its own; tests check this); otherwise each point is its own run.
    """
    from spirallab.api import simulate

    scenarios = [_point_scenario(task, p, v) for p, v in zip(task.points, task.values, strict=True)]
    seeds = [
        task.seed if task.common_random_numbers else point_seed(task.seed, p) for p in task.points
    ]
    # Side by side needs only parameters to vary, and keeps no defender outcomes (issue 11).
    wants_defenders = "defenders" in task.outputs.statistics
    if wants_defenders or not all(name.startswith("parameters.") for name in task.factor_names):
        for point, scenario, seed in zip(task.points, scenarios, seeds, strict=True):
            yield (
                point,
                simulate(
                    scenario,
                    task.replicates,
                    seed,
                    start=task.start,
                    end=task.end,
                    events=False,
                    observables=RECORDED,
                ),
            )
        return
    setup = build_setup(task.base, start=task.start, end=task.end)
    per_batch = max(1, BATCH_COUNTRY_COLUMNS // (setup.n_countries * task.replicates))
    names = [n.split(".", 1)[1] for n in task.factor_names]
    for lo in range(0, len(task.points), per_batch):
        hi = min(lo + per_batch, len(task.points))
        values = {
            name: np.array([float(v[j]) for v in task.values[lo:hi]])
            for j, name in enumerate(names)
        }
        records = run_points(setup, seeds[lo:hi], task.replicates, values, RECORDED)
        for i in range(hi - lo):
            cols = slice(i * task.replicates, (i + 1) * task.replicates)
            yield (
                task.points[lo + i],
                SimulationResult(
                    scenario=scenarios[lo + i],
                    setup=setup,
                    seed=seeds[lo + i],
                    records=records[..., cols],
                    events=empty_events(setup.country_ids),
                    observables=RECORDED,
                ),
            )


def _point_scenario(task: ChunkTask, point: int, values: tuple[Scalar, ...]) -> Scenario:
    setting = dict(zip(task.factor_names, values, strict=True))
    try:
        return apply_factors(task.base, setting)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(
            f"point {point} gives an invalid scenario: {err['msg']}",
            where=".".join(str(p) for p in err["loc"]),
            found=setting,
            expected="factor ranges that cannot contradict each other",
        ) from None


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A checked experiment, ready to run."""

    experiment: Experiment
    base: Scenario
    text: str
    points: pd.DataFrame
    by_years: tuple[int, ...]
    n_countries: int
    years: tuple[int, int]
    digest: str

    @property
    def n_points(self) -> int:
        return len(self.points)

    def country_steps_per_point(self) -> int:
        return self.n_countries * (self.years[1] - self.years[0]) * self.experiment.replicates

    def points_per_batch(self) -> int:
        """Points one engine call holds when only parameters vary (see _simulate_points)."""
        return max(1, BATCH_COUNTRY_COLUMNS // (self.n_countries * self.experiment.replicates))

    def default_chunk_points(self) -> int:
        """Whole batches, a few seconds of work, and at least ~32 chunks for a smooth progress."""
        batch = self.points_per_batch()
        by_work = CHUNK_COUNTRY_STEPS // max(1, self.country_steps_per_point() * batch)
        by_count = math.ceil(self.n_points / (32 * batch))
        return int(min(1000, batch * max(1, min(by_work, by_count))))

    def bytes_needed(self) -> int:
        """A generous estimate of the store's size on disk."""
        n_out = len(output_columns(self.experiment.outputs, list(self.by_years)))
        per_point = (self.n_countries + 1) * (n_out + 2) * 8
        if self.experiment.outputs.trajectories:
            n_years = self.years[1] - self.years[0] + 1
            per_point += self.n_countries * n_years * self.experiment.replicates * 12
        return per_point * self.n_points + 2**20


def plan_experiment(path: str | Path, allow_outside: bool = False) -> Plan:
    """Load an experiment and check it against its budget before anything runs."""
    experiment, base, text = load_experiment(path, allow_outside=allow_outside)
    size = design_size(experiment)
    runs = size * experiment.replicates
    if runs > experiment.budget_runs:
        per_point = max(1, experiment.budget_runs // experiment.replicates)
        raise InputError(
            f"the design is too large for the budget: {size:,} points x "
            f"{experiment.replicates:,} replicates = {runs:,} runs, over "
            f"budget_runs = {experiment.budget_runs:,}",
            file=path,
            where="design",
            expected=f"at most {per_point:,} points at this number of replicates (lower "
            "design.samples or replicates, or raise budget_runs)",
        )
    setup = build_setup(base, start=experiment.start, end=experiment.end)
    first, last = int(setup.years[0]), int(setup.years[-1])
    by_years = tuple(experiment.outputs.by_years or [last])
    for i, y in enumerate(by_years):
        if not first <= y <= last:
            raise InputError(
                "year outside the simulated years",
                file=path,
                where=f"outputs.by_years[{i}]",
                found=y,
                expected=f"a year from {first} to {last}",
            )
    points = sample_points(experiment)
    check_combinations(experiment, base, points, path)
    return Plan(
        experiment=experiment,
        base=base,
        text=text,
        points=points,
        by_years=by_years,
        n_countries=setup.n_countries,
        years=(first, last),
        digest=experiment.digest(base),
    )


def check_combinations(
    experiment: Experiment, base: Scenario, points: pd.DataFrame, path: str | Path
) -> None:
    """Refuse, before the first chunk, a point whose factor values contradict each other.

    Each factor's range is checked on its own when the file is read; here every distinct
    combination of the factors that can interact (levers and country covariates: a lever's start
    against its end, for instance) is applied to the scenario. Model parameters are checked at
    both ends of their ranges and have no joint constraints, so they are left out, which keeps
    this cheap (about 0.1 ms a combination).
    """
    names = [f.name for f in experiment.factors if not f.name.startswith("parameters.")]
    if not names:
        return
    combos = points[["point", *names]].drop_duplicates(subset=names, keep="first")
    for row in combos.itertuples(index=False):
        point, *values = row
        setting = {n: _scalar(v) for n, v in zip(names, values, strict=True)}
        try:
            apply_factors(base, setting)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = err["loc"]
            # The factors the failing part of the scenario belongs to (levers[0].start and
            # levers[0].end for a lever's window), else every factor of the combination.
            owner = _loc_prefix(loc)
            involved = [n for n in names if owner and n.startswith(owner)] or names
            shown = ", ".join(f"{n} = {setting[n]!r}" for n in involved)
            raise InputError(
                f"factors {' and '.join(involved)} contradict each other at point {int(point)} "
                f"({shown}): {str(err['msg']).removeprefix('Value error, ')}",
                file=path,
                where="factors",
                expected="ranges that cannot contradict each other in any combination (e.g. a "
                "lever's start range entirely before its end range)",
            ) from None


def _loc_prefix(loc: tuple[int | str, ...]) -> str:
    """``("levers", 0, "end")`` -> ``"levers[0]"``; ``("countries", 2)`` -> ``"countries."``."""
    if len(loc) >= 2 and loc[0] == "levers" and isinstance(loc[1], int):
        return f"levers[{loc[1]}]"
    if loc and loc[0] == "countries":
        return "countries."
    return ""


def _manifest(plan: Plan, chunk_points: int) -> dict[str, Any]:
    from spirallab import __version__

    e = plan.experiment
    factors: list[dict[str, Any]] = []
    for f in e.factors:
        if e.design.kind == DesignKind.grid:
            factors.append({"name": f.name, "levels": grid_levels(f)})
        else:
            factors.append({"name": f.name, "bounds": list(factor_bounds(f))})
    return {
        "format": FORMAT,
        "spirallab_version": __version__,
        "experiment": e.name,
        "description": e.description,
        "digest": plan.digest,
        "scenario": plan.base.name,
        "countries": list(build_setup(plan.base, start=e.start, end=e.end).country_ids),
        "years": list(plan.years),
        "design": e.design.model_dump(mode="json"),
        "factors": factors,
        "problem": salib_problem(e) if e.design.kind != DesignKind.grid else None,
        "replicates": e.replicates,
        "seed": e.seed,
        "common_random_numbers": e.common_random_numbers,
        "by_years": list(plan.by_years),
        "outputs": output_columns(e.outputs, list(plan.by_years)),
        "trajectories": e.outputs.trajectories,
        "n_points": plan.n_points,
        "chunk_points": chunk_points,
        "n_chunks": math.ceil(plan.n_points / chunk_points),
    }


# --- executing --------------------------------------------------------------------------------


class _Pool(Protocol):
    slots: int

    def submit(self, task: ChunkTask) -> Any: ...

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]: ...

    def close(self) -> None: ...


class _Serial:
    """Runs each chunk in this process when it is submitted (one worker)."""

    slots = 1

    def submit(self, task: ChunkTask) -> Future[ChunkResult]:
        fut: Future[ChunkResult] = Future()
        try:
            fut.set_result(run_chunk_task(task))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        return set(pending), set()

    def close(self) -> None:
        pass


class _Processes:
    def __init__(self, workers: int) -> None:
        self.slots = workers
        self._pool = ProcessPoolExecutor(max_workers=workers)

    def submit(self, task: ChunkTask) -> Future[ChunkResult]:
        return self._pool.submit(run_chunk_task, task)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        done, rest = wait(pending, return_when=FIRST_COMPLETED)
        return set(done), set(rest)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class TLSFiles:
    """Client-side TLS files for a ``tls://`` scheduler (each may instead come from Dask's
    configuration, ``distributed.comm.tls.*``)."""

    ca_file: Path | None = None
    cert: Path | None = None
    key: Path | None = None


def dask_security(address: str, tls: TLSFiles | None) -> Any:
    """Dask's security settings for ``address``: TLS for ``tls://``, none otherwise.

    Results come back from the workers pickled, so the scheduler and its workers must be trusted
    whatever the transport; TLS protects them on the network, not from a hostile cluster.
    """
    from distributed.security import Security

    tls = tls or TLSFiles()
    given = {k: v for k, v in vars(tls).items() if v is not None}
    for option, value in given.items():
        if not Path(value).is_file():
            raise InputError(
                "TLS file not found",
                file=value,
                where=f"--tls-{option.replace('_', '-')}",
                expected="a readable PEM file",
            )
    if not address.startswith("tls://"):
        if given:
            raise InputError(
                "TLS files given for a scheduler that does not use TLS",
                where="--scheduler",
                found=address,
                expected="a tls://HOST:PORT address with --tls-ca-file/--tls-cert/--tls-key",
            )
        return None
    kwargs: dict[str, Any] = {"require_encryption": True}
    if tls.ca_file is not None:
        kwargs["tls_ca_file"] = str(tls.ca_file)
    if tls.cert is not None:
        kwargs["tls_client_cert"] = str(tls.cert)
    if tls.key is not None:
        kwargs["tls_client_key"] = str(tls.key)
    try:
        security = Security(**kwargs)
        context = security.get_connection_args("client").get("ssl_context")
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise InputError(
            f"cannot use the TLS files ({exc.__class__.__name__}: {exc})",
            where="--tls-ca-file/--tls-cert/--tls-key",
            expected="PEM files: the cluster's CA certificate, this client's certificate and key",
        ) from None
    if context is None:
        raise InputError(
            "a tls:// scheduler needs TLS files",
            where="--scheduler",
            found=address,
            expected="--tls-ca-file, --tls-cert and --tls-key, or Dask's configuration "
            "distributed.comm.tls.ca-file and .client.cert/.key",
        )
    return security


class _Dask:
    def __init__(self, address: str, timeout: float, tls: TLSFiles | None = None) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise InputError("the Dask scheduler option needs the 'distributed' package") from None
        security = dask_security(address, tls)
        try:
            self._client = Client(
                address, timeout=f"{timeout}s", set_as_default=False, security=security
            )
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler within {timeout:g} s ({exc.__class__.__name__})",
                where="--scheduler",
                found=address,
                expected="the address of a running, trusted scheduler, e.g. tcp://127.0.0.1:8786 "
                "or tls://10.0.0.5:8786",
            ) from None
        threads = sum(self._client.nthreads().values())
        self.slots = max(1, threads)

    def submit(self, task: ChunkTask) -> Any:
        return self._client.submit(run_chunk_task, task, pure=False)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait as dask_wait

        with self._client.as_current():
            done, rest = dask_wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def close(self) -> None:
        self._client.close()


@dataclass
class SweepReport:
    """What a call to :func:`sweep` did."""

    out: Path
    n_points: int
    n_chunks: int
    chunks_run: int
    chunks_skipped: int
    runs: int
    seconds: float
    repaired: tuple[str, ...] = ()

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.seconds if self.seconds > 0 else float("nan")


Progress = Callable[[int, int, int], None]  # (points done, points in all, runs this session)


def sweep(
    experiment: str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    chunk_points: int | None = None,
    progress: Progress | None = None,
    scheduler_timeout: float = 10.0,
    allow_outside: bool = False,
    tls: TLSFiles | None = None,
) -> SweepReport:
    """Run (or finish, with ``resume``) an experiment into the results store ``out``.

    ``workers`` local processes (default: the machine's cores), or the Dask scheduler at
    ``scheduler``. Results are bit-identical whichever is used. While it runs, the store is
    locked: a second sweep into the same folder is refused and told who holds it.
    """
    out = Path(out)
    _check_out(out)
    plan = plan_experiment(experiment, allow_outside=allow_outside)
    # Everything that can be refused is checked before anything is written or run: the worker
    # count, the scheduler, the folder and the disk.
    _check_workers(workers)
    if chunk_points is not None and chunk_points < 1:
        raise InputError(
            "chunk size must be at least 1", where="--chunk-points", found=chunk_points
        )
    pool = _make_pool(workers, scheduler, scheduler_timeout, tls)
    try:
        preflight(out, plan.bytes_needed())
        with lock_store(out):
            return _run(plan, out, pool, resume, chunk_points, progress)
    finally:
        pool.close()


def _run(
    plan: Plan,
    out: Path,
    pool: _Pool,
    resume: bool,
    chunk_points: int | None,
    progress: Progress | None,
) -> SweepReport:
    store, damage = _open_or_create(plan, out, resume, chunk_points)
    n_chunks = store.n_chunks
    size = int(store.manifest["chunk_points"])
    done = store.done_chunks()
    todo = [c for c in range(n_chunks) if c not in done]
    points_done = sum(min(size, plan.n_points - c * size) for c in done)
    if progress is not None:
        progress(points_done, plan.n_points, 0)
    t0 = time.perf_counter()
    runs = 0
    try:
        if todo:
            for result in _guard_workers(_execute(pool, (_task(plan, c, size) for c in todo)), out):
                store.write_chunk(result.chunk, result.summaries, result.trajectories)
                runs += result.runs
                points_done += len(result.summaries["point"].unique())
                if progress is not None:
                    progress(points_done, plan.n_points, runs)
    finally:
        store.save_manifest()
    return SweepReport(
        out=out,
        n_points=plan.n_points,
        n_chunks=n_chunks,
        chunks_run=len(todo),
        chunks_skipped=len(done),
        runs=runs,
        seconds=time.perf_counter() - t0,
        repaired=tuple(d.message() for d in damage),
    )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(
            "names a file, not a folder",
            file=out,
            where="--out",
            expected="a new or empty folder for the results (or a sweep's folder with --resume)",
        )


def _guard_workers(results: Iterable[ChunkResult], out: Path) -> Iterator[ChunkResult]:
    """Turn a worker process that died (killed, out of memory) into a message with a way on."""
    try:
        yield from results
    except BrokenProcessPool:
        raise SpiralLabError(
            f"{out}: a worker process died (killed, or out of memory?). The chunks finished so "
            "far are saved; run the same command with --resume to go on, with fewer --workers "
            "if memory is short"
        ) from None


def _check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise InputError("workers must be at least 1", where="--workers", found=workers)


def _make_pool(
    workers: int | None, scheduler: str | None, timeout: float, tls: TLSFiles | None = None
) -> _Pool:
    if scheduler is not None:
        return _Dask(scheduler, timeout, tls)
    if tls is not None and any(v is not None for v in vars(tls).values()):
        raise InputError("TLS files are only for --scheduler tls://...", where="--tls-ca-file")
    n = workers if workers is not None else (os.cpu_count() or 1)
    return _Serial() if n == 1 else _Processes(n)


def _execute(pool: _Pool, tasks: Iterable[ChunkTask]) -> Iterable[ChunkResult]:
    """Keep every slot busy (plus one queued task each) and yield results as they finish.

    Only a bounded window of tasks is in flight, so memory does not grow with the design.
    """
    queue = iter(tasks)
    pending: set[Any] = set()
    window = 2 * pool.slots
    exhausted = False
    while True:
        while not exhausted and len(pending) < window:
            task = next(queue, None)
            if task is None:
                exhausted = True
            else:
                pending.add(pool.submit(task))
        if not pending:
            return
        finished, pending = pool.wait_any(pending)
        for fut in finished:
            yield fut.result()  # a worker's exception is raised here


def _task(plan: Plan, chunk: int, size: int) -> ChunkTask:
    e = plan.experiment
    rows = plan.points.iloc[chunk * size : (chunk + 1) * size]
    names = tuple(f.name for f in e.factors)
    values = tuple(
        tuple(_scalar(v) for v in row) for row in rows[list(names)].itertuples(index=False)
    )
    return ChunkTask(
        chunk=chunk,
        base=plan.base,
        factor_names=names,
        points=tuple(int(p) for p in rows["point"]),
        values=values,
        replicates=e.replicates,
        seed=e.seed,
        common_random_numbers=e.common_random_numbers,
        start=e.start,
        end=e.end,
        outputs=e.outputs,
        by_years=plan.by_years,
    )


def _scalar(v: Any) -> Scalar:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    return float(v)


def _open_or_create(
    plan: Plan, out: Path, resume: bool, chunk_points: int | None
) -> tuple[SweepStore, list[Damage]]:
    """The store to run into (the caller holds its lock), and the damaged chunks to run again."""
    if (out / "manifest.json").exists():
        store = SweepStore.open(out)
        if store.manifest.get("digest") != plan.digest:
            raise InputError(
                "the folder holds the results of a different experiment (or a changed one)",
                file=out,
                found=store.manifest.get("experiment"),
                expected="the experiment that started it, or a new --out folder",
            )
        if not resume:
            raise InputError(
                "the folder already holds this sweep",
                file=out,
                expected="--resume to finish it, or a new --out folder",
            )
        if store.n_chunks * int(store.manifest["chunk_points"]) < plan.n_points:
            raise StoreError(f"{out}: the manifest's chunks do not cover the design's points")
        store.clean_partial()
        damage = store.damaged()
        if damage:
            store.forget({d.chunk for d in damage})
        return store, damage
    if half_made(out):
        clear_half_made(out)  # killed while being created: nothing was committed
    else:
        raise InputError(
            "the output folder is not empty and holds no sweep",
            file=out,
            expected="an empty or new folder",
        )
    size = chunk_points or plan.default_chunk_points()
    scenario_json = plan.base.model_dump_json(indent=2)
    store = SweepStore.create(out, _manifest(plan, size), plan.text, scenario_json, plan.points)
    return store, []
