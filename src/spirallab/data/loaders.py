"""One loader per published format: a path in, a tidy DataFrame with the source's own keys out.

Each loader validates columns, values and missing-value codes (see :mod:`.readers`) and keeps
every record, including empty ones, together with its ``line`` number; deciding which rows carry
data is left to harmonisation, which counts the empty ones. Missing-value codes are kept in
``*_code`` columns so that the check summary can count them.

Memory: a file is read and converted in chunks of records (:class:`~.readers.CsvChunks`), only
the columns a loader uses are kept, and values get explicit compact dtypes (``Int8`` scores,
``Int16`` codes, ``int16`` years, ``int32`` line numbers, ``category`` names and codes), so a
loaded file takes well under its size in memory. A record that appears twice (the same values in
every column a loader keeps) is an error naming both lines; so is a UCDP actor-year or a
ratification member given twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from spirallab.data.readers import (
    CsvChunks,
    RawTable,
    parse_float,
    parse_int,
    parse_str,
    parse_year,
)
from spirallab.errors import InputError

PTS_STATUS = {0: "scored", 66: "not a country/territory that year", 77: "no report that year",
              88: "report not yet coded or missing", 99: "other"}
CIRI_CODES = {-66: "transition or interregnum", -77: "foreign occupation or state collapse",
              -999: "missing"}
POLITY_CODES = {-66: "foreign interruption", -77: "interregnum", -88: "transition"}


def _load(
    path: Path,
    columns: Sequence[str],
    convert: Callable[[RawTable], pd.DataFrame],
    *,
    unique: Sequence[str] | None = None,
    what: str = "record",
    **read: object,
) -> pd.DataFrame:
    """Read ``path`` chunk by chunk, convert each chunk, and join the typed chunks.

    ``unique``: columns that identify a record (default: every column but ``line``); a second
    record with the same values there is a data error naming both lines.
    """
    chunks = CsvChunks(Path(path), columns, **read)  # type: ignore[arg-type]
    frame = _concat([convert(raw) for raw in chunks])
    frame["line"] = frame["line"].astype("int32")
    frame.attrs["blank_lines"] = chunks.blank_lines
    _no_duplicates(frame, Path(path), unique, what)
    return frame


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Join chunks column by column; categorical columns are united, not turned into objects."""
    if len(parts) == 1:
        return parts[0]
    out: dict[str, object] = {}
    for col in list(parts[0].columns):
        # Each chunk's column is released as soon as it is joined: memory holds the loaded
        # table about once, not twice.
        pieces = [p.pop(col) for p in parts]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            out[col] = pd.Series(union_categoricals(pieces), name=col)
        else:
            out[col] = pd.concat(pieces, ignore_index=True)
        del pieces
    return pd.DataFrame(out)


def _no_duplicates(
    frame: pd.DataFrame, path: Path, unique: Sequence[str] | None, what: str
) -> None:
    subset = list(unique) if unique is not None else [
        c for c in frame.columns if c not in ("line", "gwno_location")
    ]
    if frame.empty or not subset:
        return
    # One 64-bit hash per record, combined column by column (8 bytes a row, no copy of the
    # table); equal records have equal hashes, and a collision is about 1 in 10^19 per pair.
    hashes = np.zeros(len(frame), dtype=np.uint64)
    for col in subset:
        column = pd.util.hash_pandas_object(frame[col], index=False).to_numpy(np.uint64)
        hashes *= np.uint64(1_000_003)
        hashes ^= column
        del column
    # Sorting finds whether any hash repeats without a hash table; only then are lines sought.
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():
        return
    del ordered
    repeat = pd.Series(hashes).duplicated(keep="first").to_numpy()
    second = int(np.flatnonzero(repeat)[0])
    first = int(np.flatnonzero(hashes == hashes[second])[0])
    lines = frame["line"].to_numpy()
    row = frame.iloc[second]
    shown = ", ".join(f"{c}={row[c]}" for c in subset[:4]) + (", ..." if len(subset) > 4 else "")
    extra = int(repeat.sum()) - 1
    raise InputError(
        f"duplicate {what}: line {int(lines[second])} repeats line {int(lines[first])}"
        + (f" (and {extra:,} more repeated lines)" if extra else ""),
        file=path,
        where=f"line {int(lines[second])}",
        found=shown,
        expected=f"each {what} once (remove the repeated line)",
    )


