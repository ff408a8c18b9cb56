"""The experiment file format: a base scenario, the factors to vary, a design and the outputs.

An experiment is TOML, validated like a scenario file::

    name = "levers"
    scenario = "book-eleven"          # a built-in name, or a path relative to this file
    replicates = 50
    seed = 11

    [design]
    kind = "sobol"                    # grid | lhs | sobol | morris
    samples = 64

    [[factors]]
    name = "parameters.lobbying_efficacy"
    low = 0.2
    high = 1.0

    [outputs]
    by_years = [1990, 2030]

A factor names anything the scenario schema exposes: ``parameters.<name>``,
``countries.<ID>.<covariate>`` (``countries.*.<covariate>`` sets it for every listed country),
``levers[<i>].strength`` (or ``.start``/``.end``) and, in grids, ``mechanisms.<name>``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spirallab.errors import InputError
from spirallab.model.params import PARAMETERS
from spirallab.scenarios.load import builtin_names, load_scenario, parse_model, resolve
from spirallab.scenarios.schema import Scenario

BUILTIN_PACKAGE = "spirallab.experiments.builtin"
FACTOR_NAME = re.compile(
    r"^(parameters\.[a-z_]+|countries\.(\*|[A-Za-z0-9_\-]+)\.[a-z_]+"
    r"|levers\[\d+\]\.(strength|start|end)|mechanisms\.[a-z_]+)$"
)
Scalar = float | int | bool


class _Strict(BaseModel):
    # Strict: a string, a float or a boolean where a whole number is expected (``replicates =
    # "4"``, ``replicates = 5.0``, ``seed = true``) is refused, not converted.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DesignKind(StrEnum):
    grid = "grid"
    lhs = "lhs"
    sobol = "sobol"
    morris = "morris"


class Design(_Strict):
    """How points are drawn from the factor space."""

    kind: Annotated[DesignKind, Field(strict=False)] = Field(
        description="grid, lhs (Latin hypercube), sobol (Saltelli) or morris."
    )
    samples: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        default=64,
        description="sobol: base samples N (a power of two; N*(D+2) points, N*(2D+2) with second"
        " order); lhs: points; morris: trajectories (r*(D+1) points); grid: unused.",
    )
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")
    levels: Annotated[int, Field(ge=2, le=100)] = Field(
        4, description="morris: number of grid levels (even numbers are recommended)."
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Seed of the sampler (default: the experiment seed)."
    )


class Factor(_Strict):
    """One input varied by the design: a continuous range, or explicit levels (grid only)."""

    name: str = Field(description="What to vary, e.g. parameters.pressure_rate.")
    low: float | None = None
    high: float | None = None
    levels: list[Scalar] | None = Field(
        None, description="grid: the values to take (numbers or true/false)."
    )
    steps: Annotated[int, Field(ge=2, le=1000)] | None = Field(
        None, description="grid: evenly spaced values from low to high."
    )

    @field_validator("name")
    @classmethod
    def _known_form(cls, v: str) -> str:
        if not FACTOR_NAME.match(v):
            raise ValueError(
                f"factor name {v!r} is not of the form parameters.<name>, "
                "countries.<ID or *>.<covariate>, levers[<i>].strength|start|end or "
                "mechanisms.<name>"
            )
        return v

    @model_validator(mode="after")
    def _range(self) -> Factor:
        if self.levels is not None and len(self.levels) == 0:
            raise ValueError(f"{self.name}: levels is empty")
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ValueError(
                f"{self.name}: empty range, low {self.low} must be below high {self.high}"
            )
        return self


OutputKind = Literal[
    "p_reach", "years_in_phase", "backsliding", "final_repression", "final_phase", "defenders"
]
# The default statistics; "defenders" (issue 11) is asked for by name.
OUTPUT_KINDS: tuple[OutputKind, ...] = get_args(OutputKind)[:5]


class Outputs(_Strict):
    """The summary statistics kept for every point (and optionally the trajectories)."""

    statistics: Annotated[list[OutputKind], Field(min_length=1)] = Field(
        default_factory=lambda: list(OUTPUT_KINDS),
        description="p_reach: P(phase k reached by year Y), k=2..5; years_in_phase: median years"
        " in each phase; backsliding: share of runs whose phase ever fell; final_repression and"
        " final_phase: means in each country's last shown year (its end); defenders (only if"
        " asked for): attacks per defender-year at home, overall and in the capital and rural"
        " groups, and killings per run.",
    )
    by_years: list[Annotated[int, Field(ge=1800, le=2200)]] = Field(
        default_factory=list, description="Years Y for p_reach (default: the scenario's end)."
    )
    trajectories: bool = Field(
        default=False, description="Also keep phase and repression per replicate, country and year."
    )

    @model_validator(mode="after")
    def _no_repeats(self) -> Outputs:
        # A repeated statistic or year would give two columns of one name (and double counts).
        for key, values in (("statistics", self.statistics), ("by_years", self.by_years)):
            seen: set[object] = set()
            for v in values:
                if v in seen:
                    raise ValueError(f"{key} lists {v!r} twice")
                seen.add(v)
        return self


class Experiment(_Strict):
    """A complete, validated experiment file."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]
    description: str = ""
    scenario: str = Field(description="Built-in scenario name or a path relative to this file.")
    replicates: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0)] = 1
    common_random_numbers: bool = Field(
        True,
        description="Every point uses the same random numbers (the experiment seed), so"
        " differences between points come from the factors, not from noise.",
    )
    start: Annotated[int, Field(ge=1800, le=2200)] | None = None
    end: Annotated[int, Field(ge=1800, le=2200)] | None = None
    budget_runs: Annotated[int, Field(ge=1)] = Field(
        5_000_000, description="Refuse designs with more points x replicates than this."
    )
    design: Design
    factors: list[Factor] = Field(min_length=1)
    outputs: Outputs = Field(default_factory=lambda: Outputs())

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        names = [f.name for f in self.factors]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"factor {dup[0]!r} is listed twice")
        for f in self.factors:
            if self.design.kind == DesignKind.grid:
                if f.levels is None and (f.low is None or f.high is None or f.steps is None):
                    raise ValueError(
                        f"{f.name}: a grid factor needs levels = [...] or low, high and steps"
                    )
            elif f.levels is not None or f.steps is not None:
                raise ValueError(
                    f"{f.name}: levels/steps are for grid designs; a {self.design.kind} design"
                    " samples a range from low to high"
                )
            elif f.name.startswith("mechanisms."):
                raise ValueError(f"{f.name}: an on/off mechanism can only be varied in a grid")
        if self.design.kind == DesignKind.sobol:
            n = self.design.samples
            if n & (n - 1):
                raise ValueError(
                    f"design.samples = {n}: a Sobol design needs a power of two "
                    f"(e.g. {2 ** math.floor(math.log2(n))} or {2 ** math.ceil(math.log2(n))})"
                )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    def digest(self, base: Scenario) -> str:
        """A fingerprint of everything that determines the results (not the run settings)."""
        blob = json.dumps(
            {"experiment": self.model_dump(mode="json"), "scenario": base.model_dump(mode="json")},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def builtin_experiment_names() -> list[str]:
    from importlib import resources

    files = resources.files(BUILTIN_PACKAGE)
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def _experiment_path(name_or_path: str | Path) -> Path:
    from importlib import resources

    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise InputError(
                "experiment file not found",
                file=path,
                expected="a TOML file or a built-in experiment name "
                f"({', '.join(builtin_experiment_names())})",
            )
        return path
    if str(name_or_path) in builtin_experiment_names():
        return Path(str(resources.files(BUILTIN_PACKAGE).joinpath(f"{name_or_path}.toml")))
    raise InputError(
        f"no experiment named {str(name_or_path)!r}",
        expected=f"a .toml path or one of: {', '.join(builtin_experiment_names())}",
    )


def load_experiment(
    name_or_path: str | Path, allow_outside: bool = False
) -> tuple[Experiment, Scenario, str]:
    """Read and check an experiment file; returns it, its base scenario and the file's text.

    Every factor is checked against the scenario: it must exist, and both ends of its range (or
    every level) must be values the scenario schema accepts. The base scenario must be a
    built-in or a file in the experiment's folder (or below it) unless ``allow_outside``.
    """
    path = _experiment_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", file=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except RecursionError:
        raise InputError(
            "malformed TOML: arrays or tables nested too deeply",
            file=path,
            expected="an experiment file (a few levels of tables at most)",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=path) from None
    try:
        experiment = parse_model(Experiment, data, path)
    except RecursionError:
        raise InputError(
            "values nested too deeply", file=path, expected="an experiment file"
        ) from None
    base = _base_scenario(experiment, path, allow_outside)
    for i, factor in enumerate(experiment.factors):
        check_factor(base, factor, file=path, where=f"factors[{i}]")
    return experiment, base, text


def _base_scenario(experiment: Experiment, path: Path, allow_outside: bool = False) -> Scenario:
    ref = experiment.scenario
    candidate = path.parent / ref
    if ref.endswith(".toml") or candidate.exists():
        # Checked before the file is opened, so nothing of a file outside is read or echoed.
        if not allow_outside and not _inside(candidate, path.parent):
            raise InputError(
                "the base scenario is outside the experiment's folder",
                file=path,
                where="scenario",
                expected=f"a built-in scenario ({', '.join(builtin_names())}) or a file in "
                f"{path.parent} or below it (or pass --allow-outside)",
            )
        if not candidate.is_file():
            raise InputError(
                "base scenario file not found",
                file=path,
                where="scenario",
                found=ref,
                expected=f"a path relative to {path.parent} or a built-in scenario "
                f"({', '.join(builtin_names())})",
            )
        return load_scenario(candidate)
    if ref not in builtin_names():
        raise InputError(
            "unknown base scenario",
            file=path,
            where="scenario",
            found=ref,
            expected=f"a .toml path or one of: {', '.join(builtin_names())}",
        )
    return load_scenario(resolve(ref))


def _inside(candidate: Path, folder: Path) -> bool:
    """Whether ``candidate``, with ``..`` and symbolic links resolved, lies in ``folder``."""
    try:
        return candidate.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


# --- factors applied to a scenario -----------------------------------------------------------


def factor_bounds(factor: Factor) -> tuple[float, float]:
    """The sampled range of a continuous factor; parameters default to their registry range."""
    low, high = factor.low, factor.high
    if factor.name.startswith("parameters.") and (low is None or high is None):
        spec = {p.name: p for p in PARAMETERS}.get(factor.name.split(".", 1)[1])
        if spec is not None:
            low = spec.lo if low is None else low
            high = spec.hi if high is None else high
    if low is None or high is None:
        raise ValueError(f"{factor.name}: needs low and high")
    return float(low), float(high)


def grid_levels(factor: Factor) -> list[Scalar]:
    if factor.levels is not None:
        return list(factor.levels)
    assert factor.low is not None and factor.high is not None and factor.steps is not None
    step = (factor.high - factor.low) / (factor.steps - 1)
    return [factor.low + k * step for k in range(factor.steps)]


def apply_factors(base: Scenario, values: dict[str, Scalar]) -> Scenario:
    """The base scenario with each named factor set to its value, validated again."""
    data = base.model_dump(mode="python")
    for name, value in values.items():
        _set(data, base, name, value)
    return Scenario.model_validate(data)


def _set(data: dict[str, Any], base: Scenario, name: str, value: Scalar) -> None:
    head, _, rest = name.partition(".")
    if head == "parameters":
        data["parameters"][rest] = float(value)
    elif head == "mechanisms":
        data["mechanisms"][rest] = bool(value)
    elif head == "countries":
        cid, _, field = rest.partition(".")
        rows = [c for c in data["countries"] if cid in ("*", c["id"])]
        for row in rows:
            row[field] = _typed(row[field], value)
    else:
        m = re.match(r"levers\[(\d+)\]\.(\w+)", name)
        assert m is not None
        lever = data["levers"][int(m.group(1))]
        lever[m.group(2)] = _typed(lever[m.group(2)], value)


def _typed(old: object, value: Scalar) -> Scalar:
    # Years are whole numbers: a sampled 1987.6 means 1988.
    if isinstance(old, int) and not isinstance(old, bool):
        return round(float(value))
    return float(value)


def check_factor(base: Scenario, factor: Factor, file: Path | str, where: str) -> None:
    """Raise a precise :class:`InputError` if the factor cannot be applied to the scenario."""
    name = factor.name
    head, _, rest = name.partition(".")
    if head == "parameters" and rest not in {p.name for p in PARAMETERS}:
        raise InputError(
            "unknown parameter",
            file=file,
            where=f"{where}.name",
            found=name,
            expected="parameters.<name> with a name from `spirallab explain` or docs/model.md",
        )
    if head == "mechanisms" and rest not in base.mechanisms.model_dump():
        raise InputError(
            "unknown mechanism",
            file=file,
            where=f"{where}.name",
            found=name,
            expected="one of " + ", ".join(base.mechanisms.model_dump()),
        )
    if head == "countries":
        cid, _, field = rest.partition(".")
        ids = [c.id for c in base.countries]
        if not base.countries:
            raise InputError(
                "the base scenario generates its countries ([synthetic]); "
                "country covariates cannot be varied",
                file=file,
                where=f"{where}.name",
                found=name,
            )
        if cid != "*" and cid not in ids:
            raise InputError(
                "unknown country",
                file=file,
                where=f"{where}.name",
                found=cid,
                expected=f"* or one of {', '.join(ids)}",
            )
        numeric = [
            k
            for k, v in base.countries[0].model_dump().items()
            if isinstance(v, int | float | list) and k not in ("insurgency", "reference_outcomes")
        ]
        if field not in numeric:
            raise InputError(
                "unknown or non-numeric country covariate",
                file=file,
                where=f"{where}.name",
                found=field,
                expected="one of " + ", ".join(numeric),
            )
    if head.startswith("levers"):
        i = int(name[name.index("[") + 1 : name.index("]")])
        if i >= len(base.levers):
            raise InputError(
                "no such lever in the base scenario",
                file=file,
                where=f"{where}.name",
                found=name,
                expected=f"levers[0] to levers[{len(base.levers) - 1}]"
                if base.levers
                else "a scenario with [[levers]]",
            )
    ends: list[Scalar]
    if factor.levels is not None:
        ends = list(factor.levels)
    elif head == "mechanisms":
        ends = [True, False]
    else:
        try:
            ends = list(factor_bounds(factor))
        except ValueError:
            raise InputError(
                "a range needs low and high",
                file=file,
                where=where,
                expected="low = <number> and high = <number>",
            ) from None
    for v in ends:
        try:
            apply_factors(base, {name: v})
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(
                f"value outside what the scenario accepts: {err['msg']}",
                file=file,
                where=where,
                found=v,
                expected=_accepts(base, name),
            ) from None


def _accepts(base: Scenario, name: str) -> str | None:
    if name.startswith("parameters."):
        spec = {p.name: p for p in PARAMETERS}.get(name.split(".", 1)[1])
        if spec is not None:
            return f"a number from {spec.lo} to {spec.hi} ({spec.unit})"
    if name.endswith(".strength") or name.startswith("countries."):
        return "a number from 0 to 1 (share) for shares, a year for start/end"
    return None
