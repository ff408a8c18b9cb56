"""Fuzzing case files: mutated files give a clean error naming the file, or load.

A valid case file is mutated by hypothesis (values of every type, keys deleted or added, events
copied or cut, deep nesting, truncated or corrupted bytes) and read with ``load_casefile``. The
outcome must be a :class:`CaseFile`, or an :class:`InputError` with exit status 2, one line,
naming the file; never another exception, and never more than the suite's memory ceiling.
Bounded by the ``ci`` profile (40 examples, fixed seed); ``make fuzz`` runs ``long``.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given

from spirallab.errors import InputError
from spirallab.observe.casefiles import CaseEvent, CaseFile, load_casefile

from .memory import within_ceiling
from .toml_mutations import mutated_toml

VALID = """
country_id = "XYZ"
name = "Xyzland"
cow = 999
repression_start = 1970
summary = "A made-up country."

[[events]]
year = 1970
month = 3
type = "coup"
description = "The army takes power."
source = "A book, p. 1"

[[events]]
year = 1975
end_year = 1980
type = "state_of_emergency"
description = "Emergency rule."
source = "A book, p. 2"

[[events]]
year = 1990
type = "dissolution"
description = "The state dissolves."
source = "A book, p. 3"
"""
BASE = tomllib.loads(VALID)
KEYS = sorted({*CaseFile.model_fields, *CaseEvent.model_fields})


def test_the_valid_case_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "xyz.toml"
    path.write_text(VALID)
    assert len(load_casefile(path).events) == 3


@pytest.mark.fuzz
@given(raw=mutated_toml(BASE, KEYS))
def test_fuzz_case_files(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xyz.toml"
        path.write_bytes(raw)
        try:
            case = within_ceiling(lambda: load_casefile(path))
        except InputError as exc:
            msg = str(exc)
            assert exc.exit_code == 2 and "\n" not in msg and str(path) in msg, msg
            assert len(msg) < 2000, f"{len(msg)} characters"
        else:
            assert isinstance(case, CaseFile)
