"""Phase coder rules 2.0.0: concessions need evidence, missing evidence never passes,
prescriptive status needs the indicators together, probabilities p0..p5, the default."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spirallab.observe.casefiles import CaseEvent, CaseFile, EventType
from spirallab.observe.coder import RULES_V1, code_phases
from spirallab.observe.coder2 import (
    RULE_BY_ID_V2,
    RULES_V2,
    RULES_VERSION_V2,
    PhaseRulesV2,
    rules_for,
)

TREATIES = ("iccpr", "iccpr_op1", "cat", "opcat")
V2 = PhaseRulesV2()


def country(cid: str, years: Iterable[int], *, pts: Any = None, physint: Any = None,
            theta: Any = None, theta_sd: float = 0.2,
            ratified: Mapping[str, int] | None = None, **extra: Any) -> pd.DataFrame:
    """A synthetic panel for one country with the data layer's column names."""
    ys = list(years)

    def col(v: Any) -> list[Any]:
        return v if isinstance(v, list) else [v] * len(ys)

    df = pd.DataFrame({"country_id": cid, "name": f"Country {cid}", "year": ys})
    df["pts"] = pd.array(col(pts if pts is not None else np.nan), dtype="Float64")
    df["ciri_physint"] = pd.array(col(physint), dtype="Int64")
    df["fariss_theta"] = pd.array(col(theta if theta is not None else np.nan), dtype="Float64")
    df["fariss_sd"] = theta_sd if theta is not None else np.nan
    for k, v in extra.items():
        df[k] = col(v)
    for t in TREATIES:
        y = (ratified or {}).get(t)
        df[f"ratified_{t}"] = [y is not None and yr >= y for yr in ys]
    return df


def casefile(cid: str, events: list[tuple[int, str]], start: int = 1970) -> CaseFile:
    return CaseFile(country_id=cid, name=f"Country {cid}", cow=999, repression_start=start,
                    summary="synthetic",
                    events=[CaseEvent(year=y, type=EventType(t), description=f"{t} {y}",
                                      source="test") for y, t in events])


def at(coded: pd.DataFrame, cid: str, year: int) -> pd.Series:
    row = coded[(coded["country_id"] == cid) & (coded["year"] == year)]
    assert len(row) == 1
    return row.iloc[0]


PROBS = [f"p{k}" for k in range(6)]


def test_default_is_2_0_0_and_keeps_the_columns() -> None:
    coded = code_phases(country("AAA", range(1980, 1985), pts=4.5), casefiles={})
    for c in ("country_id", "name", "year", "phase", "phase_label", "phase_set", "phase_lo",
              "phase_hi", "confidence", "rule", "evidence", "practice", "commitment_k",
              "stance", "rules_version", "decide", *PROBS):
        assert c in coded.columns, c
    assert (coded["rules_version"] == RULES_VERSION_V2).all()
    assert str(coded["phase"].dtype) == "Int64"
    assert rules_for("1.0.0") == RULES_V1 and rules_for("2.0.0") == V2
    with pytest.raises(ValueError, match=r"1\.0\.0, 2\.0\.0"):
        rules_for("3.0")


def test_every_v2_rule_documented_and_grounded() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "phase-coding.md").read_text()
    assert RULES_VERSION_V2 in doc
    for rule in RULES_V2:
        assert f"`{rule.id}`" in doc, rule.id
        assert rule.grounding
        if len(rule.phases) > 1:
            assert rule.decide, f"{rule.id}: an open set says what evidence would decide it"
    assert len(RULE_BY_ID_V2) == len(RULES_V2)


def test_probabilities_sum_to_one_and_spread_for_sets() -> None:
    p = pd.concat([
        country("AAA", range(1980, 1984), pts=4.5, theta=-2.0),        # 1|2
        country("BBB", range(1980, 1984), pts=1.0, physint=8, theta=1.5,
                polity2=10.0, ratified={"iccpr": 1970, "cat": 1970, "iccpr_op1": 1970},
                cirights_kill=2, cirights_disap=2, cirights_polpris=2, cirights_tort=2),
    ])
    p = pd.concat([country("BBB", range(1960, 1980), theta=1.5, polity2=10.0,
                           ratified={"iccpr": 1970, "cat": 1970, "iccpr_op1": 1970}), p])
    coded = code_phases(p, casefiles={})
    probs = coded[PROBS].to_numpy(dtype=float)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    undecided, decided = at(coded, "AAA", 1982), at(coded, "BBB", 1982)
    assert undecided["phase_set"] == "1|2" and decided["phase_set"] == "5"
    # an open set spreads its mass: no phase above 0.5, both members close to each other
    assert max(undecided[PROBS]) <= 0.5
    assert abs(undecided["p1"] - undecided["p2"]) < 0.05
    assert decided["p5"] > 0.7
    assert undecided["confidence"] == pytest.approx(undecided["p1"] + undecided["p2"], abs=0.01)


