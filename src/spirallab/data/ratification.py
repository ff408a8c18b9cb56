"""Treaty ratification: the UN status files, plus explicit rules for states they lack.

The UN files list current members only. Three decisions fill the gap (docs/data.md):

* Czechoslovakia (CSK): a small table of its own ratification years, taken from the historical
  notes of the UN Treaty Collection. The Czech Republic and Slovakia rows in the files carry the
  1993 succession year, which is right for them and is kept.
* USSR (SUN): the Russian Federation continues the USSR's treaty memberships, and its rows carry
  the USSR's year; SUN inherits Russia's rows.
* Serbia and Montenegro (SCG): Serbia continues the state union's memberships; SCG inherits
  Serbia's rows.

Yugoslavia (SFRY), East Germany and South Yemen get no rows: their panel flags are False with
``ratification_covered`` False, so that nobody reads them as "did not ratify".
"""

from __future__ import annotations

import pandas as pd

from spirallab.data.countries import registry
from spirallab.data.harmonise import aggregate_unmatched
from spirallab.data.loaders import load_ratification_file
from spirallab.data.sources import DataSources

RATIFICATION_COLUMNS = ["country_id", "treaty", "year", "state_party", "note"]

# Czechoslovakia's ratification or accession years (UN Treaty Collection, historical notes on
# the successor states). Treaties it did not join before 1993 are absent, i.e. not ratified.
CZECHOSLOVAKIA: dict[str, int] = {
    "icerd": 1966,  # ratified 29 December 1966
    "iccpr": 1975,  # ratified 23 December 1975
    "icescr": 1975,  # ratified 23 December 1975
    "cedaw": 1982,  # ratified 16 February 1982
    "cat": 1988,  # ratified 7 July 1988
    "crc": 1991,  # ratified 7 January 1991
    "iccpr_op1": 1991,  # acceded 12 March 1991
}

# Successor -> continuing state whose rows it inherits (the continuator's row carries its year).
INHERIT = {"SUN": "RUS", "SCG": "SRB"}


def _raw_ratifications(src: DataSources) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All status files with country ids, and the per-row unmatched records."""
    reg = registry()
    assert isinstance(src.ratification, tuple)
    frames: list[pd.DataFrame] = []
    misses: list[pd.DataFrame] = []
    for path in src.ratification:
        frame = load_ratification_file(path)
        # ISO2 first; the member name when the code is unknown (South Sudan's row says "S").
        res = []
        for code, member in zip(frame["iso2"], frame["member"], strict=True):
            hit = reg.from_iso2(code)
            if hit.country_id is None:
                by_name = reg.from_name(member)
                hit = by_name if by_name.country_id else hit
            res.append(hit)
        frame["country_id"] = [r.country_id for r in res]
        bad = frame["country_id"].isna()
        if bad.any():
            misses.append(pd.DataFrame({
                "source": "ratification", "file": str(path),
                "code": frame.loc[bad, "iso2"], "name": frame.loc[bad, "member"],
                "year": frame.loc[bad, "year"],
                "reason": [r.reason for r, b in zip(res, bad, strict=True) if b],
            }))
        frames.append(frame[~bad])
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=[*RATIFICATION_COLUMNS, "line"])
    miss = pd.concat(misses, ignore_index=True) if misses else pd.DataFrame(
        columns=["source", "file", "code", "name", "year", "reason"])
    return data, miss


def load_ratifications(src: DataSources) -> pd.DataFrame:
    """Ratification status per country and treaty.

    Columns: ``country_id``, ``treaty``, ``year`` (Int64: ratification, accession or succession
    year; NA when not a party), ``state_party`` (bool), ``note`` (str; the file's note or how
    the row was derived).
    """
    data, _ = _raw_ratifications(src)
    data = data[RATIFICATION_COLUMNS].copy()
    treaties = sorted(data["treaty"].unique()) if len(data) else []
    extra: list[pd.DataFrame] = []
    for successor, continuing in INHERIT.items():
        rows = data[data["country_id"] == continuing].copy()
        rows["country_id"] = successor
        rows["note"] = f"inherited from {continuing} (continuing state)"
        extra.append(rows)
    if treaties:
        extra.append(pd.DataFrame({
            "country_id": "CSK",
            "treaty": treaties,
            "year": [CZECHOSLOVAKIA.get(t) for t in treaties],
            "state_party": [t in CZECHOSLOVAKIA for t in treaties],
            "note": "Czechoslovakia: manual table from the UN Treaty Collection's historical notes",
        }))
    out = pd.concat([data, *extra], ignore_index=True)
    out["year"] = pd.array(out["year"], dtype="Int64")
    out["state_party"] = out["state_party"].astype(bool)
    out["note"] = out["note"].fillna("").astype(str)
    out["country_id"] = out["country_id"].astype(str)
    out["treaty"] = out["treaty"].astype(str)
    return out.sort_values(["country_id", "treaty"]).reset_index(drop=True)


def ratification_unmatched(src: DataSources) -> pd.DataFrame:
    """Unmatched rows of the status files, aggregated like the other sources."""
    _, miss = _raw_ratifications(src)
    return aggregate_unmatched(miss)


def ratified_flags(panel: pd.DataFrame, ratifications: pd.DataFrame) -> pd.DataFrame:
    """``ratified_<treaty>`` (year >= ratification year) and ``ratification_covered`` columns."""
    out = panel.copy()
    covered = set(ratifications["country_id"])
    out["ratification_covered"] = out["country_id"].isin(covered)
    for treaty in sorted(ratifications["treaty"].unique()):
        rows = ratifications[(ratifications["treaty"] == treaty) & ratifications["state_party"]]
        first = rows.groupby("country_id")["year"].min()
        since = out["country_id"].map(first)
        flag = (out["year"] >= since).fillna(False).astype(bool)
        out[f"ratified_{treaty}"] = flag
    return out
