"""The what-if runner: one country from its observed state, with and without levers.

The country starts in the atlas's last year from the same observed state the calibrated world
starts from (confront's ``world_countries``), and is simulated ``horizon`` years ahead:

- without levers (the baseline), with all the chosen levers, and with each lever alone, all on
  the same random numbers (the engine draws them before the run, so paired runs differ only by
  the levers);
- ``replicates`` runs in ``clusters`` groups. With a posterior each group is one posterior draw,
  so the spread between groups carries the parameter uncertainty; without one every group uses
  the model's defaults and the spread is Monte Carlo error alone.

Intervals are 90% normal intervals of a mean over the groups. Nothing here does I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spirallab.errors import InputError

F64 = npt.NDArray[np.float64]
Z90 = 1.6449  # two-sided 90% normal quantile

# The levers an advocate or a partner government can pull (the scenario file's lever kinds);
# kinds added later (for example defenders' protection levers) are offered under their own name.
LEVER_LABELS: dict[str, str] = {
    "naming_and_shaming": "Naming and shaming",
    "aid_conditionality": "Aid conditionality",
    "un_mechanism": "UN or regional mechanisms",
    "bilateral_pressure": "Bilateral pressure",
    "withdraw_pressure": "Withdrawal of pressure",
    "fund_domestic_groups": "Support to domestic groups",
}
# Kinds that are events imposed on a country rather than levers anyone offers to pull.
NOT_LEVERS = frozenset({"imposed_crackdown", "regime_change"})

MAX_REPLICATES = 20_000
MAX_HORIZON = 30


def lever_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every lever the form offers, the scenario schema's order."""
    from spirallab.scenarios.defenders import PROTECTION_KINDS
    from spirallab.scenarios.schema import LeverKind

    return [
        (k.value, LEVER_LABELS.get(k.value, k.value.replace("_", " ").capitalize()))
        for k in LeverKind
        if k.value not in NOT_LEVERS and k.value not in PROTECTION_KINDS  # these need defenders
    ]


@dataclass(frozen=True)
class LeverChoice:
    kind: str
    start: int
    length: int
    strength: float

    @property
    def label(self) -> str:
        return LEVER_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())


@dataclass(frozen=True)
class WhatIf:
    """A what-if question about one country."""

    country_id: str
    levers: tuple[LeverChoice, ...]
    horizon: int = 10
    replicates: int = 1000
    seed: int = 1


@dataclass(frozen=True)
class Estimate:
    """A mean over groups with its 90% interval."""

    mean: float
    lo: float
    hi: float


@dataclass
class LeverEffect:
    lever: LeverChoice
    mean_phase: Estimate  # change in the expected phase at the horizon
    p_high: Estimate  # change in P(phase 4 or 5) at the horizon


@dataclass
class WhatIfResult:
    question: WhatIf
    start: int
    end: int
    initial_phase: int
    base: list[Estimate]  # P(phase k) at the horizon, k = 1..5
    with_levers: list[Estimate]
    difference: list[Estimate]
    base_shares: F64  # years x 5: P(phase) per year without levers
    with_shares: F64
    years: list[int]
    effects: list[LeverEffect]
    parameters: str
    seconds: float

    @property
    def strongest(self) -> LeverEffect | None:
        """The lever whose effect alone on the expected phase is largest."""
        return max(self.effects, key=lambda e: e.mean_phase.mean) if self.effects else None


