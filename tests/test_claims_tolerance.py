"""Tolerance and comparator rules: property tests over written numbers."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immfacts.claims.numbers import find_numbers
from immfacts.claims.tolerance import MORE_THAN_MAX, tolerance
from immfacts.claims.verdict import Value, decide


def _parse(text: str):
    [n] = [n for n in find_numbers(text) if n.is_claim_candidate]
    return n


def test_three_point_five_million_is_the_rounding_interval():
    n = _parse("3.5 million")
    t = tolerance(n.value, n.step, "exact")
    assert (t.low, t.high) == (3_450_000, 3_550_000)
    assert t.contains(3_450_000) and not t.contains(3_550_000)


def test_seventy_seven_percent_is_a_fraction_with_half_point_interval():
    n = _parse("77%")
    t = tolerance(n.value, n.step, "exact", "percent")
    assert math.isclose(t.low, 0.765) and math.isclose(t.high, 0.775)
    assert _parse("77 percent").value == pytest.approx(0.77)


def test_more_than_holds_above_and_not_far_above():
    t = tolerance(350_000, 10_000, "more_than")
    assert not t.contains(350_000)
    assert t.contains(365_698)
    assert not t.contains(350_000 * MORE_THAN_MAX + 1)
    assert t.side(900_000) == 1  # literally true but understated


def test_nearly_means_slightly_below():
    t = tolerance(2_500_000, 100_000, "nearly")
    assert t.contains(2_450_000) and t.contains(2_500_000)
    assert not t.contains(2_520_000) and not t.contains(2_000_000)


@given(st.integers(min_value=500_000, max_value=400_000_000))
def test_any_count_written_in_millions_lies_in_its_own_interval(x):
    n = _parse(f"{x / 1e6:.1f} million")
    assert tolerance(n.value, n.step, "exact").contains(x) or abs(x - n.value) == n.step / 2


@given(st.integers(min_value=10_000, max_value=9_999_999))
def test_any_count_rounded_to_thousands_lies_in_its_interval(x):
    written = round(x, -3)
    n = _parse(f"{written:,}")
    t = tolerance(n.value, n.step, "exact")
    if n.step == 1000:
        assert t.contains(x) or abs(x - written) == 500


@given(st.integers(min_value=1, max_value=99))
def test_whole_percent_intervals_hold_their_rounded_values(p):
    n = _parse(f"{p}%")
    t = tolerance(n.value, n.step, "exact", "percent")
    assert t.contains(p / 100)
    assert t.contains((p - 0.49) / 100) and not t.contains((p + 0.51) / 100)


@given(st.floats(min_value=1, max_value=1e9), st.sampled_from([1.0, 10.0, 1000.0, 100_000.0]))
def test_approx_widens_exact_and_the_value_is_inside_both(v, step):
    exact, approx = tolerance(v, step, "exact"), tolerance(v, step, "approx")
    assert exact.contains(v) and approx.contains(v)
    assert approx.low <= exact.low and approx.high >= exact.high


@given(st.floats(min_value=1, max_value=1e9), st.sampled_from([1.0, 100.0, 100_000.0]))
def test_directional_comparators_exclude_the_wrong_side(v, step):
    assert not tolerance(v, step, "more_than").contains(v * 0.999)
    assert not tolerance(v, step, "less_than").contains(v * 1.001)
    assert not tolerance(v, step, "nearly").contains(v * 1.001)
    assert tolerance(v, step, "at_least").contains(v)


@given(st.floats(min_value=0, max_value=1), st.sampled_from(["exact", "approx", "more_than", "less_than", "nearly", "at_least"]))
def test_percent_intervals_stay_within_zero_and_one(v, comparator):
    t = tolerance(v, 0.01, comparator, "percent")
    assert 0.0 <= t.low <= t.high <= 1.0


def _v(variant, value, default=False, primary=True, **kw):
    return Value(metric=kw.pop("metric", "m"), variant=variant, value=value, default=default, primary_reading=primary, **kw)


def test_verdict_consistent_under_named_variant_when_only_it_fits():
    t = tolerance(51_600_000, 100_000, "exact")
    v = decide(t, [_v("acs", 47_830_000, True), _v("cps_asec", 51_260_000), _v("cps_monthly", 51_600_000)])
    assert v.verdict == "consistent_under_variant" and v.under.variant == "cps_monthly"


def test_verdict_misattributed_names_the_quantity_that_fits():
    t = tolerance(3_500_000, 100_000, "more_than")
    values = [_v("published", 1_594_394, True)]
    conf = [_v("default", 3_596_317, metric="eoir.pending", label="the total court backlog")]
    v = decide(t, values, conf)
    assert v.verdict == "misattributed" and v.under.metric == "eoir.pending"


@pytest.mark.parametrize(("truth", "verdict"), [(300_000, "overstated"), (9_000_000, "understated"), (352_000, "consistent")])
def test_verdict_direction_follows_the_default_value(truth, verdict):
    t = tolerance(350_000, 10_000, "more_than")
    assert decide(t, [_v("d", truth, True), _v("x", 1.0)]).verdict == verdict
