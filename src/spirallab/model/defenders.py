"""Human rights defenders as agents inside each country: threats, attacks and their consequences.

Seeds: 002 (a practitioners' discussion of why protection mechanisms for defenders fail) and 004
(Amnesty International on the community that supports defenders); 000 on non-state violators
and on renewed attacks in denial; 001 Phase 3 on arresting or killing key leaders.

**Entities.** Every country of a scenario may hold individual defenders, listed as groups in
its ``[[countries.defenders]]`` (scenarios/defenders.py). A defender's attributes are fixed:
where they work (capital, or provinces and rural areas), their international visibility, their
membership of networks, their training, whether discriminatory norms limit their movement,
their issue and how far it exposes them to non-state perpetrators. Their state changes in each
replicate: at home and free, detained, relocated abroad, or killed; and whether a formal
mechanism has taken up their case (years of cover left).

**Risk** (002, the Protection International method): for each perpetrator,
``risk = threat x vulnerability / capacity x (1 - deterrence) x (1 - physical protection)``:

- threats: the government's, its political repression, higher while it denies (000: renewed
  attacks in denial); non-state perpetrators', the country's ``non_state_threat`` covariate times
  the group's ``non_state_exposure``;
- vulnerability: 1, plus rural work, restricted movement, the defender's own prominence, and the
  spotlight on the country's visible defenders falling on less visible associates (spill-over);
- capacity: 1, plus network membership (strengthened by rapid alerts) and training;
- deterrence and physical protection: :mod:`spirallab.model.protection`.

**Attacks.** A defender at home is attacked with hazard ``defender_attack_rate x (risk_state +
risk_non_state)``; the perpetrator is drawn in proportion to the two risks, then the kind:
harassment, arrest (or abduction, by non-state perpetrators) or killing. Detained defenders are
released at a hazard that networks, alerts, urgent actions and formal mechanisms raise;
relocated ones return after months.

**Consequences for the spiral** (switch ``consequences``): each killing or detention costs the
movement key leaders; the share of defenders absent (dead, detained, relocated) erodes
mobilisation; defenders at home document violations into the network's information, and every
attack on a networked defender is reported; attacks on visible defenders raise an alarm that
adds to the country's demand for the network's attention.

Random numbers: a counter-based generator (the SplitMix64 finaliser) keyed by the run's seed and
the replicate, indexed by (step, country, defender, draw), so the PCG64 streams of the rest of
the model are untouched, results do not depend on chunking, and scenarios that differ in one
lever see the same numbers (common random numbers).

The compiled rules below are called by the kernel once per step and country
(:func:`defenders_step`), after the country's other mechanisms; with no defenders the kernel
never calls them and runs exactly as it does without this module.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from spirallab.model import government, protection
from spirallab.model.f32math import exp32, njit
from spirallab.model.rules import DENIAL, LANES, ONE, ZERO, P, as_f32, hazard, rule
from spirallab.model.state import TILE_ROWS
from spirallab.scenarios.defenders import DEFENDER_MECHANISMS, PROTECTION_KINDS

if TYPE_CHECKING:
    from spirallab.scenarios.schema import Country, Scenario

F32 = np.float32
_U64 = np.uint64

# The kernel's flat state tile (kernel.py): country c's row r starts at c * ROW_SIZE + OFS.r.
ROW_SIZE = len(TILE_ROWS) * LANES
_Ofs = namedtuple("_Ofs", TILE_ROWS)  # type: ignore[misc]
OFS: Any = _Ofs(*(k * LANES for k in range(len(TILE_ROWS))))

# Fixed attributes of each defender: attrs[country, defender, ATTR.name].
ATTR_NAMES = ("group", "rural", "visibility", "network", "trained", "restricted", "exposure")
ATTR: Any = namedtuple("_Attr", ATTR_NAMES)(*range(len(ATTR_NAMES)))
# What changes, per replicate lane: dstate[country, defender, DS.name, lane].
DS_NAMES = ("detained", "relocated", "dead", "cover")
DS: Any = namedtuple("_DS", DS_NAMES)(*range(len(DS_NAMES)))
# Per country and lane: the alarm (kept between steps) and this step's sums over defenders.
AGG_NAMES = (
    "alarm",
    "spotlight",
    "alive",
    "lost",
    "absent",
    "documenting",
    "alarm_add",
    "reported",
)
AGG: Any = namedtuple("_Agg", AGG_NAMES)(*range(len(AGG_NAMES)))

# Yearly outcomes per country and group (records[year, k, country, group, replicate]): counts
# of events in the year, defender-years in a state, and the defenders alive at the year's end.
OUTCOMES: tuple[str, ...] = (
    "harassment_state",
    "arrest_state",
    "killing_state",
    "harassment_non_state",
    "abduction_non_state",
    "killing_non_state",
    "relocations",
    "cases_taken_up",
    "releases",
    "returns",
    "renewals",
    "years_at_home",
    "years_detained",
    "years_relocated",
    "years_protected",
    "years_alive",
    "alive",
)
OUT: Any = namedtuple("_Out", OUTCOMES)(*range(len(OUTCOMES)))
N_OUT = len(OUTCOMES)
ATTACK_OUTCOMES = OUTCOMES[:6]

# Event codes per step and defender (uint8): bits 0-1 attack kind (1 harassment, 2 arrest or
# abduction, 3 killing), bit 2 by a non-state perpetrator, then relocation, case, release, return.
HARASSMENT, DETENTION, KILLING = 1, 2, 3
EV_NON_STATE, EV_RELOCATION, EV_CASE, EV_RELEASE, EV_RETURN = 4, 8, 16, 32, 64

DefenderSwitches = namedtuple("DefenderSwitches", list(DEFENDER_MECHANISMS))  # type: ignore[misc]
ALL_ON = DefenderSwitches(*([True] * len(DEFENDER_MECHANISMS)))


@dataclass(frozen=True)
class DefenderSetup:
    """A scenario's defenders and protection levers as the kernel's arrays."""

    group_names: list[list[str]]  # per country
    group_location: list[list[str]]
    group_visibility: list[list[float]]
    group_network: list[list[float]]
    group_count: npt.NDArray[np.int64]  # (C, G)
    attrs: npt.NDArray[np.float32]  # (C, D, len(ATTR_NAMES))
    n_defenders: npt.NDArray[np.int64]  # (C,)
    n_groups: npt.NDArray[np.int64]  # (C,)
    non_state: npt.NDArray[np.float32]  # (n_years, C)
    lever_kind: npt.NDArray[np.int64]  # (tracks,) index into PROTECTION_KINDS
    lever_strength: npt.NDArray[np.float32]  # (tracks, n_years, C, G)
    lever_phase: npt.NDArray[np.bool_]  # (tracks, 6)
    lever_labels: list[str]  # kind and groups of each track, for the summary
    switches: Any  # DefenderSwitches

    @property
    def max_groups(self) -> int:
        return int(self.group_count.shape[1])

    @property
    def max_defenders(self) -> int:
        return int(self.attrs.shape[1])


def build_defenders(
    scenario: Scenario,
    countries: list[Country],
    years: npt.NDArray[np.int64],
    non_state: npt.NDArray[np.float32],
) -> DefenderSetup | None:
    """The defenders' arrays, or None when the scenario has none (or switches them off)."""
    cfg = scenario.defenders
    if cfg is not None and not cfg.enabled:
        return None
    default = list(cfg.groups) if cfg is not None else []
    groups = [list(c.defenders) or default for c in countries]
    if not any(g.count for gs in groups for g in gs):
        return None
    n_c = len(countries)
    n_g = max(1, max(len(gs) for gs in groups))
    n_d = max(1, max(sum(g.count for g in gs) for gs in groups))
    attrs = np.zeros((n_c, n_d, len(ATTR_NAMES)), dtype=np.float32)
    count = np.zeros((n_c, n_g), dtype=np.int64)
    for c, gs in enumerate(groups):
        d = 0
        for k, g in enumerate(gs):
            count[c, k] = g.count
            row = (
                k,
                float(g.location == "rural"),
                g.visibility,
                g.network,
                g.trained,
                float(g.restricted_movement),
                g.non_state_exposure,
            )
            attrs[c, d : d + g.count] = np.array(row, dtype=np.float32)
            d += g.count
    ids = [c.id for c in countries]
    kinds: list[int] = []
    strengths: list[npt.NDArray[np.float32]] = []
    phases: list[npt.NDArray[np.bool_]] = []
    labels: list[str] = []
    for lever in scenario.levers:
        if lever.kind.value not in PROTECTION_KINDS:
            continue
        s = np.zeros((len(years), n_c, n_g), dtype=np.float32)
        active = (years >= lever.start) & (years <= lever.end)
        for c, cid in enumerate(ids):
            if lever.targets != "all" and cid not in lever.targets:
                continue
            for k, g in enumerate(groups[c]):
                if lever.groups is None or g.group in lever.groups:
                    s[active, c, k] = lever.strength
        ph = np.zeros(6, dtype=np.bool_)
        ph[list(lever.phases) if lever.phases is not None else slice(None)] = True
        kinds.append(PROTECTION_KINDS.index(lever.kind.value))
        strengths.append(s)
        phases.append(ph)
        labels.append(lever.kind.value + (f" ({', '.join(lever.groups)})" if lever.groups else ""))
    switches = DefenderSwitches(**cfg.mechanisms.model_dump()) if cfg is not None else ALL_ON
    return DefenderSetup(
        group_names=[[g.group for g in gs] for gs in groups],
        group_location=[[g.location for g in gs] for gs in groups],
        group_visibility=[[g.visibility for g in gs] for gs in groups],
        group_network=[[g.network for g in gs] for gs in groups],
        group_count=count,
        attrs=attrs,
        n_defenders=count.sum(axis=1).astype(np.int64),
        n_groups=np.array([len(gs) for gs in groups], dtype=np.int64),
        non_state=np.ascontiguousarray(non_state, dtype=np.float32),
        lever_kind=np.array(kinds, dtype=np.int64),
        lever_strength=(
            np.stack(strengths)
            if strengths
            else np.zeros((0, len(years), n_c, n_g), dtype=np.float32)
        ),
        lever_phase=np.stack(phases) if phases else np.zeros((0, 6), dtype=np.bool_),
        lever_labels=labels,
        switches=switches,
    )


