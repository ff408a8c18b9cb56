"""What a protection case file holds: defenders, incidents, risk factors, consents, the audit log.

Everything here lives only inside the encrypted file (:mod:`spirallab.act.protect.store`). The
vocabulary follows the risk method that seed 002 cites (Eguren for Peace Brigades International,
then Front Line Defenders and Protection International): *threats* come from incidents, and the
defender's situation is described as *vulnerabilities* and *capacities* in named categories.

Validation errors name the file and the field and say what was expected; they never repeat the
value that was given, because that value is case data and error messages end up on screens and in
terminal scroll-back.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from spirallab.errors import InputError, key_path

#: The format tag of an importable case TOML (``examples/protect/case.toml``).
CASE_FORMAT = "spirallab-protect-case/1"
#: The format tag of the decrypted contents of a case file.
VAULT_FORMAT = "spirallab-protect-vault/1"

# Limits keep a hostile or mistaken input from growing the file without bound.
SHORT = 200
LONG = 4000
MAX_ITEMS = 500

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG)]
# Ids show up in the audit log and on the command line: short, plain, no spaces.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Area(StrEnum):
    """Where the defender works; seed 002: rural and provincial defenders are far from the
    capital-based officials who act on protection requests."""

    capital = "capital"
    urban = "urban"
    provincial = "provincial"
    rural = "rural"


class Region(StrEnum):
    """The regional human rights system whose mechanisms can apply."""

    americas = "americas"
    africa = "africa"
    europe = "europe"
    asia_pacific = "asia-pacific"
    middle_east = "middle-east"


class Perpetrator(StrEnum):
    state = "state"
    non_state = "non-state"
    unknown = "unknown"


class Status(StrEnum):
    """Whether the violation is over, continuing, or expected: it decides urgent appeal versus
    allegation letter at the UN Special Rapporteur on human rights defenders."""

    past = "past"
    ongoing = "ongoing"
    imminent = "imminent"


class IncidentKind(StrEnum):
    threat = "threat"
    surveillance = "surveillance"
    harassment = "harassment"
    defamation = "defamation"
    judicial = "judicial"
    detention = "detention"
    raid = "raid"
    attack = "attack"
    killing_of_associate = "killing-of-associate"
    other = "other"


class FactorKind(StrEnum):
    vulnerability = "vulnerability"
    capacity = "capacity"


class Category(StrEnum):
    """Categories of vulnerabilities and capacities (the same dimension can be either)."""

    exposure = "exposure"
    isolation = "isolation"
    information_security = "information-security"
    networks = "networks"
    legal_support = "legal-support"
    family_situation = "family-situation"
    physical_security = "physical-security"
    resources = "resources"
    security_plan = "security-plan"
    contacts_with_authorities = "contacts-with-authorities"
    wellbeing = "wellbeing"


class Level(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class Location(_Model):
    country: CountryCode = Field(description="ISO 3166 alpha-3 code, e.g. COL")
    area: Area
    region: Region | None = Field(
        default=None, description="regional system; derived from the country when omitted")
    province: ShortText | None = Field(default=None, description="kept out of exports")


class Defender(_Model):
    """A defender or a group, under an alias. A real name is recorded only when the user chooses
    to, and is then flagged (``real_name`` set) and never exported."""

    alias: ShortText
    kind: Literal["individual", "group"] = "individual"
    real_name: ShortText | None = None
    contact: ShortText | None = Field(default=None, description="never exported or drafted")
    work: LongText
    location: Location
    gender: ShortText | None = Field(
        default=None, description="optional; seed 002 asks for gender-sensitive protection")
    dependants: bool = Field(
        default=False, description="family members who would be exposed by visibility (002)")


class Incident(_Model):
    id: Slug | None = None
    date: dt.date
    kind: IncidentKind
    status: Status
    what: LongText
    perpetrator: Perpetrator
    perpetrator_detail: ShortText | None = None
    verified: bool = False
    verification: ShortText | None = Field(default=None, description="how it was verified")
    source: ShortText = Field(description="who reported it, e.g. 'the defender, in person'")
    reported_to_authorities: bool = False

    @model_validator(mode="after")
    def _verified_says_how(self) -> Incident:
        if self.verified and not self.verification:
            raise ValueError("a verified incident needs `verification` (how it was verified)")
        return self


class Factor(_Model):
    category: Category
    kind: FactorKind
    level: Level
    note: LongText
    date: dt.date | None = None
    source: ShortText | None = None


class Consent(_Model):
    """Informed consent of the defender to one destination. Withdrawn consent is kept, dated."""

    destination: Slug
    date: dt.date
    given_by: ShortText = Field(description="who gave it and how, e.g. 'the defender, in person'")
    informed_of: LongText = Field(
        description="what the defender was told: who will read it, what it may expose")
    share_real_name: bool = False
    withdrawn: dt.date | None = None


class AssessmentRecord(_Model):
    """A saved risk assessment: its date, levels and review date (the reasoning is recomputed)."""

    on: dt.date
    risk: Literal["low", "medium", "high", "very high"]
    threat: Literal["none", "low", "medium", "high", "very high"]
    vulnerability: Level
    capacity: Level
    review_by: dt.date
    by: ShortText


class Case(_Model):
    id: Slug
    opened: dt.date
    defender: Defender
    incidents: list[Incident] = Field(default_factory=list, max_length=MAX_ITEMS)
    factors: list[Factor] = Field(default_factory=list, max_length=MAX_ITEMS)
    consents: list[Consent] = Field(default_factory=list, max_length=MAX_ITEMS)
    assessments: list[AssessmentRecord] = Field(default_factory=list, max_length=10 * MAX_ITEMS)

    @model_validator(mode="after")
    def _number_incidents(self) -> Case:
        seen: set[str] = set()
        for n, inc in enumerate(self.incidents, start=1):
            if inc.id is None:
                inc.id = f"i{n}"
            if inc.id in seen:
                raise ValueError(f"two incidents share the id {inc.id}")
            seen.add(inc.id)
        return self

    def consent_for(self, destination: str) -> Consent | None:
        """The latest consent to ``destination`` that has not been withdrawn."""
        live = [c for c in self.consents if c.destination == destination and c.withdrawn is None]
        return max(live, key=lambda c: c.date) if live else None


class AuditEntry(_Model):
    """Who did what to which record, when; never the content."""

    time: dt.datetime
    user: ShortText
    action: ShortText
    record: ShortText | None = None


class Vault(_Model):
    """The decrypted contents of a case file."""

    format: Literal["spirallab-protect-vault/1"] = "spirallab-protect-vault/1"
    created: dt.datetime
    cases: dict[str, Case] = Field(default_factory=dict)
    audit: list[AuditEntry] = Field(default_factory=list)


class CaseImport(Case):
    """A case as written in a TOML import file (``id`` optional, format tag required)."""

    format: Literal["spirallab-protect-case/1"]
    id: Slug | None = None  # type: ignore[assignment]

    def to_case(self, default_id: str) -> Case:
        data = self.model_dump(exclude={"format"})
        data["id"] = self.id or default_id
        return Case.model_validate(data)


def render_case(case: Case, *, reveal: bool = False) -> str:
    """Everything recorded in ``case`` as text; real name and contact only with ``reveal``."""
    d, loc = case.defender, case.defender.location

    def secret(value: str | None) -> str:
        if value is None:
            return "not recorded"
        return value if reveal else "recorded (hidden; --reveal shows it)"

    lines = [f"Case {case.id}, opened {case.opened.isoformat()}",
             f"Defender: {d.alias} ({d.kind})", f"  real name: {secret(d.real_name)}",
             f"  contact: {secret(d.contact)}", f"  work: {d.work}",
             f"  where: {loc.country}, {loc.area.value}"
             + (f", {loc.province}" if loc.province else "")
             + (f", region {loc.region.value}" if loc.region else ""),
             f"  gender: {d.gender or 'not recorded'}; dependants: "
             f"{'yes' if d.dependants else 'no'}", "Incidents:"]
    for i in case.incidents:
        who = i.perpetrator.value + (f" ({i.perpetrator_detail})" if i.perpetrator_detail else "")
        check = f"verified: {i.verification}" if i.verified else "not verified"
        lines += [f"  {i.id} {i.date.isoformat()} {i.kind.value}, {i.status.value}, by {who}",
                  f"     {i.what}",
                  f"     source: {i.source}; {check}; reported to the authorities: "
                  f"{'yes' if i.reported_to_authorities else 'no'}"]
    lines.append("Vulnerabilities and capacities:")
    lines += [f"  {f.kind.value} {f.category.value} ({f.level.value}): {f.note}"
              for f in case.factors]
    lines.append("Consents:")
    for c in case.consents:
        state = f"withdrawn {c.withdrawn.isoformat()}" if c.withdrawn else "live"
        lines += [f"  {c.destination} {c.date.isoformat()} ({state}), by {c.given_by}; real "
                  f"name may be shared: {'yes' if c.share_real_name else 'no'}",
                  f"     informed of: {c.informed_of}"]
    lines.append("Assessments:")
    lines += [f"  {a.on.isoformat()} risk {a.risk} (threat {a.threat}), review by "
              f"{a.review_by.isoformat()}, by {a.by}" for a in case.assessments]
    return "\n".join(lines) + "\n"


def load_case_toml(path: Path) -> CaseImport:
    """Read and validate a case in the TOML import format."""
    if not path.is_file():
        raise InputError("case file to import not found", file=path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path) from None
    parsed: CaseImport = validate(CaseImport, data, str(path))
    return parsed


def add_case(vault: Vault, parsed: CaseImport, *, replace: bool, source: str) -> str:
    """Put a new case into ``vault`` (id ``case-N`` when it has none); returns its id."""
    n = len(vault.cases) + 1
    while f"case-{n}" in vault.cases:
        n += 1
    case = parsed.to_case(f"case-{n}")
    if case.id in vault.cases and not replace:
        raise InputError(f"case {case.id} already exists; nothing was changed", file=source,
                         where="id", expected="a new id, or --replace")
    vault.cases[case.id] = case
    return case.id


def append_records(vault: Vault, case_id: str, new: dict[str, list[dict[str, Any]]], *,
                   source: str) -> None:
    """Add incidents and factors (as import-format dicts) to an existing case, validated."""
    case = vault.cases[case_id]
    data = case.model_dump()
    used = {i.id for i in case.incidents}
    n = len(case.incidents)
    for inc in new.get("incidents", []):
        n += 1
        while f"i{n}" in used:
            n += 1
        data["incidents"].append({**inc, "id": f"i{n}"})
    data["factors"].extend(new.get("factors", []))
    vault.cases[case_id] = validate(Case, data, source)


def record_consent(case: Case, destination: str, day: dt.date, given_by: str,
                   informed_of: str, share_real_name: bool) -> None:
    """Add the defender's informed consent to ``destination``."""
    case.consents.append(validate(Consent, {
        "destination": destination, "date": day, "given_by": given_by,
        "informed_of": informed_of, "share_real_name": share_real_name}, "consent"))


