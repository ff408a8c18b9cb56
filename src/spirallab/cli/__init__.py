"""The ``spirallab`` command line.

Each pillar registers its commands in its own module; this module only assembles them and turns
:class:`~spirallab.errors.SpiralLabError` into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from spirallab.errors import SpiralLabError

app = typer.Typer(
    name="spirallab",
    help="Spiral Lab: simulate, observe and test the spiral model of human rights change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_err = Console(stderr=True)


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from spirallab.cli import (  # noqa: F401
        analysis_cmds,
        confront_cmds,
        data_cmds,
        experiment_cmds,
        model_cmds,
        observe_cmds,
        serve_cmds,
    )


_register()


def main() -> None:
    """Entry point: run the app, reporting user errors without a traceback."""
    try:
        app()
    except SpiralLabError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
