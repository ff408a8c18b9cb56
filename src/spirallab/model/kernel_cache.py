"""Keep Numba's on-disk cache of the kernel in step with the sources it was compiled from.

Numba's ``cache=True`` checks only the timestamp and size of the file that defines a compiled
function. ``kernel.run_tile`` (and the defenders' compiled steps) inline the scalar rules of
other modules, so an edit to, say, government.py left the old machine code in use: wrong
numbers, or a crash when a tile's layout changed. :func:`clear_if_stale` hashes the sources of
every module the compiled functions are built from and, when the hash differs from the stamp
kept beside Numba's cache files, deletes those cache files first, so the next call compiles
afresh. kernel.py calls it once at import, before any compiled function is first called
(Numba reads its cache lazily, on the first call).

A cache file removed while another process is loading it is harmless: Numba then compiles.
A read-only installation (no stamp can be written) only loses the check, never a run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

# The modules the compiled functions are built from (kernel.py and what it inlines, directly or
# through defenders.py), relative to this package. Constants count too: state.TILE_ROWS,
# params.PARAMETERS and setup.LEVER_KINDS fix the tiles' offsets.
COMPILED_SOURCES: tuple[str, ...] = (
    "kernel.py",
    "government.py",
    "network.py",
    "society.py",
    "partners.py",
    "defenders.py",
    "protection.py",
    "rules.py",
    "f32math.py",
    "pcg64.py",
    "context.py",
    "events.py",
    "state.py",
    "params.py",
    "setup.py",
    "worldtime.py",
    "worldtime.py",  # imported by setup.py; hashed so the list is closed under imports
)
# Cache files of these modules hold code built from the sources above.
CACHED_MODULES: tuple[str, ...] = ("kernel", "defenders")
STAMP_NAME = "kernel-sources.sha256"
PACKAGE_DIR = Path(__file__).resolve().parent


def sources_digest(package_dir: Path = PACKAGE_DIR, names: Iterable[str] = COMPILED_SOURCES) -> str:
    """SHA-256 over the named source files (name and bytes; a missing file counts as empty)."""
    h = hashlib.sha256()
    for name in names:
        path = package_dir / name
        h.update(name.encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"")
        h.update(b"\0")
    return h.hexdigest()


def stale_files(cache_dir: Path, modules: Iterable[str] = CACHED_MODULES) -> list[Path]:
    """Numba's index (.nbi) and data (.nbc) files of ``modules`` in ``cache_dir``."""
    found: list[Path] = []
    for module in modules:
        for pattern in (f"{module}.*.nbi", f"{module}.*.nbc"):
            found.extend(sorted(cache_dir.glob(pattern)))
    return found


def clear_if_stale(cache_dir: Path, digest: str | None = None) -> list[Path]:
    """Delete the cached kernel files in ``cache_dir`` unless its stamp equals ``digest``.

    ``digest`` defaults to :func:`sources_digest`. No stamp (a cache from before this check) is
    stale too. Returns the files removed; writes the new stamp.
    """
    digest = sources_digest() if digest is None else digest
    stamp = cache_dir / STAMP_NAME
    try:
        if stamp.read_text(encoding="ascii").strip() == digest:
            return []
    except (OSError, UnicodeDecodeError):
        pass
    removed: list[Path] = []
    for path in stale_files(cache_dir):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:  # another process cleared it first
            pass
        except OSError:  # read-only cache: Numba's own check is all there is
            return removed
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{STAMP_NAME}.{os.getpid()}.tmp"
        tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(tmp, stamp)  # atomic: a concurrent reader sees the old or the new stamp
    except OSError:
        pass
    return removed


def cache_dir_of(compiled: object) -> Path:
    """Where Numba keeps ``compiled``'s cache (its own locator's choice), else __pycache__."""
    path = getattr(getattr(compiled, "_cache", None), "cache_path", None)
    return Path(path) if isinstance(path, str) and path else PACKAGE_DIR / "__pycache__"
