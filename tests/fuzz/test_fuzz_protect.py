"""Fuzzing the protection planner: malformed dates, enormous fields, unknown values and
destinations, corrupted case files. Never a traceback, never a partial write.

Bounded in CI by the ``ci`` profile of tests/fuzz/conftest.py; ``make fuzz`` runs ``long``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spirallab.act.protect import store
from spirallab.act.protect.catalogue import load_catalogue
from spirallab.cli import app
from spirallab.errors import InputError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = tomllib.loads((REPO / "examples" / "protect" / "case.toml").read_text("utf-8"))
PW = "fuzzing passphrase, long enough"
pytestmark = pytest.mark.fuzz


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] + [path]
    return [path]


LEAVES = [p for p in _leaves(EXAMPLE) if p]

junk = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=0, max_value=20_000).map(lambda n: "x" * n),   # enormous fields
    st.sampled_from(["2026-02-30", "2026-13-01", "yesterday", "01/02/2026", "", "0000-00-00",
                     "2026-1-1", "9999-99-99T00:00"]),                    # malformed dates
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.text(max_size=5), max_size=3),
    st.sampled_from(["unknown-kind", "STATE", "ongoing ", "very-high", "ZZZ", "col"]),
)


@pytest.fixture(scope="module", autouse=True)
def _remember_keys() -> Any:
    # Argon2id is deliberately slow; the same passphrase and header give the same key, so
    # remembering derived keys changes no result and keeps the fuzzing fast.
    patch = pytest.MonkeyPatch()
    patch.setattr(store, "_derive", functools.lru_cache(maxsize=256)(store._derive))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "c.spl"
    store.create(path, PW, "fuzz")
    return path


@given(edits=st.lists(st.tuples(st.sampled_from(LEAVES), st.one_of(st.none(), junk)),
                      min_size=1, max_size=4))
def test_import_of_mangled_cases(case_file: Path, tmp_path_factory: pytest.TempPathFactory,
                                 edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(EXAMPLE)
    for path, value in edits:
        node: Any = data
        try:
            for part in path[:-1]:
                node = node[part]
            if value is None:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the parent
    src = tmp_path_factory.mktemp("in") / "case.toml"
    src.write_bytes(tomli_w.dumps(data).encode("utf-8"))
    before = case_file.read_bytes()
    result = CliRunner().invoke(app, ["protect", "import", str(case_file), str(src), "--replace",
                                      "--passphrase-stdin"], input=PW + "\n")
    if result.exception is not None:
        assert isinstance(result.exception, InputError), repr(result.exception)
        assert "\n" not in str(result.exception)
        assert case_file.read_bytes() == before
    else:
        assert result.exit_code == 0
        assert store.open_store(case_file, PW, "fuzz").vault.cases
    assert not list(case_file.parent.glob("*.tmp"))


@given(mutation=st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), st.integers(min_value=0), st.just(0)),
    st.tuples(st.just("insert"), st.integers(min_value=0), st.integers(min_value=0,
                                                                      max_value=255)),
    st.tuples(st.just("append"), st.integers(min_value=1, max_value=64), st.just(0)),
))
def test_corrupted_files_never_open_and_never_crash(case_file: Path,
                                                    tmp_path_factory: pytest.TempPathFactory,
                                                    mutation: tuple[str, int, int]) -> None:
    blob = bytearray(case_file.read_bytes())
    kind, where, value = mutation
    pos = where % len(blob)
    if kind == "flip":
        blob[pos] ^= value
    elif kind == "cut":
        blob = blob[:pos]
    elif kind == "insert":
        blob.insert(pos, value)
    else:
        blob += bytes(where)
    bad = tmp_path_factory.mktemp("bad") / "c.spl"
    bad.write_bytes(bytes(blob))
    with pytest.raises(InputError) as err:
        store.open_store(bad, PW, "fuzz")
    assert "\n" not in str(err.value)
    assert bad.read_bytes() == bytes(blob)


@given(name=st.text(max_size=60))
def test_unknown_destinations(name: str) -> None:
    cat = load_catalogue()
    known = {m.id for m in cat.mechanism}
    if name in known:
        assert cat.get(name).id == name
        return
    result = CliRunner().invoke(app, ["protect", "draft", "--", "absent.spl", "c", name])
    assert isinstance(result.exception, InputError), repr(result.exception)
    assert "DESTINATION" in str(result.exception)


@given(day=st.text(max_size=20))
def test_malformed_assessment_dates(day: str) -> None:
    result = CliRunner().invoke(app, ["protect", "assess", "absent.spl", "c", f"--on={day}"])
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        assert isinstance(result.exception, InputError), repr(result.exception)
        assert "--on" in str(result.exception)
    else:
        assert isinstance(result.exception, InputError)  # then: no passphrase / no file


_line = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
                max_size=30)
_answer = st.one_of(_line, st.sampled_from(["y", "n", "rural", "threat", "ongoing", "state",
                                            "2026-01-01", "individual", "KEN", "capacity",
                                            "networks", "high"]))


@settings(max_examples=max(10, settings.default.max_examples // 2))
@given(answers=st.lists(_answer, max_size=40))
def test_interactive_entry_with_random_answers(case_file: Path, answers: list[str]) -> None:
    before = case_file.read_bytes()
    result = CliRunner().invoke(app, ["protect", "add", str(case_file), "--replace",
                                      "--passphrase-stdin"],
                                input=PW + "\n" + "\n".join(answers) + "\n")
    if result.exception is not None:
        assert isinstance(result.exception, InputError), repr(result.exception)
        assert case_file.read_bytes() == before
    else:
        assert result.exit_code == 0
