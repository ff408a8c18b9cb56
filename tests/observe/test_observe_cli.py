"""`spirallab code` and `spirallab decoupling`: smoke tests in tmp_path, and country lookup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.cli.observe_cmds import resolve_countries
from spirallab.errors import InputError

runner = CliRunner()


def _panel() -> pd.DataFrame:
    return pd.DataFrame({
        "country_id": ["CHL", "CSK", "GTM"], "name": ["Chile", "Czechoslovakia", "Guatemala"],
        "iso3": ["CHL", None, "GTM"], "cow": pd.array([155, 315, 90], dtype="Int64"),
        "year": [1990, 1990, 1990],
    })


def test_resolve_countries_by_name_code_and_cow() -> None:
    p = _panel()
    assert resolve_countries(p, ["chile", "CSK", "90", "Chile"]) == ["CHL", "CSK", "GTM"]


def test_unknown_country_lists_close_matches() -> None:
    with pytest.raises(InputError) as err:
        resolve_countries(_panel(), ["Chilee"])
    msg = str(err.value)
    assert "--country" in msg and "Chilee" in msg and "Chile" in msg


def test_missing_data_folder_is_input_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["code", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert isinstance(res.exception, InputError)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("panel-cache")


@pytest.mark.realdata
def test_code_one_country_csv(shared_data: Path, tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["code", "--data", str(shared_data), "--country", "Chile",
                              "--out", str(out), "--format", "csv", "--cache", str(cache)])
    assert res.exit_code == 0, res.output
    coded = pd.read_csv(out / "phases.csv")
    assert set(coded["country_id"]) == {"CHL"}
    assert {"phase", "phase_set", "confidence", "rule", "evidence"} <= set(coded.columns)
    assert (out / "CHL.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "CHL.html").read_text()
    assert "data:image/png;base64," in page and "p2_denial" in page
    assert "CHL.html" in (out / "index.html").read_text()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))


@pytest.mark.realdata
def test_code_unknown_country_exit_2(shared_data: Path, tmp_path: Path, cache: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spirallab.cli", "code", "--data", str(shared_data),
         "--country", "Chilli", "--out", str(tmp_path), "--cache", str(cache)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Chile" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.realdata
def test_decoupling_command(shared_data: Path, tmp_path: Path, cache: Path) -> None:
    res = runner.invoke(app, ["decoupling", "--data", str(shared_data), "--out", str(tmp_path),
                              "--cache", str(cache)])
    assert res.exit_code == 0, res.output
    dec = pd.read_parquet(tmp_path / "decoupling.parquet")
    world = pd.read_parquet(tmp_path / "world_decoupling.parquet")
    assert {"commitment", "practice", "gap", "phase_set"} <= set(dec.columns)
    assert world["year"].is_monotonic_increasing
    assert (tmp_path / "world_decoupling.png").stat().st_size > 1000


def test_plot_timeline_synthetic(tmp_path: Path) -> None:
    from spirallab.observe.casefiles import CaseEvent, CaseFile, EventType
    from spirallab.observe.coder import code_phases
    from spirallab.observe.timeline import plot_timeline, write_index

    years = list(range(1975, 1995))
    panel = pd.DataFrame({
        "country_id": "AAA", "name": "Testland", "year": years,
        "pts": [4.0] * 10 + [2.0] * 10, "pts_a": pd.array([4] * 10 + [2] * 10, dtype="Int64"),
        "fariss_theta": [-1.5] * 10 + [0.5] * 10, "fariss_sd": 0.2,
        "ciri_physint": pd.array([None] * 6 + [2] * 4 + [6] * 10, dtype="Int64"),
        "ratified_iccpr": [y >= 1980 for y in years], "ratified_cat": [y >= 1988 for y in years],
        "ratified_iccpr_op1": False, "ratified_opcat": False,
    })
    cf = CaseFile(country_id="AAA", name="Testland", cow=999, repression_start=1975,
                  summary="s", events=[
                      CaseEvent(year=1976, type=EventType.denial_statement, description="d",
                                source="s"),
                      CaseEvent(year=1980, end_year=1984, type=EventType.state_of_emergency,
                                description="e", source="s")])
    coded = code_phases(panel, casefiles={"AAA": cf})
    png = plot_timeline(coded, panel, cf, None, path_png=tmp_path / "AAA.png",
                        path_html=tmp_path / "AAA.html")
    assert png.read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "AAA.html").read_text()
    assert "data:image/png;base64," in page and "denial_statement" in page
    assert "http" not in page.split("base64,")[0]  # nothing fetched from the network
    write_index([("AAA", "Testland", "AAA.html")], tmp_path / "index.html")
    assert "AAA.html" in (tmp_path / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AAA.html", "AAA.png", "index.html"]
