"""Scenario discovery: which regions of the factor space lead to success, and which to stagnation.

A point of a finished sweep is a *success* when one of its summary outputs passes a threshold; by
default, when the pooled probability of reaching phase 5 (rule-consistent behaviour) by the last
recorded year is at least one half. A shallow decision tree then splits the factor space into
boxes, each described by a readable rule, with

- *density*: the share of the box's points that succeed;
- *coverage*: the share of all successes that fall in the box;

and the tree's cross-validated accuracy is set against the base rate (always guessing the more
common result), so that rules fitted to noise are flagged as such.

::

    from spirallab.experiments.discovery import discover, write_discovery
    found = discover("runs/boomerang")
    for box in found.boxes: print(box.rule, box.density, box.coverage)
    write_discovery(found, "runs/boomerang/discovery")
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.errors import InputError
from spirallab.experiments.outputs import POOLED
from spirallab.experiments.sensitivity import describe_output, short_factor
from spirallab.experiments.store import SweepStore

DEFAULT_THRESHOLD = 0.5
DEFAULT_MAX_DEPTH = 3
# Leaves smaller than this share of the points (or 3 points) describe a handful of points, not
# a region.
DEFAULT_MIN_LEAF_SHARE = 0.05
DEFAULT_MIN_LEAF_POINTS = 3
MIN_POINTS = 10
CV_FOLDS = 5
RANDOM_STATE = 0
# A box is "strong" when the tree beats the base rate out of sample and the box is this pure
# and holds at least this many points.
STRONG_PURITY = 0.8
STRONG_POINTS = 5
# The tree must beat always-guessing-the-majority with one-sided binomial p below this.
SIGNIFICANCE = 0.05
DPI = 200
FONT = 9.0


@dataclass(frozen=True)
class Box:
    """One leaf of the tree: a box in factor space and how its points fare.

    ``bounds`` maps each constrained factor to ``[low, high]`` (exclusive low, inclusive high;
    ``None`` where open). ``strong`` means the tree is informative (it beats the base rate out of
    sample) and the box holds at least 5 points and is at least 80% pure (``density >= 0.8`` for
    a success box, ``<= 0.2`` for a stagnation box).
    """

    rule: str
    bounds: dict[str, list[float | None]]
    n_points: int
    n_success: int
    density: float
    coverage: float
    predicts_success: bool
    strong: bool


@dataclass
class Discovery:
    """The result of :func:`discover`: the outcome, the tree's honesty check and its boxes."""

    output: str
    threshold: float
    above: bool
    country: str
    design: str
    experiment: str
    factors: list[str]
    switches: list[str]
    n_points: int
    n_success: int
    n_dropped: int
    max_depth: int
    min_leaf: int
    base_rate: float
    majority_accuracy: float
    cv_accuracy: float | None = None
    cv_std: float | None = None
    cv_folds: int = 0
    cv_p_value: float | None = None
    informative: bool = False
    boxes: list[Box] = field(default_factory=list)
    importances: dict[str, float] = field(default_factory=dict)
    degenerate: str | None = None
    notes: list[str] = field(default_factory=list)
    tree_text: str = ""
    # Kept for figures; not written to JSON.
    x: pd.DataFrame | None = field(default=None, repr=False)
    success: npt.NDArray[np.bool_] | None = field(default=None, repr=False)

    @property
    def outcome(self) -> str:
        """The definition of success, e.g. ``p_phase5_by_2030 >= 0.5``."""
        return f"{self.output} {'>=' if self.above else '<='} {self.threshold:g}"

    @property
    def success_boxes(self) -> list[Box]:
        """Boxes where most points succeed, best (density x coverage) first."""
        return [b for b in self.boxes if b.predicts_success]

    def verdict(self) -> str:
        """One sentence on whether the rules mean anything beyond this sample."""
        if self.degenerate is not None:
            return self.degenerate
        if self.cv_accuracy is None:
            return (
                "Too few successes or failures to cross-validate; the rules describe this sample "
                "only."
            )
        guess = "success" if self.base_rate >= 0.5 else "stagnation"
        acc = f"cross-validated accuracy {self.cv_accuracy:.2f} (± {self.cv_std or 0:.2f})"
        base = f"{self.majority_accuracy:.2f} by always guessing {guess}"
        if self.informative:
            return (
                f"The tree predicts the outcome out of sample: {acc} against {base} "
                f"(one-sided binomial p = {self.cv_p_value:.2g})."
            )
        return (
            f"The tree does not predict the outcome better than chance: {acc} against {base} "
            f"(p = {self.cv_p_value:.2g}). Read the boxes as a description of this sample, not "
            "as rules."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (without the design matrix)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("x", "success")}
        data["outcome"] = self.outcome
        data["verdict"] = self.verdict()
        return _finite(data)


