"""The workbench's pages through FastAPI's test client: content, safety and bad input."""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from spirallab.errors import InputError
from spirallab.workbench import app as app_module
from spirallab.workbench.app import CSP, REPORT_CSP, Workbench, create_app
from spirallab.workbench.atlas import Atlas, Forecast, outlook

from .conftest import LOCAL, XSS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PAGES = ("/", "/country/KEN", "/country/KEN/whatif", "/country/KEN/brief", "/runs",
         "/runs/stylised-1", "/scenarios", "/scenarios/edit?name=stylised", "/about",
         "/country/NOR", "/runs/hand-edited", "/compare?a=stylised-1&b=hand-edited")


def test_every_page_has_the_policy_and_no_other_host(client: TestClient) -> None:
    for url in PAGES:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[-500:])
        assert r.headers["content-security-policy"] == CSP
        assert "default-src 'self'" in CSP and "script-src 'self'" in CSP
        # Nothing on any page points at another host.
        assert not re.search(r'(src|href|action)="(https?:)?//', r.text), url


def test_hostile_strings_are_escaped_everywhere(client: TestClient) -> None:
    for url in ("/", "/country/NOR", "/country/KEN", "/country/KEN/brief", "/runs",
                "/runs/hand-edited", "/compare?a=stylised-1&b=hand-edited"):
        text = client.get(url).text
        assert "<script>window.__pwned" not in text, url
        assert "<img src=x onerror" not in text, url
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in client.get("/country/NOR").text
    assert "&lt;script&gt;" in client.get("/country/KEN").text  # the case file's text


def test_home_sorts_and_filters(client: TestClient) -> None:
    r = client.get("/", params={"q": "ken"})
    assert "Kenya" in r.text and "Chile" not in r.text
    names = re.findall(r'<a href="/country/([A-Z]+)">', client.get("/?sort=name&order=desc").text)
    assert names == sorted(names, reverse=True) and set(names) == {"KEN", "CHL", "NOR"}
    by_phase = client.get("/", params={"phase": "1"}).text
    assert "Norway" not in by_phase  # PTS 1 throughout: not coded repression


def test_bad_requests_get_one_line_never_a_traceback(client: TestClient) -> None:
    cases = {
        "/?sort=nonsense": 400,
        "/?phase=9": 400,
        "/country/XXX": 404,
        "/country/XXX/brief": 404,
        "/runs/..%2F..%2Fetc": 404,
        "/runs/no-such-run": 400,
        "/compare?a=stylised-1": 400,
        "/jobs/nope": 404,
        "/scenarios/edit?name=../../x": 400,
    }
    for url, status in cases.items():
        r = client.get(url)
        assert r.status_code == status, (url, r.status_code)
        assert "Traceback" not in r.text and 'role="alert"' in r.text, url
        assert r.headers["content-security-policy"] == CSP


def test_other_host_names_are_refused(client: TestClient) -> None:
    # DNS rebinding: a page on another site whose name resolves to 127.0.0.1.
    r = client.get("/", headers={"host": "evil.example:8765"})
    assert r.status_code == 400 and "answers only to" in r.text
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_internal_errors_show_a_page_not_a_traceback(client: TestClient, monkeypatch: Any
                                                    ) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app_module, "build_brief", boom)
    r = client.get("/country/KEN/brief")
    assert r.status_code == 500
    assert "internal error" in r.text.lower() and "secret internals" not in r.text


def test_country_page_shows_evidence_events_and_playbook(client: TestClient) -> None:
    text = client.get("/country/KEN").text
    assert "Coded timeline with its evidence" in text
    assert "denial_statement" in text and "Synthetic source" in text
    assert "Playbook for the phase now" in text and "International partners" in text
    assert 'href="/country/KEN/whatif"' in text and 'href="/country/KEN/brief"' in text


