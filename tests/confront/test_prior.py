"""The calibration's fast prior and kernel draw (confront/prior.py, proposal.FactoredNormal).

Both replace pyabc's own objects for speed only; these tests hold them to giving the same
densities and the same draws as pyabc's, and show that a box that was wrong would be caught.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyabc
import pytest
from pyabc.transition import MultivariateNormalTransition

from spirallab.confront.calibrate import PRIORS, _unit_bandwidth
from spirallab.confront.prior import OneModel, UniformBox
from spirallab.confront.proposal import FactoredNormal


def _pyabc_prior() -> pyabc.Distribution:
    return pyabc.Distribution(**{n: pyabc.RV("uniform", lo, hi - lo) for n, lo, hi in PRIORS})


def _points(n: int, seed: int = 0) -> list[pyabc.Parameter]:
    rng = np.random.default_rng(seed)
    lo = np.array([p[1] for p in PRIORS])
    hi = np.array([p[2] for p in PRIORS])
    out = []
    for k in range(n):
        # Every other point may fall outside the box in some parameter.
        pad = 0.1 * (hi - lo) if k % 2 else 0.0
        values = rng.uniform(lo - pad, hi + pad)
        out.append(pyabc.Parameter(dict(zip([p[0] for p in PRIORS], values.tolist(), strict=True))))
    out.append(pyabc.Parameter({n: lo for n, lo, _ in PRIORS}))
    out.append(pyabc.Parameter({n: hi for n, _, hi in PRIORS}))
    return out


def test_box_density_is_pyabcs_to_the_bit_inside_and_outside() -> None:
    old, new = _pyabc_prior(), UniformBox.from_bounds(PRIORS)
    points = _points(400)
    inside = [new.pdf(x) > 0 for x in points]
    assert 0 < sum(inside) < len(points)  # both cases are exercised
    for x in points:
        assert new.pdf(x) == old.pdf(x)


def test_box_draws_from_the_prior_as_pyabc_does() -> None:
    old, new = _pyabc_prior(), UniformBox.from_bounds(PRIORS)
    np.random.seed(11)
    a = [old.rvs() for _ in range(5)]
    np.random.seed(11)
    b = [new.rvs() for _ in range(5)]
    assert a == b
    copied = new.copy()
    assert isinstance(copied, UniformBox)
    assert pickle.loads(pickle.dumps(new)).pdf(a[0]) == new.pdf(a[0])


def test_box_refuses_what_it_cannot_represent() -> None:
    with pytest.raises(ValueError, match="not RV"):
        UniformBox(a=pyabc.RV("norm", 0, 1))
    box = UniformBox.from_bounds([("a", 0.0, 1.0), ("b", 0.0, 2.0)])
    with pytest.raises(ValueError, match="expected the parameters"):
        box.pdf(pyabc.Parameter({"a": 0.5}))
    with pytest.raises(ValueError, match="expected the parameters"):
        box.pdf(pyabc.Parameter({"a": 0.5, "c": 0.5}))
    assert box.pdf(pyabc.Parameter({"a": 0.5, "b": 1.0})) == pytest.approx(0.5)
    assert box.pdf(pyabc.Parameter({"a": 0.5, "b": 2.0001})) == 0.0


def test_one_model_prior() -> None:
    m = OneModel()
    assert m.rvs() == 0 and m.pmf(0) == 1.0 and m.pmf(1) == 0.0
    assert isinstance(m.copy(), OneModel)


def test_factored_kernel_draws_what_pyabcs_kernel_draws() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(120, 6)), columns=[f"p{i}" for i in range(6)])
    w = rng.uniform(size=120)
    w /= w.sum()
    old = MultivariateNormalTransition(scaling=1.0, bandwidth_selector=_unit_bandwidth)
    new = FactoredNormal(scaling=1.0, bandwidth_selector=_unit_bandwidth)
    old.fit(X, w)
    new.fit(X, w)
    np.random.seed(5)
    a = [old.rvs_single() for _ in range(40)]
    np.random.seed(5)
    b = [new.rvs_single() for _ in range(40)]
    for x, y in zip(a, b, strict=True):
        assert list(y.keys()) == list(X.columns)
        np.testing.assert_allclose([x[k] for k in X.columns], [y[k] for k in X.columns],
                                   rtol=0, atol=1e-12)
    # The density is pyabc's own, untouched.
    assert new.pdf(b[0]) == old.pdf(b[0])
