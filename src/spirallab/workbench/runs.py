"""Runs and experiments: browse a runs folder, compare two runs, edit a scenario in a form.

A run folder is what ``spirallab run`` writes (``summary.json``, ``report.html``, ...); a sweep
store is what ``spirallab sweep`` writes (``manifest.json``, ``summaries/``); sensitivity and
discovery folders carry a ``report.html``. Only direct sub-folders of the runs folder are
listed, and names are checked so that no request can read outside it.

The scenario form is generated from the scenario's JSON Schema (``spirallab schema``): every
field of the top level, of ``parameters`` and of ``mechanisms`` becomes a labelled control of
the schema's type and bounds; countries and levers, which are lists of objects, are edited as
TOML, like in a scenario file. Submitting validates with the CLI's own parser, so the messages
are the same.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spirallab.errors import InputError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\- ]{0,200}$")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # run, sweep, report, folder
    has_report: bool
    detail: str


def list_runs(root: Path | None) -> list[Entry]:
    """The runs folder's direct sub-folders, newest first."""
    if root is None or not root.is_dir():
        return []
    out: list[tuple[float, Entry]] = []
    for sub in root.iterdir():
        if not sub.is_dir() or sub.name.startswith("."):
            continue
        kind, detail = "folder", ""
        if (sub / "summary.json").is_file():
            kind = "run"
            try:
                s = json.loads((sub / "summary.json").read_text(encoding="utf-8"))
                detail = (
                    f"scenario {s.get('scenario')}, {s.get('replicates')} replicates,"
                    f" {s.get('start')}-{s.get('end')}, {len(s.get('countries', {}))} countries"
                )
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                detail = "summary.json is not valid JSON"
        elif (sub / "manifest.json").is_file():
            kind = "sweep"
            m = sweep_manifest(sub)
            if m is None:
                detail = "manifest.json is not valid JSON"
            else:
                done = len(m.get("done_chunks") or [])
                detail = (
                    f"experiment {m.get('experiment', '?')} on {m.get('scenario', '?')},"
                    f" {m.get('n_points', '?')} points, {done} of {m.get('n_chunks', '?')}"
                    " chunks done"
                )
        elif (sub / "calibration.json").is_file():
            kind = "calibration"
            detail = "a `spirallab calibrate` posterior: spirallab serve --posterior " + sub.name
        elif (sub / "forecasts.parquet").is_file():
            kind = "forecast"
            detail = "a `spirallab forecast` folder"
        elif report_file(sub) is not None:
            kind = "report"
        out.append((sub.stat().st_mtime,
                    Entry(sub.name, kind, report_file(sub) is not None, detail)))
    return [e for _, e in sorted(out, key=lambda t: (-t[0], t[1].name))]


REPORT_FILES = ("report.html", "calibration.html")  # run/score reports, calibration reports


def report_file(folder: Path) -> Path | None:
    """The folder's offline HTML report, if it has one."""
    return next((folder / f for f in REPORT_FILES if (folder / f).is_file()), None)


ANALYSES = ("sensitivity", "discovery")  # sub-folders `spirallab sensitivity/discover` write


def sweep_manifest(folder: Path) -> dict[str, Any] | None:
    """A sweep store's manifest (``spirallab sweep``), or None if it cannot be read."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def analyses(folder: Path) -> list[str]:
    """The analysis sub-folders of a sweep store that hold a report."""
    return [a for a in ANALYSES if (folder / a / "report.html").is_file()]


def run_folder(root: Path | None, name: str) -> Path:
    """A sub-folder of the runs folder by name, refusing anything that leaves it."""
    if root is None:
        raise InputError("no runs folder", where="--runs", expected="spirallab serve --runs DIR")
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise InputError("bad run name", where="run", found=name,
                         expected="the name of a folder in the runs folder")
    path = (root / name).resolve()
    if path.parent != root.resolve() or not path.is_dir():
        raise InputError("no such run", file=root, where="run", found=name,
                         expected="a folder listed on the Runs page")
    return path


def run_summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.is_file():
        raise InputError("not a run folder (no summary.json)", file=folder,
                         expected="a folder written by `spirallab run`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", file=path)
    return data


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Per country in either run: P(reach phase k) in A and B, and the difference."""
    ca, cb = a.get("countries", {}) or {}, b.get("countries", {}) or {}
    rows: list[dict[str, Any]] = []
    for cid in sorted(set(ca) | set(cb)):
        ra, rb = ca.get(cid, {}), cb.get(cid, {})
        row: dict[str, Any] = {"country": cid, "name": ra.get("name") or rb.get("name") or cid}
        for k in ("2", "3", "4", "5"):
            pa = (ra.get("p_reach") or {}).get(k)
            pb = (rb.get("p_reach") or {}).get(k)
            row[f"a{k}"], row[f"b{k}"] = pa, pb
            row[f"d{k}"] = None if pa is None or pb is None else float(pb) - float(pa)
        rows.append(row)
    return rows


