"""Issue 9: regression tests for sweep stores and the sweep command, one per defect.

Each test uses the exact input of the issue and shows the clean error (exit 2, one line naming
the file) or the kept results; where a mechanism protects the results (hashes, the lock, the
half-made store), the test also shows what happens without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from spirallab.errors import InputError
from spirallab.experiments.store import HOLDER, StoreError, SweepStore, lock_store, part_name
from spirallab.experiments.sweep import TLSFiles, sweep

from .conftest import assert_one_line, cli


def _frame(out: Path) -> pd.DataFrame:
    return SweepStore.open(out).summaries()


# --- defect 9: --out naming a file -------------------------------------------------------------


@pytest.mark.parametrize("target", ["file", "/dev/null"])
def test_9_out_naming_a_file(tiny: Callable[..., Path], tmp_path: Path, target: str) -> None:
    exp = tiny()
    out = tmp_path / "results.txt"
    out.write_text("mine")
    path = str(out) if target == "file" else target
    code, msg = cli(["sweep", str(exp), "--out", path, "--workers", "1"])
    assert_one_line(code, msg, path, "--out: names a file, not a folder")
    assert out.read_text() == "mine"


# --- defect 10 and 28: TLS schedulers ----------------------------------------------------------


def test_10_tls_scheduler_without_files_is_refused_quickly(tiny: Callable[..., Path]) -> None:
    t0 = time.perf_counter()
    code, msg = cli(["sweep", str(tiny()), "--out", "o", "--scheduler", "tls://127.0.0.1:8786"])
    assert time.perf_counter() - t0 < 5
    assert_one_line(code, msg, "--scheduler", "tls://127.0.0.1:8786", "--tls-ca-file")


def test_10_unreachable_scheduler_is_refused_quickly(tiny: Callable[..., Path]) -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler within 1 s"):
        sweep(tiny(), "o", scheduler="tcp://127.0.0.1:9", scheduler_timeout=1.0)
    assert time.perf_counter() - t0 < 10


def test_10_missing_tls_file_is_named(tiny: Callable[..., Path], tmp_path: Path) -> None:
    code, msg = cli([
        "sweep", str(tiny()), "--out", str(tmp_path / "o"),
        "--scheduler", "tls://127.0.0.1:8786", "--tls-ca-file", str(tmp_path / "ca.pem"),
    ])
    assert_one_line(code, msg, "ca.pem", "--tls-ca-file: TLS file not found")


def test_28_sweep_over_tls_matches_local_and_help_says_trust(
    tiny: Callable[..., Path], tmp_path: Path
) -> None:
    from distributed import LocalCluster
    from distributed.security import Security

    security = Security.temporary()  # a throw-away CA and certificates
    files = {}
    for name, attr in (("ca", "tls_ca_file"), ("cert", "tls_client_cert"),
                       ("key", "tls_client_key")):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text(getattr(security, attr))
    exp = tiny()
    sweep(exp, tmp_path / "local", workers=1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls",
                      security=security, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        tls = TLSFiles(files["ca"], files["cert"], files["key"])
        sweep(exp, tmp_path / "tls", scheduler=address, tls=tls)
        # The same cluster refuses a client without the certificates.
        with pytest.raises(InputError, match="needs TLS files"):
            sweep(exp, tmp_path / "plain", scheduler=address)
    pd.testing.assert_frame_equal(_frame(tmp_path / "tls"), _frame(tmp_path / "local"))
    code, text = cli(["sweep", "--help"])
    assert code == 0
    flat = " ".join(text.split())
    assert "tls://" in flat and "pickled" in flat and "trust" in flat


# --- defect 12: corrupted stores -----------------------------------------------------------------


@pytest.fixture
def finished(tiny: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    exp = tiny(samples=8)
    out = tmp_path / "store"
    sweep(exp, out, workers=1, chunk_points=2)
    return exp, out


def test_12_manifest_n_chunks_not_a_number(finished: tuple[Path, Path]) -> None:
    exp, out = finished
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["n_chunks"] = "x"
    (out / "manifest.json").write_text(json.dumps(manifest))
    for args in (["sensitivity", str(out)], ["discover", str(out)],
                 ["sweep", str(exp), "--out", str(out), "--resume", "--workers", "1"]):
        code, msg = cli(args)
        assert_one_line(code, msg, "manifest.json: n_chunks: wrong type", "found 'x'")


def test_12_part_file_cut_to_100_bytes(finished: tuple[Path, Path]) -> None:
    exp, out = finished
    want = _frame(out)
    part = out / "summaries" / part_name(2)
    part.write_bytes(part.read_bytes()[:100])
    for args in (["sensitivity", str(out)], ["discover", str(out)]):
        code, msg = cli(args)
        assert_one_line(code, msg, str(part), "chunk 2", "--resume")
    # --resume sees the damage (it does not say "Nothing to do"), runs that chunk again, and
    # the store is whole again, equal to what it was.
    code, text = cli(["sweep", str(exp), "--out", str(out), "--resume", "--workers", "1"])
    assert code == 0, text
    flat = " ".join(text.split())
    assert "Nothing to do" not in flat and "damaged chunk" in flat and "1 chunk(s) run" in flat
    pd.testing.assert_frame_equal(_frame(out), want)
    assert SweepStore.open(out).damaged() == []


def test_12_same_size_damage_is_caught_by_the_hash(finished: tuple[Path, Path]) -> None:
    _, out = finished
    part = out / "summaries" / part_name(1)
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"part-00001.parquet: part file content differs"):
        SweepStore.open(out).summaries()


def test_12_missing_points_parquet(finished: tuple[Path, Path]) -> None:
    _, out = finished
    (out / "points.parquet").unlink()
    for args in (["sensitivity", str(out)], ["discover", str(out)]):
        code, msg = cli(args)
        assert_one_line(code, msg, str(out), "points.parquet is missing")


def test_12_missing_part_file(finished: tuple[Path, Path]) -> None:
    _, out = finished
    (out / "summaries" / part_name(0)).unlink()
    code, msg = cli(["sensitivity", str(out)])
    assert_one_line(code, msg, "part-00000.parquet: part file missing")


# --- defect 13: factors contradicting each other -------------------------------------------------

LEVER_WINDOW = """
[[factors]]
name = "levers[0].start"
low = 1975
high = 1989

