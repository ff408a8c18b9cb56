"""Turn a validated scenario into the arrays the engine steps over.

Everything here is computed once per run: per-year covariate tables, per-year lever strengths,
the initial state. It holds only numpy arrays and plain values so it can be sent to worker
processes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from spirallab.model.context import Switches
from spirallab.model.defenders import DefenderSetup, build_defenders
from spirallab.model.society import MOVEMENT_IN_CONCESSIONS, movement_at_rest
from spirallab.model.state import ACCEPTANCE, ARGUMENT, DENIAL, RHETORIC, SILENT, State
from spirallab.model.worldtime import norm_density
from spirallab.scenarios.defenders import PROTECTION_KINDS
from spirallab.scenarios.schema import Country, LeverKind, Scenario, TimeVarying

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LeverTrack:
    """One scheduled lever: strength per (year, country), optionally limited to some phases."""

    kind: str
    strength: F32  # (n_years, n_countries)
    phases: tuple[int, ...] | None


@dataclass(frozen=True)
class Setup:
    """A scenario resolved into arrays: the engine's only input besides seeds."""

    name: str
    country_ids: list[str]
    country_names: list[str]
    starts: npt.NDArray[np.int64]  # (C,)
    years: npt.NDArray[np.int64]  # recorded years, first..end
    step: float
    params: dict[str, float]
    switches: Switches
    density: npt.NDArray[np.float64]  # (n_years,)
    material_vulnerability: F32  # (n_years, C)
    social_vulnerability: F32
    strategic_interest: F32
    insurgency: F32
    security_control: F32  # (C,)
    civil_society: F32
    base_repression: F32  # the scenario's repression: preferred, or observed (observed_start)
    endemic_base: F32
    initial_phase: npt.NDArray[np.int8]
    # (C,) ICCPR and CAT both ratified by the start; -1 where the scenario does not say.
    initial_ratified: npt.NDArray[np.int8]
    initial_mobilisation: F32
    initial_linkage: F32
    initial_leaders: F32
    initial_legitimacy: F32
    levers: tuple[LeverTrack, ...]
    # Defenders and protection levers (issue 11); None: the engine runs without them.
    defenders: DefenderSetup | None = None
    # base_repression is the practice observed at the start (Scenario.observed_start).
    observed_start: bool = False
    # With observed_start, the movement starts at rest too (Scenario.movement_at_rest).
    movement_at_rest: bool = False

    @property
    def n_countries(self) -> int:
        return len(self.country_ids)

    @property
    def steps_per_year(self) -> int:
        return round(1.0 / self.step)


def _tracks(values: list[TimeVarying], years: npt.NDArray[np.int64]) -> F32:
    """(n_years, C): every country's step function for one covariate, in one NumPy pass.

    A constant holds for every year; ``[[year, value], ...]`` is read in sorted order, each value
    holding from its year on (of equal years the last in sorted order wins), the first value also
    before the first year. Built without a Python loop over years or countries' masks, since a
    run builds about 600 of these tracks (world-150) and they were a fifth of a lean run's time.
    """
    out = np.empty((len(years), len(values)), dtype=np.float32)
    flat: list[float] = []  # constants (0 for a stepped column, filled below)
    stepped: list[int] = []
    steps: list[list[tuple[int, float]]] = []
    for k, v in enumerate(values):
        if isinstance(v, (float, int)):  # a tuple: faster than int | float
            flat.append(v)
        else:
            flat.append(0.0)
            stepped.append(k)
            steps.append(v)
    out[:] = np.array(flat, dtype=np.float32)
    if not steps or not len(years):
        return out
    # All points of the stepped countries, sorted by (country, year, value) as sorted() would.
    owner = np.repeat(np.arange(len(steps)), [len(v) for v in steps])
    p_year = np.array([p[0] for v in steps for p in v], dtype=np.int64)
    p_value = np.array([p[1] for v in steps for p in v], dtype=np.float32)
    order = np.lexsort((p_value, p_year, owner))
    owner, p_year, p_value = owner[order], p_year[order], p_value[order]
    # One sorted key per (country, year): the last point at or before each year, by bisection;
    # a year before a country's first point takes that first point.
    base = min(int(p_year.min()), int(years[0]))
    span = max(int(p_year.max()), int(years[-1])) - base + 1
    p_key = owner * span + (p_year - base)
    q_key = np.arange(len(steps), dtype=np.int64)[None, :] * span + (years[:, None] - base)
    at = np.searchsorted(p_key, q_key, side="right") - 1
    first = np.searchsorted(owner, np.arange(len(steps)), side="left")
    out[:, stepped] = p_value[np.maximum(at, first[None, :])]
    return out


