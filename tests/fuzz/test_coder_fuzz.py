"""Fuzzing the phase coder 2.0.0: any panel gives valid sets and probabilities, and missing
components of physical integrity never yield rule-consistent behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spirallab.observe.coder import code_phases

pytestmark = pytest.mark.fuzz

maybe = st.one_of(st.none(), st.floats(0, 1))


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    start = draw(st.integers(1950, 2000))
    years = list(range(start, start + n))

    def series(lo: float, hi: float, integer: bool = False) -> list[float]:
        out = []
        for _ in years:
            if draw(st.booleans()):
                out.append(np.nan)
            elif integer:
                out.append(float(draw(st.integers(int(lo), int(hi)))))
            else:
                out.append(draw(st.floats(lo, hi, allow_nan=False)))
        return out

    df = pd.DataFrame({"country_id": "AAA", "name": "A", "year": years})
    df["pts"] = pd.array(series(1, 5), dtype="Float64")
    df["fariss_theta"] = pd.array(series(-3, 3), dtype="Float64")
    df["fariss_sd"] = draw(st.floats(0.05, 0.6))
    df["cirights_physint"] = pd.array(series(0, 8, True), dtype="Float64")
    for comp in ("kill", "disap", "polpris", "tort"):
        df[f"cirights_{comp}"] = pd.array(series(0, 2, True), dtype="Float64")
    df["polity2"] = pd.array(series(-10, 10), dtype="Float64")
    df["osv_gov_deaths"] = pd.array(series(0, 3000), dtype="Float64")
    for t in ("iccpr", "cat", "iccpr_op1", "opcat"):
        y = draw(st.one_of(st.none(), st.integers(1940, 2015)))
        df[f"ratified_{t}"] = [y is not None and yr >= y for yr in years]
    return df


@given(panels())
def test_any_panel_codes_to_valid_sets_and_probabilities(panel: pd.DataFrame) -> None:
    coded = code_phases(panel, casefiles={})
    assert len(coded) == len(panel)
    probs = coded[[f"p{k}" for k in range(6)]].to_numpy(dtype=float)
    data = (coded["rule"] != "no_data").to_numpy()
    assert np.allclose(probs[data].sum(axis=1), 1.0, atol=1e-3)
    assert (probs[data] >= 0).all() and np.isnan(probs[~data]).all()
    assert coded["confidence"].between(0, 1).all()
    valid = {"", "0", "1", "2", "3", "4", "5", "1|2", "2|3", "3|4", "4|5", "1|2|3"}
    assert set(coded["phase_set"]) <= valid
    decided = coded["phase"].notna()
    assert (coded.loc[decided, "phase"] == coded.loc[decided, "phase_lo"]).all()


@given(panels())
def test_missing_components_never_give_phase_5(panel: pd.DataFrame) -> None:
    for comp in ("kill", "disap", "polpris", "tort"):
        panel[f"cirights_{comp}"] = pd.array([np.nan] * len(panel), dtype="Float64")
    coded = code_phases(panel, casefiles={})
    assert "5" not in set(coded["phase_set"])
