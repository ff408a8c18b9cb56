"""A run folder that is always one whole run: written beside its place, then swapped in.

``spirallab run`` writes results, events, summary and report as a set. Writing them one by one
over an earlier run would leave, after a crash, a folder mixing new results with old events that
looks like one valid run. Instead the files go to a temporary sibling folder
(``.NAME.new-*``), which then takes the place of the old one in a single step:

- on Linux, ``renameat2(RENAME_EXCHANGE)`` swaps the two folders atomically, then the old one is
  deleted;
- elsewhere (or on a file system without it), the old folder is renamed aside to
  ``.NAME.old-*``, the new one renamed in, and the old one deleted. A crash between the two
  renames leaves the old run aside; the next write to the folder (or :func:`recover`) puts it
  back first.

Temporary folders a crash leaves behind are deleted by the next write. A lock file beside the
folder (``.NAME.lock``) keeps two runs from writing the same folder at once.

Every file carries the run's fingerprint (:func:`fingerprint`): Parquet files in their schema
metadata, ``summary.json`` as a field, ``report.html`` as a ``<meta>`` tag, so
:func:`verify` can tell a whole run from a mix.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spirallab.errors import InputError, SpiralLabError

FINGERPRINT_KEY = "spirallab.fingerprint"
RUN_FILES = ("results.parquet", "events.parquet", "summary.json", "report.html")
# Written into a run folder by `spirallab compare`. The coded record does not depend on the run,
# so a new run into the folder carries it over (its report then compares the new run); the
# comparison's own outputs describe the old run, so they go with it rather than mix two runs.
CARRIED_FILES = ("coded_phases.parquet",)
DERIVED_FILES = ("compare.html", "compare_scores.csv", "compare_timing.csv")
# Test hook: seconds to wait after writing each file into the temporary folder (and between the
# two renames of the fallback swap), so a test can kill a run while it saves. Never set in use.
SLOW_SAVE_ENV = "SPIRALLAB_TEST_SLOW_SAVE"

_META_RE = re.compile(rb'<meta name="spirallab-fingerprint" content="([^"]*)"')


class RunFolderError(SpiralLabError):
    """The output folder cannot take a run (it holds something else, or another run writes it)."""

    exit_code = 2


def fingerprint(
    scenario_json: str, seed: int, replicates: int, start: int, end: int, version: str
) -> dict[str, Any]:
    """What identifies a run's content: the same fingerprint means the same numbers."""
    digest = hashlib.sha256(scenario_json.encode("utf-8")).hexdigest()
    fields: dict[str, Any] = {
        "scenario_sha256": digest,
        "seed": seed,
        "replicates": replicates,
        "start": start,
        "end": end,
        "version": version,
    }
    ident = hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()
    return {"run_id": ident[:16], **fields}


def write_run_folder(
    out_dir: Path, writers: Mapping[str, Callable[[Path], object]]
) -> dict[str, Path]:
    """Write each ``name -> write(path)`` into a fresh folder and swap it in at ``out_dir``.

    On any failure the old folder, if any, is left as it was and no temporary folder remains.
    """
    # Through any symbolic link to the folder it names, so the swap replaces that folder.
    out_dir = Path(os.path.realpath(out_dir))
    if not out_dir.name:
        raise RunFolderError(f"{out_dir}: a run needs a folder of its own, not the root")
    try:
        return _write(out_dir, writers)
    except OSError as exc:
        # File name too long, no space left, permission denied ...: one line, folder named.
        raise RunFolderError(
            f"{out_dir}: cannot write the run folder ({exc.strerror or exc})"
        ) from None


def _write(out_dir: Path, writers: Mapping[str, Callable[[Path], object]]) -> dict[str, Path]:
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout

    lock = FileLock(str(parent / f".{out_dir.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunFolderError(
            f"{out_dir}: another spirallab run is writing this folder (lock {lock.lock_file});"
            " wait for it or choose another --out"
        ) from None
    try:
        recover(out_dir)
        check_replaceable(out_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=parent))
        try:
            for name in CARRIED_FILES:
                if (out_dir / name).is_file():
                    shutil.copy2(out_dir / name, tmp / name)
            for name, write in writers.items():
                write(tmp / name)
                _fsync(tmp / name)
                _test_pause()
            # mkdtemp makes the folder private; give it the permissions mkdir would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)
            _fsync(tmp)
            _swap_in(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync(parent)
    finally:
        lock.release()
    return {name: out_dir / name for name in writers}


def recover(out_dir: Path) -> None:
    """Undo what a crash during a swap left: put an old run back, delete temporary folders."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    stem = glob.escape(f".{out_dir.name}")
    aside = sorted(parent.glob(f"{stem}.old-*"))
    if aside and not out_dir.exists():
        # Crashed between "old aside" and "new in": the old run is whole; restore it.
        os.rename(aside[-1], out_dir)
        aside = aside[:-1]
    for stale in [*aside, *parent.glob(f"{stem}.new-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that is not a run folder (it would be deleted)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise RunFolderError(f"{out_dir}: --out names a file, not a folder; choose a folder")
    known = {*RUN_FILES, *CARRIED_FILES, *DERIVED_FILES}
    others = sorted(p.name for p in out_dir.iterdir() if p.name not in known)
    if others:
        raise RunFolderError(
            f"{out_dir}: the folder holds files that are not part of a run "
            f"({', '.join(others[:5])}{', ...' if len(others) > 5 else ''}); a run replaces "
            "its whole folder, so choose an empty or new --out"
        )


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    if os.environ.get("SPIRALLAB_NO_RENAME_EXCHANGE"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    ok = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return ok == 0


def _swap_in(new: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(new, out_dir)
        return
    if _exchange(new, out_dir):
        shutil.rmtree(new)  # now holds the old run
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.rmdir(aside)
    os.rename(out_dir, aside)
    try:
        _after_aside_hook()
        os.rename(new, out_dir)
    except BaseException:
        # Not a crash but an error: put the old run straight back.
        os.rename(aside, out_dir)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _after_aside_hook() -> None:
    """Called between the two renames of the fallback swap (tests make it crash there)."""
    _test_pause()


def _test_pause() -> None:
    delay = os.environ.get(SLOW_SAVE_ENV)
    if delay:
        time.sleep(float(delay))


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- reading back


def file_fingerprint(path: Path) -> str | None:
    """The run id recorded in one run file, or None if it records none."""
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        raw = meta.get(FINGERPRINT_KEY.encode())
        return json.loads(raw)["run_id"] if raw else None
    if name.endswith(".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        fp = data.get("fingerprint") if isinstance(data, dict) else None
        return fp.get("run_id") if isinstance(fp, dict) else None
    if name.endswith(".html"):
        m = _META_RE.search(path.read_bytes()[:20_000])
        return json.loads(html.unescape(m.group(1).decode()))["run_id"] if m else None
    return None


def verify(out_dir: Path) -> str:
    """The run id shared by every file of a run folder; raise if the files disagree."""
    ids = {}
    for name in RUN_FILES:
        path = out_dir / name
        if path.exists():
            ids[name] = file_fingerprint(path)
    if not ids:
        raise InputError("not a run folder (no run files)", file=out_dir)
    distinct = set(ids.values())
    if len(distinct) != 1 or None in distinct:
        listed = ", ".join(f"{k}: {v}" for k, v in ids.items())
        raise InputError("the files come from different runs", file=out_dir, found=listed)
    return str(distinct.pop())
