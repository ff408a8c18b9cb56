"""The simulation state: a structure of arrays, each shaped (countries, replicates).

Countries run along the first axis so that sums over countries (the network's shared attention)
add whole rows in a fixed order: the result for a replicate never depends on how many other
replicates share the array, which keeps runs bit-identical whatever the chunking.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Float arrays are float32 at run time; typed loosely so numpy scalar promotion type-checks.
F = npt.NDArray[np.floating[Any]]
B = npt.NDArray[np.bool_]
I8 = npt.NDArray[np.int8]

# Discursive stance of the government toward the norm (001 Phases 1-4; issue 2).
SILENT, DENIAL, RHETORIC, ARGUMENT, ACCEPTANCE = 0, 1, 2, 3, 4
STANCE_LABELS = ("silent", "denial", "rhetorical concession", "argumentation", "acceptance")

PHASE_LABELS = {
    1: "repression",
    2: "denial",
    3: "tactical concessions",
    4: "prescriptive status",
    5: "rule-consistent behaviour",
}


# Rows of the compiled kernel's state tile (kernel.py), LANES float32 each per country:
# the State's variables (flags as 0/1, stance and phase as codes), the derived observables
# and the lever strengths in force; a named tuple of ints, which Numba reads as constants.
TILE_ROWS: tuple[str, ...] = (
    "stance",
    "repression_political",
    "repression_endemic",
    "legitimacy",
    "rally",
    "entrapment",
    "habituation",
    "new_regime",
    "regime_age",
    "ratified_core",
    "ratified_protocols",
    "constitution",
    "complaint_mechanism",
    "trained_officials",
    "mobilisation",
    "fear",
    "key_leaders",
    "linkage",
    "information",
    "on_agenda",
    "attention",
    "campaign",
    "pressure_above",
    "episode",
    "preferred_repression",
    "phase",
    # derived, filled in before recording
    "repression",
    "institutions",
    "pressure_below",
    # scratch: this step's demand for the network's attention and its six uniform draws
    "demand",
    # the lever draw at or above which a repressive episode strikes (per lane, set once a tile)
    "episode_threshold",
    "u_phase",
    "u_choice",
    "u_massacre",
    "u_institution",
    "u_ratification",
    "u_lever",
    # lever strengths in force this step (setup.LEVER_KINDS order)
    "lever_aid_conditionality",
    "lever_naming_and_shaming",
    "lever_un_mechanism",
    "lever_bilateral_pressure",
    "lever_withdraw_pressure",
    "lever_fund_domestic_groups",
    "lever_imposed_crackdown",
    "lever_regime_change",
)
# The State variables the kernel loads at the start (the first rows of the tile).
STATE_ROWS: tuple[str, ...] = TILE_ROWS[: TILE_ROWS.index("phase") + 1]
_Rows = namedtuple("_Rows", TILE_ROWS)  # type: ignore[misc]
ROW: Any = _Rows(*range(len(TILE_ROWS)))


@dataclass(frozen=True)
class State:
    """Everything that changes during a run. Mechanisms return a new State; none mutates one."""

    # Government of the target state
    stance: I8
    repression_political: F  # high-profile repression of opponents (killings, disappearances)
    repression_endemic: F  # routine low-level abuse (torture of suspects, police violence)
    legitimacy: F
    rally: F  # legitimacy gained from nationalist backlash, wearing off
    entrapment: F
    habituation: F
    new_regime: B
    regime_age: F
    ratified_core: B  # ICCPR and CAT
    ratified_protocols: B  # ICCPR-OP1 and OPCAT
    constitution: B  # norms in constitution and law
    complaint_mechanism: B
    trained_officials: B
    # Domestic society
    mobilisation: F
    fear: F
    key_leaders: F
    linkage: F
    # Transnational advocacy network
    information: F
    on_agenda: B
    attention: F
    campaign: F
    # International partners
    pressure_above: F
    # A repressive episode under way (its strength, 0-1; issue 10, sixth round)
    episode: F
    # The government's preferred political repression (constant over a run; inferred at the
    # start for a country started from data: government.preferred_at_rest)
    preferred_repression: F
    # Bookkeeping
    phase: I8
    backslid: B

    def replace(self, **changes: Any) -> State:
        """A copy with some arrays swapped (arrays are shared, not copied)."""
        # Bypasses __init__: this runs ~10 times per step, where dataclasses.replace is slow.
        new = object.__new__(State)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    @property
    def institutions(self) -> F:
        """Institutionalisation index: share of the five indicators in place (001 Phase 4)."""
        total = (
            self.ratified_core.astype(np.float32)
            + self.ratified_protocols
            + self.constitution
            + self.complaint_mechanism
            + self.trained_officials
        )
        out: F = total * np.float32(0.2)
        return out

    @property
    def repression(self) -> F:
        """Overall repression: either kind of abuse counts (1 - both absent)."""
        out: F = 1.0 - (1.0 - self.repression_political) * (1.0 - self.repression_endemic)
        return out

    @property
    def pressure_below(self) -> F:
        """Pressure from below: a mobilised society that is not paralysed by fear."""
        out: F = self.mobilisation * (1.0 - self.fear)
        return out
