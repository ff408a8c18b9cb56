"""The PTS statistics' expectations against the AR(1) observation model they claim to follow."""

from __future__ import annotations

import numpy as np

from spirallab.confront.summaries import (
    DRIFT_LAG,
    Observed,
    record_summaries,
    simulated_summaries,
)

YEARS = np.arange(1990, 2002)


def _grid(pts: np.ndarray) -> Observed:
    """A grid with PTS scores from the first source only, nothing else observed."""
    n_y, n_c = pts.shape
    three = np.full((n_y, n_c, 3), np.nan)
    three[..., 0] = pts
    return Observed(
        YEARS, [f"c{i}" for i in range(n_c)], np.full((n_y, n_c, 5), np.nan), three,
        np.full((n_y, n_c), np.nan), np.full((n_y, n_c), np.nan),
    )


def _draw_scores(repression: np.ndarray, noise: float, sd: float, rho: float, reps: int,
                 rng: np.random.Generator) -> np.ndarray:
    """(reps, Y, C) scores: level nearest to 1 + 4r + d_t + e_t, d AR(1) stationary sd."""
    n_y, n_c = repression.shape
    d = np.empty((reps, n_y, n_c))
    d[:, 0] = rng.normal(0, sd, (reps, n_c))
    for t in range(1, n_y):
        d[:, t] = rho * d[:, t - 1] + rng.normal(0, sd * np.sqrt(1 - rho**2), (reps, n_c))
    latent = 1 + 4 * repression + d + rng.normal(0, noise, d.shape)
    return np.clip(np.rint(latent), 1, 5)


def test_pts_statistics_are_the_ar1_models_expectations() -> None:
    rng = np.random.default_rng(3)
    n_c = 60
    repression = rng.uniform(0.1, 0.9, (len(YEARS), n_c)).astype(np.float32)
    noise, sd, rho = 0.4, 0.7, 0.6
    scores = _draw_scores(repression.astype(np.float64), noise, sd, rho, 400, rng)
    obs = _grid(np.ones((len(YEARS), n_c)))
    phase = np.zeros(repression.shape, dtype=np.int8)
    expected = simulated_summaries(obs, phase, repression, np.zeros_like(repression), noise,
                                   {}, sd, rho)
    empirical = [record_summaries(_grid(s)) for s in scores]
    for key in ("pts_share", "pts_moves", "pts_drift"):
        mc = np.mean([e[key] for e in empirical], axis=0)
        assert np.abs(mc - expected[key]).max() < 0.01, key
    # The fixed offset (rho = 1) of the old statistics misses the AR(1) scores' changes.
    fixed = simulated_summaries(obs, phase, repression, np.zeros_like(repression), noise, {}, sd)
    mc_drift = np.mean([e["pts_drift"] for e in empirical], axis=0)
    assert np.abs(mc_drift - fixed["pts_drift"]).min() > 0.05
    assert np.abs(fixed["pts_share"] - expected["pts_share"]).max() < 1e-9  # same marginals


def test_record_changes_by_hand() -> None:
    pts = np.full((len(YEARS), 2), np.nan)
    pts[:, 0] = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5]
    pts[:, 1] = [2, 2, np.nan, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    stats = record_summaries(_grid(pts))
    # Yearly changes pooled over both countries, per decade of the later year.
    moves0 = np.abs(np.diff(pts[:, 0]))
    moves1 = np.abs(np.diff(pts[:, 1]))
    later = YEARS[1:]
    in90 = later < 2000
    pool90 = np.concatenate([moves0[in90], moves1[in90][~np.isnan(moves1[in90])]])
    assert stats["pts_moves"][0] == np.mean(pool90)
    lag = DRIFT_LAG
    d0 = np.abs(pts[lag:, 0] - pts[:-lag, 0])
    d1 = np.abs(pts[lag:, 1] - pts[:-lag, 1])
    late = YEARS[lag:] >= 2000
    pool00 = np.concatenate([d0[late], d1[late][~np.isnan(d1[late])]])
    assert stats["pts_drift"][1] == np.mean(pool00)
    assert stats["pts_drift"][1] == np.mean([2, 1, 1, 1])  # 1995->2000 and 1996->2001


def _random_record(n_c: int, rng: np.random.Generator) -> Observed:
    n_y = len(YEARS)
    probs = rng.dirichlet(np.ones(5), (n_y, n_c))
    pts = rng.integers(1, 6, (n_y, n_c, 3)).astype(np.float64)
    ratified = (rng.uniform(size=(n_y, n_c)) < 0.5).astype(np.float64)
    return Observed(YEARS, [f"c{i}" for i in range(n_c)], probs, pts, ratified,
                    np.zeros((n_y, n_c)))


def test_record_scales_are_sampling_errors() -> None:
    from spirallab.confront.calibrate import SCALE_FLOOR, record_scales

    rng = np.random.default_rng(5)
    small = record_scales(_random_record(40, rng), draws=60)
    large = record_scales(_random_record(640, rng), draws=60)
    assert (small >= SCALE_FLOOR).all() and (large >= SCALE_FLOOR).all()
    free = large > 2 * SCALE_FLOOR  # away from the floor
    # Sixteen times the countries: a quarter of the sampling error.
    ratio = np.median(large[free] / small[free])
    assert 0.18 < ratio < 0.33


def test_accountability_shift_by_hand() -> None:
    from spirallab.confront.observation import accountability_shift

    years = np.array([1990, 1995, 2000, 2010])
    starts = np.array([1990, 2000])
    shift = accountability_shift(years, starts, 0.3)
    assert np.allclose(shift, [[0.0, 0.0], [0.15, 0.0], [0.3, 0.0], [0.6, 0.3]])
    per_particle = accountability_shift(years, starts, np.array([0.0, 0.3, -0.1]))
    assert per_particle.shape == (4, 2, 3)
    assert np.allclose(per_particle[..., 1], shift)
    assert np.allclose(per_particle[..., 0], 0.0)
    assert np.allclose(per_particle[3, 0, 2], -0.2)


def test_a_stricter_standard_worsens_the_scores_of_a_constant_practice() -> None:
    # Practice constant at 0.4 (latent 2.6): the scores' shares stay flat at a constant
    # standard and move toward the worse levels as the standard tightens, from the start on.
    n_c = 20
    repression = np.full((len(YEARS), n_c), 0.4, dtype=np.float32)
    obs = _grid(np.ones((len(YEARS), n_c)))
    phase = np.zeros(repression.shape, dtype=np.int8)
    starts = np.full(n_c, YEARS[0], dtype=np.int64)
    args = (obs, phase, repression, np.zeros_like(repression), 0.5, {}, 0.3, 0.8)
    flat = simulated_summaries(*args, 0.0, starts)
    strict = simulated_summaries(*args, 0.5, starts)
    mean_level = np.arange(1, 6)

    def means(stats: dict[str, np.ndarray]) -> np.ndarray:
        shares = stats["pts_share"].reshape(len(YEARS), 5)
        return np.asarray(shares @ mean_level)

    assert np.ptp(means(flat)) < 1e-9
    assert abs(means(strict)[0] - means(flat)[0]) < 1e-9  # the start is read at its standard
    rise = means(strict)[-1] - means(strict)[0]
    assert 0.35 < rise < 0.6  # 0.5 levels a decade over 11 years, through the level cuts
    assert np.all(np.diff(means(strict)) > 0)
