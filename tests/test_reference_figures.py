"""Published figures: editions, flows, stocks, rates, and the secondary-figure series."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts import reference
from immfacts.errors import InvalidQueryError, PeriodError


@pytest.fixture(scope="module", autouse=True)
def empty_overlay(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMMFACTS_HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.mark.parametrize(
    ("as_of", "value", "edition"),
    [
        ("2021-06-01", 521_517, "eoir-adjstats-2021-04-19"),
        ("2026-05-01", 826_488, "eoir-adjstats-2026-04-22"),
        (None, 826_505, "eoir-adjstats-2026-07-24"),
    ],
)
def test_eoir_fy2016_pending_is_the_figure_of_the_edition_current_at_the_date(as_of, value, edition):
    r = reference.compute("eoir.published.pending", period="FY2016", edition="as-of" if as_of else "latest", as_of=as_of)
    assert r.value == value
    assert [e["id"] for e in r.release["editions"]] == [edition]
    assert r.citation[0]["id"] == edition and r.citation[0]["url"].startswith("https://")


def test_fy2019_pending_moves_across_three_editions():
    assert reference.compute("eoir.published.pending", period="FY2019", as_of="2020-06-01").value == 987_274
    assert reference.compute("eoir.published.pending", period="FY2019", as_of="2021-06-01").value == 1_087_201
    assert reference.compute("eoir.published.pending", period="FY2019").value == 1_391_361


def test_a_named_edition_is_read_alone_and_an_unknown_one_lists_the_editions():
    r = reference.compute("eoir.published.pending", period="FY2016", edition="eoir-adjstats-2021-04-19")
    assert r.value == 521_517
    with pytest.raises(InvalidQueryError) as e:
        reference.compute("eoir.published.pending", period="FY2016", edition="eoir-2030")
    assert "eoir-adjstats-2021-04-19" in e.value.hint


def test_as_of_before_any_edition_says_when_the_first_appeared():
    with pytest.raises(PeriodError) as e:
        reference.compute("eoir.published.pending", period="FY2016", as_of="2019-06-01")
    assert "2020-01-09" in e.value.hint


def test_as_of_edition_needs_a_date():
    with pytest.raises(InvalidQueryError):
        reference.compute("eoir.published.pending", edition="as-of")


def test_rounded_readings_keep_their_qualifier():
    r = reference.compute("eoir.published.pending", period="FY2024", as_of="2025-06-01")
    assert r.value == 3_600_000 and r.components["qualifier"] == "approx"


def test_stock_at_a_date_is_the_latest_figure_on_or_before_it_and_says_its_date():
    r = reference.compute("eoir.published.pending", period="2024-04-30")
    assert r.value == 2_811_648
    assert r.period["date"] == "2023-09-30" and r.period["complete"] is False
    assert any("dated 2023-09-30" in n for n in r.notes)


def test_flow_sums_whole_figures_and_names_the_partial_ones():
    r = reference.compute("eoir.published.receipts", period="biden")
    assert r.value == 707_525 + 1_206_103 + 1_783_909  # FY2022..FY2024
    assert any(n.startswith("FY2021 (244,262) lies only partly") for n in r.notes)
    assert r.period["complete"] is False


def test_gotaways_fy2021_to_fy2023_total():
    r = reference.compute("cbp.gotaways", period="FY2021..FY2023")
    assert r.value == 1_664_203 and r.components["figures"] == 3
    assert r.citation and all(c.get("publisher") for c in r.citation)
    assert "secondary" in r.notes[-1]


def test_gotaways_variants_show_the_house_report_as_more_than():
    r = reference.compute("cbp.gotaways", period="biden", variant="all")
    by = {v["variant"]: v for v in r.variants}
    assert by["house_judiciary"]["value"] == 1_700_000
    assert by["house_judiciary"]["components"]["qualifier"] == "more_than"
    assert by["cbo_estimate"]["value"] == 860_000
    assert by["fair"]["value"] is None and "no figure" in by["fair"]["error"]


def test_no_fy2024_gotaways_is_a_period_error_listing_the_figures():
    with pytest.raises(PeriodError) as e:
        reference.compute("cbp.gotaways", period="FY2024")
    assert "FY2023" in e.value.hint


def test_foreign_born_by_survey_with_margin_of_error_and_share():
    r = reference.compute("census.foreign_born", period="2024-05-13", variant="all")
    by = {v["variant"]: v for v in r.variants}
    assert by["cps_monthly"]["value"] == 51_600_000 and by["cps_monthly"]["components"]["share"] == pytest.approx(0.156)
    assert by["cps_asec"]["value"] == 51_260_000 and by["cps_asec"]["components"]["margin_of_error"] == 575_000
    assert by["acs"]["value"] == 47_830_000 and by["acs"]["components"]["margin_of_error"] == 191_000
    share = reference.compute("census.foreign_born_share", period="2024-03", variant="cps_monthly")
    assert share.unit == "percent" and share.value == pytest.approx(0.156)


def test_published_closed_without_merits_since_fy2022_is_the_365698_behind_350000():
    r = reference.compute("published.asylum.closed_without_merits", period="FY2022..FY2024")
    assert r.value == 365_698
    assert any("no figure covers 2024-05-01..2024-09-30" in n for n in r.notes)


def test_rate_picks_the_published_span_that_best_matches_the_period():
    biden = reference.compute("published.asylum.allowed_to_stay_rate", period="biden:fy_whole")
    assert biden.value == pytest.approx(0.77)
    trump = reference.compute("published.asylum.allowed_to_stay_rate", period="trump1")
    assert trump.value == pytest.approx(0.43)
    decade = reference.compute("published.asylum.allowed_to_stay_rate", period="FY2014..FY2024")
    assert (decade.numerator, decade.denominator) == (685_956, 1_047_134)
    assert any("not exactly the period asked" in n for n in trump.notes)


def test_by_period_lists_every_published_figure():
    r = reference.compute("published.asylum.allowed_to_stay_rate", by="period")
    assert {x["label"] for x in r.rows} >= {"Obama (FY2014-FY2016)", "Biden administration (FY2021 to April 2024)"}


def test_by_fiscal_year_for_a_stock_gives_one_figure_per_year():
    r = reference.compute("eoir.published.pending", period="FY2008..FY2020", by="fy")
    assert [x["fiscal_year"] for x in r.rows] == list(range(2008, 2021))
    assert r.rows[0]["value"] == 186_101


def test_figures_take_no_filters():
    with pytest.raises(InvalidQueryError):
        reference.compute("eoir.published.pending", where={"court": "NYC"})


def test_every_secondary_metric_is_flagged_in_the_catalogue():
    cat = {m["id"]: m for m in reference.catalogue()}
    assert all(cat[m]["secondary"] for m in cat if m.startswith("published."))
    assert cat["eoir.published.pending"]["secondary"] is False


EDITION_DATES = {"cis-eoir-stats-2020-01-09": "2020-01-09", "eoir-adjstats-2021-04-19": "2021-04-19",
                 "crs-in12492-2025-01-24": "2025-01-24", "eoir-adjstats-2026-04-22": "2026-04-22",
                 "eoir-adjstats-2026-07-24": "2026-07-24"}


@functools.cache
def _editions_with(period: str) -> tuple[str, ...]:
    """The editions that publish a pending figure inside ``period``."""
    out = []
    for e in EDITION_DATES:
        try:
            reference.compute("eoir.published.pending", period=period, edition=e)
            out.append(e)
        except (PeriodError, InvalidQueryError):
            pass
    return tuple(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2027, 12, 31)), st.sampled_from(["FY2016", "FY2019", "FY2024"]))
def test_as_of_reads_the_newest_edition_published_by_that_date(day, period):
    eligible = [e for e in _editions_with(period) if EDITION_DATES[e] <= day.isoformat()]
    if not eligible:
        with pytest.raises(PeriodError):
            reference.compute("eoir.published.pending", period=period, as_of=day.isoformat())
        return
    r = reference.compute("eoir.published.pending", period=period, as_of=day.isoformat())
    assert [e["id"] for e in r.release["editions"]] == [max(eligible, key=EDITION_DATES.get)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(min_value=dt.date(2012, 1, 1), max_value=dt.date(2025, 12, 31)),
       st.integers(min_value=30, max_value=4000))
def test_published_rates_are_shares_whatever_the_period(start, days):
    end = start + dt.timedelta(days=days)
    try:
        r = reference.compute("published.asylum.allowed_to_stay_rate", period=f"{start}..{end}")
    except PeriodError:
        return
    assert 0 <= r.value <= 1 and r.unit == "percent"
