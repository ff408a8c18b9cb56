"""The compiled engine: every mechanism for a tile of replicates, all steps, in one Numba call.

A tile is :data:`LANES` replicate columns of all countries, held as one float32 array
``tile[country, row, lane]`` (rows in :data:`spirallab.model.state.ROW`): fixed strides and
branch-free rules let the compiler run the lanes 16 at a time in AVX-512 registers. The kernel
steps the tile through the whole run, composing the scalar rules of the mechanism modules in
the order documented in docs/model.md (ODD, scheduling), and writes the requested observables
into the caller's records at the end of each year and, when asked, one event code per step and
country-replicate (bits in :data:`spirallab.model.events.EVENT_BITS`).

Random numbers: each block of :data:`LANES` replicates has its own NumPy PCG64 stream
(:func:`spirallab.model.engine.block_draws`); the kernel draws from it itself, bit for bit as
NumPy would (:mod:`spirallab.model.pcg64`, 16 positions of the stream at once), or takes the
draws as an array (sweeps' side-by-side points, whose columns mix streams), so a seed gives the
same numbers as ever.
Countries not yet present are skipped after the first step (:func:`_dormant`): their state is a
fixed point of the step there; their draws are jumped over, a run of them in one jump
(:func:`spirallab.model.pcg64.jump_table`), so the stream stays NumPy's.
The network's attention is shared among countries: each step first computes every country's
demand, adds them in country order, then moves every country (two passes over the tile).

Compiled with ``cache=True`` (the first call in a fresh installation compiles, about 45 s on an
idle core; later processes load the cached machine code; runs with a shock lever, and runs with a
mechanism switched off, compile versions of their own, :func:`shock_levers` and
:func:`all_switches_on`) and without fastmath, so float32
operations round as written and the results equal the NumPy reference engine's bit for bit.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.model import defenders, government, kernel_cache, network, partners, society
from spirallab.model.context import Switches
from spirallab.model.events import BIT, PHASE_SHIFT
from spirallab.model.f32math import at, njit, put
from spirallab.model.pcg64 import fill_ways, jump_constants, jump_table, jump_ways, start_ways
from spirallab.model.rules import ACCEPTANCE, LANES, ONE, ZERO, P, as_f32
from spirallab.model.setup import LEVER_KINDS
from spirallab.model.state import TILE_ROWS

N_ROWS = len(TILE_ROWS)
N_LEVER_KINDS = len(LEVER_KINDS)
# The lever rows of the tile follow LEVER_KINDS, which _levers_in_force relies on.
if [r for r in TILE_ROWS if r.startswith("lever_")] != [f"lever_{k}" for k in LEVER_KINDS]:
    raise RuntimeError("state.TILE_ROWS lever rows are out of step with setup.LEVER_KINDS")
ROW_SIZE = N_ROWS * LANES  # floats per country in the tile
HALF = LANES // 2  # lanes per 16-wide vector (float32 in AVX-512)
_U32 = np.uint32

# Start of each row within a country's part of the flat tile (compile-time constants).
_Offsets = namedtuple("_Offsets", TILE_ROWS)  # type: ignore[misc]
OFS: Any = _Offsets(*(k * LANES for k in range(N_ROWS)))
_FIRST_LEVER = OFS.lever_aid_conditionality
_IMPOSED_CRACKDOWN = LEVER_KINDS.index("imposed_crackdown")
_REGIME_CHANGE = LEVER_KINDS.index("regime_change")

_SWITCHES: tuple[str, ...] = tuple(Switches.__dataclass_fields__)
SwitchFlags = namedtuple("SwitchFlags", _SWITCHES)  # type: ignore[misc]


def switch_flags(on: Switches) -> Any:
    """The mechanism switches as a named tuple of bools, the form the kernel takes."""
    return SwitchFlags(*(bool(getattr(on, name)) for name in _SWITCHES))


# Every switch on, as a constant of the compiled code (see all_switches_on).
_ALL_ON: Any = SwitchFlags(*(True for _ in _SWITCHES))


def all_switches_on(on: Any) -> tuple[()] | tuple[bool]:
    """Whether every mechanism switch is on (:func:`switch_flags`), as a type.

    ``(True,)`` if so, else ``()``, like :func:`shock_levers`: with ``(True,)`` run_tile reads
    the switches from a constant of its own, all on, so the compiler drops their tests from the
    lane loops (each a branch that splits the loop's code, which costs registers); a run with a
    switch off takes the version that reads them. The same numbers either way
    (tests/model/test_kernel_switches.py).
    """
    return (True,) if all(on) else ()


def shock_levers(lever_kind: npt.NDArray[np.int64]) -> tuple[()] | tuple[bool]:
    """Whether a track of a shock lever (imposed crackdown, regime change) runs, as a type.

    ``(True,)`` if one does, else ``()``: the two have different Numba types, so run_tile is
    compiled once for each kind of run it meets (each version half the code to compile).
    Without such a track those lever rows stay 0 at every step, where neither lever strikes
    (``pow32(1, dt)`` is exactly 1, so both probabilities are 0), and pass 2 leaves
    ``government.shock_outcome`` out: the same numbers (tests/model/test_kernel_shock_levers.py).
    """
    kinds = lever_kind.tolist()
    return (True,) if _IMPOSED_CRACKDOWN in kinds or _REGIME_CHANGE in kinds else ()


@njit(inline="always", error_model="numpy")
def _bit(flag: Any, k: int) -> Any:
    return _U32(flag) << _U32(k)


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def run_tile(
    draws: npt.NDArray[np.float32],  # (steps, 6, C, LANES), or empty: draw from ``rng``
    rng: npt.NDArray[
        np.uint64
    ],  # the block's PCG64 generator (pcg64.initial_state); its ways advance
    params: npt.NDArray[np.float32],  # (n_params * LANES,): row k holds parameter k per lane
    on: Any,
    init: npt.NDArray[np.float32],  # (state rows, C, LANES)
    starts: npt.NDArray[np.int64],  # (C,)
    years: npt.NDArray[np.int64],  # (n_years,)
    steps_per_year: int,
    step: np.float32,
    density: npt.NDArray[np.float32],  # (n_years,)
    material: npt.NDArray[np.float32],  # (n_years, C)
    social: npt.NDArray[np.float32],
    strategic: npt.NDArray[np.float32],
    insurgency: npt.NDArray[np.float32],
    security: npt.NDArray[np.float32],  # (C,)
    civil: npt.NDArray[np.float32],
    endemic_base: npt.NDArray[np.float32],
    lever_kind: npt.NDArray[np.int64],  # (tracks,) index into LEVER_KINDS
    lever_strength: npt.NDArray[np.float32],  # (tracks, n_years, C)
    lever_phase: npt.NDArray[np.bool_],  # (tracks, 6): the track acts in this phase (0-5)
    obs_rows: npt.NDArray[np.int64],  # (n_obs,) tile rows to record
    records: npt.NDArray[np.float32],  # (n_years, n_obs, C, R): written at columns col0 + lane
    col0: int,
    n_valid: int,
    codes: npt.NDArray[np.uint32],  # (steps * C * LANES,), or (C * LANES,) when events are off
    tile: npt.NDArray[np.float32],  # (C * ROW_SIZE,) work space
    total: npt.NDArray[np.float32],  # (LANES,) work space
    dx: Any,  # defenders (issue 11): defenders.pack(...); dx[0] == 0 when there are none
    jumps: npt.NDArray[np.uint64],  # (4 (K + 1),) work space: jump_table's K + 1 jumps
    shock_levers: Any,  # shock_levers(lever_kind): () or (True,)
    switches_on: Any,  # all_switches_on(on): () or (True,)
) -> None:
    """Simulate one tile of replicates over the whole run (see the module docstring)."""
    if len(switches_on) > 0:  # a constant of each compiled version (see all_switches_on)
        on = _ALL_ON
    n_c = starts.shape[0]
    n_years = years.shape[0]
    n_tracks = lever_kind.shape[0]
    own_draws = draws.shape[0] == 0
    code_step = n_c * LANES if codes.shape[0] > n_c * LANES else 0
    # A last, partial tile of at most HALF valid lanes computes only those (its draws are still
    # drawn for all lanes: the stream is the block's); the defenders' steps use every lane.
    n_lanes = HALF if n_valid <= HALF and not dx[0] else LANES
    # Dormant countries (not yet present, after the first step) are skipped: their state is a
    # fixed point of the step (docs/model.md, Performance, third pass). Not with defenders,
    # whose step is not audited for it. Their draws are jumped over, not generated.
    may_skip = not dx[0]
    # The generator runs as WAYS = LANES / 2 interleaved positions of the one stream, each
    # stepped LANES / 2 at a time: one country's draws per pass, vectorised (pcg64.fill_ways).
    n_ways = (rng.shape[0] - 4) // 2
    jump_hi, jump_lo, jump_c_hi, jump_c_lo = jump_constants(rng, LANES // 2)
    if own_draws:
        start_ways(rng)
        jump_table(jumps, jump_hi, jump_lo, jump_c_hi, jump_c_lo)
    # Dormant countries' draws not yet jumped over, in units of one country's draws: they are
    # jumped over in one go just before the next draws are made (and at the end), which leaves
    # the stream where the one-by-one jumps left it (pcg64 arithmetic is exact, modulo 2**128).
    n_jumps = jumps.shape[0] // 4 - 1
    pending = 0
    # A constant of each compiled version (see shock_levers): without the shock levers pass 2
    # leaves government.shock_outcome, and what follows from a shock, out.
    shocks = len(shock_levers) > 0
    tile[:] = ZERO
    for c in range(n_c):
        for r in range(init.shape[0]):
            for j in range(LANES):
                tile[c * ROW_SIZE + r * LANES + j] = init[r, c, j]
        # Constant over the run (a parameter and the step): once, not in every step. A country
        # that has not started steps with dt 0, where no episode strikes either way.
        for j in range(LANES):
            tile[c * ROW_SIZE + OFS.episode_threshold + j] = government.episode_threshold(
                at(params, P.episode_rate + j), step
            )
    _record(tile, obs_rows, records, 0, col0, n_valid)
    # --- defenders (issue 11): state, and the year-0 record ---
    ds = dx[12]  # zeroed by defenders.pack (the kernel allocates nothing)
    if dx[0]:
        defenders.record_year(dx, ds, 0, col0, n_valid)
    # --- end defenders ---

    for yi in range(1, n_years):
        year = years[yi]
        dens = density[yi]
        for k in range(steps_per_year):
            t = (yi - 1) * steps_per_year + k
            c0 = t * code_step
            if n_tracks > 0:
                _levers_in_force(
                    tile, lever_kind, lever_strength, lever_phase, yi, starts, year, t, may_skip
                )

            if own_draws:  # NumPy's order: draw, country, lane
                for d in range(6):
                    for c in range(n_c):
                        if _dormant(starts[c], year, t, may_skip):
                            pending += 1
                            if pending >= n_jumps:
                                pending = _jump_pending(rng, n_ways, jumps, pending)
                        else:
                            pending = _jump_pending(rng, n_ways, jumps, pending)
                            b = c * ROW_SIZE + OFS.u_phase + d * LANES
                            fill_ways(rng, n_ways, tile, b, jump_hi, jump_lo, jump_c_hi, jump_c_lo)

            # Pass 1: information and agenda, then each country's demand for attention.
            for c in range(n_c):
                if _dormant(starts[c], year, t, may_skip):
                    continue
                started = starts[c] < year
                dt = step if started else ZERO
                b = c * ROW_SIZE
                e = c0 + c * LANES
                if not own_draws:
                    for d in range(6):
                        for j in range(LANES):
                            tile[b + OFS.u_phase + d * LANES + j] = draws[t, d, c, j]
                for j in range(n_lanes):
                    _gather_lane(tile, b, j, codes, e, started, dt, dens, params, on)
            if dx[0]:  # defenders (issue 11): attacks on visible defenders draw attention
                defenders.alarm_into_demand(tile, ds)
            for j in range(LANES):
                total[j] = ZERO
            for c in range(n_c):
                for j in range(LANES):
                    total[j] = total[j] + tile[c * ROW_SIZE + OFS.demand + j]

            # Pass 2: everything else, country by country.
            for c in range(n_c):
                e = c0 + c * LANES
                if _dormant(starts[c], year, t, may_skip):
                    if code_step:  # what the step writes there: no event, phase 0 to 0
                        for j in range(n_lanes):
                            put(codes, e + j, _U32(0))
                    continue
                started = starts[c] < year
                present = starts[c] <= year
                dt = step if started else ZERO
                b = c * ROW_SIZE
                mv, sv, si, ins = (
                    material[yi, c],
                    social[yi, c],
                    strategic[yi, c],
                    insurgency[yi, c],
                )
                sc, cs, eb = security[c], civil[c], endemic_base[c]
                for j in range(n_lanes):
                    _step_lane(
                        tile,
                        b,
                        j,
                        codes,
                        e,
                        total[j],
                        started,
                        present,
                        dt,
                        dens,
                        year,
                        mv,
                        sv,
                        si,
                        ins,
                        sc,
                        cs,
                        eb,
                        params,
                        on,
                        shocks,
                    )
                if dx[0]:  # defenders (issue 11): threats, attacks, protection, consequences
                    defenders.defenders_step(tile, b, c, t, yi, dt, mv, sv, params, on, dx, ds)
        _record(tile, obs_rows, records, yi, col0, n_valid)
        if dx[0]:  # defenders (issue 11)
            defenders.record_year(dx, ds, yi, col0, n_valid)
    _jump_pending(rng, n_ways, jumps, pending)


@njit(inline="always", error_model="numpy")
def _jump_pending(rng: Any, n_ways: int, jumps: Any, pending: int) -> int:
    """Jump the ways over ``pending`` countries' draws at once (a dormant run); 0 left."""
    if pending:
        k = 4 * pending
        jump_ways(rng, n_ways, jumps[k], jumps[k + 1], jumps[k + 2], jumps[k + 3])
    return 0


@njit(inline="always", error_model="numpy")
def _dormant(start: int, year: int, t: int, may_skip: bool) -> bool:
    """Whether a country's step ``t`` may be skipped: not yet present, and not the first step.

    Before its start a country steps with ``dt = 0`` and ``started`` false: every rate is
    multiplied by ``dt``, every hazard is 0 and every event is masked by ``started``, so after
    one such step its state no longer changes and the step writes code 0 (docs/model.md,
    Performance). The first step of the run is computed, as it may still move the initial state
    (an agenda dropped, a silent government on the agenda turned to denial, mobilisation clipped).
    """
    return may_skip and t > 0 and start > year


@njit(inline="always", error_model="numpy")
def _gather_lane(
    T: Any, b: int, j: int, codes: Any, e: int, started: Any, dt: Any, dens: Any, p: Any, on: Any
) -> None:
    """Pass 1 of one step for one country-replicate: information, agenda, demand."""
    info, agenda, massacre, newly = network.gather_information(
        at(T, b + OFS.information + j),
        at(T, b + OFS.on_agenda + j) != ZERO,
        at(T, b + OFS.linkage + j),
        at(T, b + OFS.repression_political + j),
        at(T, b + OFS.u_massacre + j),
        started,
        dt,
        dens,
        at(T, b + OFS.lever_un_mechanism + j),
        p,
        j,
        on,
    )
    put(T, b + OFS.information + j, info)
    put(T, b + OFS.on_agenda + j, as_f32(agenda))
    demand = network.salience(
        at(T, b + OFS.repression_political + j),
        at(T, b + OFS.repression_endemic + j),
        at(T, b + OFS.phase + j),
        agenda,
        started,
        at(T, b + OFS.lever_naming_and_shaming + j),
        p,
        j,
        on,
    )
    put(T, b + OFS.demand + j, demand)
    put(codes, e + j, _bit(massacre, BIT.massacre) | _bit(newly, BIT.on_agenda))


@njit(inline="always", error_model="numpy")
def _step_lane(
    T: Any,
    b: int,
    j: int,
    codes: Any,
    e: int,
    total_demand: Any,
    started: Any,
    present: Any,
    dt: Any,
    dens: Any,
    year: Any,
    material: Any,
    social: Any,
    strategic: Any,
    insurgency: Any,
    security: Any,
    civil: Any,
    endemic_base: Any,
    p: Any,
    on: Any,
    shocks: bool,
) -> None:
    """Pass 2 of one step for one country-replicate: the mechanisms after the agenda.

    ``shocks``: whether a track of a shock lever runs (a constant: see :func:`shock_levers`).
    """
    stance0 = at(T, b + OFS.stance + j)
    phase0 = at(T, b + OFS.phase + j)
    naming = at(T, b + OFS.lever_naming_and_shaming + j)
    attention, campaign = network.allocate_attention(
        at(T, b + OFS.attention + j),
        at(T, b + OFS.demand + j),
        total_demand,
        stance0,
        dt,
        dens,
        naming,
        T.shape[0] // ROW_SIZE,  # countries in the tile (issue 10: capacity per country)
        p,
        j,
    )
    above = partners.press_from_above(
        at(T, b + OFS.pressure_above + j),
        attention,
        at(T, b + OFS.mobilisation + j),
        phase0,
        at(T, b + OFS.ratified_protocols + j) != ZERO,
        dt,
        dens,
        material,
        strategic,
        at(T, b + OFS.lever_bilateral_pressure + j),
        at(T, b + OFS.lever_aid_conditionality + j),
        at(T, b + OFS.lever_un_mechanism + j),
        at(T, b + OFS.lever_withdraw_pressure + j),
        p,
        j,
        on,
    )
    political = at(T, b + OFS.repression_political + j)
    mobilisation, fear, linkage, leaders = society.mobilise(
        at(T, b + OFS.mobilisation + j),
        at(T, b + OFS.fear + j),
        at(T, b + OFS.linkage + j),
        at(T, b + OFS.key_leaders + j),
        attention,
        political,
        stance0,
        dt,
        civil,
        at(T, b + OFS.lever_un_mechanism + j),
        at(T, b + OFS.lever_fund_domestic_groups + j),
        p,
        j,
        on,
    )
    core = at(T, b + OFS.ratified_core + j) != ZERO
    protocols = at(T, b + OFS.ratified_protocols + j) != ZERO
    constitution = at(T, b + OFS.constitution + j) != ZERO
    complaint = at(T, b + OFS.complaint_mechanism + j) != ZERO
    trained = at(T, b + OFS.trained_officials + j) != ZERO
    institutions = government.institutions_index(core, protocols, constitution, complaint, trained)
    legitimacy = at(T, b + OFS.legitimacy + j)
    vulnerable = government.vulnerability(material, social, p, j, on)
    (
        stance,
        rally,
        entrapment,
        regime_age,
        relief,
        fear_factor,
        crackdown,
        concede,
        falls,
        liberalises,
        retreats,
        argues,
    ) = government.decide(
        stance0,
        at(T, b + OFS.on_agenda + j) != ZERO,
        at(T, b + OFS.rally + j),
        attention,
        campaign,
        above,
        mobilisation,
        linkage,
        at(T, b + OFS.entrapment + j),
        legitimacy,
        at(T, b + OFS.regime_age + j),
        at(T, b + OFS.habituation + j),
        institutions,
        at(T, b + OFS.u_phase + j),
        at(T, b + OFS.u_choice + j),
        dt,
        dens,
        vulnerable,
        insurgency,
        civil,
        p,
        j,
        on,
    )
    information = at(T, b + OFS.information + j)
    mobilisation, leaders, fear, legitimacy, information, political = government.crack_down(
        crackdown, mobilisation, leaders, fear, legitimacy, information, political, p, j, on
    )
    political = political * relief
    fear = fear * fear_factor
    rcl = at(p, P.regime_change_legitimacy + j)
    legitimacy = rcl if falls else legitimacy

    # Levers that act as events (an imposed crackdown, a regime-change shock).
    imposed = shock = False
    if shocks:
        imposed, shock = government.shock_outcome(
            at(T, b + OFS.u_lever + j),
            at(T, b + OFS.lever_imposed_crackdown + j),
            at(T, b + OFS.lever_regime_change + j),
            started,
            dt,
        )
    mobilisation, leaders, fear, legitimacy, information, political = government.crack_down(
        imposed, mobilisation, leaders, fear, legitimacy, information, political, p, j, on
    )
    habituation = at(T, b + OFS.habituation + j)
    stance, liberal, repressive, settled = government.regime_change_shock(
        shock, stance, habituation, mobilisation, p, j
    )
    regime_age = regime_age * as_f32(not shock)
    legitimacy = rcl if shock else legitimacy
    entrapment = entrapment * as_f32(not repressive)
    base = at(T, b + OFS.preferred_repression + j)
    political = max(political, base) if repressive else political

    episode, political, episode_strikes = government.repressive_episode(
        at(T, b + OFS.episode + j),
        political,
        at(T, b + OFS.u_lever + j),
        at(T, b + OFS.episode_threshold + j),
        started,
        dt,
        p,
        j,
        on,
    )
    endemic = at(T, b + OFS.repression_endemic + j)
    political, endemic, habituation = government.adjust_practice(
        stance,
        political,
        endemic,
        habituation,
        mobilisation,
        fear,
        above,
        core,
        trained,
        institutions,
        dt,
        base,
        endemic_base,
        security,
        insurgency,
        episode,
        p,
        j,
        on,
    )

    got_core = got_prot = got_con = got_com = got_tra = False
    if on.institutions:
        accepted_before = stance0 == ACCEPTANCE
        got_core, got_prot = government.ratification(
            accepted_before,
            at(T, b + OFS.on_agenda + j) != ZERO,
            core,
            protocols,
            at(T, b + OFS.u_ratification + j),
            dt,
            dens,
            year,
            p,
            j,
        )
        got_con, got_com, got_tra = government.domestic_institutions(
            accepted_before,
            constitution,
            complaint,
            trained,
            at(T, b + OFS.u_institution + j),
            at(T, b + OFS.u_choice + j),
            dt,
            p,
            j,
        )
    repression = ONE - (ONE - political) * (ONE - endemic)
    phase = government.read_phase(stance, phase0, repression, habituation, present, p, j, on)

    put(T, b + OFS.stance + j, stance)
    put(T, b + OFS.repression_political + j, political)
    put(T, b + OFS.repression_endemic + j, endemic)
    put(T, b + OFS.legitimacy + j, legitimacy)
    put(T, b + OFS.rally + j, rally)
    put(T, b + OFS.entrapment + j, entrapment)
    put(T, b + OFS.habituation + j, habituation)
    _or_flag(T, b + OFS.new_regime + j, falls | shock)
    put(T, b + OFS.regime_age + j, regime_age)
    _or_flag(T, b + OFS.ratified_core + j, got_core)
    _or_flag(T, b + OFS.ratified_protocols + j, got_prot)
    _or_flag(T, b + OFS.constitution + j, got_con)
    _or_flag(T, b + OFS.complaint_mechanism + j, got_com)
    _or_flag(T, b + OFS.trained_officials + j, got_tra)
    put(T, b + OFS.mobilisation + j, mobilisation)
    put(T, b + OFS.fear + j, fear)
    put(T, b + OFS.key_leaders + j, leaders)
    put(T, b + OFS.linkage + j, linkage)
    put(T, b + OFS.information + j, information)
    put(T, b + OFS.attention + j, attention)
    put(T, b + OFS.campaign + j, campaign)
    put(T, b + OFS.pressure_above + j, above)
    put(T, b + OFS.episode + j, episode)
    put(T, b + OFS.phase + j, phase)

    moved = (phase != phase0) & (phase0 > ZERO)
    code = (
        at(codes, e + j)
        | _bit(crackdown, BIT.crackdown)
        | _bit(concede, BIT.concession)
        | _bit(falls, BIT.falls)
        | _bit(liberalises, BIT.liberalisation)
        | _bit(retreats, BIT.retreat)
        | _bit(argues, BIT.argumentation)
        | _bit(imposed, BIT.imposed)
        | _bit(liberal, BIT.shock_liberal)
        | _bit(repressive, BIT.shock_repressive)
        | _bit(settled, BIT.shock_settled)
        | _bit(got_core, BIT.core)
        | _bit(got_prot, BIT.protocols)
        | _bit(got_con, BIT.constitution)
        | _bit(got_com, BIT.complaint)
        | _bit(got_tra, BIT.training)
        | _bit(episode_strikes, BIT.episode)
        | _bit(moved, BIT.transition)
        | _bit(moved & (phase < phase0), BIT.backslide)
        | (_U32(phase0) << _U32(PHASE_SHIFT))
        | (_U32(phase) << _U32(PHASE_SHIFT + 4))
    )
    put(codes, e + j, code)


@njit(inline="always", error_model="numpy")
def _or_flag(T: Any, k: int, flag: Any) -> None:
    """Set the tile's flag at ``k`` where ``flag`` holds; it stays where it was set.

    Flags are 0.0 or 1.0 in the tile, so ``max`` is their ``or``: one float instruction
    instead of a compare and mask operations (fewer mask registers to spill in pass 2).
    """
    put(T, k, max(at(T, k), as_f32(flag)))


@njit(inline="always", error_model="numpy")
def _levers_in_force(
    tile: Any,
    lever_kind: Any,
    lever_strength: Any,
    lever_phase: Any,
    yi: int,
    starts: Any,
    year: int,
    t: int,
    may_skip: bool,
) -> None:
    """Lever strengths this step: tracks of a kind add up to at most 1, masked by phase.

    Not for dormant countries, whose skipped step reads no lever (the rows are rewritten in
    full at every step a country is stepped, and never recorded).
    """
    n_c = tile.shape[0] // ROW_SIZE
    for c in range(n_c):
        if _dormant(starts[c], year, t, may_skip):
            continue
        b = c * ROW_SIZE
        for j in range(N_LEVER_KINDS * LANES):
            tile[b + _FIRST_LEVER + j] = ZERO
        for tr in range(lever_kind.shape[0]):
            s = lever_strength[tr, yi, c]
            r = b + _FIRST_LEVER + lever_kind[tr] * LANES
            # The track's phases as bits, so that the lane loop shifts instead of gathering
            # bytes (which does not vectorise).
            phases = np.int64(0)
            for ph in range(lever_phase.shape[1]):
                phases = phases | (np.int64(lever_phase[tr, ph]) << np.int64(ph))
            for j in range(LANES):
                acts = (phases >> np.int64(at(tile, b + OFS.phase + j))) & np.int64(1)
                put(tile, r + j, min(at(tile, r + j) + s * np.float32(acts), ONE))


@njit(inline="always", error_model="numpy")
def _record(tile: Any, obs_rows: Any, records: Any, yi: int, col0: int, n_valid: int) -> None:
    """Derived observables, then the requested rows into the records of year ``yi``."""
    n_c = tile.shape[0] // ROW_SIZE
    fifth = np.float32(0.2)
    for c in range(n_c):
        b = c * ROW_SIZE
        for j in range(LANES):
            T = tile
            political = at(T, b + OFS.repression_political + j)
            endemic = at(T, b + OFS.repression_endemic + j)
            put(T, b + OFS.repression + j, ONE - (ONE - political) * (ONE - endemic))
            index = (
                at(T, b + OFS.ratified_core + j)
                + at(T, b + OFS.ratified_protocols + j)
                + at(T, b + OFS.constitution + j)
                + at(T, b + OFS.complaint_mechanism + j)
                + at(T, b + OFS.trained_officials + j)
            ) * fifth
            put(T, b + OFS.institutions + j, index)
            below = at(T, b + OFS.mobilisation + j) * (ONE - at(T, b + OFS.fear + j))
            put(T, b + OFS.pressure_below + j, below)
    # Element offsets from the strides (``records`` may be a view of a run's records, its last
    # axis contiguous): 4-D indexing, with its negative-index wraparound, made LLVM gather and
    # scatter here, which cost as much as a third of a full run's kernel.
    s0, s1, s2 = records.strides[0] // 4, records.strides[1] // 4, records.strides[2] // 4
    for o in range(obs_rows.shape[0]):
        r = obs_rows[o] * LANES
        for c in range(n_c):
            src = c * ROW_SIZE + r
            dst = yi * s0 + o * s1 + c * s2 + col0
            for j in range(n_valid):
                put(records, dst + j, at(tile, src + j))


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def preferred_at_rest(
    init: npt.NDArray[np.float32],  # (state rows, C, LANES): one tile's initial state
    params: npt.NDArray[np.float32],  # (n_params * LANES,), as run_tile's
    insurgency: npt.NDArray[np.float32],  # (C,): each country's insurgency at its start
    on: Any,
) -> None:
    """Replace the preferred-repression row by :func:`government.preferred_at_rest`.

    For a scenario started from observed practice (``Scenario.observed_start``), before the
    first step; the row holds the observed political repression until then.
    """
    pref = _ROW_PREFERRED
    for c in range(init.shape[1]):
        for j in range(LANES):
            init[pref, c, j] = government.preferred_at_rest(
                init[pref, c, j],
                init[_ROW_STANCE, c, j],
                init[_ROW_MOBILISATION, c, j],
                init[_ROW_FEAR, c, j],
                init[_ROW_PRESSURE, c, j],
                init[_ROW_CORE, c, j] != ZERO,
                init[_ROW_HABITUATION, c, j],
                insurgency[c],
                params,
                j,
                on,
            )


_ROW_PREFERRED = TILE_ROWS.index("preferred_repression")
_ROW_STANCE = TILE_ROWS.index("stance")
_ROW_MOBILISATION = TILE_ROWS.index("mobilisation")
_ROW_FEAR = TILE_ROWS.index("fear")
_ROW_PRESSURE = TILE_ROWS.index("pressure_above")
_ROW_CORE = TILE_ROWS.index("ratified_core")
_ROW_HABITUATION = TILE_ROWS.index("habituation")


# Numba's cache checks only this file's timestamp, yet run_tile inlines the rule modules: drop
# the cached machine code when any of them changed (kernel_cache.py), before the first call.
with contextlib.suppress(OSError):  # unreadable sources: Numba's own check remains
    kernel_cache.clear_if_stale(kernel_cache.cache_dir_of(run_tile))
