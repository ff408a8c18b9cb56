"""``discovery.html``: the discovery report as an offline page (issue 14, "Also fix")."""

from __future__ import annotations

from pathlib import Path

from spirallab.experiments.discovery import Box, Discovery
from spirallab.report.discovery_page import discovery_html, write_discovery_html


def found() -> Discovery:
    box = Box(
        rule="parameters.x1 > 0.6 and parameters.x2 <= 0.4",
        bounds={"parameters.x1": [0.6, None], "parameters.x2": [None, 0.4]},
        n_points=40,
        n_success=38,
        density=0.95,
        coverage=0.9,
        predicts_success=True,
        strong=True,
    )
    return Discovery(
        output="p_phase5_by_2030",
        threshold=0.5,
        above=True,
        country="ALL",
        design="lhs",
        experiment="planted <x>",
        factors=["parameters.x1", "parameters.x2"],
        switches=[],
        n_points=200,
        n_success=42,
        n_dropped=0,
        max_depth=3,
        min_leaf=10,
        base_rate=0.21,
        majority_accuracy=0.79,
        cv_accuracy=0.95,
        cv_std=0.02,
        cv_folds=5,
        cv_p_value=1e-6,
        informative=True,
        boxes=[box],
        importances={"parameters.x1": 0.6, "parameters.x2": 0.4},
        notes=["a note"],
        tree_text="|--- x1 <= 0.6",
    )


def test_page_holds_the_rules_and_embeds_the_figure(tmp_path: Path) -> None:
    png = tmp_path / "discovery.png"
    png.write_bytes(b"\x89PNG fake")
    path = write_discovery_html(found(), tmp_path, png)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and path.name == "discovery.html"
    assert "parameters.x1 &gt; 0.6 and parameters.x2 &lt;= 0.4" in page
    assert "planted &lt;x&gt;" in page  # user text escaped
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page  # offline


def test_page_without_figure_or_boxes() -> None:
    f = found()
    f.boxes = []
    page = discovery_html(f, None)
    assert "<img" not in page and "<table" not in page
