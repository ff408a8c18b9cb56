"""Commands that analyse a finished sweep: ``sensitivity`` and ``discover``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from spirallab.cli import app
from spirallab.errors import SpiralLabError

console = Console()
_err = Console(stderr=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Report user errors on one line with their exit status, as ``spirallab.cli.main`` does.

    Doing it here as well keeps the behaviour when the app is invoked without ``main`` (tests,
    embedding).
    """
    try:
        yield
    except SpiralLabError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


@app.command()
def sensitivity(
    results: Annotated[Path, typer.Argument(help="A sweep results folder (`spirallab sweep`).")],
    country: Annotated[
        str, typer.Option(help="A country id, or ALL for statistics pooled over countries.")
    ] = "ALL",
    output: Annotated[
        list[str] | None,
        typer.Option(help="An output column to analyse (repeat for several; default: all)."),
    ] = None,
    resamples: Annotated[
        int | None,
        typer.Option(help="Bootstrap resamples for the intervals (default 1000; 200 for delta)."),
    ] = None,
    conf: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: RESULTS/sensitivity).")
    ] = None,
) -> None:
    """Rank the factors of a sweep by their influence on each output, and write a report."""
    from spirallab.experiments.sensitivity import RANK_INDEX, analyse, short_factor
    from spirallab.experiments.sensitivity_report import write_sensitivity_report

    with _one_line_errors():
        sens = analyse(
            results,
            country=country,
            outputs=output,
            resamples=resamples,
            conf_level=conf,
            seed=seed,
        )
        folder = out if out is not None else results / "sensitivity"
        paths = write_sensitivity_report(sens, folder)
    key, conf_col = RANK_INDEX[sens.method]
    shown = {"mu_star": "mu*"}.get(key, key)
    sample = {
        "sobol": f"N = {sens.base_samples}",
        "morris": f"{sens.base_samples} trajectories",
        "delta": f"{sens.n_points} points",
    }[sens.method]
    table = Table(
        title=f"{sens.experiment}: {sens.method} indices, {sample}, country {sens.country}",
        caption=f"Top factors per output by {shown} (± {round(sens.conf_level * 100)}% CI); "
        "* marks an output with warnings.",
    )
    table.add_column("output", no_wrap=True)
    for k in range(1, 4):
        table.add_column(f"#{k}")
    flagged = {c.output for c in sens.caveats if c.output is not None}
    for o in sens.outputs:
        rows = sens.for_output(o).head(3)
        cells = [
            f"{short_factor(str(r['factor']))} {r[key]:.2f}±{r[conf_col]:.2f}"
            for _, r in rows.iterrows()
        ]
        table.add_row(o + (" *" if o in flagged else ""), *cells, *[""] * (3 - len(cells)))
    console.print(table)
    for s in sens.skipped:
        console.print(f"[dim]skipped {s.output}: {s.reason}[/]", highlight=False)
    general = sens.caveats_for(None)
    for c in general:
        console.print(f"[bold yellow]warning:[/] {c.message}", highlight=False)
    per_output = [c for c in sens.caveats if c.output is not None]
    if per_output:
        kinds = sorted({c.kind for c in per_output})
        console.print(
            f"[yellow]{len(per_output)} warning(s) about single outputs ({', '.join(kinds)}); "
            "see the report.[/]",
            highlight=False,
        )
    console.print(
        f"Wrote {paths['html'].name}, {paths['csv'].name} and figures to [bold]{folder}[/]"
    )


@app.command()
def discover(
    results: Annotated[Path, typer.Argument(help="A sweep results folder (`spirallab sweep`).")],
    output: Annotated[
        str | None,
        typer.Option(help="Output column that defines success (default: p_phase5_by_<last year>)."),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Success threshold.")] = 0.5,
    below: Annotated[
        bool, typer.Option("--below", help="Success is output <= threshold (default: >=).")
    ] = False,
    max_depth: Annotated[int, typer.Option(help="Depth of the tree (rule length).")] = 3,
    min_leaf: Annotated[
        int | None, typer.Option(help="Smallest box, in points (default: 5% of the points).")
    ] = None,
    country: Annotated[
        str, typer.Option(help="A country id, or ALL for statistics pooled over countries.")
    ] = "ALL",
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: RESULTS/discovery).")
    ] = None,
) -> None:
    """Find the regions of factor space where the spiral succeeds, as readable rules."""
    from spirallab.experiments.discovery import discover as run_discovery
    from spirallab.experiments.discovery import write_discovery

    with _one_line_errors():
        found = run_discovery(
            results,
            output=output,
            threshold=threshold,
            above=not below,
            max_depth=max_depth,
            min_leaf=min_leaf,
            country=country,
        )
        folder = out if out is not None else results / "discovery"
        paths = write_discovery(found, folder)
        from spirallab.report.discovery_page import write_discovery_html

        # An offline page as well, as `sensitivity` writes one.
        paths["html"] = write_discovery_html(found, folder, paths.get("png"))
    console.print(
        f"[bold]Success[/]: {found.outcome} ({found.country}); {found.n_success} of "
        f"{found.n_points} points (base rate {found.base_rate:.2f})",
        highlight=False,
    )
    style = "green" if found.informative else "yellow"
    console.print(f"[{style}]{found.verdict()}[/]", highlight=False)
    if found.boxes:
        table = Table(
            caption="density: share of the box's points that succeed; coverage: share of all "
            "successes in the box; strong: the tree beats the base rate and the box is pure",
            show_lines=True,
        )
        table.add_column("rule (one condition a line)", overflow="fold")
        for col in ("points", "density", "coverage"):
            table.add_column(col, justify="right")
        table.add_column("predicts")
        table.add_column("strong")
        for b in found.boxes:
            table.add_row(
                b.rule.replace(" and ", "\nand "),
                str(b.n_points),
                f"{b.density:.2f}",
                f"{b.coverage:.2f}",
                "success" if b.predicts_success else "stagnation",
                "yes" if b.strong else "no",
            )
        console.print(table)
    for note in found.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False)
    console.print(f"Wrote {', '.join(p.name for p in paths.values())} to [bold]{folder}[/]")
