"""``data check``: load every source, count what landed, what was empty and what did not match."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spirallab.data.harmonise import SourceResult, harmonise_all
from spirallab.data.loaders import load_ratification_file, treaty_key
from spirallab.data.panel import _unmatched, build_panel
from spirallab.data.sources import DataSources

YEAR_BANDS = ((None, 1945), (1946, 1975), (1976, 1989), (1990, 1999), (2000, 2009), (2010, None))


@dataclass
class DataCheck:
    """The outcome of checking a data folder."""

    sources: pd.DataFrame  # one row per source: coverage and row accounting
    bands: pd.DataFrame  # countries with data per source and year band
    unmatched: pd.DataFrame
    panel_rows: int
    panel_countries: int
    # Built-in case files whose country has no row on this panel: the coder cannot use them.
    casefiles_off_panel: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``--json``)."""
        return {
            "sources": self.sources.astype(object).where(self.sources.notna(), None)
            .to_dict(orient="records"),
            "year_bands": self.bands.to_dict(orient="records"),
            "unmatched": self.unmatched.to_dict(orient="records"),
            "panel": {"rows": self.panel_rows, "countries": self.panel_countries},
            "casefiles_off_panel": list(self.casefiles_off_panel),
        }


def _band(year: int) -> str:
    for lo, hi in YEAR_BANDS:
        if (lo is None or year >= lo) and (hi is None or year <= hi):
            return f"{lo or ''}-{hi or ''}" if lo and hi else (f"<={hi}" if hi else f">={lo}")
    return "?"


def band_labels() -> list[str]:
    """The year-band labels in time order."""
    return [_band(lo if lo is not None else (hi or 0)) for lo, hi in YEAR_BANDS]


def _source_row(res: SourceResult) -> dict[str, Any]:
    landed = res.landed
    unmatched = len(res.unmatched)
    empty = sum(res.empty.values())
    years = (f"{int(landed['year'].min())}-{int(landed['year'].max())}" if len(landed) else "")
    return {
        "source": res.source,
        "file": res.file,
        "rows": res.rows,
        "landed": res.landed_rows,
        "empty": empty,
        "unmatched": unmatched,
        "countries": int(landed["country_id"].nunique()) if len(landed) else 0,
        "years": years,
        "empty_reasons": "; ".join(f"{k}: {v}" for k, v in sorted(res.empty.items())),
        "missing_codes": "; ".join(f"{k}: {v}" for k, v in sorted(res.missing_codes.items())),
    }


def check_sources(src: DataSources) -> DataCheck:
    """Load and harmonise everything (raising InputError on bad input) and summarise it."""
    results = harmonise_all(src)
    rows = [_source_row(r) for r in results.values()]
    assert isinstance(src.ratification, tuple)
    for path in src.ratification:
        frame = load_ratification_file(path)
        rows.append({
            "source": f"ratification:{treaty_key(path)}", "file": str(path), "rows": len(frame),
            "landed": len(frame), "empty": 0, "unmatched": 0,
            "countries": int(frame["iso2"].nunique()),
            "years": f"{int(frame['year'].min())}-{int(frame['year'].max())}"
            if frame["year"].notna().any() else "",
            "empty_reasons": "", "missing_codes": "",
        })
    unmatched = _unmatched(src, results)
    rat_miss = unmatched[unmatched["source"] == "ratification"]
    for row in rows:
        if str(row["source"]).startswith("ratification"):
            n = int(rat_miss.loc[rat_miss["file"] == row["file"], "count"].sum())
            row["unmatched"], row["landed"] = n, row["rows"] - n
    bands: list[dict[str, Any]] = []
    for res in results.values():
        if res.landed.empty:
            continue
        band = res.landed["year"].map(_band)
        for label, group in res.landed.groupby(band, sort=False):
            bands.append({"source": res.source, "band": label,
                          "countries": int(group["country_id"].nunique()),
                          "country_years": len(group)})
    panel = build_panel(src, results)
    sources = pd.DataFrame(rows)
    band_frame = pd.DataFrame(bands, columns=["source", "band", "countries", "country_years"])
    order = {_band(lo or hi or 0): i for i, (lo, hi) in enumerate(YEAR_BANDS)}
    if not band_frame.empty:
        band_frame = band_frame.sort_values(
            ["source", "band"], key=lambda s: s.map(order) if s.name == "band" else s
        ).reset_index(drop=True)
    from spirallab.observe.casefiles import builtin_casefiles, casefiles_off_panel

    off = casefiles_off_panel(builtin_casefiles(), set(panel["country_id"]))
    return DataCheck(sources, band_frame, unmatched, len(panel),
                     int(panel["country_id"].nunique()), off)
