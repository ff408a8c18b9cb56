"""Scenario files: built-ins load, bad input gets a precise message and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spirallab.errors import InputError
from spirallab.model.params import PARAMETERS
from spirallab.scenarios.load import builtin_names, load_scenario
from spirallab.scenarios.schema import Scenario

GOOD = """
name = "tiny"
end = 2000
[[countries]]
id = "AAA"
name = "Testland"
start = 1980
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spirallab.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_builtins_load() -> None:
    names = builtin_names()
    assert {"book-eleven", "stylised", "world-150"} <= set(names)
    for n in names:
        load_scenario(n)


def test_book_scenario_has_the_eleven() -> None:
    sc = load_scenario("book-eleven")
    assert {c.name for c in sc.countries} == {
        "Chile",
        "Guatemala",
        "Kenya",
        "Uganda",
        "South Africa",
        "Tunisia",
        "Morocco",
        "Indonesia",
        "Philippines",
        "Poland",
        "Czechoslovakia",
    }
    assert all(c.notes for c in sc.countries)
    assert all(c.reference_outcomes for c in sc.countries)


def test_every_parameter_has_unit_and_grounding() -> None:
    for p in PARAMETERS:
        assert p.unit and p.grounding and p.description
        assert p.lo <= p.default <= p.hi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("start = 1980", "start = 1980\nbogus = 1"),
            "countries[0].bogus: unknown key (found 1); expected one of: id, name, start",
        ),
        (
            GOOD.replace("start = 1980", 'start = "soon"'),
            "countries[0].start: Input should be a valid integer",
        ),
        (
            GOOD.replace("start = 1980", "start = 1980\nrepression = 1.7"),
            "countries[0].repression: Input should be less than or equal to 1 (found 1.7); "
            "expected a number from 0.0 to 1.0",
        ),
        (
            GOOD + "[parameters]\nattention_capacity = 0\n",
            "parameters.attention_capacity: Input should be greater than or equal to 0.001"
            " (found 0); expected a number from 0.001 to 10.0 (campaigns per country)",
        ),
        (
            GOOD + "[mechanisms]\nmagic = false\n",
            "mechanisms.magic: unknown key (found False); expected one of: boomerang",
        ),
        (
            GOOD + '[[levers]]\nkind = "sanctions"\nstart = 1981\nend = 1990\n',
            "levers[0].kind: Input should be 'aid_conditionality'",
        ),
        (
            GOOD + '[[levers]]\nkind = "bilateral_pressure"\ntargets = ["ZZZ"]\nstart = 1981\n'
            "end = 1990\n",
            "levers[0].targets: unknown country 'ZZZ'",
        ),
        ('name = "x"\n', "a scenario needs [[countries]] or a [synthetic] section"),
    ],
)
def test_bad_scenarios_are_rejected_precisely(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_malformed_toml(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[[countries]\n')
    with pytest.raises(InputError, match=r"s\.toml: malformed TOML: .*line 2"):
        load_scenario(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_unknown_builtin_name() -> None:
    with pytest.raises(InputError, match=r"no scenario named 'atlantis'; expected .*book-eleven"):
        load_scenario("atlantis")


def test_cli_bad_scenario_exit_code_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("start = 1980", "start = 1980\nrepression = 2"))
    res = cli("run", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert (
        "countries[0].repression" in res.stderr
        and "expected a number from 0.0 to 1.0" in res.stderr
    )
    assert not (tmp_path / "out").exists()


def test_cli_missing_file(tmp_path: Path) -> None:
    res = cli("run", str(tmp_path / "missing.toml"))
    assert res.returncode == 2
    assert "missing.toml: scenario file not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_schema_is_json_schema() -> None:
    res = cli("schema")
    assert res.returncode == 0
    schema = json.loads(res.stdout)
    assert schema["title"] == "Scenario"
    assert "countries" in schema["properties"]
    assert schema == Scenario.model_json_schema()


def test_cli_explain_lists_every_parameter() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "spirallab.cli", "explain", "stylised"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    for p in PARAMETERS:
        assert p.name in res.stdout


def test_cli_scenarios_lists_builtins() -> None:
    res = cli("scenarios")
    assert res.returncode == 0
    for name in builtin_names():
        assert name in res.stdout
