"""Long work off the event loop: a small thread pool with progress per job.

A what-if (or the start-up forecast) runs in a worker thread; the page that asked for it polls
the job's progress, so other requests are served meanwhile. Jobs are kept in memory only (the
workbench is a local, single-user server); the oldest finished ones are forgotten first.
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from spirallab.errors import SpiralLabError

KEEP = 200  # finished jobs remembered


@dataclass
class Job:
    id: str
    title: str
    done: int = 0
    total: int = 1
    status: str = "queued"  # queued, running, done, failed
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    seconds: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, max(total, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "seconds": self.seconds,
        }


class Jobs:
    """Submit callables that take a progress callback; look them up by id."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbench")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(
        self, title: str, work: Callable[[Callable[[int, int], None]], Any], **meta: Any
    ) -> Job:
        job = Job(id=secrets.token_urlsafe(9), title=title, meta=meta)
        with self._lock:
            self._jobs[job.id] = job
            self._forget()
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Callable[[Callable[[int, int], None]], Any]) -> None:
        job.status = "running"
        t0 = time.perf_counter()
        try:
            job.result = work(job.progress)
            job.status = "done"
        except SpiralLabError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # shown as one line; the traceback goes to the server log
            traceback.print_exc()
            job.error, job.status = f"internal error: {type(exc).__name__}: {exc}", "failed"
        job.seconds = time.perf_counter() - t0

    def _forget(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status in ("done", "failed")]
        for key in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[key]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
