"""Harmonisation on the real data: ids, dissolved states, no silent drops, the panel contract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spirallab.data import DataSources, load_ratifications, unmatched_report
from spirallab.data.countries import registry
from spirallab.data.harmonise import SourceResult
from spirallab.data.panel import build_panel

CONTRACT = ["country_id", "name", "cow", "iso3", "year", "pts_a", "pts_h", "pts_s", "pts",
            "pts_n_sources", "fariss_theta", "fariss_sd", "ciri_tort", "ciri_kill", "ciri_disap",
            "ciri_polpris", "ciri_physint", "cirights_tort", "cirights_kill", "cirights_disap",
            "cirights_polpris", "cirights_physint", "cirights_assn", "cirights_ngo_investigate",
            "hathaway_torture", "polity2", "osv_gov_deaths", "osv_nonstate_deaths",
            "mass_killing", "mass_killing_onset"]


def test_panel_contract(real_panel: pd.DataFrame) -> None:
    assert list(real_panel.columns[: len(CONTRACT)]) == CONTRACT
    assert not real_panel.duplicated(["country_id", "year"]).any()
    assert real_panel.equals(real_panel.sort_values(["country_id", "year"]).reset_index(drop=True))
    assert str(real_panel["cow"].dtype) == "Int64" and str(real_panel["pts_a"].dtype) == "Int64"
    assert real_panel["year"].dtype == "int64"
    assert real_panel["ratified_cat"].dtype == bool
    assert {"ratified_iccpr", "ratified_iccpr_op1", "ratified_opcat"} <= set(real_panel.columns)


def test_czechoslovakia_and_czech_republic(real_panel: pd.DataFrame) -> None:
    csk = real_panel[(real_panel["country_id"] == "CSK") & (real_panel["year"] == 1980)]
    cze = real_panel[(real_panel["country_id"] == "CZE") & (real_panel["year"] == 2000)]
    assert len(csk) == 1 and len(cze) == 1
    assert csk["cow"].iloc[0] == 315 and pd.isna(csk["iso3"].iloc[0])
    assert cze["cow"].iloc[0] == 316 and cze["iso3"].iloc[0] == "CZE"
    assert csk["name"].iloc[0] == "Czechoslovakia"
    assert not real_panel[(real_panel["country_id"] == "CZE") & (real_panel["year"] < 1992)].size


@pytest.mark.parametrize(
    ("cow", "year", "expected"),
    [(315, 1980, "CSK"), (316, 1990, "CSK"), (316, 2000, "CZE"), (317, 2000, "SVK"),
     (345, 1985, "YUG"), (345, 1999, "SCG"), (345, 2008, "SRB"), (365, 1980, "SUN"),
     (365, 1995, "RUS"), (260, 1980, "DEU"), (265, 1980, "DDR"), (255, 2000, "DEU"),
     (678, 1980, "YEM"), (679, 1995, "YEM"), (680, 1980, "YMD"), (970, 2000, "NRU"),
     (946, 2000, "KIR"), (2, 1990, "USA"), (713, 1990, "TWN")],
)
def test_cow_rules(cow: int, year: int, expected: str) -> None:
    assert registry().from_cow(cow, year).country_id == expected


def test_gw_and_polity_rules() -> None:
    reg = registry()
    assert reg.from_gw(260, 1995).country_id == "DEU"
    assert reg.from_gw(345, 1995).country_id == "SCG"
    assert reg.from_gw(678, 1995).country_id == "YEM"
    assert reg.from_gw(970, 2000).country_id == "KIR"
    assert reg.from_polity("CZE", "Czechoslovakia", 1980).country_id == "CSK"
    assert reg.from_polity("CZR", "Czech Republic", 2000).country_id == "CZE"
    assert reg.from_polity("UAE", "UAE", 2000).country_id == "ARE"
    assert reg.from_polity("ARG", "Argentina", 2000).country_id == "ARG"
    assert reg.from_iso2("GB").country_id == "GBR"


def test_dissolved_states_on_panel(real_panel: pd.DataFrame) -> None:
    ids = set(real_panel["country_id"])
    assert {"CSK", "YUG", "SUN", "DDR", "YMD", "DEU", "RUS", "YEM", "SRB"} <= ids
    sun = real_panel[real_panel["country_id"] == "SUN"]["year"]
    rus = real_panel[(real_panel["country_id"] == "RUS") & real_panel["year"].between(1922, 1991)]
    assert sun.max() == 1991 and rus.empty


def test_no_silent_drops(harmonised: dict[str, SourceResult], real_panel: pd.DataFrame) -> None:
    for name, res in harmonised.items():
        assert res.rows == res.landed_rows + sum(res.empty.values()) + len(res.unmatched), name
    # every landed row is a panel value
    for name, col in [("pts", "pts_s"), ("fariss", "fariss_theta"), ("ciri", "ciri_tort"),
                      ("polity", "polity2"), ("mass_killing", "mass_killing")]:
        landed = harmonised[name].landed
        merged = landed[["country_id", "year"]].merge(real_panel[["country_id", "year", col]])
        assert len(merged) == len(landed), name


def test_unmatched_report_explains_everything(real_sources: DataSources) -> None:
    report = unmatched_report(real_sources)
    assert list(report.columns) == ["source", "file", "code", "name", "years", "count", "reason"]
    assert report["reason"].str.len().gt(0).all()
    assert not (report["source"] == "ratification").any()  # all UN members resolve


def test_pts_combination_and_coverage(real_panel: pd.DataFrame) -> None:
    scored = real_panel[real_panel["pts_n_sources"].notna()]
    per_year = scored.groupby("year").size()
    assert per_year.max() > 150
    row = scored.iloc[0]
    vals = [v for v in (row["pts_a"], row["pts_h"], row["pts_s"]) if not pd.isna(v)]
    assert row["pts"] == pytest.approx(sum(vals) / len(vals))


def test_ciri_physint_and_ucdp_zero(real_panel: pd.DataFrame) -> None:
    full = real_panel.dropna(subset=["ciri_tort", "ciri_kill", "ciri_disap", "ciri_polpris"])
    assert (full["ciri_physint"] == full[["ciri_tort", "ciri_kill", "ciri_disap",
                                          "ciri_polpris"]].sum(axis=1)).all()
    inside = real_panel[real_panel["year"].between(1989, 2012)]
    assert inside["osv_gov_deaths"].notna().all()
    assert real_panel[real_panel["year"] < 1989]["osv_gov_deaths"].isna().all()
    assert (inside["osv_gov_deaths"] > 0).any()


def test_ucdp_totals_preserved(harmonised: dict[str, SourceResult], shared_data: Path) -> None:
    from spirallab.data.loaders import load_ucdp

    raw = load_ucdp(shared_data / "ucdp" / "ucdp-onesided-221-2021.csv")
    landed = harmonised["ucdp"].landed
    total = landed["osv_gov_deaths"].sum() + landed["osv_nonstate_deaths"].sum()
    assert total == pytest.approx(raw["best"].sum())


def test_ratifications(real_sources: DataSources, real_panel: pd.DataFrame) -> None:
    rat = load_ratifications(real_sources)
    assert list(rat.columns) == ["country_id", "treaty", "year", "state_party", "note"]
    assert str(rat["year"].dtype) == "Int64" and rat["state_party"].dtype == bool
    csk = rat[(rat["country_id"] == "CSK") & (rat["treaty"] == "iccpr")]
    assert csk["year"].iloc[0] == 1975
    cze = rat[(rat["country_id"] == "CZE") & (rat["treaty"] == "iccpr")]
    assert cze["year"].iloc[0] == 1993 and "Czechoslovakia" in cze["note"].iloc[0]

    def flag(cid: str, year: int, treaty: str) -> bool:
        row = real_panel[(real_panel["country_id"] == cid) & (real_panel["year"] == year)]
        return bool(row[f"ratified_{treaty}"].iloc[0])

    assert flag("CSK", 1980, "iccpr") and not flag("CSK", 1970, "iccpr")
    assert flag("CSK", 1990, "cat") and not flag("CSK", 1985, "cat")
    assert flag("CZE", 2000, "iccpr")
    assert flag("SUN", 1980, "iccpr")  # inherited from the Russian Federation's row


def test_missing_sources_give_na_columns(shared_data: Path) -> None:
    src = DataSources(pts=shared_data / "pts" / "PTS-2022.csv")
    panel = build_panel(src)
    assert panel["fariss_theta"].isna().all() and panel["pts"].notna().any()
    assert list(panel.columns[: len(CONTRACT)]) == CONTRACT


def test_panel_covers_every_landed_country_year(harmonised: dict[str, SourceResult],
                                                real_panel: pd.DataFrame) -> None:
    keys = set(zip(real_panel["country_id"], real_panel["year"], strict=True))
    landed: set[tuple[str, int]] = set()
    for res in harmonised.values():
        landed |= set(zip(res.landed["country_id"], res.landed["year"], strict=True))
    assert keys == landed


def test_blank_lines_are_counted(tmp_path: Path) -> None:
    from spirallab.data.harmonise import harmonise_hathaway

    path = tmp_path / "Hathaway2002longData.csv"
    path.write_text('"country","ccode","year","torture"\n"Afghanistan",700,1985,5\n\n'
                    '"Algeria",615,1985,NA\n"Nowhere",999,1985,3\n')
    res = harmonise_hathaway(path)
    assert res.rows == 4
    assert res.empty == {"no value in any measured column": 1, "wholly empty line": 1}
    assert len(res.landed) == 1 and len(res.unmatched) == 1
    assert "999" in res.unmatched["reason"].iloc[0]
    assert res.rows == res.landed_rows + sum(res.empty.values()) + len(res.unmatched)
