"""Events: every transition, backslide, crackdown, regime change, ratification and concession.

Mechanisms report events through an ``emit(name, mask, detail="")`` callable with a boolean mask
over (countries, replicates); the engine turns masks into rows (replicate, country, year, event,
from_phase, to_phase, detail). Mechanisms never build rows themselves, which keeps them cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model.state import B

Emit = Callable[..., None]

EVENT_NAMES: dict[str, str] = {
    "transition": "any change of phase (from_phase, to_phase)",
    "backslide": "a change to a lower phase",
    "on_agenda": "hypothesis 1 fulfilled: the network puts the country on its agenda",
    "massacre": "an egregious event that speeds agenda setting",
    "concession": "cosmetic concession on entering tactical concessions (prisoner release)",
    "argumentation": "rhetorical concession turns into argument (entrapment)",
    "crackdown": "a crackdown on the movement (detail: decapitating or imposed)",
    "regime_change": "a new government (detail: opposition coalition or repressive)",
    "liberalisation": "controlled liberalisation into prescriptive status",
    "retreat": "a consolidated government retreats from prescriptive status",
    "ratification": "ratification (detail: core conventions or optional protocols)",
    "institution": "a domestic institution (detail: constitution, complaint mechanism, training)",
}

COLUMNS = ["replicate", "country", "year", "event", "from_phase", "to_phase", "detail"]


@dataclass
class EventLog:
    """Collects event masks step by step and turns them into a tidy frame at the end."""

    replicate_offset: int = 0
    year: int = 0
    _parts: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, name: str, mask: B, detail: str = "") -> None:
        if mask.any():
            c, r = np.nonzero(mask)
            self._parts.append(
                {
                    "year": self.year,
                    "c": c,
                    "r": r,
                    "event": name,
                    "detail": detail,
                    "from": -1,
                    "to": -1,
                }
            )

    def emit_transitions(self, old: npt.NDArray[np.int8], new: npt.NDArray[np.int8]) -> None:
        changed = (old != new) & (old > 0)
        if not changed.any():
            return
        c, r = np.nonzero(changed)
        f, t = old[c, r].astype(np.int64), new[c, r].astype(np.int64)
        self._parts.append(
            {
                "year": self.year,
                "c": c,
                "r": r,
                "event": "transition",
                "detail": "",
                "from": f,
                "to": t,
            }
        )
        down = t < f
        if down.any():
            self._parts.append(
                {
                    "year": self.year,
                    "c": c[down],
                    "r": r[down],
                    "event": "backslide",
                    "detail": "",
                    "from": f[down],
                    "to": t[down],
                }
            )

    def frame(self, country_ids: list[str]) -> pd.DataFrame:
        """All events as a tidy frame sorted by replicate, year, country and event."""
        if not self._parts:
            return empty_events()
        n = [len(p["c"]) for p in self._parts]
        cat = np.concatenate
        df = pd.DataFrame(
            {
                "replicate": cat([p["r"] for p in self._parts]) + self.replicate_offset,
                "country": np.asarray(country_ids, dtype=object)[
                    cat([p["c"] for p in self._parts])
                ],
                "year": np.repeat([p["year"] for p in self._parts], n),
                "event": pd.Categorical(
                    np.repeat([p["event"] for p in self._parts], n), categories=list(EVENT_NAMES)
                ),
                "from_phase": cat(
                    [np.broadcast_to(p["from"], k) for p, k in zip(self._parts, n, strict=True)]
                ),
                "to_phase": cat(
                    [np.broadcast_to(p["to"], k) for p, k in zip(self._parts, n, strict=True)]
                ),
                "detail": pd.Categorical(np.repeat([p["detail"] for p in self._parts], n)),
            }
        )
        for col in ("from_phase", "to_phase"):
            df[col] = df[col].astype("Int8").mask(df[col] < 0)
        return df.sort_values(
            ["replicate", "year", "country", "event"], kind="stable", ignore_index=True
        )


def empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "replicate": pd.Series(dtype="int64"),
            "country": pd.Series(dtype="object"),
            "year": pd.Series(dtype="int64"),
            "event": pd.Series(dtype="object"),
            "from_phase": pd.Series(dtype="Int8"),
            "to_phase": pd.Series(dtype="Int8"),
            "detail": pd.Series(dtype="object"),
        }
    )
