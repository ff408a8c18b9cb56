"""Commands of the Observe pillar that code phases: ``code`` and ``decoupling`` (issue 3)."""

from __future__ import annotations

import difflib
import html
import io
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from spirallab.cli import app
from spirallab.errors import InputError

_console = Console()


class OutFormat(StrEnum):
    """Table formats for ``--format``."""

    parquet = "parquet"
    csv = "csv"


class RulesVersion(StrEnum):
    """Phase-coder rules versions for ``--rules``."""

    v2 = "2.0.0"
    v1 = "1.0.0"


def _load(data: Path, cache: Path | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from spirallab.data import DataSources, load_panel, load_ratifications

    if not data.is_dir():
        raise InputError("data folder not found", where="--data", found=str(data),
                         expected="a folder laid out like ../shared/data")
    src = DataSources.from_dir(data)
    panel = load_panel(src, cache_dir=cache)
    # Ratification markers are drawn when treaty files are given; their errors are reported.
    rats = load_ratifications(src) if src.ratification else None
    return panel, rats


def _norm(text: str) -> str:
    """Case- and accent-insensitive form of a name ("Côte" matches "cote")."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def resolve_countries(panel: pd.DataFrame, wanted: list[str]) -> list[str]:
    """Country ids for names, ISO3 codes, country ids or COW numbers (case-insensitive).

    Raises :class:`InputError` listing close matches for anything unknown.
    """
    ids = panel[["country_id", "name"] + (["iso3"] if "iso3" in panel.columns else [])
                + (["cow"] if "cow" in panel.columns else [])].drop_duplicates()
    lookup: dict[str, str] = {}
    for _, r in ids.iterrows():
        cid = str(r["country_id"])
        for v in (cid, r.get("name"), r.get("iso3"), r.get("cow")):
            if v is not None and not pd.isna(v) and str(v).strip():
                lookup.setdefault(_norm(str(v)), cid)
    out: list[str] = []
    for w in wanted:
        key = _norm(w)
        if key in lookup:
            cid = lookup[key]
        else:
            names = sorted({str(n) for n in ids["name"].dropna()} | set(ids["country_id"]))
            close = difflib.get_close_matches(w, names, n=5, cutoff=0.5)
            close += [n for n in names if key and key in _norm(n) and n not in close][:5]
            hint = f"one of the panel's countries; close matches: {', '.join(close[:6])}" if close \
                else "a country name, ISO3 code or COW number on the panel"
            raise InputError("unknown country", where="--country", found=w, expected=hint)
        if cid not in out:
            out.append(cid)
    return out


def _write_table(df: pd.DataFrame, path: Path, fmt: OutFormat) -> Path:
    from spirallab.observe.timeline import atomic_write_bytes

    if fmt is OutFormat.parquet:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        data = buf.getvalue()
    else:
        data = df.to_csv(index=False).encode("utf-8")
    atomic_write_bytes(path, data)
    return path


def _casefiles(use: bool) -> dict[str, Any]:
    if not use:
        return {}
    from spirallab.observe.casefiles import builtin_casefiles

    return dict(builtin_casefiles())


# Options shared by `code` and `decoupling`.
DataOption = Annotated[
    Path, typer.Option("--data", help="Data folder (../shared/data layout).")
]
FormatOption = Annotated[OutFormat, typer.Option("--format", help="Table format.")]
CasefilesOption = Annotated[
    bool,
    typer.Option("--casefiles/--no-casefiles", help="Use the built-in case files as evidence."),
]
CacheOption = Annotated[Path | None, typer.Option("--cache", help="Panel cache folder.")]
RulesOption = Annotated[RulesVersion, typer.Option(
    "--rules", help="Phase-coder rules version (docs/phase-coding.md).")]


def _rules(version: RulesVersion) -> Any:
    from spirallab.observe.coder2 import rules_for

    return rules_for(version.value)


@app.command("code")
def code(
    data: DataOption,
    country: Annotated[list[str] | None, typer.Option(
        "--country", help="Country name, ISO3 code or COW number (repeatable). Restricts the "
        "table and the figures; default: all countries, a timeline for each.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("spirallab-phases"),
    fmt: FormatOption = OutFormat.parquet,
    casefiles: CasefilesOption = True,
    cache: CacheOption = None,
    rules: RulesOption = RulesVersion.v2,
    timelines: Annotated[bool, typer.Option(
        "--timelines/--no-timelines", help="Draw a timeline page per country.")] = True,
) -> None:
    """Code every country-year into a spiral phase; write the table, timelines and an index."""
    from spirallab.observe.browse import write_country_index
    from spirallab.observe.coder import code_phases
    from spirallab.observe.timeline import plot_timeline

    panel, rats = _load(data, cache)
    cfs = _casefiles(casefiles)
    selected = resolve_countries(panel, country) if country else None
    sub = panel[panel["country_id"].isin(selected)] if selected else panel
    coded = code_phases(sub, casefiles=cfs, rules=_rules(rules))
    out.mkdir(parents=True, exist_ok=True)
    table = _write_table(coded, out / f"phases.{fmt.value}", fmt)
    with_data = set(coded.loc[coded["phase_set"].fillna("") != "", "country_id"])
    if not timelines:
        figs: list[str] = []
    elif selected:
        figs = selected
    else:
        figs = sorted(with_data)
    hrefs: dict[str, str] = {}
    for cid in figs:
        c = coded[coded["country_id"] == cid]
        if c.empty:
            continue
        plot_timeline(c, sub, cfs.get(cid), rats, path_png=out / f"{cid}.png",
                      path_html=out / f"{cid}.html", country_id=cid)
        hrefs[cid] = f"{cid}.html"
    version = coded["rules_version"].iloc[0] if len(coded) else ""
    write_country_index(coded, out / "index.html", hrefs, intro_html=(
        f"<p>Rules version {html.escape(str(version))}; table: {html.escape(table.name)}; "
        "phase sets such as 1|2 are undecidable from the evidence (docs/phase-coding.md).</p>"))
    _console.print(f"coded {len(coded)} country-years of {coded['country_id'].nunique()} "
                   f"countries (rules {version}) -> {table}; {len(hrefs)} timelines; index "
                   f"{out / 'index.html'}")


@app.command("decoupling")
def decoupling_cmd(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path(
        "spirallab-decoupling"),
    fmt: FormatOption = OutFormat.parquet,
    casefiles: CasefilesOption = True,
    cache: CacheOption = None,
    rules: RulesOption = RulesVersion.v2,
) -> None:
    """Commitment vs practice per country-year and by year, with a world figure."""
    from spirallab.observe.coder import code_phases
    from spirallab.observe.decoupling import decoupling, plot_world_decoupling, world_decoupling

    panel, _ = _load(data, cache)
    cfs = _casefiles(casefiles)
    coded = code_phases(panel, casefiles=cfs, rules=_rules(rules))
    dec = decoupling(panel, coded=coded, casefiles=cfs)
    world = world_decoupling(dec)
    out.mkdir(parents=True, exist_ok=True)
    t1 = _write_table(dec, out / f"decoupling.{fmt.value}", fmt)
    t2 = _write_table(world, out / f"world_decoupling.{fmt.value}", fmt)
    png = plot_world_decoupling(world, out / "world_decoupling.png")
    _console.print(f"decoupling: {len(dec)} country-years -> {t1}; world by year -> {t2}; "
                   f"figure {png}")


@app.command("compare")
def compare_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `spirallab run`.")],
    data: DataOption,
    casefiles: CasefilesOption = True,
    cache: CacheOption = None,
    rules: RulesOption = RulesVersion.v2,
) -> None:
    """A run beside the coded record: ribbons, two-sided timing errors, Brier and log scores."""
    from spirallab.observe.coder import code_phases
    from spirallab.observe.compare import compare_run, load_run, write_comparison

    results = load_run(run_dir)
    panel, _ = _load(data, cache)
    sub = panel[panel["country_id"].astype(str).isin(set(results["country"]))]
    coded = code_phases(sub, casefiles=_casefiles(casefiles), rules=_rules(rules))
    cmp_ = compare_run(results, coded)
    paths = write_comparison(run_dir, results, coded)
    pooled = cmp_.scores[cmp_.scores["country_id"] == "all"]
    for _, r in pooled.iterrows():
        t = cmp_.timing[cmp_.timing["phase"] == r["phase"]]
        mae = t["mae"].dropna()
        _console.print(f"phase >= {int(r['phase'])}: Brier {r['brier']:.3f}, log score "
                       f"{r['log_score']:.3f} over {int(r['years'])} country-years; median "
                       f"|timing error| {mae.median() if len(mae) else float('nan'):.1f} y "
                       f"({len(mae)} countries)")
    _console.print(f"compared {len(cmp_.countries)} countries -> {paths['html']}"
                   + (f"; section added to {paths['report']}" if "report" in paths else ""))
