"""Interactive entry (`protect add`) and consent asked for instead of typed as options."""

from __future__ import annotations

from pathlib import Path

import pytest
from act_helpers import ANSWERS, error_line, protect


def test_add_asks_field_by_field_and_reasks_bad_answers(sandbox: Path) -> None:
    assert protect("init", "c.spl").exit_code == 0
    r = protect("add", "c.spl", stdin="\n".join(ANSWERS) + "\n")
    assert r.exit_code == 0, r.output
    assert "expected one of: capital, urban, provincial, rural" in r.output
    assert "not a date" in r.output
    r = protect("assess", "c.spl", "k1", "--on", "2026-11-02")
    assert "RISK: VERY HIGH" in r.output and "imminent" in r.output
    assert "Review this assessment by 2026-11-09" in r.output


def test_add_that_ends_early_saves_nothing(sandbox: Path) -> None:
    assert protect("init", "c.spl").exit_code == 0
    before = (sandbox / "c.spl").read_bytes()
    r = protect("add", "c.spl", stdin="KEN\nrural\n")
    assert "nothing was saved" in error_line(r)
    assert (sandbox / "c.spl").read_bytes() == before


def test_consent_texts_are_asked_for(sandbox: Path) -> None:
    from act_helpers import EXAMPLE

    assert protect("init", "c.spl").exit_code == 0
    assert protect("import", "c.spl", str(EXAMPLE)).exit_code == 0
    r = protect("consent", "c.spl", "case-014", "eu-embassies",
                stdin="the defender, in person\nthe embassy may raise it with officials\n")
    assert r.exit_code == 0 and "recorded" in r.output
    r = protect("draft", "c.spl", "case-014", "eu-embassies")
    assert r.exit_code == 0 and "Consent: given" in r.output
    r = protect("consent", "c.spl", "case-014", "eu-embassies", "--withdraw")
    assert r.exit_code == 0 and "withdrawn" in r.output
    assert "no consent" in error_line(protect("draft", "c.spl", "case-014", "eu-embassies"))


def test_passphrase_is_asked_without_echo_twice_at_init(sandbox: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from act_helpers import PASS

    asked: list[str] = []
    answers = iter([PASS, PASS, PASS, PASS, "typo" + PASS])

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setenv("SPIRALLAB_PASSPHRASE", "not read from the environment")
    assert protect("init", "c.spl", passphrase=None).exit_code == 0
    assert asked == ["Passphrase: ", "Passphrase again: "]
    assert protect("list", "c.spl", passphrase=None).exit_code == 0
    assert len(asked) == 3
    r = protect("init", "d.spl", passphrase=None)
    assert "differ" in error_line(r) and not (sandbox / "d.spl").exists()
    # there is no way to give it as an argument
    r = protect("init", "e.spl", "--passphrase", PASS, passphrase=None)
    assert r.exit_code != 0 and not (sandbox / "e.spl").exists()


def test_add_to_an_existing_case_appends_incidents(sandbox: Path) -> None:
    from act_helpers import EXAMPLE

    assert protect("init", "c.spl").exit_code == 0
    assert protect("import", "c.spl", str(EXAMPLE)).exit_code == 0
    calm = protect("assess", "c.spl", "case-014", "--on", "2025-06-01")
    assert "threat medium" in calm.output  # only the past detention is known then
    answers = ["y", "n", "2025-05-30", "attack", "past", "shots fired at the house", "unknown",
               "", "a neighbour", "n", "n", "n"]
    r = protect("add", "c.spl", "--to", "case-014", stdin="\n".join(answers) + "\n")
    assert r.exit_code == 0 and "added 1 incident(s)" in r.output, r.output
    r = protect("assess", "c.spl", "case-014", "--on", "2025-06-01")
    assert "i4 2025-05-30 attack" in r.output
    assert "no such case" in error_line(protect("add", "c.spl", "--to", "nope", stdin="n\nn\n"))


def test_show_hides_identity_unless_revealed_and_remove_deletes(sandbox: Path) -> None:
    from act_helpers import EXAMPLE, example_data

    d = example_data()["defender"]
    assert protect("init", "c.spl").exit_code == 0
    assert protect("import", "c.spl", str(EXAMPLE)).exit_code == 0
    shown = protect("show", "c.spl", "case-014").output
    assert d["alias"] in shown and d["work"] in shown and "i3 2026-10-15 surveillance" in shown
    assert d["real_name"] not in shown and d["contact"] not in shown
    revealed = protect("show", "c.spl", "case-014", "--reveal").output
    assert d["real_name"] in revealed and d["contact"] in revealed
    r = protect("remove", "c.spl", "case-014", stdin="n\n")
    assert "not confirmed" in error_line(r)
    assert protect("remove", "c.spl", "case-014", "--yes").exit_code == 0
    assert "no cases yet" in protect("list", "c.spl").output
    log = protect("log", "c.spl").output
    assert "show-reveal  case-014" in log and "remove  case-014" in log
    assert d["alias"] not in log