def test_borderline_practice_spreads_over_phases() -> None:
    # theta just at the repressive/mixed cut: the class is uncertain, so are the phases
    clear = code_phases(country("AAA", range(1990, 1993), theta=-2.5, theta_sd=0.1), casefiles={})
    edge = code_phases(country("AAA", range(1990, 1993), theta=-0.55, theta_sd=0.3), casefiles={})
    ent = [-(r[PROBS].astype(float).clip(1e-9) * np.log(r[PROBS].astype(float).clip(1e-9))).sum()
           for r in (at(clear, "AAA", 1991), at(edge, "AAA", 1991))]
    assert ent[1] > ent[0] + 0.2


def test_ratification_under_repression_is_not_a_concession() -> None:
    p = country("AAA", range(1985, 1995), pts=4.0, physint=2, theta=-1.5,
                ratified={"iccpr": 1988, "cat": 1989})
    v2 = code_phases(p, casefiles={})
    v1 = code_phases(p, casefiles={}, rules=RULES_V1)
    # 1.0.0 read the ratification as tactical concessions; 2.0.0 keeps repression or denial
    assert at(v1, "AAA", 1990)["phase_set"] == "3"
    assert at(v2, "AAA", 1990)["phase_set"] == "1|2"
    assert "concession" in at(v2, "AAA", 1990)["decide"]


def test_improving_practice_is_a_concession_and_switching_it_off_removes_it() -> None:
    theta = [-1.2, -1.2, -1.2, -1.2, -0.6, -0.6, -0.6]
    p = country("AAA", range(1990, 1997), pts=3.0, theta=theta, theta_sd=0.1)
    on = code_phases(p, casefiles={})
    assert at(on, "AAA", 1993)["phase_set"] == "1|2"
    assert at(on, "AAA", 1994)["rule"] == "p3_improving"
    assert at(on, "AAA", 1994)["phase_set"] == "3"
    off = code_phases(p, casefiles={}, rules=V2.without("p3_improving"))
    assert at(off, "AAA", 1994)["phase_set"] == "1|2"
    # under severe practice an improvement cannot tell a concession from less killing
    sev = country("BBB", range(1990, 1997), pts=5.0, theta=[t - 1.5 for t in theta],
                  theta_sd=0.1)
    assert at(code_phases(sev, casefiles={}), "BBB", 1994)["phase_set"] == "2|3"
    with pytest.raises(ValueError):
        V2.without("no_such_rule")


def test_missing_components_never_count_as_no_frequent_abuse() -> None:
    common = {"polity2": 10.0, "ratified": {"iccpr": 1950, "cat": 1950, "iccpr_op1": 1950}}
    base = country("AAA", range(1960, 1990), pts=1.0, theta=1.5, **common)
    measured = base.assign(cirights_kill=2, cirights_disap=2, cirights_polpris=2, cirights_tort=2)
    frequent = measured.assign(cirights_tort=0)
    assert at(code_phases(measured, casefiles={}), "AAA", 1985)["phase_set"] == "5"
    assert at(code_phases(base, casefiles={}), "AAA", 1985)["phase_set"] == "4|5"
    assert at(code_phases(frequent, casefiles={}), "AAA", 1985)["phase_set"] == "4"


def test_prescriptive_status_needs_the_indicators_together() -> None:
    # treaties alone (ICCPR, CAT, OP1) with good practice and no democracy: not phase 4 or 5
    p = country("AAA", range(1990, 2000), pts=1.0, theta=1.2, physint=8,
                ratified={"iccpr": 1980, "cat": 1980, "iccpr_op1": 1980, "opcat": 1980})
    row = at(code_phases(p, casefiles={}), "AAA", 1995)
    assert row["phase_set"] == "0" and row["phase_label"] == "not in a repressive situation"
    # the same with norms in law, a complaint body and a sustained acceptance (case file)
    cf = casefile("AAA", [(1985, "law"), (1986, "commission_created"),
                          (1987, "acceptance_statement")], start=1980)
    row = at(code_phases(p, casefiles={"AAA": cf}), "AAA", 1995)
    assert row["phase_lo"] >= 4 and row["commitment_k"] == 4