# --- random numbers ------------------------------------------------------------------------
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_STREAM = _U64(0xDEF0_2011)  # this pillar's stream tag
_TWO_M24 = F32(2.0**-24)
N_DRAWS = 6  # per defender and step: attack, perpetrator, kind, relocation, release/return, case


def _mix_np(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> _U64(30))) * _MIX1
    z = (z ^ (z >> _U64(27))) * _MIX2
    out: npt.NDArray[np.uint64] = z ^ (z >> _U64(31))
    return out


def lane_keys(seeds: npt.NDArray[np.uint64], replicates: npt.NDArray[np.int64]) -> Any:
    """One 64-bit key per replicate column, from the run's seed and the replicate's index."""
    with np.errstate(over="ignore"):
        s = np.asarray(seeds, dtype=np.uint64) * _GOLDEN + _STREAM
        r = np.asarray(replicates, dtype=np.uint64)
        keys = _mix_np(_mix_np(s) + r * _GOLDEN + _U64(1))
    out = np.zeros(LANES, dtype=np.uint64)
    out[: len(keys)] = keys
    return out


@njit(inline="always")
def _mix(z: Any) -> Any:
    z = (z ^ (z >> _U64(30))) * _MIX1
    z = (z ^ (z >> _U64(27))) * _MIX2
    return z ^ (z >> _U64(31))


