"""Country ids: one stable ``country_id`` per state, and resolvers from every source's codes.

Current states are keyed by ISO3 (from country_converter, "coco"); states that dissolved or
merged get ISO 3166-3 style codes (CSK, YUG, SCG, SUN, DDR, YMD, VDR) and pre-1900 states an id
from ISO's user-assigned X range. The manual table ``countries.toml`` (each entry with a reason)
covers what coco lacks: COW numbers where they differ from Gleditsch-Ward, year-dependent codes,
Polity letters, legacy codes and names. ``docs/data.md`` explains each decision.

coco 1.3.2's own ``CountryConverter()`` fails under pandas 3 (an empty ISO2 cell becomes NaN and
breaks its regex compilation), so its bundled table is read here with strings kept as strings and
handed to the converter explicitly.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

_TABLE = "countries.toml"


@dataclass(frozen=True)
class Resolution:
    """The answer of a resolver: a country id, or None and why not."""

    country_id: str | None
    primary: bool = True
    reason: str = ""


@dataclass(frozen=True)
class _Rule:
    code: str
    country_id: str | None
    start: int | None
    end: int | None
    primary: bool
    reason: str

    def covers(self, year: int) -> bool:
        return (self.start is None or year >= self.start) and (self.end is None or year <= self.end)


@dataclass
class CountryRegistry:
    """All known country ids with display name, ISO3 and main COW number, plus code rules."""

    names: dict[str, str]
    iso3: dict[str, str | None]
    cow: dict[str, int | None]
    rules: dict[str, dict[str, list[_Rule]]]
    not_a_state: dict[str, str]
    coco_iso2: dict[str, str]
    coco_iso3: set[str]
    coco_gw: dict[int, str]
    _converter: Any = field(default=None, repr=False)
    _name_cache: dict[str, str | None] = field(default_factory=dict, repr=False)

    # -- resolvers ----------------------------------------------------------------------------
    def _rule(self, kind: str, code: str, year: int | None) -> Resolution | None:
        rules = self.rules.get(kind, {}).get(code)
        if not rules:
            return None
        for rule in rules:
            if year is None or rule.covers(year):
                if rule.country_id is None:
                    return Resolution(None, reason=rule.reason)
                return Resolution(rule.country_id, rule.primary, rule.reason)
        return Resolution(None, reason=f"{kind} code {code} is not valid in {year}")

    def from_cow(self, code: int, year: int) -> Resolution:
        """A COW number in a given year (COW 365 is the USSR in 1980 and Russia in 2000)."""
        hit = self._rule("cow", str(code), year)
        if hit is not None:
            return hit
        if code in self.coco_gw:
            return Resolution(self.coco_gw[code])
        return Resolution(None, reason=f"COW number {code} is not in the crosswalk")

    def from_gw(self, code: int, year: int) -> Resolution:
        """A Gleditsch-Ward number in a given year."""
        hit = self._rule("gw", str(code), year)
        if hit is not None:
            return hit
        if code in self.coco_gw:
            return Resolution(self.coco_gw[code])
        return Resolution(None, reason=f"Gleditsch-Ward number {code} is not in the crosswalk")

    def from_iso2(self, code: str) -> Resolution:
        """An ISO 3166-1 alpha-2 code (UN ratification files)."""
        code = code.strip().upper()
        hit = self._rule("iso2", code, None)
        if hit is not None:
            return hit
        if code in self.coco_iso2:
            return Resolution(self.coco_iso2[code])
        return Resolution(None, reason=f"ISO2 code {code!r} is not known")

    def from_iso3(self, code: str) -> Resolution:
        """An ISO3 code, or a legacy World Bank code listed in the manual table."""
        code = code.strip().upper()
        hit = self._rule("iso3", code, None)
        if hit is not None:
            return hit
        if code in self.coco_iso3:
            return Resolution(code)
        return Resolution(None, reason=f"ISO3 code {code!r} is not known")

    def from_polity(self, scode: str, name: str, year: int) -> Resolution:
        """Polity's own letters, falling back to its country name."""
        hit = self._rule("polity", scode.strip().upper(), year)
        if hit is not None:
            return hit
        return self.from_name(name)

    def from_name(self, name: str) -> Resolution:
        """A country name: the manual table first, then coco's regular expressions."""
        key = name.strip()
        if key.casefold() in self.not_a_state:
            return Resolution(None, reason=self.not_a_state[key.casefold()])
        hit = self._rule("name", key.casefold(), None)
        if hit is not None:
            return hit
        if key not in self._name_cache:
            self._name_cache[key] = self._coco_name(key)
        found = self._name_cache[key]
        if found is None:
            return Resolution(None, reason=f"name {key!r} not recognised")
        return Resolution(found)

    def _coco_name(self, name: str) -> str | None:
        logging.getLogger("country_converter").setLevel(logging.ERROR)
        out = self._converter.convert(name, to="ISO3", not_found=None)
        if isinstance(out, list):  # coco returns a list when a name matches several entries
            return None
        return str(out) if out and str(out) in self.coco_iso3 else None

    # -- metadata -----------------------------------------------------------------------------
    def name_of(self, country_id: str) -> str:
        """Display name (coco's short name for current states)."""
        return self.names.get(country_id, country_id)

    def iso3_of(self, country_id: str) -> str | None:
        """ISO3 for current states, None for former ones."""
        return self.iso3.get(country_id)

    def cow_of(self, country_id: str) -> int | None:
        """The id's main COW number (the panel prefers the number sources used that year)."""
        return self.cow.get(country_id)


