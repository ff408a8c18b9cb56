"""The reference step loop: the mechanisms applied to whole (countries, replicates) arrays."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model.context import Context, Draws, Levers, ParamSet
from spirallab.model.events import EventLog
from spirallab.model.reference import government, network, partners, society
from spirallab.model.setup import LEVER_KINDS, Setup, initial_state
from spirallab.model.state import State


def _levers(
    setup: Setup, yi: int, phase: npt.NDArray[np.int8], zero: npt.NDArray[np.float32]
) -> Levers:
    by_kind: dict[str, npt.NDArray[np.float32]] = {}
    for track in setup.levers:
        s = track.strength[yi][:, None]
        if not s.any():
            continue
        if track.phases is not None:
            s = s * np.isin(phase, track.phases)
        prev = by_kind.get(track.kind)
        by_kind[track.kind] = s if prev is None else np.minimum(prev + s, np.float32(1.0))
    return Levers(**{k: by_kind.get(k, zero) for k in LEVER_KINDS}, any_active=bool(by_kind))


def step(s: State, ctx: Context, emit: Callable[..., None]) -> State:
    """One step of the model, in the order documented in docs/model.md (ODD, scheduling)."""
    stance_before = s.stance
    s = network.gather_information(s, ctx, emit)
    s = network.allocate_attention(s, ctx)
    s = partners.press_from_above(s, ctx)
    s = society.mobilise(s, ctx)
    s = government.decide(s, ctx, emit)
    s = government.adjust_practice(s, ctx)
    s = government.build_institutions(s, stance_before, ctx, emit)
    return government.read_phase(s, ctx)


def _observe(s: State, out: npt.NDArray[np.float32], names: tuple[str, ...]) -> None:
    for k, name in enumerate(names):
        out[k] = getattr(s, name)


def _no_events(*args: object, **kwargs: object) -> None:
    pass


def simulate_arrays(
    setup: Setup,
    draws: npt.NDArray[np.float32],
    parameters: Mapping[str, float | npt.NDArray[np.float32]],
    observables: tuple[str, ...],
    replicate_offset: int = 0,
    events: bool = True,
) -> tuple[npt.NDArray[np.float32], pd.DataFrame]:
    """Records (n_years, n_obs, C, R) and the events frame for the given draws (steps, 6, C, R)."""
    log = EventLog(replicate_offset=replicate_offset, year=int(setup.years[0]))
    c = setup.n_countries
    spy = setup.steps_per_year
    n_years = len(setup.years)
    n_replicates = draws.shape[-1]
    params = ParamSet(parameters)
    emit = log.emit if events else _no_events
    records = np.empty((n_years, len(observables), c, n_replicates), dtype=np.float32)
    s = initial_state(setup, n_replicates, parameters)
    started0 = (setup.starts <= setup.years[0])[:, None]
    s = s.replace(phase=(s.phase * started0).astype(np.int8))
    if setup.observed_start:
        at_start = np.clip(setup.starts - setup.years[0], 0, n_years - 1)
        insurgency0 = setup.insurgency[at_start, np.arange(c)][:, None]
        preferred = government.preferred_at_rest(s, params, setup.switches, insurgency0)
        s = s.replace(preferred_repression=preferred)
    _observe(s, records[0], observables)
    zero = np.zeros((c, 1), dtype=np.float32)
    dt_full = np.float32(setup.step)

    for yi in range(1, n_years):
        year = int(setup.years[yi])
        log.year = year
        # A country's start year records its initial state; it moves from the next step on.
        started = (setup.starts < year)[:, None]
        present = (setup.starts <= year)[:, None]
        dt = (started * dt_full).astype(np.float32)
        for k in range(spy):
            t = (yi - 1) * spy + k
            u = draws[t]
            ctx = Context(
                year=year - 1 + (k + 1) / spy,
                dt=dt,
                density=np.float32(setup.density[yi]),
                started=started,
                present=present,
                material_vulnerability=setup.material_vulnerability[yi][:, None],
                social_vulnerability=setup.social_vulnerability[yi][:, None],
                strategic_interest=setup.strategic_interest[yi][:, None],
                insurgency=setup.insurgency[yi][:, None],
                security_control=setup.security_control[:, None],
                civil_society=setup.civil_society[:, None],
                base_repression=s.preferred_repression,
                endemic_base=setup.endemic_base[:, None],
                levers=_levers(setup, yi, s.phase, zero),
                draws=Draws(
                    phase=u[0],
                    choice=u[1],
                    massacre=u[2],
                    institution=u[3],
                    ratification=u[4],
                    lever=u[5],
                ),
                params=params,
                on=setup.switches,
            )
            before = s.phase
            s = step(s, ctx, emit)
            if events:
                log.emit_transitions(before, s.phase)
        _observe(s, records[yi], observables)
    return records, log.frame(setup.country_ids)
