"""The results store of a sweep: a folder that survives crashes and can be queried directly.

::

    DIR/manifest.json           what the sweep is, and every committed chunk with its rows and hash
    DIR/experiment.toml         the experiment file as given
    DIR/scenario.json           the resolved base scenario
    DIR/points.parquet          the design: point, then one column per factor
    DIR/summaries/part-NNNNN.parquet     point, country, then the summary outputs
    DIR/trajectories/part-NNNNN.parquet  (optional) point, country, replicate, year, phase, ...
    DIR/.sweep.lock, DIR/.sweep.lock.json  held by the one process writing to the store

Chunk ``i`` always holds points ``i*chunk_points`` to ``(i+1)*chunk_points - 1``. A chunk's files
are written to hidden temporary names and renamed into place, so each is complete or absent; then
the manifest (itself replaced atomically) records the chunk with each file's row count, size and
SHA-256. The manifest's record, not a file's presence, marks a chunk done: a part file the
manifest does not list (a crash between the rename and the manifest) is removed on resume and
its chunk run again, and a listed part whose content no longer matches its hash is reported by
name by every reader, and re-run by ``--resume``. Files whose names start with ``.`` are ignored
by DuckDB, polars and pyarrow alike, so ``SELECT * FROM 'DIR/summaries/*.parquet'`` only ever
sees whole chunks.

The manifest is written last when a store is created, so a folder without one is a store that
was killed while being made (or not a store at all); the next ``sweep`` clears a half-made store
and starts again, and refuses any folder holding other files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from spirallab.errors import InputError, SpiralLabError
from spirallab.model.result import atomic_write

FORMAT = "spirallab-sweep-2"
PART = re.compile(r"^part-(\d{5,})\.parquet$")
KINDS = ("summaries", "trajectories")
LOCK = ".sweep.lock"
HOLDER = ".sweep.lock.json"
# What a store holds before its manifest is written (see SweepStore.create): a folder holding
# only these, hidden temporary files and the lock, and no part file, is a half-made store.
STORE_ENTRIES = frozenset({"experiment.toml", "scenario.json", "points.parquet", *KINDS})
# Temporary files atomic_write leaves when killed: ".NAME.<random>.tmp".
TEMPORARY = re.compile(r"^\..+\.tmp$")
WRITE_PROBE = ".spirallab-write-test"


class StoreError(SpiralLabError):
    """The output folder cannot hold the results (disk full, not writable, in use)."""

    exit_code = 2


def part_name(chunk: int) -> str:
    return f"part-{chunk:05d}.parquet"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# key -> (check, what is expected); the keys every reader relies on.
_MANIFEST_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n_chunks": (lambda v: _whole(v) and v >= 1, "a whole number of chunks, at least 1"),
    "chunk_points": (lambda v: _whole(v) and v >= 1, "a whole number of points, at least 1"),
    "n_points": (lambda v: _whole(v) and v >= 1, "a whole number of points, at least 1"),
    "outputs": (
        lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
        "a list of output column names",
    ),
    "design": (
        lambda v: isinstance(v, dict) and isinstance(v.get("kind"), str),
        "a table with the design's kind",
    ),
    "factors": (
        lambda v: isinstance(v, list)
        and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in v),
        "a list of factors, each with a name",
    ),
    "trajectories": (lambda v: isinstance(v, bool), "true or false"),
    "parts": (lambda v: isinstance(v, dict), "a table of committed chunks"),
}
_RECORD_KEYS = {"rows": "a row count", "bytes": "a size in bytes", "sha256": "a SHA-256 hex digest"}


def check_manifest(manifest: object, path: Path) -> dict[str, Any]:
    """The manifest if every key a reader uses has the right type; else a precise InputError."""
    if not isinstance(manifest, dict):
        raise InputError("the manifest is not a JSON object", file=path)
    if manifest.get("format") != FORMAT:
        raise InputError(
            "unknown results format",
            file=path,
            where="format",
            found=manifest.get("format"),
            expected=f"{FORMAT} (a store written by this version; re-run older sweeps)",
        )
    for key, (ok, expected) in _MANIFEST_KEYS.items():
        if key not in manifest:
            raise InputError("required key is missing", file=path, where=key, expected=expected)
        if not ok(manifest[key]):
            raise InputError(
                "wrong type or value", file=path, where=key, found=manifest[key], expected=expected
            )
    if manifest["n_chunks"] != -(-manifest["n_points"] // manifest["chunk_points"]):
        raise InputError(
            "n_chunks does not match n_points and chunk_points",
            file=path,
            where="n_chunks",
            found=manifest["n_chunks"],
            expected=f"ceil(n_points / chunk_points) = "
            f"{-(-manifest['n_points'] // manifest['chunk_points'])}",
        )
    for chunk, record in manifest["parts"].items():
        where = f"parts.{chunk}"
        if not (chunk.isdigit() and int(chunk) < manifest["n_chunks"]):
            raise InputError(
                "not a chunk of this sweep",
                file=path,
                where=where,
                expected=f"a chunk number from 0 to {manifest['n_chunks'] - 1}",
            )
        if not isinstance(record, dict) or "summaries" not in record:
            raise InputError(
                "wrong type", file=path, where=where, expected="a table with summaries"
            )
        for kind, entry in record.items():
            if kind not in KINDS or not isinstance(entry, dict):
                raise InputError(
                    "unknown or malformed part record",
                    file=path,
                    where=f"{where}.{kind}",
                    expected="summaries or trajectories, each with rows, bytes and sha256",
                )
            for key, expected in _RECORD_KEYS.items():
                value = entry.get(key)
                good = isinstance(value, str) if key == "sha256" else _whole(value)
                if not good:
                    raise InputError(
                        "wrong type or missing",
                        file=path,
                        where=f"{where}.{kind}.{key}",
                        found=value,
                        expected=expected,
                    )
    return manifest


def file_record(path: Path, rows: int) -> dict[str, Any]:
    """What the manifest records of a committed part file: rows, size and SHA-256."""
    return {"rows": int(rows), "bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Damage:
    """A committed part file that is missing or whose content no longer matches the manifest."""

    chunk: int
    path: Path
    problem: str

    def message(self) -> str:
        return f"{self.path}: {self.problem} (chunk {self.chunk})"


@dataclass
class SweepStore:
    """An open results store."""

    root: Path
    manifest: dict[str, Any]

    # --- reading --------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path) -> SweepStore:
        """Open an existing store, with a clear error if ``root`` is not one (or is damaged)."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise InputError(
                "not a sweep results folder (a file)",
                file=root,
                expected="a folder written by `spirallab sweep`",
            )
        path = root / "manifest.json"
        if not path.is_file():
            raise InputError(
                "not a sweep results folder (no manifest.json)",
                file=root,
                expected="a folder written by `spirallab sweep`",
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise InputError(f"unreadable manifest: {reason}", file=path) from None
        except OSError as exc:
            raise InputError(f"cannot read the manifest ({exc.strerror})", file=path) from None
        return cls(root, check_manifest(manifest, path))

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["n_chunks"])

    @property
    def finished(self) -> bool:
        return len(self.done_chunks()) == self.n_chunks

    def done_chunks(self) -> set[int]:
        """Chunks the manifest records as committed (see :meth:`damaged` for their files)."""
        return {int(c) for c in self.manifest["parts"]}

    def damaged(self, kinds: tuple[str, ...] = KINDS) -> list[Damage]:
        """Committed part files that are missing or differ from their record (size, hash)."""
        out: list[Damage] = []
        for chunk in sorted(self.done_chunks()):
            record = self.manifest["parts"][str(chunk)]
            for kind in kinds:
                if kind not in record:
                    continue
                path = self.root / kind / part_name(chunk)
                problem = _file_problem(path, record[kind])
                if problem:
                    out.append(Damage(chunk, path, problem))
        return out

    def verify(self, kinds: tuple[str, ...] = KINDS) -> None:
        """Raise a :class:`StoreError` naming the first damaged part and how to recover."""
        bad = self.damaged(kinds)
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise StoreError(
                f"{bad[0].message()}{more}: the store is damaged; run the same `spirallab sweep "
                f"EXPERIMENT --out {self.root} --resume` (the experiment is copied in "
                "experiment.toml) to run the damaged chunks again"
            )

    def points(self) -> pd.DataFrame:
        path = self.root / "points.parquet"
        if not path.is_file():
            raise InputError(
                "the design table points.parquet is missing",
                file=self.root,
                expected="a complete store; run the sweep again into a new --out folder",
            )
        frame = _read_parquet(path)
        if "point" not in frame.columns:
            raise InputError("no point column", file=path, expected="point, then the factors")
        return frame

    def summaries(self, country: str | None = None, require_complete: bool = True) -> pd.DataFrame:
        """All summary rows (or one country's, e.g. ``"ALL"``), sorted by point and country.

        Every part file is checked against the manifest first; a damaged one is named.
        """
        if require_complete and not self.finished:
            raise InputError(
                f"the sweep is incomplete: {len(self.done_chunks())} of {self.n_chunks} chunks "
                "done",
                file=self.root,
                expected="a finished sweep; run `spirallab sweep EXPERIMENT --out DIR --resume`",
            )
        self.verify(("summaries",))
        files = [self.root / "summaries" / part_name(c) for c in sorted(self.done_chunks())]
        if not files:
            return pd.DataFrame(columns=["point", "country", *self.manifest["outputs"]])
        frame = pd.concat([_read_parquet(f) for f in files], ignore_index=True)
        missing = [c for c in ("point", "country") if c not in frame.columns]
        if missing:
            raise InputError(
                f"summary parts lack the column {missing[0]!r}", file=self.root / "summaries"
            )
        if country is not None:
            known = sorted(set(frame["country"]))
            if country not in known:
                raise InputError(
                    "no such country in the results",
                    file=self.root,
                    found=country,
                    expected="one of " + ", ".join(known),
                )
            frame = frame[frame["country"] == country]
        return frame.sort_values(["point", "country"], kind="stable", ignore_index=True)

    def trajectories(self) -> pd.DataFrame:
        chunks = [c for c in sorted(self.done_chunks())
                  if "trajectories" in self.manifest["parts"][str(c)]]
        if not self.manifest["trajectories"] or not chunks:
            raise InputError(
                "no trajectories kept in this sweep",
                file=self.root,
                expected="outputs.trajectories = true in the experiment",
            )
        self.verify(("trajectories",))
        files = [self.root / "trajectories" / part_name(c) for c in chunks]
        return pd.concat([_read_parquet(f) for f in files], ignore_index=True)

    # --- writing --------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        root: Path,
        manifest: dict[str, Any],
        experiment_text: str,
        scenario_json: str,
        points: pd.DataFrame,
    ) -> SweepStore:
        """Start a new store (the folder must be empty, absent or a half-made store).

        The manifest is written last: until it is in place the folder is a half-made store that
        :func:`half_made` recognises and the next sweep clears.
        """
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("summaries", *(["trajectories"] if manifest["trajectories"] else [])):
            (root / sub).mkdir(exist_ok=True)
        store = cls(root, dict(manifest, created=_now(), parts={}, done_chunks=[]))
        guard(root, lambda: _write_text(root / "experiment.toml", experiment_text))
        guard(root, lambda: _write_text(root / "scenario.json", scenario_json))
        guard(
            root,
            lambda: atomic_write(
                root / "points.parquet", lambda p: points.to_parquet(p, index=False)
            ),
        )
        store.save_manifest()
        return store

    def save_manifest(self) -> None:
        done = sorted(self.done_chunks())
        self.manifest["done_chunks"] = done
        self.manifest["finished"] = len(done) == self.n_chunks
        self.manifest["updated"] = _now()
        text = json.dumps(self.manifest, indent=2)
        guard(self.root, lambda: _write_text(self.root / "manifest.json", text))

    def write_chunk(
        self, chunk: int, summaries: pd.DataFrame, trajectories: pd.DataFrame | None
    ) -> None:
        """Commit one chunk: its part files, then the manifest that records them."""
        record: dict[str, Any] = {}
        frames = {"trajectories": trajectories, "summaries": summaries}
        for kind, frame in frames.items():
            if frame is None:
                continue
            target = self.root / kind / part_name(chunk)
            guard(
                self.root,
                lambda t=target, f=frame: atomic_write(t, lambda p: f.to_parquet(p, index=False)),
            )
            record[kind] = file_record(target, len(frame))
        self.manifest["parts"][str(chunk)] = record
        self.save_manifest()

    def forget(self, chunks: set[int]) -> None:
        """Drop chunks from the manifest and remove their files, so that they are run again."""
        for chunk in sorted(chunks):
            self.manifest["parts"].pop(str(chunk), None)
        self.save_manifest()
        for chunk in chunks:
            for kind in KINDS:
                remove_quietly(self.root / kind / part_name(chunk))

    def clean_partial(self) -> None:
        """Remove temporary files left by an interrupted write, and part files not committed."""
        done = self.done_chunks()
        for name in _listdir(self.root):
            if TEMPORARY.match(name) or name == WRITE_PROBE:
                remove_quietly(self.root / name)
        for sub in KINDS:
            folder = self.root / sub
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                m = PART.match(f.name)
                if f.name.startswith(".") or (m and int(m[1]) not in done):
                    remove_quietly(f)


