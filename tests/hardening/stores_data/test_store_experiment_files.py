"""Issue 9: regression tests for experiment files (defects 1, 15, 20 and 29), exact inputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spirallab.errors import InputError
from spirallab.experiments.spec import load_experiment

from .conftest import TINY, assert_one_line, cli


def _sweep(exp: Path, tmp_path: Path) -> tuple[int, str]:
    return cli(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1"])


def test_1_deeply_nested_toml(tiny: Callable[..., Path], tmp_path: Path) -> None:
    exp = tiny(extra="x = " + "[" * 5000 + "]" * 5000)
    code, msg = _sweep(exp, tmp_path)
    assert_one_line(code, msg, str(exp), "nested too deeply")
    assert len(msg) < 500


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ('end = "1990"', "end"),
        ('replicates = "4"', "replicates"),
        ("seed = true", "seed"),
        ("replicates = 5.0", "replicates"),
        ('common_random_numbers = "no"', "common_random_numbers"),
    ],
)
def test_15_types_are_strict(tmp_path: Path, setting: str, key: str) -> None:
    body = TINY.format(extra="", factors="", samples=4)
    lines = [ln for ln in body.splitlines() if not ln.startswith(key + " ")]
    exp = tmp_path / "e.toml"
    exp.write_text(setting + "\n" + "\n".join(lines))
    code, msg = _sweep(exp, tmp_path)
    assert_one_line(code, msg, str(exp), f"{key}: ")


def test_15_whole_numbers_still_accepted_for_reals(tiny: Callable[..., Path]) -> None:
    exp = tiny(factors='[[factors]]\nname = "levers[0].strength"\nlow = 0\nhigh = 1\n')
    experiment, _, _ = load_experiment(exp)
    assert experiment.factors[1].low == 0.0


@pytest.mark.parametrize(
    ("outputs", "needle"),
    [
        ("statistics = []", "outputs.statistics"),
        ("by_years = [1980, 1980]", "by_years lists 1980 twice"),
        ('statistics = ["backsliding", "backsliding"]', "statistics lists 'backsliding' twice"),
    ],
)
def test_20_empty_or_repeated_outputs(
    tiny: Callable[..., Path], tmp_path: Path, outputs: str, needle: str
) -> None:
    exp = tiny(factors="[outputs]\n" + outputs)
    code, msg = _sweep(exp, tmp_path)
    assert_one_line(code, msg, str(exp), needle)


def test_20_distinct_years_keep_their_columns(tiny: Callable[..., Path], tmp_path: Path) -> None:
    exp = tiny(factors="[outputs]\nby_years = [1980, 1985]\nstatistics = [\"p_reach\"]")
    code, text = _sweep(exp, tmp_path)
    assert code == 0, text
    import json

    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert len(manifest["outputs"]) == len(set(manifest["outputs"])) == 8


@pytest.mark.parametrize("ref", ["ABSOLUTE", "../outside.toml", "sub/../../outside.toml"])
def test_29_scenario_outside_the_experiment_folder(tmp_path: Path, ref: str) -> None:
    folder = tmp_path / "experiments"
    (folder / "sub").mkdir(parents=True)
    secret = tmp_path / "outside.toml"
    secret.write_text('name = "SECRET-VALUE"\nend = "not a year"\n')
    ref = str(secret) if ref == "ABSOLUTE" else ref
    exp = folder / "e.toml"
    body = TINY.format(extra="", factors="", samples=4)
    exp.write_text(body.replace('"book-eleven"', f'"{ref}"'))
    with pytest.raises(InputError, match="outside the experiment's folder") as info:
        load_experiment(exp)
    assert "SECRET" not in str(info.value), "nothing of the outside file may be echoed"
    # With allow_outside the file is read (and here its own error is reported).
    with pytest.raises(InputError, match=r"outside\.toml"):
        load_experiment(exp, allow_outside=True)


def test_29_symlink_out_of_the_folder_is_outside(tmp_path: Path) -> None:
    folder = tmp_path / "experiments"
    folder.mkdir()
    secret = tmp_path / "outside.toml"
    secret.write_text('name = "SECRET-VALUE"\n')
    (folder / "link.toml").symlink_to(secret)
    exp = folder / "e.toml"
    exp.write_text(TINY.format(extra="", factors="", samples=4).replace('"book-eleven"',
                                                                        '"link.toml"'))
    with pytest.raises(InputError, match="outside the experiment's folder"):
        load_experiment(exp)


def test_29_scenario_in_the_folder_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "experiments"
    (folder / "scen").mkdir(parents=True)
    builtin = Path(__file__).parents[3] / "src/spirallab/scenarios/builtin/book-eleven.toml"
    (folder / "scen" / "mine.toml").write_text(builtin.read_text())
    exp = folder / "e.toml"
    exp.write_text(TINY.format(extra="", factors="", samples=4).replace('"book-eleven"',
                                                                        '"scen/mine.toml"'))
    _, base, _ = load_experiment(exp)
    assert base.countries
