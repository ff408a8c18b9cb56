"""What the workbench knows about the world: the coded record, case files and forecasts.

An :class:`Atlas` is built once when the server starts and only read afterwards, so every page
is a pure function of it. It holds two codings of the same panel:

- ``coded``: the phase coder with the built-in case files, which is what a reader wants to see
  (the timeline, its evidence and the case-file events);
- ``record``: the confront pillar's record (data only, no case files, cut at the last year with
  PTS scores), which is what the calibrated model was fitted to and what the what-if starts
  from, so that a what-if and a forecast begin from the same state.

Forecasts come from ``spirallab forecast`` (a folder with ``forecasts.parquet``) or are computed
here from a calibration folder (:func:`forecast_from_posterior`). Without either the pages say
plainly that there is no forecast and that the what-if uses the model's default parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spirallab.confront.record import PHASE_COLUMNS, PTS_SOURCES, Record, phase_probabilities
from spirallab.errors import InputError

PHASES = (1, 2, 3, 4, 5)
HORIZON = 5  # years ahead for P(improve) and P(worsen) on the home page (the 5 years)


@dataclass
class Forecast:
    """A tidy forecast table (``spirallab forecast``'s columns) and where it came from."""

    table: pd.DataFrame  # country_id, year, target, level, probability
    origin: int
    source: str

    def phase(self, country_id: str) -> pd.DataFrame:
        """Years x phases 1-5 of P(phase) for one country (empty if not forecast)."""
        t = self.table
        rows = t[(t["country_id"] == country_id) & (t["target"] == "phase")]
        if rows.empty:
            return pd.DataFrame(columns=list(PHASES))
        wide = rows.pivot_table(index="year", columns="level", values="probability", aggfunc="sum")
        return wide.reindex(columns=list(PHASES), fill_value=0.0).sort_index()

    def pts(self, country_id: str) -> pd.DataFrame:
        """Years x levels 1-5 of P(PTS level), averaged over the sources that score the country."""
        rows = self.table[
            (self.table["country_id"] == country_id) & (self.table["target"].isin(PTS_SOURCES))
        ]
        if rows.empty:
            return pd.DataFrame(columns=list(PHASES))
        wide = rows.pivot_table(index="year", columns="level", values="probability", aggfunc="mean")
        wide = wide.reindex(columns=list(PHASES), fill_value=0.0).sort_index()
        return wide.div(wide.sum(axis=1), axis=0)


@dataclass
class Atlas:
    """The coded world, read-only once built."""

    coded: pd.DataFrame
    record: Record
    casefiles: Mapping[str, Any]
    data_dir: str | None = None
    forecast: Forecast | None = None
    posterior: Any = None  # spirallab.confront.calibrate.Posterior, when one was given
    _tables: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def last_year(self) -> int:
        return int(self.record.until)

    def countries(self) -> pd.DataFrame:
        """country_id and name of every coded country, sorted by name."""
        rows = self.coded.dropna(subset=["phase_set"])
        rows = rows[rows["phase_set"].astype(str) != ""]
        names = rows.groupby("country_id")["name"].last()
        out = names.reset_index().rename(columns={"name": "name"})
        out["name"] = out["name"].fillna(out["country_id"]).astype(str)
        return out.sort_values(["name", "country_id"]).reset_index(drop=True)

    def has(self, country_id: str) -> bool:
        return bool((self.coded["country_id"] == country_id).any())

    def name(self, country_id: str) -> str:
        rows = self.coded.loc[self.coded["country_id"] == country_id, "name"].dropna()
        return str(rows.iloc[-1]) if len(rows) else country_id

    def find(self, text: str) -> str | None:
        """A country id from an id or a name, case-insensitive; None if there is none."""
        key = text.strip().lower()
        table = self.countries()
        for _, row in table.iterrows():
            if key in (str(row["country_id"]).lower(), str(row["name"]).lower()):
                return str(row["country_id"])
        return None

    def timeline(self, country_id: str) -> pd.DataFrame:
        """The coded years of one country, with PTS scores beside them, oldest first."""
        rows = self.coded[self.coded["country_id"] == country_id]
        panel = self.record.panel
        pts = panel.loc[panel["country_id"] == country_id, ["year", *PTS_SOURCES]]
        out = rows.merge(pts, on="year", how="left").sort_values("year")
        has = out["phase_set"].fillna("").astype(str) != ""
        return out[has | out[list(PTS_SOURCES)].notna().any(axis=1)].reset_index(drop=True)

    def events(self, country_id: str) -> list[dict[str, Any]]:
        """The case file's dated events (year, end_year, type, description, source)."""
        case = self.casefiles.get(country_id)
        if case is None:
            return []
        return [
            {
                "year": int(e.year),
                "end_year": None if e.end_year is None else int(e.end_year),
                "type": str(e.type),
                "description": str(e.description),
                "source": str(e.source),
            }
            for e in case.events
        ]

    def world_table(self) -> pd.DataFrame:
        """One row per coded country: phase now, years in it, trend, P(improve), P(worsen).

        Computed once per forecast (the atlas is otherwise read-only); callers get a copy."""
        key = id(self.forecast)
        if key not in self._tables:
            self._tables = {key: self._world_table()}
        return self._tables[key].copy()

    def _world_table(self) -> pd.DataFrame:
        coded = self.coded[self.coded["phase_set"].fillna("").astype(str) != ""]
        coded = coded.sort_values(["country_id", "year"])
        last = coded.groupby("country_id", sort=True).tail(1).set_index("country_id")
        now_set = last["phase_set"].astype(str)
        # Years in the phase now: the length of the last run of the same phase set.
        same = coded["phase_set"].astype(str).to_numpy() == now_set.reindex(
            coded["country_id"]).to_numpy()
        run_id = pd.Series(~same, index=coded.index).groupby(coded["country_id"]).cumsum()
        final_run = run_id.groupby(coded["country_id"]).transform("max")
        years_in = pd.Series(same & (run_id == final_run).to_numpy(),
                             index=coded.index).groupby(coded["country_id"]).sum()
        trends = _trends(self.record.panel, last["year"].astype(int))
        outlooks = self._outlooks()
        rows = []
        for cid, r in last.iterrows():
            cid = str(cid)
            rows.append(
                {
                    "country_id": cid,
                    "name": str(r["name"]) if pd.notna(r["name"]) else cid,
                    "year": int(r["year"]),
                    "phase": str(r["phase_set"]),
                    "label": str(r["phase_label"]),
                    "years_in": int(years_in.get(cid, 0)),
                    "trend": trends.get(cid, "no data"),
                    **outlooks.get(cid, {"p_improve": None, "p_worsen": None}),
                }
            )
        return pd.DataFrame(rows)

    def _outlooks(self) -> dict[str, dict[str, float | None]]:
        """P(improve) and P(worsen) per country: the forecast phase HORIZON years after the
        origin above or below the phase now (the two taken as independent draws)."""
        if self.forecast is None:
            return {}
        now = self._record_probs()
        rows = self.forecast.table[self.forecast.table["target"] == "phase"]
        if rows.empty:
            return {}
        target = min(self.forecast.origin + HORIZON, int(rows["year"].max()))
        at = rows[rows["year"] == target]
        wide = at.pivot_table(index="country_id", columns="level", values="probability",
                              aggfunc="sum").reindex(columns=list(PHASES), fill_value=0.0)
        out: dict[str, dict[str, float | None]] = {}
        for cid, later in wide.iterrows():
            p = now.get(str(cid))
            if p is not None:
                out[str(cid)] = outlook(p, later.to_numpy(dtype=np.float64))
        return out

    def _record_probs(self) -> dict[str, np.ndarray]:
        """The record's phase probabilities in each country's last coded year (data only)."""
        coded = self.record.coded.dropna(subset=list(PHASE_COLUMNS)).sort_values("year")
        last = coded.groupby("country_id").tail(1)
        return {
            str(c): v
            for c, v in zip(last["country_id"], last[list(PHASE_COLUMNS)].to_numpy(), strict=True)
        }

    def phase_shares(self) -> pd.DataFrame:
        """Years x phases: the share of coded countries in each phase (sets split evenly),
        from the first year with PTS scores (earlier years rest on fewer sources)."""
        coded = self.record.coded.dropna(subset=list(PHASE_COLUMNS))
        coded = coded[coded["year"] >= self.record.first_year]
        return coded.groupby("year")[list(PHASE_COLUMNS)].mean().set_axis(list(PHASES), axis=1)

    def forecast_shares(self) -> pd.DataFrame:
        """Years x phases: the mean forecast phase probabilities over the countries."""
        if self.forecast is None:
            return pd.DataFrame(columns=list(PHASES))
        rows = self.forecast.table[self.forecast.table["target"] == "phase"]
        wide = rows.pivot_table(index="year", columns="level", values="probability", aggfunc="mean")
        return wide.reindex(columns=list(PHASES), fill_value=0.0).sort_index()


def outlook(now: np.ndarray, later: np.ndarray) -> dict[str, float | None]:
    """P(later phase > now) and P(later < now) for independent phase distributions."""
    now = np.asarray(now, dtype=np.float64)
    later = np.asarray(later, dtype=np.float64)
    if now.sum() <= 0 or later.sum() <= 0:
        return {"p_improve": None, "p_worsen": None}
    now, later = now / now.sum(), later / later.sum()
    joint = np.outer(now, later)  # [a, b]: phase a now, b later
    return {
        "p_improve": float(np.triu(joint, 1).sum()),
        "p_worsen": float(np.tril(joint, -1).sum()),
    }


def _trends(panel: pd.DataFrame, last_year: pd.Series) -> dict[str, str]:
    """Per country, mean PTS over its last 3 coded years against the 3 before: better, worse
    or steady ("no data" without both)."""
    pts = panel[["country_id", "year"]].copy()
    pts["pts"] = panel[list(PTS_SOURCES)].astype("Float64").mean(axis=1).astype("float64")
    pts = pts.dropna(subset=["pts"])
    pts["last"] = pts["country_id"].map(last_year)
    age = pts["last"] - pts["year"]
    recent = pts[(age >= 0) & (age < 3)].groupby("country_id")["pts"].mean()
    before = pts[(age >= 3) & (age < 6)].groupby("country_id")["pts"].mean()
    change = (recent - before).dropna()
    # Half a PTS level: less than that is within the sources' disagreement (assumption).
    return {
        str(c): "better" if d <= -0.5 else "worse" if d >= 0.5 else "steady"
        for c, d in change.items()
    }


def atlas_from_panel(
    panel: pd.DataFrame,
    casefiles: Mapping[str, Any] | None = None,
    *,
    data_dir: str | None = None,
) -> Atlas:
    """An atlas from a harmonised panel (``casefiles=None``: the built-in case files)."""
    from spirallab.observe import code_phases
    from spirallab.observe.coder import resolve_casefiles

    has_pts = panel[list(PTS_SOURCES)].notna().any(axis=1)
    if not has_pts.any():
        raise InputError("no PTS scores in the data", file=data_dir, expected="a PTS file")
    until = int(panel.loc[has_pts, "year"].max())
    first = int(panel.loc[has_pts, "year"].min())
    cut = panel[panel["year"] <= until].reset_index(drop=True)
    cases = resolve_casefiles(casefiles)
    data_only = code_phases(cut, casefiles={})
    probs = phase_probabilities(data_only)
    record_coded = pd.concat(
        [
            data_only[["country_id", "year", "phase", "phase_set"]].reset_index(drop=True),
            probs.reset_index(drop=True),
        ],
        axis=1,
    )
    record = Record(
        panel=cut, coded=record_coded, until=until, first_year=first, data_dir=str(data_dir)
    )
    coded = code_phases(cut, casefiles=cases)
    return Atlas(coded=coded, record=record, casefiles=cases, data_dir=data_dir)


def load_atlas(data: Path) -> Atlas:
    """Load the panel from a data folder and build the atlas (built-in case files)."""
    from spirallab.data import DataSources, load_panel

    panel = load_panel(DataSources.from_dir(data))
    return atlas_from_panel(panel, None, data_dir=str(data))


def read_forecast_folder(folder: Path) -> tuple[Forecast, Any]:
    """A folder written by ``spirallab forecast``: its table, and the posterior it carries."""
    from spirallab.confront.calibrate import Posterior
    from spirallab.confront.forecast import check_forecasts

    table_path, meta_path = folder / "forecasts.parquet", folder / "forecast.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc}", file=meta_path) from None
    table = pd.read_parquet(table_path)
    check_forecasts(table, str(table_path))
    if "origin" not in meta:
        raise InputError("required key is missing", file=meta_path, where="origin")
    post = None
    parts = folder / "posterior.parquet"
    if parts.is_file() and isinstance(meta.get("calibration"), dict):
        post = Posterior(pd.read_parquet(parts), meta["calibration"])
    return Forecast(table=table, origin=int(meta["origin"]), source=str(folder)), post


