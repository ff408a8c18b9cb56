"""Commands of the Experiment pillar: ``sweep`` and ``experiments``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from spirallab.cli import app
from spirallab.errors import InputError

console = Console()


class _RunsPerSecond(ProgressColumn):
    """Simulation runs (point x replicate) per second over this session."""

    def __init__(self, replicates: int) -> None:
        super().__init__()
        self.replicates = replicates

    def render(self, task: Task) -> Text:
        speed = task.speed
        if speed is None:
            return Text("- runs/s", style="progress.data.speed")
        return Text(f"{speed * self.replicates:,.0f} runs/s", style="progress.data.speed")


@app.command()
def sweep(
    experiment: Annotated[
        str,
        typer.Argument(
            help="An experiment TOML file or a built-in name (`spirallab experiments`)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Results folder (a Parquet store with a manifest).")],
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local worker processes (default: all cores); results do not depend on it."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 or "
            "tls://10.0.0.5:8786 (TLS files from --tls-* or Dask's configuration). Results come "
            "back pickled: use only a scheduler and workers you trust."
        ),
    ] = None,
    tls_ca_file: Annotated[
        Path | None, typer.Option(help="tls:// scheduler: the cluster's CA certificate (PEM).")
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="tls:// scheduler: this client's certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="tls:// scheduler: this client's private key (PEM).")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Finish an interrupted sweep in --out, skipping finished chunks.")
    ] = False,
    chunk_points: Annotated[
        int | None,
        typer.Option(help="Points per saved chunk (default: a few seconds of work each)."),
    ] = None,
    allow_outside: Annotated[
        bool,
        typer.Option(
            help="Let the experiment's scenario be a file outside the experiment's folder."
        ),
    ] = False,
) -> None:
    """Run every point of an experiment's design into a crash-safe results store.

    The store is locked while a sweep writes to it; each committed chunk is recorded with its row
    count and SHA-256, and --resume runs again any chunk whose file is damaged.
    """
    from spirallab.experiments.sweep import TLSFiles, plan_experiment
    from spirallab.experiments.sweep import sweep as run_sweep

    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers and --scheduler exclude each other",
            expected="local processes (--workers) or a Dask cluster (--scheduler), not both",
        )
    plan = plan_experiment(experiment, allow_outside=allow_outside)
    e = plan.experiment
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers or 'all'} local worker(s)"
    console.print(
        f"[bold]{e.name}[/]: {e.design.kind} design, {plan.n_points:,} points x "
        f"{e.replicates} replicates on '{plan.base.name}' ({plan.n_countries} countries, "
        f"{plan.years[0]}-{plan.years[1]}), {where}"
    )
    t0 = time.perf_counter()
    bar = Progress(
        TextColumn("[bold]points"),
        BarColumn(),
        MofNCompleteColumn(),
        _RunsPerSecond(e.replicates),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    task = bar.add_task("points", total=plan.n_points)

    def tick(done: int, total: int, runs: int) -> None:
        # The bar appears only once the folder is checked, so an early error prints alone; points
        # finished before a resume show as done without counting in the speed.
        if not bar.live.is_started:
            bar.reset(task, completed=done)
            bar.start()
        bar.update(task, completed=done)

    try:
        report = run_sweep(
            experiment,
            out,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            chunk_points=chunk_points,
            progress=tick,
            allow_outside=allow_outside,
            tls=TLSFiles(tls_ca_file, tls_cert, tls_key),
        )
    except KeyboardInterrupt:
        bar.stop()
        console.print(f"Interrupted. Finished chunks are saved; add --resume to go on in {out}.")
        raise typer.Exit(130) from None
    finally:
        bar.stop()
    took = time.perf_counter() - t0
    for damaged in report.repaired:
        console.print(f"Ran again a damaged chunk: {damaged}", highlight=False)
    if report.chunks_run == 0:
        console.print(f"Nothing to do: all {report.n_chunks} chunks are already in {out}.")
        return
    console.print(
        f"Done: {report.chunks_run} chunk(s) run"
        + (f", {report.chunks_skipped} already done" if report.chunks_skipped else "")
        + f"; {report.runs:,} runs in {took:.1f} s ({report.runs_per_second:,.0f} runs/s)."
    )
    console.print(f"Results: {out}/summaries/*.parquet (query with DuckDB, polars or pandas)")
    console.print(f"Next: spirallab sensitivity {out}   or   spirallab discover {out}")


@app.command()
def experiments() -> None:
    """List the built-in experiments."""
    from spirallab.experiments.design import design_size
    from spirallab.experiments.spec import builtin_experiment_names, load_experiment

    table = Table(title="Built-in experiments")
    table.add_column("name", no_wrap=True)
    for col in ("design", "points", "replicates", "scenario"):
        table.add_column(col, no_wrap=True)
    table.add_column("description", ratio=1)
    for name in builtin_experiment_names():
        e, base, _ = load_experiment(name)
        table.add_row(
            name,
            str(e.design.kind),
            f"{design_size(e):,}",
            str(e.replicates),
            base.name,
            e.description,
        )
    console.print(table)