@njit(inline="always")
def uniform(key: Any, counter: Any) -> Any:
    """A float32 uniform in [0, 1) for (key, counter): 24 random bits, counter-based."""
    z = _mix(key + counter * _GOLDEN)
    return F32(z >> _U64(40)) * _TWO_M24


# --- the kernel's extra arguments ------------------------------------------------------------
def kernel_inputs(
    ds: DefenderSetup | None,
    n_countries: int,
    n_years: int,
    n_steps: int,
    events: bool,
) -> tuple[Any, ...]:
    """The defenders' part of the kernel's arguments, without the per-tile keys and records.

    With no defenders, arrays of the right types and no content (one compiled signature).
    """
    if ds is None:
        return (
            0,
            np.zeros((n_countries, 1, len(ATTR_NAMES)), dtype=np.float32),
            np.zeros(n_countries, dtype=np.int64),
            np.zeros(n_countries, dtype=np.int64),
            np.zeros((n_years, n_countries), dtype=np.float32),
            np.zeros(0, dtype=np.int64),
            np.zeros((0, n_years, n_countries, 1), dtype=np.float32),
            np.zeros((0, 6), dtype=np.bool_),
            np.zeros((1, 1, 1, LANES), dtype=np.uint8),
            ALL_ON,
        )
    shape = (n_steps if events else 1, n_countries, ds.max_defenders, LANES)
    return (
        1,
        ds.attrs,
        ds.n_defenders,
        ds.n_groups,
        ds.non_state,
        ds.lever_kind,
        ds.lever_strength,
        ds.lever_phase,
        np.zeros(shape, dtype=np.uint8),
        ds.switches,
    )


