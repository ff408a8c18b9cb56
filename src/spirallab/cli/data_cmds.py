"""Commands of the data layer: ``data check`` (issue 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from spirallab.cli import app
from spirallab.data import DataSources, check_sources
from spirallab.data.check import band_labels
from spirallab.data.sources import SOURCE_NAMES
from spirallab.errors import InputError

data_app = typer.Typer(help="Published human-rights data: validate and summarise.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


def _overrides(items: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not path or name not in SOURCE_NAMES:
            raise InputError("bad --file value", where="--file", found=item,
                             expected=f"SOURCE=PATH with SOURCE one of {', '.join(SOURCE_NAMES)}")
        out[name] = Path(path)
    return out


def _table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    return table


@data_app.command("check")
def check(
    folder: Annotated[Path | None, typer.Argument(help="Data folder (../shared/data layout).")] =
    None,
    file: Annotated[list[str] | None, typer.Option(
        "--file", help="Name one source's file explicitly: SOURCE=PATH (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate every source, then show coverage by source and year band and what did not match."""
    overrides = _overrides(file or [])
    if folder is not None:
        src = DataSources.from_dir(folder).with_files(overrides)
    elif overrides:
        src = DataSources().with_files(overrides)
    else:
        raise InputError("no data given", where="DIR",
                         expected="a data folder or at least one --file SOURCE=PATH")
    result = check_sources(src)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    console = Console()
    sources = result.sources.drop(columns=["file"])
    console.print(_table("Coverage by source", sources))
    if not result.bands.empty:
        wide = result.bands.pivot_table(index="source", columns="band", values="countries",
                                        aggfunc="sum", sort=False)
        wide = wide[[b for b in band_labels() if b in wide.columns]].astype("Int64").reset_index()
        console.print(_table("Countries with data, by year band", wide))
    if result.unmatched.empty:
        console.print("Unmatched: none.")
    else:
        console.print(_table("Unmatched (not on the panel; each with its reason)",
                             result.unmatched.drop(columns=["file"])))
    console.print(f"Panel: {result.panel_rows} country-years, "
                  f"{result.panel_countries} countries.")
    if result.casefiles_off_panel:
        console.print("Case files for countries not on this panel (their events are not used): "
                      + ", ".join(result.casefiles_off_panel), highlight=False)
