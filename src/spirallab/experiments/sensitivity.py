"""Global sensitivity indices of a finished sweep: which factors move which outputs, and how much.

The estimator follows the design the sweep was drawn from (its points are in SALib's order):

- ``sobol`` (Saltelli) designs: Sobol' first-order (S1) and total-order (ST) indices, and
  second-order (S2) indices when the design has them (``SALib.analyze.sobol``);
- ``morris`` designs: elementary effects mu, mu* and sigma (``SALib.analyze.morris``);
- ``lhs`` designs: the moment-independent delta and a first-order S1 estimated from the given
  data (``SALib.analyze.delta``);
- ``grid`` designs are refused: they do not sample the factor space the way these estimators
  assume.

Every confidence interval is a bootstrap half-width at ``conf_level``. Outputs that cannot be
analysed (constant, or missing at some point) are listed with the reason, never dropped silently,
and the result carries :class:`Caveat` s wherever the numbers should not be taken at face value:
a small sample, wide intervals, or the signs of estimation noise (negative indices, S1 summing
past one).

::

    from spirallab.experiments.sensitivity import analyse
    sens = analyse("runs/boomerang")          # pooled over countries
    sens.indices                              # output, factor, method, S1, S1_conf, ST, ...
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.errors import InputError
from spirallab.experiments.outputs import POOLED
from spirallab.experiments.store import SweepStore
from spirallab.model.state import PHASE_LABELS

FloatArray = npt.NDArray[np.float64]

# The estimator used for each kind of design.
METHODS: dict[str, str] = {"sobol": "sobol", "morris": "morris", "lhs": "delta"}
# The index columns of each method, in the order they are written.
INDEX_COLUMNS: dict[str, tuple[str, ...]] = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma", "mu_star_norm"),
    "delta": ("delta", "delta_conf", "S1", "S1_conf"),
}
# The index that ranks factors (most influential first) and its confidence column.
RANK_INDEX: dict[str, tuple[str, str]] = {
    "sobol": ("ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf"),
    "delta": ("delta", "delta_conf"),
}

# Smallest samples for stable indices. Rules of thumb from the literature, not theorems:
# - Sobol': the usual guidance is a base sample N of the order of 500 to 1000 (Saltelli et al.
#   2008, "Global Sensitivity Analysis: The Primer", ch. 4; Saltelli et al. 2010, Comput. Phys.
#   Commun. 181:259); below that, S1 in particular carries bootstrap intervals of +-0.1 or more.
# - Morris: r = 10 to 20 trajectories (Campolongo, Cariboni & Saltelli 2007, Environ. Model.
#   Softw. 22:1509; the Primer, ch. 3); fewer give an unreliable ranking beyond the top factors.
# - delta (given data): the estimator of Plischke, Borgonovo & Smith (2013) splits the sample
#   into slices and fits a density in each; with fewer than a few hundred points each slice holds
#   only a few dozen values.
MIN_SOBOL_BASE = 512
MIN_MORRIS_TRAJECTORIES = 10
MIN_DELTA_POINTS = 500

# A top factor's interval is "wide" above this half-width on the 0-1 scale of Sobol' and delta
# indices, or when it exceeds the index.
WIDE_CI = 0.1
# mu* is in output units, so its interval is judged relative to mu* itself: with r = 20
# trajectories a half-width of 30-45% of mu* is typical of a well-measured factor (1.96 sd/sqrt(r)
# with sd near mu*); above half of mu*, neighbouring factors' ranks are not resolved.
WIDE_CI_MORRIS = 0.5
# Factors whose (normalised) index is below this are treated as inert when judging intervals.
INERT = 0.05
TOP_FACTORS = 3
DEFAULT_RESAMPLES = 1000
# Each delta bootstrap resample refits kernel densities in every slice: a hundred times slower
# than a Sobol' resample, so its default is smaller.
DEFAULT_DELTA_RESAMPLES = 200


@dataclass(frozen=True)
class Caveat:
    """A reason not to take some indices at face value.

    ``kind`` is one of ``small_sample``, ``wide_ci``, ``negative``, ``s1_sum``, ``s1_above_st``
    or ``estimator`` (a note from SALib); ``output`` is None when it concerns the whole analysis.
    """

    kind: str
    message: str
    output: str | None = None
    factors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An output that was not analysed, and why."""

    output: str
    reason: str