def pack(
    inputs: tuple[Any, ...], keys: Any, records: npt.NDArray[np.float32] | None
) -> tuple[Any, ...]:
    """The kernel's ``dx`` argument for one tile: inputs, the tile's keys, the records and a
    zeroed tile state (``dx[12]``; allocated here because the kernel runs without Numba's
    runtime, so it cannot allocate arrays)."""
    rec = records if records is not None else np.zeros((1, N_OUT, 1, 1, 1), dtype=np.float32)
    dx = (*inputs[:8], keys, rec, inputs[8], inputs[9])
    return (*dx, new_tile_state(dx, inputs[1].shape[0]))


def new_tile_state(dx: tuple[Any, ...], n_c: int) -> tuple[npt.NDArray[np.float32], ...]:
    """Zeroed defender state, per-country sums, yearly outcomes and lever scratch for a tile."""
    attrs, n_groups = dx[1], dx[3]
    n_d = attrs.shape[1] if dx[0] else 1
    n_g = max(1, int(np.max(n_groups))) if dx[0] and n_c > 0 else 1
    dstate = np.zeros((n_c if dx[0] else 1, n_d, len(DS_NAMES), LANES), dtype=np.float32)
    agg = np.zeros((n_c, len(AGG_NAMES), LANES), dtype=np.float32)
    outcomes = np.zeros((n_c if dx[0] else 1, n_g, N_OUT, LANES), dtype=np.float32)
    levers = np.zeros((len(PROTECTION_KINDS), n_g, LANES), dtype=np.float32)
    return dstate, agg, outcomes, levers


@njit(cache=True, nogil=True)
def alarm_into_demand(tile: Any, ds: Any) -> None:
    """Pass 1 hook: attacks on visible defenders add to the country's demand for attention.

    002 and 004: campaigns for defenders at risk, and local issues that become international
    concerns very quickly. Only countries on the network's agenda draw on the alarm.
    """
    agg = ds[1]
    for c in range(agg.shape[0]):
        b = c * ROW_SIZE
        for j in range(LANES):
            on_agenda = tile[b + OFS.on_agenda + j] != ZERO
            tile[b + OFS.demand + j] = tile[b + OFS.demand + j] + agg[c, AGG.alarm, j] * as_f32(
                on_agenda
            )


