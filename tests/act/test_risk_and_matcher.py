"""Risk rules and the matcher: each pattern shown, and shown vanishing when its cause is removed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from act_helpers import example_data

from spirallab.act.protect.catalogue import RiskLevel, load_catalogue
from spirallab.act.protect.matcher import country_phase, match
from spirallab.act.protect.records import Case, CaseImport
from spirallab.act.protect.risk import assess
from spirallab.errors import InputError

ON = dt.date(2026, 10, 21)
CAT = load_catalogue()


def _case(**change: Any) -> Case:
    data = example_data()
    for path, value in change.items():
        *head, last = path.split("__")
        node: Any = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    parsed: Case = CaseImport.model_validate(data).to_case("x")
    return parsed


def _ids(case: Case) -> list[str]:
    return [o.mechanism.id for o in match(case, CAT, assess(case, ON), ON).options]


def test_present_threat_puts_threat_first_and_capacity_last() -> None:
    a = assess(_case(), ON)
    assert a.clear_present_threat and a.risk is RiskLevel.very_high
    assert a.levers[0].target == "threat" and a.levers[0].when == "now"
    assert a.levers[-1].target == "capacity" and "too slow" in a.levers[-1].why


def test_without_a_present_threat_the_rule_vanishes() -> None:
    # the same case with every incident in the past: no clear, present threat
    past = _case(incidents__1__status="past", incidents__2__status="past")
    a = assess(past, ON)
    assert not a.clear_present_threat and a.risk is not RiskLevel.very_high
    assert all("too slow" not in lv.why for lv in a.levers)
    assert a.levers[0].target == "vulnerability"
    assert (a.review_by - ON).days > 7


def test_urgent_appeal_for_present_allegation_letter_for_past() -> None:
    now = _ids(_case())
    assert "un-srhrd-urgent-appeal" in now and "un-srhrd-allegation-letter" in now
    past = _ids(_case(incidents__1__status="past", incidents__2__status="past"))
    assert "un-srhrd-urgent-appeal" not in past and "un-srhrd-allegation-letter" in past
    only_now = _ids(_case(incidents__0__status="ongoing", incidents__0__kind="threat"))
    assert "un-srhrd-allegation-letter" not in only_now


def test_regional_and_national_scope_follow_the_country() -> None:
    col = _ids(_case())
    assert "iachr-precautionary-measures" in col and "national-col-unp" in col
    assert "achpr-srhrd" not in col
    ken = _ids(_case(defender__location__country="KEN"))
    assert "achpr-srhrd" in ken and "iachr-precautionary-measures" not in ken
    assert not any(i.startswith("national-") for i in ken)
    # an EU member state: no EU embassies, but the European system
    pol = _ids(_case(defender__location__country="POL"))
    assert "eu-embassies" not in pol and "coe-commissioner" in pol


def test_relocation_needs_high_risk() -> None:
    assert "relocation-international" in _ids(_case())
    calm = _case(incidents=[], factors=[])
    assert assess(calm, ON).risk is RiskLevel.low
    ids = _ids(calm)
    assert "relocation-international" not in ids and "community-protection" in ids


def test_cautions_follow_the_case() -> None:
    def cautions(case: Case, mid: str) -> str:
        opts = match(case, CAT, assess(case, ON), ON).options
        return " ".join(next(o for o in opts if o.mechanism.id == mid).cautions)

    assert "rural area" in cautions(_case(), "eu-embassies")
    assert "rural area" not in cautions(_case(defender__location__area="capital"), "eu-embassies")
    assert "has dependants" in cautions(_case(), "visibility-campaign")
    assert "has dependants" not in cautions(_case(defender__dependants=False),
                                            "visibility-campaign")
    assert "may expose family and associates" in cautions(_case(defender__dependants=False),
                                                          "visibility-campaign")


def test_incidents_after_the_assessment_date_are_left_out() -> None:
    a = assess(_case(), dt.date(2026, 1, 1))
    assert a.threat == "medium" and len(a.left_out) == 2  # only the 2025 detention is known


def test_capacities_lower_risk_but_not_below_medium_under_present_threat() -> None:
    strong = [{"category": c, "kind": "capacity", "level": "high", "note": "n"}
              for c in ("networks", "legal-support", "security-plan")]
    weak_vul = [{"category": "exposure", "kind": "vulnerability", "level": "low", "note": "n"}]
    case = _case(factors=strong + weak_vul, defender__location__area="capital",
                 defender__dependants=False, incidents__0__status="past",
                 incidents__0__kind="harassment")
    a = assess(case, ON)
    assert a.clear_present_threat and a.risk is RiskLevel.medium
    assert any("lowered" in r for r in a.reasoning)


def test_catalogue_covers_the_systems_and_every_entry_is_sourced_and_dated() -> None:
    systems = {m.system for m in CAT.mechanism}
    assert {"un", "inter-american", "african", "european", "national", "informal",
            "diplomatic", "ngo"} <= systems
    assert len([m for m in CAT.mechanism if m.system == "national"]) >= 4
    for m in CAT.mechanism:
        assert m.source and m.grounding and m.last_checked and m.checked_how
        assert m.limits and m.needs


def test_an_edited_catalogue_is_validated(tmp_path: Path) -> None:
    from spirallab.act.protect.catalogue import builtin_catalogue_text

    edited = tmp_path / "ours.toml"
    edited.write_text(builtin_catalogue_text().replace('speed = "hours-days"', 'speed = "soon"',
                                                       1), "utf-8")
    with pytest.raises(InputError) as err:
        load_catalogue(edited)
    assert "ours.toml" in str(err.value) and ".speed" in str(err.value)
    old = tmp_path / "old.toml"
    old.write_text(builtin_catalogue_text(), "utf-8")
    assert not any(m.stale(ON) for m in load_catalogue(old).mechanism)
    assert all(m.stale(ON + dt.timedelta(days=800)) for m in load_catalogue(old).mechanism)


@pytest.mark.realdata
def test_country_phase_reads_nothing_after_the_assessment_date(shared_data: Path) -> None:
    from spirallab.data import DataSources, load_panel

    panel = load_panel(DataSources.from_dir(shared_data))
    country = str(panel["country_id"].iloc[len(panel) // 2])  # any country on the panel
    first, last = int(panel["year"].min()), int(panel["year"].max())
    mid = (first + last) // 2
    note = country_phase(shared_data, country, dt.date(mid, 6, 1))
    assert note.year <= mid
    assert country_phase(shared_data, "XXX", dt.date(mid, 6, 1)).phase is None


def test_regions_without_a_regional_system_say_so() -> None:
    def notes(case: Case) -> str:
        return " ".join(match(case, CAT, assess(case, ON), ON).notes)

    assert "no regional mechanism" in notes(_case(defender__location__country="IDN"))
    assert "no regional mechanism" not in notes(_case())
    ids = _ids(_case(defender__location__country="IDN"))
    assert "un-srhrd-urgent-appeal" in ids and not any(i.startswith("iachr") for i in ids)


def test_drafts_need_consent_and_a_template() -> None:
    from spirallab.act.protect.drafts import draft
    from spirallab.act.protect.records import record_consent

    case = _case()
    a = assess(case, ON)
    with pytest.raises(InputError, match="no consent"):
        draft(case, CAT.get("un-srhrd-allegation-letter"), a, ON)
    record_consent(case, "un-wgad", ON, "the defender", "what the opinion may expose", False)
    with pytest.raises(InputError, match="no draft template"):
        draft(case, CAT.get("un-wgad"), a, ON)
    text = draft(case, CAT.get("un-srhrd-urgent-appeal"), a, ON)
    assert case.defender.alias in text and str(case.defender.real_name) not in text
    record_consent(case, "un-srhrd-urgent-appeal", ON, "the defender", "the name goes to the "
                   "government", True)
    assert str(case.defender.real_name) in draft(case, CAT.get("un-srhrd-urgent-appeal"), a, ON)


def test_import_errors_name_the_field_and_the_allowed_values(tmp_path: Path) -> None:
    from act_helpers import EXAMPLE

    from spirallab.act.protect.records import load_case_toml

    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text("utf-8").replace('level = "low"', 'level = "tiny"'),
                   "utf-8")
    with pytest.raises(InputError) as err:
        load_case_toml(bad)
    msg = str(err.value)
    assert msg.startswith(str(bad)) and "factors[6].level" in msg and "'medium'" in msg
    assert "tiny" not in msg