def withdraw_consent(case: Case, destination: str, day: dt.date) -> None:
    """Date the withdrawal of every live consent to ``destination`` (the records are kept)."""
    live = [k for k in case.consents if k.destination == destination and k.withdrawn is None]
    if not live:
        raise InputError(f"no consent to {destination} to withdraw", where="DESTINATION")
    for k in live:
        k.withdrawn = day


def validate(model: type[Any], data: Any, source: str) -> Any:
    """``model.model_validate(data)``, with the first error as one line naming file and field.

    The offending value is not repeated: it is case data.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = key_path([p for p in err["loc"] if not _is_union_tag(p)]) or None
        raise InputError(_problem(err), file=source, where=where) from None


def _is_union_tag(part: object) -> bool:
    # pydantic inserts the alternative's type name into the location of union errors
    return isinstance(part, str) and bool(re.fullmatch(r"(?:function-\w+\[.*\]|[a-z_]+\[.*\])",
                                                       part))


def _problem(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "missing field"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_too_long":
        return f"too long; expected at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "empty; expected some text"
    if kind == "string_pattern_mismatch":
        return f"does not match the expected form {ctx.get('pattern')}"
    if kind in ("enum", "literal_error"):
        return f"not an allowed value; expected {ctx.get('expected')}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "not a valid date; expected YYYY-MM-DD"
    if kind == "too_long":
        return f"too many entries; expected at most {ctx.get('max_length')}"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg")))
    # the type and pydantic's message, which names the expected type but not the value
    return str(err.get("msg", kind)).lower()
