"""A scenario of every panel country, started from its observed state (``spirallab world``).

Everything is read from a :class:`~spirallab.confront.record.Record`, which is already cut at its
``until`` year, so a world never sees later data. Mapping from the record to a country (the
groundings are in docs/calibration.md, "The world from data"):

- start: the world's first year, or the country's first observed year if later;
- initial phase: the coder's phase probabilities in the start year, read as the floor of their
  mean (``1|2`` -> 1, ``1|2|3`` -> 2, ``4|5`` -> 4); undecidable -> the nearest coded year within
  :data:`LOOKBACK` years, else 1 if repression is high, 3 if not (assumption);
- repression: overall repression ``(PTS - 1) / 4`` from the mean of the PTS sources (the schema's
  ``1 + 4x`` scale), or from the Fariss latent score through a line fitted on the record where
  PTS is missing; split into political repression and endemic abuse so that
  ``1 - (1 - political)(1 - endemic)`` equals it, in the proportion of CIRIGHTS/CIRI's
  political components (killings, disappearances, political imprisonment) to torture
  (:func:`split_practice`). The scenario is ``observed_start``: both are the practice at the
  start, and the model infers the government's preferred repression from them (docs/model.md,
  section 5);
- civil society: CIRIGHTS freedom of association (0, 1, 2 -> 0.2, 0.55, 0.9), a proxy;
- social vulnerability: share of six core UN treaties ratified (ICCPR, ICESCR, CAT, CEDAW, CRC,
  ICERD) -> 0.2 + 0.6 x share, a proxy for the wish to belong;
- insurgency: spells of years with non-state one-sided violence (UCDP) or an ongoing state-led
  mass killing, a proxy; a spell still running at ``until`` stays open;
- regime: Polity2 >= 6 democracy, -5..5 competitive authoritarian, <= -6 other;
- material vulnerability and strategic interest: latent, drawn per country from the synthetic
  world's Beta distributions with a seed made of the world seed and the country id (so a
  country's draw does not depend on which other countries are in the panel).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spirallab.confront.record import PHASE_COLUMNS, PTS_SOURCES, Record, as_float
from spirallab.model.worldtime import TREATY_OPENED
from spirallab.scenarios.schema import Country, Scenario

LOOKBACK = 5  # years back a covariate may be carried forward to the start year (assumption)
CORE_TREATIES = ("iccpr", "icescr", "cat", "cedaw", "crc", "icerd")
# CIRI and CIRIGHTS components, 0 frequent, 1 occasional, 2 none: torture is endemic abuse,
# killings, disappearances and political imprisonment are political repression.
ENDEMIC_COMPONENT = "tort"
POLITICAL_COMPONENTS = ("kill", "disap", "polpris")
EVEN_SPLIT = 0.5  # political share where no CIRI year is near the start (assumption)
ASSN_TO_CIVIL = {0: 0.2, 1: 0.55, 2: 0.9}


@dataclass(frozen=True)
class CountryStart:
    """What the record says about one country at its start (kept for the report)."""

    country_id: str
    start: int
    phase: int
    repression: float
    source: str  # "pts" or "fariss"


def _latent(country_id: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{country_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _theta_line(panel: pd.DataFrame) -> tuple[float, float]:
    """PTS mean ~ a + b * Fariss theta, least squares on the record (for years without PTS)."""
    pts = mean_pts(panel)
    theta = as_float(panel["fariss_theta"])
    ok = ~np.isnan(pts) & ~np.isnan(theta)
    if ok.sum() < 10:
        return 2.5, -0.8  # assumption: about one PTS level per 1.25 theta
    b, a = np.polyfit(theta[ok], pts[ok], 1)
    return float(a), float(b)


def mean_pts(frame: pd.DataFrame) -> np.ndarray:
    """Mean of the PTS sources per row (NaN where none scores it), without warnings."""
    values = np.stack([as_float(frame[s]) for s in PTS_SOURCES], axis=1)
    n = np.sum(~np.isnan(values), axis=1)
    total = np.nansum(values, axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _spells(years: Sequence[int], until: int) -> list[tuple[int, int | None]]:
    out: list[tuple[int, int | None]] = []
    for y in sorted(years):
        if out and out[-1][1] is not None and y <= int(out[-1][1]) + 2:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return [(a, None if b == until else b) for a, b in out]


def split_practice(overall: float, political_share: float) -> tuple[float, float]:
    """Political repression and endemic abuse whose combination is ``overall``.

    ``1 - (1 - political)(1 - endemic) = overall``, the model's identity (docs/model.md,
    section 2), with the hazard ``-log(1 - overall)`` shared out: ``political_share`` of it to
    political repression, the rest to endemic abuse. So the PTS sets the level and CIRI the
    composition, and both parts are above 0 wherever the overall level and the share are.
    """
    keep = 1.0 - min(max(overall, 0.0), 1.0)
    w = min(max(political_share, 0.0), 1.0)
    return 1.0 - keep**w, 1.0 - keep ** (1.0 - w)


def _political_share(country_panel: pd.DataFrame, year: int) -> float:
    """Political repression's share of a country's abuse in CIRIGHTS (else CIRI) near ``year``.

    Each component's abuse is ``(2 - score) / 2``; the share is the mean of the political
    components' over that plus torture's, from the first source that scores torture within
    :data:`LOOKBACK` years. No such year (CIRI starts in 1981), no political component scored,
    or no abuse in either (the overall level is then near 0 anyway): :data:`EVEN_SPLIT`.
    """
    for source in ("cirights", "ciri"):
        torture = _latest(country_panel, f"{source}_{ENDEMIC_COMPONENT}", year)
        if torture is None:
            continue
        scores = [_latest(country_panel, f"{source}_{k}", year) for k in POLITICAL_COMPONENTS]
        known = [(2.0 - float(x)) / 2.0 for x in scores if x is not None]
        if not known:
            return EVEN_SPLIT
        political = float(np.mean(known))
        endemic = (2.0 - float(torture)) / 2.0
        total = political + endemic
        return political / total if total > 0 else EVEN_SPLIT
    return EVEN_SPLIT


def _latest(frame: pd.DataFrame, column: str, year: int) -> Any:
    rows = frame[(frame["year"] <= year) & (frame["year"] > year - LOOKBACK)]
    vals = rows[column].dropna()
    return None if vals.empty else vals.iloc[-1]


def world_countries(
    record: Record,
    start: int,
    *,
    seed: int = 0,
    countries: Sequence[str] | None = None,
) -> tuple[list[Country], list[CountryStart]]:
    """Every country observed in the record, started at ``start`` or at its first observation."""
    panel = record.panel
    obs = record.observed()
    a, b = _theta_line(panel[panel["year"] <= record.until])
    wanted = set(countries) if countries is not None else None
    out: list[Country] = []
    starts: list[CountryStart] = []
    for cid, rows in obs.groupby("country_id", sort=True):
        cid = str(cid)
        if wanted is not None and cid not in wanted:
            continue
        rows = rows.sort_values("year")
        pts = mean_pts(rows)
        theta = as_float(rows["fariss_theta"])
        level = np.where(np.isnan(pts), a + b * theta, pts)
        usable = ~np.isnan(level)
        if not usable.any():
            continue
        years = rows["year"].to_numpy()
        before = usable & (years <= start) & (years > start - LOOKBACK)
        if before.any():
            i = int(np.flatnonzero(before)[-1])
            first = start
        else:
            later = usable & (years > start)
            if not later.any():
                continue
            i = int(np.flatnonzero(later)[0])
            first = int(years[i])
        if first > record.until:
            continue
        overall = float(np.clip((level[i] - 1.0) / 4.0, 0.0, 1.0))
        src = "pts" if not np.isnan(pts[i]) else "fariss"
        country_panel = panel[panel["country_id"] == cid].sort_values("year")
        probs = rows[list(PHASE_COLUMNS)].to_numpy(dtype=np.float64)
        phase = _phase_at(probs, years, i, overall, _latent(f"phase:{cid}", seed))
        political, endemic = split_practice(overall, _political_share(country_panel, first))
        assn = _latest(country_panel, "cirights_assn", first)
        civil = ASSN_TO_CIVIL.get(int(assn), 0.5) if assn is not None else 0.5
        at = country_panel[country_panel["year"] == first]
        social = 0.5
        if not at.empty and bool(at["ratification_covered"].iloc[0]):
            share = np.mean([bool(at[f"ratified_{t}"].iloc[0]) for t in CORE_TREATIES])
            social = 0.2 + 0.6 * float(share)
        ratified, quirks = _ratified_by(country_panel, first)
        polity = _latest(country_panel, "polity2", first)
        regime = (
            "other"
            if polity is None
            else "democracy"
            if polity >= 6
            else "competitive_authoritarian"
            if polity > -6
            else "other"
        )
        conflict = country_panel[
            (country_panel["osv_nonstate_deaths"].fillna(0) > 0)
            | (country_panel["mass_killing"].fillna(0).astype(int) > 0)
        ]["year"]
        rng = _latent(cid, seed)
        name = (
            str(country_panel["name"].dropna().iloc[-1])
            if country_panel["name"].notna().any()
            else cid
        )
        out.append(
            Country(
                id=cid,
                name=name,
                start=first,
                initial_phase=phase,
                repression=round(float(np.clip(political, 0.0, 1.0)), 4),
                endemic_abuse=round(float(endemic), 4),
                material_vulnerability=round(float(rng.beta(2, 2)), 3),
                social_vulnerability=round(social, 3),
                strategic_interest=round(float(rng.beta(2, 4)), 3),
                civil_society=civil,
                regime=regime,  # type: ignore[arg-type]
                insurgency=_spells([int(y) for y in conflict], record.until),
                ratified=ratified,  # type: ignore[arg-type]
                notes=f"from the record up to {record.until}: overall repression {overall:.3f}"
                f" ({src}), polity2 {polity}{quirks}",
            )
        )
        starts.append(CountryStart(cid, first, phase, overall, src))
    return out, starts


def _ratified_by(country_panel: pd.DataFrame, first: int) -> tuple[dict[str, int] | None, str]:
    """ICCPR and CAT ratification years known at ``first`` (panel rows up to ``first`` only).

    The year is the first panel year flagged ratified (an upper bound where the panel starts
    later). A year before the treaty opened (a signature or succession year in the UN files) is
    taken as the opening year and said in the notes. None: the UN files do not cover the country.
    """
    out: dict[str, int] = {}
    quirks = ""
    rows = country_panel[country_panel["year"] <= first]
    if rows.empty or not bool(rows["ratification_covered"].iloc[-1]):
        return None, quirks
    for treaty, opened in TREATY_OPENED.items():
        column = f"ratified_{treaty}"
        if column not in rows.columns:
            continue
        years = rows.loc[rows[column].astype(bool), "year"]
        if years.empty:
            continue
        year = int(years.min())
        if year < opened:
            quirks += f"; {treaty} flagged ratified in {year}, before it opened: taken as {opened}"
            year = opened
        out[treaty] = year
    return out, quirks


def _phase_at(
    probs: np.ndarray, years: np.ndarray, i: int, overall: float, rng: np.random.Generator
) -> int:
    """The starting phase: a draw from the coder's phase probabilities of the nearest coded year.

    A draw, not a rounding, so that the world's starting shares match the record's in
    expectation (the floor of the mean put every "1|2" in phase 1; issue 10). Seeded by the
    world seed and the country id.
    """
    order = np.argsort(np.abs(years - years[i]), kind="stable")
    for j in order:
        if abs(int(years[j]) - int(years[i])) >= LOOKBACK:
            break
        p = probs[j]
        if not np.isnan(p).any() and p.sum() > 0:
            return int(rng.choice(np.arange(1, 6), p=p / p.sum()))
    return 1 if overall >= 0.5 else 3


def world_scenario(
    record: Record,
    start: int,
    end: int,
    *,
    seed: int = 1,
    replicates: int = 100,
    parameters: Mapping[str, float] | None = None,
    mechanisms: Mapping[str, bool] | None = None,
    countries: Sequence[str] | None = None,
    name: str | None = None,
) -> Scenario:
    """The world scenario: ``world_countries`` plus run settings, validated."""
    members, _ = world_countries(record, start, seed=seed, countries=countries)
    if not members:
        from spirallab.errors import InputError

        raise InputError(
            "no country has an observed state at or after the start year",
            where="--start",
            found=start,
            expected=f"a year with PTS scores up to {record.until}",
        )
    return Scenario.model_validate(
        {
            "name": name or f"world-{start}",
            "description": "Every panel country from its observed state;"
            f" data up to {record.until}.",
            "start": start,
            "end": end,
            "replicates": replicates,
            "seed": seed,
            "observed_start": True,
            "parameters": dict(parameters or {}),
            "mechanisms": dict(mechanisms or {}),
            "countries": [c.model_dump() for c in members],
        }
    )


def scenario_toml(scenario: Scenario) -> str:
    """The scenario as TOML that ``spirallab run`` reads back."""
    import tomli_w

    data = scenario.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("name", scenario.name)
    for c in data.get("countries", []):
        if not c.get("insurgency"):
            c.pop("insurgency", None)
        else:
            # TOML has no null: an open spell runs to the schema's last year.
            c["insurgency"] = [[a, b if b is not None else 2200] for a, b in c["insurgency"]]
    return tomli_w.dumps(data)
