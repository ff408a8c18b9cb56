"""The workbench in a real browser: headless Chromium (the system's, driven by Playwright)
against uvicorn on 127.0.0.1, through the five steps: world, country, what-if, brief, runs.

Screenshots go to .ci/artifacts/screenshots (or $SPIRALLAB_SCREENSHOTS), at 1366x768.
The tests skip, saying why, only where no Chromium binary is installed (CI installs one).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import SCREENSHOTS


def _chromium() -> str | None:
    env = os.environ.get("SPIRALLAB_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary found (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    requests: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.requests = requests  # type: ignore[attr-defined]
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    # Offline by construction: every request went to this server (or is an inline data URI).
    others = [u for u in requests if not (u.startswith(live_server) or u.startswith("data:"))]
    assert not others, others
    context.close()


def shot(pg: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def unlabelled(pg: Any) -> list[str]:
    """Form controls without an accessible label (label element, aria-label or -labelledby)."""
    return pg.evaluate(
        """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.getAttribute('aria-labelledby'))
            .map(e => e.name || e.id)"""
    )


def test_a_new_user_reaches_the_kenya_brief_in_three_clicks(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    clicks = 0
    page.get_by_role("link", name="Kenya").click()
    clicks += 1
    page.get_by_role("link", name="Brief").first.click()
    clicks += 1
    page.wait_for_selector("#brief-title")
    assert clicks <= 3
    assert "Kenya: country brief" in page.inner_text("#brief-title")


def test_step1_world_table_sorts_filters_and_works_by_keyboard(page: Any, live_server: str
                                                               ) -> None:
    page.goto(live_server + "/")
    rows = page.locator("#world tbody tr")
    assert rows.count() == 3
    assert page.locator("img[src='/charts/world.svg']").evaluate("i => i.naturalWidth") > 0
    # Live filter while typing, then the server-side filter.
    page.fill("#q", "chi")
    assert page.locator("#world tbody tr:visible").count() == 1
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=chi"))
    assert rows.count() == 1 and "Chile" in rows.first.inner_text()
    page.goto(live_server + "/")
    page.get_by_role("link", name=re.compile("^Country")).click()
    page.wait_for_url(re.compile(r"order=desc"))
    assert page.locator("th[aria-sort='descending']").count() == 1
    # Keyboard: the first Tab reaches the skip link, Enter moves focus into the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert unlabelled(page) == []
    # A hostile country name is shown as text and never runs.
    assert page.evaluate("window.__pwned") is None
    assert "<script>" in page.inner_text("#world")
    shot(page, "workbench-home")


def test_step2_country_page(page: Any, live_server: str) -> None:
    page.goto(live_server + "/country/KEN")
    assert "Kenya" in page.inner_text("h1")
    assert page.get_by_role("heading", name=re.compile("Playbook for the phase now")).count() == 1
    assert page.locator(".play h4").first.inner_text() == "The violating state"
    assert page.locator(".timeline tbody tr").count() > 10
    assert "Synthetic source" in page.inner_text(".timeline")  # case-file events with sources
    assert page.evaluate("window.__pwned") is None  # the case file's hostile text
    seed = page.locator("a[href^='/seeds/000#phase-']").first
    seed.click()
    page.wait_for_url(re.compile(r"/seeds/000#phase-\d"))
    assert page.locator(".seed p.row").count() == 5
    page.goto(live_server + "/country/NOR")
    assert page.evaluate("window.__pwned") is None
    page.goto(live_server + "/country/KEN")
    shot(page, "workbench-country")


def test_step3_whatif_with_progress_and_result(page: Any, live_server: str) -> None:
    page.goto(live_server + "/country/KEN/whatif")
    assert unlabelled(page) == []
    assert "default parameters" in page.inner_text("main")
    page.check("#lever_bilateral_pressure")
    page.fill("#strength_naming_and_shaming", "0.8")
    # Keyboard: focus the Run button and press Enter.
    page.focus("#run")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#whatif-table", timeout=30_000)
    assert page.locator("#lever-table tbody tr").count() == 3
    assert "moves the expected phase most" in page.inner_text("#strongest")
    assert page.locator("#whatif-table tbody tr").count() == 5
    shot(page, "workbench-whatif")


def test_step4_brief_prints_on_one_page(page: Any, live_server: str, tmp_path: Path) -> None:
    page.goto(live_server + "/country/KEN/brief")
    for heading in ("Where it stands", "Forecast", "Levers that matter most",
                    "What the model cannot see"):
        assert page.get_by_role("heading", name=heading).count() == 1
    assert page.locator("#brief-levers tbody tr").count() >= 5
    shot(page, "workbench-brief")
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    (tmp_path / "brief.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")
    response = page.request.get(live_server + "/country/KEN/brief.pdf")
    assert response.ok and response.body().startswith(b"%PDF")


def test_step5_runs_reports_comparison_and_scenario_form(page: Any, live_server: str) -> None:
    page.goto(live_server + "/runs")
    assert page.evaluate("window.__pwned") is None
    page.select_option("#a", "stylised-1")
    page.select_option("#b", "stylised-2")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_selector("#compare")
    assert "stylised-1 and stylised-2 side by side" in page.inner_text("h1")
    page.goto(live_server + "/runs/hand-edited/report")
    assert page.evaluate("window.__pwned") is None  # reports run no script at all
    page.goto(live_server + "/runs/stylised-1")
    page.get_by_role("link", name="Open its report").click()
    page.wait_for_load_state()
    assert "stylised" in page.content()
    page.goto(live_server + "/scenarios")
    page.get_by_role("link", name="stylised").click()
    assert unlabelled(page) == []
    page.fill("[name='parameters.attention_capacity']", "-3")
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#scenario-error")
    assert "attention_capacity" in page.inner_text("#scenario-error")
    page.fill("[name='top.name']", "<script>window.__pwned=1</script>")
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#scenario-error")
    assert page.evaluate("window.__pwned") is None
    shot(page, "workbench-scenario")
    errors = page.console_errors
    assert any("Blocked script execution" in e for e in errors)  # the report's script
    # Our own pages never trip their policy (no inline script or style of ours is refused).
    ours = [e for e in errors if "/runs/hand-edited/" not in e]  # the hostile report
    assert not [e for e in ours if "Content Security Policy" in e or "Refused" in e], errors


@pytest.mark.realdata
def test_real_kenya_brief_in_three_clicks_and_on_one_printed_page(
    browser: Any, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    import uvicorn

    from spirallab.workbench.app import create_app
    from spirallab.workbench.server import free_port, prepare

    monkeypatch.setenv("SPIRALLAB_CACHE", str(tmp_path))
    bench = prepare(shared_data, runs=tmp_path / "runs")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(bench), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        pg = context.new_page()
        pg.goto(f"http://127.0.0.1:{port}/")
        pg.get_by_role("link", name="Kenya", exact=True).click()
        pg.get_by_role("link", name="Brief").first.click()
        pg.wait_for_selector("#brief-title")
        assert "Kenya: country brief" in pg.inner_text("#brief-title")
        shot(pg, "workbench-real-kenya-brief")
        pg.emulate_media(media="print")
        pdf = pg.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
        context.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