@dataclass
class Sensitivity:
    """Sensitivity indices of one sweep, for one country (or pooled), with their caveats.

    ``indices`` is tidy: one row per output and factor, with ``output``, ``factor``, ``method``,
    ``rank`` (1 = most influential for that output) and the columns of ``INDEX_COLUMNS[method]``.
    ``second_order`` holds S2 per output and pair of factors (Sobol' designs with second order).
    """

    method: str
    design: str
    experiment: str
    scenario: str
    country: str
    factors: list[str]
    bounds: list[tuple[float, float]]
    n_points: int
    base_samples: int
    replicates: int
    resamples: int
    conf_level: float
    seed: int
    indices: pd.DataFrame
    second_order: pd.DataFrame | None = None
    caveats: list[Caveat] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def outputs(self) -> list[str]:
        """The outputs that were analysed, in the sweep's order."""
        return list(dict.fromkeys(self.indices["output"]))

    @property
    def rank_index(self) -> str:
        """The column that ranks factors: ST, mu_star or delta."""
        return RANK_INDEX[self.method][0]

    def for_output(self, output: str) -> pd.DataFrame:
        """The indices of one output, most influential factor first."""
        rows = self.indices[self.indices["output"] == output]
        return rows.sort_values("rank", kind="stable", ignore_index=True)

    def caveats_for(self, output: str | None) -> list[Caveat]:
        """The caveats about one output (``None``: those about the whole analysis)."""
        return [c for c in self.caveats if c.output == output]

    def summary(self) -> dict[str, Any]:
        """Everything but the index tables, as plain JSON-ready values."""
        return {
            "method": self.method,
            "design": self.design,
            "experiment": self.experiment,
            "scenario": self.scenario,
            "country": self.country,
            "factors": [
                {"name": f, "bounds": list(b)}
                for f, b in zip(self.factors, self.bounds, strict=True)
            ],
            "n_points": self.n_points,
            "base_samples": self.base_samples,
            "replicates": self.replicates,
            "resamples": self.resamples,
            "conf_level": self.conf_level,
            "seed": self.seed,
            "outputs": self.outputs,
            "caveats": [
                {
                    "kind": c.kind,
                    "output": c.output,
                    "factors": list(c.factors),
                    "message": c.message,
                }
                for c in self.caveats
            ],
            "skipped": [{"output": s.output, "reason": s.reason} for s in self.skipped],
        }


# --------------------------------------------------------------------------- labels


def describe_output(column: str) -> tuple[str, str]:
    """A readable title and the unit of a summary column (see ``experiments.outputs``)."""
    if m := re.fullmatch(r"p_phase(\d)_by_(\d{4})", column):
        k, year = int(m[1]), m[2]
        return f"P(phase {k}, {PHASE_LABELS.get(k, '?')}, reached by {year})", "share of runs"
    if m := re.fullmatch(r"years_in_phase(\d)", column):
        k = int(m[1])
        return f"Median years in phase {k} ({PHASE_LABELS.get(k, '?')})", "years"
    known = {
        "backsliding": ("Share of runs whose phase ever fell", "share of runs"),
        "final_repression": ("Mean repression in the last year", "repression level, 0-1"),
        "final_phase": ("Mean phase in the last year", "phase, 1-5"),
    }
    return known.get(column, (column, "output units"))


def short_factor(name: str) -> str:
    """A factor name for axis labels: ``parameters.`` dropped, every other prefix kept."""
    return name.removeprefix("parameters.")


# --------------------------------------------------------------------------- analysis


