"""The protection-mechanism catalogue: a TOML data file, one sourced, dated entry per mechanism.

The shipped copy (``catalogue.toml`` beside this module) covers the UN, the Inter-American,
African and European systems, embassies under defender guidelines, national programmes as an
example list, and the informal ("small m") protection of seeds 002 and 004. An organisation keeps
its own edited copy and passes it with ``--catalogue``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import tomllib
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from spirallab.act.protect.records import (
    LONG,
    CountryCode,
    IncidentKind,
    Perpetrator,
    Region,
    Slug,
    Status,
    _Model,
    validate,
)
from spirallab.errors import InputError

CATALOGUE_FORMAT = "spirallab-protect-catalogue/1"
#: Entries not checked for this many days are flagged as stale (assumption: a yearly review).
STALE_AFTER_DAYS = 365

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG)]


class RiskLevel(StrEnum):
    """The qualitative risk scale of :mod:`spirallab.act.protect.risk`, lowest first."""

    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very high"

    @property
    def rank(self) -> int:
        return list(RiskLevel).index(self)


class Speed(StrEnum):
    hours_days = "hours-days"
    days_weeks = "days-weeks"
    weeks_months = "weeks-months"
    months_years = "months-years"


class LimitKind(StrEnum):
    """The reasons protection fails, after seed 002: access, verification, trust, timeliness;
    plus exposure (visibility as risk), capacity and eligibility."""

    access = "access"
    verification = "verification"
    trust = "trust"
    timeliness = "timeliness"
    exposure = "exposure"
    capacity = "capacity"
    eligibility = "eligibility"


#: Fields of a case that a draft can carry (see :mod:`spirallab.act.protect.drafts`).
DraftField = Literal[
    "identity", "work", "country", "area", "province", "incidents_current", "incidents_past",
    "perpetrators", "verification", "domestic_steps", "risk_summary", "needs", "gender",
    "dependants",
]


class Limit(_Model):
    kind: LimitKind
    text: Text


class Mechanism(_Model):
    id: Slug
    name: Text
    system: Literal["un", "inter-american", "african", "european", "diplomatic", "national",
                    "ngo", "informal"]
    kind: Text
    scope: Literal["global", "regions", "countries"]
    regions: list[Region] = Field(default_factory=list)
    countries: list[CountryCode] = Field(default_factory=list)
    exclude_countries: list[CountryCode] = Field(default_factory=list)
    timing: list[Status] = Field(min_length=1)
    perpetrators: list[Perpetrator] = Field(min_length=1)
    incident_kinds: list[IncidentKind] = Field(default_factory=list)
    min_risk: RiskLevel = RiskLevel.low
    speed: Speed
    what_it_does: Text
    needs: list[Text] = Field(min_length=1)
    limits: list[Limit] = Field(min_length=1)
    draft: list[DraftField] = Field(default_factory=list)
    source: Text
    grounding: Text
    last_checked: dt.date
    checked_how: Text

    @model_validator(mode="after")
    def _scope_has_members(self) -> Mechanism:
        if self.scope == "regions" and not self.regions:
            raise ValueError("scope 'regions' needs a non-empty `regions`")
        if self.scope == "countries" and not self.countries:
            raise ValueError("scope 'countries' needs a non-empty `countries`")
        return self

    def covers(self, country: str, region: Region) -> bool:
        """Whether the mechanism can act for a defender in ``country`` (in ``region``)."""
        if country in self.exclude_countries:
            return False
        if self.scope == "global":
            return True
        if self.scope == "regions":
            return region in self.regions or country in self.countries
        return country in self.countries

    def stale(self, today: dt.date) -> bool:
        return (today - self.last_checked).days > STALE_AFTER_DAYS


class Catalogue(_Model):
    format: Literal["spirallab-protect-catalogue/1"]
    mechanism: list[Mechanism] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalogue:
        ids = [m.id for m in self.mechanism]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate mechanism ids: {', '.join(dupes)}")
        return self

    def get(self, mechanism_id: str) -> Mechanism:
        """The entry with this id, or an error listing the known ids."""
        for m in self.mechanism:
            if m.id == mechanism_id:
                return m
        raise InputError("unknown destination", where="DESTINATION", found=mechanism_id,
                         expected="a mechanism id from `spirallab protect catalogue`: "
                         + ", ".join(m.id for m in self.mechanism))


def builtin_catalogue_text() -> str:
    return (resources.files("spirallab.act.protect") / "catalogue.toml").read_text("utf-8")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The shipped catalogue, or an organisation's edited copy at ``path``."""
    if path is None:
        text, source = builtin_catalogue_text(), "catalogue.toml (built in)"
    else:
        source = str(path)
        if not path.is_file():
            raise InputError("catalogue file not found", file=path)
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", file=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", file=source) from None
    cat: Catalogue = validate(Catalogue, data, source)
    return cat


@functools.cache
def _continents() -> dict[str, str]:
    # country_converter's bundled table, read directly (its converter object breaks on pandas 3)
    path = resources.files("country_converter") / "country_data.tsv"
    with path.open(encoding="utf-8") as fh:
        return {row["ISO3"]: row["continent"] for row in csv.DictReader(fh, delimiter="\t")}


_CONTINENT_REGION = {"America": Region.americas, "Africa": Region.africa,
                     "Europe": Region.europe, "Asia": Region.asia_pacific,
                     "Oceania": Region.asia_pacific}


def region_of(country: str, given: Region | None) -> tuple[Region, str]:
    """The regional system of a country, and where that answer came from."""
    if given is not None:
        return given, "as recorded"
    continent = _continents().get(country)
    if continent in _CONTINENT_REGION:
        return _CONTINENT_REGION[continent], f"from the country code: {continent}"
    raise InputError("cannot tell the region of this country code", where="location.region",
                     expected="a `region` in the case: " + ", ".join(r.value for r in Region))
