"""Case files: the eleven shipped files carry the issue's facts; malformed files fail precisely."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from spirallab.errors import InputError
from spirallab.observe.casefiles import (
    CaseEvent,
    CaseFile,
    EventType,
    builtin_casefiles,
    load_casefile,
)

E = EventType

ELEVEN = {
    "CHL": ("Chile", 155, 1973),
    "GTM": ("Guatemala", 90, 1966),
    "KEN": ("Kenya", 501, 1982),
    "UGA": ("Uganda", 500, 1971),
    "ZAF": ("South Africa", 560, 1948),
    "TUN": ("Tunisia", 616, 1987),
    "MAR": ("Morocco", 600, 1965),
    "IDN": ("Indonesia", 850, 1965),
    "PHL": ("Philippines", 840, 1972),
    "POL": ("Poland", 290, 1976),
    "CSK": ("Czechoslovakia", 315, 1969),
}

# The facts the issue lists (issue 3, "Case files"), as (country, year, accepted types).
# A fact is present if some event of one of the types starts in that year, or (for spells) covers
# it when ``spell`` is given as (start, end).
ISSUE_FACTS: list[tuple[str, int, tuple[EventType, ...]]] = [
    # Chile
    ("CHL", 1973, (E.coup,)),
    ("CHL", 1973, (E.regime_change,)),
    ("CHL", 1977, (E.other,)),  # DINA dissolved
    ("CHL", 1978, (E.amnesty,)),
    ("CHL", 1980, (E.constitution,)),
    ("CHL", 1983, (E.protest,)),
    ("CHL", 1988, (E.election,)),  # plebiscite
    ("CHL", 1990, (E.transition, E.regime_change)),
    ("CHL", 1991, (E.truth_commission,)),  # Rettig report
    ("CHL", 1998, (E.international_mechanism,)),  # Pinochet arrested in London
    # Guatemala
    ("GTM", 1960, (E.insurgency_start,)),
    ("GTM", 1977, (E.aid_cut,)),
    ("GTM", 1978, (E.crackdown,)),
    ("GTM", 1985, (E.constitution,)),
    ("GTM", 1985, (E.complaint_mechanism,)),
    ("GTM", 1986, (E.transition,)),
    ("GTM", 1993, (E.coup,)),
    ("GTM", 1993, (E.transition,)),
    ("GTM", 1994, (E.international_mechanism,)),
    ("GTM", 1996, (E.peace_accord,)),
    ("GTM", 1996, (E.insurgency_end,)),
    ("GTM", 1999, (E.truth_commission,)),
    # Kenya
    ("KEN", 1982, (E.other,)),  # one-party state by law
    ("KEN", 1982, (E.coup,)),
    ("KEN", 1986, (E.crackdown,)),
    ("KEN", 1990, (E.protest,)),
    ("KEN", 1991, (E.aid_cut,)),
    ("KEN", 1991, (E.law,)),  # multiparty politics restored
    ("KEN", 1992, (E.election,)),
    ("KEN", 1997, (E.election,)),
    ("KEN", 2002, (E.transition,)),
    # Uganda
    ("UGA", 1971, (E.coup,)),
    ("UGA", 1979, (E.regime_change,)),
    ("UGA", 1980, (E.regime_change, E.election)),
    ("UGA", 1986, (E.regime_change,)),
    ("UGA", 1986, (E.truth_commission, E.commission_created)),
    ("UGA", 1987, (E.insurgency_start,)),
    ("UGA", 1995, (E.constitution,)),
    ("UGA", 1995, (E.commission_created,)),
    # South Africa
    ("ZAF", 1948, (E.regime_change, E.election)),
    ("ZAF", 1960, (E.massacre,)),
    ("ZAF", 1976, (E.protest,)),
    ("ZAF", 1977, (E.sanctions,)),
    ("ZAF", 1985, (E.state_of_emergency,)),
    ("ZAF", 1986, (E.sanctions,)),
    ("ZAF", 1990, (E.prisoner_release,)),
    ("ZAF", 1994, (E.election,)),
    ("ZAF", 1995, (E.truth_commission,)),
    ("ZAF", 1996, (E.constitution,)),
    # Tunisia
    ("TUN", 1987, (E.coup, E.regime_change)),
    ("TUN", 1988, (E.acceptance_statement,)),  # National Pact
    ("TUN", 1991, (E.commission_created,)),
    ("TUN", 1990, (E.crackdown,)),
    ("TUN", 2011, (E.regime_change,)),
    # Morocco
    ("MAR", 1975, (E.insurgency_start,)),
    ("MAR", 1991, (E.insurgency_end,)),
    ("MAR", 1990, (E.commission_created,)),
    ("MAR", 1991, (E.prisoner_release,)),
    ("MAR", 1992, (E.constitution,)),
    ("MAR", 1993, (E.commission_created,)),
    ("MAR", 1998, (E.transition,)),
    ("MAR", 1999, (E.transition,)),
    ("MAR", 2004, (E.truth_commission,)),
    # Indonesia
    ("IDN", 1965, (E.massacre,)),
    ("IDN", 1975, (E.other,)),  # invasion of East Timor
    ("IDN", 1991, (E.massacre,)),
    ("IDN", 1992, (E.aid_cut,)),
    ("IDN", 1993, (E.commission_created,)),
    ("IDN", 1998, (E.transition,)),
    ("IDN", 1999, (E.election,)),
    ("IDN", 1999, (E.massacre,)),
    # Philippines
    ("PHL", 1972, (E.martial_law,)),
    ("PHL", 1981, (E.other,)),  # martial law formally lifted
    ("PHL", 1983, (E.other,)),  # Benigno Aquino assassinated
    ("PHL", 1986, (E.regime_change,)),
    ("PHL", 1986, (E.protest,)),
    ("PHL", 1987, (E.constitution,)),
    ("PHL", 1987, (E.commission_created,)),
    # Poland
    ("POL", 1975, (E.international_mechanism,)),
    ("POL", 1976, (E.other,)),  # KOR
    ("POL", 1980, (E.protest,)),
    ("POL", 1981, (E.martial_law,)),
    ("POL", 1987, (E.complaint_mechanism,)),
    ("POL", 1988, (E.complaint_mechanism,)),
    ("POL", 1989, (E.transition,)),
    ("POL", 1989, (E.election,)),
    # Czechoslovakia
    ("CSK", 1968, (E.other,)),  # invasion
    ("CSK", 1977, (E.protest,)),  # Charter 77
    ("CSK", 1989, (E.protest,)),
    ("CSK", 1989, (E.regime_change,)),
    ("CSK", 1990, (E.election,)),
    ("CSK", 1991, (E.constitution,)),
    ("CSK", 1993, (E.dissolution,)),
]


@pytest.fixture(scope="module")
def cases() -> dict[str, CaseFile]:
    return builtin_casefiles()


def test_all_eleven_ship_and_load(cases: dict[str, CaseFile]) -> None:
    assert set(cases) == set(ELEVEN)
    for cid, (name, cow, start) in ELEVEN.items():
        case = cases[cid]
        assert (case.country_id, case.name, case.cow, case.repression_start) == (
            cid,
            name,
            cow,
            start,
        )
        assert 2 <= case.summary.count(".") <= 8, f"{cid}: summary should be 2-4 sentences"
        assert len(case.events) >= 15, f"{cid} has only {len(case.events)} events"


@pytest.mark.parametrize(("cid", "year", "types"), ISSUE_FACTS)
def test_issue_facts_present(
    cases: dict[str, CaseFile], cid: str, year: int, types: tuple[EventType, ...]
) -> None:
    hits = [e for e in cases[cid].events_of(*types) if e.year == year]
    assert hits, f"{cid} {year}: no event of type {[t.value for t in types]}"


def test_issue_spells(cases: dict[str, CaseFile]) -> None:
    [conflict] = [e for e in cases["GTM"].events_of(E.insurgency_start) if e.year == 1960]
    assert conflict.end_year == 1996
    [violence] = [e for e in cases["GTM"].events_of(E.crackdown) if e.year == 1978]
    assert violence.end_year == 1983
    [protests] = cases["CHL"].events_of(E.protest)
    assert (protests.year, protests.end_year) == (1983, 1986)
    [pl_martial] = cases["POL"].events_of(E.martial_law)
    assert (pl_martial.year, pl_martial.month, pl_martial.end_year) == (1981, 12, 1983)
    [ph_martial] = cases["PHL"].events_of(E.martial_law)
    assert (ph_martial.year, ph_martial.end_year) == (1972, 1981)
    emergencies = [e for e in cases["ZAF"].events_of(E.state_of_emergency) if e.year == 1985]
    assert emergencies[0].end_year == 1990
    [kenya_aid] = [e for e in cases["KEN"].events_of(E.aid_cut) if e.year == 1991]
    assert kenya_aid.month == 11
    [sahara] = cases["MAR"].events_of(E.insurgency_start)
    assert (sahara.year, sahara.end_year) == (1975, 1991)


def test_prescriptive_status_evidence_present(cases: dict[str, CaseFile]) -> None:
    """Every case has at least one commitment-side event the data sets lack (001, Phase 4)."""
    institutional = (E.constitution, E.law, E.complaint_mechanism, E.commission_created)
    for cid, case in cases.items():
        assert case.events_of(*institutional), cid
    # Statements of denial are recorded where we could source them.
    for cid in ("CHL", "GTM", "KEN", "ZAF", "TUN", "MAR", "IDN", "CSK"):
        assert cases[cid].events_of(E.denial_statement), cid


def test_every_event_sourced_typed_and_sorted(cases: dict[str, CaseFile]) -> None:
    for cid, case in cases.items():
        years = [e.year for e in case.events]
        assert years == sorted(years), cid
        for e in case.events:
            assert isinstance(e.type, EventType)
            assert e.source.strip() and len(e.source) >= 10, (cid, e)
            assert e.description.strip(), (cid, e)
            assert e.end_year is None or e.end_year >= e.year
            assert e.month is None or 1 <= e.month <= 12


def test_no_un_core_treaty_ratifications_in_case_files(cases: dict[str, CaseFile]) -> None:
    """Ratification years come from the UN files; case files only carry regional treaties."""
    core = ("ICCPR", "Covenant", "Convention against Torture", "CAT", "OPCAT", "CEDAW", "CERD")
    for cid, case in cases.items():
        for e in case.events_of(E.ratification):
            assert not any(w in e.description for w in core), (cid, e.description)
            assert "regional" in e.description, (cid, e.description)


def test_shipped_files_written_in_year_order() -> None:
    """The TOML as written is in year order too, so a reader of the file sees the timeline."""
    folder = Path(__file__).resolve().parents[2] / "src" / "spirallab" / "casefiles"
    files = sorted(folder.glob("*.toml"))
    assert len(files) == 11
    for f in files:
        raw = tomllib.loads(f.read_text(encoding="utf-8"))
        years = [ev["year"] for ev in raw["events"]]
        assert years == sorted(years), f.name
        assert f.stem.upper() == raw["country_id"], f.name


def test_events_of_and_events_in(cases: dict[str, CaseFile]) -> None:
    chile = cases["CHL"]
    assert chile.events_of() == chile.events
    assert {e.type for e in chile.events_of(E.coup, "amnesty")} == {E.coup, E.amnesty}
    in_1975 = chile.events_in(1975)
    assert any(e.type is E.crackdown for e in in_1975)  # the 1973-1977 spell covers 1975
    assert all(e.covers(1975) for e in in_1975)


def test_models_are_frozen_and_strict() -> None:
    ev = CaseEvent(year=1990, type=E.law, description="d", source="s")
    with pytest.raises(Exception, match="frozen"):
        ev.year = 1991
    assert ev.last_year == 1990


def test_builtin_returns_fresh_dict() -> None:
    a = builtin_casefiles()
    a.pop("CHL")
    assert "CHL" in builtin_casefiles()


# --- malformed files --------------------------------------------------------------------------

HEADER = """\
country_id = "CHL"
name = "Chile"
cow = 155
repression_start = 1973
summary = "A test case."
"""

GOOD_EVENT = """
[[events]]
year = 1973
month = 9
type = "coup"
description = "Coup."
source = "Ropp & Sikkink 1999, ch. 6"
"""


def _write(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_casefile(path)
    return info.value


def test_minimal_valid_file(tmp_path: Path) -> None:
    later = GOOD_EVENT.replace("1973", "1990").replace('"coup"', '"transition"')
    case = load_casefile(_write(tmp_path, HEADER + later + GOOD_EVENT))
    assert [e.year for e in case.events] == [1973, 1990]  # sorted on load
    assert case.events[0].type is E.coup


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER + 'capital = "Santiago"\n' + GOOD_EVENT, "bad1.toml"))
    msg = str(err)
    assert "bad1.toml" in msg
    assert err.where == "capital"
    assert "unknown key" in msg
    assert "'Santiago'" in msg
    assert "country_id" in (err.expected or "") and "events" in (err.expected or "")


def test_unknown_event_key(tmp_path: Path) -> None:
    text = HEADER + GOOD_EVENT + GOOD_EVENT.replace("month = 9", "day = 11")
    err = _error(_write(tmp_path, text))
    assert err.where == "events[1].day"
    assert err.found == 11
    assert "end_year" in (err.expected or "") and "source" in (err.expected or "")


def test_wrong_type(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER + GOOD_EVENT.replace("year = 1973", 'year = "1973"')))
    assert err.where == "events[0].year"
    assert err.found == "1973"
    assert err.expected == "an integer"
    assert "wrong type" in str(err)

    err = _error(_write(tmp_path, HEADER.replace("cow = 155", "cow = 155.0") + GOOD_EVENT))
    assert err.where == "cow"
    assert err.expected == "an integer"

    err = _error(_write(tmp_path, HEADER.replace("cow = 155", "cow = true") + GOOD_EVENT))
    assert err.where == "cow"


def test_unknown_event_type(tmp_path: Path) -> None:
    text = HEADER + GOOD_EVENT + GOOD_EVENT + GOOD_EVENT + GOOD_EVENT.replace('"coup"', '"putsch"')
    err = _error(_write(tmp_path, text, "chile.toml"))
    msg = str(err)
    assert "chile.toml: events[3].type: unknown event type (found 'putsch')" in msg
    assert "regime_change" in msg and "dissolution" in msg


def test_end_year_before_year(tmp_path: Path) -> None:
    text = HEADER + GOOD_EVENT.replace("month = 9", "end_year = 1960")
    err = _error(_write(tmp_path, text))
    assert err.where == "events[0].end_year"
    assert err.found == 1960
    assert err.expected == "a year on or after 1973"
    assert "before" in err.problem


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("year = 1973", "year = 1850", "events[0].year"),
        ("year = 1973", "year = 2101", "events[0].year"),
    ],
)
def test_year_out_of_range(tmp_path: Path, old: str, new: str, where: str) -> None:
    err = _error(_write(tmp_path, HEADER + GOOD_EVENT.replace(old, new)))
    assert err.where == where
    assert err.expected == "a year from 1900 to 2100"


def test_repression_start_out_of_range(tmp_path: Path) -> None:
    text = HEADER.replace("repression_start = 1973", "repression_start = 73") + GOOD_EVENT
    err = _error(_write(tmp_path, text))
    assert err.where == "repression_start"
    assert err.found == 73


def test_bad_month_and_country_id(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER + GOOD_EVENT.replace("month = 9", "month = 13")))
    assert err.where == "events[0].month"
    assert err.expected == "a month number from 1 to 12"
    err = _error(_write(tmp_path, HEADER.replace('"CHL"', '"Chile"') + GOOD_EVENT))
    assert err.where == "country_id"
    assert "three-letter" in (err.expected or "")


def test_missing_key_and_empty_source(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER.replace("cow = 155\n", "") + GOOD_EVENT))
    assert err.where == "cow"
    assert "missing key" in str(err)
    assert err.found is None
    no_source = GOOD_EVENT.replace('"Ropp & Sikkink 1999, ch. 6"', '""')
    err = _error(_write(tmp_path, HEADER + no_source))
    assert err.where == "events[0].source"
    assert err.expected == "a non-empty string"


def test_no_events(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER))
    assert err.where == "events"
    err = _error(_write(tmp_path, HEADER + "events = []\n"))
    assert err.where == "events"
    assert "at least one" in (err.expected or "")


def test_several_problems_are_counted(tmp_path: Path) -> None:
    text = HEADER + GOOD_EVENT.replace('"coup"', '"putsch"').replace("month = 9", "month = 0")
    err = _error(_write(tmp_path, text))
    assert "and 1 more" in err.problem


def test_malformed_toml(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, HEADER + "\n[[events]]\nyear = 1973\ntype = coup\n", "m.toml"))
    msg = str(err)
    assert msg.startswith(str(tmp_path / "m.toml"))
    assert "malformed TOML" in msg
    assert err.where is not None and err.where.startswith("line 9")
    assert err.expected == "valid TOML"


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.toml"
    p.write_bytes(HEADER.replace("A test case.", "Caf\xe9").encode("latin-1") + b"\n")
    err = _error(p)
    assert "UTF-8" in str(err)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    err = _error(tmp_path / "nowhere.toml")
    assert "nowhere.toml" in str(err)
    assert "not found" in str(err)
    err = _error(tmp_path)
    assert "directory" in str(err)
