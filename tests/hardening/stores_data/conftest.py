"""Helpers for the regression tests of issue 9: the CLI in-process, and a tiny experiment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import SpiralLabError

TINY = """
name = "tiny"
scenario = "book-eleven"
replicates = 2
seed = 3
end = 1985
{extra}
[design]
kind = "lhs"
samples = {samples}

[[factors]]
name = "parameters.lobbying_efficacy"
low = 0.3
high = 1.0
{factors}
"""


def cli(args: Sequence[str]) -> tuple[int, str]:
    """Run ``spirallab ARGS`` in this process as ``spirallab.cli.main`` does.

    Returns (exit code, message): a user error gives its exit code and its one-line message; any
    other exception (what would be a traceback) is raised, so the test fails.
    """
    result = CliRunner().invoke(app, list(args))
    exc = result.exception
    if isinstance(exc, SpiralLabError):
        return exc.exit_code, str(exc)
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.output


def assert_one_line(code: int, message: str, *needles: str) -> None:
    """Exit 2 with one line that contains every needle."""
    assert code == 2, message
    assert "\n" not in message.strip(), message
    assert "Traceback" not in message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.fixture
def tiny(tmp_path: Path) -> Callable[..., Path]:
    """Write the tiny experiment (a few seconds of work at most) with extra text filled in."""

    def write(
        extra: str = "", factors: str = "", samples: int = 4, name: str = "tiny.toml"
    ) -> Path:
        path = tmp_path / name
        path.write_text(TINY.format(extra=extra, factors=factors, samples=samples), "utf-8")
        return path

    return write
