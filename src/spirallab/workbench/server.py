"""Starting the workbench: load the atlas, open the posterior, run uvicorn on a local port."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spirallab.errors import InputError
from spirallab.workbench.app import Workbench, create_app
from spirallab.workbench.atlas import (
    Atlas,
    forecast_from_posterior,
    load_atlas,
    open_posterior,
)


def _quiet(*args: Any, **kwargs: Any) -> None:
    pass


def prepare(
    data: Path,
    *,
    posterior: Path | None = None,
    runs: Path | None = None,
    seeds: Path | None = None,
    say: Callable[..., None] = _quiet,
    atlas: Atlas | None = None,
) -> Workbench:
    """Everything checked and loaded before the server listens (bad input fails here)."""
    forecast, post = (None, None)
    if posterior is not None:  # checked before the (slower) data, so bad input fails first
        forecast, post = open_posterior(posterior)
    if atlas is None:
        atlas = load_atlas(data)
    if posterior is not None and forecast is not None and forecast.origin > atlas.last_year:
        raise InputError(
            "forecast origin after the data's last year",
            file=posterior / "forecast.json",
            where="origin",
            found=forecast.origin,
            expected=f"a forecast made from {atlas.last_year} or before",
        )
    atlas.forecast, atlas.posterior = forecast, post
    if seeds is None and atlas.data_dir is not None:
        beside = Path(atlas.data_dir).resolve().parent / "seeds"
        seeds = beside if beside.is_dir() else None
    bench = Workbench(
        atlas=atlas,
        runs_dir=runs,
        seeds_dir=seeds,
        scenarios_dir=(runs / "scenarios") if runs is not None else None,
    )
    if post is not None and forecast is None:
        say("forecasting every country from the posterior in the background ...")
        bench.start_forecast(lambda: forecast_from_posterior(atlas, post))
    say(f"{len(atlas.countries())} coded countries, data up to {atlas.last_year}")
    return bench


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve_forever(
    bench: Workbench,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    say: Callable[..., None] = _quiet,
) -> None:
    """Run the server until interrupted (Ctrl-C)."""
    import uvicorn

    if port == 0:
        port = free_port(host)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, port))
    except OSError as exc:
        raise InputError(
            f"cannot listen on {host}:{port} ({exc.strerror})",
            where="--port",
            found=port,
            expected="a free port, or --port 0 for any free port",
        ) from None
    if host in ("0.0.0.0", "::"):
        bench.allowed_hosts = None  # every interface: the user asked for it
        say("warning: listening on every interface; anyone who can reach this machine can"
            " use the workbench")
    elif bench.allowed_hosts is not None and host not in bench.allowed_hosts:
        bench.allowed_hosts = (*bench.allowed_hosts, host.lower())
    url = f"http://{host}:{port}/"
    say(f"Spiral Lab workbench on {url} (Ctrl-C stops it)")
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    config = uvicorn.Config(create_app(bench), host=host, port=port, log_level="warning",
                            access_log=False)
    uvicorn.Server(config).run()
    bench.jobs.shutdown()
