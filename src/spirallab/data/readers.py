"""Low-level reading of the published CSV files, with errors that name file, line and value.

Every loader goes through :func:`read_csv_text`: it decodes the bytes (UTF-8, optional BOM,
Latin-1 only where the format allows it), checks that one line-ending convention is used
throughout (CRLF, LF or the classic-Mac CR), splits the records while remembering each one's line
number, and checks the header. The value parsers below then convert columns and raise
:class:`~spirallab.errors.InputError` for anything they do not recognise.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
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


# Records are converted this many at a time, so that memory holds typed values, never the
# whole file as Python strings (a 200 MB file is about 3 million records).
CHUNK_RECORDS = 20_000


class CsvChunks:
    """A published CSV read in chunks of records, each a :class:`RawTable` of strings.

    The file is decoded and split as it is read (never held whole): the encoding is checked in
    one streaming pass first, then records are parsed with Python's ``csv`` module from lines
    that keep their endings, so quoted fields may hold line breaks and every record keeps its
    first line's number. Only ``required``, ``optional`` and ``keep`` columns are kept. After
    the last chunk, ``newline``, ``encoding`` and ``blank_lines`` describe the whole file.
    """

    def __init__(
        self,
        path: Path,
        required: Iterable[str],
        *,
        allow_latin1: bool = False,
        optional: Iterable[str] = (),
        unnamed_first: bool = False,
        keep: Iterable[str] | None = (),
        chunk_records: int = CHUNK_RECORDS,
    ) -> None:
        self.path = Path(path)
        self.required = list(required)
        self.optional = list(optional)
        self.keep = None if keep is None else list(keep)
        self.allow_latin1 = allow_latin1
        self.unnamed_first = unnamed_first
        self.chunk_records = chunk_records
        self.newline = "\n"
        self.encoding = "utf-8"
        self.blank_lines = 0
        self.header: list[str] = []

    def __iter__(self) -> Iterator[RawTable]:
        path = self.path
        self.encoding, has_text = _check_encoding(path, self.allow_latin1)
        if not has_text:
            raise InputError("the file is empty", file=path, expected="a header and data rows")
        try:
            fh = path.open("r", encoding=self.encoding, newline="")
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
        with fh:
            lines = _Lines(path, fh)
            reader = csv.reader(lines, strict=True)
            try:
                first = next(reader, None)
            except csv.Error as exc:
                raise InputError(f"unreadable header ({exc})", file=path, where="line 1") from None
            header = self._check_header([h.strip() for h in first or []])
            width = len(header)
            names = self._kept(header)
            index = [header.index(c) for c in names]
            columns: list[list[str]] = [[] for _ in names]
            numbers: list[int] = []
            try:
                for record in reader:
                    number = reader.line_num
                    if not record or (len(record) == 1 and record[0].strip() == ""):
                        self.blank_lines += 1  # a wholly empty line carries no key: counted
                        continue
                    if len(record) != width:
                        raise InputError(
                            f"{len(record)} fields in this row",
                            file=path,
                            where=f"line {number}",
                            found=lines.last.rstrip("\r\n")[:80],
                            expected=f"{width} fields like the header",
                        )
                    for column, k in zip(columns, index, strict=True):
                        column.append(record[k])
                    numbers.append(number)
                    if len(numbers) >= self.chunk_records:
                        yield self._table(names, columns, numbers)
                        columns = [[] for _ in names]
                        numbers = []
            except csv.Error as exc:
                raise InputError(
                    f"unparseable row ({exc})", file=path, where=f"line {reader.line_num}"
                ) from None
            self.newline = lines.ending or "\n"
            if numbers or not self._yielded:
                yield self._table(names, columns, numbers)

    _yielded = False

    def _check_header(self, header: list[str]) -> list[str]:
        path = self.path
        if self.unnamed_first and header and header[0] == "":
            header[0] = "rownum"
        missing = [c for c in self.required if c not in header]
        if missing:
            raise InputError(
                f"missing column {missing[0]!r}",
                file=path,
                where="line 1 (header)",
                found=",".join(header) if len(header) < 12 else ",".join(header[:12]) + ",...",
                expected="columns " + ", ".join(self.required),
            )
        dupes = {c for c in header if header.count(c) > 1 and c in self.required}
        if dupes:
            raise InputError(
                "duplicate column", file=path, where="line 1 (header)", found=sorted(dupes)[0]
            )
        self.header = header
        return header

    def _kept(self, header: list[str]) -> list[str]:
        """The header's columns to keep (the first of any repeated name), in header order."""
        wanted = None if self.keep is None else {*self.required, *self.optional, *self.keep}
        out: list[str] = []
        for name in header:
            if name not in out and (wanted is None or name in wanted):
                out.append(name)
        return out

    def _table(self, names: list[str], columns: list[list[str]], numbers: list[int]) -> RawTable:
        self._yielded = True
        # Plain Python strings (object dtype), not Arrow strings: Arrow's memory pool keeps
        # freed chunks, which made memory grow with the file.
        frame = pd.DataFrame(
            {n: pd.Series(c, dtype=object) for n, c in zip(names, columns, strict=True)}
        )
        for col in self.optional:
            if col not in frame.columns:
                frame[col] = pd.Series([""] * len(numbers), dtype=object)
        frame["line"] = np.asarray(numbers, dtype="int64")
        frame.index = pd.RangeIndex(len(frame))
        return RawTable(self.path, frame, self.newline, self.encoding, self.blank_lines)


