"""The results store of a sweep: a folder that survives crashes and can be queried directly.

::

    DIR/manifest.json           what the sweep is and which chunks are done
    DIR/experiment.toml         the experiment file as given
    DIR/scenario.json           the resolved base scenario
    DIR/points.parquet          the design: point, then one column per factor
    DIR/summaries/part-NNNNN.parquet     point, country, then the summary outputs
    DIR/trajectories/part-NNNNN.parquet  (optional) point, country, replicate, year, phase, ...

Chunk ``i`` always holds points ``i*chunk_points`` to ``(i+1)*chunk_points - 1``. A chunk's file
is written to a hidden temporary name and renamed into place, so it is either complete or absent;
its presence is what marks the chunk done (the manifest's list is refreshed after each chunk and
reconciled with the files on resume). Files whose names start with ``.`` are ignored by DuckDB,
polars and pyarrow alike, so ``SELECT * FROM 'DIR/summaries/*.parquet'`` only ever sees whole
chunks.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from spirallab.errors import InputError, SpiralLabError
from spirallab.model.result import atomic_write

FORMAT = "spirallab-sweep-1"
PART = re.compile(r"^part-(\d{5,})\.parquet$")


class StoreError(SpiralLabError):
    """The output folder cannot hold the results (disk full, not writable)."""

    exit_code = 2


def part_name(chunk: int) -> str:
    return f"part-{chunk:05d}.parquet"


@dataclass
class SweepStore:
    """An open results store."""

    root: Path
    manifest: dict[str, Any]

    # --- reading --------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path) -> SweepStore:
        """Open an existing store, with a clear error if ``root`` is not one."""
        root = Path(root)
        path = root / "manifest.json"
        if not path.is_file():
            raise InputError(
                "not a sweep results folder (no manifest.json)",
                file=root,
                expected="a folder written by `spirallab sweep`",
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"unreadable manifest: {exc}", file=path) from None
        if manifest.get("format") != FORMAT:
            raise InputError(
                "unknown results format",
                file=path,
                where="format",
                found=manifest.get("format"),
                expected=FORMAT,
            )
        return cls(root, manifest)

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["n_chunks"])

    @property
    def finished(self) -> bool:
        return len(self.done_chunks()) == self.n_chunks

    def done_chunks(self) -> set[int]:
        """Chunks whose summary file is in place (the files, not the manifest, are the truth)."""
        folder = self.root / "summaries"
        if not folder.is_dir():
            return set()
        found = {int(m.group(1)) for f in os.listdir(folder) if (m := PART.match(f))}
        return {c for c in found if c < self.n_chunks}

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / "points.parquet")

    def summaries(self, country: str | None = None, require_complete: bool = True) -> pd.DataFrame:
        """All summary rows (or one country's, e.g. ``"ALL"``), sorted by point and country."""
        if require_complete and not self.finished:
            raise InputError(
                f"the sweep is incomplete: {len(self.done_chunks())} of {self.n_chunks} chunks "
                "done",
                file=self.root,
                expected="a finished sweep; run `spirallab sweep EXPERIMENT --out DIR --resume`",
            )
        files = [self.root / "summaries" / part_name(c) for c in sorted(self.done_chunks())]
        if not files:
            return pd.DataFrame(columns=["point", "country", *self.manifest["outputs"]])
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
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
        folder = self.root / "trajectories"
        files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
        if not files:
            raise InputError(
                "no trajectories kept in this sweep",
                file=self.root,
                expected="outputs.trajectories = true in the experiment",
            )
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

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
        """Start a new store (the folder must be empty or absent)."""
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("summaries", *(["trajectories"] if manifest["trajectories"] else [])):
            (root / sub).mkdir(exist_ok=True)
        store = cls(root, dict(manifest, created=_now(), done_chunks=[]))
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
        """Commit one chunk: trajectories first, then the summary file that marks it done."""
        if trajectories is not None:
            target = self.root / "trajectories" / part_name(chunk)
            guard(
                self.root,
                lambda: atomic_write(target, lambda p: trajectories.to_parquet(p, index=False)),
            )
        target = self.root / "summaries" / part_name(chunk)
        guard(
            self.root, lambda: atomic_write(target, lambda p: summaries.to_parquet(p, index=False))
        )

    def clean_partial(self) -> None:
        """Remove temporary files left by an interrupted write, and orphaned trajectories."""
        done = self.done_chunks()
        for sub in ("summaries", "trajectories"):
            folder = self.root / sub
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                m = PART.match(f.name)
                if f.name.startswith(".") or (
                    sub == "trajectories" and m and int(m[1]) not in done
                ):
                    f.unlink(missing_ok=True)


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
