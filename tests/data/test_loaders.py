"""Each published format loads from the real folder with its quirks handled."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spirallab.data import loaders
from spirallab.data.readers import read_csv_text


def test_pts_loads_with_status_codes(shared_data: Path) -> None:
    pts = loaders.load_pts(shared_data / "pts" / "PTS-2022.csv")
    assert len(pts) > 1000
    scored = pts[pts[["pts_a", "pts_h", "pts_s"]].notna().any(axis=1)]
    per_year = scored.groupby("year")["country"].nunique()
    assert per_year.median() > 100  # ~190 a year in the full file; fewer in this copy
    for col in ("pts_a", "pts_h", "pts_s"):
        assert set(pts[col].dropna().unique()) <= {1, 2, 3, 4, 5}
        assert set(pts[f"{col}_code"].dropna().unique()) <= {0, 66, 77, 88, 99}
    assert pts["line"].iloc[0] == 2


def test_pts_is_crlf(shared_data: Path) -> None:
    raw = read_csv_text(shared_data / "pts" / "PTS-2022.csv", ["Country"])
    assert raw.newline == "\r\n"


def test_fariss_unnamed_first_column(shared_data: Path) -> None:
    fariss = loaders.load_fariss(shared_data / "fariss" / "LHRS-v4.02-2021.csv")
    assert len(fariss) > 1000
    assert "rownum" not in fariss.columns
    assert fariss["year"].min() >= 1946
    assert fariss["theta_sd"].gt(0).all()


def test_cirights_bom_and_crlf(shared_data: Path) -> None:
    path = shared_data / "cirights" / "cirights_v1.22.11.25.csv"
    raw = read_csv_text(path, ["country"])
    assert raw.encoding == "utf-8-sig" and raw.newline == "\r\n"
    cirights = loaders.load_cirights(path)
    assert "country" in cirights.columns and len(cirights) > 1000
    assert set(cirights["tort"].dropna().unique()) <= {0, 1, 2}
    assert cirights["physint_sum"].dropna().between(0, 8).all()


def test_ciri_cr_endings_and_negative_codes(shared_data: Path) -> None:
    path = shared_data / "ciri" / "CIRI_physint2011.csv"
    raw = read_csv_text(path, ["CTRY"], allow_latin1=True)
    assert raw.newline == "\r"
    ciri = loaders.load_ciri(path)
    assert len(ciri) > 1000  # one line per record, not one giant line
    for comp in ("tort", "kill", "disap", "polpris"):
        assert ciri[comp].dropna().between(0, 2).all()
    assert set(ciri["tort_code"].dropna().unique()) <= {-66, -77, -999}
    assert ciri["tort_code"].notna().sum() > 0  # codes became NA, and were kept
    blank = ciri[["tort", "kill", "disap", "polpris", "tort_code"]].isna().all(axis=1)
    assert blank.sum() > 0  # blank microstate rows are kept, not dropped


def test_hathaway(shared_data: Path) -> None:
    hath = loaders.load_hathaway(shared_data / "hathaway" / "Hathaway2002longData.csv")
    assert set(hath["torture"].dropna().unique()) <= {1, 2, 3, 4, 5}
    assert hath["year"].between(1985, 1999).all()


def test_polity(shared_data: Path) -> None:
    polity = loaders.load_polity(shared_data / "polity" / "p5v2018.csv")
    assert polity["polity2"].dropna().between(-10, 10).all()
    assert polity["scode"].str.len().eq(3).all()


def test_ucdp_multi_location(shared_data: Path) -> None:
    ucdp = loaders.load_ucdp(shared_data / "ucdp" / "ucdp-onesided-221-2021.csv")
    assert ucdp["is_government"].any() and (~ucdp["is_government"]).any()
    assert ucdp["gwno_location"].map(len).max() >= 2


def test_mass_killing(shared_data: Path) -> None:
    mk = loaders.load_mass_killing(shared_data / "mass_killing" / "mkl_ccode_2015.csv")
    assert set(mk["mkl_ongoing"].unique()) <= {0, 1}
    assert mk["mkl_ongoing"].sum() > 0


def test_ratification_files(shared_data: Path) -> None:
    files = sorted((shared_data / "ratification").glob("hr_status_*.csv"))
    assert len(files) >= 10
    frames = [loaders.load_ratification_file(f) for f in files]
    allr = pd.concat(frames)
    assert {"cat", "iccpr", "iccpr_op1", "opcat"} <= set(allr["treaty"])
    assert allr.loc[allr["state_party"], "year"].notna().all()
