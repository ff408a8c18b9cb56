"""What the defenders leave in a run's results: yearly outcomes, events and a summary section.

Everything here exists only when a scenario has defenders (``Setup.defenders`` is not None);
otherwise the results, events and summary are exactly those of the engine without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model.defenders import (
    ATTACK_OUTCOMES,
    DETENTION,
    EV_CASE,
    EV_NON_STATE,
    EV_RELEASE,
    EV_RELOCATION,
    EV_RETURN,
    HARASSMENT,
    KILLING,
    N_OUT,
    OUT,
    OUTCOMES,
)
from spirallab.model.events import DETAILS, EVENT_NAMES

if TYPE_CHECKING:
    from spirallab.model.setup import Setup

DEFENDER_EVENTS: dict[str, str] = {
    "defender_attack": "an attack on a defender (detail: kind and perpetrator)",
    "defender_relocation": "a defender is temporarily relocated abroad",
    "protection_case": "a formal mechanism takes up a defender's case",
    "defender_release": "a detained defender is released",
    "defender_return": "a relocated defender returns",
}
_ATTACK_DETAILS = {
    (HARASSMENT, False): "harassment by the state",
    (DETENTION, False): "arrest by the state",
    (KILLING, False): "killing by the state",
    (HARASSMENT, True): "harassment by a non-state perpetrator",
    (DETENTION, True): "abduction by a non-state perpetrator",
    (KILLING, True): "killing by a non-state perpetrator",
}
DEFENDER_DETAILS: tuple[str, ...] = tuple(_ATTACK_DETAILS.values())

# Columns the results frame gains, per country-year (sums over the country's groups).
FRAME_COLUMNS: tuple[str, ...] = (
    *ATTACK_OUTCOMES,
    "defender_attacks",
    "defender_killings",
    "defender_relocations",
    "share_protected",
    "defenders_alive",
)


def allocate(setup: Setup, n_replicates: int) -> npt.NDArray[np.float32] | None:
    """Zeroed yearly outcome records (years, outcomes, C, groups, R), or None without defenders."""
    ds = setup.defenders
    if ds is None:
        return None
    shape = (len(setup.years), N_OUT, setup.n_countries, ds.max_groups, n_replicates)
    return np.zeros(shape, dtype=np.float32)


def event_rows(dx: tuple[Any, ...], n_valid: int, col0: int) -> tuple[npt.NDArray[np.intp], ...]:
    """(step, country, defender, column, code) of every defender event in a tile."""
    codes = dx[10][..., :n_valid]
    t, c, d, r = np.nonzero(codes)
    return t, c, d, r + col0, codes[t, c, d, r].astype(np.intp)


def merge_events(
    frame: pd.DataFrame,
    setup: Setup,
    found: list[tuple[npt.NDArray[np.intp], ...]],
    replicate_offset: int,
) -> pd.DataFrame:
    """The events frame with the defenders' events added, and ``defender``/``group`` columns."""
    ds = setup.defenders
    assert ds is not None
    events = [*EVENT_NAMES, *DEFENDER_EVENTS]
    details = [*DETAILS, *DEFENDER_DETAILS, *_OTHER_DETAILS.values()]
    groups = sorted({g for gs in ds.group_names for g in gs})
    base = frame.copy()
    base["event"] = base["event"].cat.set_categories(events)
    base["detail"] = base["detail"].cat.set_categories(details)
    base["defender"] = pd.array(np.zeros(len(base), dtype=np.int32), dtype="Int32")
    base["defender"] = base["defender"].mask(np.ones(len(base), dtype=bool))
    base["group"] = pd.Categorical.from_codes(np.full(len(base), -1), categories=groups)
    parts = [base]
    if found and sum(len(f[0]) for f in found):
        t, c, d, r, v = (np.concatenate([f[k] for f in found]) for k in range(5))
        year = setup.years[t // setup.steps_per_year + 1].astype(np.int64)
        # Group of each (country, defender) as a code into the sorted group names.
        code_of = {g: k for k, g in enumerate(groups)}
        table = np.full(ds.group_count.shape, -1, dtype=np.int64)
        for ci, names in enumerate(ds.group_names):
            table[ci, : len(names)] = [code_of[g] for g in names]
        group_code = table[c, ds.attrs[c, d, 0].astype(np.int64)]
        # Detail of an attack: kind (1-3) and perpetrator, as a code into ``details``.
        attack_detail = np.array(
            [details.index(_ATTACK_DETAILS[(k, ns)]) if k else -1
             for ns in (False, True) for k in range(4)],
            dtype=np.int64,
        )  # fmt: skip
        kind = v & 3
        non_state = ((v & EV_NON_STATE) != 0).astype(np.int64)
        moved, case = (details.index(_OTHER_DETAILS[k]) for k in ("relocation", "case"))
        pieces = [
            (kind > 0, "defender_attack", attack_detail[non_state * 4 + kind]),
            ((v & EV_RELOCATION) != 0, "defender_relocation", moved),
            ((v & EV_CASE) != 0, "protection_case", case),
            ((v & EV_RELEASE) != 0, "defender_release", 0),
            ((v & EV_RETURN) != 0, "defender_return", 0),
        ]  # fmt: skip
        cols: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in ("i", "e", "x")}
        for mask, event, detail in pieces:
            idx = np.nonzero(mask)[0]
            cols["i"].append(idx)
            cols["e"].append(np.full(len(idx), events.index(event), dtype=np.int64))
            cols["x"].append(
                detail[idx] if isinstance(detail, np.ndarray) else np.full(len(idx), detail)
            )
        idx, ev, det = (np.concatenate(cols[k]) for k in ("i", "e", "x"))
        # Within a replicate, year and country: the step, then the order of ``pieces``.
        order = np.lexsort((np.arange(len(idx)), t[idx], c[idx], year[idx], r[idx]))
        idx, ev, det = idx[order], ev[order], det[order]
        n = len(idx)
        parts.append(
            pd.DataFrame(
                {
                    "replicate": (r[idx] + replicate_offset).astype(np.int64),
                    "country": pd.Categorical.from_codes(c[idx], categories=setup.country_ids),
                    "year": year[idx],
                    "event": pd.Categorical.from_codes(ev, categories=events),
                    "from_phase": pd.array(np.zeros(n, dtype=np.int8), dtype="Int8"),
                    "to_phase": pd.array(np.zeros(n, dtype=np.int8), dtype="Int8"),
                    "detail": pd.Categorical.from_codes(det, categories=details),
                    "defender": pd.array(d[idx].astype(np.int32), dtype="Int32"),
                    "group": pd.Categorical.from_codes(group_code[idx], categories=groups),
                }
            )
        )
        for name in ("from_phase", "to_phase"):
            parts[-1][name] = parts[-1][name].mask(np.ones(n, dtype=bool))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["replicate", "year", "country"], kind="stable", ignore_index=True)


