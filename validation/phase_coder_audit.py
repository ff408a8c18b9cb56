"""Audit of the phase coder, 1.0.0 beside 2.0.0, on a data folder (issue 14's closing figures).

    PYTHONPATH=src python validation/phase_coder_audit.py --data ../shared/data [--out DIR]

Prints the share of severe-practice country-years coded 3, the longest phase-3 spells, the
book-case table, the reference periods, a few worst-practice countries and the year-on-year
churn per year, for both rules versions; writes the per-country v1-vs-v2 report
(``v1_vs_v2.csv`` and ``v1_vs_v2.md``: what changed and which rule moves explain it) to
``--out``. The last line is the headline figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from spirallab.data import DataSources, load_panel
from spirallab.observe.audit import (
    book_case_table,
    check_references,
    load_references,
    longest_spells,
    set_churn_by_year,
    severe_share_coded,
    version_diff,
)
from spirallab.observe.coder import RULES_V1, code_phases
from spirallab.observe.timeline import atomic_write_text

WORST = ("PRK", "SYR", "IRN", "CHN", "SDN")


def _runs(c: pd.DataFrame) -> str:
    """A country's coded sets as runs: '1946-1972 0; 1973-1977 2; ...'."""
    out: list[list[object]] = []
    for y, s in zip(c["year"].astype(int), c["phase_set"].replace("", "-"), strict=True):
        if out and out[-1][2] == s and out[-1][1] == y - 1:
            out[-1][1] = y
        else:
            out.append([y, y, s])
    return "; ".join(f"{a}-{b} {s}" if a != b else f"{a} {s}" for a, b, s in out if s != "-")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("spirallab-coder-audit"))
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 70)
    panel = load_panel(DataSources.from_dir(args.data))
    coded = {"1.0.0": code_phases(panel, rules=RULES_V1), "2.0.0": code_phases(panel)}
    books, refs = load_references()
    for v, c in coded.items():
        print(f"\n=== rules {v}: {len(c)} country-years, {c['country_id'].nunique()} countries")
        print(f"severe-practice country-years coded 3: {severe_share_coded(c):.3f} "
              f"of {(c['practice'] == 'severe').sum()}")
        print("longest phase-3 spells:")
        print(longest_spells(c, top=8).to_string(index=False))
        table = book_case_table(c, books)
        within = int((table["error"].abs() <= 2).sum())
        mean_abs = table["error"].abs().mean()
        print(f"book cases (entry year, lasting >= 3 coded years): {within} of {len(table)} "
              f"within 2 years; mean |error| {mean_abs:.1f} y")
        print(table.drop(columns="reason").to_string(index=False))
        ref = check_references(c, refs)
        scored = ref[ref["years"] > 0]
        print(f"reference periods with data: {len(scored)}; consistent in >= 80% of years: "
              f"{(scored['consistent'] >= 0.8).sum()}; mean share within: "
              f"{scored['within'].mean():.2f}")
        print(scored[scored["consistent"] < 0.8].to_string(index=False))
        for cid in WORST:
            w = c[c["country_id"] == cid]
            if len(w):
                print(f"  {cid}: {_runs(w[w['phase_set'] != ''])}")
        churn = set_churn_by_year(c)
        print("year-on-year churn (share of countries changing to a disjoint phase set):")
        print(" ".join(f"{int(y)}:{ch:.2f}" for y, ch in zip(churn["year"], churn["churn"],
                                                            strict=True) if y >= 1975))
    diff = version_diff(coded["1.0.0"], coded["2.0.0"])
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "v1_vs_v2.csv", diff.to_csv(index=False))
    lines = ["# Phase coding 1.0.0 vs 2.0.0, per country", "",
             "| country | years | changed | set changes (1.0.0>2.0.0) | rule moves (why) |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.name} ({r.country_id}) | {r.years} | {r.changed} | {r.sets} | {r.why} |"
              for r in diff.itertuples()]
    atomic_write_text(args.out / "v1_vs_v2.md", "\n".join(lines) + "\n")
    print(f"\nv1-vs-v2 report: {args.out / 'v1_vs_v2.md'} ({(diff['changed'] > 0).sum()} of "
          f"{len(diff)} countries changed)")
    v1s, v2s = (severe_share_coded(coded[v]) for v in ("1.0.0", "2.0.0"))
    print(f"severe-practice country-years coded 3: 1.0.0 {v1s:.3f} -> 2.0.0 {v2s:.3f}")


if __name__ == "__main__":
    main()
