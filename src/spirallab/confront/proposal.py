"""The ABC-SMC proposal: half a kernel around the particles, half a product of marginals.

pyabc weighs an accepted particle by the prior over the proposal's density. Its default
proposal, a normal around every particle, varies over the prior box by orders of magnitude in
25 dimensions, while the calibration's target hardly narrows in most of them (the
identifiability table: most width ratios 0.8-1.0); so the weights of a population were carried
by 1-9 particles of 200 and runs ended on "population total weight nan". A product of each
parameter's own weighted kernel density spreads over the box as the marginals do, but ignores
how parameters move together.

The proposal here is the even mixture of the two (defensive importance sampling, Hesterberg
1995, Technometrics 37): its density is at least half of either's, so every weight is at most
twice what the better of them would give it, wherever that is. Measured on the record:
docs/calibration.md, "Fifth round: the inference".

pyabc draws until a proposal lies inside the prior box and divides the prior by
:meth:`MixtureProposal.pdf`; the truncation's constant is the same for every particle and
cancels when pyabc normalises the weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyabc.parameters import Parameter
from pyabc.transition import MultivariateNormalTransition, Transition

# The kernel around the particles is calibrate.py's (docs/calibration.md, "Inference").
from spirallab.confront.calibrate import KERNEL_SCALING, _unit_bandwidth

# Share of proposals drawn from the product of marginals; the rest from the kernel around the
# particles (assumption: the even mixture, which bounds each weight by twice the better
# component's).
MARGINAL_SHARE = 0.5


# The proposal is fitted to weights flattened (``w ** alpha``, the largest ``alpha`` in 0-1)
# until their effective sample size is at least this share of the population (assumption; issue
# 10, ninth round). A generation carried by a few particles otherwise fits a kernel as narrow
# as those few, while the tolerance's target is still nearly as wide as the prior in most
# parameters: the next generation's accepted particles then fall where the kernel is thin and
# their weights sit on one or two of them (runs/c17: effective sizes 200, 65, 26, 8.4, 5.9, 1.3).
# Any proposal gives valid importance weights (pyabc divides by this proposal's own density),
# so the flattening changes how well the proposal covers the target, not what is estimated.
FIT_ESS_SHARE = 0.25


def flattened(w: np.ndarray, share: float = FIT_ESS_SHARE) -> np.ndarray:
    """Normalised ``w ** alpha`` whose effective sample size is at least ``share * len(w)``.

    ``alpha`` is 1 where the weights already reach it, else the largest value that does (found
    by bisection; ``alpha = 0`` is the even weighting, whose effective size is ``len(w)``).
    """
    wn = np.asarray(w, dtype=np.float64) / np.sum(w)
    need = share * len(wn)

    def ess(alpha: float) -> tuple[float, np.ndarray]:
        positive = wn > 0
        x = np.zeros_like(wn)
        logs = alpha * np.log(wn[positive])
        x[positive] = np.exp(logs - logs.max())
        x /= x.sum()
        return 1.0 / float(np.sum(x**2)), x

    got, _ = ess(1.0)
    if got >= need:
        return wn
    lo, hi = 0.0, 1.0  # ess(lo) >= need > ess(hi)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if ess(mid)[0] >= need:
            lo = mid
        else:
            hi = mid
    return ess(lo)[1]


class DegeneratePopulation(Exception):
    """A population whose importance weights sit on one particle: no proposal can be fitted."""


def check_population(w: np.ndarray) -> np.ndarray:
    """Normalised weights, or :class:`DegeneratePopulation` when one particle carries them all.

    The weighted covariance divides by ``1 - sum(w**2)``, which is 0 then; pyabc would fail
    deep inside scipy on a covariance of NaN.
    """
    wn = np.asarray(w, dtype=np.float64) / np.sum(w)
    if not np.isfinite(wn).all() or 1.0 - float(np.sum(wn**2)) <= 1e-9:
        n_eff = 1.0 / float(np.sum(wn**2)) if np.isfinite(wn).all() else float("nan")
        raise DegeneratePopulation(
            f"the population's weights sit on one particle (effective sample size {n_eff:.3g})"
        )
    return wn


class FactoredNormal(MultivariateNormalTransition):
    """pyabc's kernel around the particles, drawing with a factor of the covariance kept.

    ``numpy.random.multivariate_normal`` decomposes the covariance on every draw (an SVD of
    30 x 30) and pyabc picks the particle through pandas: together 15 of a 178 s calibration
    (docs/calibration.md, "Eleventh round"). The draw here is numpy's own, ``standard_normal
    @ (sqrt(s) * v)`` from the same SVD, from the same random numbers, so it gives the same
    proposals.
    """

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        super().fit(X, w)
        _, s, v = np.linalg.svd(self.cov)
        self._factor = np.sqrt(s)[:, None] * v
        self._columns = [str(c) for c in X.columns]

    def rvs_single(self) -> Parameter:
        index = np.random.choice(self._range, p=self.w, replace=True)
        step = np.random.standard_normal(self._factor.shape[0]) @ self._factor
        draw = self._X_arr[index] + step
        return Parameter(dict(zip(self._columns, draw.tolist(), strict=True)))


class CheckedNormal(FactoredNormal):
    """pyabc's kernel around the particles, refusing a degenerate population clearly."""

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        super().fit(X, check_population(w))


