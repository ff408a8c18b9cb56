"""Case files: dated, sourced events for one country, written by hand from the literature.

The published country-year data sets measure practice (how much a state represses) and, through
the UN treaty files, one part of commitment (ratification). Three of the four indicators of
"prescriptive status" in Risse & Sikkink (1999, Phase 4) are not in any of them: rights written
into the constitution or law, a mechanism to which citizens can complain, and a government's
discourse (denying criticism as interference, or accepting the validity of the norms). Case files
carry those, plus the regime changes, crackdowns, aid cuts and protests that the phase coder uses
as evidence.

A case file is TOML (format reference: ``docs/casefiles.md``)::

    country_id = "CHL"
    name = "Chile"
    cow = 155
    repression_start = 1973
    summary = "..."

    [[events]]
    year = 1973
    month = 9
    type = "coup"
    description = "..."
    source = "..."

Every problem with a file is raised as :class:`~spirallab.errors.InputError` naming the file, the
key path (``events[3].type``), the value found and what was expected.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from spirallab.errors import InputError, key_path

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "CaseEvent",
    "CaseFile",
    "EventType",
    "builtin_casefiles",
    "casefiles_off_panel",
    "load_casefile",
]

MIN_YEAR = 1900
MAX_YEAR = 2100

_BUILTIN_PACKAGE = "spirallab.casefiles"


class EventType(StrEnum):
    """What kind of thing happened. Meanings are in ``docs/casefiles.md``.

    ``constitution`` and ``law`` are reserved for acts that put rights into (or restore them to) the
    legal order; acts that restrict rights are ``crackdown``, ``state_of_emergency``,
    ``martial_law``, ``amnesty`` (an amnesty law or general pardon, typically impunity for state
    agents) or ``other``, so that the phase coder can read ``constitution``/``law`` as evidence
    for indicator 2 of prescriptive status without parsing descriptions. A release of political
    prisoners is ``prisoner_release`` even when it is done by an amnesty.
    """

    regime_change = "regime_change"
    transition = "transition"
    coup = "coup"
    election = "election"
    ratification = "ratification"
    constitution = "constitution"
    law = "law"
    complaint_mechanism = "complaint_mechanism"
    commission_created = "commission_created"
    truth_commission = "truth_commission"
    denial_statement = "denial_statement"
    acceptance_statement = "acceptance_statement"
    crackdown = "crackdown"
    prisoner_release = "prisoner_release"
    aid_cut = "aid_cut"
    sanctions = "sanctions"
    massacre = "massacre"
    protest = "protest"
    insurgency_start = "insurgency_start"
    insurgency_end = "insurgency_end"
    peace_accord = "peace_accord"
    state_of_emergency = "state_of_emergency"
    martial_law = "martial_law"
    amnesty = "amnesty"
    international_mechanism = "international_mechanism"
    dissolution = "dissolution"
    other = "other"


_Year = Annotated[int, Field(strict=True, ge=MIN_YEAR, le=MAX_YEAR)]


def _visible(v: str) -> str:
    if not v.strip():
        raise PydanticCustomError("blank_text", "only whitespace")
    return v


_Text = Annotated[str, Field(strict=True, min_length=1), AfterValidator(_visible)]


class CaseEvent(BaseModel):
    """One dated event: a year (and month if known), a type, what happened, and where it is cited.

    ``end_year`` marks a spell (an armed conflict 1960-1996, a state of emergency 1985-1990); it is
    the last year of the spell, inclusive.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: _Year
    month: Annotated[int, Field(strict=True, ge=1, le=12)] | None = None
    end_year: _Year | None = None
    type: EventType
    description: _Text
    source: _Text

    @field_validator("end_year")
    @classmethod
    def _end_not_before_start(cls, v: int | None, info: ValidationInfo) -> int | None:
        year = info.data.get("year")
        if v is not None and isinstance(year, int) and v < year:
            raise PydanticCustomError(
                "end_before_start",
                "end_year is before the event's year {year}",
                {"year": year},
            )
        return v

    @property
    def last_year(self) -> int:
        """The last year the event covers: ``end_year`` for a spell, else ``year``."""
        return self.end_year if self.end_year is not None else self.year

    def covers(self, year: int) -> bool:
        """Whether ``year`` falls within the event (its year, or its spell)."""
        return self.year <= year <= self.last_year


class CaseFile(BaseModel):
    """The case file of one country: identity, the start of its repressive situation, events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country_id: Annotated[str, Field(strict=True, pattern=r"^[A-Z]{3}$")]
    name: _Text
    cow: Annotated[int, Field(strict=True, ge=2, le=999)]
    repression_start: _Year
    summary: _Text
    events: Annotated[list[CaseEvent], Field(min_length=1)]

    @field_validator("events")
    @classmethod
    def _sorted_by_year(cls, v: list[CaseEvent]) -> list[CaseEvent]:
        # A dissolved state has no later history: nothing may start or run past its dissolution
        # year (the same year is fine). Indices are the file's, before sorting.
        ends = [(i, e.year) for i, e in enumerate(v) if e.type == EventType.dissolution]
        if ends:
            at, year = min(ends, key=lambda t: t[1])
            for i, e in enumerate(v):
                if e.last_year > year:
                    raise PydanticCustomError(
                        "after_dissolution",
                        "events[{index}] ({last}) is after the dissolution in {year} "
                        "(events[{at}])",
                        {"index": i, "last": e.last_year, "year": year, "at": at},
                    )
        # Stable: events within a year keep the order the author wrote them in.
        return sorted(v, key=lambda e: e.year)

    def events_of(self, *types: EventType | str) -> list[CaseEvent]:
        """The events of the given types, in year order (all events if no type is given)."""
        if not types:
            return list(self.events)
        wanted = {EventType(t) for t in types}
        return [e for e in self.events if e.type in wanted]

    def events_in(self, year: int) -> list[CaseEvent]:
        """The events that cover ``year`` (point events of that year and spells spanning it)."""
        return [e for e in self.events if e.covers(year)]


# --- loading ------------------------------------------------------------------------------------


def load_casefile(path: Path) -> CaseFile:
    """Read and validate one case file; any problem is an :class:`InputError` naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            "case file not found", file=path, expected="an existing TOML case file"
        ) from None
    except IsADirectoryError:
        raise InputError(
            "is a directory, not a case file", file=path, expected="a TOML case file"
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot read case file ({exc.strerror or exc})", file=path, expected="a readable file"
        ) from None
    return _parse(raw, path)


