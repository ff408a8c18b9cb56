"""Harmonisation: every source's rows placed on one country-year panel keyed by ``country_id``.

Each source goes through the same three steps, and every input row ends in exactly one of three
places, so nothing is dropped silently:

1. *empty*: the row has no value in any measured column (a CIRI blank row, a PTS row whose three
   scores are all NA-coded). It cannot add a country-year, so it is only counted, by reason, in
   the check summary.
2. *unmatched*: its country code could not be resolved, or a second row of the same source fell
   on the same country-year (e.g. COW 255 and 260 both for Germany in 1990); the row goes to the
   unmatched report with the reason.
3. *landed*: it gives the panel its values for one country-year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.data import loaders
from spirallab.data.countries import CountryRegistry, Resolution, registry
from spirallab.data.sources import DataSources

UNMATCHED_COLUMNS = ["source", "file", "code", "name", "years", "count", "reason"]


@dataclass
class SourceResult:
    """One source after harmonisation: landed rows and the accounting of all others."""

    source: str
    file: str
    rows: int
    landed: pd.DataFrame
    unmatched: pd.DataFrame  # one row per source row: source, file, code, name, year, reason
    empty: dict[str, int] = field(default_factory=dict)
    missing_codes: dict[str, int] = field(default_factory=dict)
    blank_lines: int = 0

    @property
    def landed_rows(self) -> int:
        """Source rows that landed (UCDP rows are summed, so its rows are counted separately)."""
        return int(self.landed.attrs.get("source_rows", len(self.landed)))


Resolver = Callable[[CountryRegistry, tuple[object, ...], int], Resolution]


def _assign(
    source: str,
    path: Path,
    frame: pd.DataFrame,
    values: list[str],
    key_cols: list[str],
    resolve: Resolver,
    empty_reason: Callable[[pd.DataFrame], pd.Series] | None = None,
) -> SourceResult:
    """Resolve country ids, split off empty, unmatched and duplicate rows (see module doc).

    Vectorised over rows: each distinct key (codes and year) is resolved once, and the second
    rows of a country-year are found by sorting integer arrays, so memory stays a few bytes per
    row beyond the loaded frame.
    """
    reg = registry()
    has_value = frame[values].notna().any(axis=1).to_numpy(bool)
    empty_rows = frame[~has_value]
    if empty_reason is not None and len(empty_rows):
        reasons = empty_reason(empty_rows)
    else:
        reasons = pd.Series("no value in any measured column", index=empty_rows.index)
    empty = {str(k): int(v) for k, v in reasons.value_counts().items()}
    blank_lines = int(frame.attrs.get("blank_lines", 0))
    if blank_lines:
        empty["wholly empty line"] = blank_lines
    # The rows with values, as positions into the frame (no copy of it).
    sel = np.flatnonzero(has_value)
    rows = frame
    n = len(sel)

    # One resolution per distinct key; per key only small integers are kept (a real file has
    # about one key per row): the country, whether the code is primary, the reason, the code.
    keys = frame[[*key_cols, "year"]]
    if n:
        group, firsts = group_ids([keys[c].iloc[sel] for c in keys.columns])
        firsts = sel[firsts]
    else:
        group, firsts = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.intp)
    id_of: dict[str | None, int] = {None: -1}
    labels: dict[str, int] = {}
    key_id = np.empty(len(firsts), dtype=np.int32)
    key_primary = np.empty(len(firsts), dtype=bool)
    key_reason = np.empty(len(firsts), dtype=np.int32)
    key_code = np.empty(len(firsts), dtype=np.int32)
    for lo in range(0, len(firsts), 50_000):  # keys as Python objects, a slice at a time
        part = keys.iloc[firsts[lo : lo + 50_000]]
        columns = [part[c].astype(object).tolist() for c in keys.columns]
        for k, key in enumerate(zip(*columns, strict=True), start=lo):
            res = resolve(reg, tuple(key[:-1]), int(key[-1]))
            key_id[k] = id_of.setdefault(res.country_id, len(id_of) - 1)
            key_primary[k] = res.primary
            key_reason[k] = labels.setdefault(res.reason, len(labels))
            key_code[k] = labels.setdefault(_code_label(key[:-1]), len(labels))
        del part, columns
    del keys, firsts
    # Country codes in alphabetical order, so that landed rows come sorted by country_id.
    named = sorted(str(c) for c in id_of if c is not None)
    position = {c: i for i, c in enumerate(named)}
    # Indexed by key_id; key_id -1 (unresolved) reads the last element, -1.
    rank = np.array([*(position[str(c)] for c in list(id_of)[1:]), -1], dtype=np.int32)
    code = rank[key_id[group]] if n else np.zeros(0, dtype=np.int32)
    primary = key_primary[group] if n else np.zeros(0, bool)
    del key_id, key_primary

    # Second rows of a country-year: sort by country, year, more values first, primary code
    # first, then file order; every row after the first of its country-year is dropped.
    ok = np.flatnonzero(code >= 0).astype(np.int32)
    n_values = frame[values].notna().sum(axis=1).to_numpy(np.int8)[sel]
    year = frame["year"].to_numpy(np.int16)[sel]
    line = frame["line"].to_numpy(np.int32)[sel]
    order = ok[np.lexsort((line[ok], ~primary[ok], -n_values[ok], year[ok], code[ok]))]
    del ok, n_values, primary, line
    same = np.zeros(len(order), dtype=bool)
    if len(order):
        in_order = code[order]
        same[1:] = in_order[1:] == in_order[:-1]
        in_order = year[order]
        same[1:] &= in_order[1:] == in_order[:-1]
        del in_order
    kept = order[~same]
    dropped = order[same]
    run_start = np.maximum.accumulate(np.where(~same, np.arange(len(order), dtype=np.int32), 0))
    kept_of_dropped = order[run_start[same]] if len(order) else order
    del run_start, order, same

    # The unmatched report, one row per row, as categories (no string per row).
    miss = np.flatnonzero(code < 0)
    text = list(labels)
    # One reason per distinct (country, code kept), numbered after the labels.
    pair = code[dropped].astype(np.int64) * (len(text) + 1) + key_code[group[kept_of_dropped]]
    pair_id, pair_first = _renumber(pair)
    for cid, kc in zip(code[dropped[pair_first]].tolist(),
                       key_code[group[kept_of_dropped[pair_first]]].tolist(), strict=True):
        text.append(f"second row for {named[cid]} in this source; kept the row with code "
                    f"{text[kc]}")
    dup_reason = pair_id + np.int32(len(labels))
    del pair, pair_id, pair_first
    unmatched = np.concatenate([miss, dropped])
    categories = pd.Index(text, dtype=object)
    if "country" in rows.columns and isinstance(rows["country"].dtype, pd.CategoricalDtype):
        names = pd.Categorical.from_codes(
            rows["country"].cat.codes.to_numpy()[sel[unmatched]], rows["country"].cat.categories
        )
    elif "country" in rows.columns:
        names = pd.Categorical(rows["country"].iloc[sel[unmatched]].astype(str))
    else:
        names = pd.Categorical([""] * len(unmatched))
    constant = np.zeros(len(unmatched), dtype=np.int8)
    report = pd.DataFrame({
        "source": pd.Categorical.from_codes(constant, [source]),
        "file": pd.Categorical.from_codes(constant, [str(path)]),
        "code": pd.Categorical.from_codes(key_code[group[unmatched]], categories),
        "name": names,
        "year": year[unmatched].astype(np.int64),
        "reason": pd.Categorical.from_codes(
            np.concatenate([key_reason[group[miss]], dup_reason]), categories),
    })
    landed = frame.iloc[sel[kept]].reset_index(drop=True)
    landed.insert(len(landed.columns), "country_id",
                  pd.array(np.asarray(named, dtype=object)[code[kept]], dtype="str"))
    return SourceResult(source, str(path), len(frame) + blank_lines, landed, report, empty)


def _code_label(key: tuple[object, ...]) -> str:
    """A row's code as reported: the first of its key columns that is not blank."""
    for value in key:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        label = str(value)
        if label not in ("", "<NA>", "nan"):
            return label
    return ""