class MixtureProposal(Transition):
    """Propose from ``MARGINAL_SHARE`` x product of 1-D weighted KDEs + the rest x pyabc's kernel.

    The marginals are weighted Gaussian KDEs with Scott's bandwidth for the population's
    effective sample size (as scipy's ``gaussian_kde``, vectorised over the parameters); the
    joint kernel is pyabc's ``MultivariateNormalTransition`` with the population's covariance.
    Both are fitted to the :func:`flattened` weights.
    """

    def __init__(
        self,
        marginal_share: float = MARGINAL_SHARE,
        joint_scaling: float = KERNEL_SCALING,
        fit_ess_share: float = FIT_ESS_SHARE,
    ) -> None:
        self.marginal_share = marginal_share
        self.fit_ess_share = fit_ess_share
        self.joint_scaling = joint_scaling
        self._joint = FactoredNormal(scaling=joint_scaling, bandwidth_selector=_unit_bandwidth)
        self._columns: list[str] = []
        self._points = np.empty((0, 0))
        self._weights = np.empty(0)
        self._bandwidth = np.empty(0)

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        self._columns = [str(c) for c in X.columns]
        wn = flattened(check_population(w), self.fit_ess_share)
        self._joint.fit(X, wn)
        arr = X.to_numpy(dtype=np.float64)
        mean = wn @ arr
        var = wn @ (arr - mean) ** 2 / max(1.0 - float(np.sum(wn**2)), 1e-12)
        n_eff = 1.0 / float(np.sum(wn**2))
        # A parameter the population collapsed on keeps a small spread (relative to its value).
        sd = np.maximum(np.sqrt(var), 1e-6 * np.maximum(1.0, np.abs(mean)))
        self._points, self._weights = arr, wn
        self._bandwidth = sd * n_eff ** (-1.0 / 5.0)

    def rvs_single(self) -> Parameter:
        if np.random.uniform() >= self.marginal_share:
            return self._joint.rvs_single()
        # Each parameter independently: a particle by weight, then its own kernel.
        d = self._points.shape[1]
        rows = np.random.choice(len(self._weights), size=d, p=self._weights)
        draw = self._points[rows, np.arange(d)] + self._bandwidth * np.random.normal(size=d)
        return Parameter(dict(zip(self._columns, draw.tolist(), strict=True)))

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        if isinstance(x, pd.DataFrame):
            values = x[self._columns].to_numpy(dtype=np.float64)
        else:
            values = np.array([[x[key] for key in self._columns]], dtype=np.float64)
        # (points, parameters, particles): each parameter's weighted kernel density.
        z = (values[:, :, None] - self._points.T[None, :, :]) / self._bandwidth[None, :, None]
        kernel = np.exp(-0.5 * z**2) / (np.sqrt(2.0 * np.pi) * self._bandwidth[None, :, None])
        marginal = np.prod(kernel @ self._weights, axis=1)
        joint = np.atleast_1d(
            np.asarray(self._joint.pdf(pd.DataFrame(values, columns=self._columns)))
        )
        dens = self.marginal_share * marginal + (1.0 - self.marginal_share) * joint
        return float(dens[0]) if not isinstance(x, pd.DataFrame) else dens
