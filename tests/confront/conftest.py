"""Fixtures for the Confront tests: a tiny posterior, and a data copy changed after a year."""

from __future__ import annotations

import csv
import io
import shutil
import stat
from collections.abc import Callable
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


Change = Callable[[str], str]
Edit = Callable[[list[str], list[list[str]]], None]


def _cycle(low: int, high: int) -> Change:
    """Move every score in ``low..high`` to another one in the range; other codes stay."""

    def change(text: str) -> str:
        try:
            x = int(float(text))
        except ValueError:
            return text
        if not low <= x <= high:
            return text
        return str(low + (x - low + 1) % (high - low + 1))

    return change


def _negate(text: str) -> str:
    try:
        x = float(text)
    except ValueError:
        return text
    return text if x in (-66.0, -77.0, -88.0) else repr(-x if x != 0 else 5.0)


def _scale(factor: float, shift: float) -> Change:
    def change(text: str) -> str:
        try:
            return repr(float(text) * factor + shift)
        except ValueError:
            return text

    return change


def _ngo(text: str) -> str:
    try:
        x = int(text)
    except ValueError:
        return text
    return str(x + 1 if x < 9 else x - 1)


# file pattern -> (year column, {column: change}); every column a loader reads as a value.
_CHANGES: dict[str, tuple[str, dict[str, Change]]] = {
    "pts/PTS-*.csv": ("Year", {c: _cycle(1, 5) for c in ("PTS_A", "PTS_H", "PTS_S")}),
    "ciri/CIRI*.csv": ("YEAR", {c: _cycle(0, 2) for c in ("DISAP", "KILL", "POLPRIS", "TORT")}),
    "cirights/cirights*.csv": ("year", {
        **{c: _cycle(0, 2) for c in ("polpris", "disap", "tort", "kill", "assn")},
        "physint_sum": _cycle(0, 8), "NGO_investigate": _ngo}),
    "fariss/LHRS*.csv": ("YEAR", {"theta_mean": _negate, "theta_sd": _scale(2.0, 0.1)}),
    "hathaway/Hathaway*.csv": ("year", {"torture": _cycle(1, 5)}),
    "polity/p5v*.csv": ("year", {"polity2": _negate}),
    "ucdp/ucdp-onesided*.csv": ("year", {"best_fatality_estimate": _scale(10.0, 100.0)}),
    "mass_killing/mkl*.csv": ("year", {"mkl.ongoing": _cycle(0, 1), "mkl.start": _cycle(0, 1)}),
}


def _rewrite(path: Path, edit: Edit) -> None:
    """Rewrite a CSV in place through ``edit(header, rows)``, keeping its encoding and line ends."""
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "latin-1", raw.decode("latin-1")
    ending = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    edit(rows[0], rows[1:])
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=ending).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def _after(year: int, year_col: str, changes: dict[str, Change]) -> Edit:
    """An edit applying ``changes`` to the rows whose ``year_col`` is after ``year``."""

    def edit(head: list[str], rows: list[list[str]]) -> None:
        iy = head.index(year_col)
        cols = {head.index(c): f for c, f in changes.items() if c in head}
        for row in rows:
            if len(row) > iy and row[iy].strip() and int(float(row[iy])) > year:
                for i, f in cols.items():
                    row[i] = f(row[i])

    return edit


def changed_after(src: Path, dst: Path, year: int) -> Path:
    """A copy of the data folder in which every value any loader reads is changed after ``year``.

    Scores move to another level of their scale, latent scores and regime scores change sign,
    fatalities grow, episodes flip, and every ratification after ``year`` moves (non-parties
    join just after it), so a forecast that reads any of it would change.
    """
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(p.stat().st_mode | stat.S_IWUSR)

    for pattern, (year_col, changes) in _CHANGES.items():
        for path in dst.glob(pattern):
            _rewrite(path, _after(year, year_col, changes))

    def ratify(head: list[str], rows: list[list[str]]) -> None:
        party = head.index("state party")
        when = head.index("year ratification or accession")
        status = head.index("status")
        for row in rows:
            if row[party] == "1" and row[when] and int(row[when]) > year:
                row[when] = str(year + 1 if int(row[when]) != year + 1 else year + 2)
            elif row[party] == "0":
                row[party], row[when], row[status] = "1", str(year + 2), "state party"

    for path in dst.glob("ratification/hr_status_*.csv"):
        _rewrite(path, ratify)
    return dst


@pytest.fixture(scope="session")
def panel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("panel-cache")


@pytest.fixture(autouse=True)
def _own_cache(panel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIRALLAB_CACHE", str(panel_cache))