def _finite(value: Any) -> Any:
    """NaN and infinities as None, so the JSON is valid."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- analysis


def default_output(manifest: dict[str, Any]) -> str:
    """``p_phase5_by_<last recorded year>``: reaching rule-consistent behaviour."""
    years = [int(y) for y in manifest.get("by_years") or []]
    if not years:
        raise InputError(
            "the sweep records no by-years, so there is no default outcome",
            expected="--output with one of " + ", ".join(manifest.get("outputs", [])),
        )
    return f"p_phase5_by_{max(years)}"


def discover(
    store: SweepStore | str | Path,
    output: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    above: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    min_leaf: int | None = None,
    country: str = POOLED,
) -> Discovery:
    """Fit a shallow tree to success/stagnation over the factors of a finished sweep.

    A point succeeds when ``output >= threshold`` (``above``) or ``output <= threshold``.
    ``min_leaf`` is the smallest box in points (default: 5% of the points). When every point
    succeeds, or none does, no tree is fitted and ``degenerate`` says so.
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    if not isinstance(store, SweepStore):
        store = SweepStore.open(store)
    manifest = store.manifest
    if not 1 <= max_depth <= 12:
        raise InputError(
            "tree depth out of range",
            where="--max-depth",
            found=max_depth,
            expected="1 to 12 (3 keeps the rules readable)",
        )
    if not math.isfinite(threshold):
        raise InputError("threshold must be a number", where="--threshold", found=threshold)
    points = store.points().sort_values("point", kind="stable", ignore_index=True)
    factors = [str(f["name"]) for f in manifest.get("factors", [])]
    frame = store.summaries(country=country)
    col = output or default_output(manifest)
    if col not in frame.columns or col in ("point", "country"):
        known = [c for c in manifest.get("outputs", []) if c in frame.columns]
        raise InputError(
            f"no output {col!r} in the results"
            + ("" if output else " (the default outcome: reaching phase 5 by the last by-year)"),
            where="--output",
            found=col,
            expected="one of " + ", ".join(known),
        )
    merged = points.merge(frame[["point", col]], on="point", how="left", validate="one_to_one")
    y = merged[col].to_numpy(dtype=np.float64)
    keep = np.isfinite(y)
    # On/off factors become 0/1, so the tree splits them at 0.5.
    x = merged.loc[keep, factors].astype(np.float64).reset_index(drop=True)
    y = y[keep]
    n = len(y)
    if n < MIN_POINTS:
        raise InputError(
            f"too few points for scenario discovery ({n} with a value of {col})",
            file=store.root,
            expected=f"a sweep of at least {MIN_POINTS} points",
        )
    if min_leaf is None:
        min_leaf = max(DEFAULT_MIN_LEAF_POINTS, round(DEFAULT_MIN_LEAF_SHARE * n))
    if not 1 <= min_leaf <= n // 2:
        raise InputError(
            "smallest box out of range",
            where="--min-leaf",
            found=min_leaf,
            expected=f"1 to {n // 2} points (half of the {n} points)",
        )
    success = y >= threshold if above else y <= threshold
    n_success = int(success.sum())
    base_rate = n_success / n
    found = Discovery(
        output=col,
        threshold=float(threshold),
        above=above,
        country=country,
        design=str((manifest.get("design") or {}).get("kind", "")),
        experiment=str(manifest.get("experiment", "")),
        factors=factors,
        switches=_switches(points, manifest),
        n_points=n,
        n_success=n_success,
        n_dropped=int((~keep).sum()),
        max_depth=max_depth,
        min_leaf=min_leaf,
        base_rate=base_rate,
        majority_accuracy=max(base_rate, 1 - base_rate),
        x=x,
        success=success,
    )
    if found.n_dropped:
        found.notes.append(
            f"{found.n_dropped} point(s) with no value of {col} (NaN) were left out."
        )
    found.notes += _design_notes(found.design)
    if n_success in (0, n):
        found.degenerate = _degenerate(found, y)
        return found

    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=min_leaf, random_state=RANDOM_STATE
    )
    tree.fit(x.to_numpy(), success)
    _cross_validate(found, x.to_numpy(), success, tree.get_params())
    found.importances = {
        f: float(v) for f, v in zip(factors, tree.feature_importances_, strict=True)
    }
    found.tree_text = export_text(tree, feature_names=factors, decimals=3)
    found.boxes = _boxes(found, tree, x, success)
    if tree.get_depth() == 0:
        found.notes.append(
            "The tree found no split: no factor separates success from stagnation with boxes of "
            f"at least {min_leaf} points."
        )
    return found


