"""Issue 9: regression tests for case files (defects 1 and 22), with the issue's inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from spirallab.data import DataSources
from spirallab.data.check import check_sources
from spirallab.errors import InputError
from spirallab.observe.casefiles import builtin_casefiles, casefiles_off_panel, load_casefile

GOOD = """country_id = "XYZ"
name = "Xyzland"
cow = 999
repression_start = 1970
summary = "A made-up country."
{extra}
[[events]]
year = 1970
type = "coup"
description = "The army takes power."
source = "A book, p. 1"

[[events]]
year = 1990
type = "dissolution"
description = "The state dissolves."
source = "A book, p. 2"
{events}
"""


def _load(tmp_path: Path, extra: str = "", events: str = "") -> object:
    path = tmp_path / "xyz.toml"
    path.write_text(GOOD.format(extra=extra, events=events))
    return load_casefile(path)


def _refused(tmp_path: Path, needle: str, extra: str = "", events: str = "") -> str:
    with pytest.raises(InputError) as info:
        _load(tmp_path, extra, events)
    msg = str(info.value)
    assert info.value.exit_code == 2 and "\n" not in msg and "xyz.toml" in msg
    assert needle in msg, msg
    return msg


def test_the_good_file_loads(tmp_path: Path) -> None:
    assert _load(tmp_path) is not None


def test_1_deeply_nested_toml(tmp_path: Path) -> None:
    msg = _refused(tmp_path, "nested too deeply", extra="x = " + "[" * 5000 + "]" * 5000)
    assert len(msg) < 400


@pytest.mark.parametrize("key", ["source", "description", "name", "summary"])
def test_22_whitespace_only_text(tmp_path: Path, key: str) -> None:
    path = tmp_path / "xyz.toml"
    text = GOOD.format(extra="", events="")
    field = {"source": 'source = "A book, p. 1"', "description": 'description = "The army',
             "name": 'name = "Xyzland"', "summary": 'summary = "A made-up country."'}[key]
    line = next(ln for ln in text.splitlines() if ln.startswith(field))
    path.write_text(text.replace(line, f'{key} = "  \\t "'))
    with pytest.raises(InputError, match=rf"{key}: only whitespace.*visible text"):
        load_casefile(path)


def test_22_events_after_a_dissolution(tmp_path: Path) -> None:
    later = ('\n[[events]]\nyear = 1992\ntype = "election"\ndescription = "A vote."\n'
             'source = "A book, p. 3"\n')
    _refused(tmp_path, "events[2] (1992) is after the dissolution in 1990", events=later)
    spell = later.replace("year = 1992", "year = 1985\nend_year = 1993")
    _refused(tmp_path, "events[2] (1993) is after the dissolution in 1990", events=spell)
    same_year = later.replace("1992", "1990")
    assert _load(tmp_path, events=same_year) is not None


def test_22_case_file_for_a_country_not_on_the_panel_is_reported(tmp_path: Path) -> None:
    cases = builtin_casefiles()
    assert casefiles_off_panel(cases, set(cases)) == []
    assert casefiles_off_panel(cases, set(cases) - {"CSK"}) == ["CSK"]
    # data check names them: a panel from one small file holds none of the case-file countries.
    pts = tmp_path / "PTS-2022.csv"
    pts.write_bytes(b"Country,Country_OLD,Year,COW_Code_A,COW_Code_N,WordBank_Code_A,UN_Code_N,"
                    b"Region,PTS_A,PTS_H,PTS_S,NA_Status_A,NA_Status_H,NA_Status_S\r\n"
                    b"Chile,Chile,1980,CHL,155,CHL,152,lac,4,NA,4,0,88,0\r\n")
    result = check_sources(DataSources(pts=pts))
    assert "CHL" not in result.casefiles_off_panel
    assert set(result.casefiles_off_panel) == set(cases) - {"CHL"}