@njit(inline="always")
def _levers_in_force(T: Any, b: int, c: int, yi: int, dx: Any, levers: Any, n_g: int) -> None:
    """Protection lever strengths this step per group and lane; tracks of a kind add to <= 1."""
    kind, strength, phase_ok = dx[5], dx[6], dx[7]
    for k in range(levers.shape[0]):
        for g in range(n_g):
            for j in range(LANES):
                levers[k, g, j] = ZERO
    for tr in range(kind.shape[0]):
        k = kind[tr]
        for g in range(n_g):
            s = strength[tr, yi, c, g]
            if s > ZERO:
                for j in range(LANES):
                    acts = phase_ok[tr, np.int64(T[b + OFS.phase + j])]
                    levers[k, g, j] = min(levers[k, g, j] + s * as_f32(acts), ONE)


@rule
def threats(political: Any, stance: Any, non_state: Any, exposure: Any, p: Any, j: int) -> Any:
    """Threats to a defender from the state and from non-state perpetrators (0-1 scale).

    The state's threat is its political repression, raised while it denies (000 Denial: local
    activists may suffer renewed attacks); the non-state threat is the country's covariate times
    how far the defender's issue exposes them (000: non-state violators; 002).
    """
    backlash = ONE + p[P.denial_backlash + j] * as_f32(stance == DENIAL)
    return political * backlash, non_state * exposure


@rule
def vulnerability(
    rural: Any, restricted: Any, visibility: Any, spotlight: Any, p: Any, j: int, sw: Any
) -> Any:
    """A defender's vulnerability (1 = a capital-based defender with no profile).

    002: provincial and rural defenders work in insecure areas far from officials; women
    defenders face norms that limit movement; prominence increases vulnerability (high-profile
    defenders in Russia); and a raised profile exposes less visible associates (Liu Xia, the
    Charter 08 signatories): the spotlight, the mean visibility of the country's living
    defenders, falls on each in proportion to (1 - own visibility). ``spillover`` off: no such
    term.
    """
    v = (
        ONE
        + p[P.rural_vulnerability + j] * rural
        + p[P.restricted_vulnerability + j] * restricted
        + p[P.visibility_exposure + j] * visibility
    )
    if sw.spillover:
        v = v + p[P.spillover_gain + j] * spotlight * (ONE - visibility)
    return v


@rule
def attack_kind(by_state: Any, political: Any, u: Any, p: Any, j: int) -> Any:
    """Harassment (1), arrest or abduction (2) or killing (3), from one uniform draw.

    The state kills the more the more it represses (000 Repression: opposition persecuted; 001
    Phase 3: arresting or killing leaders) and arrests (002: prosecutions, imprisonment);
    non-state perpetrators kill and abduct in fixed shares.
    """
    kill = (
        p[P.state_killing_share + j] * political if by_state else p[P.non_state_killing_share + j]
    )
    detain = p[P.state_arrest_share + j] if by_state else p[P.non_state_abduction_share + j]
    kind = np.int64(HARASSMENT)
    kind = np.int64(DETENTION) if u < kill + detain else kind
    kind = np.int64(KILLING) if u < kill else kind
    return kind


@rule
def renewal_hazard(mobilisation: Any, p: Any, j: int) -> Any:
    """Yearly hazard that a killed defender's place is taken by a new one of the same group.

    000 Denial/backlash: the domestic opposition builds and mobilises new domestic actors; the
    more mobilised the movement, the sooner someone takes up the work.
    """
    return p[P.defender_renewal + j] * mobilisation