def parse_levers(form: Mapping[str, str], first_year: int) -> tuple[LeverChoice, ...]:
    """Levers from the what-if form (``lever_KIND`` on, ``start_KIND``, ``length_KIND``,
    ``strength_KIND``), validated with the scenario schema's own messages."""
    from spirallab.scenarios.load import parse_model
    from spirallab.scenarios.schema import Lever

    out: list[LeverChoice] = []
    for kind, _ in lever_kinds():
        if form.get(f"lever_{kind}") not in ("on", "1", "true"):
            continue
        start = _int(form, f"start_{kind}", first_year)
        length = _int(form, f"length_{kind}", 5)
        if not 1 <= length <= MAX_HORIZON:
            raise InputError(
                "lever length out of range",
                file="what-if form",
                where=f"length_{kind}",
                found=length,
                expected=f"a whole number of years from 1 to {MAX_HORIZON}",
            )
        strength = _float(form, f"strength_{kind}", 0.5)
        lever = parse_model(
            Lever,
            {"kind": kind, "start": start, "end": start + length - 1, "strength": strength},
            "what-if form",
        )
        if lever.start < first_year:
            raise InputError(
                "a lever cannot start before the what-if",
                file="what-if form",
                where=f"start_{kind}",
                found=start,
                expected=f"a year from {first_year}",
            )
        out.append(LeverChoice(kind, lever.start, length, float(lever.strength)))
    return tuple(out)


def _int(form: Mapping[str, str], key: str, default: int) -> int:
    text = str(form.get(key, "")).strip()
    if text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise InputError(
            "not a whole number", file="what-if form", where=key, found=text,
            expected="a whole number",
        ) from None


def _float(form: Mapping[str, str], key: str, default: float) -> float:
    text = str(form.get(key, "")).strip()
    if text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            "not a number", file="what-if form", where=key, found=text,
            expected="a number from 0.0 to 1.0",
        ) from None
    if not np.isfinite(value):
        raise InputError(
            "not a finite number", file="what-if form", where=key, found=text,
            expected="a number from 0.0 to 1.0",
        )
    return value


def parse_question(form: Mapping[str, str], country_id: str, first_year: int) -> WhatIf:
    """The whole what-if form: levers, horizon, replicates and seed."""
    horizon = _int(form, "horizon", 10)
    if not 1 <= horizon <= MAX_HORIZON:
        raise InputError(
            "horizon out of range", file="what-if form", where="horizon", found=horizon,
            expected=f"a whole number of years from 1 to {MAX_HORIZON}",
        )
    replicates = _int(form, "replicates", 1000)
    if not 100 <= replicates <= MAX_REPLICATES:
        raise InputError(
            "replicates out of range", file="what-if form", where="replicates", found=replicates,
            expected=f"a whole number from 100 to {MAX_REPLICATES}",
        )
    seed = _int(form, "seed", 1)
    if seed < 0:
        raise InputError(
            "seed must be 0 or more", file="what-if form", where="seed", found=seed,
            expected="a whole number >= 0",
        )
    levers = parse_levers(form, first_year)
    return WhatIf(country_id, levers, horizon, replicates, seed)


def _estimate(groups: F64) -> Estimate:
    """Mean over groups and its 90% normal interval (clipped to what the quantity allows)."""
    m = float(groups.mean())
    se = float(groups.std(ddof=1) / np.sqrt(len(groups))) if len(groups) > 1 else 0.0
    return Estimate(m, m - Z90 * se, m + Z90 * se)


