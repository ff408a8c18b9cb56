"""What a run keeps between calls (issue 8, fifth pass) gives what building afresh would.

``build_setup`` keeps setups by the scenario's JSON dump, the engine keeps one block of the
initial tile per setup and parameter values, the empty events frame is handed out as a shallow
copy, and the memory check answers small runs from one syscall. Each is checked against the
uncached path, and for the cases where a cache would go wrong: a scenario changed in place,
parameters that differ between columns, a caller writing into the frame, a run that does not fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from spirallab import Scenario, memory
from spirallab.errors import InputError
from spirallab.model import engine, setup
from spirallab.model.engine import BLOCK, _initial_blocks, _initial_tile, _param_tile
from spirallab.model.events import empty_events
from spirallab.model.params import PARAMETERS
from spirallab.model.setup import _build_setup, build_setup
from spirallab.scenarios.load import load_scenario


def _same_setup(a: setup.Setup, b: setup.Setup) -> None:
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
        elif name == "levers":
            assert len(x) == len(y)
            for u, v in zip(x, y, strict=True):
                assert (u.kind, u.phases) == (v.kind, v.phases)
                assert u.strength.tobytes() == v.strength.tobytes()
        elif name != "defenders":
            assert x == y, name


@pytest.mark.parametrize("name", ["world-150", "book-eleven", "stylised"])
def test_kept_setup_equals_a_fresh_one(name: str) -> None:
    sc = load_scenario(name)
    first, again = build_setup(sc), build_setup(sc)
    _same_setup(first, _build_setup(sc, None, None))
    _same_setup(again, first)
    assert again.material_vulnerability is first.material_vulnerability  # kept, not rebuilt
    again.params["cosmetic_relief"] = -1.0  # each call owns its params
    assert build_setup(sc).params == first.params
    # Other years are another setup.
    assert len(build_setup(sc, end=2000).years) == 2000 - int(first.years[0]) + 1


def test_scenario_changed_in_place_is_built_again() -> None:
    sc = Scenario.model_validate(load_scenario("book-eleven").model_dump(mode="json"))
    before = build_setup(sc)
    sc.countries.pop()  # a frozen model's list still changes in place
    after = build_setup(sc)
    assert after.n_countries == before.n_countries - 1
    _same_setup(after, _build_setup(sc, None, None))


def test_equal_scenarios_share_and_different_ones_do_not() -> None:
    sc = load_scenario("stylised")
    twin = Scenario.model_validate(sc.model_dump(mode="json"))
    assert build_setup(twin).civil_society is build_setup(sc).civil_society
    data = sc.model_dump(mode="json")
    data["countries"][0]["civil_society"] = 0.123
    other = build_setup(Scenario.model_validate(data))
    assert other.civil_society[0] == np.float32(0.123)
    assert build_setup(sc).civil_society[0] != np.float32(0.123)


def _blocks_of(init: np.ndarray, n_tiles: int) -> list[bytes]:
    return [init[min(i, len(init) - 1)].tobytes() for i in range(n_tiles)]


@pytest.mark.parametrize("name", ["world-150", "book-eleven"])
def test_initial_blocks_are_the_initial_tile(name: str) -> None:
    s = build_setup(load_scenario(name))
    n_cols = 67
    plain = _param_tile(s.params, n_cols)
    full = _initial_tile(s, plain, s.params)
    n_tiles = full.shape[0]
    kept = _initial_blocks(s, plain, s.params)
    assert kept.shape[0] == 1  # the uniform case keeps one block
    assert _blocks_of(kept, n_tiles) == _blocks_of(full, n_tiles)
    assert _initial_blocks(build_setup(load_scenario(name)), plain, s.params) is kept
    # Other values of a parameter the state reads: another block, equal to its full tile.
    other = dict(s.params, cosmetic_relief=0.5 * s.params["cosmetic_relief"])
    tile = _param_tile(other, n_cols)
    got = _initial_blocks(s, tile, other)
    assert got is not kept
    assert _blocks_of(got, n_tiles) == _blocks_of(_initial_tile(s, tile, other), n_tiles)


def test_initial_blocks_with_columns_that_differ_are_the_full_tile() -> None:
    s = build_setup(load_scenario("book-eleven"))
    rng = np.random.default_rng(1)
    par = next(p for p in PARAMETERS if p.name == "cosmetic_relief")
    columns = dict(s.params)
    columns["cosmetic_relief"] = rng.uniform(par.lo, par.hi, 70).astype(np.float32)[None, :]
    tile = _param_tile(columns, 70)
    got = _initial_blocks(s, tile, columns)
    assert got.shape[0] == -(-70 // BLOCK)
    assert got.tobytes() == _initial_tile(s, tile, columns).tobytes()


def test_empty_events_copies_do_not_share_what_callers_add() -> None:
    ids = ["A", "B"]
    one = empty_events(ids)
    one["extra"] = 1
    one.loc[0, "year"] = 1990
    two = empty_events(ids)
    assert len(two) == 0 and "extra" not in two.columns
    assert list(two.columns) == list(engine.empty_events(ids).columns)
    assert str(two["country"].dtype) == "category"
    assert list(two["country"].cat.categories) == ids


def test_small_run_skips_meminfo_and_large_run_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(memory.LIMIT_ENV, raising=False)

    def unread() -> int:
        raise AssertionError("read /proc/meminfo for a run that plainly fits")

    monkeypatch.setattr(memory, "_free_bytes", lambda: 8 * 2**30)
    monkeypatch.setattr(memory, "_available_bytes", unread)
    assert memory.check_run_fits(81, 150, 67, 2, where="replicates") > 0
    # Beyond half the free pages the exact figure decides, and refuses what does not fit.
    monkeypatch.setattr(memory, "_available_bytes", lambda: 8 * 2**30)
    with pytest.raises(InputError, match="available memory"):
        memory.check_run_fits(81, 150, 100_000, 22, where="replicates")
    # What does fit in the available memory (free pages are fewer) still runs.
    monkeypatch.setattr(memory, "_free_bytes", lambda: 0)
    assert memory.check_run_fits(81, 150, 1_000, 22, where="replicates") > 0
    # The limit the user sets is always read.
    monkeypatch.setenv(memory.LIMIT_ENV, "300M")
    monkeypatch.setattr(memory, "_free_bytes", lambda: 2**50)
    with pytest.raises(InputError, match=memory.LIMIT_ENV):
        memory.check_run_fits(81, 150, 1_000, 22, where="replicates")
