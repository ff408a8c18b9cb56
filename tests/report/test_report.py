"""The run report: content, offline self-containment, atomic writing, and the numbers behind it."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab.report import build_report, html, phase_shares, stats, write_report

END = 2000
COUNTRIES = {"CHL": ("Chile", 1973), "PHL": ("Philippines", 1972), "TUN": ("Tunisia", 1987)}


def make_results(
    countries: dict[str, tuple[str, int]] = COUNTRIES,
    replicates: int = 20,
    end: int = END,
    seed: int = 0,
) -> pd.DataFrame:
    """Synthetic results: each replicate-country climbs the phases at random, one row per year.

    Rows start at each country's start of repression; the phase is one plus the number of random
    thresholds passed, so phases progress (and may be skipped when two thresholds fall together).
    """
    rng = np.random.default_rng(seed)
    frames = []
    for c, (name, start) in countries.items():
        years = np.arange(start, end + 1)
        thresholds = np.cumsum(rng.integers(1, 12, size=(replicates, 4)), axis=1)
        elapsed = years[None, :] - start
        phase = 1 + (elapsed[:, :, None] >= thresholds[:, None, :]).sum(axis=2)
        repression = np.clip(1.0 - 0.2 * (phase - 1) + rng.normal(0, 0.05, phase.shape), 0, 1)
        frames.append(
            pd.DataFrame(
                {
                    "replicate": np.repeat(np.arange(replicates), years.size),
                    "country": c,
                    "country_name": name,
                    "year": np.tile(years, replicates),
                    "phase": phase.ravel(),
                    "repression": repression.ravel(),
                    "repression_political": (repression * 0.8).ravel(),
                    "repression_endemic": (repression * 0.5).ravel(),
                    "attention": 0.5,
                    "mobilisation": 0.5,
                    "pressure_above": 0.5,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def make_events(results: pd.DataFrame) -> pd.DataFrame:
    """One transition event per change of phase, plus a crackdown now and then."""
    r = results.sort_values(["replicate", "country", "year"])
    prev = r.groupby(["replicate", "country"])["phase"].shift()
    moved = r.loc[prev.notna() & (prev != r["phase"])]
    return pd.DataFrame(
        {
            "replicate": moved["replicate"].to_numpy(),
            "country": moved["country"].to_numpy(),
            "year": moved["year"].to_numpy(),
            "event": np.where(moved["year"].to_numpy() % 7 == 0, "crackdown", "transition"),
            "from_phase": pd.array(prev[moved.index].astype(int).to_numpy(), dtype="Int64"),
            "to_phase": pd.array(moved["phase"].to_numpy(), dtype="Int64"),
            "detail": "",
        }
    )


def make_summary(
    countries: dict[str, tuple[str, int]] = COUNTRIES, mechanisms_off: list[str] | None = None
) -> dict[str, Any]:
    """A summary with distinctive numbers, so the test can find them on the page."""
    out: dict[str, Any] = {
        "scenario": "test-three",
        "description": "Three countries for the report test <b>escaped</b>",
        "seed": 4242,
        "replicates": 20,
        "start": min(s for _, s in countries.values()),
        "end": END,
        "mechanisms_off": mechanisms_off or [],
        "countries": {},
    }
    for i, (c, (name, start)) in enumerate(countries.items()):
        out["countries"][c] = {
            "name": name,
            "start": start,
            "p_reach": {"2": 0.91 - i / 100, "3": 0.73 - i / 100, "4": 0.47, "5": 0.13},
            "median_entry_year": {"2": 1979.0 + i, "3": 1984.5, "4": 1990.0, "5": None},
            "share_backslid": 0.36 + i / 100,
        }
    return out


def make_reference() -> pd.DataFrame:
    """Historical outcomes for Chile and the Philippines only; Tunisia has none."""
    return pd.DataFrame(
        {
            "country": ["CHL", "CHL", "PHL"],
            "label": ["Plebiscite", "Aylwin takes office", "People Power; Aquino takes office"],
            "year": [1988, 1990, 1986],
            "year_end": pd.array([1989, pd.NA, pd.NA], dtype="Int64"),
            "phase": [3, 4, 4],
        }
    )


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame]:
    results = make_results()
    return results, make_events(results), make_summary(), make_reference()


@pytest.fixture(scope="module")
def page(frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame]) -> str:
    return build_report(*frames)


# ----------------------------------------------------------------------------- content


def test_page_names_every_country_and_gives_the_summary_numbers(page: str) -> None:
    summary = make_summary()
    for c, info in summary["countries"].items():
        assert info["name"] in page
        assert f'id="{html.anchor(c)}"' in page
        for k in ("2", "3", "4", "5"):
            assert f"<td>{info['p_reach'][k]:.2f}</td>" in page
        assert f"<td>{info['share_backslid']:.2f}</td>" in page
    assert "<td>1979</td>" in page and "<td>1984.5</td>" in page
    assert "4242" in page and "test-three" in page and "1972–2000" in page


def test_page_says_outcomes_are_compared_never_scheduled(page: str) -> None:
    assert "compared with the simulation, never scheduled" in page
    assert "All mechanisms switched on" in page


def test_mechanisms_switched_off_are_shown_prominently() -> None:
    summary = make_summary(mechanisms_off=["boomerang", "world_time"])
    header = html.header_html(summary, 1972, END, 3)
    assert re.search(r'class="warn"[^>]*>Mechanisms switched off[^<]*boomerang, world_time', header)


def test_text_from_the_scenario_is_escaped(page: str) -> None:
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert "<b>escaped</b>" not in page


def test_page_loads_nothing_from_the_network(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    targets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert targets and all(t.startswith(("data:image/png;base64,", "#")) for t in targets)


def test_images_are_embedded_pngs_with_alt_text(page: str) -> None:
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page)
    # Three countries (one figure each) and the time-in-phase figure.
    assert len(images) == 4
    assert page.count("<img") == len(images)
    for src, alt in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(alt) > 40


def test_tables_have_captions(page: str) -> None:
    assert page.count("<table") == page.count("<caption")
    assert page.count("<table") >= 3  # summary, two countries with history, events


def test_history_is_shown_only_where_there_is_one(page: str) -> None:
    assert "People Power; Aquino takes office" in page and "Plebiscite" in page
    assert "<td>1988–1989</td>" in page  # an outcome that spans years
    tunisia = page.split(f'id="{html.anchor("TUN")}"', 1)[1].split("</section>", 1)[0]
    assert "<img" in tunisia and "<table" not in tunisia and "first reached" not in tunisia


def test_empty_reference_and_empty_events_work(
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    results, events, summary, _ = frames
    empty_ref = pd.DataFrame(columns=["country", "label", "year", "year_end", "phase"])
    empty_events = events.iloc[0:0]
    page = build_report(results, empty_events, summary, empty_ref)
    assert "No events were recorded" in page
    assert "Chile" in page and "Tunisia" in page
    assert "Historical outcomes:" not in page


def test_event_rates_are_per_replicate(
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    _, events, _, _ = frames
    rates = stats.event_rates(events, replicates=20)
    expected = (events["country"] == "CHL").sum() / 20
    assert rates.loc["CHL"].sum() == pytest.approx(expected)


def test_a_missing_column_is_named() -> None:
    results = make_results().drop(columns=["repression_political"])
    with pytest.raises(ValueError, match="repression_political"):
        build_report(results, make_events(results), make_summary(), make_reference())


def test_many_countries_get_an_overview_instead_of_full_panels() -> None:
    countries = {f"S{i:03d}": (f"Synthetic {i}", 1960 + i % 20) for i in range(30)}
    results = make_results(countries, replicates=3)
    summary = make_summary(countries)
    page = build_report(results, make_events(results), summary, make_reference().iloc[0:0])
    assert "first 24 countries" in page
    # Aggregate ribbon, small-ribbon grid, time in phase: no per-country figures.
    assert page.count("<img") == 3
    assert all(f"Synthetic {i}" in page for i in range(30))  # all in the summary table


# ----------------------------------------------------------------------------- writing


def test_write_report_writes_the_page(
    tmp_path: Path, frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame]
) -> None:
    out = tmp_path / "runs" / "report.html"
    write_report(*frames, path=out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_write_report_leaves_nothing_when_the_build_fails(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("build failed")

    monkeypatch.setattr(html, "build_report", broken)
    out = tmp_path / "report.html"
    with pytest.raises(RuntimeError, match="build failed"):
        write_report(*frames, path=out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_report_keeps_the_old_page_when_the_rename_fails(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    out = tmp_path / "report.html"
    out.write_text("old report", encoding="utf-8")

    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    # Only the writing is under test here; skip the slow build.
    monkeypatch.setattr(html, "build_report", lambda *args: "<!DOCTYPE html>new")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(*frames, path=out)
    assert out.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ----------------------------------------------------------------------------- the numbers


def test_phase_shares_sum_to_one_per_country_year(
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    results = frames[0]
    shares = phase_shares(results)
    assert list(shares.columns) == [1, 2, 3, 4, 5]
    assert np.allclose(shares.sum(axis=1), 1.0)
    n_groups = results.groupby(["country", "year"]).ngroups
    assert len(shares) == n_groups
    by_year = phase_shares(results, by=("year",))
    assert np.allclose(by_year.sum(axis=1), 1.0)
    assert by_year.index.min() == 1972 and by_year.index.max() == END


def test_phase_shares_count_replicates() -> None:
    tiny = pd.DataFrame(
        {
            "replicate": [0, 1, 2, 3, 0, 1, 2, 3],
            "country": ["A"] * 8,
            "year": [2000] * 4 + [2001] * 4,
            "phase": [1, 1, 2, 5, 2, 2, 2, 3],
        }
    )
    shares = phase_shares(tiny)
    assert shares.loc[("A", 2000)].tolist() == [0.5, 0.25, 0.0, 0.0, 0.25]
    assert shares.loc[("A", 2001)].tolist() == [0.0, 0.75, 0.25, 0.0, 0.0]


def test_phase_outside_one_to_five_is_rejected() -> None:
    results = make_results()
    results.loc[0, "phase"] = 6
    with pytest.raises(ValueError, match="phase must lie in 1-5"):
        build_report(results, make_events(results.iloc[1:]), make_summary(), make_reference())


def test_first_entry_counts_a_skipped_phase_as_reached() -> None:
    rows = pd.DataFrame(
        {
            "replicate": [0, 0, 0, 0],
            "country": ["A"] * 4,
            "year": [1990, 1991, 1992, 1993],
            "phase": [1, 2, 4, 3],  # a regime change skips phase 3, then a backslide
        }
    )
    entry = stats.first_entry_years(rows).loc[(0, "A")]
    assert entry[2] == 1991 and entry[3] == 1992 and entry[4] == 1992
    assert np.isnan(entry[5])


def test_years_in_phase_sums_spells() -> None:
    rows = pd.DataFrame(
        {
            "replicate": [0] * 6,
            "country": ["A"] * 6,
            "year": range(2000, 2006),
            "phase": [1, 2, 3, 2, 2, 3],
        }
    )
    years = stats.years_in_phase(rows).loc[(0, "A")]
    assert years.tolist() == [1, 3, 2, 0, 0]
    assert stats.final_phase(rows).loc[(0, "A")] == 3


def test_the_numbers_accept_nullable_and_categorical_columns() -> None:
    rows = pd.DataFrame(
        {
            "replicate": [0, 0, 1, 1],
            "country": pd.Categorical(["A", "A", "A", "A"]),
            "year": [2000, 2001, 2000, 2001],
            "phase": pd.array([1, 3, 1, 2], dtype="Int64"),
        }
    )
    stats.check_phases(rows)
    assert phase_shares(rows).loc[("A", 2001)].tolist() == [0.0, 0.5, 0.5, 0.0, 0.0]
    assert stats.first_entry_years(rows).loc[(0, "A"), 3] == 2001
    rows.loc[0, "phase"] = pd.NA
    with pytest.raises(ValueError, match="missing"):
        stats.check_phases(rows)


# ----------------------------------------------------------------------------- issue 9 / 14 fixes


def test_no_history_claim_without_outcomes(
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    results, events, summary, reference = frames
    bare = build_report(results, events, summary, reference.iloc[0:0])
    assert "compared with the simulation, never scheduled" not in bare
    assert "lists no historical outcomes" in bare
    assert "lists no historical outcomes" not in build_report(*frames)


def test_fingerprint_is_in_a_meta_tag(
    frames: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame],
) -> None:
    results, events, summary, reference = frames
    fp = {"run_id": "abc123", "seed": 1}
    page = build_report(results, events, {**summary, "fingerprint": fp}, reference)
    tag = '<meta name="spirallab-fingerprint" content="{&quot;run_id&quot;: &quot;abc123&quot;'
    assert tag in page
    assert "spirallab-fingerprint" not in build_report(*frames)


def test_medians_are_whole_years() -> None:
    # Two replicates entering in 1980 and 1985: the median is a year one of them entered in.
    entries = pd.Series([1980.0, 1985.0, np.nan])
    assert html._observed_median(entries) == 1980.0
    assert html.fmt_year(html._observed_median(entries)) == "1980"


def test_math_markup_in_names_is_drawn_literally() -> None:
    from matplotlib.figure import Figure

    from spirallab.report import figures

    fig = Figure()
    ax = fig.add_subplot()
    figures._style(ax, "$^$: P(phase)", (1970.0, 2000.0))
    # Rendering would raise ParseSyntaxException if "$^$" were read as math.
    assert figures.to_data_uri(fig).startswith("data:image/png;base64,")


def test_timing_errors_count_early_and_late_alike() -> None:
    import pandas as pd

    from spirallab.report.stats import timing_errors

    entries = pd.Series([1980.0, 1986.0, 1988.0, 1995.0, float("nan")])
    errors = timing_errors(entries, 1986, 1990)
    assert errors.tolist() == [-6.0, 0.0, 0.0, 5.0]
