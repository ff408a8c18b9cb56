"""Decoupling of commitment from practice (seed 003, section III), per country-year and by year.

* **commitment** (0-1): the share of commitment items a country holds in a year. The items are the
  ratifications that 001 names as indicator 1 of prescriptive status (ICCPR, its first optional
  protocol on individual complaints, CAT and OPCAT) and, for countries with a case file, the
  institutional indicators 2 and 3 (rights in the constitution or law; a complaint mechanism or
  human-rights commission). Countries without a case file are scored on the four treaties only.
* **practice** (0-1, 1 = full respect): ``Phi(theta)``, the standard normal CDF of Fariss's latent
  protection score (theta is on a standard-normal scale, so Phi maps it to a 0-1 share without an
  arbitrary clip); where theta is missing, ``(5 - pts) / 4`` from the combined PTS.
* **gap** = commitment - practice: positive where formal commitments run ahead of practice.

:func:`world_decoupling` aggregates by year: mean commitment, practice and gap, and the share of
CAT ratifiers whose practice is poor (the coder's "repressive" or "severe" class).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from spirallab.observe.coder import (
    COMMITMENT_TREATIES,
    RULES_V1,
    PhaseRules,
    casefile_features,
    practice_features,
    resolve_casefiles,
)
from spirallab.observe.timeline import atomic_write_bytes

__all__ = ["decoupling", "normal_cdf", "plot_world_decoupling", "world_decoupling"]

_erf = np.vectorize(math.erf, otypes=[float])


def normal_cdf(x: np.ndarray | pd.Series) -> np.ndarray:
    """Standard normal CDF (NaN stays NaN); numpy has no erf, so math.erf is vectorised."""
    a = np.asarray(x, dtype=float)
    out = np.full(a.shape, np.nan)
    ok = ~np.isnan(a)
    out[ok] = 0.5 * (1.0 + _erf(a[ok] / math.sqrt(2.0)))
    return out


def decoupling(
    panel: pd.DataFrame,
    coded: pd.DataFrame | None = None,
    casefiles: Mapping[str, Any] | None = None,
    rules: PhaseRules = RULES_V1,
) -> pd.DataFrame:
    """Commitment, practice and their gap per country-year.

    ``coded`` (from :func:`code_phases`) adds the phase columns when given; ``casefiles`` as in
    :func:`code_phases` (``None`` = built-in, ``{}`` = data only).
    """
    panel = panel.reset_index(drop=True)
    items = pd.DataFrame(index=panel.index)
    for t in COMMITMENT_TREATIES:
        col = f"ratified_{t}"
        items[t] = (
            panel[col].astype("boolean").fillna(False).astype(bool)
            if col in panel.columns
            else False
        )
    case = casefile_features(panel, resolve_casefiles(casefiles))
    has_case = case["has_case"].to_numpy()
    n_items = 4 + 2 * has_case.astype(int)
    held = items.sum(axis=1).to_numpy() + np.where(
        has_case, case["norms"].astype(int) + case["mechanism"].astype(int), 0
    )
    commitment = held / n_items

    prac = practice_features(panel, rules)
    theta_p = normal_cdf(prac["theta"].astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    pts = prac["pts"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    pts_p = (5.0 - pts) / 4.0
    practice = np.where(np.isnan(theta_p), pts_p, theta_p)
    source = np.where(~np.isnan(theta_p), "theta", np.where(~np.isnan(pts_p), "pts", ""))

    out = pd.DataFrame(
        {
            "country_id": panel["country_id"].astype(str),
            "name": (panel["name"] if "name" in panel.columns else panel["country_id"]).astype(str),
            "year": panel["year"].astype(int),
            "commitment": commitment.astype(float),
            "commitment_items": n_items,
            "practice": practice,
            "practice_source": source,
            "gap": commitment - practice,
            "ratified_cat": items["cat"].to_numpy(),
            "ratified_iccpr": items["iccpr"].to_numpy(),
            "poor_practice": (prac["cls"].fillna(-1).astype(int) >= 2).to_numpy(),
            "practice_class_known": prac["cls"].notna().to_numpy(),
        }
    )
    if coded is not None:
        keep = ["country_id", "year", "phase", "phase_set", "rule"]
        out = out.merge(coded[keep], on=["country_id", "year"], how="left")
    return out.sort_values(["country_id", "year"]).reset_index(drop=True)


def world_decoupling(dec: pd.DataFrame) -> pd.DataFrame:
    """By year: countries, mean commitment, practice and gap, share of CAT ratifiers doing poorly.

    Only country-years with a practice score count. ``share_cat_ratifiers_poor`` is the share of
    CAT states parties (that year) whose practice class is repressive or severe.
    """
    d = dec[~np.isnan(dec["practice"].astype(float))]
    g = d.groupby("year")
    world = pd.DataFrame(
        {
            "n": g.size(),
            "mean_commitment": g["commitment"].mean(),
            "mean_practice": g["practice"].mean(),
            "mean_gap": g["gap"].mean(),
        }
    )
    rat = d[d["ratified_cat"] & d["practice_class_known"]]
    gr = rat.groupby("year")
    world["n_cat_ratifiers"] = gr.size().reindex(world.index).fillna(0).astype(int)
    world["share_cat_ratifiers_poor"] = gr["poor_practice"].mean().reindex(world.index)
    return world.reset_index()


def plot_world_decoupling(world: pd.DataFrame, path_png: Path) -> Path:
    """Line chart of the world means and the share of CAT ratifiers with poor practice."""
    fig = Figure(figsize=(10, 7))
    (a1, a2) = fig.subplots(2, 1, sharex=True)
    a1.plot(world["year"], world["mean_commitment"], label="mean commitment", color="#2166ac")
    a1.plot(world["year"], world["mean_practice"], label="mean practice (Phi(theta))",
            color="#1b7837")
    a1.plot(world["year"], world["mean_gap"], label="mean gap (commitment - practice)",
            color="#b2182b")
    a1.axhline(0, color="#999999", lw=0.8)
    a1.set_ylabel("score (0-1)")
    a1.legend(fontsize=8)
    a1.set_title("Decoupling of commitment and practice, world by year")
    a2.plot(world["year"], world["share_cat_ratifiers_poor"], color="#762a83")
    a2.set_ylabel("share of CAT parties\nwith poor practice")
    a2.set_ylim(0, 1)
    a2.set_xlabel("year")
    fig.tight_layout()


    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(Path(path_png), buf.getvalue())
    return Path(path_png)
