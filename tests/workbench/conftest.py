"""Fixtures for the workbench tests: a small synthetic world, runs to browse, a live server.

The synthetic data folder is a PTS file in the publisher's format for three countries, written
fresh for each test session (nothing is committed); hostile strings go into a country's name,
a case file's text and a run's scenario name, so every test sees them.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spirallab.observe.casefiles import CaseFile
from spirallab.workbench.app import Workbench, create_app
from spirallab.workbench.atlas import Atlas, atlas_from_panel

LOCAL = "http://127.0.0.1:8765"  # the test client's base URL: a host the workbench answers to
# Would set window.__pwned if any of it ever ran in the page.
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
SCREENSHOTS = Path(
    os.environ.get("SPIRALLAB_SCREENSHOTS", Path(__file__).resolve().parents[2] / ".ci" /
                   "artifacts" / "screenshots")
)

# (name, COW letters, COW number, ISO3, UN number, base PTS, year PTS falls to 2 or None)
COUNTRIES = (
    ("Kenya", "KEN", 501, "KEN", 404, 4, None),
    ("Chile", "CHL", 155, "CHL", 152, 4, 1996),
    ("Norway", "NOR", 385, "NOR", 578, 1, None),
)


def write_pts(folder: Path, first: int = 1990, last: int = 2010) -> Path:
    """A PTS-2022.csv in the published layout (CRLF, NA with status codes) for three countries."""
    rng = random.Random(13)
    head = ["Country", "Country_OLD", "Year", "COW_Code_A", "COW_Code_N", "WordBank_Code_A",
            "UN_Code_N", "Region", "PTS_A", "PTS_H", "PTS_S", "NA_Status_A", "NA_Status_H",
            "NA_Status_S"]
    rows = [head]
    for name, letters, cow, iso, un, base, falls in COUNTRIES:
        for year in range(first, last + 1):
            level = 2 if falls is not None and year >= falls else base
            a = max(1, min(5, level + rng.choice((-1, 0, 0, 1))))
            s = max(1, min(5, level + rng.choice((0, 0, 1))))
            rows.append([name, name, year, letters, cow, iso, un, "x", a, "NA", s, 0, 88, 0])
    (folder / "pts").mkdir(parents=True, exist_ok=True)
    path = folder / "pts" / "PTS-2022.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


# (ISO2, member name, year of ratification or None) per treaty file, in the UN files' layout.
_EARLY = (("KE", "Kenya", 1972), ("CL", "Chile", 1972), ("NO", "Norway", 1972))
RATIFICATIONS = {
    **dict.fromkeys(("iccpr", "icescr", "cedaw", "crc", "icerd"), _EARLY),
    "cat": (("KE", "Kenya", 1997), ("CL", "Chile", 1988), ("NO", "Norway", 1986)),
}


def write_ratifications(folder: Path) -> None:
    """hr_status_<treaty>.csv files for the three countries (the UN files' columns)."""
    (folder / "ratification").mkdir(parents=True, exist_ok=True)
    head = ["iso2", "member", "state party", "year ratification or accession", "signatory",
            "no action", "status", "note"]
    for treaty, rows in RATIFICATIONS.items():
        with (folder / "ratification" / f"hr_status_{treaty}.csv").open(
            "w", newline="", encoding="utf-8"
        ) as f:
            out = csv.writer(f)
            out.writerow(head)
            for iso2, member, year in rows:
                out.writerow([iso2, member, 1, year, 0, 0, "state party", ""])


def hostile_casefile() -> CaseFile:
    return CaseFile.model_validate(
        {
            "country_id": "KEN",
            "name": "Kenya",
            "cow": 501,
            "repression_start": 1990,
            "summary": "A synthetic case file. " + XSS,
            "events": [
                {"year": 1995, "type": "denial_statement",
                 "description": "The government rejects a report. " + XSS,
                 "source": "Synthetic source " + XSS},
                {"year": 2002, "type": "transition", "description": "A new government.",
                 "source": "Synthetic source"},
            ],
        }
    )


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workbench-data")
    write_pts(folder)
    write_ratifications(folder)
    return folder


@pytest.fixture(scope="session")
def atlas(synthetic_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    from spirallab.data import DataSources, load_panel

    cache = tmp_path_factory.mktemp("workbench-cache")
    old = os.environ.get("SPIRALLAB_CACHE")
    os.environ["SPIRALLAB_CACHE"] = str(cache)
    try:
        panel = load_panel(DataSources.from_dir(synthetic_data))
    finally:
        if old is None:
            os.environ.pop("SPIRALLAB_CACHE", None)
        else:
            os.environ["SPIRALLAB_CACHE"] = old
    panel = panel.copy()
    panel.loc[panel["country_id"] == "NOR", "name"] = "Norway " + XSS
    return atlas_from_panel(panel, {"KEN": hostile_casefile()}, data_dir=str(synthetic_data))


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real runs of the stylised scenario and one hand-edited summary with hostile text."""
    from spirallab import Scenario, simulate

    root = tmp_path_factory.mktemp("workbench-runs")
    scenario = Scenario.load("stylised")
    for seed in (1, 2):
        result = simulate(scenario, replicates=20, seed=seed, end=1990)
        result.save(root / f"stylised-{seed}")
    hostile = root / "hand-edited"
    shutil.copytree(root / "stylised-1", hostile)
    summary = json.loads((hostile / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"] = XSS
    summary["description"] = XSS
    (hostile / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (hostile / "report.html").write_text(
        "<html><body><h1>report</h1>" + XSS + "</body></html>", encoding="utf-8"
    )
    # A sweep store's manifest in the store's format, with a sensitivity report beside it.
    from spirallab.experiments.store import FORMAT

    sweep = root / "sweep-mini"
    (sweep / "summaries").mkdir(parents=True)
    (sweep / "sensitivity").mkdir()
    manifest = {
        "format": FORMAT, "experiment": "mini-sobol", "description": "two factors",
        "scenario": "stylised", "design": {"kind": "sobol"}, "replicates": 10,
        "factors": [{"name": "attention_capacity", "bounds": [2.0, 20.0]},
                    {"name": "mobilisation_rate", "bounds": [0.1, 0.9]}],
        "outputs": ["p_phase5_2010"], "n_points": 64, "chunk_points": 32, "n_chunks": 2,
        "done_chunks": [0, 1], "finished": True,
    }
    (sweep / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (sweep / "sensitivity" / "report.html").write_text(
        "<html><body><h1>Sobol indices</h1></body></html>", encoding="utf-8"
    )
    post = root / "calibration-mini"
    post.mkdir()
    (post / "calibration.json").write_text("{}", encoding="utf-8")
    (post / "calibration.html").write_text("<html><body><h1>Posterior</h1></body></html>",
                                           encoding="utf-8")
    return root


@pytest.fixture()
def bench(atlas: Atlas, runs_dir: Path, tmp_path: Path) -> Workbench:
    atlas.forecast, atlas.posterior = None, None
    return Workbench(atlas=atlas, runs_dir=runs_dir, scenarios_dir=tmp_path / "scenarios")


@pytest.fixture()
def client(bench: Workbench) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(bench), raise_server_exceptions=False, base_url=LOCAL) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(atlas: Atlas, runs_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[str]:
    """The workbench under uvicorn on 127.0.0.1 and a random free port, for the browser."""
    import uvicorn

    seeds = tmp_path_factory.mktemp("seeds")
    (seeds / "000_synthetic.txt").write_text(
        "A synthetic seed\n\nRepression/violation row text\nDenial/backlash row text\n"
        "Tactical concessions row text\nChange of policy row text\n"
        "Respect for human rights row text\n",
        encoding="utf-8",
    )
    atlas.forecast, atlas.posterior = None, None
    bench = Workbench(atlas=atlas, runs_dir=runs_dir, seeds_dir=seeds,
                      scenarios_dir=tmp_path_factory.mktemp("scenarios"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(bench), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the workbench server did not start in 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
