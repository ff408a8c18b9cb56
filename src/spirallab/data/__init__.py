"""The data layer: published human-rights data sets, loaded, validated and harmonised.

Public API (other pillars code against exactly this)::

    src = DataSources.from_dir(path)          # or DataSources(pts=..., ciri=None, ...)
    panel = load_panel(src, cache_dir=None)   # one row per country_id-year
    ratifications = load_ratifications(src)   # country_id, treaty, year, state_party, note
    unmatched = unmatched_report(src)         # source, file, code, name, years, count, reason

See docs/data.md for the sources, their quirks and every harmonisation rule.
"""

from __future__ import annotations

from spirallab.data.check import DataCheck, check_sources
from spirallab.data.panel import SCHEMA_VERSION, TREATIES, build_panel, load_panel, unmatched_report
from spirallab.data.ratification import load_ratifications
from spirallab.data.sources import DataSources

__all__ = [
    "SCHEMA_VERSION",
    "TREATIES",
    "DataCheck",
    "DataSources",
    "build_panel",
    "check_sources",
    "load_panel",
    "load_ratifications",
    "unmatched_report",
]
