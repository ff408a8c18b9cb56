"""Helpers for the regression tests of issue 9: run the real command, read its one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

# A small valid scenario that each test breaks in one place.
TINY = """
name = "tiny"
end = 1990
replicates = 4
seed = 1

[[countries]]
id = "AAA"
name = "Testland"
start = 1970
"""


@dataclass
class Ran:
    rc: int
    stdout: str
    stderr: str

    def one_line_error(self, *fragments: str) -> str:
        """Assert exit 2, no traceback and a single stderr line holding ``fragments``."""
        assert self.rc == 2, (self.rc, self.stdout[-2000:], self.stderr[-2000:])
        assert "Traceback" not in self.stderr and "Traceback" not in self.stdout
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr[-3000:]
        for f in fragments:
            assert f in lines[0], (f, lines[0])
        return lines[0]


def spirallab(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run ``python -m spirallab ARGS`` with this checkout's sources first on the path."""
    full_env = {
        **os.environ,
        "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "COLUMNS": "120",
        **(env or {}),
    }
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=full_env,
    )
    return Ran(res.returncode, res.stdout, res.stderr)


@pytest.fixture
def cli() -> Callable[..., Ran]:
    """The real command: ``cli("run", "stylised", ...)`` returns its exit status and output."""
    return spirallab


@pytest.fixture
def tiny() -> str:
    """A small valid scenario to break in one place."""
    return TINY


@pytest.fixture
def run_file() -> Callable[..., Ran]:
    """``run_file(path, *options)``: ``spirallab run PATH --no-report --out PATH/../out``."""

    def run(path: Path, *extra: str) -> Ran:
        return spirallab("run", str(path), "--no-report", "--out", str(path.parent / "out"), *extra)

    return run


@pytest.fixture
def scenario_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write scenario text to ``tmp_path/s.toml`` and return its path."""

    def write(text: str, name: str = "s.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
