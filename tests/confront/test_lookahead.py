"""No look-ahead: a forecast from an origin reads nothing after it.

Changing every value any loader reads after the origin in a copy of the data (see
`changed_after`; test_changed_copy.py shows it reaches every source) leaves the forecasts and
the world scenario identical; letting one later year through the cut (a test hook) changes
them, which shows the check can fail.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spirallab.confront import record as record_module
from spirallab.confront.calibrate import Posterior
from spirallab.confront.forecast import forecast
from spirallab.confront.record import load_record

from .conftest import changed_after, tiny_posterior

ORIGIN = 2000


def _run(data: Path, post: Posterior) -> pd.DataFrame:
    rec = load_record(data, until=ORIGIN)
    return forecast(post, rec, ORIGIN, ORIGIN + 4, window=6, draws=6, replicates=4).forecasts


@pytest.fixture(scope="module")
def setup(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("lookahead")
    post = Posterior.load(tiny_posterior(root / "post"))
    # A stricter standard of accountability, so the checks also pass through its shift.
    post = Posterior(post.particles.assign(pts_accountability=[0.1, 0.3, 0.0, 0.2]), post.meta)
    changed = changed_after(shared_data, root / "data", ORIGIN)
    return post, changed


@pytest.mark.realdata
def test_changes_after_the_origin_change_nothing(shared_data: Path, setup) -> None:  # type: ignore[no-untyped-def]
    post, changed = setup
    a = _run(shared_data, post)
    b = _run(changed, post)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.realdata
def test_the_check_fails_when_a_later_year_leaks(
    shared_data: Path, setup, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    post, changed = setup
    monkeypatch.setattr(record_module, "_LEAK_YEARS", 1)
    a = _run(shared_data, post)
    b = _run(changed, post)
    assert not a.equals(b)


@pytest.mark.realdata
def test_world_reads_nothing_after_its_year(shared_data: Path, setup) -> None:  # type: ignore[no-untyped-def]
    from spirallab.confront.world import scenario_toml, world_scenario

    _, changed = setup
    texts = [
        scenario_toml(world_scenario(load_record(d, until=ORIGIN), ORIGIN, ORIGIN + 5))
        for d in (shared_data, changed)
    ]
    assert texts[0] == texts[1]
