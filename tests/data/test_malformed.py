"""Malformed copies (built in tmp_path) give a precise InputError: file, line and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from spirallab.data import loaders
from spirallab.errors import InputError


def _lines(path: Path, encoding: str, newline: str) -> list[str]:
    return path.read_bytes().decode(encoding).split(newline)


def _write(path: Path, lines: list[str], encoding: str, newline: str) -> Path:
    path.write_bytes(newline.join(lines).encode(encoding))
    return path


def test_ciri_unknown_missing_code(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data / "ciri" / "CIRI_physint2011.csv", "latin-1", "\r")
    fields = lines[13].split(",")
    fields[-1] = "-55"  # TORT
    lines[13] = ",".join(fields)
    bad = _write(tmp_path / "CIRI_physint2011.csv", lines, "latin-1", "\r")
    with pytest.raises(InputError) as err:
        loaders.load_ciri(bad)
    msg = str(err.value)
    assert str(bad) in msg and "line 14, column TORT" in msg and "'-55'" in msg
    assert "missing-value code" in msg


def test_ciri_missing_column(tmp_path: Path) -> None:
    bad = tmp_path / "ciri.csv"
    bad.write_bytes(b"CTRY,YEAR,CIRI,COW,DISAP,KILL,POLPRIS\rA,1990,1,2,0,0,0\r")
    with pytest.raises(InputError, match=r"ciri\.csv: line 1 \(header\): missing column 'TORT'"):
        loaders.load_ciri(bad)


def test_ciri_mixed_line_endings(shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / "ciri" / "CIRI_physint2011.csv").read_bytes()
    cut = [i for i, b in enumerate(text) if b == 13][29]  # end of line 30
    bad = tmp_path / "ciri.csv"
    bad.write_bytes(text[:cut] + b"\n" + text[cut + 1 :])
    with pytest.raises(InputError) as err:
        loaders.load_ciri(bad)
    msg = str(err.value)
    assert "line 30" in msg and "mixed line endings" in msg and "'LF'" in msg and "CR" in msg


def test_ciri_latin1_name_is_read(tmp_path: Path) -> None:
    good = tmp_path / "ciri.csv"
    good.write_bytes(
        "CTRY,YEAR,CIRI,COW,DISAP,KILL,POLPRIS,TORT\rC\xf4te d'Ivoire,1990,1,437,1,1,1,1\r"
        .encode("latin-1")
    )
    assert loaders.load_ciri(good)["country"].iloc[0] == "Côte d'Ivoire"


def test_pts_unknown_status_code(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data / "pts" / "PTS-2022.csv", "utf-8", "\r\n")
    fields = lines[2].split(",")
    fields[12] = "55"  # NA_Status_H
    lines[2] = ",".join(fields)
    bad = _write(tmp_path / "PTS-2022.csv", lines, "utf-8", "\r\n")
    with pytest.raises(InputError) as err:
        loaders.load_pts(bad)
    msg = str(err.value)
    assert "line 3, column NA_Status_H" in msg and "'55'" in msg and "PTS-2022.csv" in msg


def test_pts_bad_row_and_lf_line(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data / "pts" / "PTS-2022.csv", "utf-8", "\r\n")
    lines[5] = lines[5] + ",extra"
    bad = _write(tmp_path / "PTS-2022.csv", lines, "utf-8", "\r\n")
    with pytest.raises(InputError, match=r"line 6: 15 fields in this row"):
        loaders.load_pts(bad)
    lines = _lines(shared_data / "pts" / "PTS-2022.csv", "utf-8", "\r\n")
    text = "\r\n".join(lines[:40]) + "\n" + "\r\n".join(lines[40:])
    (tmp_path / "mixed.csv").write_bytes(text.encode())
    with pytest.raises(InputError, match=r"line 40: mixed line endings \(found 'LF'\)"):
        loaders.load_pts(tmp_path / "mixed.csv")


def test_pts_missing_column(tmp_path: Path) -> None:
    bad = tmp_path / "PTS.csv"
    bad.write_bytes(b"Country,Year,COW_Code_A\r\nX,1990,XXX\r\n")
    with pytest.raises(InputError, match="missing column 'COW_Code_N'"):
        loaders.load_pts(bad)


def test_fariss_bad_value(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data / "fariss" / "LHRS-v4.02-2021.csv", "utf-8", "\n")
    header = lines[0].split(",")
    col = header.index('"theta_mean"')
    fields = lines[9].split(",")
    fields[col] = "abc"
    lines[9] = ",".join(fields)
    bad = _write(tmp_path / "LHRS.csv", lines, "utf-8", "\n")
    with pytest.raises(InputError) as err:
        loaders.load_fariss(bad)
    assert "line 10, column theta_mean: not a number (found 'abc')" in str(err.value)


def test_cirights_out_of_range_and_missing_column(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "cirights" / "cirights_v1.22.11.25.csv"
    text = path.read_bytes()
    lines = text.decode("utf-8-sig").split("\r\n")
    header = lines[0].split(",")
    fields = lines[4].split(",")
    fields[header.index("tort")] = "7"
    lines[4] = ",".join(fields)
    bad = tmp_path / "cirights.csv"
    bad.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    with pytest.raises(InputError, match=r"line 5, column tort: out of range \(found '7'\)"):
        loaders.load_cirights(bad)
    lines = text.decode("utf-8-sig").split("\r\n")
    cut = [",".join(f for f in ln.split(",")[:-1]) for ln in lines[:3]]
    cut[0] = cut[0].replace("NGO_investigate", "NGO")
    (tmp_path / "c2.csv").write_bytes("\r\n".join(cut).encode())
    with pytest.raises(InputError, match="missing column 'NGO_investigate'"):
        loaders.load_cirights(tmp_path / "c2.csv")


def test_cirights_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "cirights.csv"
    bad.write_bytes("country,year\r\nC\xf4te,1990\r\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"line 2: bytes that are not valid UTF-8"):
        loaders.load_cirights(bad)


def test_hathaway_bad_row(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text('"country","ccode","year","torture"\n"A",700,1985,5\n"B",615,19x5,1\n')
    with pytest.raises(InputError, match=r"line 3, column year: not a number \(found '19x5'\)"):
        loaders.load_hathaway(bad)
    bad.write_text('"country","ccode","year","torture"\n"A",700,1985,9\n')
    with pytest.raises(InputError, match=r"line 2, column torture: out of range \(found '9'\)"):
        loaders.load_hathaway(bad)


def test_polity_unknown_code(tmp_path: Path) -> None:
    bad = tmp_path / "p5.csv"
    bad.write_text('"scode","country","year","polity2"\n"AFG","Afghanistan",1800,-6\n'
                   '"AFG","Afghanistan",1801,-55\n')
    with pytest.raises(InputError) as err:
        loaders.load_polity(bad)
    assert "line 3, column polity2: an unknown missing-value code (found '-55')" in str(err.value)


UCDP_HEADER = ('"actor_id","actor_name","year","best_fatality_estimate","is_government_actor",'
               '"gwno_location","gwnoa"')


def test_ucdp_bad_location_list(tmp_path: Path) -> None:
    # Its own small file: no dependence on the row order or countries of a data copy.
    bad = tmp_path / "ucdp.csv"
    bad.write_text("\n".join([
        UCDP_HEADER,
        '"1","Group A","1995","10","0","500",""',
        '"2","Group B","1996","12","0","625",""',
        '"3","Group C","1997","14","0","750; 770",""',
    ]) + "\n")
    with pytest.raises(InputError, match=r"line 4, column gwno_location: .*found '750; 770'"):
        loaders.load_ucdp(bad)
    bad.write_text(bad.read_text().replace("750; 770", "750, 770"))
    assert loaders.load_ucdp(bad)["gwno_location"].iloc[2] == [750, 770]


def test_mass_killing_missing_column(tmp_path: Path) -> None:
    bad = tmp_path / "mkl.csv"
    bad.write_text('"country","year","sftgcode","mkl.start","ccode"\n"A",1945,"AFG",0,700\n')
    with pytest.raises(InputError, match=r"missing column 'mkl.ongoing'"):
        loaders.load_mass_killing(bad)


def test_ratification_party_without_year(tmp_path: Path) -> None:
    bad = tmp_path / "hr_status_cat.csv"
    bad.write_bytes(b"iso2,member,state party,year ratification or accession,signatory,no action,"
                    b"status,note\r\nAF,Afghanistan,1,1987,0,0,state party,\r\n"
                    b"DZ,Algeria,1,,0,0,state party,\r\n")
    with pytest.raises(InputError, match=r"hr_status_cat.csv: line 3, column year ratification"):
        loaders.load_ratification_file(bad)


def test_ratification_bad_file_name(tmp_path: Path) -> None:
    bad = tmp_path / "status.csv"
    bad.write_bytes(b"iso2,member,state party,year ratification or accession,status\r\n")
    with pytest.raises(InputError, match="not a ratification status file name"):
        loaders.load_ratification_file(bad)
