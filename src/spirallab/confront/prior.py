"""The calibration's prior for pyabc: independent uniforms on a box, with a vectorised density.

pyabc asks the prior's density of every proposal, and redraws a proposal until it lies inside
the box: 24 times per simulation on the record (runs of 2,000 simulations, single core). Its
own :class:`pyabc.Distribution` evaluates one scipy density per parameter, 1.7 ms for 30
parameters, which was 45% of a calibration's time (docs/calibration.md, "Eleventh round").
:class:`UniformBox` is the same distribution, made of the same ``pyabc.RV("uniform", ...)``
variables (so its draws from the prior are unchanged), with the density computed at once.
:class:`OneModel` is pyabc's default model prior for a single model, without scipy's overhead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyabc
from pyabc.random_variables import RVBase


class UniformBox(pyabc.Distribution):
    """Independent ``U(lo, hi)`` priors, one per parameter; ``pdf`` is ``prod 1/(hi - lo)``
    inside the closed box and 0 outside, the value pyabc's Distribution gives, to the bit."""

    def __init__(self, **variables: Any) -> None:
        super().__init__(**variables)
        self._refresh()

    @classmethod
    def from_bounds(cls, bounds: Sequence[tuple[str, float, float]]) -> UniformBox:
        return cls(**{n: pyabc.RV("uniform", lo, hi - lo) for n, lo, hi in bounds})

    def _refresh(self) -> None:
        names = sorted(self.keys())
        low, width = [], []
        for name in names:
            rv = self[name]
            # from_bounds writes RV("uniform", lo, width); anything else is not this box.
            if getattr(rv, "name", None) != "uniform" or len(rv.args) != 2 or rv.kwargs:
                raise ValueError(f"UniformBox: {name!r} is not RV('uniform', low, width)")
            low.append(float(rv.args[0]))
            width.append(float(rv.args[1]))
        self._names = names
        self._low = np.array(low, dtype=np.float64)
        self._high = self._low + np.array(width, dtype=np.float64)
        self._each = {n: 1.0 / w for n, w in zip(names, width, strict=True)}

    def update_random_variables(self, **random_variables: Any) -> None:
        super().update_random_variables(**random_variables)
        self._refresh()

    def pdf(self, x: Mapping[str, float]) -> float:
        if sorted(x.keys()) != self._names:
            raise ValueError(
                f"prior density: expected the parameters {self._names}, got {sorted(x.keys())}"
            )
        values = np.array([x[n] for n in self._names], dtype=np.float64)
        if not bool(np.all((values >= self._low) & (values <= self._high))):
            return 0.0
        # The product in the order of ``x``'s keys, as pyabc's Distribution forms it.
        out = 1.0
        for name in x:
            out *= self._each[name]
        return out


class OneModel(RVBase):
    """The model prior of a calibration with one model: model 0 with probability 1."""

    def copy(self) -> OneModel:
        return OneModel()

    def rvs(self, *args: Any, **kwargs: Any) -> float:
        return 0

    def pmf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        return 1.0 if int(x) == 0 else 0.0

    def pdf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        return self.pmf(x)

    def cdf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        return 1.0 if x >= 0 else 0.0
