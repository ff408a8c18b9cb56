"""Where the data files are: :class:`DataSources`, from a folder or from explicit paths."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from spirallab.errors import InputError

# Published file names (glob, case-insensitive) and the sub-folder of the ../shared/data layout.
PATTERNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pts": ("pts", ("PTS-*.csv", "PTS*.csv")),
    "fariss": ("fariss", ("LHRS-*.csv", "LHRS*.csv", "HumanRightsProtectionScores*.csv")),
    "cirights": ("cirights", ("cirights*.csv",)),
    "ciri": ("ciri", ("CIRI_*.csv", "CIRI-*.csv")),
    "hathaway": ("hathaway", ("Hathaway*.csv",)),
    "polity": ("polity", ("p5v*.csv", "p4v*.csv")),
    "ucdp": ("ucdp", ("ucdp-onesided*.csv", "ucdp_onesided*.csv")),
    "mass_killing": ("mass_killing", ("mkl*.csv",)),
}
RATIFICATION = ("ratification", "hr_status_*.csv")

SOURCE_NAMES = (*PATTERNS, "ratification")


@dataclass(frozen=True)
class DataSources:
    """Paths to each published data file; any may be None (its panel columns are then NA).

    ``ratification`` is a folder or a sequence of ``hr_status_<treaty>.csv`` files; it is
    normalised to a tuple of files.
    """

    pts: Path | None = None
    fariss: Path | None = None
    cirights: Path | None = None
    ciri: Path | None = None
    hathaway: Path | None = None
    polity: Path | None = None
    ucdp: Path | None = None
    mass_killing: Path | None = None
    ratification: tuple[Path, ...] | Path | None = field(default=())

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "ratification":
                files = _ratification_files(value)
                _one_file_per_treaty(files)
                object.__setattr__(self, f.name, files)
            elif value is not None:
                object.__setattr__(self, f.name, Path(value))

    @classmethod
    def from_dir(cls, root: Path | str) -> DataSources:
        """Find files by their published names, in the sub-folders of the reference layout
        (``pts/``, ``fariss/`` ...) or anywhere below ``root``."""
        root = Path(root)
        if not root.is_dir():
            raise InputError("not a folder", file=root, expected="a data folder")
        found: dict[str, Path | None] = {}
        for name, (sub, globs) in PATTERNS.items():
            found[name] = _find_one(root, sub, globs, name)
        rat_dir = root / RATIFICATION[0]
        rats = _glob(rat_dir if rat_dir.is_dir() else root, (RATIFICATION[1],))
        if not any(found.values()) and not rats:
            raise InputError(
                "no published data file found here", file=root,
                expected="files such as pts/PTS-2022.csv or ciri/CIRI_physint2011.csv",
            )
        return cls(**found, ratification=tuple(rats))

    def with_files(self, overrides: dict[str, Path]) -> DataSources:
        """A copy with some sources replaced by explicit paths (``--file SOURCE=PATH``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, path in overrides.items():
            if name not in values:
                raise InputError(
                    "unknown source name", found=name, expected=", ".join(SOURCE_NAMES)
                )
            values[name] = path
        return DataSources(**values)

    def items(self) -> list[tuple[str, Path]]:
        """(source name, file) for every file present, ratification files last."""
        out: list[tuple[str, Path]] = []
        for name in PATTERNS:
            path = getattr(self, name)
            if path is not None:
                out.append((name, path))
        assert isinstance(self.ratification, tuple)
        out.extend(("ratification", p) for p in self.ratification)
        return out


def _ratification_files(value: tuple[Path, ...] | Path | Iterable[Path] | None) -> tuple[Path, ...]:
    if value is None:
        return ()
    if isinstance(value, str | Path):
        path = Path(value)
        if path.is_dir():
            return tuple(_glob(path, (RATIFICATION[1],)))
        return (path,)
    return tuple(Path(p) for p in value)


def _one_file_per_treaty(files: tuple[Path, ...]) -> None:
    """Two status files for one treaty (``hr_status_cat.csv`` and ``HR_STATUS_CAT.csv``) would
    both be loaded: refuse them, naming both."""
    seen: dict[str, Path] = {}
    for path in files:
        key = path.name.lower()
        if key in seen:
            raise InputError(
                f"two ratification files for one treaty: {seen[key]} and {path}",
                file=path,
                expected="one hr_status_<treaty>.csv per treaty (names are compared without case)",
            )
        seen[key] = path


def _glob(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and any(fnmatch.fnmatch(p.name.lower(), g.lower()) for g in patterns)
    )


def _find_one(root: Path, sub: str, globs: tuple[str, ...], name: str) -> Path | None:
    for folder in (root / sub, root):
        for pattern in globs:
            hits = _glob(folder, (pattern,))
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise InputError(
                    f"several files could be the {name} source", file=folder,
                    found=[h.name for h in hits],
                    expected=f"one, or name it with --file {name}=PATH",
                )
    return None
