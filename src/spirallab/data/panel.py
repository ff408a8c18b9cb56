"""The harmonised country-year panel, its Parquet cache and the unmatched report."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from spirallab.data.countries import manual_table_bytes, registry
from spirallab.data.harmonise import SourceResult, aggregate_unmatched, harmonise_all
from spirallab.data.ratification import load_ratifications, ratification_unmatched, ratified_flags
from spirallab.data.sources import DataSources

# Bump when the panel's columns or any harmonisation rule changes: it is part of the cache key.
SCHEMA_VERSION = "panel-2"

TREATIES = ("iccpr", "iccpr_op1", "iccpr_op2", "icescr", "icescr_op", "cat", "opcat", "cedaw",
            "op_cedaw", "crc", "op_crc_ac", "op_crc_sc", "op_crc_ic", "icerd", "icmw", "crpd",
            "op_crpd", "cped")

# Source columns -> panel columns (and their dtypes).
_RENAME: dict[str, dict[str, str]] = {
    "pts": {"pts_a": "pts_a", "pts_h": "pts_h", "pts_s": "pts_s"},
    "fariss": {"theta_mean": "fariss_theta", "theta_sd": "fariss_sd"},
    "ciri": {"tort": "ciri_tort", "kill": "ciri_kill", "disap": "ciri_disap",
             "polpris": "ciri_polpris"},
    "cirights": {"tort": "cirights_tort", "kill": "cirights_kill", "disap": "cirights_disap",
                 "polpris": "cirights_polpris", "physint_sum": "cirights_physint",
                 "assn": "cirights_assn", "ngo_investigate": "cirights_ngo_investigate"},
    "hathaway": {"torture": "hathaway_torture"},
    "polity": {"polity2": "polity2"},
    "ucdp": {"osv_gov_deaths": "osv_gov_deaths", "osv_nonstate_deaths": "osv_nonstate_deaths"},
    "mass_killing": {"mkl_ongoing": "mass_killing", "mkl_start": "mass_killing_onset"},
}
_INT_COLUMNS = ["pts_a", "pts_h", "pts_s", "pts_n_sources", "ciri_tort", "ciri_kill",
                "ciri_disap", "ciri_polpris", "ciri_physint", "cirights_tort", "cirights_kill",
                "cirights_disap", "cirights_polpris", "cirights_physint",
                "cirights_assn", "cirights_ngo_investigate", "hathaway_torture", "mass_killing",
                "mass_killing_onset"]
_FLOAT_COLUMNS = ["pts", "fariss_theta", "fariss_sd", "polity2", "osv_gov_deaths",
                  "osv_nonstate_deaths"]
# Sources whose COW number describes a country-year; the most common number wins, ties go to
# the earlier source here (Fariss last: it keeps Czechoslovakia under 316).
_COW_ORDER = ["pts", "ciri", "cirights", "mass_killing", "hathaway", "fariss"]


def _sources_cow(panel: pd.DataFrame) -> pd.Series:
    """The COW number most sources used for each country-year (ties: ``_COW_ORDER``)."""
    cols = [f"_cow_{n}" for n in _COW_ORDER if f"_cow_{n}" in panel.columns]
    out = pd.Series(pd.NA, index=panel.index, dtype="Int64")
    if not cols:
        return out
    long = panel[cols].reset_index(names="_row").melt(id_vars="_row", var_name="src",
                                                        value_name="cow").dropna()
    if long.empty:
        return out
    long["rank"] = long["src"].map({c: i for i, c in enumerate(cols)})
    long["n"] = long.groupby(["_row", "cow"])["cow"].transform("size")
    best = long.sort_values(["_row", "n", "rank"], ascending=[True, False, True])
    best = best.drop_duplicates("_row")
    out.loc[best["_row"].to_numpy()] = best["cow"].astype("int64").to_numpy()
    return out


def build_panel(src: DataSources, results: dict[str, SourceResult] | None = None) -> pd.DataFrame:
    """Assemble the panel from harmonised sources (no cache)."""
    results = results if results is not None else harmonise_all(src)
    reg = registry()
    frames: list[pd.DataFrame] = []
    for name, res in results.items():
        cols = _RENAME[name]
        part = res.landed[["country_id", "year", *cols]].rename(columns=cols)
        if "cow" in res.landed.columns:
            part[f"_cow_{name}"] = res.landed["cow"]
        frames.append(part.set_index(["country_id", "year"]))
    if frames:
        panel = pd.concat(frames, axis=1, join="outer").reset_index()
    else:
        panel = pd.DataFrame({"country_id": pd.Series([], dtype=str),
                              "year": pd.Series([], dtype="int64")})
    for cols in _RENAME.values():
        for col in cols.values():
            if col not in panel.columns:
                panel[col] = pd.NA
    panel["year"] = panel["year"].astype("int64")

    cow = _sources_cow(panel)
    fallback = panel["country_id"].map(lambda c: reg.cow_of(c))
    panel["cow"] = cow.fillna(fallback.astype("Int64"))
    panel = panel.drop(columns=[c for c in panel.columns if c.startswith("_cow_")])
    panel["name"] = panel["country_id"].map(reg.name_of).astype(str)
    panel["iso3"] = pd.array(panel["country_id"].map(reg.iso3_of), dtype="str")

    for col in _INT_COLUMNS:
        if col in panel.columns:
            panel[col] = pd.array(panel[col], dtype="Int64")
    for col in _FLOAT_COLUMNS:
        if col in panel.columns:
            panel[col] = pd.to_numeric(panel[col]).astype("float64")

    # PTS: the mean of the available report scores (Amnesty, HRW, State Dept).
    scores = panel[["pts_a", "pts_h", "pts_s"]].astype("float64")
    panel["pts"] = scores.mean(axis=1, skipna=True)
    panel["pts_n_sources"] = pd.array(scores.notna().sum(axis=1), dtype="Int64")
    panel.loc[panel["pts_n_sources"] == 0, "pts_n_sources"] = pd.NA
    parts = panel[["ciri_tort", "ciri_kill", "ciri_disap", "ciri_polpris"]]
    panel["ciri_physint"] = pd.array(parts.sum(axis=1, skipna=False), dtype="Int64")

    # UCDP: 0.0 inside its coverage years where no event is recorded for the country.
    if "ucdp" in results and results["ucdp"].landed.attrs.get("years"):
        first, last = results["ucdp"].landed.attrs["years"]
        inside = panel["year"].between(first, last)
        for col in ("osv_gov_deaths", "osv_nonstate_deaths"):
            panel.loc[inside & panel[col].isna(), col] = 0.0

    ratifications = load_ratifications(src)
    panel = ratified_flags(panel, ratifications)

    front = ["country_id", "name", "cow", "iso3", "year", "pts_a", "pts_h", "pts_s", "pts",
             "pts_n_sources", "fariss_theta", "fariss_sd", "ciri_tort", "ciri_kill", "ciri_disap",
             "ciri_polpris", "ciri_physint", "cirights_tort", "cirights_kill", "cirights_disap",
             "cirights_polpris", "cirights_physint", "cirights_assn", "cirights_ngo_investigate",
             "hathaway_torture", "polity2", "osv_gov_deaths", "osv_nonstate_deaths",
             "mass_killing", "mass_killing_onset"]
    rest = sorted(c for c in panel.columns if c not in front)
    panel = panel[front + rest]
    panel["country_id"] = panel["country_id"].astype(str)
    return panel.sort_values(["country_id", "year"]).reset_index(drop=True)


def unmatched_report(src: DataSources) -> pd.DataFrame:
    """Rows not placed on the panel: source, file, code, name, years, count, reason."""
    results = harmonise_all(src)
    return _unmatched(src, results)


def _unmatched(src: DataSources, results: dict[str, SourceResult]) -> pd.DataFrame:
    rows = [r.unmatched for r in results.values() if not r.unmatched.empty]
    main = aggregate_unmatched(pd.concat(rows, ignore_index=True)) if rows else \
        aggregate_unmatched(pd.DataFrame())
    rats = ratification_unmatched(src) if src.ratification else aggregate_unmatched(
        pd.DataFrame())
    both = [f for f in (main, rats) if not f.empty]
    return pd.concat(both, ignore_index=True) if both else main


# -- cache ------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$SPIRALLAB_CACHE``, else ``$XDG_CACHE_HOME/spirallab``, else ``~/.cache/spirallab``."""
    env = os.environ.get("SPIRALLAB_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "spirallab" if xdg else Path.home() / ".cache" / "spirallab"


def cache_key(src: DataSources) -> str:
    """Hash of every input file's bytes, the manual crosswalk and the schema version."""
    digest = hashlib.sha256()
    digest.update(SCHEMA_VERSION.encode())
    digest.update(hashlib.sha256(manual_table_bytes()).digest())
    for name, path in src.items():
        digest.update(name.encode() + b"\0" + path.name.encode() + b"\0")
        digest.update(_file_sha256(Path(path)))
    return digest.hexdigest()[:32]


def _file_sha256(path: Path) -> bytes:
    """A file's SHA-256, read a block at a time (a large file is never held whole)."""
    file_digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            file_digest.update(block)
    return file_digest.digest()


def load_panel(src: DataSources, cache_dir: Path | None = None) -> pd.DataFrame:
    """The harmonised panel, from the Parquet cache when the inputs have not changed.

    The cache file is ``panel-<key>.parquet`` where the key hashes the input files' bytes; it is
    written to a temporary file first and moved into place, so a crash never leaves half a file.
    """
    from spirallab.errors import InputError

    for _, path in src.items():
        if not Path(path).is_file():
            raise InputError("file not found", file=path)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / f"panel-{cache_key(src)}.parquet"
    if target.is_file():
        try:
            return pd.read_parquet(target)
        except Exception:  # a damaged cache is rebuilt, never trusted
            target.unlink(missing_ok=True)
    panel = build_panel(src)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".panel-", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            panel.to_parquet(tmp, index=False)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # an unwritable cache only costs time
    return panel


def panel_years(panel: pd.DataFrame) -> tuple[int, int] | None:
    """First and last year of a panel (None when empty)."""
    if panel.empty:
        return None
    return int(np.min(panel["year"])), int(np.max(panel["year"]))