def analyse(
    store: SweepStore | str | Path,
    country: str = POOLED,
    outputs: Sequence[str] | None = None,
    resamples: int | None = None,
    conf_level: float = 0.95,
    seed: int = 0,
) -> Sensitivity:
    """Sensitivity indices of every (or each named) output of a finished sweep.

    ``country`` is a country id or ``"ALL"`` (statistics pooled over countries). ``resamples``
    is the number of bootstrap resamples for the confidence intervals (default 1000; 200 for the
    costlier delta estimator). Raises :class:`InputError` for a grid design, an unfinished sweep,
    an unknown country or output, or points that do not form the design the manifest names.
    """
    if not isinstance(store, SweepStore):
        store = SweepStore.open(store)
    manifest = store.manifest
    design = manifest.get("design") or {}
    kind = str(design.get("kind"))
    if kind not in METHODS:
        raise InputError(
            "sensitivity indices need a sampled design; variance-based and moment-independent "
            "indices assume points drawn over the factor ranges, which a full grid is not",
            file=store.root,
            where="design.kind",
            found=kind,
            expected="a sweep with a sobol, morris or lhs design (for a grid, compare the "
            "summaries directly or use `spirallab discover`)",
        )
    method = METHODS[kind]
    problem = manifest.get("problem")
    if not problem:
        raise InputError("the manifest has no SALib problem", file=store.root, where="problem")
    if not 0.0 < conf_level < 1.0:
        raise InputError(
            "confidence level out of range",
            where="--conf",
            found=conf_level,
            expected="a number strictly between 0 and 1, e.g. 0.95",
        )
    if resamples is None:
        resamples = DEFAULT_DELTA_RESAMPLES if method == "delta" else DEFAULT_RESAMPLES
    if resamples < 2:
        raise InputError(
            "too few bootstrap resamples",
            where="--resamples",
            found=resamples,
            expected="at least 2 (1000 is usual)",
        )
    names = [str(n) for n in problem["names"]]
    bounds = [(float(lo), float(hi)) for lo, hi in problem["bounds"]]
    x, frame = _aligned(store, names, country)
    columns = _select_outputs(store, frame, outputs)
    n, d = x.shape
    base = _base_samples(store, kind, n, d, bool(design.get("second_order")))

    result = Sensitivity(
        method=method,
        design=kind,
        experiment=str(manifest.get("experiment", "")),
        scenario=str(manifest.get("scenario", "")),
        country=country,
        factors=names,
        bounds=bounds,
        n_points=n,
        base_samples=base,
        replicates=int(manifest.get("replicates", 0)),
        resamples=resamples,
        conf_level=conf_level,
        seed=seed,
        indices=pd.DataFrame(),
    )
    result.caveats += _sample_caveats(method, base)
    # Each call gets a fresh copy: SALib adds a "groups" key to the problem it is given.
    salib_problem = {"num_vars": d, "names": names, "bounds": [list(b) for b in bounds]}
    tables: list[pd.DataFrame] = []
    pairs: list[pd.DataFrame] = []
    for col in columns:
        y = frame[col].to_numpy(dtype=np.float64)
        reason = _unusable(y, frame["point"].to_numpy())
        if reason is not None:
            result.skipped.append(Skipped(col, reason))
            continue
        with _quiet_salib() as noted:
            try:
                table, s2 = _estimate(
                    method, dict(salib_problem), x, y, design, resamples, conf_level, seed
                )
            except (ValueError, RuntimeError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
                result.skipped.append(Skipped(col, f"SALib could not estimate it: {exc}"))
                continue
        table.insert(0, "output", col)
        table = _ranked(table, method)
        tables.append(table)
        if s2 is not None:
            s2.insert(0, "output", col)
            pairs.append(s2)
        result.caveats += _output_caveats(method, col, table)
        result.caveats += [Caveat("estimator", f"{col}: SALib: {msg}", col) for msg in noted]
    if not tables:
        raise InputError(
            "no output could be analysed: "
            + "; ".join(f"{s.output}: {s.reason}" for s in result.skipped),
            file=store.root,
            expected="outputs that vary between the points of the design",
        )
    result.indices = pd.concat(tables, ignore_index=True)
    result.second_order = pd.concat(pairs, ignore_index=True) if pairs else None
    return result


def _aligned(store: SweepStore, names: list[str], country: str) -> tuple[FloatArray, pd.DataFrame]:
    """The design matrix in SALib order and the summary rows of ``country`` aligned to it."""
    points = store.points().sort_values("point", kind="stable", ignore_index=True)
    missing = [n for n in names if n not in points.columns]
    if missing:
        raise InputError(
            "points.parquet lacks factor columns",
            file=store.root / "points.parquet",
            found=missing,
            expected="one column per factor of the manifest",
        )
    expected_points = np.arange(len(points))
    if not np.array_equal(points["point"].to_numpy(), expected_points):
        raise InputError(
            "points.parquet is not numbered 0..n-1", file=store.root / "points.parquet"
        )
    frame = store.summaries(country=country)
    if not np.array_equal(frame["point"].to_numpy(), expected_points):
        got = set(frame["point"].tolist())
        lost = [int(p) for p in expected_points if p not in got][:5]
        raise InputError(
            f"the summaries of {country} do not cover every point of the design",
            file=store.root,
            found=f"{len(frame)} rows, missing points such as {lost}" if lost else len(frame),
            expected=f"one row per point, {len(points)} in all",
        )
    return points[names].to_numpy(dtype=np.float64), frame


def _select_outputs(
    store: SweepStore, frame: pd.DataFrame, outputs: Sequence[str] | None
) -> list[str]:
    known = [c for c in store.manifest.get("outputs", []) if c in frame.columns]
    if not outputs:
        return known
    unknown = [o for o in outputs if o not in known]
    if unknown:
        raise InputError(
            "no such output in the results",
            where="--output",
            found=unknown[0],
            expected="one of " + ", ".join(known),
        )
    return list(dict.fromkeys(outputs))


def _base_samples(store: SweepStore, kind: str, n: int, d: int, second_order: bool) -> int:
    """N for Sobol', trajectories for Morris, points for LHS; checks the design's shape."""
    if kind == "sobol":
        per = 2 * d + 2 if second_order else d + 2
    elif kind == "morris":
        per = d + 1
    else:
        return n
    if n == 0 or n % per:
        raise InputError(
            f"the points do not form a {kind} design of {d} factors",
            file=store.root / "points.parquet",
            found=f"{n} points",
            expected=f"a multiple of {per}",
        )
    return n // per


def _unusable(y: FloatArray, points: npt.NDArray[Any]) -> str | None:
    """Why an output cannot be analysed, or None."""
    bad = ~np.isfinite(y)
    if bad.any():
        where = ", ".join(str(int(p)) for p in points[bad][:5])
        more = ", ..." if bad.sum() > 5 else ""
        return (
            f"missing (NaN) at {int(bad.sum())} of {y.size} points (points {where}{more}); "
            "the estimators need a value at every point of the design"
        )
    spread = float(np.ptp(y))
    if spread <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return f"constant (= {y[0]:.6g} at every point): no variation to attribute to the factors"
    return None


@contextmanager
def _quiet_salib() -> Iterator[list[str]]:
    """Collect SALib's warnings (instead of printing them) and undo its global side effects.

    ``SALib.analyze.delta`` reseeds NumPy's global generator, changes the warnings filter and
    replaces ``warnings.formatwarning``; BLAS threads are pinned to one because the many tiny
    linear solves of its kernel densities run ten times slower with thread hand-offs.
    """
    from threadpoolctl import threadpool_limits

    notes: list[str] = []
    state = np.random.get_state()
    formatter = warnings.formatwarning
    try:
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(1):
            warnings.simplefilter("always")
            yield notes
        seen: set[str] = set()
        for w in caught:
            text = " ".join(str(w.message).split())
            if issubclass(w.category, UserWarning) and text not in seen:
                seen.add(text)
                notes.append(text)
    finally:
        np.random.set_state(state)
        warnings.formatwarning = formatter


def _salib_seed(seed: int) -> int:
    # SALib's sobol and delta analyses treat a seed of 0 as "no seed" (global randomness), so
    # seeds are shifted by one to keep every seed reproducible.
    return seed + 1


def _estimate(
    method: str,
    problem: dict[str, Any],
    x: FloatArray,
    y: FloatArray,
    design: dict[str, Any],
    resamples: int,
    conf_level: float,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One output's indices (factor, method, index columns) and its S2 pairs, if any."""
    names = problem["names"]
    s2: pd.DataFrame | None = None
    if method == "sobol":
        from SALib.analyze import sobol

        second = bool(design.get("second_order"))
        si = sobol.analyze(
            problem,
            y,
            calc_second_order=second,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=_salib_seed(seed),
        )
        cols = {k: np.asarray(si[k], dtype=np.float64) for k in INDEX_COLUMNS["sobol"]}
        if second:
            s2 = _pairs(names, np.asarray(si["S2"]), np.asarray(si["S2_conf"]))
    elif method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(
            problem,
            x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=int(design.get("levels", 4)),
            seed=seed,
        )
        cols = {k: np.asarray(si[k], dtype=np.float64) for k in ("mu", "mu_star", "mu_star_conf")}
        cols["sigma"] = np.asarray(si["sigma"], dtype=np.float64)
        top = float(np.nanmax(cols["mu_star"]))
        # mu* is in the output's units; divided by the largest it compares across outputs.
        cols["mu_star_norm"] = cols["mu_star"] / top if top > 0 else np.zeros(len(names))
    else:
        from SALib.analyze import delta

        si = delta.analyze(
            problem,
            x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=_salib_seed(seed),
        )
        # The "raw" bootstrap is the estimator of Plischke et al. (2013); with a Latin hypercube
        # every part of each range is equally represented, so SALib's rebalancing is not needed.
        cols = {
            "delta": np.asarray(si["delta_raw"], dtype=np.float64),
            "delta_conf": np.asarray(si["delta_raw_conf"], dtype=np.float64),
            "S1": np.asarray(si["S1"], dtype=np.float64),
            "S1_conf": np.asarray(si["S1_conf"], dtype=np.float64),
        }
        for name, note in zip(names, si.get("notes") or [], strict=False):
            if note and "Step" not in note:  # the on/off "step" variant is not used here
                warnings.warn(f"{name}: {note}", UserWarning, stacklevel=1)
        if np.isnan(cols["delta"]).all():
            raise ValueError("no factor could be estimated (see the notes above)")
    table = pd.DataFrame({"factor": names, "method": method, **cols})
    return table, s2


def _pairs(names: list[str], s2: FloatArray, conf: FloatArray) -> pd.DataFrame:
    rows = [
        {"factor_1": names[i], "factor_2": names[j], "S2": s2[i, j], "S2_conf": conf[i, j]}
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    return pd.DataFrame(rows, columns=["factor_1", "factor_2", "S2", "S2_conf"])


def _ranked(table: pd.DataFrame, method: str) -> pd.DataFrame:
    """Add ``rank`` (1 = largest ranking index; NaN last) after ``method``."""
    key = RANK_INDEX[method][0]
    order = table[key].rank(ascending=False, method="first", na_option="bottom")
    table.insert(3, "rank", order.astype(np.int64))
    return table


# --------------------------------------------------------------------------- caveats


def _sample_caveats(method: str, base: int) -> list[Caveat]:
    out: list[Caveat] = []
    if method == "sobol" and base < MIN_SOBOL_BASE:
        out.append(
            Caveat(
                "small_sample",
                f"Small sample: the Sobol' design has a base sample of N = {base}; stable "
                f"first- and total-order indices usually need N of {MIN_SOBOL_BASE} or more. "
                "Read the ranking, not the values, and check the intervals.",
            )
        )
    elif method == "morris" and base < MIN_MORRIS_TRAJECTORIES:
        out.append(
            Caveat(
                "small_sample",
                f"Small sample: the Morris design has {base} trajectories; "
                f"{MIN_MORRIS_TRAJECTORIES} to 20 are usually needed for a stable ranking beyond "
                "the top factors.",
            )
        )
    elif method == "delta" and base < MIN_DELTA_POINTS:
        out.append(
            Caveat(
                "small_sample",
                f"Small sample: the Latin hypercube has {base} points; the delta estimator "
                f"usually needs {MIN_DELTA_POINTS} or more for stable values.",
            )
        )
    return out


def _output_caveats(method: str, output: str, table: pd.DataFrame) -> list[Caveat]:
    """Wide intervals for the top factors, and the signs of estimation noise."""
    out: list[Caveat] = []
    key, conf = RANK_INDEX[method]
    # Morris: "inert" is judged on mu* relative to the output's largest mu*.
    scale = float(table["mu_star"].max()) if method == "morris" else 1.0
    scale = scale if scale > 0 else 1.0
    top_rows = table.sort_values("rank").head(TOP_FACTORS)
    wide = []
    for row in top_rows.itertuples(index=False):
        value, half = float(getattr(row, key)), float(getattr(row, conf))
        if not (np.isfinite(value) and np.isfinite(half)):
            continue
        inert = value / scale < INERT
        if method == "morris":
            # Only influential factors count: an inert factor's interval is as large as its mu*.
            is_wide = not inert and half > WIDE_CI_MORRIS * value
        else:
            is_wide = half > WIDE_CI or (not inert and half > value)
        if is_wide:
            wide.append((str(row.factor), value, half))
    if wide:
        shown = ", ".join(f"{short_factor(f)} {key} = {v:.3g} ± {h:.2g}" for f, v, h in wide)
        what = " (over half of mu*)" if method == "morris" else ""
        out.append(
            Caveat(
                "wide_ci",
                f"{output}: wide confidence intervals{what} for the top factors ({shown}); "
                "the ranking of these factors is uncertain, a larger sample would narrow them.",
                output,
                tuple(f for f, _, _ in wide),
            )
        )
    if method in ("sobol", "delta"):
        checks = ["S1", "ST"] if method == "sobol" else ["S1", "delta"]
        neg: list[str] = []
        neg_factors: list[str] = []
        for col in checks:
            c = f"{col}_conf"
            below = table[(table[col] + table[c]) < 0]
            for f, v, h in zip(below["factor"], below[col], below[c], strict=True):
                neg.append(f"{short_factor(f)} {col} = {v:.3g} ± {h:.2g}")
                neg_factors.append(str(f))
        if neg:
            out.append(
                Caveat(
                    "negative",
                    f"{output}: indices below zero beyond their interval ({', '.join(neg)}); "
                    "true indices cannot be negative, so this is estimation noise.",
                    output,
                    tuple(dict.fromkeys(neg_factors)),
                )
            )
        total = float(table["S1"].sum())
        if total > 1.0:
            out.append(
                Caveat(
                    "s1_sum",
                    f"{output}: the first-order indices sum to {total:.2f}, above 1; each "
                    "carries estimation noise, so read them as rough.",
                    output,
                )
            )
    if method == "sobol":
        over = table[(table["S1"] - table["S1_conf"]) > (table["ST"] + table["ST_conf"])]
        if len(over):
            out.append(
                Caveat(
                    "s1_above_st",
                    f"{output}: S1 exceeds ST beyond their intervals for "
                    f"{', '.join(short_factor(f) for f in over['factor'])}; a first-order "
                    "effect cannot exceed the total effect, so this is estimation noise.",
                    output,
                    tuple(over["factor"]),
                )
            )
    return out