def _file_problem(path: Path, record: dict[str, Any]) -> str | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "part file missing"
    except OSError as exc:
        return f"part file unreadable ({exc.strerror})"
    if size != record["bytes"]:
        return f"part file is {size:,} bytes, the manifest recorded {record['bytes']:,}"
    try:
        digest = _sha256(path)
    except OSError as exc:
        return f"part file unreadable ({exc.strerror})"
    if digest != record["sha256"]:
        return "part file content differs from the SHA-256 recorded in the manifest"
    return None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise InputError(
            f"unreadable Parquet file ({exc.__class__.__name__})",
            file=path,
            expected="a file written by `spirallab sweep`; run the sweep again with --resume",
        ) from None


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def half_made(root: Path) -> bool:
    """Whether ``root`` holds a store killed before its manifest was written (nothing else)."""
    names = _listdir(root)
    if "manifest.json" in names:
        return False
    for name in names:
        if name in (LOCK, HOLDER, WRITE_PROBE) or TEMPORARY.match(name):
            continue
        if name not in STORE_ENTRIES:
            return False
        if name in KINDS and any(PART.match(f) for f in _listdir(root / name)):
            return False
    return True


def clear_half_made(root: Path) -> None:
    """Remove what a half-made store holds (never the lock, never anything else)."""
    for name in _listdir(root):
        path = root / name
        if name in KINDS:
            shutil.rmtree(path, ignore_errors=True)
        elif name in STORE_ENTRIES or name == WRITE_PROBE or TEMPORARY.match(name):
            remove_quietly(path)


