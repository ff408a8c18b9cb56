"""Every format: a renamed required column and a stray line ending give precise errors.

The malformed copies are made in tmp_path by transforming the real files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from spirallab.data import loaders
from spirallab.errors import InputError

CASES: list[tuple[str, str, Callable[[Path], pd.DataFrame], str, str]] = [
    ("pts/PTS-2022.csv", "utf-8", loaders.load_pts, "PTS_A", "\r\n"),
    ("fariss/LHRS-v4.02-2021.csv", "utf-8", loaders.load_fariss, "theta_sd", "\n"),
    ("cirights/cirights_v1.22.11.25.csv", "utf-8-sig", loaders.load_cirights, "tort", "\r\n"),
    ("ciri/CIRI_physint2011.csv", "latin-1", loaders.load_ciri, "KILL", "\r"),
    ("hathaway/Hathaway2002longData.csv", "utf-8", loaders.load_hathaway, "torture", "\n"),
    ("polity/p5v2018.csv", "utf-8", loaders.load_polity, "polity2", "\n"),
    ("ucdp/ucdp-onesided-221-2021.csv", "utf-8", loaders.load_ucdp, "gwno_location", "\n"),
    ("mass_killing/mkl_ccode_2015.csv", "utf-8", loaders.load_mass_killing, "mkl.ongoing", "\n"),
    ("ratification/hr_status_cat.csv", "utf-8", loaders.load_ratification_file, "state party",
     "\r\n"),
]


@pytest.mark.parametrize(("rel", "encoding", "load", "column", "newline"), CASES,
                         ids=[c[0].split("/")[0] for c in CASES])
def test_renamed_column(shared_data: Path, tmp_path: Path, rel: str, encoding: str,
                        load: Callable[[Path], pd.DataFrame], column: str, newline: str) -> None:
    text = (shared_data / rel).read_bytes().decode(encoding)
    head, sep, rest = text.partition(newline)
    bad = tmp_path / Path(rel).name
    bad.write_bytes((head.replace(column, column + "_x", 1) + sep + rest).encode(encoding))
    with pytest.raises(InputError) as err:
        load(bad)
    msg = str(err.value)
    assert msg.startswith(str(bad)) and f"missing column '{column}'" in msg and "line 1" in msg


@pytest.mark.parametrize(("rel", "encoding", "load", "column", "newline"), CASES,
                         ids=[c[0].split("/")[0] for c in CASES])
def test_stray_line_ending(shared_data: Path, tmp_path: Path, rel: str, encoding: str,
                           load: Callable[[Path], pd.DataFrame], column: str,
                           newline: str) -> None:
    lines = (shared_data / rel).read_bytes().decode(encoding).split(newline)
    other = "\n" if newline != "\n" else "\r\n"
    text = newline.join(lines[:7]) + other + newline.join(lines[7:])
    bad = tmp_path / Path(rel).name
    bad.write_bytes(text.encode(encoding))
    with pytest.raises(InputError) as err:
        load(bad)
    assert "line 7: mixed line endings" in str(err.value)


@pytest.mark.parametrize(("rel", "encoding", "load", "column", "newline"), CASES,
                         ids=[c[0].split("/")[0] for c in CASES])
def test_short_row(shared_data: Path, tmp_path: Path, rel: str, encoding: str,
                   load: Callable[[Path], pd.DataFrame], column: str, newline: str) -> None:
    lines = (shared_data / rel).read_bytes().decode(encoding).split(newline)
    lines[4] = lines[4].rsplit(",", 1)[0]
    bad = tmp_path / Path(rel).name
    bad.write_bytes(newline.join(lines).encode(encoding))
    with pytest.raises(InputError, match=r"line 5: \d+ fields in this row"):
        load(bad)
