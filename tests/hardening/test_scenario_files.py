"""Issue 9: bad scenario files give one line naming the file and exit 2 (defects 1-3, 5, 8,
14-17, 19 and the file half of 18). Each test uses the input the issue reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Write = Callable[..., Path]
Run = Callable[..., Any]


def test_1_deeply_nested_toml(scenario_file: Write, run_file: Run, tiny: str) -> None:
    path = scenario_file(tiny + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    line = run_file(path).one_line_error(str(path), "nested too deeply")
    assert len(line) < 300


@pytest.mark.parametrize(
    "key", ["material_vulnerability", "social_vulnerability", "strategic_interest"]
)
def test_2_empty_step_function(scenario_file: Write, run_file: Run, tiny: str, key: str) -> None:
    path = scenario_file(tiny + f"{key} = []\n")
    run_file(path).one_line_error(str(path), f"countries[0].{key}")


def test_3_two_countries_with_one_name(scenario_file: Write, run_file: Run, tiny: str) -> None:
    path = scenario_file(tiny + '[[countries]]\nid = "BBB"\nname = "Testland"\nstart = 1972\n')
    run_file(path).one_line_error(str(path), "duplicate country names: Testland")
    # Refused before anything is simulated or written.
    assert not (path.parent / "out").exists()


def test_5_synthetic_start_range_reversed(scenario_file: Write, run_file: Run, tiny: str) -> None:
    text = 'name = "syn"\nend = 2030\nreplicates = 2\n[synthetic]\nn = 3\nstart_min = 2000\n'
    path = scenario_file(text + "start_max = 1950\n")
    run_file(path).one_line_error(str(path), "synthetic", "start_max (1950) is before start_min")


def test_8_long_scenario_name_without_out(
    scenario_file: Write, cli: Run, tiny: str, tmp_path: Path
) -> None:
    path = scenario_file(tiny.replace('name = "tiny"', f'name = "{"n" * 300}"'))
    res = cli("run", str(path), "--no-report", cwd=tmp_path)
    res.one_line_error(str(path), "name", "at most 64")
    assert not (tmp_path / "runs").exists()


def test_14_unknown_lever_target_in_a_large_file_gives_a_short_line(
    scenario_file: Write, run_file: Run, tiny: str
) -> None:
    countries = "".join(
        f'[[countries]]\nid = "C{i:05d}"\nname = "Country {i}"\nstart = 1970\n'
        for i in range(10_000)
    )
    lever = (
        '[[levers]]\nkind = "naming_and_shaming"\ntargets = ["NOPE"]\nstart = 1975\nend = 1980\n'
    )
    path = scenario_file('name = "big"\nend = 1990\n' + countries + lever)
    line = run_file(path).one_line_error(str(path), "unknown country 'NOPE'", "(9992 more)")
    assert len(line) < 500


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("end = 1990", 'end = "1990"', "end"),
        ("replicates = 4", 'replicates = "4"', "replicates"),
        ("seed = 1", "seed = true", "seed"),
        ("replicates = 4", "replicates = 5.0", "replicates"),
        ("start = 1970", "start = 1970\nrepression = true", "countries[0].repression"),
    ],
)
def test_15_types_are_not_coerced(
    scenario_file: Write, run_file: Run, tiny: str, old: str, new: str, where: str
) -> None:
    path = scenario_file(tiny.replace(old, new))
    run_file(path).one_line_error(str(path), f"{where}: Input should be a valid")


def test_16_empty_lever_phases(scenario_file: Write, run_file: Run, tiny: str) -> None:
    lever = '[[levers]]\nkind = "naming_and_shaming"\nstart = 1975\nend = 1980\nphases = []\n'
    path = scenario_file(tiny + lever)
    run_file(path).one_line_error(str(path), "levers[0].phases", "at least 1")


@pytest.mark.parametrize(
    "field",
    ["material_vulnerability", "social_vulnerability", "strategic_interest", "non_state_threat"],
)
@pytest.mark.parametrize(
    ("steps", "says"),
    [
        ("[[1980, 0.9], [1980, 0.1]]", "1980 repeats 1980"),
        ("[[1985, 0.9], [1980, 0.1]]", "1980 comes before 1985"),
    ],
)
def test_17_step_function_years_repeated_or_unsorted(
    scenario_file: Write, run_file: Run, tiny: str, field: str, steps: str, says: str
) -> None:
    path = scenario_file(tiny + f"{field} = {steps}\n")
    run_file(path).one_line_error(str(path), f"countries[0].{field}", says)


def test_18_country_starting_after_the_end_is_refused_in_a_file(
    scenario_file: Write, run_file: Run, tiny: str
) -> None:
    path = scenario_file(tiny + '[[countries]]\nid = "LATE"\nname = "Lateland"\nstart = 2000\n')
    run_file(path).one_line_error(
        str(path), "countries[1] (LATE) starts in 2000", "never be simulated"
    )


def test_19_reference_outcome_ending_before_it_starts(
    scenario_file: Write, run_file: Run, tiny: str
) -> None:
    outcome = 'reference_outcomes = [{ label = "x", year = 1985, year_end = 1980, phase = 4 }]\n'
    path = scenario_file(tiny + outcome)
    run_file(path).one_line_error(
        str(path), "reference_outcomes[0]", "year_end (1980) is before year (1985)"
    )


def test_country_end_before_start_is_refused(
    scenario_file: Write, run_file: Run, tiny: str
) -> None:
    path = scenario_file(tiny.replace("start = 1970", "start = 1970\nend = 1960"))
    run_file(path).one_line_error(str(path), "end (1960) is before start (1970)")
