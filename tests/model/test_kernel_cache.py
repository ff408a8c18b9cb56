"""The guard that drops Numba's cached kernel when a module it inlines has changed."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from spirallab.model import kernel, kernel_cache
from spirallab.model.kernel_cache import (
    COMPILED_SOURCES,
    PACKAGE_DIR,
    STAMP_NAME,
    clear_if_stale,
    sources_digest,
)

KERNEL_FILES = (
    "kernel.run_tile-67.py311.nbi",
    "kernel.run_tile-67.py311.1.nbc",
    "defenders.defenders_step-435.py311.nbi",
    "defenders.defenders_step-435.py311.1.nbc",
)
OTHER_FILES = ("f32math.exp_array-221.py311.nbi", "kernel.cpython-311.pyc")


def _fake_cache(folder: Path, stamp: str | None) -> None:
    for name in KERNEL_FILES + OTHER_FILES:
        (folder / name).write_bytes(b"old machine code")
    if stamp is not None:
        (folder / STAMP_NAME).write_text(stamp + "\n", encoding="ascii")


def test_a_changed_digest_removes_only_the_kernel_cache_files(tmp_path: Path) -> None:
    _fake_cache(tmp_path, stamp="digest-of-the-old-sources")
    removed = clear_if_stale(tmp_path, digest="digest-of-the-new-sources")
    assert sorted(p.name for p in removed) == sorted(KERNEL_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted((*OTHER_FILES, STAMP_NAME))
    assert (tmp_path / STAMP_NAME).read_text(encoding="ascii").strip() == (
        "digest-of-the-new-sources"
    )


def test_a_matching_stamp_keeps_the_cache(tmp_path: Path) -> None:
    _fake_cache(tmp_path, stamp="same")
    assert clear_if_stale(tmp_path, digest="same") == []
    assert all((tmp_path / name).exists() for name in KERNEL_FILES)


def test_a_cache_without_a_stamp_counts_as_stale(tmp_path: Path) -> None:
    _fake_cache(tmp_path, stamp=None)
    assert len(clear_if_stale(tmp_path, digest="now")) == len(KERNEL_FILES)
    assert clear_if_stale(tmp_path, digest="now") == []  # the stamp was written


def test_editing_an_inlined_module_changes_the_digest(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "reference"))
    before = sources_digest(copy)
    assert before == sources_digest(PACKAGE_DIR)
    with (copy / "government.py").open("a", encoding="utf-8") as f:
        f.write("\n# an edit Numba's timestamp check on kernel.py would not see\n")
    edited = sources_digest(copy)
    assert edited != before
    (copy / "engine.py").write_text("# not compiled into the kernel\n", encoding="utf-8")
    assert sources_digest(copy) == edited  # engine.py is not hashed: no needless recompile


def _model_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "spirallab.model":
            names.update(f"{a.name}.py" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "spirallab.model."
        ):
            names.add(node.module.split(".")[2] + ".py")  # type: ignore[union-attr]
    return names


def test_every_module_the_compiled_code_imports_is_hashed() -> None:
    todo, seen = ["kernel.py"], set()
    while todo:
        name = todo.pop()
        if name in seen or name == "kernel_cache.py":
            continue
        seen.add(name)
        todo.extend(_model_imports(PACKAGE_DIR / name))
    assert seen <= set(COMPILED_SOURCES), sorted(seen - set(COMPILED_SOURCES))


def test_importing_the_kernel_stamped_numbas_cache_folder() -> None:
    folder = kernel_cache.cache_dir_of(kernel.run_tile)
    assert folder == PACKAGE_DIR / "__pycache__" or folder.exists()
    stamp = folder / STAMP_NAME
    if stamp.exists():  # absent only where the cache folder is read-only
        assert stamp.read_text(encoding="ascii").strip() == sources_digest()
