"""Data memory: peak resident memory of ``data check`` and ``code`` on a large PTS file.

Writes a PTS-2022-layout file of about ``--mb`` megabytes (default 200) to a temporary folder:
every country of the project's own registry that has a COW number, for every year the PTS
loader accepts, repeated with the country's name numbered (``Chile 2``) until the size is
reached, so that the file has no exact duplicate rows but many second rows per country-year
(what a big merged PTS file has). Scores and NA_Status codes are drawn at random (seeded). Then
it runs ``spirallab data check --file pts=FILE --json`` and ``spirallab code --data FOLDER``
(the folder holding only that file, with a fresh panel cache) as child processes and reads each
one's peak resident set size (``ru_maxrss``) from the kernel.

The last line is ``peak_memory_ratio: R``: the larger of the two peaks divided by the file size.

    python benchmarks/bench_data_memory.py [--mb 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spirallab.data.countries import registry

HEADER = ("Country,Country_OLD,Year,COW_Code_A,COW_Code_N,WordBank_Code_A,UN_Code_N,Region,"
          "PTS_A,PTS_H,PTS_S,NA_Status_A,NA_Status_H,NA_Status_S\r\n")


def write_pts(path: Path, megabytes: float, seed: int = 1) -> int:
    """Write the synthetic PTS file; returns its size in bytes."""
    reg = registry()
    states = [(cid, reg.names[cid], reg.iso3.get(cid) or cid, cow)
              for cid, cow in reg.cow.items() if cow]
    rng = np.random.default_rng(seed)
    target = int(megabytes * 2**20)
    written = 0
    repeat = 1
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        while written < target:
            rows = []
            for cid, name, iso3, cow in states:
                label = name.replace(",", " ") + (f" {repeat}" if repeat > 1 else "")
                scores = rng.integers(0, 6, size=(501, 3))
                for k, year in enumerate(range(1700, 2201)):
                    cells = ["NA" if s == 0 else str(s) for s in scores[k]]
                    codes = ["88" if s == 0 else "0" for s in scores[k]]
                    rows.append(f"{label},{label},{year},{cid},{cow},{iso3},NA,xx,"
                                f"{','.join(cells)},{','.join(codes)}\r\n")
            block = "".join(rows)
            fh.write(block)
            written += len(block)
            repeat += 1
    return path.stat().st_size


def peak_of(cmd: list[str]) -> tuple[float, float, int]:
    """Run a child process; its peak RSS in MB (Linux reports kB), seconds and exit code."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child execs the command with stdout discarded
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - t0, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0)
    parser.add_argument("--keep", type=Path, default=None, help="write the file here instead")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-data-"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pts").mkdir(exist_ok=True)
    pts = folder / "pts" / "PTS-big.csv"
    # A kept file of the requested size is reused (writing 200 MB takes a while).
    if pts.is_file() and abs(pts.stat().st_size - args.mb * 2**20) < 0.1 * args.mb * 2**20:
        size = pts.stat().st_size
    else:
        size = write_pts(pts, args.mb)
    print(f"file: {pts} ({size / 2**20:,.0f} MB)")
    base = [sys.executable, "-m", "spirallab"]
    peaks = []
    for name, cmd in (("data check", [*base, "data", "check", "--file", f"pts={pts}", "--json"]),
                      ("code", [*base, "code", "--data", str(folder), "--no-casefiles",
                                "--cache", tempfile.mkdtemp(prefix="cache-", dir=folder),
                                "--out", str(folder / "coded")])):
        mb, seconds, code = peak_of(cmd)
        peaks.append(mb)
        print(f"{name}: peak {mb:,.0f} MB ({mb * 2**20 / size:.2f} x the file), {seconds:.1f} s, "
              f"exit {code}")
    print(f"load: {os.getloadavg()[0]:.2f} (other engineers share this machine)")
    print(f"peak_memory_ratio: {max(peaks) * 2**20 / size:.2f}")


if __name__ == "__main__":
    main()
