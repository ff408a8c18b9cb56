"""A sweep's summary statistics stop at a country's ``end``, like a run's summary (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from spirallab import simulate
from spirallab.experiments.outputs import summarise
from spirallab.experiments.spec import Outputs
from spirallab.scenarios.schema import Scenario

# Two repressive countries; the second stops being shown after 1985, the run goes on to 2010.
TEXT = {
    "name": "ends",
    "end": 2010,
    "replicates": 24,
    "seed": 3,
    "countries": [
        {"id": "AAA", "name": "Alpha", "start": 1970},
        {"id": "BBB", "name": "Beta", "start": 1970, "end": 1985},
    ],
    "levers": [
        {
            "kind": "naming_and_shaming",
            "targets": ["AAA", "BBB"],
            "start": 1970,
            "end": 2010,
            "strength": 1.0,
        }
    ],
}


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return simulate(Scenario.model_validate(TEXT))


def test_statistics_stop_at_the_end(result) -> None:  # type: ignore[no-untyped-def]
    out = summarise(result, Outputs(), by_years=[1985, 2010]).set_index("country")
    years = result.years
    b = result.country_ids.index("BBB")
    ph = result.phases[:, b, :].astype(np.float64)
    at_end = int(np.flatnonzero(years == 1985)[0])
    # The engine goes on after 1985; the statistics must not see it.
    assert out.loc["BBB", "final_phase"] == pytest.approx(ph[at_end].mean())
    rep = result.array("repression")[at_end, b, :].astype(np.float64)
    assert out.loc["BBB", "final_repression"] == pytest.approx(rep.mean())
    for k in range(2, 6):
        assert out.loc["BBB", f"p_phase{k}_by_2010"] == out.loc["BBB", f"p_phase{k}_by_1985"]
    for k in range(1, 6):
        expected = np.median((ph[: at_end + 1] == k).sum(axis=0))
        assert out.loc["BBB", f"years_in_phase{k}"] == expected
    # The country without an end keeps its last simulated year.
    a = result.country_ids.index("AAA")
    assert out.loc["AAA", "final_phase"] == pytest.approx(
        result.phases[-1, a, :].astype(np.float64).mean()
    )


def test_the_years_after_the_end_would_change_the_figures(result) -> None:  # type: ignore[no-untyped-def]
    # Control: in this scenario the hidden years do differ, so the test above can fail.
    b = result.country_ids.index("BBB")
    at_end = int(np.flatnonzero(result.years == 1985)[0])
    ph = result.phases[:, b, :]
    assert (ph[-1] != ph[at_end]).any()
