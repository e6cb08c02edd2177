"""Metric queries in URLs: validated on the way in, written back losslessly for sharing."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immfacts.errors import InvalidQueryError, PeriodError
from immfacts.web.errorshape import InputTooLargeError
from immfacts.web.queries import MetricQuery

metric_ids = st.from_regex(r"\A[a-z]{1,8}(\.[a-z_]{1,12}){1,3}\Z")
periods = st.sampled_from([None, "FY2024", "FY2020..FY2024", "2024-09-30", "biden", "biden:fy_whole", "2021-02..2024-04"])
dims = st.sampled_from(["court", "nationality", "language", "custody"])
values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).map(str.strip).filter(bool)


@given(
    metric_ids,
    periods,
    st.one_of(st.none(), dims),
    st.lists(st.tuples(dims, values), max_size=3, unique_by=lambda t: t[0]),
    st.lists(st.sampled_from(["default", "trac_style", "eoir_official", "all"]), max_size=3, unique=True),
)
def test_explore_url_round_trips_the_query(metric, period, by, where, variants):
    q = MetricQuery.parse(metric, period=period, by=by, where=[f"{d}={v}" for d, v in where], variant=variants)
    params = parse_qsl(urlsplit(q.explore_url()).query)
    back = MetricQuery.parse(
        dict(params)["metric"],
        period=dict(params).get("period"),
        by=dict(params).get("by"),
        where=[v for k, v in params if k == "where"],
        variant=[v for k, v in params if k == "variant"],
    )
    assert back == q
    assert back.where_dict() == dict(where)


def test_single_variant_is_passed_through_and_several_mean_all():
    assert MetricQuery.parse("eoir.pending").variant is None
    assert MetricQuery.parse("eoir.pending", variant="including_inactive").variant == "including_inactive"
    assert MetricQuery.parse("eoir.pending", variant=["active", "including_inactive"]).variant == "all"


def test_api_url_keeps_filters_and_adds_format():
    q = MetricQuery.parse("eoir.receipts", period="FY2024", by="court", where=["nationality=MX"])
    url = q.api_url("csv")
    assert url.startswith("/api/metrics/eoir.receipts?")
    assert ("format", "csv") in parse_qsl(urlsplit(url).query)
    assert ("where", "nationality=MX") in parse_qsl(urlsplit(url).query)


def test_bad_period_fails_before_any_work():
    with pytest.raises(PeriodError) as e:
        MetricQuery.parse("eoir.receipts", period="FY20244")
    assert e.value.http_status == 422


@pytest.mark.parametrize("bad", ["", "eoir receipts", "x" * 101, "eoir.receipts;DROP TABLE cases", "../etc/passwd"])
def test_metric_id_syntax_is_checked(bad):
    with pytest.raises(InvalidQueryError):
        MetricQuery.parse(bad)


def test_filter_must_be_dimension_equals_value():
    with pytest.raises(InvalidQueryError, match="DIMENSION=VALUE"):
        MetricQuery.parse("eoir.receipts", where=["court"])


def test_oversized_parameters_are_413():
    with pytest.raises(InputTooLargeError) as e:
        MetricQuery.parse("eoir.receipts", by="c" * 500)
    assert e.value.http_status == 413
    with pytest.raises(InputTooLargeError):
        MetricQuery.parse("eoir.receipts", where=[f"court=C{i}" for i in range(20)])
