"""The ``spirallab`` command line.

Each pillar registers its commands in its own module; this module only assembles them and turns
:class:`~spirallab.errors.SpiralLabError` into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from spirallab.errors import SpiralLabError

app = typer.Typer(
    name="spirallab",
    help="Spiral Lab: simulate, observe and test the spiral model of human rights change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from spirallab import __version__

        typer.echo(f"spirallab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Spiral Lab: simulate, observe and test the spiral model of human rights change."""


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from spirallab.cli import (  # noqa: F401
        analysis_cmds,
        confront_cmds,
        data_cmds,
        experiment_cmds,
        model_cmds,
        observe_cmds,
        protect_cmds,
        serve_cmds,
    )


_register()


def main() -> None:
    """Entry point: run the app, reporting user errors on one line without a traceback.

    Errors in the command line itself (an option that is not a number, an unknown command) get
    one line too, instead of the usage box: ``error: --end: Input should be a valid integer``.
    """
    # Typer 0.29 carries its own copy of click; these are its exception classes.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    try:
        rc = app(standalone_mode=False)
    except SpiralLabError as exc:
        # The message may hold user text (a path, a name): never read it as markup.
        _err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        message = " ".join(exc.format_message().split())
        where = exc.ctx.command_path if exc.ctx is not None else "spirallab"
        _err.print(
            f"[bold red]error:[/] {escape(message)} (see '{escape(where)} --help')",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(exc.exit_code)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        _err.print("Aborted.")
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
