"""Scenario tables for human rights defenders and the protection levers (issue 11; seeds 002, 004).

A country lists its defenders as groups, each a number of individuals who share their
attributes::

    [[countries.defenders]]
    group = "capital"            # a name, unique within the country
    count = 8                    # individual defenders (agents)
    location = "capital"         # or "rural": provinces and rural areas (002)
    visibility = 0.6             # international profile, 0-1
    network = 0.8                # membership of local, national, international networks, 0-1
    trained = 0.5                # training and information security (004), 0-1
    restricted_movement = false  # discriminatory norms limit movement (002, women defenders)
    issue = "civil and political rights"
    non_state_exposure = 1.0     # how far the issue brings non-state perpetrators down on them

A scenario-level ``[defenders]`` table switches the whole pillar on or off, switches its
mechanisms for ablation, and may give ``[[defenders.groups]]`` for every country that lists none
(synthetic worlds). With no groups anywhere, or ``enabled = false``, the engine runs exactly as
it does without defenders.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from spirallab.scenarios.schema import Scenario

Share = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_DEFENDERS = 4096  # per country: the kernel's arrays are (countries, defenders, replicates)
MAX_GROUPS = 32


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefenderGroup(_Strict):
    """Defenders in one country who share their attributes (002, 004)."""

    group: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")] = (
        "defenders"
    )
    count: Annotated[int, Field(ge=0, le=MAX_DEFENDERS)] = Field(
        description="Number of individual defenders in the group.",
        json_schema_extra={"unit": "defenders", "grounding": "assumption"},
    )
    location: Literal["capital", "rural"] = Field(
        default="capital",
        description="Where they work: the capital, or provinces and rural areas far from"
        " capital-based officials (002).",
    )
    visibility: Share = Field(
        default=0.2,
        description="International profile (0 unknown abroad, 1 a laureate).",
        json_schema_extra={"unit": "share (0-1)", "grounding": "002 visibility as protection"},
    )
    network: Share = Field(
        default=0.5,
        description="Membership of local, national and international networks (0 isolated).",
        json_schema_extra={"unit": "share (0-1)", "grounding": "004 Networking"},
    )
    trained: Share = Field(
        default=0.0,
        description="Training in protection, information security and risk assessment (004).",
        json_schema_extra={"unit": "share (0-1)", "grounding": "004 Training"},
    )
    restricted_movement: bool = Field(
        default=False,
        description="Discriminatory norms limit their movement (002: women defenders).",
    )
    issue: str = Field(default="", max_length=80, description="The issue they work on (reported).")
    non_state_exposure: Share = Field(
        default=1.0,
        description="How far their issue exposes them to the country's non-state perpetrators"
        " (land and environment defenders facing local power holders: 1).",
        json_schema_extra={
            "unit": "share (0-1)",
            "grounding": "000 non-state violators; assumption",
        },
    )


DEFENDER_MECHANISMS: dict[str, str] = {
    "access": "Formal mechanisms reach rural defenders less (officials stay in the capital).",
    "verification": "Formal mechanisms act only on threats verified through trusted contacts.",
    "spillover": "A visible defender's profile exposes less visible associates (Liu Xia).",
    "networks": "Network membership adds capacity and speeds release (alerts, urgent actions).",
    "cost_sensitivity": "Non-state perpetrators care less about international cost (off: as much).",
    "relocation_removes": "A relocated defender is away from the movement (off: works on abroad).",
    "consequences": "Attacks feed the spiral: leaders, mobilisation, information, attention.",
}


def _switches_model() -> type[BaseModel]:
    from pydantic import create_model

    fields: dict[str, Any] = {
        name: (bool, Field(True, description=doc)) for name, doc in DEFENDER_MECHANISMS.items()
    }
    return create_model(
        "DefenderMechanisms", __config__=ConfigDict(extra="forbid", frozen=True), **fields
    )


if TYPE_CHECKING:

    class DefenderMechanisms(BaseModel):
        pass
else:
    DefenderMechanisms = _switches_model()


class DefendersConfig(_Strict):
    """The scenario-level ``[defenders]`` table."""

    enabled: bool = Field(True, description="Simulate defenders (off: exactly the engine without).")
    mechanisms: DefenderMechanisms = Field(default_factory=DefenderMechanisms)
    groups: list[DefenderGroup] = Field(
        default_factory=list,
        description="Groups for every country that lists none of its own (synthetic worlds).",
    )


class ProtectionKind(StrEnum):
    """Protection levers: formal, institutional 'big-M' and informal, community 'small-m' (002)."""

    un_communication = "un_communication"
    regional_mechanism = "regional_mechanism"
    national_programme = "national_programme"
    embassy_guidelines = "embassy_guidelines"
    temporary_relocation = "temporary_relocation"
    rapid_alerts = "rapid_alerts"
    accompaniment = "accompaniment"
    visibility_campaign = "visibility_campaign"
    urgent_actions = "urgent_actions"
    training = "training"


PROTECTION_KINDS: tuple[str, ...] = tuple(k.value for k in ProtectionKind)


def groups_of(scenario: Scenario, country_id: str) -> list[DefenderGroup]:
    """The defender groups of a listed country (its own, else the scenario-level ones)."""
    cfg = scenario.defenders
    for c in scenario.countries:
        if c.id == country_id:
            return list(c.defenders) or (list(cfg.groups) if cfg is not None else [])
    return list(cfg.groups) if cfg is not None else []


def check_defenders(scenario: Scenario) -> None:
    """Cross-field rules; raises ValueError (reported as one line with the key path)."""
    for i, c in enumerate(scenario.countries):
        names = [g.group for g in c.defenders]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"countries[{i}].defenders: duplicate group {dup[0]!r}")
        if len(names) > MAX_GROUPS:
            raise ValueError(f"countries[{i}].defenders: at most {MAX_GROUPS} groups")
        if sum(g.count for g in c.defenders) > MAX_DEFENDERS:
            raise ValueError(f"countries[{i}].defenders: at most {MAX_DEFENDERS} defenders")
    enabled = scenario.defenders is None or scenario.defenders.enabled
    for i, lever in enumerate(scenario.levers):
        if lever.kind.value not in PROTECTION_KINDS:
            if lever.groups is not None:
                raise ValueError(
                    f"levers[{i}].groups: only protection levers target defender groups;"
                    f" expected one of {', '.join(PROTECTION_KINDS)} as kind"
                )
            continue
        if scenario.synthetic is not None:
            continue
        targets = [c.id for c in scenario.countries] if lever.targets == "all" else lever.targets
        for cid in targets:
            groups = groups_of(scenario, cid)
            if enabled and not any(g.count for g in groups) and lever.targets != "all":
                raise ValueError(
                    f"levers[{i}].targets: protection lever {lever.kind.value!r} on country"
                    f" {cid!r}, which has no defenders; expected a country with"
                    " [[countries.defenders]]"
                )
            known = {g.group for g in groups}
            for g in lever.groups or []:
                if groups and g not in known:
                    raise ValueError(
                        f"levers[{i}].groups: unknown defender group {g!r} in {cid!r};"
                        f" expected one of {sorted(known)}"
                    )
