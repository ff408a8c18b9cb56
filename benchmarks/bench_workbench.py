"""Workbench page load times and what-if latency, on real data, against a live local server.

    python benchmarks/bench_workbench.py --data ../shared/data [--posterior DIR]
        [--repeats 5] [--screenshots docs/img]

Starts the workbench under uvicorn on 127.0.0.1 (a free port), then measures:

- each page's server time (HTTP GET through httpx, first request and median of the rest);
- each page's load in headless Chromium (navigation start to the load event, images included),
  if a Chromium binary is found;
- the what-if latency: POST the form (one country, 1,000 replicates) and poll until the answer
  is ready, for 2 levers and for all 6 (median of the repeats).

With ``--screenshots DIR`` it also saves the README's screenshots (1366x768). The last line is
``whatif_seconds_median_1000_replicates: N`` (2 levers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from spirallab.workbench.app import create_app
from spirallab.workbench.server import prepare

PAGES = [
    "/",
    "/charts/world.svg",
    "/country/{c}",
    "/charts/country/{c}.svg",
    "/country/{c}/whatif",
    "/country/{c}/brief",
    "/country/{c}/brief.pdf",
    "/runs",
    "/scenarios/edit?name=book-eleven",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def whatif(client: httpx.Client, token: str, country: str, kinds: list[str], year: int) -> float:
    form = {"csrf": token, "horizon": "10", "replicates": "1000", "seed": "1"}
    for k in kinds:
        form[f"lever_{k}"] = "on"
        form[f"start_{k}"] = str(year)
    t0 = time.perf_counter()
    r = client.post(f"/country/{country}/whatif", data=form, follow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"what-if refused ({r.status_code}): {r.text[-300:]}")
    loc = r.headers["location"]
    while client.get(loc + "/status").json()["status"] not in ("done", "failed"):
        time.sleep(0.01)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--posterior", type=Path, default=None)
    ap.add_argument("--country", default="KEN")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--screenshots", type=Path, default=None)
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
          " (1, 5, 15 min; other engineers share this machine)")
    t0 = time.perf_counter()
    bench = prepare(args.data, posterior=args.posterior, runs=Path("runs"), say=print)
    if bench.forecast_job is not None:
        while bench.forecast_job.status not in ("done", "failed"):
            time.sleep(0.5)
        print(f"forecast at start-up: {bench.forecast_job.status} in"
              f" {bench.forecast_job.seconds:.1f} s")
    print(f"start-up (panel, coding, posterior): {time.perf_counter() - t0:.1f} s")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(bench), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    c = args.country
    with httpx.Client(base_url=base, timeout=120) as client:
        print(f"{'page':40s} {'first s':>8s} {'median s':>9s}")
        for tpl in PAGES:
            url = tpl.format(c=c)
            times = []
            for _ in range(args.repeats + 1):
                t = time.perf_counter()
                client.get(url).raise_for_status()
                times.append(time.perf_counter() - t)
            print(f"{url:40s} {times[0]:8.3f} {statistics.median(times[1:]):9.3f}")
        browser_loads(base, c, args.repeats, args.screenshots)
        two = ["naming_and_shaming", "aid_conditionality"]
        six = ["naming_and_shaming", "aid_conditionality", "un_mechanism", "bilateral_pressure",
               "withdraw_pressure", "fund_domestic_groups"]
        year = bench.atlas.last_year + 1
        whatif(client, bench.token, c, two, year)  # warm-up
        lat2 = [whatif(client, bench.token, c, two, year) for _ in range(args.repeats)]
        lat6 = [whatif(client, bench.token, c, six, year) for _ in range(args.repeats)]
    server.should_exit = True
    thread.join(timeout=10)
    params = "posterior" if bench.atlas.posterior is not None else "default parameters"
    print(f"what-if, {c}, 1,000 replicates, 10 years, {params}:")
    print(f"  6 levers (8 runs): median {statistics.median(lat6):.3f} s,"
          f" max {max(lat6):.3f} s")
    print(f"  2 levers (4 runs): median {statistics.median(lat2):.3f} s, max {max(lat2):.3f} s")
    print(f"whatif_seconds_median_1000_replicates: {statistics.median(lat2):.3f}")


def browser_loads(base: str, country: str, repeats: int, screenshots: Path | None) -> None:
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    if chromium is None:
        print("no Chromium found: browser load times skipped")
        return
    from playwright.sync_api import sync_playwright

    pages = {
        "home": "/",
        "country": f"/country/{country}",
        "whatif": f"/country/{country}/whatif",
        "brief": f"/country/{country}/brief",
    }
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        ctx = b.new_context(viewport={"width": 1366, "height": 768})
        page = ctx.new_page()
        print(f"{'browser load (to the load event)':40s} {'median s':>9s}")
        for name, url in pages.items():
            times = []
            for _ in range(repeats):
                page.goto(base + url, wait_until="load")
                ms = page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n.loadEventEnd - n.startTime; }"
                )
                times.append(ms / 1000)
            print(f"{name + ' ' + url:40s} {statistics.median(times):9.3f}")
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                if name == "whatif":
                    page.check("#lever_un_mechanism")
                    page.click("#run")
                    page.wait_for_selector("#whatif-table", timeout=60_000)
                # Polled with evaluate: wait_for_function evaluates strings, which the CSP forbids.
                for _ in range(200):
                    if page.evaluate("() => Array.from(document.images)"
                                     ".every(i => i.complete && i.naturalWidth > 0)"):
                        break
                    time.sleep(0.05)
                page.screenshot(path=str(screenshots / f"workbench-{name}.png"))
        b.close()


if __name__ == "__main__":
    main()
