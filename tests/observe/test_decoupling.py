"""Decoupling: commitment, practice and gap per country-year, the world view, the figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spirallab.observe.casefiles import CaseEvent, CaseFile, EventType
from spirallab.observe.decoupling import (
    decoupling,
    normal_cdf,
    plot_world_decoupling,
    world_decoupling,
)


def _panel() -> pd.DataFrame:
    rows = []
    for cid, theta, rat in (("AAA", -2.0, True), ("BBB", 2.0, True), ("CCC", 0.0, False)):
        for y in (1990, 1991):
            rows.append({"country_id": cid, "name": cid, "year": y, "fariss_theta": theta,
                         "fariss_sd": 0.2, "pts": np.nan,
                         "ratified_iccpr": rat, "ratified_cat": rat,
                         "ratified_iccpr_op1": rat and y == 1991, "ratified_opcat": False})
    return pd.DataFrame(rows)


def test_normal_cdf() -> None:
    out = normal_cdf(np.array([0.0, 1.96, np.nan]))
    assert out[0] == pytest.approx(0.5)
    assert out[1] == pytest.approx(0.975, abs=1e-3)
    assert np.isnan(out[2])


def test_scores_and_gap() -> None:
    dec = decoupling(_panel(), casefiles={}).set_index(["country_id", "year"])
    assert dec.loc[("AAA", 1990), "commitment"] == pytest.approx(0.5)
    assert dec.loc[("AAA", 1991), "commitment"] == pytest.approx(0.75)
    assert dec.loc[("AAA", 1990), "practice"] == pytest.approx(normal_cdf(np.array([-2.0]))[0])
    assert dec.loc[("AAA", 1991), "gap"] > 0.7  # committed, repressive: decoupled
    assert dec.loc[("BBB", 1991), "gap"] < 0  # practice ahead of commitment
    assert dec.loc[("CCC", 1990), "commitment"] == 0
    assert bool(dec.loc[("AAA", 1990), "poor_practice"])


def test_pts_fallback_and_casefile_items() -> None:
    p = _panel()
    p.loc[p["country_id"] == "CCC", "fariss_theta"] = np.nan
    p.loc[p["country_id"] == "CCC", "pts"] = 3.0
    cf = CaseFile(country_id="CCC", name="C", cow=999, repression_start=1980, summary="s",
                  events=[CaseEvent(year=1985, type=EventType.constitution, description="d",
                                    source="s")])
    dec = decoupling(p, casefiles={"CCC": cf}).set_index(["country_id", "year"])
    assert dec.loc[("CCC", 1990), "practice"] == pytest.approx(0.5)
    assert dec.loc[("CCC", 1990), "practice_source"] == "pts"
    assert dec.loc[("CCC", 1990), "commitment_items"] == 6
    assert dec.loc[("CCC", 1990), "commitment"] == pytest.approx(1 / 6)


def test_world_by_year(tmp_path: Path) -> None:
    world = world_decoupling(decoupling(_panel(), casefiles={}))
    assert list(world["year"]) == [1990, 1991]
    assert (world["n"] == 3).all()
    # two CAT parties, one with poor practice
    assert world["share_cat_ratifiers_poor"].tolist() == [0.5, 0.5]
    png = plot_world_decoupling(world, tmp_path / "w.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.realdata
def test_real_world_decoupling(shared_data: Path) -> None:
    from spirallab.data import DataSources, load_panel

    panel = load_panel(DataSources.from_dir(shared_data), cache_dir=None)
    world = world_decoupling(decoupling(panel)).set_index("year")
    # Commitment rose steeply from the 1980s (treaty wave); practice moved far less.
    assert world.loc[2010, "mean_commitment"] - world.loc[1985, "mean_commitment"] > 0.2
    assert world.loc[2010, "mean_gap"] > world.loc[1985, "mean_gap"]
    assert 0.1 < world.loc[2010, "share_cat_ratifiers_poor"] < 0.9
