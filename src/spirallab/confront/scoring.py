"""``spirallab score``: read forecasts, build baselines, score everything on the same rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from spirallab.confront.baselines import baseline_forecasts
from spirallab.confront.forecast import check_forecasts
from spirallab.confront.record import load_record, pts_range
from spirallab.confront.score import (
    common_rows,
    outcomes,
    paired_bootstrap,
    score_rows,
    skill_tables,
)
from spirallab.errors import InputError


def read_forecast_dir(folder: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """forecasts.parquet and forecast.json of a forecast folder, checked."""
    fc_path, meta_path = folder / "forecasts.parquet", folder / "forecast.json"
    if not fc_path.is_file() or not meta_path.is_file():
        raise InputError(
            "not a forecast folder",
            file=folder,
            expected="a folder written by `spirallab forecast`",
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        fc = pd.read_parquet(fc_path)
    except (json.JSONDecodeError, OSError, ValueError) as exc:
        raise InputError(f"unreadable: {exc}", file=folder) from None
    check_forecasts(fc, str(fc_path))
    return fc, meta


def method_name(meta: dict[str, Any]) -> str:
    rival = meta.get("calibration", {}).get("rival", "full")
    return "spiral" if rival == "full" else f"spiral:{rival}"


def score_forecasts(
    folder: Path, data: Path, out: Path, rivals: dict[str, Path] | None = None
) -> dict[str, pd.DataFrame]:
    """Score a forecast folder (and rivals' folders) beside the baselines; write the report."""
    fc, meta = read_forecast_dir(folder)
    origin, to = int(meta["origin"]), int(meta["to"])
    frames = [fc.assign(method=method_name(meta))]
    for name, path in (rivals or {}).items():
        rfc, rmeta = read_forecast_dir(path)
        if int(rmeta["origin"]) != origin:
            raise InputError(
                "rival forecast has another origin",
                file=path / "forecast.json",
                found=rmeta["origin"],
                expected=f"origin {origin}",
            )
        frames.append(rfc.assign(method=name))
    _, last = pts_range(data)
    until = min(to, last)
    if until <= origin:
        raise InputError(
            "no outcomes after the origin in the data",
            file=data,
            found=f"data up to {last}",
            expected=f"years after {origin}",
        )
    ids = sorted(fc["country_id"].unique())
    targets = sorted(fc["target"].unique())
    base = baseline_forecasts(load_record(data, until=origin), origin, until, ids, targets)
    observed = outcomes(load_record(data, until=until))
    observed = observed[observed["year"] > origin]
    allf = pd.concat([*frames, base], ignore_index=True)
    allf = allf[allf["year"] <= until]
    scores = common_rows(score_rows(allf, observed, origin))
    tables = skill_tables(scores)
    reference = method_name(meta)
    if scores["method"].nunique() > 1:
        # How sure the comparison is: 90% paired bootstrap intervals over countries.
        tables["difference"] = paired_bootstrap(scores, reference)
        tables["difference_by_horizon"] = paired_bootstrap(scores, reference, by="horizon")
    out.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(out / "scores.parquet", index=False)
    for name, table in tables.items():
        table.to_csv(out / f"skill_{name}.csv", index=False)
    from spirallab.confront.report import forecast_report

    forecast_report(allf, scores, tables, observed, meta, folder, out / "report.html")
    return tables
