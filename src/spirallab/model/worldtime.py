"""World time: how dense international human-rights norms, institutions and networks are in a year.

001 (section "World time") dates three periods: weak before 1973 (treaties not in force, no
bilateral human-rights policies, few NGOs), building 1973-1985 (covenants in force 1976, Western
human-rights policies), and a norms cascade after 1985. We express density as a floor plus a sum of
smoothed steps, one per dated world event, each step reaching half its height in the event's year.
The weights are assumptions chosen so that density is about 0.25 in 1972, about 0.6 in 1985 and
0.9 or more from 1995; the years are facts (issue 2, "World-time events").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class WorldEvent:
    year: int
    label: str
    weight: float


WORLD_EVENTS: tuple[WorldEvent, ...] = (
    WorldEvent(1948, "Universal Declaration of Human Rights", 0.04),
    WorldEvent(1961, "Amnesty International founded", 0.05),
    WorldEvent(1966, "Covenants adopted", 0.04),
    WorldEvent(1975, "Helsinki Final Act", 0.08),
    WorldEvent(1976, "Covenants in force; UN Human Rights Committee", 0.10),
    WorldEvent(1977, "US human-rights foreign policy", 0.10),
    WorldEvent(1984, "Convention against Torture adopted", 0.07),
    WorldEvent(1987, "Convention against Torture in force; norms cascade", 0.22),
    WorldEvent(1993, "Vienna World Conference; UN High Commissioner", 0.12),
    WorldEvent(1998, "UN Declaration on Human Rights Defenders", 0.06),
)

# Years the core conventions opened for signature and ratification (ICCPR 16 December 1966, CAT
# 10 December 1984; UN Treaty Collection). The model's ``ratified_core`` means both, so no
# country-replicate can have it in a year before CORE_OPEN_AFTER + 1 (issue 10).
TREATY_OPENED: dict[str, int] = {"iccpr": 1966, "cat": 1984}
CORE_OPEN_AFTER = max(TREATY_OPENED.values())

# Years over which one event's influence builds (logistic scale); an assumption.
EVENT_SPREAD_YEARS = 2.5


def norm_density(
    years: npt.ArrayLike, floor: float, enabled: bool = True, fixed_year: float = 1980.0
) -> npt.NDArray[np.float64]:
    """Norm density in [0, 1] for each year.

    With ``enabled=False`` (the ``world_time`` mechanism switched off) density is frozen at its
    value in ``fixed_year`` so that every year looks alike.
    """
    y = np.asarray(years, dtype=np.float64)
    if not enabled:
        y = np.full_like(y, fixed_year)
    total = np.full_like(y, floor)
    for ev in WORLD_EVENTS:
        total += ev.weight / (1.0 + np.exp(-(y - ev.year) / EVENT_SPREAD_YEARS))
    scale = floor + sum(ev.weight for ev in WORLD_EVENTS)
    out: npt.NDArray[np.float64] = np.clip(total / scale, 0.0, 1.0)
    return out