def _spell_tracks(spells: list[list[tuple[int, int | None]]], years: npt.NDArray[np.int64]) -> F32:
    """(n_years, C): 1 in the years inside any of a country's spells (an open end: ongoing)."""
    out = np.zeros((len(years), len(spells)), dtype=np.float32)
    owner = [k for k, country in enumerate(spells) for _ in country]
    if not owner:
        return out
    a = np.array([s[0] for country in spells for s in country], dtype=np.int64)
    b = np.array(
        [10_000 if s[1] is None else s[1] for country in spells for s in country], dtype=np.int64
    )
    rows, hits = np.nonzero((years[:, None] >= a) & (years[:, None] <= b))
    out[rows, np.array(owner, dtype=np.intp)[hits]] = 1.0
    return out


def resolve_countries(scenario: Scenario) -> list[Country]:
    """The scenario's countries, generating the synthetic world if it asks for one."""
    if scenario.synthetic is None:
        return list(scenario.countries)
    from spirallab.scenarios.synthetic import synthetic_countries

    return list(scenario.countries) + synthetic_countries(scenario.synthetic)


# Setups already built, by what they were built from (see build_setup); a few, least recent out.
_BUILT: OrderedDict[tuple[str, int | None, int | None], Setup] = OrderedDict()
_BUILT_KEPT = 8


def build_setup(scenario: Scenario, start: int | None = None, end: int | None = None) -> Setup:
    """The scenario's arrays for a run from ``start`` to ``end`` (defaults: the scenario's).

    Built once per scenario content: reading 150 countries' attributes into tracks costs about
    a millisecond, which every short run (sweeps, filters, benchmarks) paid again. The key is
    the scenario's JSON dump, not the object: a frozen model's lists can still change in place,
    and an equal scenario loaded twice shares the entry (validation admits no NaN or infinity,
    so the dump is exact). Each call gets its own ``params`` dict; the arrays are shared, and
    nothing writes into a Setup's arrays (the engine copies what it changes).
    """
    key = (scenario.model_dump_json(), start, end)
    # Taken out and put back last (most recent): no lookup can miss between the two steps.
    built = _BUILT.pop(key, None)
    if built is None:
        built = _build_setup(scenario, start, end)
    _BUILT[key] = built
    while len(_BUILT) > _BUILT_KEPT:
        _BUILT.popitem(last=False)
    return replace(built, params=dict(built.params))


