"""Low-level reading of the published CSV files, with errors that name file, line and value.

Every loader goes through :func:`read_csv_text`: it decodes the bytes (UTF-8, optional BOM,
Latin-1 only where the format allows it), checks that one line-ending convention is used
throughout (CRLF, LF or the classic-Mac CR), splits the records while remembering each one's line
number, and checks the header. The value parsers below then convert columns and raise
:class:`~spirallab.errors.InputError` for anything they do not recognise.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spirallab.errors import InputError

_ENDINGS = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


@dataclass
class RawTable:
    """A CSV file as strings: one row per record, plus the record's line number."""

    path: Path
    frame: pd.DataFrame
    newline: str
    encoding: str
    blank_lines: int = 0
    notes: list[str] = field(default_factory=list)


def _decode(path: Path, data: bytes, allow_latin1: bool) -> tuple[str, str]:
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        if allow_latin1 and not bom:
            return data.decode("latin-1"), "latin-1"
        line = data.count(b"\n", 0, exc.start) + data.count(b"\r", 0, exc.start)
        line -= data.count(b"\r\n", 0, exc.start)
        raise InputError(
            "bytes that are not valid UTF-8",
            file=path,
            where=f"line {line + 1}",
            found=data[exc.start : exc.start + 4],
            expected="UTF-8 text as published",
        ) from None


def _split_lines(path: Path, text: str) -> tuple[list[str], str]:
    """Split on the file's one line-ending convention; a second convention is an error."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    lines = pieces[0::2]
    ends = pieces[1::2]
    if not ends:
        return lines, "\n"
    first = ends[0]
    for number, end in enumerate(ends, start=1):
        if end != first:
            raise InputError(
                "mixed line endings",
                file=path,
                where=f"line {number}",
                found=_ENDINGS[end],
                expected=f"{_ENDINGS[first]} like the lines before it",
            )
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return lines, first


def read_csv_text(
    path: Path,
    required: Iterable[str],
    *,
    allow_latin1: bool = False,
    optional: Iterable[str] = (),
    unnamed_first: bool = False,
) -> RawTable:
    """Read a published CSV into strings, keeping each record's line number in ``line``.

    ``required`` columns must be present (extra columns are kept); ``optional`` ones are added
    as empty strings when absent. With ``unnamed_first`` the first header cell may be empty (the
    row-number column R writes) and is named ``rownum``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    if not data.strip():
        raise InputError("the file is empty", file=path, expected="a header and data rows")
    text, encoding = _decode(path, data, allow_latin1)
    lines, newline = _split_lines(path, text)
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise InputError(f"unreadable header ({exc})", file=path, where="line 1") from None
    if unnamed_first and header and header[0] == "":
        header[0] = "rownum"
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}",
            file=path,
            where="line 1 (header)",
            found=",".join(header) if len(header) < 12 else ",".join(header[:12]) + ",...",
            expected="columns " + ", ".join(required),
        )
    dupes = {c for c in header if header.count(c) > 1 and c in required}
    if dupes:
        raise InputError(
            "duplicate column", file=path, where="line 1 (header)", found=sorted(dupes)[0]
        )
    rows: list[list[str]] = []
    numbers: list[int] = []
    blank = 0
    width = len(header)
    try:
        for record in reader:
            number = reader.line_num
            if not record or (len(record) == 1 and record[0].strip() == ""):
                blank += 1  # a wholly empty line carries no key: counted, not an error
                continue
            if len(record) != width:
                raise InputError(
                    f"{len(record)} fields in this row",
                    file=path,
                    where=f"line {number}",
                    found=lines[number - 1][:80],
                    expected=f"{width} fields like the header",
                )
            rows.append(record)
            numbers.append(number)
    except csv.Error as exc:
        raise InputError(
            f"unparseable row ({exc})", file=path, where=f"line {reader.line_num}"
        ) from None
    frame = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=str) for c in header}
    )
    frame = frame.loc[:, ~frame.columns.duplicated()]
    for col in optional:
        if col not in frame.columns:
            frame[col] = ""
    frame["line"] = np.asarray(numbers, dtype="int64")
    return RawTable(path, frame, newline, encoding, blank)


def _fail(raw: RawTable, column: str, index: int, value: str, problem: str, expected: str) -> None:
    line = int(raw.frame["line"].iloc[index])
    raise InputError(
        problem, file=raw.path, where=f"line {line}, column {column}", found=value,
        expected=expected,
    )


def parse_int(
    raw: RawTable,
    column: str,
    *,
    valid: tuple[int, int] | None = None,
    na: Iterable[str] = ("", "NA"),
    codes: Mapping[int, str] | None = None,
    expected: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse an integer column; returns (values, missing-value codes), both Int64.

    ``na`` strings become NA; integers in ``codes`` (published missing-value codes such as CIRI's
    -77) become NA and are kept in the second series. Anything else outside ``valid`` raises.
    """
    text = raw.frame[column].str.strip()
    na_set = set(na)
    is_na = text.isin(na_set)
    numeric = pd.to_numeric(text.where(~is_na, None), errors="coerce")
    bad = numeric.isna() & ~is_na
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        _fail(raw, column, i, text.iloc[i], "not a number", expected or "an integer or NA")
    frac = numeric.notna() & (numeric.fillna(0) % 1 != 0)
    if frac.any():
        i = int(np.flatnonzero(frac.to_numpy())[0])
        _fail(raw, column, i, text.iloc[i], "not a whole number", expected or "an integer")
    values = numeric.astype("Int64")
    missing_codes = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if codes:
        coded = values.isin(list(codes)).fillna(False).astype(bool)
        missing_codes = values.where(coded)
        values = values.mask(coded)
    if valid is not None:
        lo, hi = valid
        out = values.notna() & ((values < lo) | (values > hi)).fillna(False)
        if out.any():
            i = int(np.flatnonzero(out.to_numpy())[0])
            what = "an unknown missing-value code" if values.iloc[i] < 0 else "out of range"
            known = f"; missing codes {sorted(codes)}" if codes else ""
            _fail(
                raw, column, i, text.iloc[i], what,
                expected or f"an integer {lo}..{hi}, NA or blank{known}",
            )
    return values, missing_codes


def parse_float(
    raw: RawTable,
    column: str,
    *,
    valid: tuple[float, float] | None = None,
    na: Iterable[str] = ("", "NA"),
) -> pd.Series:
    """Parse a real-valued column; unparseable or out-of-range values raise."""
    text = raw.frame[column].str.strip()
    is_na = text.isin(set(na))
    numeric = pd.to_numeric(text.where(~is_na, None), errors="coerce").astype("float64")
    bad = numeric.isna() & ~is_na
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        _fail(raw, column, i, text.iloc[i], "not a number", "a number or NA")
    if valid is not None:
        lo, hi = valid
        out = numeric.notna() & ((numeric < lo) | (numeric > hi))
        if out.any():
            i = int(np.flatnonzero(out.to_numpy())[0])
            _fail(raw, column, i, text.iloc[i], "out of range", f"a number {lo}..{hi} or NA")
    return numeric


def parse_year(raw: RawTable, column: str) -> pd.Series:
    """A required four-digit year (no NA allowed: every row needs one)."""
    values, _ = parse_int(raw, column, na=(), valid=(1700, 2200), expected="a year such as 1995")
    return values.astype("int64")


def parse_str(raw: RawTable, column: str) -> pd.Series:
    """A text column with surrounding spaces removed."""
    return raw.frame[column].str.strip()