def _form(bench: Workbench, **extra: str) -> dict[str, str]:
    return {"csrf": bench.token, "horizon": "8", "replicates": "500", "seed": "3", **extra}


def _wait(client: TestClient, location: str) -> dict[str, Any]:
    import time

    for _ in range(400):
        job = client.get(location + "/status").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("the what-if did not finish")


def test_whatif_needs_the_csrf_token_and_same_origin(client: TestClient, bench: Workbench
                                                    ) -> None:
    form = _form(bench, lever_naming_and_shaming="on")
    assert client.post("/country/KEN/whatif", data={**form, "csrf": ""}).status_code == 403
    assert client.post("/country/KEN/whatif", data={**form, "csrf": "guess"}).status_code == 403
    r = client.post("/country/KEN/whatif", data=form, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    ok = client.post("/country/KEN/whatif", data=form, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/jobs/")


def test_whatif_runs_and_a_lever_at_strength_zero_changes_nothing(client: TestClient,
                                                                 bench: Workbench) -> None:
    form = _form(bench, lever_naming_and_shaming="on", strength_naming_and_shaming="0.9",
                 lever_aid_conditionality="on", strength_aid_conditionality="0")
    loc = client.post("/country/KEN/whatif", data=form, follow_redirects=False).headers["location"]
    assert _wait(client, loc)["status"] == "done"
    result = bench.jobs.get(loc.rsplit("/", 1)[-1]).result  # type: ignore[union-attr]
    effects = {e.lever.kind: e for e in result.effects}
    # Same random numbers with and without: a lever of strength 0 is exactly no lever.
    assert effects["aid_conditionality"].mean_phase.mean == 0.0
    # Naming and shaming at 0.9 moves Kenya up the spiral, beyond its own uncertainty.
    assert effects["naming_and_shaming"].mean_phase.lo > 0
    assert result.strongest.lever.kind == "naming_and_shaming"
    assert abs(sum(e.mean for e in result.base) - 1) < 1e-9
    page = client.get(loc).text
    assert "Which lever moves it most" in page and "Naming and shaming" in page
    assert "default parameters" in page
    assert client.get(loc + "/chart.svg").headers["content-type"].startswith("image/svg+xml")


def test_whatif_bad_input_gets_the_schema_message(client: TestClient, bench: Workbench) -> None:
    from spirallab.scenarios.load import parse_model
    from spirallab.scenarios.schema import Lever

    form = _form(bench, lever_un_mechanism="on", strength_un_mechanism="1.5",
                 start_un_mechanism=str(bench.atlas.last_year + 1))
    r = client.post("/country/KEN/whatif", data=form)
    assert r.status_code == 400
    with pytest.raises(InputError) as exc:
        year = bench.atlas.last_year + 1
        parse_model(Lever, {"kind": "un_mechanism", "start": year, "end": year + 4,
                            "strength": 1.5}, "what-if form")
    assert str(exc.value).replace("'", "&#39;") in r.text
    for bad in ({"horizon": "99"}, {"replicates": "ten"}, {"lever_un_mechanism": "on",
                                                          "start_un_mechanism": "1900"}, {}):
        assert client.post("/country/KEN/whatif", data={**_form(bench), **bad}).status_code == 400


def test_a_long_whatif_does_not_block_other_requests(client: TestClient, bench: Workbench,
                                                     monkeypatch: Any) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(*args: Any, progress: Any = None, **kwargs: Any) -> None:
        started.set()
        release.wait(20)

    monkeypatch.setattr(app_module, "run_whatif", slow)
    form = _form(bench, lever_naming_and_shaming="on")
    loc = client.post("/country/KEN/whatif", data=form, follow_redirects=False).headers["location"]
    assert started.wait(10)
    running = client.get(loc)
    assert running.status_code == 200 and "<progress" in running.text
    assert client.get("/").status_code == 200  # served while the run is still going
    assert client.get(loc + "/status").json()["status"] == "running"
    release.set()


def test_brief_html_and_a_one_page_pdf(client: TestClient) -> None:
    text = client.get("/country/KEN/brief").text
    for part in ("Where it stands", "Forecast", "Levers that matter most",
                 "What the model cannot see", "No forecast"):
        assert part in text
    assert 'id="print"' in text and 'href="/country/KEN/brief.pdf"' in text
    pdf = client.get("/country/KEN/brief.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.content)) == 1


def test_runs_reports_and_comparison(client: TestClient) -> None:
    listing = client.get("/runs").text
    assert "stylised-1" in listing and "stylised-2" in listing and "open report" in listing
    report = client.get("/runs/stylised-1/report")
    assert report.status_code == 200 and report.headers["content-security-policy"] == REPORT_CSP
    assert "script-src" not in REPORT_CSP and "sandbox" in REPORT_CSP
    cmp = client.get("/compare", params={"a": "stylised-1", "b": "stylised-2"}).text
    assert "side by side" in cmp and "B − A" in cmp


def test_sweep_stores_and_their_analysis_reports(client: TestClient) -> None:
    listing = client.get("/runs").text
    assert "experiment mini-sobol on stylised, 64 points, 2 of 2 chunks done" in listing
    page = client.get("/runs/sweep-mini").text
    assert "attention_capacity" in page and "(finished)" in page
    assert 'href="/runs/sweep-mini/sensitivity/report"' in page
    report = client.get("/runs/sweep-mini/sensitivity/report")
    assert report.status_code == 200 and "Sobol indices" in report.text
    assert report.headers["content-security-policy"] == REPORT_CSP
    assert client.get("/runs/sweep-mini/discovery/report").status_code == 404
    assert client.get("/runs/sweep-mini/etc/report").status_code == 404
    assert "serve --posterior calibration-mini" in listing
    posterior = client.get("/runs/calibration-mini/report")
    assert posterior.status_code == 200 and "Posterior" in posterior.text


def test_scenario_form_is_generated_from_the_schema(client: TestClient) -> None:
    from spirallab.model.params import PARAMETERS
    from spirallab.scenarios.schema import MECHANISMS

    text = client.get("/scenarios/edit", params={"name": "book-eleven"}).text
    for p in PARAMETERS:
        assert f'name="parameters.{p.name}"' in text
    for m in MECHANISMS:
        assert f'name="mechanisms.{m}"' in text
    assert 'for="top.end"' in text and 'name="toml.countries"' in text


def _scenario_form(client: TestClient, bench: Workbench, **changes: str) -> dict[str, str]:
    text = client.get("/scenarios/edit", params={"name": "stylised"}).text
    form: dict[str, str] = {"csrf": bench.token}
    for name, value in re.findall(r'<input type="text"[^>]*name="([^"]+)" value="([^"]*)"', text):
        form[name] = value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    for name in re.findall(r'<input type="checkbox" id="[^"]+" name="([^"]+)" checked', text):
        form[name] = "on"
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>',
                                 text, re.S):
        form[name] = body.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    form.update(changes)
    return form


def test_scenario_form_validates_like_the_cli(client: TestClient, bench: Workbench) -> None:
    from spirallab.scenarios.load import load_scenario, parse_scenario

    ok = client.post("/scenarios/edit", data=_scenario_form(client, bench, action="check"))
    assert ok.status_code == 200 and 'id="scenario-ok"' in ok.text
    bad = client.post("/scenarios/edit",
                      data=_scenario_form(client, bench, **{"parameters.attention_capacity":
                                                            "-3", "action": "check"}))
    assert bad.status_code == 400
    data = load_scenario("stylised").model_dump(mode="json", exclude_defaults=True)
    data.setdefault("parameters", {})["attention_capacity"] = -3.0
    with pytest.raises(InputError) as exc:
        parse_scenario(data, source="scenario form")
    message = str(exc.value).replace("'", "&#39;")
    assert message.split(": ", 1)[1] in bad.text
    hostile = client.post("/scenarios/edit",
                          data=_scenario_form(client, bench, **{"top.name": XSS}))
    assert hostile.status_code == 400 and "<script>window" not in hostile.text
    nocsrf = _scenario_form(client, bench, action="save")
    nocsrf.pop("csrf")
    assert client.post("/scenarios/edit", data=nocsrf).status_code == 403
    saved = client.post("/scenarios/edit",
                        data=_scenario_form(client, bench, **{"top.name": "mine",
                                                              "action": "save"}))
    assert saved.status_code == 200
    path = bench.scenarios_dir / "mine.toml"  # type: ignore[operator]
    assert load_scenario(path).name == "mine"
    assert client.get("/scenarios/edit", params={"name": "mine"}).status_code == 200


def test_outlook_against_hand_computed_values() -> None:
    now = np.array([0.0, 0.5, 0.5, 0.0, 0.0])  # 2 or 3
    later = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    out = outlook(now, later)
    # improve: 0.5 * (0.3 + 0.4) + 0.5 * 0.4; worsen: 0.5 * 0.1 + 0.5 * (0.1 + 0.2)
    assert out["p_improve"] == pytest.approx(0.55)
    assert out["p_worsen"] == pytest.approx(0.2)


def _forecast(atlas: Atlas, best: str) -> Forecast:
    """A hand-made forecast: ``best`` surely reaches phase 5, the others surely phase 1."""
    rows = []
    for cid in atlas.countries()["country_id"]:
        for year in range(atlas.last_year + 1, atlas.last_year + 6):
            for target in ("phase", "pts_a"):
                probs = [0, 0, 0, 0, 1.0] if cid == best else [1.0, 0, 0, 0, 0]
                if target == "pts_a":
                    probs = probs[::-1]
                rows += [{"country_id": cid, "year": year, "target": target, "level": k + 1,
                          "probability": p} for k, p in enumerate(probs)]
    return Forecast(pd.DataFrame(rows), atlas.last_year, "hand-made")


def test_forecast_columns_fill_in_and_sort(atlas: Atlas, runs_dir: Path) -> None:
    fc_atlas = dataclasses.replace(atlas, forecast=_forecast(atlas, "KEN"), _tables={})
    fc_atlas.posterior = None
    with TestClient(create_app(Workbench(atlas=fc_atlas, runs_dir=runs_dir)),
                    base_url=LOCAL) as c:
        text = c.get("/", params={"sort": "p_improve", "order": "desc"}).text
        order = re.findall(r'<a href="/country/([A-Z]+)">', text)
        assert order[0] == "KEN"
        assert "Forecast over 5 years" in text
        brief = c.get("/country/KEN/brief").text
        assert "chance of a better phase 100%" in brief
        assert c.get("/charts/country/KEN.svg").status_code == 200
    table = fc_atlas.world_table().set_index("country_id")
    assert table.loc["KEN", "p_improve"] == pytest.approx(1.0)
    assert table.loc["NOR", "p_improve"] == pytest.approx(0.0)


def test_without_a_posterior_the_pages_say_so(client: TestClient) -> None:
    for url in ("/", "/country/KEN/whatif"):
        assert "default parameters" in client.get(url).text


def test_the_pdf_shrinks_a_long_brief_onto_one_page(atlas: Atlas) -> None:
    from spirallab.workbench.brief import _draw, brief_pdf, build_brief

    brief = build_brief(atlas, "KEN", None)
    long = dataclasses.replace(
        brief,
        evidence="a long piece of evidence " * 120,
        events=[{"year": 2000 + i, "description": "an event described at length " * 8,
                 "source": "a source"} for i in range(12)],
    )
    assert _draw(long, 1.0)[1] < 0.02  # at full size it would run off the page
    pdf = brief_pdf(long)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
