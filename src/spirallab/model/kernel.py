"""The compiled engine: every mechanism for a tile of replicates, all steps, in one Numba call.

A tile is :data:`LANES` replicate columns of all countries, held as one float32 array
``tile[country, row, lane]`` (rows in :data:`spirallab.model.state.ROW`): fixed strides and
branch-free rules let the compiler run the lanes 16 at a time in AVX-512 registers. The kernel
steps the tile through the whole run, composing the scalar rules of the mechanism modules in
the order documented in docs/model.md (ODD, scheduling), and writes the requested observables
into the caller's records at the end of each year and, when asked, one event code per step and
country-replicate (bits in :data:`spirallab.model.events.EVENT_BITS`).

Random numbers come in from the caller (:func:`spirallab.model.engine.block_draws`, one NumPy
PCG64 stream per block of :data:`LANES` replicates), so a seed gives the same numbers as ever.
The network's attention is shared among countries: each step first computes every country's
demand, adds them in country order, then moves every country (two passes over the tile).

Compiled with ``cache=True`` (the first call in a fresh installation compiles, about a minute;
later processes load the cached machine code) and without fastmath, so float32 operations round
as written and the results equal the NumPy reference engine's bit for bit.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.model import defenders, government, network, partners, society
from spirallab.model.context import Switches
from spirallab.model.events import BIT, PHASE_SHIFT
from spirallab.model.f32math import njit
from spirallab.model.rules import ACCEPTANCE, ONE, ZERO, as_f32
from spirallab.model.state import ROW, TILE_ROWS

LANES = 32  # replicates per tile: the engine's block of replicates
N_ROWS = len(TILE_ROWS)
N_LEVER_KINDS = 8
_FIRST_LEVER = ROW.lever_aid_conditionality
_U32 = np.uint32

SwitchFlags = namedtuple("SwitchFlags", list(Switches.__dataclass_fields__))  # type: ignore[misc]


def switch_flags(on: Switches) -> Any:
    """The mechanism switches as a named tuple of bools, the form the kernel takes."""
    return SwitchFlags(*(bool(getattr(on, name)) for name in SwitchFlags._fields))


@njit(inline="always")
def _bit(flag: Any, k: int) -> Any:
    return _U32(flag) << _U32(k)


@njit(cache=True, nogil=True)
def run_tile(
    draws: npt.NDArray[np.float32],  # (steps, 6, C, LANES)
    params: npt.NDArray[np.float32],  # (n_params, LANES)
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
    base: npt.NDArray[np.float32],
    endemic_base: npt.NDArray[np.float32],
    lever_kind: npt.NDArray[np.int64],  # (tracks,) index into LEVER_KINDS
    lever_strength: npt.NDArray[np.float32],  # (tracks, n_years, C)
    lever_phase: npt.NDArray[np.bool_],  # (tracks, 6): the track acts in this phase (0-5)
    obs_rows: npt.NDArray[np.int64],  # (n_obs,) tile rows to record
    records: npt.NDArray[np.float32],  # (n_years, n_obs, C, R): written at columns col0 + lane
    col0: int,
    n_valid: int,
    codes: npt.NDArray[np.uint32],  # (steps, C, LANES), or (1, C, LANES) when events are off
    dx: Any,  # defenders (issue 11): defenders.pack(...); dx[0] == 0 when there are none
) -> None:
    """Simulate one tile of replicates over the whole run (see the module docstring)."""
    n_c = starts.shape[0]
    n_years = years.shape[0]
    n_tracks = lever_kind.shape[0]
    code_step = 1 if codes.shape[0] > 1 else 0
    tile = np.zeros((n_c, N_ROWS, LANES), dtype=np.float32)
    total = np.zeros(LANES, dtype=np.float32)
    for c in range(n_c):
        for r in range(init.shape[0]):
            for j in range(LANES):
                tile[c, r, j] = init[r, c, j]
    _record(tile, obs_rows, records, 0, col0, n_valid)
    # --- defenders (issue 11): state, and the year-0 record ---
    ds = defenders.new_tile_state(dx, n_c)
    if dx[0]:
        defenders.record_year(dx, ds, 0, col0, n_valid)
    # --- end defenders ---

    for yi in range(1, n_years):
        year = years[yi]
        dens = density[yi]
        for k in range(steps_per_year):
            t = (yi - 1) * steps_per_year + k
            tc = t * code_step
            if n_tracks > 0:
                _levers_in_force(tile, lever_kind, lever_strength, lever_phase, yi)

            # Pass 1: information and agenda, then each country's demand for attention.
            for c in range(n_c):
                started = starts[c] < year
                dt = step if started else ZERO
                row = tile[c]
                u = draws[t, :, c]
                ev = codes[tc, c]
                for j in range(LANES):
                    info, agenda, massacre, newly = network.gather_information(
                        row[ROW.information, j],
                        row[ROW.on_agenda, j] != ZERO,
                        row[ROW.linkage, j],
                        row[ROW.repression_political, j],
                        u[2, j],
                        started,
                        dt,
                        dens,
                        row[ROW.lever_un_mechanism, j],
                        params,
                        j,
                        on,
                    )
                    row[ROW.information, j] = info
                    row[ROW.on_agenda, j] = as_f32(agenda)
                    row[ROW.demand, j] = network.salience(
                        row[ROW.repression_political, j],
                        row[ROW.repression_endemic, j],
                        row[ROW.phase, j],
                        agenda,
                        started,
                        row[ROW.lever_naming_and_shaming, j],
                        params,
                        j,
                        on,
                    )
                    ev[j] = _bit(massacre, BIT.massacre) | _bit(newly, BIT.on_agenda)
            if dx[0]:  # defenders (issue 11): attacks on visible defenders draw attention
                defenders.alarm_into_demand(tile, ds)
            for j in range(LANES):
                total[j] = ZERO
            for c in range(n_c):
                for j in range(LANES):
                    total[j] = total[j] + tile[c, ROW.demand, j]

            # Pass 2: everything else, country by country.
            for c in range(n_c):
                started = starts[c] < year
                present = starts[c] <= year
                dt = step if started else ZERO
                row = tile[c]
                u = draws[t, :, c]
                ev = codes[tc, c]
                for j in range(LANES):
                    _step_lane(
                        row, j, u, ev, total[j], started, present, dt, dens, material[yi, c],
                        social[yi, c], strategic[yi, c], insurgency[yi, c], security[c], civil[c],
                        base[c], endemic_base[c], params, on,
                    )  # fmt: skip
                if dx[0]:  # defenders (issue 11): threats, attacks, protection, consequences
                    defenders.defenders_step(
                        row, c, t, yi, dt, material[yi, c], social[yi, c], params, on, dx, ds
                    )
        _record(tile, obs_rows, records, yi, col0, n_valid)
        if dx[0]:  # defenders (issue 11)
            defenders.record_year(dx, ds, yi, col0, n_valid)


@njit(inline="always")
def _step_lane(
    row: Any,
    j: int,
    u: Any,
    ev: Any,
    total_demand: Any,
    started: Any,
    present: Any,
    dt: Any,
    dens: Any,
    material: Any,
    social: Any,
    strategic: Any,
    insurgency: Any,
    security: Any,
    civil: Any,
    base: Any,
    endemic_base: Any,
    p: Any,
    on: Any,
) -> None:
    """Pass 2 of one step for one country-replicate: the mechanisms after the agenda."""
    stance0 = row[ROW.stance, j]
    phase0 = row[ROW.phase, j]
    naming = row[ROW.lever_naming_and_shaming, j]
    attention, campaign = network.allocate_attention(
        row[ROW.attention, j], row[ROW.demand, j], total_demand, stance0, dt, dens, naming, p, j
    )
    above = partners.press_from_above(
        row[ROW.pressure_above, j],
        attention,
        row[ROW.mobilisation, j],
        phase0,
        row[ROW.ratified_protocols, j] != ZERO,
        dt,
        dens,
        material,
        strategic,
        row[ROW.lever_bilateral_pressure, j],
        row[ROW.lever_aid_conditionality, j],
        row[ROW.lever_un_mechanism, j],
        row[ROW.lever_withdraw_pressure, j],
        p,
        j,
        on,
    )
    political = row[ROW.repression_political, j]
    mobilisation, fear, linkage, leaders = society.mobilise(
        row[ROW.mobilisation, j],
        row[ROW.fear, j],
        row[ROW.linkage, j],
        row[ROW.key_leaders, j],
        attention,
        political,
        stance0,
        dt,
        civil,
        row[ROW.lever_un_mechanism, j],
        row[ROW.lever_fund_domestic_groups, j],
        p,
        j,
        on,
    )
    core = row[ROW.ratified_core, j] != ZERO
    protocols = row[ROW.ratified_protocols, j] != ZERO
    constitution = row[ROW.constitution, j] != ZERO
    complaint = row[ROW.complaint_mechanism, j] != ZERO
    trained = row[ROW.trained_officials, j] != ZERO
    institutions = government.institutions_index(core, protocols, constitution, complaint, trained)
    legitimacy = row[ROW.legitimacy, j]
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
        row[ROW.on_agenda, j] != ZERO,
        row[ROW.rally, j],
        attention,
        campaign,
        above,
        mobilisation,
        linkage,
        row[ROW.entrapment, j],
        legitimacy,
        row[ROW.regime_age, j],
        row[ROW.habituation, j],
        institutions,
        u[0, j],
        u[1, j],
        dt,
        dens,
        vulnerable,
        insurgency,
        civil,
        p,
        j,
        on,
    )
    information = row[ROW.information, j]
    mobilisation, leaders, fear, legitimacy, information, political = government.crack_down(
        crackdown, mobilisation, leaders, fear, legitimacy, information, political, p, j, on
    )
    political = political * relief
    fear = fear * fear_factor
    new_regime = (row[ROW.new_regime, j] != ZERO) or falls
    rcl = p[government.P.regime_change_legitimacy, j]
    legitimacy = rcl if falls else legitimacy

    # Levers that act as events (an imposed crackdown, a regime-change shock).
    imposed, shock = government.shock_outcome(
        u[5, j], row[ROW.lever_imposed_crackdown, j], row[ROW.lever_regime_change, j], started, dt
    )
    mobilisation, leaders, fear, legitimacy, information, political = government.crack_down(
        imposed, mobilisation, leaders, fear, legitimacy, information, political, p, j, on
    )
    habituation = row[ROW.habituation, j]
    stance, liberal, repressive, settled = government.regime_change_shock(
        shock, stance, habituation, mobilisation, p, j
    )
    new_regime = new_regime or shock
    regime_age = regime_age * as_f32(not shock)
    legitimacy = rcl if shock else legitimacy
    entrapment = entrapment * as_f32(not repressive)
    political = max(political, base) if repressive else political

    endemic = row[ROW.repression_endemic, j]
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
        p,
        j,
        on,
    )

    got_core = got_prot = got_con = got_com = got_tra = False
    if on.institutions:
        accepted_before = stance0 == ACCEPTANCE
        got_core, got_prot = government.ratification(
            accepted_before, row[ROW.on_agenda, j] != ZERO, core, protocols, u[4, j], dt, dens, p, j
        )
        got_con, got_com, got_tra = government.domestic_institutions(
            accepted_before, constitution, complaint, trained, u[3, j], u[1, j], dt, p, j
        )
    repression = ONE - (ONE - political) * (ONE - endemic)
    phase = government.read_phase(stance, phase0, repression, habituation, present, p, j, on)

    row[ROW.stance, j] = stance
    row[ROW.repression_political, j] = political
    row[ROW.repression_endemic, j] = endemic
    row[ROW.legitimacy, j] = legitimacy
    row[ROW.rally, j] = rally
    row[ROW.entrapment, j] = entrapment
    row[ROW.habituation, j] = habituation
    row[ROW.new_regime, j] = as_f32(new_regime)
    row[ROW.regime_age, j] = regime_age
    row[ROW.ratified_core, j] = as_f32(core or got_core)
    row[ROW.ratified_protocols, j] = as_f32(protocols or got_prot)
    row[ROW.constitution, j] = as_f32(constitution or got_con)
    row[ROW.complaint_mechanism, j] = as_f32(complaint or got_com)
    row[ROW.trained_officials, j] = as_f32(trained or got_tra)
    row[ROW.mobilisation, j] = mobilisation
    row[ROW.fear, j] = fear
    row[ROW.key_leaders, j] = leaders
    row[ROW.linkage, j] = linkage
    row[ROW.information, j] = information
    row[ROW.attention, j] = attention
    row[ROW.campaign, j] = campaign
    row[ROW.pressure_above, j] = above
    row[ROW.phase, j] = phase

    moved = (phase != phase0) and (phase0 > ZERO)
    code = (
        ev[j]
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
        | _bit(moved, BIT.transition)
        | _bit(moved and phase < phase0, BIT.backslide)
        | (_U32(phase0) << _U32(PHASE_SHIFT))
        | (_U32(phase) << _U32(PHASE_SHIFT + 4))
    )
    ev[j] = code


@njit(inline="always")
def _levers_in_force(
    tile: Any, lever_kind: Any, lever_strength: Any, lever_phase: Any, yi: int
) -> None:
    """Lever strengths this step: tracks of a kind add up to at most 1, masked by phase."""
    n_c = tile.shape[0]
    for c in range(n_c):
        for kind in range(N_LEVER_KINDS):
            for j in range(LANES):
                tile[c, _FIRST_LEVER + kind, j] = ZERO
        for tr in range(lever_kind.shape[0]):
            s = lever_strength[tr, yi, c]
            r = _FIRST_LEVER + lever_kind[tr]
            for j in range(LANES):
                acts = lever_phase[tr, np.int64(tile[c, ROW.phase, j])]
                tile[c, r, j] = min(tile[c, r, j] + s * as_f32(acts), ONE)


@njit(inline="always")
def _record(tile: Any, obs_rows: Any, records: Any, yi: int, col0: int, n_valid: int) -> None:
    """Derived observables, then the requested rows into the records of year ``yi``."""
    n_c = tile.shape[0]
    fifth = np.float32(0.2)
    for c in range(n_c):
        row = tile[c]
        for j in range(LANES):
            row[ROW.repression, j] = ONE - (ONE - row[ROW.repression_political, j]) * (
                ONE - row[ROW.repression_endemic, j]
            )
            row[ROW.institutions, j] = (
                row[ROW.ratified_core, j]
                + row[ROW.ratified_protocols, j]
                + row[ROW.constitution, j]
                + row[ROW.complaint_mechanism, j]
                + row[ROW.trained_officials, j]
            ) * fifth
            row[ROW.pressure_below, j] = row[ROW.mobilisation, j] * (ONE - row[ROW.fear, j])
    for o in range(obs_rows.shape[0]):
        r = obs_rows[o]
        for c in range(n_c):
            for j in range(n_valid):
                records[yi, o, c, col0 + j] = tile[c, r, j]