def _build_setup(scenario: Scenario, start: int | None, end: int | None) -> Setup:
    countries = resolve_countries(scenario)
    first = (
        start
        if start is not None
        else (scenario.start if scenario.start is not None else min(c.start for c in countries))
    )
    last = end if end is not None else scenario.end
    years = np.arange(first, last + 1, dtype=np.int64)
    ids = [c.id for c in countries]

    def stack(attr: str) -> F32:
        return _tracks([getattr(c, attr) for c in countries], years)

    def const(attr: str) -> F32:
        return np.array([getattr(c, attr) for c in countries], dtype=np.float32)

    tracks: list[LeverTrack] = []
    for lever in scenario.levers:
        if lever.kind.value in PROTECTION_KINDS:
            continue  # stepped by the defenders (model/defenders.py)
        strength = np.zeros((len(years), len(countries)), dtype=np.float32)
        active = (years >= lever.start) & (years <= lever.end)
        cols = [i for i, cid in enumerate(ids) if lever.targets == "all" or cid in lever.targets]
        strength[np.ix_(active, np.array(cols, dtype=np.intp))] = lever.strength
        tracks.append(
            LeverTrack(lever.kind.value, strength, tuple(lever.phases) if lever.phases else None)
        )

    switches = Switches(**scenario.mechanisms.model_dump())
    params = scenario.parameters.model_dump()
    return Setup(
        name=scenario.name,
        country_ids=ids,
        country_names=[c.name for c in countries],
        starts=np.array([max(c.start, first) for c in countries], dtype=np.int64),
        years=years,
        step=float(scenario.step),
        params=params,
        switches=switches,
        density=norm_density(years, params["norm_density_floor"], enabled=switches.world_time),
        material_vulnerability=stack("material_vulnerability"),
        social_vulnerability=stack("social_vulnerability"),
        strategic_interest=stack("strategic_interest"),
        insurgency=_spell_tracks([c.insurgency for c in countries], years),
        security_control=const("security_control"),
        civil_society=const("civil_society"),
        base_repression=const("repression"),
        endemic_base=const("endemic_abuse"),
        initial_phase=np.array([c.initial_phase for c in countries], dtype=np.int8),
        initial_ratified=np.array(
            [-1 if c.ratified is None else int(len(c.ratified) == 2) for c in countries],
            dtype=np.int8,
        ),
        initial_mobilisation=const("mobilisation"),
        initial_linkage=const("linkage"),
        initial_leaders=const("key_leaders"),
        initial_legitimacy=const("legitimacy"),
        levers=tuple(tracks),
        defenders=build_defenders(scenario, countries, years, stack("non_state_threat")),
        observed_start=scenario.observed_start,
        movement_at_rest=scenario.observed_start and scenario.movement_at_rest,
    )


# The spiral's levers, stepped by the kernel's lever rows; protection levers go to defenders.
LEVER_KINDS: tuple[str, ...] = tuple(k.value for k in LeverKind if k.value not in PROTECTION_KINDS)