def _count_codes(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for col in columns:
        for code, n in frame[col].dropna().value_counts().items():
            label = f"{col.removesuffix('_code')}={code}"
            counts[label] = counts.get(label, 0) + int(n)
    return counts


def _by_cow_then(*fallbacks: str) -> Resolver:
    """Resolve by COW number, then by the listed columns (``iso3``/``wb`` codes, ``name``)."""

    def resolve(reg: CountryRegistry, key: tuple[object, ...], year: int) -> Resolution:
        cow, *rest = key
        first: Resolution | None = None
        if isinstance(cow, int | np.integer):
            first = reg.from_cow(int(cow), year)
            if first.country_id:
                return first
        for kind, value in zip(fallbacks, rest, strict=True):
            if not isinstance(value, str) or not value.strip():
                continue
            hit = reg.from_iso3(value) if kind == "iso3" else reg.from_name(value)
            if hit.country_id or kind == "name":
                return hit if hit.country_id or first is None else first
        return first or Resolution(None, reason="no country code or name")

    return resolve


# -- per source -------------------------------------------------------------------------------
def harmonise_pts(path: Path) -> SourceResult:
    """PTS: COW number, then World Bank code, then name; all-NA rows are empty."""
    frame = loaders.load_pts(path)
    codes = ["pts_a_code", "pts_h_code", "pts_s_code"]

    def why(rows: pd.DataFrame) -> pd.Series:
        all66 = (rows[codes] == 66).all(axis=1)
        return pd.Series(np.where(all66, "not a country/territory that year (NA_Status 66)",
                                  "no score from any report (NA_Status 77/88/99)"),
                         index=rows.index)

    result = _assign("pts", path, frame, ["pts_a", "pts_h", "pts_s"],
                     ["cow", "wb_code", "country"], _by_cow_then("iso3", "name"), why)
    result.missing_codes = _count_codes(frame, codes)
    return result


def harmonise_fariss(path: Path) -> SourceResult:
    """Fariss LHRS: COW numbers only."""
    frame = loaders.load_fariss(path)
    frame["country"] = ""
    return _assign("fariss", path, frame, ["theta_mean", "theta_sd"], ["cow"], _by_cow_then())


def harmonise_cirights(path: Path) -> SourceResult:
    """CIRIGHTS: COW number, then ISO3, then name."""
    frame = loaders.load_cirights(path)
    values = ["physint_sum", "polpris", "disap", "tort", "kill", "assn", "ngo_investigate"]
    return _assign("cirights", path, frame, values, ["cow", "iso3", "country"],
                   _by_cow_then("iso3", "name"))


def harmonise_ciri(path: Path) -> SourceResult:
    """Classic CIRI: COW number, then name (Kosovo, Serbia ... have no COW)."""
    frame = loaders.load_ciri(path)
    codes = ["disap_code", "kill_code", "polpris_code", "tort_code"]

    def why(rows: pd.DataFrame) -> pd.Series:
        blank = rows[codes].isna().all(axis=1)
        return pd.Series(np.where(blank, "blank row (no scores)",
                                  "only missing-value codes (-66/-77/-999)"), index=rows.index)

    result = _assign("ciri", path, frame, ["disap", "kill", "polpris", "tort"],
                     ["cow", "country"], _by_cow_then("name"), why)
    result.missing_codes = _count_codes(frame, codes)
    return result


def harmonise_hathaway(path: Path) -> SourceResult:
    """Hathaway torture: COW number, then name."""
    frame = loaders.load_hathaway(path)
    return _assign("hathaway", path, frame, ["torture"], ["cow", "country"],
                   _by_cow_then("name"))


def harmonise_polity(path: Path) -> SourceResult:
    """Polity5: Polity letters (manual table), then the country name."""
    frame = loaders.load_polity(path)

    def resolve(reg: CountryRegistry, key: tuple[object, ...], year: int) -> Resolution:
        scode, name = key
        return reg.from_polity(str(scode), str(name), year)

    result = _assign("polity", path, frame, ["polity2"], ["scode", "country"], resolve)
    result.missing_codes = _count_codes(frame, ["polity2_code"])
    return result


def harmonise_mass_killing(path: Path) -> SourceResult:
    """State-led mass killing: COW ``ccode``, then name."""
    frame = loaders.load_mass_killing(path)
    return _assign("mass_killing", path, frame, ["mkl_ongoing", "mkl_start"], ["cow", "country"],
                   _by_cow_then("name"))


def harmonise_ucdp(path: Path) -> SourceResult:
    """UCDP one-sided violence, summed per country-year for government and non-state actors.

    Attribution: a government's killings go to its own state (``gwnoa``), wherever they took
    place; a non-state actor's killings are split equally among the states listed in
    ``gwno_location``, so that the world total equals the source's. A row with any
    unresolvable code goes, whole, to the unmatched report.
    """
    frame = loaders.load_ucdp(path)
    reg = registry()
    parts: list[tuple[int, str, int, bool, float]] = []
    bad: list[tuple[str, str, int, str]] = []
    for row in frame.itertuples(index=False):
        codes: list[int] = row.gwno_location
        if row.is_government and row.gwnoa:
            codes = [int(x) for x in str(row.gwnoa).split(",")]
        share = float(row.best) / len(codes)
        resolved = [reg.from_gw(c, int(row.year)) for c in codes]
        failed = [(c, r) for c, r in zip(codes, resolved, strict=True) if r.country_id is None]
        if failed:
            code, res = failed[0]
            bad.append((str(code), str(row.actor_name), int(row.year), res.reason))
            continue
        for r in resolved:
            assert r.country_id is not None
            parts.append((int(row.line), r.country_id, int(row.year), bool(row.is_government),
                          share))
    table = pd.DataFrame(parts, columns=["line", "country_id", "year", "gov", "deaths"])
    landed_rows = table["line"].nunique()
    sums = table.pivot_table(index=["country_id", "year"], columns="gov", values="deaths",
                             aggfunc="sum", fill_value=0.0)
    landed = pd.DataFrame({
        "osv_gov_deaths": sums.get(True, pd.Series(0.0, index=sums.index)),
        "osv_nonstate_deaths": sums.get(False, pd.Series(0.0, index=sums.index)),
    }).reset_index()
    landed.attrs["source_rows"] = int(landed_rows)
    landed.attrs["years"] = (int(frame["year"].min()), int(frame["year"].max())) if len(
        frame) else None
    report = pd.DataFrame(bad, columns=["code", "name", "year", "reason"])
    report.insert(0, "source", "ucdp")
    report.insert(1, "file", str(path))
    blank_lines = int(frame.attrs.get("blank_lines", 0))
    return SourceResult(
        "ucdp", str(path), len(frame) + blank_lines, landed,
        report[["source", "file", "code", "name", "year", "reason"]],
        {"wholly empty line": blank_lines} if blank_lines else {},
    )


HARMONISERS: dict[str, Callable[[Path], SourceResult]] = {
    "pts": harmonise_pts,
    "fariss": harmonise_fariss,
    "cirights": harmonise_cirights,
    "ciri": harmonise_ciri,
    "hathaway": harmonise_hathaway,
    "polity": harmonise_polity,
    "ucdp": harmonise_ucdp,
    "mass_killing": harmonise_mass_killing,
}


def harmonise_all(src: DataSources) -> dict[str, SourceResult]:
    """Run every present source (ratification is handled by :mod:`.ratification`)."""
    out: dict[str, SourceResult] = {}
    for name, fn in HARMONISERS.items():
        path = getattr(src, name)
        if path is not None:
            out[name] = fn(path)
    return out


def group_ids(columns: list[pd.Series]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.intp]]:
    """The group number of every row over several key columns, and each group's first row.

    Missing values form a group of their own. Built from each column's integer codes combined
    into one 64-bit key, then sorted once: a few integer arrays, not a hash table of tuples.
    """
    n = len(columns[0]) if columns else 0
    acc = np.zeros(n, dtype=np.int64)
    width = 1
    for col in columns:
        codes, k = _codes_of(col)
        if width * k >= 2**62:  # renumber before the combined key could overflow
            renumbered, _ = _renumber(acc)
            acc = renumbered.astype(np.int64)
            width = int(acc.max()) + 1 if n else 1
        acc *= k
        acc += codes
        width *= k
        del codes
    return _renumber(acc)