def test_single_acceptance_statement_is_not_yet_discourse() -> None:
    p = country("AAA", range(1985, 1992), pts=3.0, theta=-0.8, ratified={"iccpr": 1980})
    cf = casefile("AAA", [(1985, "law"), (1988, "acceptance_statement")], start=1980)
    coded = code_phases(p, casefiles={"AAA": cf})
    assert at(coded, "AAA", 1988)["commitment_k"] == 2  # ratified, law
    assert at(coded, "AAA", 1989)["commitment_k"] == 3  # + discourse, a year on
    assert at(coded, "AAA", 1989)["phase_set"] == "4"


def test_denial_and_backlash_block_prescriptive_status_until_a_concession() -> None:
    p = country("AAA", range(1985, 1996), pts=3.0, theta=-0.8,
                ratified={"iccpr": 1980, "cat": 1980, "iccpr_op1": 1980})
    cf = casefile("AAA", [(1980, "law"), (1986, "denial_statement"), (1990, "prisoner_release")],
                  start=1980)
    coded = code_phases(p, casefiles={"AAA": cf})
    assert at(coded, "AAA", 1988)["phase_set"] == "2"
    assert at(coded, "AAA", 1991)["phase_lo"] >= 4


def test_years_before_a_case_files_spiral_are_not_repressive() -> None:
    p = country("AAA", range(1960, 1980), pts=3.0, theta=-0.8)
    cf = casefile("AAA", [(1973, "crackdown")], start=1973)
    coded = code_phases(p, casefiles={"AAA": cf})
    assert at(coded, "AAA", 1970)["phase_set"] == "0"
    assert at(coded, "AAA", 1970)["p0"] > 0.5
    assert at(coded, "AAA", 1975)["phase_set"] == "1"


def test_phases_follow_evidence_not_dates() -> None:
    theta = [-1.5] * 5 + [-0.7] * 5 + [0.8] * 10
    a = country("AAA", range(1970, 1990), pts=None, theta=theta, theta_sd=0.1)
    b = country("AAA", range(1990, 2010), pts=None, theta=theta, theta_sd=0.1)
    sa = list(code_phases(a, casefiles={})["phase_set"])
    sb = list(code_phases(b, casefiles={})["phase_set"])
    assert sa == sb


def test_threshold_change_changes_the_result() -> None:
    p = country("AAA", range(1990, 1992), pts=3.6)
    strict = replace(V2, theta_severe_max=-0.9)
    assert at(code_phases(p, casefiles={}), "AAA", 1991)["practice"] == "repressive"
    assert at(code_phases(p, casefiles={}, rules=strict), "AAA", 1991)["practice"] == "severe"


# ---------------------------------------------------------------------------------------------
# real data: the closing figures of issue 14 as assertions


@pytest.mark.realdata
def test_worst_practice_is_rarely_tactical_concessions(coded_v2: pd.DataFrame,
                                                       coded_v1: pd.DataFrame) -> None:
    from spirallab.observe.audit import longest_spells, severe_share_coded

    assert severe_share_coded(coded_v1) > 0.3  # the 1.0.0 misreading, for contrast
    assert severe_share_coded(coded_v2) < 0.1
    assert longest_spells(coded_v2)["years"].max() < longest_spells(coded_v1)["years"].max()
    probs = coded_v2.loc[coded_v2["rule"] != "no_data", PROBS].to_numpy(dtype=float)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    assert coded_v2.loc[coded_v2["rule"] == "no_data", PROBS].isna().all().all()


def test_a_source_present_in_one_year_moves_no_phase_set() -> None:
    """CIRIGHTS NGO_investigate appears in few years of the published file: present in one
    year only, it shifts that year's probabilities towards 3, never the phase sets."""
    base = pd.concat([
        country("AAA", range(1990, 1996), pts=4.0, theta=-1.2),
        country("BBB", range(1990, 1996), pts=1.0, theta=1.2, polity2=9.0,
                ratified={"iccpr": 1970, "cat": 1970}),
    ])
    with_ngo = base.assign(cirights_ngo_investigate=np.where(base["year"] == 1993, 2.0, np.nan))
    a = code_phases(base, casefiles={})
    b = code_phases(with_ngo, casefiles={})
    assert list(a["phase_set"]) == list(b["phase_set"])
    assert at(b, "AAA", 1993)["p3"] > at(a, "AAA", 1993)["p3"] + 0.1
    assert at(b, "AAA", 1994)["p3"] == at(a, "AAA", 1994)["p3"]
