"""How much memory a run needs, and how much it may take, checked before anything is simulated.

A run holds its records as float32 (years x observables x countries x replicates), then builds
the tidy results table from them (one row per replicate, country and year, a column per
observable), sorts it and converts it to Arrow to write it: measured on ``stylised``, the peak
resident memory grows by about 330 bytes per country-year-replicate with all 22 observables on
top of about 180 MB for the interpreter and libraries (benchmarks/bench_run_memory.py prints the
ratio of measured to estimated). The estimate rounds both up, so it errs on the side of refusing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from spirallab.errors import InputError

# Bytes per country-year-replicate and per recorded observable, and the fixed part (assumption,
# rounded up from the measurement above: 16 x 22 + 40 = 392 > 330).
BYTES_PER_OBSERVABLE = 16
BYTES_PER_CELL = 40
BASE_BYTES = 250 * 2**20

LIMIT_ENV = "SPIRALLAB_MEMORY_LIMIT"
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass(frozen=True)
class Budget:
    """The memory a run may use and where that figure comes from."""

    bytes: int
    source: str


def run_bytes(n_years: int, n_countries: int, replicates: int, n_observables: int) -> int:
    """Estimated peak memory of simulating and saving a run, in bytes."""
    per_replicate = n_years * n_countries * (BYTES_PER_OBSERVABLE * n_observables + BYTES_PER_CELL)
    return BASE_BYTES + per_replicate * replicates


def parse_size(text: str) -> int:
    """``"2G"``, ``"512MB"``, ``"1.5 GiB"`` or a plain number of bytes."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", text, flags=re.I)
    if not m:
        raise InputError(
            "not a memory size",
            where=LIMIT_ENV,
            found=text,
            expected="a size such as 4G, 512M or a number of bytes",
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def budget() -> Budget:
    """The memory available to a run: ``$SPIRALLAB_MEMORY_LIMIT`` if set, else what is free."""
    limit = os.environ.get(LIMIT_ENV)
    if limit:
        return Budget(parse_size(limit), f"{LIMIT_ENV}={limit}")
    available = _available_bytes()
    if available is None:
        return Budget(2**62, "no limit known")
    return Budget(available, "available memory")


def _available_bytes() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        text = ""
    m = re.search(r"^MemAvailable:\s+(\d+) kB", text, flags=re.M)
    if m:
        return int(m.group(1)) * 1024
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _free_bytes() -> int:
    """Free physical memory now (``sysinfo``, one syscall); 0 where the system cannot say."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


def human(n: float) -> str:
    """Bytes as a short figure: 38 GB, 512 MB."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{n:.0f} B"


def check_run_fits(
    n_years: int,
    n_countries: int,
    replicates: int,
    n_observables: int,
    where: str,
    file: str | None = None,
) -> int:
    """Refuse a run that would not fit in memory, with the figure; return the estimate."""
    need = run_bytes(n_years, n_countries, replicates, n_observables)
    if not os.environ.get(LIMIT_ENV) and need <= _free_bytes() // 2:
        # Plainly fits: the free pages alone hold twice the estimate (available memory is free
        # memory plus reclaimable caches, less small reserves), asked by one syscall instead of
        # reading /proc/meminfo, which every small run (sweeps, filters) paid for.
        return need
    have = budget()
    if need <= have.bytes:
        return need
    per = run_bytes(n_years, n_countries, 1, n_observables) - BASE_BYTES
    fit = max(0, (have.bytes - BASE_BYTES) // per) if per else 0
    raise InputError(
        f"the run needs about {human(need)} for {replicates:,} replicates of {n_countries:,} "
        f"{'country' if n_countries == 1 else 'countries'} over {n_years:,} years; at most "
        f"{fit:,} replicates fit in "
        f"{human(have.bytes)} ({have.source})",
        file=file,
        where=where,
        expected=f"fewer replicates, countries or years, or a larger {LIMIT_ENV}",
    )