def _switches(points: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The on/off factors: boolean columns, or grid factors whose levels are all true/false."""
    out = []
    for f in manifest.get("factors", []):
        name = str(f["name"])
        levels = f.get("levels")
        is_bool = pd.api.types.is_bool_dtype(points[name]) or (
            bool(levels) and all(isinstance(v, bool) for v in levels)
        )
        if is_bool:
            out.append(name)
    return out


def _design_notes(kind: str) -> list[str]:
    if kind in ("morris", "grid"):
        return [
            f"A {kind} design puts points on a few levels per factor: thresholds fall halfway "
            "between levels, so the box edges are only known to within one level spacing."
        ]
    if kind == "sobol":
        return [
            "A Saltelli (Sobol') design reuses coordinates between its sample matrices, so "
            "points are not independent draws; an lhs design gives the most even coverage for "
            "discovery."
        ]
    return []


def _degenerate(found: Discovery, y: npt.NDArray[np.float64]) -> str:
    lo, hi = float(y.min()), float(y.max())
    every = found.n_success == found.n_points
    what = "succeed" if every else "fail"
    if found.above:
        fix = "raise --threshold" if every else "lower --threshold"
    else:
        fix = "lower --threshold" if every else "raise --threshold"
    return (
        f"All {found.n_points} points {what} ({found.outcome} is "
        f"{'true' if every else 'false'} everywhere; {found.output} ranges from {lo:.3g} to "
        f"{hi:.3g}): there is nothing to tell apart. {fix.capitalize()} to a value inside that "
        "range, or choose another --output."
    )


def _cross_validate(
    found: Discovery,
    x: npt.NDArray[np.float64],
    success: npt.NDArray[np.bool_],
    params: dict[str, Any],
) -> None:
    """Stratified k-fold accuracy of the same tree, and a binomial test against the majority."""
    from scipy.stats import binomtest
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    minority = int(min(success.sum(), (~success).sum()))
    folds = min(CV_FOLDS, minority)
    if folds < 2:
        found.notes.append(
            f"Only {minority} point(s) in the rarer class: too few to cross-validate the tree."
        )
        return
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    predicted = cross_val_predict(DecisionTreeClassifier(**params), x, success, cv=splitter)
    correct = predicted == success
    per_fold = [float(correct[test].mean()) for _, test in splitter.split(x, success)]
    found.cv_folds = folds
    found.cv_accuracy = float(correct.mean())
    found.cv_std = float(np.std(per_fold, ddof=1))
    # Out-of-sample hits against the accuracy of always guessing the more common result.
    test = binomtest(int(correct.sum()), len(correct), found.majority_accuracy, "greater")
    found.cv_p_value = float(test.pvalue)
    found.informative = found.cv_p_value < SIGNIFICANCE


def _boxes(
    found: Discovery, tree: Any, x: pd.DataFrame, success: npt.NDArray[np.bool_]
) -> list[Box]:
    """Every leaf as a box with its rule, density and coverage; success boxes first."""
    t = tree.tree_
    names = list(x.columns)
    leaf_of = tree.apply(x.to_numpy())
    paths: dict[int, list[tuple[int, bool, float]]] = {}

    def walk(node: int, path: list[tuple[int, bool, float]]) -> None:
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == right:  # a leaf
            paths[node] = path
            return
        feat, thr = int(t.feature[node]), float(t.threshold[node])
        walk(left, [*path, (feat, True, thr)])  # x <= thr
        walk(right, [*path, (feat, False, thr)])  # x > thr

    walk(0, [])
    boxes: list[Box] = []
    for leaf, path in paths.items():
        inside = leaf_of == leaf
        n_in = int(inside.sum())
        n_ok = int(success[inside].sum())
        density = n_ok / n_in if n_in else float("nan")
        bounds = _merge(path, names)
        purity = max(density, 1 - density)
        boxes.append(
            Box(
                rule=_rule(bounds, x, found.switches),
                bounds=bounds,
                n_points=n_in,
                n_success=n_ok,
                density=density,
                coverage=n_ok / found.n_success if found.n_success else float("nan"),
                predicts_success=density >= 0.5,
                strong=found.informative and purity >= STRONG_PURITY and n_in >= STRONG_POINTS,
            )
        )
    boxes.sort(key=lambda b: (not b.predicts_success, -(b.density * b.coverage), -b.n_points))
    return boxes


def _merge(path: list[tuple[int, bool, float]], names: list[str]) -> dict[str, list[float | None]]:
    """The tightest bounds per factor along a path: {factor: [low (exclusive), high]}."""
    bounds: dict[str, list[float | None]] = {}
    for feat, is_upper, thr in path:
        lo, hi = bounds.setdefault(names[feat], [None, None])
        if is_upper:
            bounds[names[feat]][1] = thr if hi is None else min(hi, thr)
        else:
            bounds[names[feat]][0] = thr if lo is None else max(lo, thr)
    return {k: bounds[k] for k in names if k in bounds}


def _fmt(value: float, span: float) -> str:
    """A threshold with enough decimals for the factor's range (1987.5, 0.625, 0.0312)."""
    decimals = max(0, 3 - math.ceil(math.log10(span))) if span > 0 else 3
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rule(bounds: dict[str, list[float | None]], x: pd.DataFrame, switches: list[str]) -> str:
    if not bounds:
        return "all points"
    parts = []
    for name, (lo, hi) in bounds.items():
        col = x[name]
        if name in switches:
            # An on/off factor: the only split is at 0.5.
            parts.append(f"{name} is {'off' if hi is not None else 'on'}")
            continue
        span = float(col.max() - col.min())
        if lo is not None and hi is not None:
            parts.append(f"{_fmt(lo, span)} < {name} <= {_fmt(hi, span)}")
        elif lo is not None:
            parts.append(f"{name} > {_fmt(lo, span)}")
        else:
            assert hi is not None
            parts.append(f"{name} <= {_fmt(hi, span)}")
    return " and ".join(parts)


# --------------------------------------------------------------------------- writing


def box_figure(found: Discovery) -> Any:
    """The points on the two most important factors, success vs stagnation, best box outlined.

    Returns a matplotlib Figure, or None when there is no tree (degenerate outcome, no split).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if found.x is None or found.success is None or not found.importances:
        return None
    ranked = sorted(found.importances, key=lambda f: -found.importances[f])
    used = [f for f in ranked if found.importances[f] > 0]
    if not used:
        return None
    pair = (used + [f for f in ranked if f not in used])[:2]
    fig = Figure(figsize=(6.2, 5.0), layout="constrained")
    ax = fig.add_subplot()
    x = found.x
    ok = found.success
    fx = x[pair[0]].to_numpy()
    fy = x[pair[1]].to_numpy() if len(pair) > 1 else np.zeros(len(x))
    # On a grid of levels many points coincide; a small fixed jitter keeps them all visible.
    leveled = found.design in ("morris", "grid")
    px, py = (_jitter(fx, 1), _jitter(fy, 2)) if leveled else (fx, fy)
    ax.scatter(
        px[~ok],
        py[~ok],
        s=14,
        marker="x",
        color="#D55E00",
        linewidths=0.9,
        label=f"stagnation ({int((~ok).sum())})",
    )
    ax.scatter(
        px[ok],
        py[ok],
        s=16,
        marker="o",
        color="#0072B2",
        alpha=0.85,
        label=f"success ({int(ok.sum())})",
    )
    best = found.success_boxes[0] if found.success_boxes else None
    if best is not None:
        x0, x1 = _edges(best.bounds.get(pair[0]), px)
        y0, y1 = _edges(best.bounds.get(pair[1]) if len(pair) > 1 else None, py)
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                fill=False,
                edgecolor="#222222",
                linewidth=1.6,
                linestyle="--",
                label=f"best box: density {best.density:.2f}, coverage {best.coverage:.2f}",
            )
        )
    note = " (points jittered)" if leveled else ""
    ax.set_xlabel(short_factor(pair[0]) + note, fontsize=FONT)
    ax.set_ylabel((short_factor(pair[1]) + note) if len(pair) > 1 else "", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    title, _ = describe_output(found.output)
    ax.set_title(f"Success: {found.outcome}\n{title}", fontsize=FONT + 1, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(fontsize=FONT - 1, loc="outside lower center", ncols=2, frameon=False)
    return fig


def _jitter(values: npt.NDArray[np.float64], seed: int) -> npt.NDArray[np.float64]:
    span = float(values.max() - values.min()) or 1.0
    shift = np.random.default_rng(seed).uniform(-0.02, 0.02, len(values)) * span
    return values + shift


def _edges(
    bound: list[float | None] | None, values: npt.NDArray[np.float64]
) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.01 * (hi - lo or 1.0)
    if bound is None:
        return lo - pad, hi + pad
    return (lo - pad if bound[0] is None else bound[0]), (
        hi + pad if bound[1] is None else bound[1]
    )


def discovery_markdown(found: Discovery, figure: str | None = None) -> str:
    """The report as Markdown: outcome, honesty check, boxes, notes."""
    title, unit = describe_output(found.output)
    where = "pooled over countries" if found.country == POOLED else f"country {found.country}"
    lines = [
        f"# Scenario discovery: {found.experiment or 'sweep'}",
        "",
        f"- **Success**: `{found.outcome}` ({title}, {unit}), {where}",
        f"- **Points**: {found.n_points} ({found.design} design); successes: {found.n_success} "
        f"(base rate {found.base_rate:.2f})",
        f"- **Tree**: depth at most {found.max_depth}, boxes of at least {found.min_leaf} point(s)",
        "",
        f"**{found.verdict()}**",
        "",
    ]
    if found.boxes:
        lines += [
            "Density: share of the box's points that succeed. Coverage: share of all successes "
            "that fall in the box."
            + (
                " Strong: the tree beats the base rate out of sample and the box holds at least "
                f"{STRONG_POINTS} points, at least {STRONG_PURITY:.0%} of one kind."
                if found.informative
                else ""
            ),
            "",
            "| rule | points | density | coverage | predicts | strong |",
            "|---|---:|---:|---:|---|---|",
        ]
        for b in found.boxes:
            lines.append(
                f"| {b.rule.replace('|', '/')} | {b.n_points} | {b.density:.2f} | "
                f"{b.coverage:.2f} | {'success' if b.predicts_success else 'stagnation'} | "
                f"{'yes' if b.strong else 'no'} |"
            )
        lines.append("")
        imp = sorted(found.importances.items(), key=lambda kv: -kv[1])
        lines += ["Factor importance in the tree (share of the impurity it removes):", ""]
        lines += [f"- {f}: {v:.2f}" for f, v in imp]
        lines.append("")
    if figure:
        lines += [
            f"![Points on the two factors the tree relies on most]({figure})",
            "",
            "The figure shows every point on the two factors the tree relies on most; the dashed "
            "rectangle is the best success box (its bounds on other factors are not shown).",
            "",
        ]
    if found.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in found.notes], ""]
    if found.tree_text:
        lines += ["## The tree", "", "```", found.tree_text.rstrip(), "```", ""]
    return "\n".join(lines)


def write_discovery(found: Discovery, folder: str | Path, figure: bool = True) -> dict[str, Path]:
    """Write ``discovery.md``, ``discovery.json`` and (if there is a tree) ``discovery.png``."""
    from spirallab.experiments.sensitivity_report import ReportFolder, png_bytes

    out = ReportFolder(folder)
    put, paths = out.put, out.paths

    fig = box_figure(found) if figure else None
    if fig is not None:
        data = png_bytes(fig)
        put("png", "discovery.png", lambda p: p.write_bytes(data))
    text = discovery_markdown(found, "discovery.png" if "png" in paths else None)
    put("md", "discovery.md", lambda p: p.write_text(text, encoding="utf-8"))
    blob = json.dumps(found.to_dict(), indent=2)
    put("json", "discovery.json", lambda p: p.write_text(blob, encoding="utf-8"))
    return paths
