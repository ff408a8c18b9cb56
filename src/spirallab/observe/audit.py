"""Checks of a coded record: how phase 3 is used, spells, year-on-year churn, the book cases.

Pure functions over the output of :func:`spirallab.observe.coder.code_phases` (any rules
version), used by the tests, by ``validation/phase_coder_audit.py`` and by the v1-vs-v2 report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from spirallab.errors import InputError

__all__ = [
    "BookCase",
    "Reference",
    "book_case_table",
    "check_references",
    "load_references",
    "longest_spells",
    "phase_entry_year",
    "set_churn_by_year",
    "severe_share_coded",
    "version_diff",
]

REFERENCE_FILE = Path(__file__).with_name("reference.toml")


def _sets(s: pd.Series) -> list[frozenset[int]]:
    return [frozenset(int(p) for p in str(v).split("|") if p) for v in s.fillna("")]


def severe_share_coded(coded: pd.DataFrame, phase_set: str = "3") -> float:
    """Share of country-years with severe practice whose phase set is exactly ``phase_set``."""
    sev = coded[coded["practice"] == "severe"]
    return float((sev["phase_set"] == phase_set).mean()) if len(sev) else float("nan")


def longest_spells(coded: pd.DataFrame, phase_set: str = "3", top: int = 10) -> pd.DataFrame:
    """The longest runs of consecutive years coded exactly ``phase_set``, per country."""
    rows = []
    for cid, c in coded.sort_values(["country_id", "year"]).groupby("country_id", sort=False):
        start = prev = None
        name = str(c["name"].iloc[0])
        for y, ps in zip(c["year"].astype(int), c["phase_set"], strict=True):
            if ps == phase_set and prev is not None and y == prev + 1 and start is not None:
                prev = y
                continue
            if start is not None and prev is not None:
                rows.append((cid, name, start, prev, prev - start + 1))
            start, prev = (y, y) if ps == phase_set else (None, None)
        if start is not None and prev is not None:
            rows.append((cid, name, start, prev, prev - start + 1))
    out = pd.DataFrame(rows, columns=["country_id", "name", "first", "last", "years"])
    return out.sort_values(["years", "country_id"], ascending=[False, True]).head(top).reset_index(
        drop=True
    )


def set_churn_by_year(coded: pd.DataFrame) -> pd.DataFrame:
    """Per year, the share of countries (coded both years) whose phase changed since last year.

    A change is counted when the two phase sets are *disjoint* ("3" -> "1|2"); a year that only
    gains or loses resolution ("5" -> "4|5") is not a change of phase. Also reports the share
    whose set changed at all. Years with fewer than 10 such countries are left out.
    """
    c = coded[coded["phase_set"].fillna("") != ""].sort_values(["country_id", "year"])
    prev = c.groupby("country_id")["phase_set"].shift(1)
    prev_year = c.groupby("country_id")["year"].shift(1)
    both = (prev_year == c["year"] - 1) & prev.notna()
    c = c[both]
    prev = prev[both]
    now_s = _sets(c["phase_set"])
    prev_s = _sets(prev)
    disjoint = [not (a & b) for a, b in zip(now_s, prev_s, strict=True)]
    frame = pd.DataFrame(
        {
            "year": c["year"].astype(int).to_numpy(),
            "changed": disjoint,
            "set_changed": (c["phase_set"].to_numpy() != prev.to_numpy()),
        }
    )
    g = frame.groupby("year")
    out = pd.DataFrame(
        {"countries": g.size(), "churn": g["changed"].mean(), "set_churn": g["set_changed"].mean()}
    ).reset_index()
    return out[out["countries"] >= 10].reset_index(drop=True)


def phase_entry_year(coded: pd.DataFrame, country_id: str, phase: int,
                     min_year: int | None = None, lasting: int = 3) -> int | None:
    """First year (>= ``min_year``) of entering ``phase`` or above, to stay there.

    Entering means the coded set lies wholly at ``phase`` or above for ``lasting`` consecutive
    coded years, or from that year to the end of the record (a one- or two-year blip that
    reverts is not an entry).
    """
    c = coded[coded["country_id"] == country_id].sort_values("year")
    if min_year is not None:
        c = c[c["year"] >= min_year]
    c = c[c["phase_set"].fillna("") != ""]
    at = (pd.to_numeric(c["phase_lo"], errors="coerce") >= phase).fillna(False).to_numpy()
    years = c["year"].astype(int).to_numpy()
    n = len(at)
    for i in range(n):
        if not at[i]:
            continue
        j = i
        while j + 1 < n and at[j + 1] and years[j + 1] == years[j] + 1:
            j += 1
        if j - i + 1 >= lasting or j == n - 1:
            return int(years[i])
    return None


@dataclass(frozen=True)
class BookCase:
    """A book case's dated outcome: the year the book dates entry into ``phase``."""

    country_id: str
    phase: int
    year: int
    year_end: int | None
    since: int
    reason: str
    source: str


@dataclass(frozen=True)
class Reference:
    """A country-period with the phase set a regional expert would expect, and why."""

    country_id: str
    first: int
    last: int
    expect: frozenset[int]
    reason: str
    source: str


