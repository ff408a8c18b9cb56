"""Cache behaviour, source discovery and the ``data check`` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.data import DataSources, load_panel
from spirallab.data.panel import cache_key
from spirallab.errors import InputError


@pytest.fixture()
def small_sources(shared_data: Path, tmp_path: Path) -> DataSources:
    """Small sources in tmp: the real Hathaway file and a cut of the real PTS file."""
    hath = tmp_path / "Hathaway2002longData.csv"
    shutil.copyfile(shared_data / "hathaway" / "Hathaway2002longData.csv", hath)
    lines = (shared_data / "pts" / "PTS-2022.csv").read_bytes().split(b"\r\n")
    pts = tmp_path / "PTS-2022.csv"
    pts.write_bytes(b"\r\n".join(lines[:400]) + b"\r\n")
    return DataSources(pts=pts, hathaway=hath)


def test_cache_hit_miss_and_invalidation(small_sources: DataSources, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_panel(small_sources, cache_dir=cache)
    files = list(cache.glob("panel-*.parquet"))
    assert len(files) == 1 and not list(cache.glob("*.tmp"))
    again = load_panel(small_sources, cache_dir=cache)
    pd.testing.assert_frame_equal(first, again, check_dtype=True)
    stamp = files[0].stat().st_mtime_ns
    load_panel(small_sources, cache_dir=cache)
    assert files[0].stat().st_mtime_ns == stamp  # read, not rewritten

    key = cache_key(small_sources)
    assert small_sources.pts is not None
    old = b"Afghanistan,Afghanistan,1980,AFG,700,AFG,4,sa,5"
    data = small_sources.pts.read_bytes().replace(old, old[:-1] + b"1")
    small_sources.pts.write_bytes(data)
    assert cache_key(small_sources) != key
    changed = load_panel(small_sources, cache_dir=cache)
    assert len(list(cache.glob("panel-*.parquet"))) == 2
    row = changed[(changed["country_id"] == "AFG") & (changed["year"] == 1980)]
    assert row["pts_a"].iloc[0] == 1


def test_cache_env_default(small_sources: DataSources, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIRALLAB_CACHE", str(tmp_path / "envcache"))
    load_panel(small_sources)
    assert list((tmp_path / "envcache").glob("panel-*.parquet"))


def test_from_dir_finds_published_names(shared_data: Path, tmp_path: Path) -> None:
    src = DataSources.from_dir(shared_data)
    assert src.pts is not None and src.ciri is not None and src.cirights is not None
    assert src.ciri.name.startswith("CIRI_") and src.cirights.name.startswith("cirights")
    assert isinstance(src.ratification, tuple) and len(src.ratification) >= 10
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copyfile(shared_data / "hathaway" / "Hathaway2002longData.csv",
                    flat / "Hathaway2002longData.csv")
    assert DataSources.from_dir(flat).hathaway == flat / "Hathaway2002longData.csv"
    with pytest.raises(InputError, match="no published data file"):
        DataSources.from_dir(tmp_path / "flat" / "..")


def test_cli_check_real(shared_data: Path) -> None:
    result = CliRunner().invoke(app, ["data", "check", str(shared_data), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names = {s["source"] for s in data["sources"]}
    assert {"pts", "ciri", "cirights", "fariss", "polity", "ucdp", "mass_killing"} <= names
    assert data["panel"]["countries"] > 150


def test_cli_check_table(small_sources: DataSources) -> None:
    assert small_sources.pts is not None and small_sources.hathaway is not None
    result = CliRunner().invoke(app, ["data", "check", "--file", f"pts={small_sources.pts}",
                                      "--file", f"hathaway={small_sources.hathaway}"])
    assert result.exit_code == 0, result.output
    assert "Coverage by source" in result.output and "hathaway" in result.output


def test_cli_bad_input_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "Hathaway2002longData.csv"
    bad.write_text('"country","ccode","year","torture"\n"A",700,1985,9\n')
    import subprocess
    import sys

    proc = subprocess.run(
        [str(Path(sys.executable).parent / "spirallab"), "data", "check", "--file",
         f"hathaway={bad}"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "line 2, column torture" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_bad_file_option() -> None:
    with pytest.raises(InputError, match=r"--file: bad --file value \(found 'nosuch=x.csv'\)"):
        CliRunner().invoke(app, ["data", "check", "--file", "nosuch=x.csv"],
                           catch_exceptions=False)


def test_ratification_folder_is_expanded(shared_data: Path) -> None:
    src = DataSources(ratification=shared_data / "ratification")
    assert isinstance(src.ratification, tuple) and len(src.ratification) >= 10
    assert DataSources(ratification=None).ratification == ()