def _cat(values: pd.Series) -> pd.Categorical:
    """Repeated text (names, codes) stored once per distinct value."""
    return pd.Categorical(values.astype(object))


def load_pts(path: Path) -> pd.DataFrame:
    """Political Terror Scale (PTS-2022 layout): one row per country-year, three report sources.

    Scores are 1-5; an NA score should come with an ``NA_Status`` code (66, 77, 88 or 99). The
    published file is not strict about pairing them (a few rows carry a score and a status code,
    or NA with status 0), so only unknown codes are errors; the score decides.
    """
    cols = ["Country", "Year", "COW_Code_A", "COW_Code_N", "WordBank_Code_A", "UN_Code_N",
            "PTS_A", "PTS_H", "PTS_S", "NA_Status_A", "NA_Status_H", "NA_Status_S"]

    def convert(raw: RawTable) -> pd.DataFrame:
        out = pd.DataFrame({
            "country": _cat(parse_str(raw, "Country")),
            "year": parse_year(raw, "Year").astype("int16"),
            "cow": parse_int(raw, "COW_Code_N", valid=(1, 999))[0].astype("Int16"),
            "cow_alpha": _cat(parse_str(raw, "COW_Code_A").replace("NA", "")),
            "wb_code": _cat(parse_str(raw, "WordBank_Code_A").replace("NA", "")),
            "un_code": parse_int(raw, "UN_Code_N", valid=(0, 999))[0].astype("Int16"),
        })
        for src in ("A", "H", "S"):
            score = parse_int(raw, f"PTS_{src}", valid=(1, 5))[0].astype("Int8")
            col = f"NA_Status_{src}"
            status = parse_int(
                raw, col, valid=(0, 99), expected="an NA_Status code 0, 66, 77, 88 or 99",
            )[0].astype("Int8")
            unknown = (status.notna() & ~status.isin(list(PTS_STATUS))).to_numpy(bool)
            if unknown.any():
                i = int(unknown.nonzero()[0][0])
                raise InputError(
                    "unknown NA_Status code", file=raw.path,
                    where=f"line {int(raw.frame['line'].iloc[i])}, column {col}",
                    found=raw.frame[col].iloc[i], expected="0, 66, 77, 88 or 99",
                )
            out[f"pts_{src.lower()}"] = score
            out[f"pts_{src.lower()}_code"] = status.where(score.isna())
        out["line"] = raw.frame["line"]
        return out

    return _load(path, cols, convert)


def load_fariss(path: Path) -> pd.DataFrame:
    """Fariss latent human rights protection scores (LHRS v4): COW and YEAR, theta mean and sd.

    The first column is R's unnamed row number; it is accepted and dropped.
    """
    quantiles = ("theta_q025", "theta_q975")

    def convert(raw: RawTable) -> pd.DataFrame:
        out = pd.DataFrame({
            "cow": parse_int(raw, "COW", valid=(1, 999), na=())[0].astype("Int16"),
            "year": parse_year(raw, "YEAR").astype("int16"),
            "theta_mean": parse_float(raw, "theta_mean", valid=(-20.0, 20.0)),
            "theta_sd": parse_float(raw, "theta_sd", valid=(0.0, 20.0)),
        })
        for extra in quantiles:
            if extra in raw.frame.columns:
                out[extra] = parse_float(raw, extra, valid=(-20.0, 20.0))
        out["line"] = raw.frame["line"]
        return out

    return _load(path, ["YEAR", "COW", "theta_mean", "theta_sd"], convert, unnamed_first=True,
                 keep=quantiles)


def load_cirights(path: Path) -> pd.DataFrame:
    """CIRIGHTS (UTF-8 with BOM, CRLF): physical integrity, freedom of association, NGO access."""
    cols = ["country", "iso_a3", "year", "cow", "physint_sum", "polpris", "disap", "tort", "kill",
            "assn", "NGO_investigate"]

    def convert(raw: RawTable) -> pd.DataFrame:
        out = pd.DataFrame({
            "country": _cat(parse_str(raw, "country")),
            "iso3": _cat(parse_str(raw, "iso_a3")),
            "cow": parse_int(raw, "cow", valid=(1, 999))[0].astype("Int16"),
            "year": parse_year(raw, "year").astype("int16"),
            "physint_sum": parse_int(raw, "physint_sum", valid=(0, 8))[0].astype("Int8"),
        })
        for comp in ("polpris", "disap", "tort", "kill", "assn"):
            out[comp] = parse_int(raw, comp, valid=(0, 2))[0].astype("Int8")
        # Shipped as is; the codebook's scale is small, so any integer is accepted here.
        out["ngo_investigate"] = parse_int(raw, "NGO_investigate", valid=(-9, 9))[0].astype(
            "Int8")
        out["line"] = raw.frame["line"]
        return out

    return _load(path, cols, convert)


