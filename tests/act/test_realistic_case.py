"""The six steps of issue 12, end to end, on the realistic case of examples/protect/case.toml.

A rural land-rights defender threatened by a local armed group, detained once before, who
consented to one destination (the UN Special Rapporteur's urgent appeal).
"""

from __future__ import annotations

from pathlib import Path

from act_helpers import EXAMPLE, ON, error_line, example_data, protect

from spirallab.errors import InputError


def test_six_steps_end_to_end(sandbox: Path) -> None:
    data = example_data()
    d = data["defender"]
    # 1. init
    r = protect("init", "cases.spl")
    assert r.exit_code == 0, r.output
    assert "Argon2id" in r.output and (sandbox / "cases.spl").is_file()

    # 2. record: the whole case from the documented TOML format
    r = protect("import", "cases.spl", str(EXAMPLE))
    assert r.exit_code == 0, r.output
    r = protect("list", "cases.spl")
    assert "case-014" in r.output and "3 incident(s)" in r.output

    # 3. assess: qualitative levels with the reasoning, levers and a review date
    r = protect("assess", "cases.spl", "case-014", "--on", ON)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "RISK: VERY HIGH" in out
    assert "clear, present threat" in out
    levers = out.split("What would lower it most:")[1]
    first, *rest = [ln for ln in levers.splitlines() if ln.strip()[:2].rstrip(".").isdigit()]
    assert "[now] threat" in first
    assert "[medium term] capacity" in rest[-1] and "too slow" in levers
    assert "Review this assessment by 2026-10-28" in out  # very high: within 7 days
    listed = protect("list", "cases.spl").output
    assert "risk very high on 2026-10-21, review by 2026-10-28" in listed
    assert "REVIEW OVERDUE" in listed  # the review date is long past

    # 4. options: the mechanisms that fit, with why, needs, limits
    r = protect("options", "cases.spl", "case-014", "--on", ON, "--all")
    assert r.exit_code == 0, r.output
    out = r.output
    listed = out.split("Not fitting:")[0]
    for fits in ("[un-srhrd-urgent-appeal]", "[un-srhrd-allegation-letter]",
                 "[iachr-precautionary-measures]", "[national-col-unp]", "[eu-embassies]",
                 "[relocation-in-country]", "[accompaniment-pbi]", "[visibility-campaign]"):
        assert fits in listed, fits
    for not_here in ("[achpr-srhrd]", "[national-mex-mechanism]", "[coe-commissioner]"):
        assert not_here not in listed
    # under a present threat the fast mechanisms come first: the urgent appeal before the
    # allegation letter about the past detention
    assert listed.index("[un-srhrd-urgent-appeal]") < listed.index("[un-srhrd-allegation-letter]")
    visibility = listed.split("[visibility-campaign]")[1].split("\n\n")[0]
    assert "may expose family and associates" in visibility
    assert "applies: the defender works in a rural area" in listed

    # 5. consent is in the case for one destination: drafting works there and nowhere else
    r = protect("draft", "cases.spl", "case-014", "iachr-precautionary-measures", "--on", ON)
    assert isinstance(r.exception, InputError) and r.exception.exit_code == 2
    assert "no consent" in error_line(r)
    r = protect("draft", "cases.spl", "case-014", "un-srhrd-urgent-appeal", "--on", ON,
                "--out", "appeal.txt")
    assert r.exit_code == 0, r.output
    appeal = (sandbox / "appeal.txt").read_text("utf-8")
    assert d["alias"] in appeal and data["incidents"][1]["what"] in appeal
    for absent in (d["real_name"], d["contact"], d["location"]["province"],
                   data["factors"][0]["note"], data["consents"][0]["informed_of"]):
        assert absent not in appeal, absent
    # consent recorded from the command line opens a second destination
    r = protect("consent", "cases.spl", "case-014", "iachr-precautionary-measures", "--given-by",
                "the defender, by phone", "--informed-of", "the state will be asked", "--on", ON)
    assert r.exit_code == 0, r.output
    r = protect("draft", "cases.spl", "case-014", "iachr-precautionary-measures", "--on", ON)
    assert r.exit_code == 0 and "Province or locality" in r.output  # this one needs it
    assert d["contact"] not in r.output and d["real_name"] not in r.output

    # 6. export redacted; wipe
    r = protect("export", "cases.spl", "--on", ON, "--out", "report.md")
    assert r.exit_code == 0, r.output
    report = (sandbox / "report.md").read_text("utf-8")
    assert d["alias"] in report and "very high" in report
    for absent in (d["real_name"], d["contact"], d["location"]["province"],
                   data["incidents"][0]["verification"], data["incidents"][0]["source"],
                   data["incidents"][1]["perpetrator_detail"], data["factors"][1]["note"],
                   data["consents"][0]["given_by"]):
        assert absent not in report, absent

    r = protect("log", "cases.spl")
    actions = [ln.split()[2] for ln in r.output.splitlines() if ln.strip()]
    # a refused draft changes nothing, so it is not logged; `log` shows the log before itself
    assert actions == ["init", "import", "list", "assess", "list", "options", "draft",
                       "consent", "draft", "export"]
    assert d["alias"] not in r.output

    r = protect("wipe", "cases.spl", "--yes", passphrase=None)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in sandbox.iterdir()) == ["appeal.txt", "report.md"]