def run_whatif(
    record: Any,
    question: WhatIf,
    *,
    posterior: Any = None,
    progress: Callable[[int, int], None] | None = None,
    clusters: int = 25,
) -> WhatIfResult:
    """Answer ``question`` for a country of ``record`` (a confront Record)."""
    from spirallab.confront.calibrate import RIVALS
    from spirallab.confront.simulate import WorldModel
    from spirallab.confront.world import LOOKBACK, world_countries
    from spirallab.scenarios.schema import Scenario

    t0 = time.perf_counter()
    start = int(record.until)
    end = start + question.horizon
    seed_world = int(posterior.meta.get("world_seed", 0)) if posterior is not None else 0
    members, _ = world_countries(record, start, seed=seed_world, countries=[question.country_id])
    if not members:
        raise InputError(
            "no observed state to start from",
            where="country",
            found=question.country_id,
            expected=f"a country with PTS or Fariss scores in the {LOOKBACK} years up to {start}",
        )
    country = members[0].model_copy(update={"start": start})
    mechanisms: dict[str, bool] = {}
    if posterior is not None:
        mechanisms = dict(RIVALS.get(str(posterior.meta.get("rival", "full")), {}))
    groups = max(2, min(clusters, question.replicates // 10))
    per = -(-question.replicates // groups)
    seeds = [question.seed * 1_000_003 + g for g in range(groups)]
    params: dict[str, F64] = {}
    parameters = "the model's default parameters (no calibrated posterior was given)"
    if posterior is not None:
        draws = posterior.sample(groups, question.seed)
        params = {n: draws[n].to_numpy(dtype=np.float64) for n in draws.columns}
        parameters = (
            f"{groups} draws from the calibrated posterior"
            f" ({posterior.meta.get('rival', 'full')} model, trained"
            f" {'-'.join(str(y) for y in posterior.meta.get('train', []))})"
        )

    def simulate(levers: Sequence[LeverChoice]) -> npt.NDArray[np.int8]:
        scenario = Scenario.model_validate(
            {
                "name": "what-if",
                "start": start,
                "end": end,
                "replicates": per * groups,
                "seed": question.seed,
                "observed_start": True,
                "mechanisms": mechanisms,
                "countries": [country.model_dump()],
                "levers": [
                    {
                        "kind": lv.kind,
                        "targets": [country.id],
                        "start": lv.start,
                        "end": lv.start + lv.length - 1,
                        "strength": lv.strength,
                    }
                    for lv in levers
                ],
            }
        )
        model = WorldModel(scenario)
        return model.run(params, seeds, per).phase[:, 0, :]  # (years, groups * per)

    runs: list[Sequence[LeverChoice]] = [(), question.levers]
    if len(question.levers) > 1:
        runs += [(lv,) for lv in question.levers]
    total = len(runs)
    phases: list[npt.NDArray[np.int8]] = []
    for i, levers in enumerate(runs):
        phases.append(simulate(levers))
        if progress is not None:
            progress(i + 1, total)
    if len(question.levers) == 1:
        phases.append(phases[1])
    levels = np.arange(1, 6)

    def shares(ph: npt.NDArray[np.int8]) -> F64:
        return (ph[..., None] == levels).mean(axis=1)  # years x 5

    def by_group(values: F64) -> F64:
        return values.reshape(groups, per).mean(axis=1)

    base_end, with_end = phases[0][-1], phases[1][-1]
    onehot_b = (base_end[:, None] == levels).astype(np.float64)
    onehot_w = (with_end[:, None] == levels).astype(np.float64)
    base = [_estimate(by_group(onehot_b[:, k])) for k in range(5)]
    withl = [_estimate(by_group(onehot_w[:, k])) for k in range(5)]
    diff = [_estimate(by_group(onehot_w[:, k] - onehot_b[:, k])) for k in range(5)]
    effects: list[LeverEffect] = []
    for j, lv in enumerate(question.levers):
        alone = phases[2 + j][-1]
        effects.append(
            LeverEffect(
                lv,
                _estimate(by_group(alone.astype(np.float64) - base_end)),
                _estimate(by_group((alone >= 4).astype(np.float64) - (base_end >= 4))),
            )
        )
    effects.sort(key=lambda e: e.mean_phase.mean, reverse=True)
    years = list(range(start, end + 1))
    return WhatIfResult(
        question=question,
        start=start,
        end=end,
        initial_phase=int(country.initial_phase),
        base=base,
        with_levers=withl,
        difference=diff,
        base_shares=shares(phases[0]),
        with_shares=shares(phases[1]),
        years=years,
        effects=effects,
        parameters=parameters,
        seconds=time.perf_counter() - t0,
    )


def default_question(country_id: str, first_year: int, replicates: int = 1000) -> WhatIf:
    """Every lever alone at strength 0.5 for 5 years from next year: the brief's question."""
    levers = tuple(LeverChoice(k, first_year, 5, 0.5) for k, _ in lever_kinds())
    return WhatIf(country_id, levers, horizon=10, replicates=replicates, seed=1)
