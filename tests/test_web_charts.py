"""Server-side SVG charts: escaped labels, one mark per value, honest number formatting."""

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from immfacts.web import charts

SVG = "{http://www.w3.org/2000/svg}"

labels = st.text(min_size=1, max_size=30)
values = st.one_of(st.none(), st.integers(0, 10**9), st.floats(0, 1e9, allow_nan=False))


def _bars(svg: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter(f"{SVG}rect") if e.get("class") == "bar"]


@given(st.lists(st.tuples(labels, values), min_size=1, max_size=30))
def test_bar_chart_is_wellformed_svg_whatever_the_labels(points):
    svg = str(charts.bar_chart(points))
    bars = _bars(svg)  # parses: hostile labels cannot break the markup
    assert len(bars) == min(len(points), 25)
    assert {b.get("data-label") for b in bars} <= {charts.clean_label(label) for label, _ in points}


@given(st.lists(st.tuples(labels, st.integers(0, 10**7)), min_size=1, max_size=20))
def test_column_chart_bar_heights_are_proportional_to_values(points):
    bars = _bars(str(charts.column_chart(points)))
    assert len(bars) == len(points)
    heights = [float(b.get("height")) for b in bars]
    biggest = max(v for _, v in points)
    for (_, v), h in zip(points, heights, strict=True):
        if biggest:
            assert abs(h / max(heights) - v / biggest) < 1e-2 if max(heights) else v == 0


def test_hostile_label_is_escaped_not_executed():
    svg = str(charts.bar_chart([("<script>alert(1)</script>", 5), ('x" onload="evil()', 3)]))
    assert "<script>" not in svg
    assert 'onload="evil()"' not in svg
    assert _bars(svg)[0].get("data-label") == "<script>alert(1)</script>"


def test_ordered_dimension_gets_columns_and_categories_get_bars():
    pts = [("FY2023", 1), ("FY2024", 2)]
    assert "column-chart" in charts.chart_for("fy", pts)
    assert "bar-chart" in charts.chart_for("court", pts)


def test_bar_chart_puts_the_largest_category_first():
    bars = _bars(str(charts.bar_chart([("a", 1), ("b", 30), ("c", 7)])))
    assert [b.get("data-label") for b in bars] == ["b", "c", "a"]


def test_sparkline_needs_two_values():
    assert str(charts.sparkline([("FY2024", 1)])) == ""
    assert "<polyline" in charts.sparkline([("FY2023", 1), ("FY2024", None), ("FY2025", 3)])


def test_format_value_for_each_unit():
    assert charts.format_value(1234567) == "1,234,567"
    assert charts.format_value(0.4321, "percent") == "43.2%"
    assert charts.format_value(12.0) == "12"
    assert charts.format_value(12.25) == "12.2"
    assert charts.format_value(87.4, "days") == "87 days"
    assert charts.format_value(None) == "—"
    assert charts.format_value(float("nan"), "percent") == "—"


@given(st.floats(0, 1, allow_nan=False))
def test_percent_format_is_the_fraction_times_100(x):
    text = charts.format_value(x, "percent")
    assert text.endswith("%")
    assert abs(float(text[:-1]) - 100 * x) <= 0.05 + 1e-9
