"""Security tests: no network, nothing in plain text on disk, no case data in error output.

One subprocess runs every command (and the error cases) with sockets replaced by a function that
records the attempt and raises; HOME, TMPDIR, XDG_CACHE_HOME and the working folder are temporary
folders that are then searched, file by file, for every string recorded in the case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from act_helpers import (
    ANSWER_TEXTS,
    ANSWERS,
    EXAMPLE,
    ON,
    PASS,
    REPO,
    example_data,
    files_under,
    recorded_strings,
)

# Replaces every way of opening a connection, then runs the commands in this process.
RUNNER = textwrap.dedent('''
    import io, json, socket, sys, _socket
    attempts = []
    def refuse(*args, **kwargs):
        attempts.append("call")
        raise OSError("network blocked by the test")
    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            attempts.append("socket")
            raise OSError("network blocked by the test")
    socket.socket = NoSocket
    _socket.socket = NoSocket
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "socketpair", "fromfd"):
        setattr(socket, name, refuse)
    import os
    written = []
    def watch(event, args):
        # every file opened for writing, wherever it is (Python's audit hooks, PEP 578)
        if event == "open" and not isinstance(args[0], int) and args[0] is not None:
            mode, flags = args[1], args[2] or 0
            if (mode is not None and any(c in str(mode) for c in "wax+")) or (
                    mode is None and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
                written.append(os.path.abspath(os.fsdecode(args[0])))
        elif event in ("os.rename", "os.replace"):
            written.append(os.path.abspath(os.fsdecode(args[1])))
    sys.addaudithook(watch)
    from spirallab.cli import main
    plan, out_path = json.loads(sys.argv[1]), sys.argv[2]
    results = []
    for argv, stdin in plan:
        sys.argv = ["spirallab", *argv]
        sys.stdin = io.StringIO(stdin)
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:
            main()
            rc = 0
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()
        sys.stdout, sys.stderr = real_out, real_err
        results.append({"argv": argv, "rc": rc, "out": out, "err": err})
    seen = list(written)  # before the harness writes its own results
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump({"attempts": attempts, "results": results, "written": seen}, fh)
''')

SECRET = "Zorzal-secret-witness"


@pytest.fixture(scope="module")
def run_all(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("sec")
    home, tmp, work, outbox = (root / n for n in ("home", "tmp", "work", "outbox"))
    for p in (home, tmp, work, outbox):
        p.mkdir()
    bad = root / "bad-date.toml"   # outside the searched folders, like the example
    bad.write_text(EXAMPLE.read_text("utf-8").replace("date = 2026-09-28",
                                                      f'date = "{SECRET} 28 Sept"'), "utf-8")
    big = root / "big.toml"
    big.write_text(EXAMPLE.read_text("utf-8").replace(
        'alias = "Ceiba"', f'alias = "{SECRET * 20}"'), "utf-8")
    pw = PASS + "\n"
    f = "cases.spl"
    plan: list[tuple[list[str], str]] = [
        (["protect", "init", f, "--passphrase-stdin"], pw),
        (["protect", "import", f, str(EXAMPLE), "--passphrase-stdin"], pw),
        (["protect", "list", f, "--passphrase-stdin"], pw),
        (["protect", "assess", f, "case-014", "--on", ON, "--passphrase-stdin"], pw),
        (["protect", "options", f, "case-014", "--on", ON, "--all", "--passphrase-stdin"], pw),
        (["protect", "consent", f, "case-014", "eu-embassies", "--given-by", "the defender",
          "--informed-of", "who reads it", "--on", ON, "--passphrase-stdin"], pw),
        (["protect", "add", f, "--passphrase-stdin"], pw + "\n".join(ANSWERS) + "\n"),
        (["protect", "consent", f, "k1", "un-srhrd-urgent-appeal", "--passphrase-stdin"],
         pw + "the defender, in person\nwho reads it and what it may expose\n"),
        (["protect", "draft", f, "case-014", "un-srhrd-urgent-appeal", "--on", ON,
          "--passphrase-stdin"], pw),
        (["protect", "draft", f, "case-014", "eu-embassies", "--on", ON, "--out",
          str(outbox / "draft.txt"), "--passphrase-stdin"], pw),
        (["protect", "export", f, "--on", ON, "--out", str(outbox / "report.md"),
          "--passphrase-stdin"], pw),
        (["protect", "export", f, "--on", ON, "--passphrase-stdin"], pw),
        (["protect", "show", f, "case-014", "--reveal", "--passphrase-stdin"], pw),
        (["protect", "log", f, "--passphrase-stdin"], pw),
        (["protect", "catalogue"], ""),
        (["protect", "catalogue", "--dump"], ""),
        # error cases: each one line, exit 2, no case data
        (["protect", "list", f, "--passphrase-stdin"], "the wrong passphrase\n"),
        (["protect", "import", f, str(bad), "--passphrase-stdin"], pw),
        (["protect", "import", f, str(big), "--passphrase-stdin"], pw),
        (["protect", "draft", f, "case-014", "no-such-place", "--passphrase-stdin"], pw),
        (["protect", "draft", f, "case-014", "achpr-srhrd", "--passphrase-stdin"], pw),
        (["protect", "assess", f, "case-014", "--on", "21/10/2026", "--passphrase-stdin"], pw),
        (["protect", "export", f, "--out", f, "--passphrase-stdin"], pw),
        (["protect", "init", "second.spl", "--passphrase-stdin"], pw),
        (["protect", "passwd", "second.spl", "--passphrase-stdin"],
         pw + "another long passphrase\n"),
        (["protect", "list", "second.spl", "--passphrase-stdin"], "another long passphrase\n"),
        (["protect", "remove", f, "k1", "--yes", "--passphrase-stdin"], pw),
        (["protect", "wipe", "second.spl", "--yes"], ""),
    ]
    data_dir = REPO.parent / "shared" / "data"
    if data_dir.is_dir():
        plan.insert(5, (["protect", "options", f, "case-014", "--on", ON, "--data", str(data_dir),
                         "--passphrase-stdin"], pw))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPIRALLAB", "XDG"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), XDG_CACHE_HOME=str(home / ".cache"),
               PYTHONPATH=str(REPO / "src"), PYTHONDONTWRITEBYTECODE="1")
    out_json = root / "results.json"
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(plan), str(out_json)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res: dict[str, Any] = json.loads(out_json.read_text("utf-8"))
    res.update(home=home, tmp=tmp, work=work, outbox=outbox)
    return res


def _results(run: dict[str, Any], *words: str) -> list[dict[str, Any]]:
    return [r for r in run["results"] if all(w in r["argv"] for w in words)]


def test_every_command_ran_without_touching_the_network(run_all: dict[str, Any]) -> None:
    assert run_all["attempts"] == []
    ok = [r for r in run_all["results"] if r["rc"] == 0]
    assert {r["argv"][1] for r in ok} >= {"init", "import", "list", "assess", "options",
                                          "consent", "draft", "export", "log", "catalogue",
                                          "add", "passwd", "wipe", "show", "remove"}
    # the blocker works: a deliberate connection in the same harness is recorded
    probe = subprocess.run(
        [sys.executable, "-c", RUNNER.split("from spirallab.cli import main")[0]
         + "\ntry:\n    socket.create_connection(('192.0.2.1', 80))\nexcept OSError:\n"
         "    pass\nprint(attempts)"], capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "['call']"


def test_nothing_recorded_reaches_the_disk_in_plain_text(run_all: dict[str, Any]) -> None:
    secrets = [s for s in recorded_strings(example_data()) if len(s) >= 5] + [SECRET]
    secrets += ANSWER_TEXTS
    assert len(secrets) > 20
    seen = 0
    for path in files_under(run_all["home"], run_all["tmp"], run_all["work"]):
        blob = path.read_bytes()
        seen += 1
        for s in secrets:
            assert s.encode("utf-8") not in blob, f"{s!r} found in {path}"
    assert seen >= 2  # the case file and its lock (and the data cache, when data is given)
    work_files = sorted(p.name for p in run_all["work"].iterdir())
    assert work_files == [".cases.spl.lock", "cases.spl"]  # the second file was wiped
    for p in run_all["work"].iterdir():
        assert p.stat().st_mode & 0o077 == 0, p  # owner only


def test_files_are_written_only_where_the_user_pointed(run_all: dict[str, Any]) -> None:
    # the case files (and their lock and temp files) in the working folder, the --out files,
    # and the public-data panel cache under HOME; nothing anywhere else
    roots = [str(run_all[k]) + os.sep for k in ("work", "outbox", "home")]
    written = sorted(set(run_all["written"]))
    assert written, "the audit hook saw no writes at all"
    stray = [p for p in written if not p.startswith(tuple(roots)) and p != os.devnull]
    assert stray == []
    in_home = [p for p in written if p.startswith(roots[2])]
    assert all("/.cache/spirallab/" in p for p in in_home), in_home


def test_errors_are_one_line_exit_2_and_carry_no_case_data(run_all: dict[str, Any]) -> None:
    errors = [r for r in run_all["results"] if r["rc"] != 0]
    assert len(errors) == 7
    secrets = [s for s in recorded_strings(example_data()) if len(s) >= 5] + [SECRET]
    for r in errors:
        assert r["rc"] == 2, r
        lines = [ln for ln in r["err"].splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), r["err"]
        assert "Traceback" not in r["err"] + r["out"]
        for s in secrets:
            assert s not in r["err"] + r["out"], (s, r["argv"])
    assert "wrong passphrase" in errors[0]["err"]
    bad = _results(run_all, "import")[1]
    assert "incidents[1].date" in bad["err"] and "YYYY-MM-DD" in bad["err"]
    big = _results(run_all, "import")[2]
    assert "defender.alias" in big["err"] and "at most 200" in big["err"]


def test_shared_outputs_carry_only_what_they_may(run_all: dict[str, Any]) -> None:
    data = example_data()
    d = data["defender"]
    never = [d["real_name"], d["contact"], data["factors"][0]["note"],
             data["consents"][0]["informed_of"]]
    draft = (run_all["outbox"] / "draft.txt").read_text("utf-8")
    report = (run_all["outbox"] / "report.md").read_text("utf-8")
    for s in never:
        assert s not in draft and s not in report
    assert d["location"]["province"] not in report
    assert data["incidents"][0]["source"] not in report
    assert oct(os.stat(run_all["outbox"] / "report.md").st_mode & 0o777) == "0o600"


def test_unexpected_error_shows_its_type_only(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              sandbox: Path) -> None:
    from act_helpers import protect

    from spirallab.act.protect import risk
    from spirallab.cli import main

    assert protect("init", "c.spl").exit_code == 0
    assert protect("import", "c.spl", str(EXAMPLE)).exit_code == 0
    alias = example_data()["defender"]["alias"]

    def leaky(case: Any, on: Any) -> Any:
        raise ValueError(f"cannot handle {case.defender.alias}")

    monkeypatch.setattr(risk, "assess", leaky)
    before = (sandbox / "c.spl").read_bytes()
    monkeypatch.setattr(sys, "argv", ["spirallab", "protect", "assess", "c.spl", "case-014",
                                      "--passphrase-stdin"])
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(PASS + "\n"))
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "internal error (ValueError)" in err and alias not in err
    assert (sandbox / "c.spl").read_bytes() == before
