"""The Mesa reference model (benchmarks/mesa_reference.py) agrees in distribution with the engine.

The two draw different random numbers, so they are compared as samples: per country, the share
of replicates that reach phases 3, 4 and 5 by the end year (Fisher's exact test) and the
distribution of the first year of reaching each (two-sample Kolmogorov-Smirnov test, "never"
coded as the year after the end). Negative controls show that the same comparisons catch a Mesa
model with a mechanism switched off or a parameter halved.

Tolerance. Each test function compares two models at a family-wise error rate ALPHA = 1%,
Bonferroni-corrected over its comparisons (66 for the eleven countries: 11 x 3 phases x 2), so a
faithful port fails with probability at most 1%; less in fact, since the comparisons are
positively correlated and the KS test is conservative for discrete (yearly) data. Seeds are
fixed, so a given checkout passes or fails deterministically. Power: with 250 Mesa replicates
against 3000 of the engine, the per-comparison level 0.01/66 detects, with even odds, a
difference of about 0.13 in a share near one half and of about 0.15 in the largest gap between
the two cumulative distributions of a first year; the negative controls are detected with a
third of those Mesa replicates. Runtime is dominated by the Mesa runs (about 30 ms each for the
eleven countries).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest

pytest.importorskip("mesa")
stats = pytest.importorskip("scipy.stats")

from spirallab import Scenario, simulate  # noqa: E402
from spirallab.model.setup import build_setup  # noqa: E402
from spirallab.scenarios.load import load_scenario  # noqa: E402

MODULE_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "mesa_reference.py"

ALPHA = 0.01  # family-wise error rate of one comparison of two models
PHASES = (3, 4, 5)
ENGINE_REPLICATES = 3000
MESA_REPLICATES = 250


def _load_reference() -> ModuleType:
    """Import benchmarks/mesa_reference.py by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("mesa_reference", MODULE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

Phases = npt.NDArray[np.int8]  # (years, countries, replicates)


def first_years(phases: Phases, years: npt.NDArray[np.int64], phase: int) -> npt.NDArray[np.int64]:
    """First recorded year at or above ``phase``, per (country, replicate); end + 1 if never."""
    reached = phases >= phase
    first = years[np.argmax(reached, axis=0)]
    out: npt.NDArray[np.int64] = np.where(reached.any(axis=0), first, years[-1] + 1)
    return out


def comparisons(
    engine: Phases, mesa: Phases, years: npt.NDArray[np.int64], countries: list[str]
) -> dict[str, float]:
    """p-value of every comparison (label -> p): shares by the end year and first-year timing."""
    out: dict[str, float] = {}
    for c, country in enumerate(countries):
        for phase in PHASES:
            e = first_years(engine[:, c], years, phase)
            m = first_years(mesa[:, c], years, phase)
            e_hit, m_hit = int((e <= years[-1]).sum()), int((m <= years[-1]).sum())
            table = [[e_hit, len(e) - e_hit], [m_hit, len(m) - m_hit]]
            out[f"{country} share reaching phase {phase}"] = float(stats.fisher_exact(table)[1])
            ks = stats.ks_2samp(e, m, method="asymp")
            out[f"{country} first year of phase {phase}"] = float(ks.pvalue)
    return out


def rejected(pvalues: dict[str, float]) -> dict[str, float]:
    """Comparisons that reject agreement at the Bonferroni-corrected level."""
    level = ALPHA / len(pvalues)
    return {k: p for k, p in pvalues.items() if p < level}


@pytest.fixture(scope="module")
def book_eleven() -> tuple[Scenario, Phases]:
    """The scenario and the engine's phases for it (years, countries, replicates)."""
    scenario = load_scenario("book-eleven")
    result = simulate(scenario, replicates=ENGINE_REPLICATES, seed=11, workers=1)
    return scenario, result.phases


def test_mesa_reference_agrees_with_engine_on_book_eleven(
    book_eleven: tuple[Scenario, Phases],
) -> None:
    """No comparison of the eleven countries rejects agreement at the corrected level."""
    scenario, engine = book_eleven
    setup = build_setup(scenario)
    mesa = ref.run_mesa(setup, MESA_REPLICATES, seed=5)
    assert mesa.shape[:2] == engine.shape[:2]
    pvalues = comparisons(engine, mesa, setup.years, setup.country_ids)
    assert len(pvalues) == 6 * setup.n_countries
    assert not rejected(pvalues), rejected(pvalues)


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"mechanisms": {"insurgency_threat": False}}, "the countries with an insurgency"),
        ({"parameters": {"concession_rate": 0.6}}, "most countries"),
    ],
    ids=["insurgency_threat off", "concession_rate halved"],
)
def test_comparison_detects_a_changed_mesa_model(
    book_eleven: tuple[Scenario, Phases], change: dict[str, dict[str, object]], expect: str
) -> None:
    """Negative control: a Mesa model with a mechanism switched off (a plausible porting slip)
    or a parameter halved is told apart from the engine by the same comparisons, with a third
    of the replicates the agreement test uses (so that test has at least this power)."""
    _, engine = book_eleven
    d = load_scenario("book-eleven").model_dump(mode="json")
    for table, values in change.items():
        d[table].update(values)
    setup = build_setup(Scenario.model_validate(d))
    mesa = ref.run_mesa(setup, MESA_REPLICATES // 3, seed=5)
    bad = rejected(comparisons(engine, mesa, setup.years, setup.country_ids))
    countries = {label.split()[0] for label in bad}
    if expect == "the countries with an insurgency":
        spells = setup.insurgency.any(axis=0)
        insurgent = {c for c, i in zip(setup.country_ids, spells, strict=True) if i}
        assert countries <= insurgent, countries - insurgent
        assert len(countries) >= 4, bad
    else:
        assert len(countries) >= 6, bad


def test_mesa_reference_agrees_with_engine_on_every_lever_at_half_year_steps() -> None:
    """book-eleven schedules only three lever kinds; this covers all eight, phase-restricted
    levers, the shocks (imposed crackdown, regime change) and sub-year steps."""
    d = load_scenario("stylised").model_dump(mode="json")
    d["step"] = 0.5
    d["end"] = 2015  # the levers act 1972-2005; later years only add Mesa run time
    d["parameters"]["attention_capacity"] = 0.6  # ration attention, so shaming matters
    d["levers"] = [
        {"kind": "naming_and_shaming", "start": 1975, "end": 1990, "strength": 0.5},
        {"kind": "un_mechanism", "start": 1972, "end": 1985, "strength": 0.6},
        {"kind": "fund_domestic_groups", "start": 1980, "end": 1995, "strength": 0.5},
        {"kind": "aid_conditionality", "start": 1978, "end": 1988, "strength": 0.4},
        {"kind": "bilateral_pressure", "start": 1983, "end": 1992, "strength": 0.3},
        {"kind": "bilateral_pressure", "start": 1986, "end": 1990, "strength": 0.9},
        {"kind": "withdraw_pressure", "start": 1990, "end": 2000, "strength": 0.7, "phases": [3]},
        {"kind": "imposed_crackdown", "start": 1980, "end": 2000, "strength": 0.3, "phases": [3]},
        {"kind": "regime_change", "start": 1995, "end": 2005, "strength": 0.2},
    ]
    scenario = Scenario.model_validate(d)
    setup = build_setup(scenario)
    engine = simulate(scenario, replicates=ENGINE_REPLICATES, seed=3, workers=1).phases
    mesa = ref.run_mesa(setup, MESA_REPLICATES, seed=7)
    pvalues = comparisons(engine, mesa, setup.years, setup.country_ids)
    assert not rejected(pvalues), rejected(pvalues)


def test_benchmark_counts_only_moving_country_steps() -> None:
    """The benchmark's unit: a country moves from the step after its start year."""
    setup = build_setup(load_scenario("book-eleven"))
    expected = sum(int(setup.years[-1]) - int(s) for s in setup.starts)
    assert ref.moving_country_steps(setup) == expected