def _renumber(key: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.intp]]:
    """Group ids 0..G-1 of equal keys and each group's first row, by one stable sort (about
    20 bytes a row; ``np.unique`` with inverse and index needs three times that)."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.empty(len(key), dtype=bool)
    if len(key):
        starts[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    del ordered
    ids_sorted = np.cumsum(starts, dtype=np.int32) - 1
    ids = np.empty(len(key), dtype=np.int32)
    ids[order] = ids_sorted
    firsts = order[starts]
    return ids, firsts


def _codes_of(col: pd.Series) -> tuple[npt.NDArray[np.int64], int]:
    """Small non-negative integer codes of a column (missing values 0) and how many there are.

    Categories and integers are coded arithmetically (no hash table); other columns factorised.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(np.int64) + 1, len(col.cat.categories) + 1
    if pd.api.types.is_integer_dtype(col.dtype) and len(col):
        low, high = col.min(), col.max()
        if pd.isna(low):
            return np.zeros(len(col), dtype=np.int64), 1
        codes = col.to_numpy(dtype=np.int64, na_value=int(low) - 1)
        codes -= int(low) - 1  # missing -> 0, the smallest value -> 1
        return codes, int(high) - int(low) + 2
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    return codes.astype(np.int64), max(1, len(uniques))


def aggregate_unmatched(rows: pd.DataFrame) -> pd.DataFrame:
    """Collapse per-row unmatched records into source/file/code/name/years/count/reason."""
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "count" else str)
                             for c in UNMATCHED_COLUMNS})
    keys = ["source", "file", "code", "name", "reason"]
    ids, firsts = group_ids([rows[c] for c in keys])
    years = pd.Series(rows["year"].to_numpy(np.int64)).groupby(ids).agg(["min", "max", "size"])
    out = pd.DataFrame({c: rows[c].iloc[firsts].astype(str).to_numpy() for c in keys})
    out["years"] = [f"{a}" if a == b else f"{a}-{b}" for a, b in zip(years["min"], years["max"],
                                                                     strict=True)]
    out["count"] = years["size"].to_numpy(np.int64)
    out = out.sort_values(keys, kind="stable")
    return out[UNMATCHED_COLUMNS].reset_index(drop=True)
