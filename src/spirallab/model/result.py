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
        """Phase codes (1-5; 0 before a country's start), shaped (years, countries, replicates).

        These are the engine's, including years after a country's ``end``; see
        :meth:`shown_phases` for what the outputs show.
        """
        return self.array("phase").astype(np.int8)

    def shown_phases(self) -> npt.NDArray[np.int8]:
        """:attr:`phases` with 0 after each country's ``end`` too (what summaries are of)."""
        ph = self.phases
        ends = self.country_ends()
        if (ends < self.years[-1]).any():
            ph[self.years[:, None] > ends[None, :]] = 0
        return ph

    def country_ends(self) -> npt.NDArray[np.int64]:
        """(countries,): each country's last shown year (its ``end``, else the run's last)."""
        if "ends" not in self._cache:
            last = int(self.years[-1])
            by_id = {c.id: c.end for c in self.scenario.countries if c.end is not None}
            self._cache["ends"] = np.array(
                [min(by_id.get(cid, last), last) for cid in self.country_ids], dtype=np.int64
            )
        out: npt.NDArray[np.int64] = self._cache["ends"]
        return out

    def active(self) -> npt.NDArray[np.bool_]:
        """(years, countries): the country's repressive situation has begun and the country
        still exists (years after a country's ``end`` are simulated but never shown)."""
        years = self.years[:, None]
        return (years >= self.setup.starts[None, :]) & (years <= self.country_ends()[None, :])

    def shown_countries(self) -> npt.NDArray[np.bool_]:
        """(countries,): the country has at least one simulated year shown."""
        return np.asarray(self.active().any(axis=0), dtype=bool)

    def shown_events(self) -> pd.DataFrame:
        """The event log without events after a country's end."""
        ends = self.country_ends()
        if not len(self.events) or not (ends < self.years[-1]).any():
            return self.events
        end_of = pd.Series(ends, index=self.country_ids)
        limit = self.events["country"].astype(str).map(end_of).to_numpy()
        return self.events.loc[self.events["year"].to_numpy() <= limit].reset_index(drop=True)

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
    def first_year_reached(self, shown: bool = False) -> npt.NDArray[np.float64]:
        """(phases 1..5, countries, replicates): first year at or above each phase; NaN if never.

        ``shown`` leaves out the years after a country's ``end``.
        """
        key = "first_shown" if shown else "first"
        if key not in self._cache:
            ph = self.shown_phases() if shown else self.phases
            out = np.full((5, ph.shape[1], ph.shape[2]), np.nan)
            years = self.years.astype(np.float64)
            for k in range(1, 6):
                reached = ph >= k
                any_ = reached.any(axis=0)
                idx = reached.argmax(axis=0)
                out[k - 1] = np.where(any_, years[idx], np.nan)
            self._cache[key] = out
        result: npt.NDArray[np.float64] = self._cache[key]
        return result

    def backslid(self, shown: bool = False) -> npt.NDArray[np.bool_]:
        """(countries, replicates): the phase fell at least once (by its ``end`` if ``shown``)."""
        ph = (self.shown_phases() if shown else self.phases).astype(np.int16)
        drops = (np.diff(ph, axis=0) < 0) & (ph[1:] > 0) & (ph[:-1] > 0)
        out: npt.NDArray[np.bool_] = np.asarray(drops.any(axis=0))
        return out

    def summary(self) -> dict[str, Any]:
        """Per country: P(reach phase k by its last year), median entry year, share that
        backslid; countries never simulated are listed apart, and moved starts are noted."""
        first = self.first_year_reached(shown=True)
        back = self.backslid(shown=True)
        ends = self.country_ends()
        shown = self.shown_countries()
        asked = {c.id: c.start for c in self.scenario.countries}
        countries: dict[str, Any] = {}
        not_simulated: dict[str, Any] = {}
        moved: dict[str, Any] = {}
        for c, cid in enumerate(self.country_ids):
            name = self.setup.country_names[c]
            start = int(self.setup.starts[c])
            if not shown[c]:
                not_simulated[cid] = {
                    "name": name,
                    "start": asked.get(cid, start),
                    "end": int(ends[c]),
                    "why": f"outside the simulated years {int(self.years[0])}-"
                    f"{int(self.years[-1])}",
                }
                continue
            if cid in asked and asked[cid] < start:
                moved[cid] = {"name": name, "scenario_start": asked[cid], "start": start}
            p_reach = {}
            median: dict[str, int | None] = {}
            for k in range(2, 6):
                f = first[k - 1, c]
                reached = ~np.isnan(f)
                p_reach[str(k)] = round(float(reached.mean()), 4)
                median[str(k)] = median_year(f[reached])
            countries[cid] = {
                "name": name,
                "start": start,
                "end": int(ends[c]),
                "p_reach": p_reach,
                "median_entry_year": median,
                "share_backslid": round(float(back[c].mean()), 4),
            }
        notes = []
        if moved:
            notes.append(
                f"{len(moved)} countr{'y starts' if len(moved) == 1 else 'ies start'} before the "
                f"first simulated year {int(self.years[0])} and "
                f"{'is' if len(moved) == 1 else 'are'} simulated from it, in the initial phase"
            )
        if not_simulated:
            notes.append(
                f"{len(not_simulated)} countr{'y is' if len(not_simulated) == 1 else 'ies are'} "
                "not simulated: they start after the last simulated year or end before the first"
            )
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "seed": self.seed,
            "replicates": self.replicates,
            "start": int(self.years[0]),
            "end": int(self.years[-1]),
            "step": self.setup.step,
            "mechanisms_off": self.scenario.mechanisms_off(),
            "median_entry_note": "median over the replicates that reach the phase (the lower"
            " middle year where the count is even, so always a simulated year)",
            "fingerprint": self.fingerprint(),
            "notes": notes,
            "countries": countries,
            "starts_moved": moved,
            "not_simulated": not_simulated,
        }
        if self.defenders is not None:  # issue 11
            from spirallab.model.defender_results import summary

            out["defenders"] = summary(self.setup, self.defenders)
        return out

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this run's numbers (recorded in every file :meth:`save` writes)."""
        from spirallab import __version__
        from spirallab.runfolder import fingerprint

        return fingerprint(
            self.scenario.model_dump_json(),
            self.seed,
            self.replicates,
            int(self.years[0]),
            int(self.years[-1]),
            __version__,
        )

    def reference_outcomes(self) -> pd.DataFrame:
        """Historical outcomes listed in the scenario (for comparison only), of shown countries."""
        shown = {cid for cid, s in zip(self.country_ids, self.shown_countries(), strict=True) if s}
        rows = [
            {
                "country": c.id,
                "label": o.label,
                "year": o.year,
                "year_end": o.year_end,
                "phase": o.phase,
            }
            for c in self.scenario.countries
            if c.id in shown
            for o in c.reference_outcomes
        ]
        df = pd.DataFrame(rows, columns=["country", "label", "year", "year_end", "phase"])
        df["year_end"] = df["year_end"].astype("Int64")
        return df

    # --- writing ---------------------------------------------------------------------------
    def save(
        self, out_dir: Path, report: bool = True, progress: Callable[[str], None] | None = None
    ) -> dict[str, Path]:
        """Write results.parquet, events.parquet, summary.json and report.html as one set.

        The files are written into a temporary folder beside ``out_dir`` that then replaces it
        whole (see :mod:`spirallab.runfolder`): after a crash, ``out_dir`` holds either the
        earlier run or this one, never a mix, and a run without a report leaves no older report
        behind. Every file records the run's fingerprint.
        """
        from spirallab.runfolder import write_run_folder

        frame = self.to_frame()
        events = self.shown_events()
        summary = self.summary()
        fp = summary["fingerprint"]

        def write_report_file(path: Path) -> None:
            if progress:
                progress("report")
            from spirallab.report import write_report

            write_report(frame, events, summary, self.reference_outcomes(), path)

        writers: dict[str, Callable[[Path], object]] = {
            "results.parquet": lambda p: write_parquet(frame, p, fp),
            "events.parquet": lambda p: write_parquet(events, p, fp),
            "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2), encoding="utf-8"),
        }
        if report:
            writers["report.html"] = write_report_file
        paths = write_run_folder(Path(out_dir), writers)
        names = {
            "results.parquet": "results",
            "events.parquet": "events",
            "summary.json": "summary",
            "report.html": "report",
        }
        return {names[k]: v for k, v in paths.items()}


def median_year(years: npt.NDArray[np.float64]) -> int | None:
    """The median of first-entry years as a year: the lower middle one where the count is even."""
    if years.size == 0:
        return None
    return int(np.quantile(years, 0.5, method="inverted_cdf"))


def write_parquet(frame: pd.DataFrame, path: Path, fp: dict[str, Any]) -> None:
    """Write ``frame`` with the run's fingerprint in the Parquet schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spirallab.runfolder import FINGERPRINT_KEY

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[FINGERPRINT_KEY.encode()] = json.dumps(fp, sort_keys=True).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


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
