"""Defenders in the kernel: bit-identity when absent, invariances, outputs, rules and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab import Scenario, simulate
from spirallab.errors import InputError
from spirallab.model import engine, protection
from spirallab.model.defender_results import FRAME_COLUMNS
from spirallab.model.defenders import DefenderSwitches
from spirallab.model.engine import OBSERVABLES
from spirallab.model.params import PARAMETERS
from spirallab.model.reference.engine import simulate_arrays
from spirallab.model.rules import LANES, P
from spirallab.model.setup import build_setup
from spirallab.scenarios.defenders import PROTECTION_KINDS
from spirallab.scenarios.load import load_scenario, parse_scenario
from spirallab.scenarios.schema import LeverKind

from .conftest import defender_scenario

GROUPS = [
    {"group": "capital", "count": 6, "visibility": 0.6, "network": 0.8},
    {
        "group": "rural",
        "count": 5,
        "location": "rural",
        "network": 0.2,
        "restricted_movement": True,
    },
]
LEVERS = [
    {"kind": "un_communication", "strength": 0.8},
    {"kind": "accompaniment", "groups": ["rural"], "strength": 0.5},
    {"kind": "temporary_relocation", "strength": 0.5},
]


def _with(sc: Scenario, **changes: Any) -> Scenario:
    d = sc.model_dump(mode="json")
    for key, value in changes.items():
        if key == "country":
            d["countries"] = [dict(c, **value) for c in d["countries"]]
        else:
            d[key] = value
    return Scenario.model_validate(d)


def _reference(sc: Scenario, replicates: int, seed: int) -> tuple[Any, pd.DataFrame]:
    setup = build_setup(sc)
    draws = engine._draws(setup, seed, 0, replicates)
    return simulate_arrays(setup, draws, setup.params, OBSERVABLES)


def _same_spiral(result: Any, reference: tuple[Any, pd.DataFrame], events: bool = True) -> None:
    records, frame = reference
    assert np.array_equal(result.records, records)
    if events:
        ours = result.events[list(frame.columns)]
        ours = ours[ours["event"].isin(frame["event"].cat.categories)].reset_index(drop=True)
        for col in ("event", "detail"):
            ours[col] = ours[col].cat.set_categories(frame[col].cat.categories)
        pd.testing.assert_frame_equal(ours, frame.reset_index(drop=True))


# --- bit identity when the defenders are absent ------------------------------------------------
@pytest.mark.parametrize("name", ["stylised", "book-eleven"])
def test_without_defenders_the_kernel_equals_the_reference_engine(name: str) -> None:
    sc = load_scenario(name)
    result = simulate(sc, replicates=40, seed=3)
    assert result.defenders is None
    _same_spiral(result, _reference(sc, 40, 3))
    assert not set(FRAME_COLUMNS) & set(result.to_frame().columns)
    assert "defenders" not in result.summary()
    assert list(result.events.columns) == [
        "replicate", "country", "year", "event", "from_phase", "to_phase", "detail"
    ]  # fmt: skip


def test_switched_off_defenders_change_nothing() -> None:
    sc = defender_scenario(GROUPS, LEVERS, defenders={"enabled": False})
    assert build_setup(sc).defenders is None
    bare = _with(sc, levers=[], country={"defenders": []})
    a, b = simulate(sc, replicates=40, seed=2), simulate(bare, replicates=40, seed=2)
    assert np.array_equal(a.records, b.records)
    pd.testing.assert_frame_equal(a.events, b.events)
    _same_spiral(a, _reference(bare, 40, 2))


def test_zero_defenders_are_no_defenders() -> None:
    sc = defender_scenario([{"group": "none", "count": 0}])
    assert build_setup(sc).defenders is None


def test_defenders_without_consequences_leave_the_spiral_untouched() -> None:
    sc = defender_scenario(GROUPS, LEVERS, defenders={"mechanisms": {"consequences": False}})
    result = simulate(sc, replicates=40, seed=4, events=False)
    assert result.defenders is not None and result.defenders.sum() > 0
    _same_spiral(result, _reference(sc, 40, 4), events=False)


def test_with_consequences_the_spiral_does_change() -> None:
    sc = defender_scenario(GROUPS, LEVERS)
    result = simulate(sc, replicates=40, seed=4, events=False)
    assert not np.array_equal(result.records, _reference(sc, 40, 4)[0])


# --- invariances with defenders ------------------------------------------------------------------
def test_defender_results_do_not_depend_on_chunks_or_workers() -> None:
    sc = defender_scenario(GROUPS, LEVERS, country={"non_state_threat": 0.3})
    one = simulate(sc, replicates=70, seed=9)
    chunked = simulate(sc, replicates=70, seed=9, chunk_replicates=32)
    workers = simulate(sc, replicates=70, seed=9, workers=2, chunk_replicates=32)
    for other in (chunked, workers):
        assert np.array_equal(one.records, other.records)
        assert np.array_equal(one.defenders, other.defenders)
        pd.testing.assert_frame_equal(one.events, other.events)
    # The first replicates are the same whatever the number run.
    fewer = simulate(sc, replicates=33, seed=9)
    assert np.array_equal(fewer.defenders, one.defenders[..., :33])


def test_points_side_by_side_match_runs_of_their_own() -> None:
    sc = defender_scenario(GROUPS, LEVERS)
    setup = build_setup(sc)
    values = {"access_gap": np.array([0.2, 0.9]), "defender_attack_rate": np.array([0.3, 0.8])}
    records = engine.run_points(setup, [5, 6], 20, values)
    for i, seed in enumerate((5, 6)):
        params = {k: float(v[i]) for k, v in values.items()}
        own = simulate(_with(sc, parameters=params), replicates=20, seed=seed, events=False)
        assert np.array_equal(records[..., i * 20 : (i + 1) * 20], own.records)


def test_half_year_steps_run_and_record_yearly() -> None:
    sc = _with(defender_scenario(GROUPS, LEVERS), step=0.5)
    result = simulate(sc, replicates=8, seed=1)
    assert result.defenders.shape[0] == len(result.years)
    assert result.defenders[1:, 0:6].sum() > 0


# --- outputs -------------------------------------------------------------------------------------
def test_results_events_and_summary_carry_defender_outcomes() -> None:
    sc = defender_scenario(GROUPS, LEVERS, country={"non_state_threat": 0.4})
    result = simulate(sc, replicates=30, seed=1)
    frame = result.to_frame()
    for col in FRAME_COLUMNS:
        assert col in frame.columns
    attacks = frame["defender_attacks"].sum()
    assert attacks > 0
    assert (frame["share_protected"].dropna().between(0, 1)).all()
    assert frame["defenders_alive"].max() <= 11
    ev = result.events
    hits = ev[ev["event"] == "defender_attack"]
    assert len(hits) == attacks
    assert hits["detail"].str.contains("non-state").any()
    assert hits["detail"].str.contains("by the state").any()
    assert set(hits["group"].dropna()) <= {"capital", "rural"}
    assert (ev["event"] == "defender_relocation").sum() == frame["defender_relocations"].sum()
    # Killings in the frame match the events.
    kills = hits["detail"].str.startswith("killing").sum()
    assert kills == frame["defender_killings"].sum()
    section = result.summary()["defenders"]
    assert set(section["countries"]["TST"]["attack_rate_by_group"]) == {"capital", "rural"}
    assert [lv["lever"] for lv in section["levers"]] == [
        "un_communication", "accompaniment (rural)", "temporary_relocation"
    ]  # fmt: skip


def test_run_command_writes_the_defenders_section(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "run", "protection", "--replicates", "16", "--out",
         str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Defenders" in report
    assert "defenders" in (out / "summary.json").read_text(encoding="utf-8")


# --- the rules -----------------------------------------------------------------------------------
def _p(**overrides: float) -> Any:
    # The kernel's flat parameter tile: each parameter's row of LANES values (lane 0 used here).
    p = np.repeat(np.array([par.default for par in PARAMETERS], dtype=np.float32), LANES)
    for name, value in overrides.items():
        p[getattr(P, name)] = value
    return p


ON = DefenderSwitches(*([True] * len(DefenderSwitches._fields)))


def test_access_falls_for_rural_and_restricted_defenders() -> None:
    p = _p(access_gap=0.7, movement_restriction=0.5)
    assert protection.access(np.float32(0), np.float32(0), p, 0, ON) == 1.0
    assert protection.access(np.float32(1), np.float32(0), p, 0, ON) == pytest.approx(0.3)
    assert protection.access(np.float32(1), np.float32(1), p, 0, ON) == pytest.approx(0.15)
    off = ON._replace(access=False)
    assert protection.access(np.float32(1), np.float32(1), p, 0, off) == 1.0


def test_verification_needs_trusted_contacts() -> None:
    p = _p(verification_floor=0.3)
    iso = protection.verification(np.float32(0), np.float32(0), p, 0, ON)
    net = protection.verification(np.float32(0.8), np.float32(0), p, 0, ON)
    alerted = protection.verification(np.float32(0.5), np.float32(1), p, 0, ON)
    assert iso == pytest.approx(0.3) and net == pytest.approx(0.86) and alerted == 1.0
    off = ON._replace(verification=False)
    assert protection.verification(np.float32(0), np.float32(0), p, 0, off) == 1.0


def test_deterrence_needs_a_cost_sensitive_perpetrator() -> None:
    p = _p()
    f32 = np.float32
    state = protection.deterrence(f32(0.9), f32(0.2), f32(1.0), False, p, 0)
    armed = protection.deterrence(f32(0.15), f32(0.2), f32(1.0), False, p, 0)
    assert state > 3 * armed > 0
    assert protection.deterrence(f32(0.0), f32(1.0), f32(1.0), True, p, 0) == 0.0


def test_every_protection_kind_is_a_lever_kind() -> None:
    assert set(PROTECTION_KINDS) <= {k.value for k in LeverKind}
    assert set(protection.LEVER_EFFECTS) == set(PROTECTION_KINDS)


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        (
            {"defenders": [{"group": "a", "count": -3}]},
            "countries[0].defenders[0].count",
            "from 0 to 4096",
        ),
        (
            {"defenders": [{"group": "a", "count": 3, "visibility": 1.5}]},
            "countries[0].defenders[0].visibility",
            "from 0.0 to 1.0",
        ),
        ({"non_state_threat": -0.1}, "countries[0].non_state_threat", "0"),
        ({"defenders": [{"group": "a", "count": 3, "spin": 1}]}, "defenders[0].spin", "one of"),
    ],
)
def test_bad_defender_input_is_one_clear_line(
    change: dict[str, Any], where: str, expected: str
) -> None:
    data: dict[str, Any] = {
        "name": "bad",
        "countries": [{"id": "AAA", "name": "A", "start": 1980, **change}],
    }
    with pytest.raises(InputError) as err:
        parse_scenario(data, source="bad.toml")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("bad.toml: ")
    assert where in msg and expected in msg


@pytest.mark.parametrize(
    ("lever", "message"),
    [
        ({"kind": "accompaniment", "targets": ["ZZZ"]}, "unknown country 'ZZZ'"),
        ({"kind": "accompaniment", "targets": ["BBB"]}, "'BBB', which has no defenders"),
        ({"kind": "accompaniment", "targets": ["AAA"], "groups": ["nobody"]}, "unknown defender"),
        ({"kind": "aid_conditionality", "groups": ["a"]}, "only protection levers"),
    ],
)
def test_bad_protection_levers_are_one_clear_line(lever: dict[str, Any], message: str) -> None:
    data: dict[str, Any] = {
        "name": "bad",
        "countries": [
            {"id": "AAA", "name": "A", "start": 1980, "defenders": [{"group": "a", "count": 2}]},
            {"id": "BBB", "name": "B", "start": 1980},
        ],
        "levers": [{"start": 1990, "end": 2000, **lever}],
    }
    with pytest.raises(InputError) as err:
        parse_scenario(data, source="bad.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cli_reports_bad_defenders_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\n[[countries]]\nid = "AAA"\nname = "A"\nstart = 1980\n'
        '[[countries.defenders]]\ngroup = "a"\ncount = -1\n',
        encoding="utf-8",
    )
    res = subprocess.run(
        [sys.executable, "-m", "spirallab", "run", str(bad)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 2
    assert "countries[0].defenders[0].count" in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
