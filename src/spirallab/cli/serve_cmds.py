"""Command of the Workbench pillar: ``serve``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spirallab.cli import app
from spirallab.errors import InputError

console = Console()


def default_data() -> Path | None:
    """``$SPIRALLAB_DATA``, else ``./data`` or ``../shared/data`` if one of them exists."""
    env = os.environ.get("SPIRALLAB_DATA")
    if env:
        return Path(env)
    for candidate in (Path("data"), Path("..") / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


@app.command()
def serve(
    data: Annotated[
        Path | None,
        typer.Option(help="Folder of the published data sets (default: $SPIRALLAB_DATA,"
                     " ./data or ../shared/data)."),
    ] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(help="A `spirallab calibrate` folder (the forecast is computed at start)"
                     " or a `spirallab forecast` folder."),
    ] = None,
    runs: Annotated[
        Path, typer.Option(help="Folder of runs, sweeps and reports to browse.")
    ] = Path("runs"),
    seeds: Annotated[
        Path | None,
        typer.Option(help="Folder of the source documents (default: 'seeds' beside the data)."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to bind; 127.0.0.1 keeps it on this machine.")
    ] = "127.0.0.1",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser window.")
    ] = False,
) -> None:
    """Start the workbench, a local web app: world table, countries, what-ifs, briefs, runs."""
    from spirallab.workbench.server import prepare, serve_forever

    folder = data if data is not None else default_data()
    if folder is None:
        raise InputError(
            "no data folder", where="--data",
            expected="a folder of the published data sets (see docs/data.md)",
        )
    if not 0 <= port <= 65535:
        raise InputError("bad port", where="--port", found=port, expected="0 to 65535")
    console.print(f"loading {folder} ...")
    bench = prepare(folder, posterior=posterior, runs=runs, seeds=seeds, say=console.print)
    serve_forever(bench, host=host, port=port, open_browser=not no_browser, say=console.print)