def _coco_table() -> pd.DataFrame:
    path = importlib.resources.files("country_converter") / "country_data.tsv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False)
    for col in ("ISOnumeric", "UNcode", "FAOcode", "GBDcode", "EURO", "UN", "UNmember"):
        table[col] = pd.to_numeric(table[col].replace("", None), errors="coerce").astype("Int64")
    table["obsolete"] = pd.to_numeric(table["obsolete"].replace("", None)).astype("Int64")
    table["GEOnumeric"] = pd.to_numeric(table["GEOnumeric"].replace("", None)).astype("Int64")
    return table


def manual_table_bytes() -> bytes:
    """The raw manual table (part of the cache key: a changed crosswalk invalidates the cache)."""
    return (importlib.resources.files("spirallab.data") / _TABLE).read_bytes()


# Codes in coco's GW column that are wrong for Gleditsch-Ward (see countries.toml).
_COCO_GW_ERRORS = {"CZE": 315, "VNM": 817, "YEM": 680}


@cache
def registry() -> CountryRegistry:
    """Build (once) the registry from coco's table and the manual TOML table."""
    import country_converter as coco

    table = _coco_table()
    manual = tomllib.loads(manual_table_bytes().decode("utf-8"))
    names = dict(zip(table["ISO3"], table["name_short"], strict=True))
    iso3: dict[str, str | None] = {c: c for c in table["ISO3"]}
    coco_gw: dict[int, str] = {}
    for code, country in zip(table["GWcode"], table["ISO3"], strict=True):
        if code and re.fullmatch(r"\d+", code) and _COCO_GW_ERRORS.get(country) != int(code):
            coco_gw[int(code)] = country
    cow: dict[str, int | None] = {c: g for g, c in coco_gw.items()}
    for state in manual.get("state", []):
        names[state["id"]] = state["name"]
        iso3[state["id"]] = None
        cow[state["id"]] = state.get("cow")
    rules: dict[str, dict[str, list[_Rule]]] = {}
    for kind in ("cow", "gw", "polity", "iso2", "iso3", "name"):
        for entry in manual.get(kind, []):
            code = str(entry["code"])
            code = code.casefold() if kind == "name" else code.upper()
            rule = _Rule(
                code=code,
                country_id=None if entry.get("reject") else entry["id"],
                start=entry.get("from"),
                end=entry.get("to"),
                primary=entry.get("primary", True),
                reason=entry["reason"],
            )
            rules.setdefault(kind, {}).setdefault(code, []).append(rule)
            if kind == "cow" and rule.country_id and rule.primary and rule.end is None:
                cow[rule.country_id] = int(code)
    cow["DEU"], cow["YEM"], cow["CZE"], cow["VNM"] = 255, 679, 316, 816
    not_a_state = {e["code"].casefold(): e["reason"] for e in manual.get("not_a_state", [])}
    # coco's ISO2 cells may hold regex alternatives (e.g. "^GB$|^UK$").
    coco_iso2 = {
        re.sub(r"[^A-Za-z0-9]", "", alt): str(i3)
        for i2, i3 in zip(table["ISO2"], table["ISO3"], strict=True)
        for alt in str(i2).split("|")
        if re.sub(r"[^A-Za-z0-9]", "", alt)
    }
    converter = coco.CountryConverter(country_data=table)
    return CountryRegistry(
        names=names,
        iso3=iso3,
        cow=cow,
        rules=rules,
        not_a_state=not_a_state,
        coco_iso2=coco_iso2,
        coco_iso3=set(table["ISO3"]),
        coco_gw=coco_gw,
        _converter=converter,
    )