class _Lines:
    """The file's lines with their endings, checking that one line-ending convention is used
    (``last`` is the last line read)."""

    def __init__(self, path: Path, fh: Iterable[str]) -> None:
        self.path = path
        self.fh = fh
        self.ending: str | None = None
        self.number = 0
        self.last = ""

    def __iter__(self) -> Iterator[str]:
        for line in self.fh:
            self.number += 1
            self.last = line
            if line.endswith("\r\n"):
                end = "\r\n"
            elif line.endswith("\n"):
                end = "\n"
            elif line.endswith("\r"):
                end = "\r"
            else:
                end = ""
            if end:
                if self.ending is None:
                    self.ending = end
                elif end != self.ending:
                    raise InputError(
                        "mixed line endings",
                        file=self.path,
                        where=f"line {self.number}",
                        found=_ENDINGS[end],
                        expected=f"{_ENDINGS[self.ending]} like the lines before it",
                    )
            yield line


def _check_encoding(path: Path, allow_latin1: bool) -> tuple[str, bool]:
    """The file's encoding (utf-8, utf-8-sig or latin-1) and whether it holds any text,
    checked in one streaming pass."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    bom = False
    has_text = False
    try:
        with path.open("rb") as fh:
            head = fh.read(3)
            bom = head == b"\xef\xbb\xbf"
            block = b"" if bom else head
            while True:
                decoder.decode(block)
                has_text = has_text or bool(block.strip())
                block = fh.read(1 << 20)
                if not block:
                    break
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    except UnicodeDecodeError:
        if allow_latin1 and not bom:
            return "latin-1", True
        _decode(path, path.read_bytes(), allow_latin1)  # raises, naming the line
        raise AssertionError("unreachable") from None
    return ("utf-8-sig" if bom else "utf-8"), has_text


def read_csv_text(
    path: Path,
    required: Iterable[str],
    *,
    allow_latin1: bool = False,
    optional: Iterable[str] = (),
    unnamed_first: bool = False,
) -> RawTable:
    """Read a whole published CSV into strings, every column, with each record's ``line``.

    ``required`` columns must be present (extra columns are kept); ``optional`` ones are added
    as empty strings when absent. With ``unnamed_first`` the first header cell may be empty (the
    row-number column R writes) and is named ``rownum``. Loaders read large files in chunks
    through :class:`CsvChunks` instead.
    """
    chunks = CsvChunks(
        path, required, allow_latin1=allow_latin1, optional=optional,
        unnamed_first=unnamed_first, keep=None, chunk_records=2**62,
    )
    tables = list(chunks)
    frame = pd.concat([t.frame for t in tables], ignore_index=True)
    return RawTable(Path(path), frame, chunks.newline, chunks.encoding, chunks.blank_lines)


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
