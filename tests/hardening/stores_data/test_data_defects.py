"""Issue 9: regression tests for data files (defects 21 and 23), each with its own small file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spirallab.data import DataSources, loaders
from spirallab.data.check import check_sources
from spirallab.data.readers import CsvChunks
from spirallab.errors import InputError

from .conftest import assert_one_line, cli

UCDP = ('"actor_id","actor_name","year","best_fatality_estimate","is_government_actor",'
        '"gwno_location","gwnoa"\n'
        '"701","Janjaweed","2002","644.5","0","625",""\n')
RATIFICATION = ("iso2,member,state party,year ratification or accession,signatory,no action,"
                "status,note\r\n"
                "AF,Afghanistan,1,1987,0,0,state party,\r\n"
                "DZ,Algeria,1,1989,0,0,state party,\r\n")
PTS_HEADER = ("Country,Country_OLD,Year,COW_Code_A,COW_Code_N,WordBank_Code_A,UN_Code_N,Region,"
              "PTS_A,PTS_H,PTS_S,NA_Status_A,NA_Status_H,NA_Status_S\r\n")
PTS_ROW = "Chile,Chile,1980,CHL,155,CHL,152,lac,4,NA,4,0,88,0\r\n"


def _check(tmp_path: Path, source: str, path: Path) -> tuple[int, str]:
    return cli(["data", "check", "--file", f"{source}={path}", "--json"])


def test_21_duplicated_ucdp_row_is_an_error_not_a_sum(tmp_path: Path) -> None:
    path = tmp_path / "ucdp.csv"
    path.write_text(UCDP)
    # Without the duplicate: Sudan 2002 gets the row's 644.5 non-state deaths.
    code, text = _check(tmp_path, "ucdp", path)
    assert code == 0, text
    result = check_sources(DataSources(ucdp=path))
    assert result.panel_rows >= 1
    single = loaders.load_ucdp(path)
    assert single["best"].tolist() == [644.5]
    # With it (the case: the row summed to 1170.0 silently), exit 2 naming both lines.
    path.write_text(UCDP + UCDP.splitlines()[1] + "\n")
    code, msg = _check(tmp_path, "ucdp", path)
    assert_one_line(code, msg, str(path), "duplicate actor-year: line 3 repeats line 2")


def test_21_duplicated_ratification_row(tmp_path: Path) -> None:
    path = tmp_path / "hr_status_cat.csv"
    path.write_text(RATIFICATION)
    assert loaders.load_ratification_file(path)["year"].tolist() == [1987, 1989]
    path.write_text(RATIFICATION + "DZ,Algeria,1,1992,0,0,state party,\r\n")
    code, msg = _check(tmp_path, "ratification", path)
    assert_one_line(code, msg, str(path), "duplicate member (iso2): line 4 repeats line 3")


def test_21_two_status_files_differing_only_in_case(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "ratification"
    folder.mkdir(parents=True)
    (folder / "hr_status_cat.csv").write_text(RATIFICATION)
    code, text = cli(["data", "check", str(tmp_path / "data"), "--json"])
    assert code == 0, text
    (folder / "HR_STATUS_CAT.csv").write_text(RATIFICATION)
    code, msg = cli(["data", "check", str(tmp_path / "data"), "--json"])
    if len({p.name.lower() for p in folder.iterdir()}) == 2:  # a case-insensitive file system
        pytest.skip("the file system folds case: the two names are one file")
    assert_one_line(code, msg, "HR_STATUS_CAT.csv", "hr_status_cat.csv",
                    "two ratification files for one treaty")


def test_21_exact_duplicate_record_in_pts(tmp_path: Path) -> None:
    path = tmp_path / "PTS-2022.csv"
    path.write_bytes((PTS_HEADER + PTS_ROW).encode())
    assert len(loaders.load_pts(path)) == 1
    path.write_bytes((PTS_HEADER + PTS_ROW + PTS_ROW).encode())
    code, msg = _check(tmp_path, "pts", path)
    assert_one_line(code, msg, str(path), "duplicate record: line 3 repeats line 2")


def test_21_second_row_of_a_country_year_stays_in_the_unmatched_report(tmp_path: Path) -> None:
    # Not a duplicate record (another COW code for the same state-year): reported, with reason.
    path = tmp_path / "PTS-2022.csv"
    other = PTS_ROW.replace(",CHL,152", ",CHI,152").replace("4,NA,4", "3,NA,NA")
    path.write_bytes((PTS_HEADER + PTS_ROW + other).encode())
    result = check_sources(DataSources(pts=path))
    assert int(result.sources.loc[0, "landed"]) == 1
    assert int(result.sources.loc[0, "unmatched"]) == 1
    assert "second row for CHL" in result.unmatched["reason"].iloc[0]


def _pts_file(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(4)
    lines = [PTS_HEADER]
    for i in range(rows):
        a, h, s = (int(v) for v in rng.integers(1, 6, size=3))
        lines.append(f"Country {i % 97},Country {i % 97},{1700 + i % 500},C{i % 97},"
                     f"{1 + i % 97},W{i % 97},{i % 97},xx,{a},{h},{s},0,0,0\r\n")
    path.write_bytes("".join(lines).encode())
    return path


def test_23_loaded_pts_is_smaller_than_its_file(tmp_path: Path) -> None:
    # Explicit compact dtypes and only the used columns: the frame is a fraction of the file.
    path = _pts_file(tmp_path / "PTS-big.csv", 40_000)
    frame = loaders.load_pts(path)
    assert frame.memory_usage(deep=True).sum() < 0.6 * path.stat().st_size
    assert "Region" not in frame.columns and "Country_OLD" not in frame.columns
    assert str(frame["pts_a"].dtype) == "Int8" and frame["year"].dtype == np.int16
    assert isinstance(frame["country"].dtype, pd.CategoricalDtype)


def test_23_chunked_reading_equals_one_pass(tmp_path: Path) -> None:
    path = _pts_file(tmp_path / "PTS.csv", 1_000)
    whole = pd.concat([t.frame for t in CsvChunks(path, ["Country"], chunk_records=10**9)])
    parts = pd.concat([t.frame for t in CsvChunks(path, ["Country"], chunk_records=7)],
                      ignore_index=True)
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), parts)
    assert parts["line"].tolist() == list(range(2, 1002))
    # A bad value in a late chunk is still reported with its own line.
    text = path.read_text().splitlines(keepends=True)
    text[900] = text[900].replace(",0,0,0", ",0,0,55")
    path.write_text("".join(text), newline="")
    with pytest.raises(InputError, match=r"line 901, column NA_Status_S"):
        loaders.load_pts(path)


def test_23_check_json_is_unchanged_by_chunking(tmp_path: Path) -> None:
    path = _pts_file(tmp_path / "PTS.csv", 300)
    code, text = _check(tmp_path, "pts", path)
    assert code == 0
    assert json.loads(text)["sources"][0]["rows"] == 300
