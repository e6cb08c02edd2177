"""CBP encounters from the bundle: CBP's published totals, month ranges, administrations, stitching."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts import reference
from immfacts.errors import InvalidQueryError, PeriodError, UnknownMetricError
from immfacts.reference.store import get_store


@pytest.fixture(scope="module", autouse=True)
def empty_overlay(tmp_path_factory):
    """Every test here reads the bundle alone (an empty $IMMFACTS_HOME)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMMFACTS_HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.mark.parametrize(
    ("period", "total"),
    [("FY2020", 646_822), ("FY2021", 1_956_519), ("FY2022", 2_766_582), ("FY2023", 3_201_144),
     ("FY2024", 2_901_142), ("FY2025", 691_906)],
)
def test_nationwide_fiscal_year_totals_equal_cbp_published_figures(period, total):
    r = reference.compute("cbp.encounters", period=period)
    assert r.value == total
    assert r.period["complete"] is True
    assert r.source_kind == "reference" and r.synthetic is False


@pytest.mark.parametrize(("period", "total"), [("FY2021", 1_734_686), ("FY2024", 2_135_005)])
def test_southwest_land_border_totals_equal_cbp_published_figures(period, total):
    assert reference.compute("cbp.encounters", period=period, variant="southwest_land_border").value == total
    assert reference.compute("cbp.encounters", period=period, where={"region": "southwest"}).value == total


def test_border_patrol_southwest_fy2019_equals_cbp_published_figure():
    r = reference.compute("cbp.encounters", period="FY2019", variant="southwest_land_border_usbp")
    assert r.value == 851_508
    assert r.citation[0]["id"] == "cbp-sbo-fy19-fy22"


def test_month_range_feb_2021_to_apr_2024_is_the_9_5_million_figure():
    r = reference.compute("cbp.encounters", period="2021-02..2024-04")
    assert r.value == 9_538_113
    assert (r.period["start"], r.period["end"]) == ("2021-02-01", "2024-04-30")
    assert r.period["complete"] is True


def test_biden_period_counts_only_whole_months_and_says_which_were_left_out():
    r = reference.compute("cbp.encounters", period="biden")
    # 2021-01-20 .. 2025-01-19: January 2021 and January 2025 are partial months
    assert (r.period["start"], r.period["end"]) == ("2021-02-01", "2024-12-31")
    assert r.value == reference.compute("cbp.encounters", period="2021-02..2024-12").value == 10_849_904
    assert any(n.startswith("2021-01: 12 of 31 days") for n in r.period["notes"])
    assert any(n.startswith("2025-01: 19 of 31 days") for n in r.period["notes"])
    assert r.period["complete"] is False
    assert r.period["requested"] == {"start": "2021-01-20", "end": "2025-01-19", "text": "biden"}


def test_region_nationwide_means_every_region_and_regions_add_up_to_it():
    total = reference.compute("cbp.encounters", period="FY2024", where={"region": "nationwide"})
    split = reference.compute("cbp.encounters", period="FY2024", by="region")
    assert total.value == 2_901_142
    assert sum(r["value"] for r in split.rows) == total.value
    assert {r["region"] for r in split.rows} == {"southwest_land_border", "northern_land_border", "other"}


def test_fiscal_years_before_monthly_nationwide_data_come_from_cbp_fiscal_year_table():
    r = reference.compute("cbp.encounters", period="FY2018")
    assert r.value == 683_178  # CBP's printed total (its OFO + USBP add up to 686,023)
    assert r.citation[0]["id"] == "cbp-enforcement-statistics-fy2024"
    assert any("686,023" in n for n in r.notes)
    parts = reference.compute("cbp.encounters", period="FY2018", by="component")
    assert {x["component"]: x["value"] for x in parts.rows} == {"OFO": 281_881, "USBP": 404_142}


def test_border_patrol_series_is_stitched_from_sector_file_and_component_file():
    r = reference.compute("cbp.encounters", period="FY2015..FY2024", variant="southwest_land_border_usbp", by="fy")
    by_year = {x["fiscal_year"]: x["value"] for x in r.rows}
    assert by_year[2015] == 331_333 and by_year[2019] == 851_508 and by_year[2024] == 1_530_523
    assert {c["id"] for c in r.citation} == {"cbp-usbp-monthly-fy2000-fy2020", "cbp-sbo-fy19-fy22", "cbp-sbo-2024-12"}
    assert "usbp_sectors" in r.sql and "sbo" in r.sql