def load_ciri(path: Path) -> pd.DataFrame:
    """Classic CIRI physical integrity (CR line endings, Latin-1).

    Components are 0-2; -66, -77 and -999 are missing-value codes (kept in ``*_code``); blank
    cells (whole blank rows for microstates) are NA without a code.
    """
    cols = ["CTRY", "YEAR", "CIRI", "COW", "DISAP", "KILL", "POLPRIS", "TORT"]

    def convert(raw: RawTable) -> pd.DataFrame:
        out = pd.DataFrame({
            "country": _cat(parse_str(raw, "CTRY")),
            "year": parse_year(raw, "YEAR").astype("int16"),
            "ciri_id": parse_int(raw, "CIRI", valid=(1, 9999))[0].astype("Int16"),
            "cow": parse_int(raw, "COW", valid=(1, 999))[0].astype("Int16"),
        })
        for comp in ("DISAP", "KILL", "POLPRIS", "TORT"):
            values, codes = parse_int(raw, comp, valid=(0, 2), codes=CIRI_CODES)
            out[comp.lower()] = values.astype("Int8")
            out[f"{comp.lower()}_code"] = codes.astype("Int16")
        out["line"] = raw.frame["line"]
        return out

    return _load(path, cols, convert, allow_latin1=True)


def load_hathaway(path: Path) -> pd.DataFrame:
    """Hathaway (2002) torture scale, 1 (best) to 5 (worst), by COW ``ccode`` and year."""

    def convert(raw: RawTable) -> pd.DataFrame:
        return pd.DataFrame({
            "country": _cat(parse_str(raw, "country")),
            "cow": parse_int(raw, "ccode", valid=(1, 999))[0].astype("Int16"),
            "year": parse_year(raw, "year").astype("int16"),
            "torture": parse_int(raw, "torture", valid=(1, 5))[0].astype("Int8"),
            "line": raw.frame["line"],
        })

    return _load(path, ["country", "ccode", "year", "torture"], convert)


def load_polity(path: Path) -> pd.DataFrame:
    """Polity5 ``polity2`` by Polity's own letter code ``scode`` (the extract has no ccode).

    -66, -77 and -88 (Polity's special codes, which ``polity2`` normally replaces) are counted
    as missing codes.
    """

    def convert(raw: RawTable) -> pd.DataFrame:
        values, codes = parse_int(raw, "polity2", valid=(-10, 10), codes=POLITY_CODES)
        return pd.DataFrame({
            "scode": _cat(parse_str(raw, "scode")),
            "country": _cat(parse_str(raw, "country")),
            "year": parse_year(raw, "year").astype("int16"),
            "polity2": values.astype("Float64").astype("float64"),
            "polity2_code": codes.astype("Int16"),
            "line": raw.frame["line"],
        })

    return _load(path, ["scode", "country", "year", "polity2"], convert)


_GW_LIST = re.compile(r"^\d+(\s*,\s*\d+)*$")