@njit(cache=True, nogil=True)
def defenders_step(
    T: Any,
    b: int,
    c: int,
    t: int,
    yi: int,
    dt: Any,
    material: Any,
    social: Any,
    p: Any,
    on: Any,
    dx: Any,
    ds: Any,
) -> None:
    """Pass 2 hook: one step of the defenders of country ``c``, after its other mechanisms.

    Reads the government's repression and stance and writes back the consequences for key
    leaders, mobilisation, information and the alarm (see the module docstring).
    """
    attrs, n_def, n_groups, non_state_cov = dx[1], dx[2], dx[3], dx[4]
    keys, codes, sw = dx[8], dx[10], dx[11]
    dstate, agg, outcomes, levers = ds
    nd = n_def[c]
    if nd == 0 or dt == ZERO:
        return
    ng = n_groups[c]
    n_c = n_def.shape[0]
    n_dmax = attrs.shape[1]
    tc = t if codes.shape[0] > 1 else 0
    _levers_in_force(T, b, c, yi, dx, levers, ng)
    non_state = non_state_cov[yi, c]

    # The spotlight: mean profile of the living defenders, campaigns included.
    for j in range(LANES):
        agg[c, AGG.spotlight, j] = ZERO
        agg[c, AGG.alive, j] = ZERO
        agg[c, AGG.lost, j] = ZERO
        agg[c, AGG.absent, j] = ZERO
        agg[c, AGG.documenting, j] = ZERO
        agg[c, AGG.alarm_add, j] = ZERO
        agg[c, AGG.reported, j] = ZERO
    for d in range(nd):
        g = np.int64(attrs[c, d, ATTR.group])
        vis0 = attrs[c, d, ATTR.visibility]
        for j in range(LANES):
            alive = ONE - dstate[c, d, DS.dead, j]
            v = protection.effective_visibility(vis0, levers[protection.VISIBILITY, g, j], p, j)
            agg[c, AGG.spotlight, j] = agg[c, AGG.spotlight, j] + v * alive
            agg[c, AGG.alive, j] = agg[c, AGG.alive, j] + alive
    for j in range(LANES):
        agg[c, AGG.spotlight, j] = agg[c, AGG.spotlight, j] / max(agg[c, AGG.alive, j], ONE)

    for d in range(nd):
        g = np.int64(attrs[c, d, ATTR.group])
        rural = attrs[c, d, ATTR.rural]
        vis0 = attrs[c, d, ATTR.visibility]
        network0 = attrs[c, d, ATTR.network]
        trained = attrs[c, d, ATTR.trained]
        restricted = attrs[c, d, ATTR.restricted]
        exposure = attrs[c, d, ATTR.exposure]
        base = _U64(((t * n_c + c) * n_dmax + d) * N_DRAWS)
        o = outcomes[c, g]  # views taken once per defender, not per lane
        lv = levers[:, g]
        for j in range(LANES):
            key = keys[j]
            detained = dstate[c, d, DS.detained, j] != ZERO
            relocated = dstate[c, d, DS.relocated, j] != ZERO
            dead = dstate[c, d, DS.dead, j] != ZERO
            cover = dstate[c, d, DS.cover, j]
            home = not (detained or relocated or dead)
            political = T[b + OFS.repression_political + j]
            alerts = lv[protection.ALERTS, j]
            accompanied = lv[protection.ACCOMPANIMENT, j]
            network = network0 if sw.networks else ZERO

            t_state, t_non_state = threats(
                political, T[b + OFS.stance + j], non_state, exposure, p, j
            )
            v = protection.effective_visibility(vis0, lv[protection.VISIBILITY, j], p, j)
            vuln = vulnerability(rural, restricted, v, agg[c, AGG.spotlight, j], p, j, sw)
            cap = protection.capacity(network, trained, alerts, lv[protection.TRAINING, j], p, j)
            reach = protection.access(rural, restricted, p, j, sw)
            verified = protection.verification(network0, alerts, p, j, sw)
            formal = protection.formal_strength(
                lv[protection.UN, j],
                lv[protection.REGIONAL, j],
                lv[protection.PROGRAMME, j],
                lv[protection.EMBASSY, j],
            )
            covered = cover > ZERO
            s_state = government.vulnerability(material, social, p, j, on)
            s_non_state = p[P.non_state_sensitivity + j] if sw.cost_sensitivity else s_state
            phys = protection.physical_protection(
                lv[protection.PROGRAMME, j], reach, covered, political, p, j
            )
            exposed = vuln / cap * (ONE - phys)
            risk_s = (
                t_state
                * exposed
                * (ONE - protection.deterrence(s_state, v, accompanied, covered, p, j))
            )
            risk_n = (
                t_non_state
                * exposed
                * (ONE - protection.deterrence(s_non_state, v, accompanied, covered, p, j))
            )
            risk = risk_s + risk_n

            attacked = home and (
                uniform(key, base) < hazard(p[P.defender_attack_rate + j] * risk, dt)
            )
            by_state = uniform(key, base + _U64(1)) * risk < risk_s
            kind = attack_kind(by_state, political, uniform(key, base + _U64(2)), p, j)
            kind = kind if attacked else np.int64(0)
            moves = home and not attacked
            relocates = moves and (
                uniform(key, base + _U64(3))
                < hazard(
                    protection.relocation_hazard(
                        lv[protection.RELOCATION, j],
                        lv[protection.EMBASSY, j],
                        reach,
                        risk,
                        p,
                        j,
                    ),
                    dt,
                )
            )
            u_out = uniform(key, base + _U64(4))
            released = detained and (
                u_out
                < hazard(
                    protection.release_hazard(
                        network,
                        alerts,
                        lv[protection.URGENT, j],
                        formal,
                        reach,
                        verified,
                        p,
                        j,
                    ),
                    dt,
                )
            )
            returns = relocated and (u_out < hazard(protection.return_hazard(p, j), dt))
            mob = T[b + OFS.mobilisation + j]
            renewed = dead and (u_out < hazard(renewal_hazard(mob, p, j), dt))
            threatened = t_state + t_non_state
            case = (
                (not dead)
                and (not relocated)
                and (not covered)
                and (
                    uniform(key, base + _U64(5))
                    < hazard(protection.case_uptake(formal, reach, verified, threatened, p, j), dt)
                )
            )

            killed = kind == KILLING
            seized = kind == DETENTION
            dead2 = (dead and not renewed) or killed
            detained2 = (detained and not released) or seized
            relocated2 = (relocated and not returns) or relocates
            cover2 = p[P.formal_cover_years + j] if case else max(cover - dt, ZERO)
            cover2 = ZERO if renewed else cover2
            dstate[c, d, DS.dead, j] = as_f32(dead2)
            dstate[c, d, DS.detained, j] = as_f32(detained2)
            dstate[c, d, DS.relocated, j] = as_f32(relocated2)
            dstate[c, d, DS.cover, j] = cover2

            state_hit = attacked and by_state
            ns_hit = attacked and not by_state
            o[OUT.harassment_state, j] += as_f32(state_hit and kind == HARASSMENT)
            o[OUT.arrest_state, j] += as_f32(state_hit and seized)
            o[OUT.killing_state, j] += as_f32(state_hit and killed)
            o[OUT.harassment_non_state, j] += as_f32(ns_hit and kind == HARASSMENT)
            o[OUT.abduction_non_state, j] += as_f32(ns_hit and seized)
            o[OUT.killing_non_state, j] += as_f32(ns_hit and killed)
            o[OUT.relocations, j] += as_f32(relocates)
            o[OUT.cases_taken_up, j] += as_f32(case)
            o[OUT.releases, j] += as_f32(released)
            o[OUT.returns, j] += as_f32(returns)
            o[OUT.renewals, j] += as_f32(renewed)
            o[OUT.years_at_home, j] += dt * as_f32(home)
            o[OUT.years_detained, j] += dt * as_f32(detained)
            o[OUT.years_relocated, j] += dt * as_f32(relocated)
            protected = (not dead) and (covered or accompanied > ZERO or relocated)
            o[OUT.years_protected, j] += dt * as_f32(protected)
            o[OUT.years_alive, j] += dt * as_f32(not dead)

            away = relocated2 and sw.relocation_removes
            agg[c, AGG.lost, j] += as_f32(killed or seized)
            agg[c, AGG.absent, j] += as_f32(dead2 or detained2 or away)
            at_home2 = not (dead2 or detained2 or relocated2)
            agg[c, AGG.documenting, j] += network0 * as_f32(at_home2)
            agg[c, AGG.alarm_add, j] += v * as_f32(attacked)
            agg[c, AGG.reported, j] += network0 * as_f32(attacked)

            codes[tc, c, d, j] = np.uint8(
                kind
                | (EV_NON_STATE if ns_hit else 0)
                | (EV_RELOCATION if relocates else 0)
                | (EV_CASE if case else 0)
                | (EV_RELEASE if released else 0)
                | (EV_RETURN if returns else 0)
            )

    if sw.consequences:
        n = F32(nd)
        for j in range(LANES):
            _consequences(T, b, agg, c, j, n, dt, p)