def load_references(path: Path = REFERENCE_FILE) -> tuple[list[BookCase], list[Reference]]:
    """Read the reference file (``[[book]]`` and ``[[period]]`` tables); errors name the entry."""
    try:
        raw: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError("cannot read the reference file", where=str(path), found=str(exc),
                         expected="a TOML file with [[book]] and [[period]] tables") from exc
    books: list[BookCase] = []
    refs: list[Reference] = []
    for i, b in enumerate(raw.get("book", [])):
        try:
            books.append(BookCase(str(b["country_id"]), int(b["phase"]), int(b["year"]),
                                  int(b["year_end"]) if "year_end" in b else None,
                                  int(b["since"]), str(b["reason"]), str(b["source"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("bad book entry", where=f"{path} [[book]] #{i + 1}",
                             found=repr(exc), expected="country_id, phase, year, since, "
                             "reason, source") from exc
    for i, r in enumerate(raw.get("period", [])):
        try:
            expect = frozenset(int(p) for p in str(r["expect"]).split("|"))
            if not expect or not expect <= {0, 1, 2, 3, 4, 5}:
                raise ValueError(f"phases 0-5 expected, got {r['expect']!r}")
            refs.append(Reference(str(r["country_id"]), int(r["first"]), int(r["last"]),
                                  expect, str(r["reason"]), str(r["source"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("bad period entry", where=f"{path} [[period]] #{i + 1}",
                             found=repr(exc), expected="country_id, first, last, expect "
                             "('2' or '1|2'), reason, source") from exc
    return books, refs


def book_case_table(coded: pd.DataFrame, books: list[BookCase]) -> pd.DataFrame:
    """Each book outcome beside the coded year of entering its phase, and the error in years.

    The error is 0 inside a dated span (``year``-``year_end``), else the distance to it; coded
    entry is searched from ``since`` (the start of the book's spiral) on. ``coded_4`` and
    ``coded_5`` are the coded years of entering phases 4 and 5 (the book dates phase 5 for none
    of the cases). Countries missing from the coded record are listed with no coded year.
    """
    rows = []
    for b in books:
        coded_year = phase_entry_year(coded, b.country_id, b.phase, b.since)
        end = b.year_end if b.year_end is not None else b.year
        if coded_year is None:
            err: int | None = None
        elif coded_year < b.year:
            err = coded_year - b.year
        elif coded_year > end:
            err = coded_year - end
        else:
            err = 0
        rows.append({"country_id": b.country_id, "phase": b.phase,
                     "book": f"{b.year}" if b.year_end is None else f"{b.year}-{b.year_end}",
                     "coded": coded_year, "error": err,
                     "coded_4": phase_entry_year(coded, b.country_id, 4, b.since),
                     "coded_5": phase_entry_year(coded, b.country_id, 5, b.since),
                     "reason": b.reason})
    return pd.DataFrame(rows)


def check_references(coded: pd.DataFrame, refs: list[Reference]) -> pd.DataFrame:
    """Per reference period with data: the share of years whose coded set is *consistent* with
    the expected set (they share a phase) and the share coded *within* it (as precise or more);
    ``contradicting`` lists the coded sets that share no phase with the expectation."""
    rows = []
    for r in refs:
        c = coded[(coded["country_id"] == r.country_id) & coded["year"].between(r.first, r.last)]
        c = c[c["phase_set"].fillna("") != ""]
        sets = _sets(c["phase_set"])
        within = [s <= r.expect for s in sets]
        consistent = [bool(s & r.expect) for s in sets]
        bad = sorted({str(ps) for ps, good in zip(c["phase_set"], consistent, strict=True)
                      if not good})
        rows.append({"country_id": r.country_id, "period": f"{r.first}-{r.last}",
                     "expect": "|".join(str(p) for p in sorted(r.expect)), "years": len(c),
                     "consistent": (sum(consistent) / len(sets)) if sets else float("nan"),
                     "within": (sum(within) / len(sets)) if sets else float("nan"),
                     "contradicting": ",".join(bad)})
    return pd.DataFrame(rows)


def version_diff(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Per country: years whose phase set changed between two codings, and the rule moves.

    ``moves`` lists the most frequent (old rule -> new rule) pairs with their counts, which say
    why the coding changed.
    """
    key = ["country_id", "year"]
    m = old[[*key, "name", "phase_set", "rule"]].merge(
        new[[*key, "phase_set", "rule"]], on=key, suffixes=("_old", "_new"))
    rows = []
    for cid, c in m.groupby("country_id"):
        ch = c[c["phase_set_old"] != c["phase_set_new"]]
        moves = (ch["rule_old"] + " -> " + ch["rule_new"]).value_counts().head(3)
        sets = (ch["phase_set_old"].replace("", "-") + ">" + ch["phase_set_new"].replace("", "-"))
        top_sets = sets.value_counts().head(3)
        rows.append({
            "country_id": cid, "name": str(c["name"].iloc[0]), "years": len(c),
            "changed": len(ch),
            "sets": "; ".join(f"{k} x{v}" for k, v in top_sets.items()),
            "why": "; ".join(f"{k} x{v}" for k, v in moves.items()),
        })
    return pd.DataFrame(rows).sort_values(["changed", "country_id"], ascending=[False, True])
