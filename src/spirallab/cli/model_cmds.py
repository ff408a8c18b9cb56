"""Commands of the Simulate pillar: ``run``, ``schema``, ``scenarios``, ``explain``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from spirallab.cli import app
from spirallab.errors import InputError

console = Console()

DEFAULT_SCENARIO = "book-eleven"
# More worker processes than this only costs memory (each holds a copy of the setup).
MAX_WORKERS = 256


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(help="A scenario TOML file or a built-in name (see `spirallab scenarios`)."),
    ] = DEFAULT_SCENARIO,
    replicates: Annotated[
        int | None, typer.Option(help="Replicates (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/<scenario>-<seed>).")
    ] = None,
    start: Annotated[int | None, typer.Option(help="First simulated year.")] = None,
    end: Annotated[int | None, typer.Option(help="Last simulated year.")] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (results do not depend on it).")
    ] = 1,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
) -> None:
    """Simulate a scenario and write results, events, a summary and a report."""
    from spirallab.api import simulate
    from spirallab.scenarios.load import load_scenario

    sc = load_scenario(scenario)
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(
            "out of range", where="--workers", found=workers, expected=f"1 to {MAX_WORKERS}"
        )
    seed_used = sc.seed if seed is None else seed
    out_dir = out if out is not None else Path("runs") / f"{sc.name}-{seed_used}"
    _check_writable(out_dir)

    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"simulating {sc.name}", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = simulate(
            sc,
            replicates=replicates,
            seed=seed,
            start=start,
            end=end,
            workers=workers,
            progress=tick,
        )
        bar.update(task, description="writing outputs")
        paths = result.save(out_dir, report=report)
    elapsed = time.perf_counter() - t0
    _print_summary(result.summary())
    console.print(
        f"wrote {', '.join(p.name for p in paths.values())} to [bold]{out_dir}[/] "
        f"in {elapsed:.1f} s",
        soft_wrap=True,
    )


def _check_writable(out_dir: Path) -> None:
    """Fail before simulating if the output folder cannot be written or replaced."""
    try:
        _probe_writable(out_dir)
    except OSError as exc:
        raise InputError(
            f"cannot use the output folder ({exc.strerror or exc})", where="--out"
        ) from None


def _probe_writable(out_dir: Path) -> None:
    from spirallab.runfolder import check_replaceable

    check_replaceable(out_dir)
    probe = out_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise InputError("output path is not a folder", where="--out", found=str(probe))
    if not os.access(probe, os.W_OK):
        raise InputError("output folder is not writable", where="--out", found=str(probe))


def summary_table(
    summary: dict[str, Any], limit: int = 30, parts: tuple[str, ...] = ("p", "yr")
) -> Table:
    """The one-screen summary: compact columns, so it fits 80 columns with the usual names.

    ``parts`` picks the probability columns (``p``), the median years (``yr``) or both.
    """
    table = Table(
        title=f"{summary['scenario']}: {summary['replicates']} replicates, "
        f"{summary['start']}-{summary['end']}, seed {summary['seed']}",
        caption="P2-P5: probability of reaching phase k by the country's last year; "
        "yr2-yr5: median year of entering it among replicates that do; back: share of "
        "replicates that backslid (fell to a lower phase).",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("country", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("years", no_wrap=True)
    phases = range(2, 6)
    if "p" in parts:
        for k in phases:
            table.add_column(f"P{k}", justify="right", no_wrap=True)
    if "yr" in parts:
        for k in phases:
            table.add_column(f"yr{k}", justify="right", no_wrap=True)
    if "p" in parts:
        table.add_column("back", justify="right", no_wrap=True)
    for d in list(summary["countries"].values())[:limit]:
        years = [d["median_entry_year"][str(k)] for k in phases]
        cells = [d["name"], f"{d['start']}-{d.get('end', summary['end'])}"]
        if "p" in parts:
            cells += [f"{d['p_reach'][str(k)]:.2f}" for k in phases]
        if "yr" in parts:
            cells += ["-" if y is None else f"{y:.0f}" for y in years]
        if "p" in parts:
            cells.append(f"{d['share_backslid']:.2f}")
        table.add_row(*cells)
    return table


def _print_summary(summary: dict[str, Any], out: Console | None = None) -> None:
    out = out or console
    table = summary_table(summary)
    need = out.measure(table, options=out.options.update(max_width=100_000)).maximum
    tables = [table]
    if not out.is_terminal:
        # Piped or redirected: never cut the table at a guessed width; use what it needs.
        out = Console(width=max(need, 80), file=out.file, no_color=True, highlight=False)
    elif need > out.width:
        # A narrow terminal: probabilities and years one below the other rather than cut.
        tables = [summary_table(summary, parts=("p",)), summary_table(summary, parts=("yr",))]
    if summary["mechanisms_off"]:
        out.print(f"[yellow]mechanisms switched off: {', '.join(summary['mechanisms_off'])}")
    for note in summary.get("notes") or []:
        out.print(f"[yellow]note:[/] {note}; see summary.json", highlight=False)
    n = len(summary["countries"])
    if n > 30:
        out.print(f"(first 30 of {n} countries; all of them in summary.json)")
    for t in tables:
        out.print(t)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from spirallab.scenarios.schema import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from spirallab.scenarios.load import builtin_names, load_scenario

    table = Table(title="built-in scenarios")
    table.add_column("name")
    table.add_column("countries", justify="right")
    table.add_column("years")
    table.add_column("description")
    for name in builtin_names():
        sc = load_scenario(name)
        n = len(sc.countries) + (sc.synthetic.n if sc.synthetic else 0)
        first = sc.start or min(c.start for c in sc.countries)
        table.add_row(name, str(n), f"{first}-{sc.end}", sc.description)
    console.print(table)


@app.command()
def explain(
    scenario: Annotated[
        str, typer.Argument(help="A scenario file or built-in name.")
    ] = DEFAULT_SCENARIO,
) -> None:
    """Print every resolved parameter with its value, default, unit and grounding."""
    from spirallab.model.params import PARAMETERS
    from spirallab.scenarios.load import load_scenario
    from spirallab.scenarios.schema import MECHANISMS

    sc = load_scenario(scenario)
    values = sc.parameters.model_dump()
    table = Table(title=f"parameters of {sc.name}", show_lines=False)
    for col in ("parameter", "value", "default", "unit", "mechanism", "grounding"):
        # Names are never folded, however long the groundings are.
        width = max(len(p.name) for p in PARAMETERS) if col == "parameter" else None
        table.add_column(col, overflow="fold", min_width=width)
    for p in PARAMETERS:
        v = values[p.name]
        mark = "" if v == p.default else " *"
        table.add_row(p.name, f"{v:g}{mark}", f"{p.default:g}", p.unit, p.mechanism, p.grounding)
    console.print(table)
    console.print("* set by the scenario")
    mech = Table(title="mechanisms")
    mech.add_column("mechanism")
    mech.add_column("on")
    mech.add_column("what it does")
    on = sc.mechanisms.model_dump()
    for name, doc in MECHANISMS.items():
        mech.add_row(name, "yes" if on[name] else "[red]OFF", doc)
    console.print(mech)
    from spirallab.scenarios.schema import Country, default_text

    cov = Table(title="country covariates (defaults; each country may set its own)")
    for col in ("covariate", "default", "unit", "grounding"):
        cov.add_column(col, overflow="fold")
    for name, f in Country.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if "unit" in extra:
            cov.add_row(name, default_text(f), str(extra["unit"]), str(extra["grounding"]))
    console.print(cov)
