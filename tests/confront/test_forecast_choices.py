"""Forecasting choices the inner backtest selects: tempering, the persistence blend, folds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spirallab.confront.baselines import blend
from spirallab.confront.calibrate import Posterior
from spirallab.confront.forecast import forecast
from spirallab.confront.record import load_record
from spirallab.errors import InputError

from .conftest import tiny_posterior

ROOT = Path(__file__).resolve().parents[2]


def _tidy(probs: list[list[float]], target: str = "pts_a") -> pd.DataFrame:
    rows = [
        {"country_id": f"C{i}", "year": 2004, "target": target, "level": k + 1, "probability": p}
        for i, ps in enumerate(probs)
        for k, p in enumerate(ps)
    ]
    return pd.DataFrame(rows)


def test_blend_by_hand() -> None:
    a = _tidy([[1.0, 0, 0, 0, 0], [0.2, 0.2, 0.2, 0.2, 0.2]])
    b = _tidy([[0, 0, 0, 0, 1.0], [0.0, 0.0, 1.0, 0.0, 0.0]]).assign(method="persistence")
    m = blend(a, b, 0.25)
    first = m[m["country_id"] == "C0"]["probability"].to_numpy()
    assert np.allclose(first, [0.25, 0, 0, 0, 0.75])
    second = m[m["country_id"] == "C1"]["probability"].to_numpy()
    assert np.allclose(second, [0.05, 0.05, 0.8, 0.05, 0.05])
    assert list(m.columns) == ["country_id", "year", "target", "level", "probability"]
    # Weight 1 is the first forecast, 0 the second; only rows both forecast are kept.
    assert np.allclose(blend(a, b, 1.0)["probability"], a["probability"])
    assert len(blend(a, b.iloc[:5], 0.5)) == 5
    with pytest.raises(ValueError, match="outside"):
        blend(a, b, 1.5)


@pytest.mark.realdata
def test_tempering_sharpens_the_weights(shared_data: Path, tmp_path: Path) -> None:
    post = Posterior.load(tiny_posterior(tmp_path / "post"))
    rec = load_record(shared_data, until=2000)

    def run(temper: float, also: tuple[float, ...] = ()):  # type: ignore[no-untyped-def]
        return forecast(post, rec, 2000, 2001, window=4, draws=4, replicates=4, temper=temper,
                        also_tempers=also)

    res = run(1.0, (0.0, 4.0))
    sharp = run(4.0)
    one, flat = res.forecasts, res.tempered[0.0]
    # The same particles at another tempering, without simulating again: the same forecast.
    pd.testing.assert_frame_equal(res.tempered[4.0], sharp.forecasts, check_exact=False)
    d1, d4 = res.diagnostics, sharp.diagnostics
    # Harder selection, fewer effective particles (temper 0 would weigh all equally).
    assert d4["ess"].median() < d1["ess"].median() < d1["particles"].iloc[0]
    assert not np.allclose(one["probability"], sharp.forecasts["probability"])
    assert not np.allclose(one["probability"], flat["probability"])
    with pytest.raises(InputError, match="tempering"):
        forecast(post, rec, 2000, 2001, temper=-1.0)


@pytest.mark.realdata
def test_a_stricter_standard_raises_the_forecast_levels(shared_data: Path, tmp_path: Path) -> None:
    # The same particles read at a standard of accountability that tightens by half a PTS level
    # a decade: the forecasts lean to the worse levels, more so the further ahead; at 0 they
    # are the forecasts of a posterior without the parameter.
    base = Posterior.load(tiny_posterior(tmp_path / "post"))
    rec = load_record(shared_data, until=2000)

    def mean_level(rate: float | None) -> pd.Series:
        particles = base.particles
        if rate is not None:
            particles = particles.assign(pts_accountability=rate)
        post = Posterior(particles, base.meta)
        f = forecast(post, rec, 2000, 2006, window=4, draws=4, replicates=4).forecasts
        f = f[f["target"] == "pts_s"]
        return (f["level"] * f["probability"]).groupby(f["year"]).sum() / f["country_id"].nunique()

    without, zero, strict = mean_level(None), mean_level(0.0), mean_level(0.5)
    pd.testing.assert_series_equal(without, zero)
    rise = strict - zero
    assert rise.loc[2006] > rise.loc[2001] > 0.0
    assert 0.15 < rise.loc[2006] < 0.6


def _backtest_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("backtest", ROOT / "validation" / "backtest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["backtest"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_folds_hold_every_country_out_once() -> None:
    bt = _backtest_module()
    ids = [f"K{i:03d}" for i in range(173)]
    folds = bt.held_out_sets(ids, 5, 0.2, seed=3)
    assert len(folds) == 5
    flat = [c for f in folds for c in f]
    assert sorted(flat) == ids  # each country once
    assert {len(f) for f in folds} <= {34, 35}
    # One fold: the same seeded fifth as `calibrate --holdout 0.2`; another seed, another set.
    from spirallab.confront.calibrate import holdout_countries

    assert bt.held_out_sets(ids, 1, 0.2, seed=0) == [holdout_countries(ids, 0.2, 0)]
    assert bt.held_out_sets(ids, 5, 0.2, seed=4) != folds