_OTHER_DETAILS = {
    "relocation": "temporary international relocation",
    "case": "formal mechanism takes up the case",
}


# --- results -----------------------------------------------------------------------------------
def frame_columns(
    records: npt.NDArray[np.float32], yi: npt.NDArray[np.intp], ci: npt.NDArray[np.intp]
) -> dict[str, npt.NDArray[Any]]:
    """Per country-year columns for the results frame, in its (country-year, replicate) order."""
    by_country = records.sum(axis=3)  # (years, outcomes, C, R)

    def col(k: int) -> npt.NDArray[np.float32]:
        return by_country[yi, k, ci, :].reshape(-1)

    out: dict[str, npt.NDArray[Any]] = {}
    for name in ATTACK_OUTCOMES:
        out[name] = col(OUTCOMES.index(name)).astype(np.int32)
    attacks = sum(out[n] for n in ATTACK_OUTCOMES)
    out["defender_attacks"] = np.asarray(attacks, dtype=np.int32)
    out["defender_killings"] = (out["killing_state"] + out["killing_non_state"]).astype(np.int32)
    out["defender_relocations"] = col(OUT.relocations).astype(np.int32)
    alive_years = col(OUT.years_alive)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_protected"] = np.where(
            alive_years > 0, col(OUT.years_protected) / alive_years, np.nan
        ).astype(np.float32)
    out["defenders_alive"] = col(OUT.alive).astype(np.int32)
    return out


def attack_rate(records: npt.NDArray[np.float32], selector: Any = slice(None)) -> float:
    """Attacks per defender-year at home over the selected (years, C, groups, R) cells."""
    attacks = records[:, : len(ATTACK_OUTCOMES)].sum(axis=1)[selector].sum()
    exposure = records[:, OUT.years_at_home][selector].sum()
    return float(attacks / exposure) if exposure > 0 else float("nan")


