"""Shared pieces of the protection planner's tests: the example case and a CLI runner.

Every test that runs commands does so with HOME, TMPDIR and the working folder inside its own
temporary folder, so that whatever a command writes can be found and inspected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from spirallab.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "protect" / "case.toml"
PASS = "ceiba test passphrase, long enough"
ON = "2026-10-21"

#: Answers to `protect add`, with a wrong area and a wrong date that must be asked again.
ANSWERS = [
    "KEN", "countryside", "rural", "", "Kestrel", "individual", "", "", "documents evictions",
    "", "y", "k1",
    "y", "n", "2026-13-01", "2026-11-01", "threat", "imminent", "they said they would come",
    "non-state", "", "a village elder", "n",
    "n",
    "y", "networks", "capacity", "low", "no network",
    "n",
]
#: The free text among them (an adversary must not find it on disk either).
ANSWER_TEXTS = ["Kestrel", "documents evictions", "they said they would come", "a village elder",
                "no network"]

# Keys whose values are vocabulary (enums, ids, tags), not case content.
_VOCABULARY = {"format", "kind", "status", "perpetrator", "category", "level", "area", "country",
               "destination", "id", "gender", "region"}


def example_data() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text("utf-8"))


def recorded_strings(data: Any, key: str = "") -> list[str]:
    """Every piece of free text in a case (what an adversary must not find on disk)."""
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in recorded_strings(v, k)]
    if isinstance(data, list):
        return [s for v in data for s in recorded_strings(v, key)]
    if isinstance(data, str) and key not in _VOCABULARY:
        return [data]
    return []


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder with its own HOME and TMPDIR; yields the working folder."""
    for name in ("home", "tmp", "work"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    monkeypatch.chdir(tmp_path / "work")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    yield tmp_path / "work"


@pytest.fixture(autouse=True)
def remember_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id is deliberately slow; in-process tests remember derived keys (same passphrase
    and header, same key), which changes no result. The subprocess tests derive every time."""
    from spirallab.act.protect import store

    monkeypatch.setattr(store, "_derive", _cached_derive(store))


_CACHE: dict[str, Any] = {}


def _cached_derive(store: Any) -> Any:
    import functools

    if "derive" not in _CACHE:
        _CACHE["derive"] = functools.lru_cache(maxsize=256)(store._derive)
    return _CACHE["derive"]


def protect(*args: str, passphrase: str | None = PASS, stdin: str = "") -> Result:
    """Run ``spirallab protect ARGS``, giving the passphrase on standard input."""
    argv = ["protect", *args]
    if passphrase is not None:
        argv.append("--passphrase-stdin")
        stdin = passphrase + "\n" + stdin
    return CliRunner().invoke(app, argv, input=stdin)


def error_line(result: Result) -> str:
    """The one-line message of a :class:`SpiralLabError` raised out of the app."""
    from spirallab.errors import SpiralLabError

    assert isinstance(result.exception, SpiralLabError), (result.output, result.exception)
    return str(result.exception)


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for n in names:
                yield Path(dirpath) / n
