"""Commands of the Confront pillar: ``world``, ``calibrate``, ``forecast`` and ``score``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spirallab.cli import app
from spirallab.errors import InputError

console = Console()


def parse_window(text: str) -> tuple[int, int]:
    """``1976-2003`` -> (1976, 2003), refusing anything else in one line."""
    m = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", text)
    if not m or int(m.group(1)) >= int(m.group(2)):
        raise InputError(
            "bad training window",
            where="--train",
            found=text,
            expected="FIRST-LAST years, e.g. 1976-2003, with FIRST < LAST",
        )
    return int(m.group(1)), int(m.group(2))


@app.command()
def world(
    data: Annotated[Path, typer.Option(help="Folder of the published data sets.")],
    start: Annotated[
        int, typer.Option(help="Year to start every country from its observed state.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Scenario file to write (default: stdout).")
    ] = None,
    end: Annotated[
        int | None, typer.Option(help="Last simulated year (default: start + 20).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the scenario and of its latent covariates.")
    ] = 1,
) -> None:
    """Write a scenario of every panel country from its observed state in START (data <= START)."""
    from spirallab.confront.record import load_record
    from spirallab.confront.world import scenario_toml, world_scenario

    record = load_record(data, until=start)
    scenario = world_scenario(record, start, end or start + 20, seed=seed)
    text = scenario_toml(scenario)
    if out is None:
        typer.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(scenario.countries)} countries to {out}")


@app.command()
def calibrate(
    data: Annotated[Path, typer.Option(help="Folder of the published data sets.")],
    train: Annotated[str, typer.Option(help="Training years FIRST-LAST, e.g. 1976-2003.")],
    out: Annotated[Path, typer.Option(help="Posterior folder to write.")],
    simulations: Annotated[int, typer.Option(help="Simulation budget (worlds simulated).")] = 6000,
    population: Annotated[int, typer.Option(help="Particles per ABC-SMC generation.")] = 200,
    generations: Annotated[int, typer.Option(help="Most ABC-SMC generations.")] = 12,
    rival: Annotated[str, typer.Option(help="full, no-boomerang or realist.")] = "full",
    holdout: Annotated[float, typer.Option(help="Share of countries left out of training.")] = 0.0,
    holdout_seed: Annotated[int, typer.Option(help="Seed of the held-out draw.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the calibration.")] = 1,
    workers: Annotated[int | None, typer.Option(help="Local processes (1: reproducible).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler, tcp://HOST:PORT.")] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted calibration in --out.")
    ] = False,
    proposal: Annotated[
        str, typer.Option(help="mixture (half marginals, half kde) or kde (a normal per particle).")
    ] = "mixture",
    min_ess: Annotated[
        float,
        typer.Option(help="The posterior is the last generation whose effective sample size is"
                     " at least this share of the population."),
    ] = 0.05,
) -> None:
    """Fit the model's global parameters to the coded record by ABC-SMC (pyabc)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from spirallab.confront.calibrate import PROPOSALS, RIVALS, build_problem, identifiability
    from spirallab.confront.calibrate import calibrate as run_calibration
    from spirallab.confront.record import load_record
    from spirallab.confront.report import calibration_report

    first, last = parse_window(train)
    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers and --scheduler exclude each other",
            expected="local processes (--workers) or a Dask cluster (--scheduler)",
        )
    if rival not in RIVALS:
        raise InputError("unknown rival", where="--rival", found=rival, expected=", ".join(RIVALS))
    if proposal not in PROPOSALS:
        raise InputError(
            "unknown proposal", where="--proposal", found=proposal, expected=", ".join(PROPOSALS)
        )
    if not 0.0 <= min_ess <= 1.0:
        raise InputError(
            "bad effective-sample-size floor", where="--min-ess", found=min_ess,
            expected="a share of the population from 0 to 1",
        )
    if not 0.0 <= holdout < 1.0:
        raise InputError(
            "bad holdout share",
            where="--holdout",
            found=holdout,
            expected="a share from 0 to below 1",
        )
    if simulations < population:
        raise InputError(
            "budget below one generation",
            where="--simulations",
            found=simulations,
            expected=f"at least --population ({population})",
        )
    client = None
    if scheduler is not None:
        from spirallab.confront.calibrate import check_scheduler

        client = check_scheduler(scheduler)
    record = load_record(data, until=last)
    if first < record.first_year:
        raise InputError(
            "training window starts before the data",
            where="--train",
            found=train,
            expected=f"a first year from {record.first_year}",
        )
    problem = build_problem(
        record,
        first,
        last,
        rival=rival,
        holdout=holdout,
        holdout_seed=holdout_seed,
        world_seed=seed,
    )
    with Progress(
        TextColumn("[bold]calibrate[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("", total=simulations)

        def tick(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        post = run_calibration(
            problem,
            out,
            simulations=simulations,
            population=population,
            generations=generations,
            seed=seed,
            workers=workers or 1,
            client=client,
            resume=resume,
            progress=tick,
            proposal=proposal,
            min_ess=min_ess,
        )
    table = identifiability(post)
    table.to_csv(out / "identifiability.csv", index=False)
    calibration_report(problem, post, out)
    console.print(table.to_string(index=False))
    console.print(
        f"{post.meta['simulations']} simulations, {post.meta['generations']} generations"
        f" in {post.meta['seconds']} s (posterior: generation {post.meta['posterior_generation']},"
        f" effective sample size {post.meta['effective_sample_size']}); wrote {out}"
    )


@app.command()
def forecast(
    posterior: Annotated[Path, typer.Option(help="Folder written by `spirallab calibrate`.")],
    data: Annotated[Path, typer.Option(help="Folder of the published data sets.")],
    origin: Annotated[int, typer.Option(help="Last year of data the forecast may read.")],
    to: Annotated[int, typer.Option(help="Last forecast year.")],
    out: Annotated[Path, typer.Option(help="Forecast folder to write.")],
    window: Annotated[int, typer.Option(help="Years of history each country is filtered on.")] = 10,
    draws: Annotated[int, typer.Option(help="Posterior draws.")] = 64,
    replicates: Annotated[int, typer.Option(help="Replicates per draw.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed.")] = 1,
) -> None:
    """Forecast PTS levels and phases for every country, origin+1..to, from data <= origin."""
    import json

    from spirallab.confront.calibrate import Posterior
    from spirallab.confront.forecast import forecast as run_forecast
    from spirallab.confront.record import load_record

    post = Posterior.load(posterior)
    post.check_compatible(posterior)
    train_last = int(post.meta["train"][1])
    if train_last > origin:
        raise InputError(
            "training window ends after the origin",
            file=posterior / "calibration.json",
            where="train",
            found=post.meta["train"],
            expected=f"a posterior trained on years up to {origin}",
        )
    if to <= origin:
        raise InputError(
            "--to must be after --origin", where="--to", found=to, expected=f"a year after {origin}"
        )
    record = load_record(data, until=origin)
    result = run_forecast(
        post, record, origin, to, window=window, draws=draws, replicates=replicates, seed=seed
    )
    out.mkdir(parents=True, exist_ok=True)
    result.forecasts.to_parquet(out / "forecasts.parquet", index=False)
    result.diagnostics.to_parquet(out / "diagnostics.parquet", index=False)
    post.particles.to_parquet(out / "posterior.parquet", index=False)
    meta = {
        "origin": origin,
        "to": to,
        "window": window,
        "draws": draws,
        "replicates": replicates,
        "seed": seed,
        "posterior": str(posterior),
        "calibration": post.meta,
        "observation": result.observation,
    }
    (out / "forecast.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    ess = result.diagnostics["ess"]
    console.print(
        f"{result.diagnostics.shape[0]} countries, {origin + 1}-{to}; effective sample"
        f" size median {ess.median():.1f} (min {ess.min():.1f}) of"
        f" {int(result.diagnostics['particles'].iloc[0])}; wrote {out}"
    )


@app.command()
def score(
    forecast_dir: Annotated[Path, typer.Argument(help="Folder written by `spirallab forecast`.")],
    data: Annotated[Path, typer.Option(help="Folder of the published data sets.")],
    out: Annotated[Path | None, typer.Option(help="Scores folder (default: FORECAST_DIR).")] = None,
    rival: Annotated[
        list[str] | None, typer.Option(help="NAME=FORECAST_DIR of a rival's forecast (repeatable).")
    ] = None,
) -> None:
    """Score forecasts against what happened, beside baselines and rivals; write report.html."""
    from spirallab.confront.scoring import score_forecasts

    rivals: dict[str, Path] = {}
    for item in rival or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError("bad rival", where="--rival", found=item, expected="NAME=FORECAST_DIR")
        rivals[name] = Path(path)
    tables = score_forecasts(forecast_dir, data, out or forecast_dir, rivals)
    console.print(tables["overall"].round(4).to_string(index=False))
    console.print(f"wrote {(out or forecast_dir) / 'report.html'}")
