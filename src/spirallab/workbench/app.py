"""The workbench's web application: FastAPI routes over server-rendered Jinja2 templates.

Safety, by default and everywhere:

- every page carries a content security policy that allows only this server (no inline script,
  no other host), and run reports (offline HTML written by other commands) are served with a
  policy that allows no script at all;
- Jinja2 autoescapes every value, so a country name, a case-file text or a scenario name is
  shown as text, never run;
- every form that changes anything (the what-if, saving a scenario) carries a CSRF token that
  only pages of this server know, and cross-origin posts are refused;
- a bad request gets a page that says what was wrong in one line; an internal error gets a
  page that says so, and the traceback goes to the server log only;
- routes that compute are plain functions, which FastAPI runs in its thread pool, and what-ifs
  run as jobs in their own pool, so a long run never blocks the event loop.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from spirallab.errors import InputError, SpiralLabError
from spirallab.workbench import charts
from spirallab.workbench.atlas import HORIZON, Atlas
from spirallab.workbench.brief import brief_pdf, build_brief
from spirallab.workbench.jobs import Job, Jobs
from spirallab.workbench.playbook import (
    ACTOR_NAMES,
    ACTORS,
    GENERAL,
    plays_for,
    seed_file,
    seed_rows,
)
from spirallab.workbench.runs import (
    ANALYSES,
    analyses,
    compare,
    list_runs,
    report_file,
    run_folder,
    run_summary,
    scenario_controls,
    scenario_from_form,
    sweep_manifest,
)
from spirallab.workbench.whatif import (
    MAX_HORIZON,
    MAX_REPLICATES,
    WhatIfResult,
    default_question,
    lever_kinds,
    parse_question,
    run_whatif,
)

log = logging.getLogger("spirallab.workbench")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Reports written by `spirallab run`, `sweep`, `calibrate` ... are self-contained HTML with
# inline styles and data-URI images; they get no script and no network at all.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)
SORT_KEYS = ("name", "phase", "years_in", "trend", "p_improve", "p_worsen")


@dataclass
class Workbench:
    """Everything the routes read: the atlas, jobs, folders and the session's CSRF token."""

    atlas: Atlas
    runs_dir: Path | None = None
    seeds_dir: Path | None = None
    scenarios_dir: Path | None = None
    jobs: Jobs = field(default_factory=Jobs)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    forecast_job: Job | None = None
    # Host names the server answers to (a guard against DNS rebinding: a page on another site
    # whose name resolves to 127.0.0.1 would otherwise count as same-origin); None: any.
    allowed_hosts: tuple[str, ...] | None = ("127.0.0.1", "localhost", "[::1]")
    _briefs: dict[str, WhatIfResult] = field(default_factory=dict)
    charts: dict[tuple[str, int], bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lever_effects(self, country_id: str) -> WhatIfResult:
        """Every lever alone for this country (cached: the brief's question never changes)."""
        with self._lock:
            hit = self._briefs.get(country_id)
        if hit is not None:
            return hit
        question = default_question(country_id, self.atlas.last_year + 1)
        result = run_whatif(self.atlas.record, question, posterior=self.atlas.posterior)
        with self._lock:
            self._briefs[country_id] = result
        return result

    def remember_chart(self, key: tuple[str, int], svg: bytes) -> None:
        """Keep a country chart (the 64 most recent: a chart is tens of kB)."""
        with self._lock:
            if len(self.charts) >= 64:
                self.charts.pop(next(iter(self.charts)))
            self.charts[key] = svg

    def start_forecast(self, compute: Callable[[], Any]) -> None:
        """Compute the forecast in the background; pages show its progress meanwhile."""

        def work(progress: Callable[[int, int], None]) -> Any:
            progress(0, 1)
            forecast = compute()
            self.atlas.forecast = forecast
            with self._lock:
                self._briefs.clear()
            progress(1, 1)
            return None

        self.forecast_job = self.jobs.submit("forecast", work)


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("spirallab.workbench", "templates"),
        autoescape=select_autoescape(["html", "xml"], default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x: "–" if x is None or pd.isna(x) else f"{100 * float(x):.0f}%"
    # Rounded before the sign is chosen, so that -0.001 reads +0, never -0.
    env.filters["signed"] = lambda x, d=2: f"{round(float(x), d) + 0.0:+.{d}f}"
    env.filters["num"] = lambda x, d=2: "–" if x is None or pd.isna(x) else f"{float(x):.{d}f}"
    return env


def _static_dir() -> str:
    return str(resources.files("spirallab.workbench").joinpath("static"))


def create_app(bench: Workbench) -> FastAPI:
    """The FastAPI application over a :class:`Workbench`."""
    app = FastAPI(title="Spiral Lab workbench", docs_url=None, redoc_url=None, openapi_url=None)
    env = _templates()
    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")
    atlas = bench.atlas

    def page(request: Request, template_name: str, status: int = 200, **ctx: Any
             ) -> HTMLResponse:
        template = env.get_template(template_name)
        job = bench.forecast_job
        html = template.render(
            request_path=request.url.path,
            csrf=bench.token,
            atlas=atlas,
            forecast_job=job if job is not None and job.status != "done" else None,
            posterior=atlas.posterior,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)

    @app.middleware("http")
    async def security(request: Request, call_next: Any) -> Response:
        host_name = request.headers.get("host", "").rsplit(":", 1)[0].lower()
        if request.headers.get("host", "").startswith("[") and "]" in request.headers["host"]:
            host_name = request.headers["host"].split("]")[0].lower() + "]"
        if bench.allowed_hosts is not None and host_name not in bench.allowed_hosts:
            refused: Response = _error_page(
                env, 400, "unknown host",
                "This workbench answers only to " + ", ".join(bench.allowed_hosts) + ".")
            return _secure(refused, CSP)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            host = request.headers.get("host", "")
            if origin and origin.split("://", 1)[-1] != host:
                response: Response = _error_page(env, 403, "cross-origin request refused",
                                                 "Forms can only be sent from this workbench.")
                return _secure(response, CSP)
        response = await call_next(request)
        return _secure(response, REPORT_CSP if request.url.path.endswith("/report") else CSP)

    def check_csrf(form: dict[str, str]) -> None:
        if not hmac.compare_digest(str(form.get("csrf", "")), bench.token):
            raise HTTPException(403, "the form's security token is missing or out of date:"
                                     " reload the page and send it again")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error_page(env, exc.status_code, _reason(exc.status_code), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error_page(env, 400, "bad request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(SpiralLabError)
    async def input_error(request: Request, exc: SpiralLabError) -> Response:
        status = 400 if isinstance(exc, InputError) else 500
        return _error_page(env, status, "bad input" if status == 400 else "error", str(exc))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        return _error_page(env, 500, "internal error",
                           "Something went wrong inside the workbench; the server log has the"
                           " details.")

    def country_or_404(country_id: str) -> str:
        if not atlas.has(country_id):
            raise HTTPException(404, f"no coded country with id {country_id!r}")
        return country_id

    # ---- home ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, q: str = "", phase: str = "", sort: str = "name",
             order: str = "asc") -> HTMLResponse:
        if sort not in SORT_KEYS:
            raise InputError("unknown sort column", where="sort", found=sort,
                             expected=", ".join(SORT_KEYS))
        if order not in ("asc", "desc"):
            raise InputError("unknown order", where="order", found=order, expected="asc or desc")
        table = _world_table(atlas)
        total = len(table)
        if q.strip():
            key = q.strip().lower()
            table = table[
                table["name"].str.lower().str.contains(key, regex=False)
                | table["country_id"].str.lower().str.contains(key, regex=False)
            ]
        if phase:
            if phase not in ("1", "2", "3", "4", "5"):
                raise InputError("unknown phase", where="phase", found=phase, expected="1 to 5")
            table = table[table["phase"].astype(str).str.split("|").apply(lambda s: phase in s)]
        key = "phase_lo" if sort == "phase" else sort
        table = table.sort_values([key, "name"], ascending=[order == "asc", True],
                                  na_position="last")

        def sort_link(col: str) -> str:
            flip = "desc" if sort == col and order == "asc" else "asc"
            return "/?" + urlencode({"q": q, "phase": phase, "sort": col, "order": flip})

        return page(
            request, "home.html", rows=table.to_dict("records"), total=total, q=q,
            phase=phase, sort=sort, order=order, sort_link=sort_link, horizon=HORIZON,
        )

    @app.get("/charts/world.svg")
    def world_svg() -> Response:
        return Response(_world_svg(atlas, id(atlas.forecast)), media_type="image/svg+xml")

    # ---- country ---------------------------------------------------------------------------

    @app.get("/country/{country_id}", response_class=HTMLResponse)
    def country(request: Request, country_id: str) -> HTMLResponse:
        cid = country_or_404(country_id)
        timeline = atlas.timeline(cid)
        events = atlas.events(cid)
        by_year: dict[int, list[dict[str, Any]]] = {}
        for e in events:
            by_year.setdefault(e["year"], []).append(e)
        last = timeline.dropna(subset=["phase_set"])
        last = last[last["phase_set"].astype(str) != ""]
        now = last.iloc[-1].to_dict() if len(last) else None
        plays = plays_for(str(now["phase_set"])) if now else []
        return page(
            request, "country.html", cid=cid, name=atlas.name(cid),
            timeline=timeline.iloc[::-1].to_dict("records"), events_by_year=by_year,
            now=now, plays=plays, actors=ACTORS, actor_names=ACTOR_NAMES, general=GENERAL,
            has_seed=seed_file(bench.seeds_dir) is not None,
            casefile=atlas.casefiles.get(cid),
        )

    @app.get("/charts/country/{country_id}.svg")
    def country_svg(country_id: str) -> Response:
        cid = country_or_404(country_id)
        fc = atlas.forecast
        key = (cid, id(fc))
        svg = bench.charts.get(key)
        if svg is None:
            fig = charts.country_chart(
                atlas.timeline(cid),
                fc.pts(cid) if fc is not None else pd.DataFrame(),
                fc.phase(cid) if fc is not None else pd.DataFrame(),
            )
            svg = charts.to_svg(fig)
            bench.remember_chart(key, svg)
        return Response(svg, media_type="image/svg+xml")

    # ---- what-if ---------------------------------------------------------------------------

    @app.get("/country/{country_id}/whatif", response_class=HTMLResponse)
    def whatif_form(request: Request, country_id: str) -> HTMLResponse:
        cid = country_or_404(country_id)
        return page(request, "whatif.html", cid=cid, name=atlas.name(cid),
                    levers=lever_kinds(), first=atlas.last_year + 1, max_horizon=MAX_HORIZON,
                    max_replicates=MAX_REPLICATES)

    @app.post("/country/{country_id}/whatif")
    async def whatif_run(request: Request, country_id: str) -> Response:
        cid = country_or_404(country_id)
        form = {k: str(v) for k, v in (await request.form()).items()}
        check_csrf(form)
        question = parse_question(form, cid, atlas.last_year + 1)
        if not question.levers:
            raise InputError("no lever chosen", file="what-if form", where="levers",
                             expected="at least one lever ticked")
        job = bench.jobs.submit(
            f"what-if for {atlas.name(cid)}",
            lambda progress: run_whatif(atlas.record, question, posterior=atlas.posterior,
                                        progress=progress),
            country_id=cid,
        )
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    def job_or_404(job_id: str) -> Job:
        job = bench.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job (the server may have been restarted)")
        return job

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> HTMLResponse:
        job = job_or_404(job_id)
        if job.status == "failed":
            raise InputError(job.error or "the run failed")
        if job.status != "done" or not isinstance(job.result, WhatIfResult):
            return page(request, "job.html", job=job)
        result: WhatIfResult = job.result
        cid = result.question.country_id
        return page(request, "whatif_result.html", job=job, r=result, cid=cid,
                    name=atlas.name(cid))

    @app.get("/jobs/{job_id}/status")
    def job_json(job_id: str) -> JSONResponse:
        return JSONResponse(job_or_404(job_id).as_dict())

    @app.get("/jobs/{job_id}/chart.svg")
    def job_chart(job_id: str) -> Response:
        job = job_or_404(job_id)
        if not isinstance(job.result, WhatIfResult):
            raise HTTPException(404, "the run has not finished")
        r = job.result
        fig = charts.whatif_chart(
            [e.mean for e in r.base], [e.mean for e in r.with_levers],
            [(e.lo, e.hi) for e in r.base], [(e.lo, e.hi) for e in r.with_levers], r.end,
        )
        return Response(charts.to_svg(fig), media_type="image/svg+xml")

    # ---- brief -----------------------------------------------------------------------------

    @app.get("/country/{country_id}/brief", response_class=HTMLResponse)
    def brief(request: Request, country_id: str) -> HTMLResponse:
        cid = country_or_404(country_id)
        b = build_brief(atlas, cid, bench.lever_effects(cid))
        return page(request, "brief.html", b=b, cid=cid)

    @app.get("/country/{country_id}/brief.pdf")
    def brief_as_pdf(country_id: str) -> Response:
        cid = country_or_404(country_id)
        b = build_brief(atlas, cid, bench.lever_effects(cid))
        return Response(
            brief_pdf(b), media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="brief-{cid}.pdf"'},
        )

    # ---- seeds -----------------------------------------------------------------------------

    @app.get("/seeds/000", response_class=HTMLResponse)
    def seed(request: Request) -> HTMLResponse:
        path = seed_file(bench.seeds_dir)
        if path is None:
            raise HTTPException(404, "seed 000 is not available: start the workbench with"
                                     " --seeds DIR (the folder of the source documents)")
        return page(request, "seed.html", lines=seed_rows(path), file=path.name)

    # ---- runs and experiments --------------------------------------------------------------

    @app.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        return page(request, "runs.html", entries=list_runs(bench.runs_dir),
                    runs_dir=bench.runs_dir)

    @app.get("/runs/{name}", response_class=HTMLResponse)
    def run_page(request: Request, name: str) -> HTMLResponse:
        folder = run_folder(bench.runs_dir, name)
        summary = run_summary(folder) if (folder / "summary.json").is_file() else None
        files = sorted(p.name for p in folder.iterdir() if p.is_file())
        manifest = sweep_manifest(folder) if (folder / "manifest.json").is_file() else None
        return page(request, "run.html", name=name, summary=summary, files=files,
                    manifest=manifest, analyses=analyses(folder),
                    has_report=report_file(folder) is not None,
                    others=[e.name for e in list_runs(bench.runs_dir)
                            if e.kind == "run" and e.name != name])

    @app.get("/runs/{name}/report")
    def run_report(name: str) -> Response:
        folder = run_folder(bench.runs_dir, name)
        path = report_file(folder)
        if path is None:
            raise HTTPException(404, f"{name} has no report")
        return HTMLResponse(path.read_text(encoding="utf-8", errors="replace"))

    @app.get("/runs/{name}/{analysis}/report")
    def analysis_report(name: str, analysis: str) -> Response:
        if analysis not in ANALYSES:
            raise HTTPException(404, f"no such analysis {analysis!r}")
        path = run_folder(bench.runs_dir, name) / analysis / "report.html"
        if not path.is_file():
            raise HTTPException(404, f"{name} has no {analysis} report")
        return HTMLResponse(path.read_text(encoding="utf-8", errors="replace"))

    @app.get("/compare", response_class=HTMLResponse)
    def compare_runs(request: Request, a: str, b: str) -> HTMLResponse:
        sa = run_summary(run_folder(bench.runs_dir, a))
        sb = run_summary(run_folder(bench.runs_dir, b))
        return page(request, "compare.html", a=a, b=b, sa=sa, sb=sb, rows=compare(sa, sb))

    @app.get("/scenarios", response_class=HTMLResponse)
    def scenarios(request: Request) -> HTMLResponse:
        from spirallab.scenarios.load import builtin_names

        return page(request, "scenarios.html", names=builtin_names(),
                    saved=_saved_scenarios(bench.scenarios_dir))

    @app.get("/scenarios/edit", response_class=HTMLResponse)
    def scenario_edit(request: Request, name: str = "stylised") -> HTMLResponse:
        from spirallab.scenarios.load import builtin_names, load_scenario

        if name in builtin_names():
            scenario = load_scenario(name)
        else:
            scenario = load_scenario(_saved_path(bench.scenarios_dir, name))
        return page(request, "scenario_edit.html", name=name,
                    groups=scenario_controls(scenario), error=None, toml=None)

    @app.post("/scenarios/edit", response_class=HTMLResponse)
    async def scenario_check(request: Request) -> HTMLResponse:
        from spirallab.confront.world import scenario_toml

        form = {k: str(v) for k, v in (await request.form()).items()}
        check_csrf(form)
        name = form.get("top.name", "scenario")
        try:
            scenario = scenario_from_form(form)
        except InputError as exc:
            from spirallab.scenarios.load import load_scenario

            base = load_scenario("stylised")
            return page(request, "scenario_edit.html", name=name,
                        groups=_refill(scenario_controls(base), form), error=str(exc),
                        toml=None, status=400)
        text = scenario_toml(scenario)
        saved = None
        if form.get("action") == "save":
            if bench.scenarios_dir is None:
                raise InputError("no folder to save scenarios in", where="--runs",
                                 expected="spirallab serve --runs DIR")
            bench.scenarios_dir.mkdir(parents=True, exist_ok=True)
            path = bench.scenarios_dir / f"{scenario.name}.toml"
            path.write_text(text, encoding="utf-8")
            saved = str(path)
        return page(request, "scenario_edit.html", name=scenario.name,
                    groups=scenario_controls(scenario), error=None, toml=text, saved=saved)

    @app.get("/about", response_class=HTMLResponse)
    def about(request: Request) -> HTMLResponse:
        return page(request, "about.html", runs_dir=bench.runs_dir, seeds_dir=bench.seeds_dir)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        job = bench.forecast_job
        return JSONResponse({"ok": True, "forecast": None if job is None else job.status})

    return app


def _refill(
    groups: list[tuple[str, list[Any]]], form: dict[str, str]
) -> list[tuple[str, list[Any]]]:
    """The controls with the values the user sent, so a rejected form keeps their edits."""
    from dataclasses import replace

    out = []
    for title, controls in groups:
        filled = []
        for c in controls:
            if c.kind == "checkbox":
                filled.append(replace(c, value=form.get(c.name) in ("on", "true", "1")))
            elif c.name in form:
                filled.append(replace(c, value=form[c.name]))
            else:
                filled.append(c)
        out.append((title, filled))
    return out


def _saved_scenarios(folder: Path | None) -> list[str]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml"))


def _saved_path(folder: Path | None, name: str) -> Path:
    import re

    if folder is None or not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise InputError(f"no scenario named {name!r}",
                         expected="a built-in scenario or one saved from this form")
    path = folder / f"{name}.toml"
    if not path.is_file():
        raise InputError(f"no scenario named {name!r}", file=folder,
                         expected="a built-in scenario or one saved from this form")
    return path


def _world_table(atlas: Atlas) -> pd.DataFrame:
    table = atlas.world_table()
    table["phase_lo"] = table["phase"].astype(str).str.split("|").str[0].astype(int)
    return table


_SVG_CACHE: dict[tuple[int, int], bytes] = {}


def _world_svg(atlas: Atlas, forecast_key: int) -> bytes:
    key = (id(atlas), forecast_key)
    hit = _SVG_CACHE.get(key)
    if hit is None:
        hit = charts.to_svg(charts.world_chart(atlas.phase_shares(), atlas.forecast_shares()))
        _SVG_CACHE.clear()
        _SVG_CACHE[key] = hit
    return hit


def _secure(response: Response, csp: str) -> Response:
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" makes Origin null
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


def _reason(status: int) -> str:
    return {400: "bad request", 403: "forbidden", 404: "not found", 405: "method not allowed"}.get(
        status, "error"
    )


def _error_page(env: Environment, status: int, title: str, message: str) -> HTMLResponse:
    html = env.get_template("error.html").render(
        status=status, title=title, message=message, request_path="", csrf="",
        atlas=None, forecast_job=None, posterior=None,
    )
    return _secure(HTMLResponse(html, status_code=status), CSP)  # type: ignore[return-value]
