"""Engine guarantees: seeded reproducibility, chunk and worker invariance, schedule, levers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spirallab import Scenario, simulate
from spirallab.model.engine import BLOCK
from spirallab.scenarios.load import load_scenario


@pytest.fixture(scope="module")
def book() -> Scenario:
    return load_scenario("book-eleven")


def test_same_seed_same_result(book: Scenario) -> None:
    a = simulate(book, replicates=40, seed=3)
    b = simulate(book, replicates=40, seed=3)
    assert np.array_equal(a.records, b.records)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_different_seed_differs(book: Scenario) -> None:
    a = simulate(book, replicates=40, seed=3)
    b = simulate(book, replicates=40, seed=4)
    assert not np.array_equal(a.records, b.records)


@pytest.mark.parametrize("chunk", [BLOCK, 2 * BLOCK, 5 * BLOCK])
def test_chunk_size_does_not_change_results(book: Scenario, chunk: int) -> None:
    ref = simulate(book, replicates=3 * BLOCK + 5, seed=9)
    other = simulate(book, replicates=3 * BLOCK + 5, seed=9, chunk_replicates=chunk)
    assert np.array_equal(ref.records, other.records)
    pd.testing.assert_frame_equal(ref.events, other.events)


def test_workers_do_not_change_results(book: Scenario) -> None:
    ref = simulate(book, replicates=3 * BLOCK, seed=2)
    par = simulate(book, replicates=3 * BLOCK, seed=2, workers=2)
    assert np.array_equal(ref.records, par.records)
    pd.testing.assert_frame_equal(ref.events, par.events)


def test_replicate_results_do_not_depend_on_how_many_are_run(book: Scenario) -> None:
    small = simulate(book, replicates=BLOCK + 3, seed=5)
    large = simulate(book, replicates=4 * BLOCK, seed=5)
    assert np.array_equal(small.records, large.records[..., : BLOCK + 3])


def test_reference_outcomes_are_never_read_by_the_model(book: Scenario) -> None:
    d = book.model_dump(mode="json")
    for c in d["countries"]:
        c["reference_outcomes"] = []
    blind = Scenario.model_validate(d)
    assert np.array_equal(
        simulate(book, replicates=32, seed=1).records,
        simulate(blind, replicates=32, seed=1).records,
    )


def test_countries_start_at_their_own_year(book: Scenario) -> None:
    r = simulate(book, replicates=16, seed=1)
    ph = r.phases
    for c, start in enumerate(r.setup.starts):
        yi = int(start - r.years[0])
        assert (ph[:yi, c] == 0).all()
        assert (ph[yi, c] == 1).all()
    frame = r.to_frame()
    firsts = frame.groupby("country", observed=True)["year"].min()
    assert firsts["ZAF"] == 1948 and firsts["TUN"] == 1987


def test_tidy_frame_shape_and_types(book: Scenario) -> None:
    r = simulate(book, replicates=8, seed=1)
    df = r.to_frame()
    n_rows = int(r.active().sum()) * 8
    assert len(df) == n_rows
    assert {"replicate", "country", "year", "phase", "repression", "attention"} <= set(df.columns)
    assert df["phase"].between(1, 5).all()
    assert df["repression"].between(0, 1).all()


def test_events_match_phase_changes(book: Scenario) -> None:
    r = simulate(book, replicates=16, seed=1)
    ph = r.phases.astype(int)
    changes = int(((np.diff(ph, axis=0) != 0) & (ph[:-1] > 0)).sum())
    transitions = r.events[r.events["event"] == "transition"]
    assert len(transitions) == changes
    backs = r.events[r.events["event"] == "backslide"]
    assert (backs["to_phase"] < backs["from_phase"]).all()


def test_phase_is_not_scheduled_by_date() -> None:
    """Moving a country's start moves its whole trajectory: phases come from the state."""
    sc = load_scenario("stylised")
    d = sc.model_dump(mode="json")
    d["countries"][0]["start"] = 1980
    d["mechanisms"]["world_time"] = False  # world time is the only thing that knows the year
    shifted = Scenario.model_validate(d)
    d2 = sc.model_dump(mode="json")
    d2["mechanisms"]["world_time"] = False
    base = Scenario.model_validate(d2)
    a = simulate(base, replicates=32, seed=1, start=1970)
    b = simulate(shifted, replicates=32, seed=1, start=1980)
    n = len(b.years)
    assert np.array_equal(a.phases[:n], b.phases)