# ---- the scenario form ---------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One form control generated from the schema."""

    name: str  # form field name: top.NAME, parameters.NAME, mechanisms.NAME, toml.countries
    label: str
    kind: str  # number, integer, text, checkbox, select, textarea
    value: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[str, ...] = ()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        return dict(schema["$defs"][ref.split("/")[-1]])
    for key in ("anyOf", "allOf"):
        if key in node:
            for alt in node[key]:
                if alt.get("type") != "null":
                    out = _resolve(schema, alt)
                    return {**out, **{k: v for k, v in node.items() if k not in (key,)}}
    return node


def _control(prefix: str, name: str, node: dict[str, Any], value: Any, schema: dict[str, Any]
             ) -> Control:
    spec = _resolve(schema, node)
    kind = spec.get("type", "string")
    help_text = str(node.get("description") or spec.get("description") or "")
    unit = node.get("unit") or spec.get("unit")
    if unit:
        help_text = f"{help_text} Unit: {unit}."
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if "enum" in spec:
        return Control(f"{prefix}.{name}", name, "select", value, help_text,
                       options=tuple(str(x) for x in spec["enum"]))
    if kind == "boolean":
        return Control(f"{prefix}.{name}", name, "checkbox", bool(value), help_text)
    if kind in ("integer", "number"):
        return Control(f"{prefix}.{name}", name, kind, "" if value is None else value, help_text,
                       lo, hi)
    return Control(f"{prefix}.{name}", name, "text", "" if value is None else value, help_text)


def scenario_controls(scenario: Any) -> list[tuple[str, list[Control]]]:
    """Groups of controls (top level, parameters, mechanisms, lists as TOML) for a scenario."""
    import tomli_w

    from spirallab.scenarios.schema import Scenario

    schema = Scenario.model_json_schema()
    data = scenario.model_dump(mode="json")
    top: list[Control] = []
    for name, node in schema["properties"].items():
        spec = _resolve(schema, node)
        if name in ("parameters", "mechanisms", "countries", "levers", "synthetic"):
            continue
        if spec.get("type") in ("object", "array"):
            continue
        top.append(_control("top", name, node, data.get(name), schema))
    groups = [("Scenario", top)]
    for section in ("parameters", "mechanisms"):
        sub = _resolve(schema, schema["properties"][section])
        controls = [
            _control(section, name, node, data[section].get(name), schema)
            for name, node in sub.get("properties", {}).items()
        ]
        groups.append((section.capitalize(), controls))
    lists: list[Control] = []
    for section in ("countries", "levers"):
        items = data.get(section) or []
        for item in items:
            if section == "countries" and not item.get("insurgency"):
                item.pop("insurgency", None)
            elif section == "countries":
                item["insurgency"] = [[a, 2200 if b is None else b] for a, b in item["insurgency"]]
        items = [_drop_none(item) for item in items]
        text = tomli_w.dumps({section: items}) if items else ""
        lists.append(Control(f"toml.{section}", section, "textarea", text,
                             f"[[{section}]] tables, as in a scenario file (TOML)."))
    if data.get("synthetic"):
        lists.append(Control("toml.synthetic", "synthetic", "textarea",
                             tomli_w.dumps({"synthetic": data["synthetic"]}),
                             "[synthetic] section (TOML)."))
    groups.append(("Countries and levers (TOML)", lists))
    return groups


def _drop_none(value: Any) -> Any:
    """TOML has no null: leave out keys whose value is None, at any depth."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _number(text: str, integer: bool) -> int | float | str:
    try:
        return int(text) if integer and re.fullmatch(r"[+-]?\d+", text.strip()) else float(text)
    except ValueError:
        return text  # left as text: the schema's validation names the key and what it expected


def scenario_from_form(form: dict[str, str], source: str = "scenario form") -> Any:
    """Rebuild the scenario's dict from the form and validate it with the CLI's parser."""
    from spirallab.scenarios.load import parse_scenario
    from spirallab.scenarios.schema import Scenario

    schema = Scenario.model_json_schema()
    data: dict[str, Any] = {"parameters": {}, "mechanisms": {}}
    kinds: dict[str, str] = {}
    for name, node in schema["properties"].items():
        kinds[f"top.{name}"] = _resolve(schema, node).get("type", "string")
    for section in ("parameters", "mechanisms"):
        sub = _resolve(schema, schema["properties"][section])
        for name, node in sub.get("properties", {}).items():
            kinds[f"{section}.{name}"] = _resolve(schema, node).get("type", "string")
    for key, kind in kinds.items():
        section, _, name = key.partition(".")
        if kind == "boolean":
            value: Any = form.get(key) in ("on", "true", "1")
            if section == "top" and key not in form:
                continue
        else:
            if key not in form or str(form[key]).strip() == "":
                continue
            raw = str(form[key])
            value = _number(raw, kind == "integer") if kind in ("integer", "number") else raw
        if section == "top":
            data[name] = value
        else:
            data[section][name] = value
    for section in ("countries", "levers", "synthetic"):
        text = str(form.get(f"toml.{section}", "")).strip()
        if not text:
            continue
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"malformed TOML: {exc}", file=source, where=section) from None
        if section not in parsed:
            raise InputError("required key is missing", file=source, where=section,
                             expected=f"[[{section}]] tables" if section != "synthetic"
                             else "a [synthetic] table")
        data[section] = parsed[section]
    return parse_scenario(data, source=source)