[[factors]]
name = "levers[0].end"
low = 1981
high = 1994
"""


def test_13_contradicting_factors_refused_before_any_chunk(
    tiny: Callable[..., Path], tmp_path: Path
) -> None:
    exp = tiny(factors=LEVER_WINDOW, samples=64)
    out = tmp_path / "o"
    code, msg = cli(["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert_one_line(code, msg, str(exp), "levers[0].start and levers[0].end contradict")
    assert not out.exists(), "nothing may be written"


def test_13_compatible_lever_ranges_run(tiny: Callable[..., Path], tmp_path: Path) -> None:
    exp = tiny(factors=LEVER_WINDOW.replace("1981", "1990").replace("1994", "1999"), samples=4)
    assert sweep(exp, tmp_path / "o", workers=1).chunks_run >= 1


# --- defects 24 and 25: kills while creating, temporary manifests -------------------------------


def test_24_store_killed_while_being_created_can_be_restarted(
    tiny: Callable[..., Path], tmp_path: Path
) -> None:
    exp = tiny()
    out = tmp_path / "o"
    # What a kill before the manifest leaves: the store's files, no manifest, no part.
    sweep(exp, tmp_path / "ref", workers=1)
    out.mkdir()
    for name in ("experiment.toml", "scenario.json", "points.parquet"):
        (out / name).write_bytes((tmp_path / "ref" / name).read_bytes())
    (out / "summaries").mkdir()
    (out / ".points.parquet.abc123.tmp").write_bytes(b"half")
    for resume in ([], ["--resume"]):
        code, text = cli(["sweep", str(exp), "--out", str(out), "--workers", "1", *resume])
        assert code == 0, text
        pd.testing.assert_frame_equal(_frame(out), _frame(tmp_path / "ref"))
        (out / "manifest.json").unlink()  # killed again, before the manifest
        for f in (out / "summaries").iterdir():
            f.unlink()
    # A folder with anything else in it is still refused, and left alone.
    (out / "notes.txt").write_text("mine")
    code, msg = cli(["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert_one_line(code, msg, "not empty and holds no sweep")
    assert (out / "notes.txt").read_text() == "mine"


def test_25_temporary_manifest_in_root_is_cleaned_on_resume(
    finished: tuple[Path, Path],
) -> None:
    exp, out = finished
    leftover = out / ".manifest.json.k2j3h4.tmp"
    leftover.write_text('{"half": ')
    sweep(exp, out, workers=1, resume=True)
    assert not leftover.exists()
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_uncommitted_part_is_run_again(finished: tuple[Path, Path]) -> None:
    # A crash between a part's rename and the manifest: the part is not listed, so it is not
    # trusted; resume removes it and runs its chunk again.
    exp, out = finished
    want = _frame(out)
    store = SweepStore.open(out)
    store.manifest["parts"].pop("3")
    store.save_manifest()
    (out / "summaries" / part_name(3)).write_bytes(b"garbage from a killed write")
    report = sweep(exp, out, workers=1, resume=True)
    assert report.chunks_run == 1
    pd.testing.assert_frame_equal(_frame(out), want)


# --- defect 27: a second --resume while the sweep runs -------------------------------------------

# Long enough (about 20 s of work at 2,000 runs/s) that the first sweep still runs while the
# second starts; it is killed as soon as the second has answered.
SLOW = """
name = "slow"
scenario = "book-eleven"
replicates = 100
seed = 1
[design]
kind = "lhs"
samples = 400
[[factors]]
name = "levers[0].strength"
low = 0.0
high = 1.0
"""


def test_27_second_resume_is_refused_and_told_who_holds_the_lock(tmp_path: Path) -> None:
    exp = tmp_path / "slow.toml"
    exp.write_text(SLOW)
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "spirallab", "sweep", str(exp), "--out", str(out)]
    first = subprocess.Popen([*cmd, "--workers", "1", "--chunk-points", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "manifest.json").exists() or not (out / HOLDER).exists():
            assert first.poll() is None, "the first sweep ended too early"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = subprocess.run([*cmd, "--resume", "--workers", "1"], capture_output=True,
                                text=True, timeout=120)
        assert first.poll() is None, "the first sweep must still be running"
    finally:
        first.kill()
        first.wait()
    msg = " ".join(second.stderr.split())
    assert second.returncode == 2, second.stderr
    assert "Traceback" not in second.stderr
    assert f"in use by another sweep (pid {first.pid} on " in msg
    # The lock dies with its holder (however it ends): it can be taken at once now.
    with lock_store(out):
        assert json.loads((out / HOLDER).read_text())["pid"] == os.getpid()


# --- defect 29 (sweep side): --allow-outside -----------------------------------------------------


def test_29_allow_outside_on_the_command_line(tmp_path: Path) -> None:
    inner = tmp_path / "exp"
    inner.mkdir()
    scen = tmp_path / "outside.toml"
    scen.write_text(Path(__file__).parents[3].joinpath(
        "src/spirallab/scenarios/builtin/book-eleven.toml").read_text())
    exp = inner / "e.toml"
    exp.write_text(SLOW.replace('"book-eleven"', '"../outside.toml"')
                   .replace("samples = 40", "samples = 2").replace("replicates = 20",
                                                                    "replicates = 2\nend = 1980"))
    code, msg = cli(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1"])
    assert_one_line(code, msg, str(exp), "scenario: the base scenario is outside",
                    "--allow-outside")
    code, text = cli(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1",
                      "--allow-outside"])
    assert code == 0, text

