"""Fixtures for the Confront tests: a tiny posterior, and a data copy changed after a year."""

from __future__ import annotations

import csv
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from spirallab.confront.calibrate import CALIBRATION_VERSION, PRIORS, Posterior, model_fingerprint


def tiny_posterior(folder: Path, train: tuple[int, int] = (1990, 2000)) -> Path:
    """A hand-made posterior of four particles near the defaults, saved like `calibrate` does."""
    particles = pd.DataFrame(
        {
            "concession_rate": [1.0, 1.4, 0.8, 1.2],
            "prescriptive_rate": [0.8, 0.6, 1.0, 0.9],
            "backslide_rate": [0.5, 0.4, 0.6, 0.5],
            "attention_capacity": [8.0, 12.0, 6.0, 20.0],
            "habituation_rate": [0.2, 0.3, 0.2, 0.25],
            "repression_adjust": [0.5, 0.6, 0.4, 0.5],
            "retreat_rate": [0.06, 0.1, 0.05, 0.08],
            "pts_noise": [0.6, 0.5, 0.7, 0.6],
            "pts_country_sd": [0.4, 0.5, 0.3, 0.4],
            "weight": [0.25, 0.25, 0.25, 0.25],
        }
    )
    meta = {
        "model_fingerprint": model_fingerprint(),
        "calibration_version": CALIBRATION_VERSION,
        "scenario": "world",
        "rival": "full",
        "mechanisms": {},
        "train": list(train),
        "priors": [list(p) for p in PRIORS],
        "pts_bias": {"pts_a": 0.08, "pts_h": 0.0, "pts_s": -0.08},
        "world_seed": 0,
    }
    Posterior(particles, meta).save(folder)
    return folder


def changed_after(src: Path, dst: Path, year: int) -> Path:
    """A copy of the data folder with every PTS score and Polity2 value after ``year`` changed."""
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    pts = next((dst / "pts").glob("PTS-*.csv"))
    with pts.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    iy = head.index("Year")
    cols = [head.index(c) for c in ("PTS_A", "PTS_H", "PTS_S")]
    for row in rows[1:]:
        if int(row[iy]) > year:
            for c in cols:
                if row[c] not in ("NA", ""):
                    row[c] = str(6 - int(row[c])) if row[c] != "3" else "1"
    with pts.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    polity = next((dst / "polity").glob("p5v*.csv"))
    frame = pd.read_csv(polity)
    later = frame["year"] > year
    frame.loc[later, "polity2"] = -frame.loc[later, "polity2"]
    frame.to_csv(polity, index=False, quoting=csv.QUOTE_NONNUMERIC)
    return dst


@pytest.fixture(scope="session")
def panel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("panel-cache")


@pytest.fixture(autouse=True)
def _own_cache(panel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIRALLAB_CACHE", str(panel_cache))
