"""Fuzzing scenario files through ``spirallab run`` (issue 9).

Each example is a scenario file: a small valid scenario with a few keys set to arbitrary TOML
values (wrong types, out-of-range numbers, odd strings, nested arrays, dates, unknown keys), or
its text cut, spliced or nested. ``spirallab run FILE`` must then either succeed (exit 0) or
raise the project's one-line error naming the file (exit 2): never another exception (a
traceback) and never more memory than the stated ceiling.

Memory ceiling: runs are given ``SPIRALLAB_MEMORY_LIMIT=300M``, so the estimate refuses any run
it expects to need more; each example's peak of Python and numpy allocations (tracemalloc) must
stay under ``CEILING_MB``. The command is invoked in-process the way ``spirallab.cli.main`` does
(an uncaught exception would be a traceback), which keeps 40 examples within about a minute.
"""

from __future__ import annotations

import datetime as dt
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.errors import SpiralLabError

pytestmark = pytest.mark.fuzz

CEILING_MB = 400
LIMIT = "300M"

BASE: dict[str, Any] = {
    "name": "fuzz",
    "end": 1985,
    "replicates": 3,
    "seed": 1,
    "countries": [
        {"id": "AAA", "name": "Aland", "start": 1970},
        {
            "id": "BBB",
            "name": "Bland",
            "start": 1972,
            "material_vulnerability": [[1972, 0.3], [1978, 0.6]],
            "insurgency": [[1974, 1979]],
            "reference_outcomes": [{"label": "x", "year": 1980, "phase": 4}],
        },
    ],
    "levers": [
        {
            "kind": "naming_and_shaming",
            "targets": ["AAA"],
            "start": 1975,
            "end": 1980,
            "phases": [2, 3],
        }
    ],
    "parameters": {"attention_capacity": 6.0},
    "mechanisms": {"pincer": True},
}

# Where mutations land: every kind of key the schema has, and some it does not.
PATHS: list[tuple[Any, ...]] = [
    ("name",),
    ("end",),
    ("start",),
    ("replicates",),
    ("seed",),
    ("step",),
    ("description",),
    ("synthetic",),
    ("synthetic", "n"),
    ("synthetic", "start_min"),
    ("synthetic", "start_max"),
    ("countries",),
    ("countries", 0),
    ("countries", 0, "id"),
    ("countries", 0, "name"),
    ("countries", 0, "start"),
    ("countries", 0, "end"),
    ("countries", 0, "repression"),
    ("countries", 0, "initial_phase"),
    ("countries", 0, "key_leaders"),
    ("countries", 1, "material_vulnerability"),
    ("countries", 1, "social_vulnerability"),
    ("countries", 1, "insurgency"),
    ("countries", 1, "reference_outcomes"),
    ("countries", 1, "reference_outcomes", 0, "year_end"),
    ("countries", 1, "name"),
    ("levers", 0, "kind"),
    ("levers", 0, "targets"),
    ("levers", 0, "start"),
    ("levers", 0, "end"),
    ("levers", 0, "phases"),
    ("levers", 0, "strength"),
    ("parameters", "attention_capacity"),
    ("parameters", "bogus"),
    ("mechanisms", "pincer"),
    ("mechanisms",),
    ("bogus",),
]

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 1799, 1800, 1969, 1984, 1985, 1986, 2200, 2201, 10**7, 10**9]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["", " ", "$^$", "a\nb", "AAA", "BBB", "all", "1990", "é" * 200, "<b>x</b>"]),
    st.dates(min_value=dt.date(1, 1, 1)),
)
# Values at the edges of what the schema means, drawn often: a bounded run should meet them.
edges = st.sampled_from(
    [
        [],
        {},
        [[]],
        [[1980, 0.9], [1980, 0.1]],
        [[1985, 0.9], [1980, 0.1]],
        [[1980, 2.0]],
        [[2100, 0.5]],
        "1990",
        True,
        5.0,
        0.0,
        1e308,
        float("nan"),
        -1,
        10**9,
        2**63 - 1,
        1500,
        "$^$",
        "x" * 300,
        [0],
        [6],
        ["NOPE"],
        [[1990, 1980]],
        {"label": "x", "year": 1990},
    ]
)
values = st.one_of(
    edges,
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    ),
)


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if not (in_dict or in_list):
            return
        data = data[part]
    last = path[-1]
    if isinstance(data, dict):
        if value is _DELETE:
            data.pop(last, None)
        else:
            data[last] = value
    elif isinstance(data, list) and isinstance(last, int) and last < len(data):
        if value is _DELETE:
            del data[last]
        else:
            data[last] = value