def initial_state(
    setup: Setup,
    n_replicates: int,
    params: Mapping[str, float | npt.NDArray[np.float32]] | None = None,
) -> State:
    """The state at each country's start, consistent with its initial phase.

    ``params`` overrides the setup's parameters; values may be (1, R) rows (see ParamSet).
    """
    c, r = setup.n_countries, n_replicates
    p = setup.params if params is None else params

    def col(values: F32) -> F32:
        return np.repeat(values[:, None], r, axis=1).astype(np.float32)

    def zeros() -> F32:
        return np.zeros((c, r), dtype=np.float32)

    phase0 = setup.initial_phase[:, None]
    stance_by_phase = np.array(
        [SILENT, SILENT, DENIAL, RHETORIC, ACCEPTANCE, ACCEPTANCE], dtype=np.int8
    )
    stance = np.repeat(stance_by_phase[setup.initial_phase][:, None], r, axis=1)
    accepted = phase0 >= 4
    rule_consistent = phase0 >= 5
    on_agenda = np.repeat(phase0 >= 2, r, axis=1)
    political = col(setup.base_repression)
    observed = setup.observed_start  # the practice is given: no phase's adjustment below
    if not observed:
        political = np.where(phase0 == 3, political * (1 - p["cosmetic_relief"]), political)
    full = np.repeat(accepted, r, axis=1)
    known = setup.initial_ratified[:, None]  # observed ratifications, -1 where not given
    core = np.repeat(np.where(known < 0, accepted, known > 0), r, axis=1)
    settled = np.repeat(rule_consistent, r, axis=1)
    # Prescriptive status is three of the coder's four indicators (docs/phase-coding.md, step 2):
    # with norms in law and acceptance, a starter without both core treaties has the complaint
    # mechanism (issue 10, fourth round).
    complaint = settled | (np.repeat(accepted, r, axis=1) & ~core)
    # Prescriptive status starts at its practice target before any pressure: commitment alone,
    # or the floor where the practice is already habit (phase 5) (decoupling, issue 10).
    relieved = col(setup.base_repression) * np.float32(1 - p["cosmetic_relief"])
    cp = np.float32(p["commitment_practice"])
    share = np.where(rule_consistent, np.float32(1.0), cp)
    floor = np.minimum(np.float32(p["political_floor"]), relieved)  # never raises practice
    committed = relieved + share * (floor - relieved)
    endemic = col(setup.endemic_base)
    if not observed:
        political = np.where(accepted, committed, political)
        endemic = np.where(rule_consistent, endemic * np.float32(0.2), endemic)
    political = political.astype(np.float32)
    endemic = endemic.astype(np.float32)
    mobilisation = col(setup.initial_mobilisation)
    mobilisation = np.where(
        phase0 >= 3, np.maximum(mobilisation, MOVEMENT_IN_CONCESSIONS), mobilisation
    )
    mobilisation = np.minimum(mobilisation, setup.civil_society[:, None]).astype(np.float32)
    fear = col(setup.base_repression * np.float32(0.5))
    linkage = col(setup.initial_linkage)
    if setup.movement_at_rest:
        # The movement at rest in the starting state, as the practice is (issue 10, ninth round).
        mobilisation, fear = movement_at_rest(
            mobilisation, political, stance, zeros(), linkage, col(setup.civil_society), p,
            setup.switches,
        )
    information = np.where(phase0 >= 2, np.float32(p["agenda_threshold"]), 0).astype(np.float32)
    entrapment = np.where(accepted, np.float32(p["argument_threshold"]), 0).astype(np.float32) * (
        np.ones((1, r), dtype=np.float32)
    )
    network = _network_at_start(
        setup, p, stance, political, endemic, mobilisation, settled, np.repeat(phase0, r, axis=1)
    )
    pressure, rally, conceded = network
    entrapment = np.where(phase0 == 3, conceded, entrapment).astype(np.float32)
    # Entrapped beyond the threshold, a conceding starter argues (as decide turns it).
    argues = (phase0 == 3) & (entrapment >= np.float32(p["argument_threshold"]))
    if setup.switches.entrapment:
        stance = np.where(argues, np.int8(ARGUMENT), stance).astype(np.int8)
    return State(
        stance=stance,
        repression_political=political,
        repression_endemic=endemic,
        legitimacy=col(setup.initial_legitimacy),
        rally=rally,
        entrapment=entrapment,
        habituation=np.where(rule_consistent, np.float32(1.0), 0).astype(np.float32)
        * np.ones((1, r), dtype=np.float32),
        new_regime=np.zeros((c, r), dtype=bool),
        regime_age=np.full((c, r), 100.0, dtype=np.float32),
        ratified_core=core,
        ratified_protocols=settled.copy(),
        constitution=full.copy(),
        complaint_mechanism=complaint,
        trained_officials=settled.copy(),
        mobilisation=mobilisation,
        fear=fear,
        key_leaders=col(setup.initial_leaders),
        linkage=linkage,
        information=information * np.ones((1, r), dtype=np.float32),
        on_agenda=on_agenda,
        attention=zeros(),
        campaign=zeros(),
        pressure_above=pressure,
        episode=zeros(),
        # Under observed_start the kernel infers it from the starting state (the engines'
        # preferred_at_rest); until then it holds the observed practice.
        preferred_repression=col(setup.base_repression),
        phase=np.repeat(setup.initial_phase[:, None], r, axis=1),
        backslid=np.zeros((c, r), dtype=bool),
    )


