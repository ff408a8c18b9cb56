"""What a run returns: the recorded arrays, tidy frames, events and a summary."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model.engine import OBSERVABLES
from spirallab.model.setup import Setup
from spirallab.scenarios.schema import Scenario

INT_OBSERVABLES = {"phase", "stance"}
BOOL_OBSERVABLES = {"on_agenda", "ratified_core", "ratified_protocols", "new_regime"}


@dataclass
class SimulationResult:
    """The outcome of :func:`spirallab.simulate`.

    ``records`` holds the recorded observables (all of :data:`OBSERVABLES` unless the run asked
    for fewer; their names are in ``observables``) as float32, shaped (years, observables,
    countries, replicates); :meth:`array` gives one observable as (years, countries, replicates).
    Country-years before a country's start are recorded but masked out of frames and summaries.
    """

    scenario: Scenario
    setup: Setup
    seed: int
    records: npt.NDArray[np.float32]
    events: pd.DataFrame
    observables: tuple[str, ...] = OBSERVABLES
    # Issue 11: yearly defender outcomes (years, outcomes, C, groups, R) when there are defenders.
    defenders: npt.NDArray[np.float32] | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def years(self) -> npt.NDArray[np.int64]:
        return self.setup.years

    @property
    def country_ids(self) -> list[str]:
        return self.setup.country_ids

    @property
    def replicates(self) -> int:
        return int(self.records.shape[3])

    def array(self, name: str) -> npt.NDArray[np.float32]:
        """One observable over (years, countries, replicates)."""
        if name not in self.observables:
            known = ", ".join(self.observables)
            raise KeyError(f"observable {name!r} was not recorded; this run has {known}")
        return self.records[:, self.observables.index(name)]

    @property
    def phases(self) -> npt.NDArray[np.int8]:
        """Phase codes (1-5; 0 before a country's start), shaped (years, countries, replicates)."""
        return self.array("phase").astype(np.int8)

    def active(self) -> npt.NDArray[np.bool_]:
        """(years, countries): the country's repressive situation has begun."""
        return self.years[:, None] >= self.setup.starts[None, :]

    def to_frame(self) -> pd.DataFrame:
        """Tidy results: one row per replicate, country and year from the country's start."""
        n_r = self.records.shape[3]
        yi, ci = np.nonzero(self.active())
        cols: dict[str, Any] = {
            "replicate": np.tile(np.arange(n_r, dtype=np.int32), len(yi)),
            "country": pd.Categorical.from_codes(
                np.repeat(ci, n_r), categories=self.setup.country_ids
            ),
            "country_name": pd.Categorical.from_codes(
                np.repeat(ci, n_r), categories=self.setup.country_names
            ),
            "year": np.repeat(self.years[yi], n_r).astype(np.int32),
        }
        for k, name in enumerate(self.observables):
            values = self.records[yi, k, ci, :].reshape(-1)
            if name in INT_OBSERVABLES:
                cols[name] = values.astype(np.int8)
            elif name in BOOL_OBSERVABLES:
                cols[name] = values.astype(bool)
            else:
                cols[name] = values
        cols["norm_density"] = np.repeat(self.setup.density[yi], n_r).astype(np.float32)
        cols["insurgency"] = np.repeat(self.setup.insurgency[yi, ci], n_r).astype(bool)
        if self.defenders is not None:  # issue 11: per country-year defender outcomes
            from spirallab.model.defender_results import frame_columns

            cols.update(frame_columns(self.defenders, yi, ci))
        df = pd.DataFrame(cols)
        return df.sort_values(["replicate", "country", "year"], kind="stable", ignore_index=True)

    # --- summaries -------------------------------------------------------------------------
    def first_year_reached(self) -> npt.NDArray[np.float64]:
        """(phases 1..5, countries, replicates): first year at or above each phase; NaN if never."""
        if "first" not in self._cache:
            ph = self.phases
            out = np.full((5, ph.shape[1], ph.shape[2]), np.nan)
            years = self.years.astype(np.float64)
            for k in range(1, 6):
                reached = ph >= k
                any_ = reached.any(axis=0)
                idx = reached.argmax(axis=0)
                out[k - 1] = np.where(any_, years[idx], np.nan)
            self._cache["first"] = out
        result: npt.NDArray[np.float64] = self._cache["first"]
        return result

    def backslid(self) -> npt.NDArray[np.bool_]:
        """(countries, replicates): the phase fell at least once."""
        ph = self.phases.astype(np.int16)
        drops = (np.diff(ph, axis=0) < 0) & (ph[1:] > 0) & (ph[:-1] > 0)
        out: npt.NDArray[np.bool_] = np.asarray(drops.any(axis=0))
        return out

    def summary(self) -> dict[str, Any]:
        """Per country: P(reach phase k by the end), median entry year, share that backslid."""
        first = self.first_year_reached()
        back = self.backslid()
        countries: dict[str, Any] = {}
        for c, cid in enumerate(self.country_ids):
            p_reach = {}
            median = {}
            for k in range(2, 6):
                f = first[k - 1, c]
                reached = ~np.isnan(f)
                p_reach[str(k)] = round(float(reached.mean()), 4)
                median[str(k)] = float(np.median(f[reached])) if reached.any() else None
            countries[cid] = {
                "name": self.setup.country_names[c],
                "start": int(self.setup.starts[c]),
                "p_reach": p_reach,
                "median_entry_year": median,
                "share_backslid": round(float(back[c].mean()), 4),
            }
        out = {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "seed": self.seed,
            "replicates": self.replicates,
            "start": int(self.years[0]),
            "end": int(self.years[-1]),
            "step": self.setup.step,
            "mechanisms_off": self.scenario.mechanisms_off(),
            "median_entry_note": "median over the replicates that reach the phase",
            "countries": countries,
        }
        if self.defenders is not None:  # issue 11
            from spirallab.model.defender_results import summary

            out["defenders"] = summary(self.setup, self.defenders)
        return out

    def reference_outcomes(self) -> pd.DataFrame:
        """Historical outcomes listed in the scenario (for comparison only)."""
        rows = [
            {
                "country": c.id,
                "label": o.label,
                "year": o.year,
                "year_end": o.year_end,
                "phase": o.phase,
            }
            for c in self.scenario.countries
            for o in c.reference_outcomes
        ]
        df = pd.DataFrame(rows, columns=["country", "label", "year", "year_end", "phase"])
        df["year_end"] = df["year_end"].astype("Int64")
        return df

    # --- writing ---------------------------------------------------------------------------
    def save(
        self, out_dir: Path, report: bool = True, progress: Callable[[str], None] | None = None
    ) -> dict[str, Path]:
        """Write results.parquet, events.parquet, summary.json and report.html atomically."""
        out_dir.mkdir(parents=True, exist_ok=True)
        frame = self.to_frame()
        summary = self.summary()
        paths = {
            "results": out_dir / "results.parquet",
            "events": out_dir / "events.parquet",
            "summary": out_dir / "summary.json",
        }
        atomic_write(paths["results"], lambda p: frame.to_parquet(p, index=False))
        atomic_write(paths["events"], lambda p: self.events.to_parquet(p, index=False))
        atomic_write(
            paths["summary"],
            lambda p: p.write_text(json.dumps(summary, indent=2), encoding="utf-8"),
        )
        if report:
            if progress:
                progress("report")
            from spirallab.report import write_report

            paths["report"] = out_dir / "report.html"
            write_report(frame, self.events, summary, self.reference_outcomes(), paths["report"])
        return paths


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