def _parse(raw: bytes, origin: str | Path) -> CaseFile:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 at byte {exc.start}",
            file=origin,
            expected="a UTF-8 encoded TOML file",
        ) from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputError(
            "malformed TOML: arrays or tables nested too deeply", file=origin,
            expected="a case file (tables and arrays a few levels deep)",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at (?:line (\d+), column (\d+)|end of document)\)", msg)
        where = None
        if m:
            where = f"line {m.group(1)}, column {m.group(2)}" if m.group(1) else "end of document"
        problem = msg[: m.start()].strip() if m else msg
        raise InputError(
            f"malformed TOML: {problem}", file=origin, where=where, expected="valid TOML"
        ) from None
    try:
        return CaseFile.model_validate(data)
    except ValidationError as exc:
        raise _to_input_error(exc, origin) from None
    except RecursionError:
        raise InputError("values nested too deeply", file=origin, expected="a case file") from None




def _fields_at(loc: Sequence[int | str]) -> list[str]:
    """The keys allowed in the table that contains the last element of ``loc``."""
    model: type[BaseModel] = CaseEvent if loc and loc[0] == "events" and len(loc) >= 3 else CaseFile
    return list(model.model_fields)


def _expected(err: Mapping[str, Any]) -> str | None:
    kind = err["type"]
    loc = err["loc"]
    ctx = err.get("ctx") or {}
    last = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return "one of the keys " + ", ".join(_fields_at(loc))
    if kind == "missing":
        return f"a value for the required key {last!r}"
    if kind == "enum":
        return "one of the event types " + ", ".join(t.value for t in EventType)
    if kind == "end_before_start":
        return f"a year on or after {ctx.get('year')}"
    if kind in {"greater_than_equal", "less_than_equal"}:
        if last == "month":
            return "a month number from 1 to 12"
        if last == "cow":
            return "a Correlates of War country number (2..999)"
        return f"a year from {MIN_YEAR} to {MAX_YEAR}"
    if kind.startswith("int_"):
        return "an integer"
    if kind.startswith("string_pattern"):
        return "an upper-case three-letter code (ISO 3166-1 alpha-3, or 3166-3 for former states)"
    if kind == "string_too_short":
        return "a non-empty string"
    if kind == "blank_text":
        return "a string with visible text, not only spaces"
    if kind == "after_dissolution":
        return f"events no later than the dissolution year {ctx.get('year')}"
    if kind.startswith("string_"):
        return "a string"
    if kind == "too_short" and last == "events":
        return "at least one [[events]] table"
    if kind in {"list_type", "too_short"}:
        return "an array of [[events]] tables"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "a table"
    return None


def _problem(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing key"
    if kind == "enum":
        return "unknown event type"
    if kind in ("end_before_start", "after_dissolution", "blank_text"):
        return str(err["msg"])
    if kind.endswith("_type") or kind.startswith("int_"):
        return "wrong type"
    return str(err["msg"]).removeprefix("Value error, ")


def _to_input_error(exc: ValidationError, origin: str | Path) -> InputError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    problem = _problem(first)
    if len(errors) > 1:
        others = ", ".join(key_path(e["loc"]) or "(top level)" for e in errors[1:4])
        more = "" if len(errors) <= 4 else ", ..."
        problem += f" [and {len(errors) - 1} more: {others}{more}]"
    found = None if first["type"] == "missing" else first.get("input")
    return InputError(
        problem,
        file=origin,
        where=key_path(first["loc"]) or None,
        found=found,
        expected=_expected(first),
    )


# --- the shipped case files -----------------------------------------------------------------------


@functools.cache
def _builtin() -> tuple[CaseFile, ...]:
    root = resources.files(_BUILTIN_PACKAGE)
    out: list[CaseFile] = []
    seen: dict[str, str] = {}
    for entry in sorted(root.iterdir(), key=lambda t: t.name):
        if not entry.name.endswith(".toml"):
            continue
        origin = f"spirallab/casefiles/{entry.name}"
        case = _parse(entry.read_bytes(), origin)
        if case.country_id in seen:
            raise InputError(
                f"duplicate case file for {case.country_id} (also in {seen[case.country_id]})",
                file=origin,
                where="country_id",
                found=case.country_id,
                expected="one case file per country",
            )
        seen[case.country_id] = origin
        out.append(case)
    return tuple(out)


def casefiles_off_panel(
    casefiles: Mapping[str, CaseFile], panel_ids: Sequence[str] | set[str]
) -> list[str]:
    """The country ids of case files with no country-year on the panel (their events cannot be
    used as evidence), sorted; callers report them rather than ignore the files."""
    on_panel = set(panel_ids)
    return sorted(cid for cid in casefiles if cid not in on_panel)


def builtin_casefiles() -> dict[str, CaseFile]:
    """The case files shipped with Spiral Lab (the eleven countries of Risse, Ropp & Sikkink 1999),
    keyed by ``country_id``."""
    return {c.country_id: c for c in _builtin()}