def load_ucdp(path: Path) -> pd.DataFrame:
    """UCDP one-sided violence (v22.1): actor-year rows with fatality estimates.

    ``gwno_location`` is kept as a list of Gleditsch-Ward numbers (one or several). An actor has
    one row a year: a second row for the same ``actor_id`` and year is an error (it would be
    counted twice).
    """
    cols = ["actor_id", "actor_name", "year", "best_fatality_estimate", "is_government_actor",
            "gwno_location", "gwnoa"]

    def convert(raw: RawTable) -> pd.DataFrame:
        gov, _ = parse_int(raw, "is_government_actor", valid=(0, 1), na=(), expected="0 or 1")
        locs = parse_str(raw, "gwno_location")
        bad = ~locs.str.fullmatch(_GW_LIST.pattern)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                "not a list of Gleditsch-Ward numbers", file=raw.path,
                where=f"line {int(raw.frame['line'].iloc[i])}, column gwno_location",
                found=locs.iloc[i], expected="numbers separated by commas, e.g. '500, 625'",
            )
        gwnoa = parse_str(raw, "gwnoa")
        bad = ~(gwnoa.eq("") | gwnoa.str.fullmatch(_GW_LIST.pattern))
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                "not a Gleditsch-Ward number", file=raw.path,
                where=f"line {int(raw.frame['line'].iloc[i])}, column gwnoa",
                found=gwnoa.iloc[i], expected="a number or blank",
            )
        return pd.DataFrame({
            "actor_id": parse_str(raw, "actor_id"),
            "actor_name": parse_str(raw, "actor_name"),
            "year": parse_year(raw, "year"),
            "best": parse_float(raw, "best_fatality_estimate", valid=(0.0, 1e8), na=()),
            "is_government": gov.astype(bool),
            "gwno_location": [[int(x) for x in s.split(",")] for s in locs],
            "gwnoa": gwnoa,
            "line": raw.frame["line"],
        })

    return _load(path, cols, convert, unique=["actor_id", "year"], what="actor-year",
                 optional=["low_fatality_estimate", "high_fatality_estimate"])


def load_mass_killing(path: Path) -> pd.DataFrame:
    """State-led mass killing episodes (Ulfelder & Valentino, mkl_ccode): ongoing and onset."""

    def convert(raw: RawTable) -> pd.DataFrame:
        return pd.DataFrame({
            "country": _cat(parse_str(raw, "country")),
            "year": parse_year(raw, "year").astype("int16"),
            "sftgcode": _cat(parse_str(raw, "sftgcode")),
            "cow": parse_int(raw, "ccode", valid=(1, 999))[0].astype("Int16"),
            "mkl_ongoing": parse_int(raw, "mkl.ongoing", valid=(0, 1))[0].astype("Int8"),
            "mkl_start": parse_int(raw, "mkl.start", valid=(0, 1))[0].astype("Int8"),
            "line": raw.frame["line"],
        })

    return _load(path, ["country", "year", "sftgcode", "mkl.start", "mkl.ongoing", "ccode"],
                 convert)


_TREATY_FILE = re.compile(r"^hr_status_([a-z0-9_]+)\.csv$", re.IGNORECASE)


def treaty_key(path: Path) -> str:
    """The treaty key from a file name: ``hr_status_iccpr_op1.csv`` gives ``iccpr_op1``."""
    match = _TREATY_FILE.match(Path(path).name)
    if not match:
        raise InputError(
            "not a ratification status file name", file=path,
            expected="hr_status_<treaty>.csv, e.g. hr_status_cat.csv",
        )
    return match.group(1).lower()


def load_ratification_file(path: Path) -> pd.DataFrame:
    """One UN treaty status file: a row per UN member with ``state party`` and the year.

    A state party must have a year; ``note`` is optional (one published file lacks it). A member
    listed twice (the same ``iso2``, or the same name) is an error naming both lines.
    """
    cols = ["iso2", "member", "state party", "year ratification or accession", "status"]
    treaty = treaty_key(path)

    def convert(raw: RawTable) -> pd.DataFrame:
        party, _ = parse_int(raw, "state party", valid=(0, 1), na=(), expected="0 or 1")
        year, _ = parse_int(raw, "year ratification or accession", valid=(1945, 2200))
        lacking = ((party == 1) & year.isna()).to_numpy(bool)
        if lacking.any():
            i = int(lacking.nonzero()[0][0])
            raise InputError(
                "state party without a year", file=raw.path,
                where=f"line {int(raw.frame['line'].iloc[i])}, column year ratification or "
                "accession",
                found="", expected="the year of ratification or accession",
            )
        return pd.DataFrame({
            "iso2": parse_str(raw, "iso2"),
            "member": parse_str(raw, "member"),
            "treaty": treaty,
            "state_party": party.astype(bool),
            "year": year,
            "status": parse_str(raw, "status"),
            "note": parse_str(raw, "note"),
            "line": raw.frame["line"],
        })

    frame = _load(path, cols, convert, optional=["note"])
    for key in ("iso2", "member"):
        named = frame[frame[key] != ""]
        _no_duplicates(named, Path(path), [key], f"member ({key})")
    return frame
