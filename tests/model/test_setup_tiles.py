"""The engine's parameter and initial-state tiles equal their column-by-column construction.

``_param_tile`` casts plain numbers in one call and ``_initial_tile`` builds the state one
replicate wide and broadcasts it into block-major rows; both must give the very bytes of the
full-width construction (one cast per parameter, ``initial_state`` at every padded column), with
sweeps' per-column parameter rows mixed in.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pytest

from spirallab.model.engine import BLOCK, _initial_tile, _param_tile
from spirallab.model.params import PARAMETERS
from spirallab.model.setup import build_setup, initial_state
from spirallab.model.state import ROW, STATE_ROWS
from spirallab.scenarios.load import load_scenario
from spirallab.scenarios.schema import Scenario

F32 = npt.NDArray[np.float32]
Params = Mapping[str, float | F32]


def _param_reference(parameters: Params, n_cols: int) -> F32:
    n_pad = -(-n_cols // BLOCK) * BLOCK
    tile = np.empty((len(PARAMETERS), n_pad), dtype=np.float32)
    for k, par in enumerate(PARAMETERS):
        value = np.asarray(parameters[par.name], dtype=np.float32).reshape(-1)
        if value.size == 1:
            tile[k] = value[0]
        else:
            tile[k, :n_cols] = value
            tile[k, n_cols:] = value[-1]
    return tile


def _scenario(name: str) -> Scenario:
    """A built-in scenario; ``-phases``: its countries start in phases 1 to 5 in turn."""
    if not name.endswith("-phases"):
        return load_scenario(name)
    data = load_scenario(name.removesuffix("-phases")).model_dump(mode="json")
    for k, country in enumerate(data["countries"]):
        country["initial_phase"] = 1 + k % 5
    return Scenario.model_validate(data)


def _initial_reference(setup_name: str, params: F32) -> tuple[F32, F32]:
    setup = build_setup(_scenario(setup_name))
    n_pad = params.shape[1]
    columns = {par.name: params[k][None, :] for k, par in enumerate(PARAMETERS)}
    s = initial_state(setup, n_pad, columns)
    init = np.empty((len(STATE_ROWS), setup.n_countries, n_pad), dtype=np.float32)
    for r, name in enumerate(STATE_ROWS):
        init[r] = getattr(s, name)
    init[ROW.phase] *= (setup.starts <= setup.years[0])[:, None]
    # The engine keeps it block-major: block i is init[:, :, 32 i : 32 (i + 1)].
    blocks = init.reshape(len(STATE_ROWS), setup.n_countries, n_pad // BLOCK, BLOCK)
    return np.ascontiguousarray(blocks.transpose(2, 0, 1, 3)), _initial_tile(setup, params, columns)


def _swept(n_cols: int, names: tuple[str, ...], seed: int) -> dict[str, float | F32]:
    """The defaults, with some parameters varied per column as sweeps and calibration pass them."""
    rng = np.random.default_rng(seed)
    out: dict[str, float | F32] = {p.name: p.default for p in PARAMETERS}
    for name in names:
        par = next(p for p in PARAMETERS if p.name == name)
        row = rng.uniform(par.lo, par.hi, n_cols).astype(np.float32)
        out[name] = row[None, :]
    return out


SWEPT = ("cosmetic_relief", "commitment_practice", "political_floor", "agenda_threshold")


@pytest.mark.parametrize("n_cols", [1, 32, 67])
@pytest.mark.parametrize("swept", [(), SWEPT[:1], SWEPT])
def test_param_tile_matches_reference(n_cols: int, swept: tuple[str, ...]) -> None:
    parameters = _swept(n_cols, swept, n_cols)
    got, ref = _param_tile(parameters, n_cols), _param_reference(parameters, n_cols)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert got.tobytes() == ref.tobytes()


def test_param_tile_values_are_the_parameters() -> None:
    # Not only equal to the reference: each row is its parameter's float32 value.
    got = _param_tile({p.name: p.default for p in PARAMETERS}, 5)
    for k, par in enumerate(PARAMETERS):
        assert (got[k] == np.float32(par.default)).all()


@pytest.mark.parametrize("name", ["world-150", "book-eleven", "stylised", "book-eleven-phases"])
@pytest.mark.parametrize("swept", [(), SWEPT])
def test_initial_tile_matches_full_width_state(name: str, swept: tuple[str, ...]) -> None:
    n_cols = 67
    params = _param_tile(_swept(n_cols, swept, 3), n_cols)
    ref, got = _initial_reference(name, params)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert got.tobytes() == ref.tobytes()
    assert got.flags.c_contiguous
    if swept and name.endswith("-phases"):  # past phase 1 the swept values reach the state
        assert np.ptp(got, axis=(0, 3)).any()
