"""The scenario file format: countries, levers, mechanisms and parameter overrides.

A scenario is TOML; this module is its single definition (``spirallab schema`` prints it as JSON
Schema). Every country covariate carries a unit and a grounding like the model parameters do.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from spirallab.model.params import Parameters
from spirallab.model.worldtime import TREATY_OPENED
from spirallab.scenarios.defenders import DefenderGroup, DefendersConfig, check_defenders

Share = Annotated[float, Field(ge=0.0, le=1.0)]
YEAR_MIN, YEAR_MAX = 1800, 2200
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
# A covariate that may change over time: a constant, or [[year, value], ...] read as a step
# function (the value holds from its year until the next entry; before the first entry the first
# value holds). Years must be strictly increasing, so no entry silently overrides another.
TimeVarying = Share | Annotated[list[tuple[Year, Share]], Field(min_length=1)]
# Display names: one line, no surrounding blanks (they head tables, figures and file names).
Name = Annotated[
    str, Field(min_length=1, max_length=120, pattern=r"^\S(?:[^\x00-\x1f\x7f-\x9f]*\S)?$")
]
# Longest list quoted back in an error message (a 10,000-country file must not give 80 KB lines).
QUOTE_AT_MOST = 8


def quote_list(items: list[str]) -> str:
    """``items`` for an error message, cut after a few with the count of the rest."""
    shown = ", ".join(items[:QUOTE_AT_MOST])
    rest = len(items) - QUOTE_AT_MOST
    return f"{shown}, ... ({rest} more)" if rest > 0 else shown


def _steps_increasing(value: object) -> object:
    if isinstance(value, list):
        years = [y for y, _ in value]
        for a, b in itertools.pairwise(years):
            if b <= a:
                what = "repeats" if a == b else "comes before"
                raise ValueError(
                    f"step function years must increase: {b} {what} {a}; give each year once,"
                    " in order"
                )
    return value


def _meta(unit: str, grounding: str) -> dict[str, Any]:
    return {"unit": unit, "grounding": grounding}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceOutcome(_Strict):
    """A historical outcome shown beside the simulation in the report. Never read by the model."""

    label: Name
    year: Year
    year_end: Year | None = None
    phase: Annotated[int, Field(ge=1, le=5)] = Field(
        description="The phase the outcome is taken to mark (e.g. 4 for a transition)."
    )

    @model_validator(mode="after")
    def _span(self) -> ReferenceOutcome:
        if self.year_end is not None and self.year_end < self.year:
            raise ValueError(f"year_end ({self.year_end}) is before year ({self.year})")
        return self


class Country(_Strict):
    """A target state with its society, at the start of its repressive situation."""

    id: Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9_\-]+$")]
    name: Name
    start: Year = Field(
        description="Year the repressive situation begins; the country is simulated from then.",
        json_schema_extra=_meta("year", "issue 2 facts; 001 Phase 1"),
    )
    end: Year | None = Field(
        default=None,
        description="Last year the country exists as one state (e.g. a dissolution); no results,"
        " events or summaries are shown for it after this year. Default: the scenario's end.",
        json_schema_extra=_meta("year", "the country's history (e.g. Czechoslovakia 1992)"),
    )
    initial_phase: Annotated[int, Field(ge=1, le=5)] = Field(
        default=1,
        description="Phase at the start; the state is set consistently with it.",
        json_schema_extra=_meta("phase (1-5)", "assumption: 1 unless a scenario says otherwise"),
    )
    repression: Share = Field(
        default=0.8,
        description="Political (high-profile) repression at the start.",
        json_schema_extra=_meta("share (0-1); 1 + 4x approximates PTS", "001 Phase 1"),
    )
    endemic_abuse: Share = Field(
        default=0.5,
        description="Endemic, low-level abuse (e.g. routine torture of suspects).",
        json_schema_extra=_meta("share (0-1)", "001 critical moments: endemic abuse"),
    )
    material_vulnerability: TimeVarying = Field(
        default=0.5,
        description="Dependence on aid and trade with the partners.",
        json_schema_extra=_meta("share (0-1)", "001 Phase 2: aid recipients more vulnerable"),
    )
    social_vulnerability: TimeVarying = Field(
        default=0.5,
        description="Desire to belong to the community of liberal states.",
        json_schema_extra=_meta("share (0-1)", "001 Phase 2 and Conclusions (Klotz 1995)"),
    )
    strategic_interest: TimeVarying = Field(
        default=0.3,
        description="Partners' strategic interest in the government, damping their pressure.",
        json_schema_extra=_meta("share (0-1)", "issue 2: pressure damped by strategic interests"),
    )
    security_control: Share = Field(
        default=0.7,
        description="Government control over its own police and military.",
        json_schema_extra=_meta("share (0-1)", "001 Phase 5: forces sometimes out of control"),
    )
    civil_society: Share = Field(
        default=0.7,
        description="Capacity of society to organise: the ceiling on mobilisation.",
        json_schema_extra=_meta("share (0-1)", "003 civil-society strength; assumption"),
    )
    mobilisation: Share = Field(
        default=0.05,
        description="Initial strength and mobilisation of the opposition and rights movement.",
        json_schema_extra=_meta("share (0-1)", "001 Phase 1: opposition too weak"),
    )
    linkage: Share = Field(
        default=0.1,
        description="Initial links between domestic groups and the transnational network.",
        json_schema_extra=_meta("share (0-1)", "001 Phase 1: minimal links needed"),
    )
    key_leaders: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        default=2.0,
        description="Number of key leaders the movement depends on at the start.",
        json_schema_extra=_meta("leaders", "001 Phase 3: a handful of key leaders"),
    )
    legitimacy: Share = Field(
        default=0.5,
        description="Domestic legitimacy of the government at the start.",
        json_schema_extra=_meta("share (0-1)", "assumption"),
    )
    regime: Literal[
        "military",
        "one_party",
        "personal",
        "communist",
        "minority_rule",
        "monarchy",
        "competitive_authoritarian",
        "democracy",
        "other",
    ] = Field(
        default="other", description="Regime type (descriptive; reported, not used by mechanisms)."
    )
    insurgency: list[tuple[Year, Year | None]] = Field(
        default_factory=list,
        description="Spells of significant armed insurgency, [start, end] (end null if ongoing).",
        json_schema_extra=_meta("years", "001 Phase 2; issue 2 facts"),
    )
    ratified: dict[Literal["iccpr", "cat"], Year] | None = Field(
        default=None,
        description="Observed years of ratification or accession of the core conventions, up to"
        " the country's start (later ones are the model's to simulate): the country starts with"
        " ratified_core if and only if both are given. Absent: ratified_core at the start for"
        " phase 4 or 5 only.",
        json_schema_extra=_meta("years", "UN Treaty Collection (world.py: data <= start only)"),
    )
    # --- defenders (issue 11) ---
    non_state_threat: TimeVarying = Field(
        default=0.0,
        description="Threat to defenders from non-state perpetrators (armed groups, local power"
        " holders).",
        json_schema_extra=_meta("share (0-1)", "000: non-state violators; 002; assumption"),
    )
    defenders: list[DefenderGroup] = Field(
        default_factory=list, description="Groups of individual human rights defenders (002, 004)."
    )
    # --- end defenders ---
    notes: str = Field(default="", description="Why the covariates have these values.")
    reference_outcomes: list[ReferenceOutcome] = Field(
        default_factory=list, description="Historical outcomes for the report; never scheduled."
    )

    @field_validator(
        "material_vulnerability", "social_vulnerability", "strategic_interest", "non_state_threat"
    )
    @classmethod
    def _step_function(cls, v: TimeVarying) -> TimeVarying:
        _steps_increasing(v)
        return v

    @model_validator(mode="after")
    def _lifetime(self) -> Country:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @model_validator(mode="after")
    def _ratified_before_start(self) -> Country:
        for treaty, year in (self.ratified or {}).items():
            if year > self.start:
                raise ValueError(
                    f"ratified.{treaty} ({year}) is after the country's start ({self.start});"
                    " expected ratifications known at the start only"
                )
            if year < TREATY_OPENED[treaty]:
                raise ValueError(
                    f"ratified.{treaty} ({year}) is before the treaty opened"
                    f" ({TREATY_OPENED[treaty]})"
                )
        return self

    @field_validator("insurgency")
    @classmethod
    def _spells_ordered(cls, v: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
        for a, b in v:
            if b is not None and b < a:
                raise ValueError(f"insurgency spell ends ({b}) before it starts ({a})")
        return v


class LeverKind(StrEnum):
    """Interventions a strategist can schedule."""

    aid_conditionality = "aid_conditionality"
    naming_and_shaming = "naming_and_shaming"
    un_mechanism = "un_mechanism"
    bilateral_pressure = "bilateral_pressure"
    withdraw_pressure = "withdraw_pressure"
    fund_domestic_groups = "fund_domestic_groups"
    imposed_crackdown = "imposed_crackdown"
    regime_change = "regime_change"
    # Protection of defenders (issue 11; scenarios/defenders.py): formal big-M ...
    un_communication = "un_communication"
    regional_mechanism = "regional_mechanism"
    national_programme = "national_programme"
    embassy_guidelines = "embassy_guidelines"
    temporary_relocation = "temporary_relocation"
    # ... and informal small-m (002).
    rapid_alerts = "rapid_alerts"
    accompaniment = "accompaniment"
    visibility_campaign = "visibility_campaign"
    urgent_actions = "urgent_actions"
    training = "training"


class Lever(_Strict):
    """A scheduled intervention: active in years start..end inclusive, on the target countries."""

    kind: LeverKind
    targets: list[str] | Literal["all"] = "all"
    start: Year
    end: Year
    strength: Share = 0.5
    phases: Annotated[list[Annotated[int, Field(ge=1, le=5)]], Field(min_length=1)] | None = Field(
        None, description="Apply only while the target is in one of these phases."
    )
    groups: list[str] | None = Field(
        None, description="Protection levers only: the defender groups it reaches (default all)."
    )
    note: str = ""

    @model_validator(mode="after")
    def _window(self) -> Lever:
        if self.end < self.start:
            raise ValueError(f"lever ends ({self.end}) before it starts ({self.start})")
        return self


MECHANISMS: dict[str, str] = {
    "boomerang": "Information through linkages, lobbying of partners, protective echo (001).",
    "agenda_setting": "Hypothesis 1: enough information puts the country on the agenda.",
    "egregious_events": "Massacres speed agenda setting (001 Phase 2).",
    "denial": "The state first denies the norm; rally effect and repression of the movement.",
    "vulnerability": "Hypothesis 2 depends on material and social vulnerability.",
    "insurgency_threat": "An armed insurgency prolongs denial (001 Phase 2).",
    "concessions": "Hypothesis 2: denial gives way to tactical concessions.",
    "entrapment": "Rhetorical concessions entrap the state in argument (001 Phase 3).",
    "decapitation": "Crackdowns on key leaders in tactical concessions (001 Phase 3).",
    "backsliding": "Retreat from concessions without pressure; consolidated regimes' retreat.",
    "prescriptive_status": "Hypothesis 3: liberalisation or regime change.",
    "institutions": "Ratifications and domestic institutions (001 Phase 4 indicators).",
    "pincer": "Hypothesis 4: improvement needs pressure from above AND below (off: either).",
    "habituation": "Institutionalisation and habitualisation make compliance stick (Phase 5).",
    "attention_fading": "Network attention follows gross violations, so it fades (Phase 5).",
    "world_time": "Norm density rises over the decades (001 World time); off: frozen at 1980.",
    "treaty_leverage": "Ratified treaties lower repression only through mobilised civil society.",
    "repressive_episodes": "New waves of repression strike any government at a rate, then fade.",
}


def _mechanisms_model() -> type[BaseModel]:
    from pydantic import create_model

    fields: dict[str, Any] = {
        name: (bool, Field(True, description=doc)) for name, doc in MECHANISMS.items()
    }
    return create_model("Mechanisms", __config__=ConfigDict(extra="forbid", frozen=True), **fields)


if TYPE_CHECKING:

    class Mechanisms(BaseModel):
        pass
else:
    Mechanisms = _mechanisms_model()


class SyntheticWorld(_Strict):
    """Generate countries at random instead of listing them (for scale and teaching)."""

    n: Annotated[int, Field(ge=1, le=5000)] = 150
    seed: Annotated[int, Field(ge=0)] = 0
    start_min: Year = 1950
    start_max: Year = 2000

    @model_validator(mode="after")
    def _range(self) -> SyntheticWorld:
        if self.start_max < self.start_min:
            raise ValueError(f"start_max ({self.start_max}) is before start_min ({self.start_min})")
        return self


class Scenario(_Strict):
    """A complete, validated scenario."""

    # Short enough to name the default output folder runs/<name>-<seed> on any file system.
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    description: str = ""
    start: Year | None = Field(None, description="First simulated year (default: earliest start).")
    end: Year = 2030
    replicates: Annotated[int, Field(ge=1, le=10_000_000)] = 500
    seed: Annotated[int, Field(ge=0)] = 1
    step: float = Field(
        default=1.0,
        description="Length of a simulation step in years (1, 0.5, 0.25 or 0.125); rates are"
        " per year.",
    )

    @field_validator("step")
    @classmethod
    def _step_divides_year(cls, v: float) -> float:
        if v not in (1.0, 0.5, 0.25, 0.125):
            raise ValueError(f"step must be 1, 0.5, 0.25 or 0.125 years, not {v}")
        return v

    observed_start: bool = Field(
        default=False,
        description="Countries' repression and endemic_abuse are the practice observed at their"
        " start (a world from data): every phase starts there, and the government's preferred"
        " repression is inferred so that the starting practice is its target. Off: repression"
        " is the preferred level, and a conceding or accepting starter starts below it.",
    )
    movement_at_rest: bool = Field(
        default=True,
        description="With observed_start: each country's movement (mobilisation and fear) starts"
        " at its rest in the starting state, where the model's movement rule would hold it,"
        " before the preferred repression is inferred (issue 10, ninth round). Off: the"
        " countries' mobilisation and the default fear (half the repression) start the run.",
    )
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    parameters: Parameters = Field(default_factory=Parameters)
    countries: list[Country] = Field(default_factory=list)
    synthetic: SyntheticWorld | None = None
    levers: list[Lever] = Field(default_factory=list)
    defenders: DefendersConfig | None = Field(
        None, description="Human rights defenders and their protection (issue 11)."
    )
    # The file it was read from, for error messages about its values (not part of the scenario).
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The file the scenario was loaded from, if any."""
        return self._source

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.countries and self.synthetic is None:
            raise ValueError("a scenario needs [[countries]] or a [synthetic] section")
        ids = [c.id for c in self.countries]
        dup = _repeated(ids)
        if dup:
            raise ValueError(f"duplicate country ids: {quote_list(dup)}")
        # Names label tables, figures and the results' country_name column: one per country.
        dup_names = _repeated([c.name for c in self.countries])
        if dup_names:
            raise ValueError(
                f"duplicate country names: {quote_list(dup_names)}; give each country its own"
            )
        known = set(ids)
        for i, lever in enumerate(self.levers):
            if lever.targets != "all" and self.synthetic is None:
                unknown = [t for t in lever.targets if t not in known]
                if unknown:
                    raise ValueError(
                        f"levers[{i}].targets: unknown country {unknown[0]!r}; "
                        f"expected one of {quote_list(sorted(known))}"
                    )
        check_defenders(self)
        first = self.start or min((c.start for c in self.countries), default=self.end)
        if self.end <= first:
            raise ValueError(f"end {self.end} must be after the first simulated year {first}")
        for i, c in enumerate(self.countries):
            if c.start > self.end:
                raise ValueError(
                    f"countries[{i}] ({c.id}) starts in {c.start}, after the scenario's end"
                    f" {self.end}, so it would never be simulated"
                )
            if c.end is not None and self.start is not None and c.end < self.start:
                raise ValueError(
                    f"countries[{i}] ({c.id}) ends in {c.end}, before the scenario's start"
                    f" {self.start}, so it would never be simulated"
                )
        return self

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scenario:
        """Load a TOML scenario file, or a built-in scenario by name."""
        from spirallab.scenarios.load import load_scenario

        return load_scenario(name_or_path)

    def mechanisms_off(self) -> list[str]:
        return [k for k, v in self.mechanisms.model_dump().items() if not v]


def _repeated(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dup: set[str] = set()
    for v in values:
        (dup if v in seen else seen).add(v)
    return sorted(dup)


def default_text(info: Any) -> str:
    """A field's default as the docs show it: ``required`` where there is none."""
    from pydantic_core import PydanticUndefined

    if info.default is PydanticUndefined:
        return "[]" if info.default_factory is list else "required"
    return "none" if info.default is None else str(info.default)