def _network_at_start(
    setup: Setup,
    p: Mapping[str, float | npt.NDArray[np.float32]],
    stance: npt.NDArray[np.int8],
    political: F32,
    endemic: F32,
    mobilisation: F32,
    protocols: npt.NDArray[np.bool_],
    phase: npt.NDArray[np.int8],
) -> tuple[F32, F32, F32]:
    """What a country on the agenda at its start has from the network (issue 10, fourth round).

    A starter in phase 2-5 has been a campaign's target for a while (``start_tenure`` years):
    partners' pressure and the denial rally start that far along their approach to the targets
    the rules (partners.press_from_above, decide's rally) give at the network's attention for
    the starting state (network.salience and allocate_attention), and a phase-3 starter's
    entrapment grows at that attention's campaign as if it had conceded that long. Attention
    and campaign themselves start at 0: the campaign is recomputed from attention and the
    naming lever at every step, also before a country's start, so only zero keeps a late
    starter's state a fixed point there (the kernel skips those steps). Levers are left out
    (they act from the first step). Returns (pressure from above, rally, entrapment of a
    conceding starter); all zero at ``start_tenure`` 0, the start before this round.
    """
    on = setup.switches
    f32 = np.float32

    def par(name: str) -> F32:
        return np.asarray(p[name], dtype=np.float32)

    tenure = par("start_tenure")
    c = setup.n_countries
    at_start = np.clip(setup.starts - setup.years[0], 0, len(setup.years) - 1)
    density = setup.density[at_start].astype(np.float32)[:, None]
    strategic = setup.strategic_interest[at_start, np.arange(c)][:, None]
    listed = phase >= 2  # on the agenda at the start
    if on.attention_fading:
        demand = political + par("endemic_salience") * endemic
        demand = demand * (f32(1) - par("attention_release") * (phase == 5).astype(np.float32))
    else:
        demand = np.ones_like(political)
    demand = (demand * listed).astype(np.float32)
    # The network's capacity is shared with the countries already started by this one's start.
    earlier = (setup.starts[None, :] <= setup.starts[:, None]).astype(np.float32)  # (C, C)
    total = earlier @ demand
    capacity = par("attention_capacity") * f32(c) * density
    ration = np.minimum(f32(1), capacity / np.maximum(total, f32(1e-6)))
    attention = np.minimum(demand * ration, f32(1))
    arguing = (stance == RHETORIC) | (stance == ARGUMENT)
    shaming = f32(1) + (par("shaming_gain_concessions") - f32(1)) * arguing
    campaign = attention * shaming
    pull = np.zeros_like(attention)
    if on.treaty_leverage:
        pull = pull + par("treaty_monitoring") * protocols
    if on.boomerang:
        late = (phase == 3) & (mobilisation >= par("mobilisation_threshold"))
        lobbying = par("lobbying_efficacy") * density * attention
        lobbying = lobbying * (f32(1) + par("donor_coordination") * late)
        pull = pull + lobbying * (f32(1) - strategic)
    pull = np.minimum(pull, f32(1)) * listed
    pressure = pull * (f32(1) - np.exp(-par("pressure_rate") * tenure))
    rally = np.zeros_like(attention)
    if on.denial:
        rally_target = par("rally_strength") * attention * (stance == DENIAL)
        rally = rally_target * (f32(1) - np.exp(-par("rally_decay") * tenure))
    conceded = np.zeros_like(attention)
    if on.entrapment:
        gain = par("entrapment_rate") * np.minimum(campaign, f32(1)) * arguing
        conceded = f32(1) - np.exp(-gain * tenure)
    shape = np.broadcast_shapes(political.shape, pressure.shape, rally.shape, conceded.shape)

    def out(x: npt.NDArray[np.floating]) -> F32:
        return np.broadcast_to(x, shape).astype(np.float32)

    return out(pressure), out(rally), out(conceded)