def test_months_without_data_in_scope_are_named_and_not_counted():
    r = reference.compute("cbp.encounters", period="FY2026")
    assert r.value == 60_926  # October–November 2025 only
    assert r.period["complete"] is False
    assert any(n.startswith("no data for 2025-12..2026-09") for n in r.notes)


def test_period_outside_the_data_is_a_period_error_naming_the_coverage():
    with pytest.raises(PeriodError) as e:
        reference.compute("cbp.encounters", period="FY2010", variant="southwest_land_border")
    assert "2018-10..2025-11" in e.value.hint


def test_a_single_day_is_not_a_period_for_a_flow():
    with pytest.raises(PeriodError):
        reference.compute("cbp.encounters", period="2024-04-30")


def test_a_query_no_cbp_table_can_answer_says_which_tables_exist():
    with pytest.raises(InvalidQueryError) as e:
        reference.compute("cbp.encounters", period="FY2024", by="sector")
    assert "only component=USBP" in e.value.hint


def test_filter_values_are_read_in_everyday_spellings():
    a = reference.compute("cbp.encounters", period="FY2024", where="region=swb;demographic=unaccompanied children")
    b = reference.compute("cbp.encounters", period="FY2024", where={"region": "southwest_land_border", "demographic": "UAC"})
    assert a.value == b.value > 0
    china = reference.compute("cbp.encounters", period="FY2024", where=["citizenship=china"])
    assert china.filters["citizenship"] == "CHINA, PEOPLES REPUBLIC OF"


def test_unknown_filter_value_lists_the_choices():
    with pytest.raises(InvalidQueryError) as e:
        reference.compute("cbp.encounters", where={"region": "texas"})
    assert "southwest_land_border" in e.value.hint


@pytest.mark.parametrize("region", ["northern", "nationwide"])
def test_filter_contradicting_the_variant_is_refused(region):
    with pytest.raises(InvalidQueryError):
        reference.compute("cbp.encounters", variant="southwest_land_border", where={"region": region})


def test_unknown_metric_suggests_the_nearest_ids():
    with pytest.raises(UnknownMetricError) as e:
        reference.compute("cbp.encounter")
    assert "cbp.encounters" in e.value.hint


def test_variant_all_gives_every_scope_side_by_side():
    r = reference.compute("cbp.encounters", period="FY2021", variant="all")
    values = {v["variant"]: v["value"] for v in r.variants}
    assert values["nationwide"] == r.value == 1_956_519
    assert values["southwest_land_border"] == 1_734_686
    assert values["usbp"] == 1_662_167
    assert values["southwest_land_border_usbp"] < values["southwest_land_border"] < values["nationwide"]


def test_as_of_reads_only_releases_published_by_then():
    then = reference.compute("cbp.encounters", period="FY2023", edition="as-of", as_of="2024-06-01")
    assert [e["id"] for e in then.release["editions"]] == ["cbp-nationwide-2023-11"]
    with pytest.raises(PeriodError):
        reference.compute("cbp.encounters", period="FY2024", as_of="2024-06-01")


def test_no_period_answers_the_latest_complete_fiscal_year():
    r = reference.compute("cbp.encounters")
    assert r.period["text"] == "FY2025" and r.value == 691_906


def test_result_sql_reproduces_the_value():
    r = reference.compute("cbp.encounters", period="2021-02..2024-04", variant="southwest_land_border")
    assert get_store().query(r.sql)[0]["value"] == r.value
    assert reference.explain("cbp.encounters", period="2021-02..2024-04", variant="southwest_land_border") == r.sql


MONTHS = [dt.date(2019 + (m + 9) // 12, (m + 9) % 12 + 1, 1) for m in range(74)]  # 2019-10 .. 2025-11


def _label(d: dt.date) -> str:
    return f"{d.year}-{d.month:02d}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 72), st.integers(1, 73), st.integers(0, 73))
def test_month_ranges_are_additive_and_equal_their_monthly_rows(a, b, cut):
    lo, hi = sorted((a, min(b, 73)))
    cut = min(max(cut, lo), hi)
    whole = reference.compute("cbp.encounters", period=f"{_label(MONTHS[lo])}..{_label(MONTHS[hi])}", by="month")
    assert sum(r["value"] for r in whole.rows) == whole.value
    assert len(whole.rows) == hi - lo + 1
    if lo < cut <= hi:
        left = reference.compute("cbp.encounters", period=f"{_label(MONTHS[lo])}..{_label(MONTHS[cut - 1])}")
        right = reference.compute("cbp.encounters", period=f"{_label(MONTHS[cut])}..{_label(MONTHS[hi])}")
        assert left.value + right.value == whole.value
