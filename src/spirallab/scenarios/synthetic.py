"""Synthetic countries for scale and teaching.

Covariates are drawn from Beta distributions centred on the middling values of the stylised
scenario, with spread enough to include invulnerable and highly dependent states (assumption);
about a third of countries have an insurgency of 5-30 years (assumption). The world is fully
determined by its own seed, separate from the simulation seed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from spirallab.scenarios.schema import Country, SyntheticWorld


def synthetic_countries(spec: SyntheticWorld) -> list[Country]:
    """The world's countries (a new list; the countries, frozen models, are shared)."""
    return list(_generate(spec))


# Generating the world costs a few milliseconds, a tenth of a short run of 150 countries (issue
# 8's benchmark): a run resolves it twice, and sweeps and benchmarks reuse the same world.
@lru_cache(maxsize=8)
def _generate(spec: SyntheticWorld) -> tuple[Country, ...]:
    rng = np.random.default_rng(spec.seed)
    out: list[Country] = []
    width = len(str(spec.n))
    for i in range(spec.n):
        start = int(rng.integers(spec.start_min, spec.start_max + 1))
        insurgency: list[tuple[int, int | None]] = []
        if rng.random() < 1 / 3:
            a = start + int(rng.integers(0, 15))
            insurgency.append((a, a + int(rng.integers(5, 31))))

        def beta(a: float, b: float) -> float:
            return round(float(rng.beta(a, b)), 3)

        out.append(
            Country(
                id=f"S{i + 1:0{width}d}",
                name=f"Synthetica {i + 1}",
                start=start,
                repression=round(0.5 + 0.5 * float(rng.beta(2, 2)), 3),
                endemic_abuse=beta(3, 3),
                material_vulnerability=beta(2, 2),
                social_vulnerability=beta(2, 2),
                strategic_interest=beta(2, 4),
                security_control=beta(4, 2),
                civil_society=beta(3, 2),
                mobilisation=round(0.1 * float(rng.random()), 3),
                linkage=round(0.2 * float(rng.random()), 3),
                insurgency=insurgency,
                notes="synthetic",
            )
        )
    return tuple(out)
