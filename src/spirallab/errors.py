"""Errors a user can act on.

Every problem with user input (a scenario file, a data file, a command-line value) is raised as
:class:`InputError`, which names where the problem is and what was expected. The CLI prints it on
one line and exits with status 2; it never shows a traceback for these.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class SpiralLabError(Exception):
    """Base class for errors that the CLI reports without a traceback."""

    exit_code: int = 1


class InputError(SpiralLabError):
    """Bad user input: a file, the place inside it, and what was expected there.

    ``where`` is a key path (``countries[2].aid_dependence``), a line (``line 14``) or a column
    (``column TORT``); ``found`` is the offending value, if there is one.
    """

    exit_code = 2

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        where: str | None = None,
        found: object = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.where = where
        self.found = found
        self.expected = expected
        super().__init__(self.render())

    def render(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.where:
            parts.append(self.where)
        head = ": ".join(parts)
        msg = f"{head}: {self.problem}" if head else self.problem
        if self.found is not None:
            msg += f" (found {self.found!r})"
        if self.expected:
            msg += f"; expected {self.expected}"
        return msg


def key_path(loc: Sequence[int | str]) -> str:
    """A validation location as a key path: ("countries", 2, "start") -> countries[2].start."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