def test_half_year_steps_record_yearly() -> None:
    d = load_scenario("stylised").model_dump(mode="json")
    d["step"] = 0.5
    r = simulate(Scenario.model_validate(d), replicates=64, seed=1)
    assert list(r.years) == list(range(1970, 2031))
    yearly = simulate(load_scenario("stylised"), replicates=64, seed=1)
    # Same model, finer steps: the median year of prescriptive status stays close.
    m_half = np.nanmedian(r.first_year_reached()[3])
    m_year = np.nanmedian(yearly.first_year_reached()[3])
    assert abs(m_half - m_year) <= 4


def test_lever_targets_only_named_countries(book: Scenario) -> None:
    d = book.model_dump(mode="json")
    d["levers"] = [
        {
            "kind": "withdraw_pressure",
            "targets": ["CHL"],
            "start": 1948,
            "end": 2030,
            "strength": 1.0,
        }
    ]
    r = simulate(Scenario.model_validate(d), replicates=32, seed=1)
    above = r.array("pressure_above")
    chl, zaf = r.country_ids.index("CHL"), r.country_ids.index("ZAF")
    assert float(above[:, chl].max()) == 0.0
    assert float(above[:, zaf].max()) > 0.1


def test_imposed_crackdowns_are_events() -> None:
    d = load_scenario("stylised").model_dump(mode="json")
    d["levers"] = [{"kind": "imposed_crackdown", "start": 1975, "end": 1976, "strength": 1.0}]
    r = simulate(Scenario.model_validate(d), replicates=32, seed=1)
    imposed = r.events[
        (r.events["event"] == "crackdown")
        & r.events["detail"].astype(str).str.startswith("imposed")
    ]
    assert set(imposed["year"]) == {1975, 1976}
    assert imposed["replicate"].nunique() == 32


def test_regime_change_shock_spares_habituated_states() -> None:
    sc = load_scenario("stylised")
    d = sc.model_dump(mode="json")
    d["countries"][0].update({"initial_phase": 5, "start": 1990})
    d["levers"] = [{"kind": "regime_change", "start": 1995, "end": 1995, "strength": 1.0}]
    r = simulate(Scenario.model_validate(d), replicates=32, seed=1)
    assert (r.phases[r.years >= 1996] >= 4).all()


def test_synthetic_world_is_reproducible() -> None:
    w = load_scenario("world-150")
    a = simulate(w, replicates=4, seed=1)
    b = simulate(w, replicates=4, seed=1)
    assert len(a.country_ids) == 150
    assert np.array_equal(a.records, b.records)


def test_points_side_by_side_match_runs_of_their_own(book: Scenario) -> None:
    """run_points (used by sweeps) gives each parameter point exactly its own run's records."""
    from spirallab.model.engine import run_points
    from spirallab.model.setup import build_setup

    values = {
        "lobbying_efficacy": np.array([0.3, 0.9, 0.6]),
        "consolidation_years": np.array([2.0, 6.0, 20.0]),
    }
    seeds = [5, 5, 11]
    records = run_points(build_setup(book), seeds, 37, values)
    for i, seed in enumerate(seeds):
        params = book.parameters.model_copy(update={k: float(v[i]) for k, v in values.items()})
        alone = simulate(book.model_copy(update={"parameters": params}), replicates=37, seed=seed)
        assert np.array_equal(alone.records, records[..., i * 37 : (i + 1) * 37])
    # The points really differ: the parameters reached the mechanisms.
    assert not np.array_equal(records[..., :37], records[..., 37:74])
    with pytest.raises(KeyError, match="unknown parameter"):
        run_points(build_setup(book), [1], 4, {"nope": np.array([1.0])})


def test_skipping_the_event_log_changes_no_trajectory(book: Scenario) -> None:
    full = simulate(book, replicates=40, seed=8)
    lean = simulate(book, replicates=40, seed=8, events=False)
    assert np.array_equal(full.records, lean.records)
    assert len(full.events) > 0 and len(lean.events) == 0
    assert list(lean.events.columns) == list(full.events.columns)


def test_recording_fewer_observables_changes_none(book: Scenario) -> None:
    from spirallab.errors import InputError

    full = simulate(book, replicates=33, seed=2)
    lean = simulate(book, replicates=33, seed=2, observables=["repression"], events=False)
    assert lean.observables == ("phase", "repression")
    assert lean.records.shape[1] == 2
    for name in lean.observables:
        assert np.array_equal(full.array(name), lean.array(name))
    assert lean.summary()["countries"] == full.summary()["countries"]
    with pytest.raises(KeyError, match="was not recorded"):
        lean.array("mobilisation")
    with pytest.raises(InputError, match="unknown observable"):
        simulate(book, replicates=2, observables=["happiness"])