@contextlib.contextmanager
def lock_store(root: Path) -> Iterator[None]:
    """Hold ``root``'s lock; a second writer is refused, told which process holds it.

    The lock is an OS file lock (``flock``), so it is released when its holder ends, however it
    ends; the holder's pid, host and start time are written beside it for the message.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"{root}: the store is in use by another sweep ({_holder(root)}); wait for it to end "
            "(or stop it) before running --resume"
        ) from None
    except OSError as exc:
        raise StoreError(f"{root}: cannot lock the store ({exc.strerror or exc})") from None
    try:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
        guard(root, lambda: _write_text(root / HOLDER, json.dumps(holder)))
        yield
    finally:
        remove_quietly(root / HOLDER)
        lock.release()


def _holder(root: Path) -> str:
    try:
        info = json.loads((root / HOLDER).read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def guard(root: Path, write: Any) -> None:
    """Run a write, turning a full disk or a refused write into a message with what to do."""
    try:
        write()
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreError(
                f"{root}: the disk is full; results written so far are safe. Free some space and"
                " run the same command with --resume"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StoreError(f"{root}: cannot write there ({exc.strerror})") from None
        raise


def preflight(root: Path, needed_bytes: int) -> None:
    """Fail before any simulation if ``root`` cannot be written or lacks the space needed."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".spirallab-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            f"{root}: cannot write results there ({exc.strerror or exc}); choose another --out"
        ) from None
    free = shutil.disk_usage(root).free
    if free < needed_bytes:
        raise StoreError(
            f"{root}: the sweep needs about {_mb(needed_bytes)} of disk for its results but only "
            f"{_mb(free)} is free; free some space, keep fewer outputs (outputs.trajectories = "
            "false) or choose another --out"
        )


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