def open_posterior(folder: Path) -> tuple[Forecast | None, Any]:
    """``--posterior DIR``: a forecast folder (used as it is) or a calibration folder.

    A calibration folder gives a posterior and no forecast yet; the caller forecasts from it
    (:func:`forecast_from_posterior`), off the request path.
    """
    from spirallab.confront.calibrate import Posterior

    if not folder.is_dir():
        raise InputError(
            "not a folder",
            file=folder,
            where="--posterior",
            expected="a folder written by `spirallab calibrate` or `spirallab forecast`",
        )
    if (folder / "forecasts.parquet").is_file() and (folder / "forecast.json").is_file():
        forecast, post = read_forecast_folder(folder)
        if post is not None:
            post.check_compatible(folder)
        return forecast, post
    post = Posterior.load(folder)
    post.check_compatible(folder)
    return None, post


def forecast_from_posterior(atlas: Atlas, post: Any, *, draws: int = 32, replicates: int = 8,
                            seed: int = 1) -> Forecast:
    """Forecast every country HORIZON years from the atlas's last year (confront's filter)."""
    from spirallab.confront.forecast import forecast

    origin = atlas.last_year
    train_last = int(post.meta.get("train", [0, origin])[1])
    if train_last > origin:
        raise InputError(
            "training window ends after the data's last year",
            where="--posterior",
            found=post.meta.get("train"),
            expected=f"a posterior trained on years up to {origin}",
        )
    result = forecast(
        post, atlas.record, origin, origin + HORIZON, draws=draws, replicates=replicates, seed=seed
    )
    return Forecast(table=result.forecasts, origin=origin, source="computed at start-up")