def summary(setup: Setup, records: npt.NDArray[np.float32]) -> dict[str, Any]:
    """The summary's defenders section: attack rates over time by location and visibility,
    outcomes per country, and the attack rate of the groups each protection lever reaches in the
    years it is in force against the other years (descriptive, not a counterfactual)."""
    ds = setup.defenders
    assert ds is not None
    years = setup.years
    decades = sorted({int(y) // 10 * 10 for y in years[1:]})
    n_c, n_g = setup.n_countries, ds.max_groups
    rural = np.zeros((n_c, n_g), dtype=bool)
    visible = np.zeros((n_c, n_g), dtype=bool)
    present = np.zeros((n_c, n_g), dtype=bool)
    for c in range(n_c):
        for g in range(len(ds.group_names[c])):
            present[c, g] = ds.group_count[c, g] > 0
            rural[c, g] = ds.group_location[c][g] == "rural"
            visible[c, g] = ds.group_visibility[c][g] >= 0.5

    def rate(cells: npt.NDArray[np.bool_], year_mask: npt.NDArray[np.bool_]) -> float | None:
        sel = year_mask[:, None, None, None] & cells[None, :, :, None]
        sel = np.broadcast_to(sel, (len(years), n_c, n_g, records.shape[-1]))
        r = attack_rate(records, sel)
        return None if np.isnan(r) else round(r, 4)

    by = {
        "capital": present & ~rural,
        "rural": present & rural,
        "visible (>= 0.5)": present & visible,
        "less visible (< 0.5)": present & ~visible,
    }
    over_time = {
        label: {
            str(dec): rate(cells, (years // 10 * 10 == dec) & (years > years[0])) for dec in decades
        }
        for label, cells in by.items()
    }
    totals = records.sum(axis=(0, 3))  # (outcomes, C, R) summed over years and groups
    countries: dict[str, Any] = {}
    for c, cid in enumerate(setup.country_ids):
        if ds.n_defenders[c] == 0:
            continue
        per_rep = totals[:, c, :]
        alive_years = per_rep[OUT.years_alive].sum()
        countries[cid] = {
            "defenders": int(ds.n_defenders[c]),
            "groups": dict(zip(ds.group_names[c], map(int, ds.group_count[c]), strict=False)),
            "mean_attacks_by_kind": {
                name: round(float(per_rep[k].mean()), 3) for k, name in enumerate(ATTACK_OUTCOMES)
            },
            "mean_killings": round(
                float(per_rep[OUT.killing_state].mean() + per_rep[OUT.killing_non_state].mean()), 3
            ),
            "mean_relocations": round(float(per_rep[OUT.relocations].mean()), 3),
            "share_protected": round(float(per_rep[OUT.years_protected].sum() / alive_years), 4)
            if alive_years > 0
            else None,
            "attack_rate_by_group": {
                name: rate(
                    np.eye(n_c, dtype=bool)[c][:, None] & (np.arange(n_g) == g)[None, :],
                    years > years[0],
                )
                for g, name in enumerate(ds.group_names[c])
            },
        }
    levers = []
    for tr, label in enumerate(ds.lever_labels):
        s = ds.lever_strength[tr]  # (years, C, G)
        reached = (s > 0).any(axis=0) & present
        active = (s > 0).any(axis=(1, 2)) & (years > years[0])
        levers.append(
            {
                "lever": label,
                "attack_rate_reached_in_force": rate(reached, active),
                "attack_rate_reached_other_years": rate(reached, ~active & (years > years[0])),
            }
        )
    return {
        "note": "attack rates are attacks per defender-year at home (not detained, relocated"
        " or dead); lever rows compare the groups a lever reaches in its years against their"
        " other years, which is descriptive, not the lever's causal effect",
        "attack_rate_by_decade": over_time,
        "countries": countries,
        "levers": levers,
    }


# --- experiment outputs (spirallab sweep / sensitivity / discover) -------------------------------
DEFENDER_COLUMNS: tuple[str, ...] = (
    "defender_attack_rate",
    "defender_attack_rate_capital",
    "defender_attack_rate_rural",
    "defender_killings",
)


def defender_outputs(result: Any) -> dict[str, npt.NDArray[np.float64]]:
    """Per country and pooled (last): attack rates (all, capital, rural groups) and killings.

    Attack rates are attacks per defender-year at home over the run; killings the mean per run.
    NaN where a country (or location) has no defenders.
    """
    n_c = len(result.country_ids)
    records = result.defenders
    ds = result.setup.defenders
    if records is None or ds is None:
        nan = np.full(n_c + 1, np.nan)
        return {name: nan for name in DEFENDER_COLUMNS}
    rec = records[1:]  # the first year holds the initial state only
    n_g = ds.max_groups
    rural = np.zeros((n_c, n_g), dtype=bool)
    for c, locations in enumerate(ds.group_location):
        rural[c, : len(locations)] = [loc == "rural" for loc in locations]
    attacks = rec[:, : len(ATTACK_OUTCOMES)].sum(axis=(0, 1, 4))  # (C, G)
    home = rec[:, OUT.years_at_home].sum(axis=(0, 3))  # (C, G)
    kills = rec[:, [OUT.killing_state, OUT.killing_non_state]].sum(axis=(0, 1, 3))  # (C, R)

    def ratio(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        a = np.where(mask, attacks, 0.0)
        h = np.where(mask, home, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            per = a.sum(axis=1) / h.sum(axis=1)
            pooled = a.sum() / h.sum()
        return np.append(per, pooled).astype(np.float64)

    every = np.ones((n_c, n_g), dtype=bool)
    killings = np.append(kills.mean(axis=1), kills.sum(axis=0).mean()).astype(np.float64)
    return {
        "defender_attack_rate": ratio(every),
        "defender_attack_rate_capital": ratio(~rural),
        "defender_attack_rate_rural": ratio(rural),
        "defender_killings": killings,
    }