@rule
def _consequences(T: Any, b: int, agg: Any, c: int, j: int, n: Any, dt: Any, p: Any) -> None:
    """What the step's attacks and absences do to the movement, the network and attention.

    001 Phase 3: arresting or killing key leaders decapitates the movement; 002: relocation
    removes the defender from the work; 000 and 004: the network's information comes from the
    domestic opposition, and networks document and spread attacks; 002 and 004: attacks on
    visible defenders become international concerns (the alarm, read by pass 1).
    """
    leaders = T[b + OFS.key_leaders + j] - p[P.defender_leader_loss + j] * agg[c, AGG.lost, j]
    T[b + OFS.key_leaders + j] = max(leaders, ZERO)
    mob = T[b + OFS.mobilisation + j]
    absent = agg[c, AGG.absent, j] / n
    T[b + OFS.mobilisation + j] = max(mob - dt * p[P.absence_toll + j] * absent * mob, ZERO)
    info = T[b + OFS.information + j]
    choke = ONE - p[P.information_choke + j] * T[b + OFS.repression_political + j]
    documented = p[P.documentation_rate + j] * (agg[c, AGG.documenting, j] / n) * choke
    info = info + dt * documented * (ONE - info)
    info = info + min(p[P.attack_information + j] * agg[c, AGG.reported, j], ONE) * (ONE - info)
    T[b + OFS.information + j] = min(info, ONE)
    fade = exp32(-p[P.alarm_decay + j] * dt)
    agg[c, AGG.alarm, j] = (
        agg[c, AGG.alarm, j] * fade + p[P.alarm_gain + j] * agg[c, AGG.alarm_add, j]
    )


@njit(cache=True, nogil=True)
def record_year(dx: Any, ds: Any, yi: int, col0: int, n_valid: int) -> None:
    """Write the year's outcomes per country and group into the records, then reset them."""
    attrs, n_def, n_groups, records = dx[1], dx[2], dx[3], dx[9]
    dstate, _, outcomes, _ = ds
    if records.shape[0] < 2:  # no records asked for (parameter sweeps): keep nothing
        for c in range(outcomes.shape[0]):
            for g in range(outcomes.shape[1]):
                for k in range(N_OUT):
                    for j in range(LANES):
                        outcomes[c, g, k, j] = ZERO
        return
    for c in range(n_def.shape[0]):
        for d in range(n_def[c]):
            gd = np.int64(attrs[c, d, ATTR.group])
            for j in range(LANES):
                outcomes[c, gd, OUT.alive, j] += ONE - dstate[c, d, DS.dead, j]
        for g in range(n_groups[c]):
            for k in range(N_OUT):
                for j in range(n_valid):
                    records[yi, k, c, g, col0 + j] = outcomes[c, g, k, j]
                for j in range(LANES):
                    outcomes[c, g, k, j] = ZERO
