"""Browse every country: the sortable index, trimmed timelines, labels that never overlap,
ordinary file modes, and the `code`/`decoupling` defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from typer.testing import CliRunner

from spirallab.cli import app
from spirallab.observe.browse import country_summary, write_country_index
from spirallab.observe.casefiles import builtin_casefiles
from spirallab.observe.timeline import _label_lanes, atomic_write_text, timeline_figure

runner = CliRunner()


def _coded() -> pd.DataFrame:
    rows = []
    for cid, name, sets in (("AAA", "Alpha <script>alert(1)</script>", ["", "", "1|2", "2", "3"]),
                            ("BBB", "Beta & Co", ["0", "0", "4|5", "5", "5"]),
                            ("CCC", "Gamma", ["", "", "", "", ""])):
        for y, s in zip(range(1990, 1995), sets, strict=True):
            rows.append({"country_id": cid, "name": name, "year": y, "phase_set": s,
                         "rule": "no_data" if not s else "x", "rules_version": "2.0.0"})
    return pd.DataFrame(rows)


def test_summary_counts_phases_and_coverage() -> None:
    s = country_summary(_coded()).set_index("country_id")
    assert s.loc["AAA", "now"] == "3" and s.loc["AAA", "now_year"] == 1994
    assert s.loc["AAA", "y_set"] == 1 and s.loc["AAA", "y2"] == 1
    assert s.loc["BBB", "y0"] == 2 and s.loc["BBB", "y5"] == 2
    assert s.loc["AAA", "coverage"] == 1.0 and s.loc["AAA", "first"] == 1992
    assert s.loc["CCC", "years_data"] == 0


def test_index_lists_every_country_escaped_and_offline(tmp_path: Path) -> None:
    path = write_country_index(_coded(), tmp_path / "index.html", {"AAA": "AAA.html"})
    page = path.read_text()
    assert "<script>alert(1)</script>" not in page
    assert "Alpha &lt;script&gt;" in page and "Beta &amp; Co" in page
    for cid in ("AAA", "BBB", "CCC"):
        assert f"data-v='{cid}'" in page
    assert "href='AAA.html'" in page and page.count("<tr>") == 4
    assert "class='sortable'" in page and "addEventListener" in page
    assert "http" not in page and "src=" not in page  # nothing loaded from outside


def test_label_lanes_never_overlap() -> None:
    labels = [(1980, "denial statement"), (1980, "crackdown"), (1981, "prisoner release"),
              (1982, "international mechanism", 1990), (1983, "aid cut"), (1995, "law")]
    lanes = _label_lanes(labels, 1970, 2000)
    assert len(set(lanes[:3])) == 3  # same or adjacent years: three lanes
    assert lanes[5] == 0  # later label reuses the first lane


def _overlaps(fig: Figure) -> tuple[int, int]:
    FigureCanvasAgg(fig)  # a Figure made without pyplot needs a canvas to measure text
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts
             if t.get_gid() == "event-label"]
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), len(boxes)


@pytest.mark.realdata
@pytest.mark.parametrize("cid", ["GTM", "ZAF"])
def test_real_timelines_labels_never_overlap_and_trimmed(
    real_panel: pd.DataFrame, coded_v2: pd.DataFrame, cid: str
) -> None:
    cf = builtin_casefiles()[cid]
    fig = timeline_figure(coded_v2[coded_v2["country_id"] == cid], real_panel, cf, None,
                          country_id=cid)
    overlaps, n = _overlaps(fig)
    assert n >= 20 and overlaps == 0
    lo, _hi = fig.axes[-1].get_xlim()
    first_data = coded_v2[(coded_v2["country_id"] == cid) & (coded_v2["rule"] != "no_data")]
    assert lo >= first_data["year"].min() - 1


def test_written_files_are_ordinary_0644(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "x.txt", "hello")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o644 & ~mask


@pytest.mark.realdata
def test_code_all_timelines_rules_and_decoupling_default(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "codes"
    res = runner.invoke(app, ["code", "--data", str(shared_data), "--out", str(out),
                              "--country", "Chile", "--country", "PRK", "--rules", "1.0.0"])
    assert res.exit_code == 0, res.output
    coded = pd.read_parquet(out / "phases.parquet")
    assert set(coded["rules_version"]) == {"1.0.0"}
    page = (out / "CHL.html").read_text()
    # the coded table is trimmed to years with data (the panel starts in the 1800s)
    assert "<td>1818</td>" not in page and "<td>1946</td>" in page
    index = (out / "index.html").read_text()
    assert "href='CHL.html'" in index and "href='PRK.html'" in index
    mask = os.umask(0)
    os.umask(mask)
    assert all(p.stat().st_mode & 0o777 == 0o644 & ~mask for p in out.iterdir())
    res = runner.invoke(app, ["code", "--data", str(shared_data), "--out", str(out),
                              "--no-timelines"])
    assert res.exit_code == 0, res.output
    index = (out / "index.html").read_text()
    n_countries = pd.read_parquet(out / "phases.parquet")["country_id"].nunique()
    assert index.count("<tr>") == n_countries + 1
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["decoupling", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    made = tmp_path / "spirallab-decoupling"
    assert (made / "decoupling.parquet").is_file()
    assert all(p.stat().st_mode & 0o777 == 0o644 & ~mask for p in made.iterdir())


@pytest.mark.realdata
def test_overlap_check_sees_overlaps_without_lanes(
    real_panel: pd.DataFrame, coded_v2: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spirallab.observe.timeline as tl

    monkeypatch.setattr(tl, "_label_lanes", lambda labels, lo, hi: [i % 5 for i in
                                                                     range(len(labels))])
    cf = builtin_casefiles()["GTM"]
    fig = timeline_figure(coded_v2[coded_v2["country_id"] == "GTM"], real_panel, cf, None,
                          country_id="GTM")
    assert _overlaps(fig)[0] > 0