_DELETE = object()


@st.composite
def scenario_texts(draw: st.DrawFn) -> str:
    import copy

    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        value = draw(st.one_of(values, st.just(_DELETE)))
        _set(data, path, value)
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):  # e.g. a key tomli_w cannot write
        text = tomli_w.dumps(BASE)
    how = draw(st.sampled_from(["as is", "as is", "cut", "splice", "nest"]))
    if how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=20)) + text[at:]
    elif how == "nest":
        depth = draw(st.sampled_from([10, 5000]))
        text += "x = " + "[" * depth + "]" * depth + "\n"
    return text


@pytest.fixture(scope="module")
def limited_memory() -> Iterator[None]:
    old = os.environ.get("SPIRALLAB_MEMORY_LIMIT")
    os.environ["SPIRALLAB_MEMORY_LIMIT"] = LIMIT
    yield
    if old is None:
        os.environ.pop("SPIRALLAB_MEMORY_LIMIT", None)
    else:
        os.environ["SPIRALLAB_MEMORY_LIMIT"] = old


@given(text=scenario_texts())
def test_run_succeeds_or_fails_on_one_line(
    text: str, tmp_path_factory: pytest.TempPathFactory, limited_memory: None
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "s.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    tracemalloc.start()
    try:
        res = CliRunner().invoke(
            app, ["run", str(path), "--no-report", "--out", str(folder / "out")]
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < CEILING_MB * 2**20, f"peak {peak / 2**20:.0f} MB"
    if res.exit_code == 0:
        assert (folder / "out" / "summary.json").is_file()
        return
    exc = res.exception
    # Anything but the project's error would reach the user as a traceback.
    assert isinstance(exc, SpiralLabError), (type(exc), exc, text[:500])
    assert exc.exit_code == 2
    message = str(exc)
    assert "\n" not in message and len(message) < 2000, message[:3000]
    assert message.startswith(str(path)), message
    assert not (folder / "out").exists()


def test_the_strategy_reaches_both_outcomes(tmp_path: Path) -> None:
    """The fuzzer is not vacuous: the base file runs, and a mutated one is refused."""
    good = tmp_path / "good.toml"
    good.write_text(tomli_w.dumps(BASE), encoding="utf-8")
    assert (
        CliRunner()
        .invoke(app, ["run", str(good), "--no-report", "--out", str(tmp_path / "o")])
        .exit_code
        == 0
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps({**BASE, "replicates": 2.5}), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(bad), "--no-report"])
    assert isinstance(res.exception, SpiralLabError)


# Letters of several scripts, and everything that means something to matplotlib, HTML or a shell.
names = st.text(
    st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("éøßçñ—–’“”…ŁŒ№ДжΩ"),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=max(6, settings.default.max_examples // 7))
@given(name=names, label=names, description=st.text(max_size=60))
def test_report_draws_any_name(
    name: str, label: str, description: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """User text reaches titles, figures and tables of the report (defect 4: "$^$")."""
    import copy

    data = copy.deepcopy(BASE)
    data["description"] = description
    data["countries"][0]["name"] = name
    data["countries"][1]["reference_outcomes"][0]["label"] = label
    folder = tmp_path_factory.mktemp("fuzz-report")
    path = folder / "s.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(folder / "out")])
    if res.exit_code == 0:
        assert (folder / "out" / "report.html").is_file()
        return
    assert isinstance(res.exception, SpiralLabError), (type(res.exception), res.exception)
    assert str(res.exception).startswith(str(path))
