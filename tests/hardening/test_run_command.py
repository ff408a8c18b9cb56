"""Issue 9 defects 4, 6, 7, 11 and 18 and issue 14's "Also fix" items for ``spirallab run``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spirallab.memory import run_bytes

Run = Callable[..., Any]


def test_4_math_markup_in_a_name_is_drawn_as_text(
    scenario_file: Callable[..., Path], tiny: str, cli: Run
) -> None:
    path = scenario_file(tiny.replace('name = "Testland"', 'name = "$^$"'))
    out = path.parent / "out"
    res = cli("run", str(path), "--out", str(out))
    assert res.rc == 0, res.stderr
    assert (out / "report.html").is_file()
    assert "$^$" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [["--end", "1900"], ["--end", "1960"]])
def test_6_end_before_every_start(cli: Run, tmp_path: Path, args: list[str]) -> None:
    res = cli("run", "stylised", "--replicates", "2", "--out", str(tmp_path / "o"), *args)
    res.one_line_error("--end", "end year must be after the start year", "a year after 1970")


@pytest.mark.parametrize(
    "args",
    [
        ["--end", "9223372036854775808"],
        ["--end", "100000"],
        ["--start", "1500"],
        ["--start", "-100", "--end", "10"],
    ],
)
def test_7_years_on_the_command_line_get_the_schema_range(
    cli: Run, tmp_path: Path, args: list[str]
) -> None:
    res = cli("run", "stylised", "--replicates", "2", "--out", str(tmp_path / "o"), *args)
    res.one_line_error("out of range", "a whole number from 1800 to 2200")


def test_11_replicates_beyond_memory_are_refused_with_the_figure(
    cli: Run, tmp_path: Path, scenario_file: Callable[..., Path], tiny: str
) -> None:
    res = cli("run", "stylised", "--replicates", "1000000000", "--out", str(tmp_path / "o"))
    line = res.one_line_error("--replicates", "the run needs about", "replicates fit in")
    assert "1,000,000,000 replicates" in line
    path = scenario_file(tiny.replace("replicates = 4", "replicates = 10_000_000"))
    res = cli("run", str(path), "--out", str(tmp_path / "o"))
    res.one_line_error("the run needs about", "TB" if run_bytes(21, 1, 10**7, 22) > 2**40 else "GB")


def test_11_memory_limit_is_stated_and_enforced(cli: Run, tmp_path: Path) -> None:
    # 2,000 replicates of stylised need about 250 MB + 61 x 392 B x 2000 = 296 MB: over 252M,
    # where (252 - 250) MB / (61 x 392 B) = 87 replicates fit.
    res = cli(
        "run",
        "stylised",
        "--replicates",
        "2000",
        "--no-report",
        "--out",
        str(tmp_path / "o"),
        env={"SPIRALLAB_MEMORY_LIMIT": "252M"},
    )
    line = res.one_line_error("SPIRALLAB_MEMORY_LIMIT=252M")
    assert "at most 87 replicates fit" in line
    res = cli(
        "run",
        "stylised",
        "--replicates",
        "87",
        "--no-report",
        "--out",
        str(tmp_path / "o"),
        env={"SPIRALLAB_MEMORY_LIMIT": "252M"},
    )
    assert res.rc == 0, res.stderr


def test_18_countries_outside_the_years_are_listed_apart(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = cli(
        "run", "book-eleven", "--replicates", "2", "--end", "1980", "--no-report", "--out", str(out)
    )
    assert res.rc == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    # Kenya (1982), Tunisia (1987) start after 1980: not in the table of results, but named.
    assert {"KEN", "TUN"} <= set(summary["not_simulated"])
    assert not {"KEN", "TUN"} & set(summary["countries"])
    assert "not simulated" in " ".join(res.stdout.split())


def test_start_after_a_country_start_is_said(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = cli(
        "run", "stylised", "--replicates", "2", "--start", "1990", "--no-report", "--out", str(out)
    )
    assert res.rc == 0, res.stderr
    assert "simulated from it" in " ".join(res.stdout.split())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["starts_moved"]["RUR"] == {
        "name": "Ruritania",
        "scenario_start": 1970,
        "start": 1990,
    }


def test_summary_table_is_not_cut_when_piped(cli: Run, tmp_path: Path) -> None:
    res = cli(
        "run",
        "book-eleven",
        "--replicates",
        "2",
        "--no-report",
        "--out",
        str(tmp_path / "o"),
        env={"COLUMNS": ""},
    )
    assert res.rc == 0, res.stderr
    header = next(line for line in res.stdout.splitlines() if "country" in line)
    assert "…" not in res.stdout
    assert header.split() == [
        "country",
        "years",
        "P2",
        "P3",
        "P4",
        "P5",
        "yr2",
        "yr3",
        "yr4",
        "yr5",
        "back",
    ]
    assert any(line.split()[:2] == ["South", "Africa"] for line in res.stdout.splitlines())


def test_version(cli: Run) -> None:
    from spirallab import __version__

    res = cli("--version")
    assert res.rc == 0 and res.stdout.strip() == f"spirallab {__version__}"


def test_czechoslovakia_is_not_shown_after_1992(cli: Run, tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "o"
    res = cli("run", "book-eleven", "--replicates", "4", "--out", str(out))
    assert res.rc == 0, res.stderr
    results = pd.read_parquet(out / "results.parquet")
    events = pd.read_parquet(out / "events.parquet")
    assert results.loc[results["country"] == "CSK", "year"].max() == 1992
    assert events.loc[events["country"] == "CSK", "year"].max() <= 1992
    assert results.loc[results["country"] == "POL", "year"].max() == 2030
    summary = json.loads((out / "summary.json").read_text())
    assert summary["countries"]["CSK"]["end"] == 1992
    assert "1969–1992" in (out / "report.html").read_text(encoding="utf-8")


def test_world_150_median_years_are_whole_years() -> None:
    from spirallab import simulate

    # An even number of replicates: np.median would give x.5 years wherever two differ.
    summary = simulate("world-150", replicates=4, seed=1, events=False).summary()
    medians = [
        y
        for c in summary["countries"].values()
        for y in c["median_entry_year"].values()
        if y is not None
    ]
    assert medians and all(isinstance(y, int) for y in medians)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--end", "1e5"], "Invalid value for '--end'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["bogus"], "No such command 'bogus'"),
    ],
)
def test_command_line_mistakes_get_one_line(cli: Run, args: list[str], says: str) -> None:
    cli(*args).one_line_error(says, "--help")


def test_markup_in_user_text_is_printed_as_written(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A path holding rich markup ("[/]" closes nothing) once crashed the error printer.
    bad = tmp_path / "nope[/]x[bold].toml"
    line = cli("run", str(bad)).one_line_error("scenario file not found")
    assert "nope[/]x[bold].toml" in line
