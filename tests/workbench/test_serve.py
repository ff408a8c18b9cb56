"""`spirallab serve` end to end, bad input refused in one line, the posterior path, real data."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from spirallab.confront.calibrate import CALIBRATION_VERSION, PRIORS, Posterior, model_fingerprint
from spirallab.errors import InputError
from spirallab.workbench.app import create_app
from spirallab.workbench.atlas import Atlas
from spirallab.workbench.server import free_port, prepare

from .conftest import LOCAL

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spirallab", "serve", *args], capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
    )


def small_posterior(folder: Path, train_last: int) -> Path:
    """Four particles near the model's defaults, saved the way `spirallab calibrate` does."""
    particles = pd.DataFrame({name: [lo + (hi - lo) * f for f in (0.2, 0.3, 0.4, 0.5)]
                              for name, lo, hi in PRIORS})
    particles["weight"] = 0.25
    meta = {"model_fingerprint": model_fingerprint(), "calibration_version": CALIBRATION_VERSION,
            "scenario": "world", "rival": "full", "mechanisms": {}, "train": [1990, train_last],
            "priors": [list(p) for p in PRIORS], "pts_bias": {}, "world_seed": 0}
    Posterior(particles, meta).save(folder)
    return folder


def test_bad_input_is_refused_in_one_line(tmp_path: Path, synthetic_data: Path) -> None:
    env = {"SPIRALLAB_CACHE": str(tmp_path / "cache")}
    cases = [
        ("--data", str(tmp_path / "missing"), "--no-browser"),
        ("--data", str(synthetic_data), "--port", "70000", "--no-browser"),
        ("--data", str(synthetic_data), "--posterior", str(tmp_path), "--no-browser"),
    ]
    for args in cases:
        res = _cli(*args, env=env)
        assert res.returncode == 2, (args, res.stderr)
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
        assert "Traceback" not in res.stderr


def test_serve_listens_on_localhost_and_answers(tmp_path: Path, synthetic_data: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "SPIRALLAB_CACHE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "spirallab", "serve", "--data", str(synthetic_data), "--port",
         str(port), "--no-browser", "--runs", str(tmp_path / "runs")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "") from None
                time.sleep(0.3)
        assert r.json()["ok"] is True
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert home.status_code == 200 and "Kenya" in home.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_calibration_folder_gives_a_forecast_in_the_background(
    atlas: Atlas, synthetic_data: Path, tmp_path: Path
) -> None:
    post = small_posterior(tmp_path / "post", atlas.last_year)
    own = dataclasses.replace(atlas, forecast=None, posterior=None, _tables={})
    bench = prepare(synthetic_data, posterior=post, runs=tmp_path / "runs", atlas=own)
    assert bench.forecast_job is not None
    with TestClient(create_app(bench), base_url=LOCAL) as c:
        deadline = time.monotonic() + 120
        while bench.forecast_job.status not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert bench.forecast_job.status == "done", bench.forecast_job.error
        table = own.world_table()
        assert table["p_improve"].notna().all()
        assert ((table["p_improve"] + table["p_worsen"]) <= 1 + 1e-9).all()
        whatif = c.get("/country/KEN/whatif").text
        assert "drawn from the calibrated posterior" in whatif
        assert "default parameters" not in c.get("/").text


def test_a_posterior_trained_after_the_data_is_refused(atlas: Atlas, synthetic_data: Path,
                                                       tmp_path: Path) -> None:
    post = small_posterior(tmp_path / "post", atlas.last_year + 5)
    own = dataclasses.replace(atlas, forecast=None, posterior=None, _tables={})
    bench = prepare(synthetic_data, posterior=post, atlas=own)
    assert bench.forecast_job is not None
    while bench.forecast_job.status not in ("done", "failed"):
        time.sleep(0.1)
    assert bench.forecast_job.status == "failed"
    assert "training window ends after" in str(bench.forecast_job.error)
    other = tmp_path / "other"
    small_posterior(other, atlas.last_year)
    meta = (other / "calibration.json").read_text().replace(model_fingerprint(), "0" * 16)
    (other / "calibration.json").write_text(meta)
    with pytest.raises(InputError, match="another model version"):
        prepare(synthetic_data, posterior=other, atlas=own)


@pytest.mark.realdata
def test_real_data_kenya_brief(shared_data: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIRALLAB_CACHE", str(tmp_path))
    bench = prepare(shared_data, runs=tmp_path / "runs")
    with TestClient(create_app(bench), base_url=LOCAL) as c:
        home = c.get("/")
        assert home.status_code == 200 and 'href="/country/KEN"' in home.text
        brief = c.get("/country/KEN/brief")
        assert brief.status_code == 200 and "Kenya: country brief" in brief.text
        assert "Schmitz" in c.get("/country/KEN").text  # the built-in case file's sources
