"""Which whole months (or fiscal years, or published spans) a period covers, said in words.

Reference series are published by month, fiscal year or a stated span, never by day. A
period given in days (``biden`` = 2021-01-20 .. 2025-01-19) therefore meets partial units
at its ends. The rule, the same for every reference series: **a unit counts only if the
period covers all of it**; partially covered units are left out and named in the result's
notes ("2021-01: 12 of 31 days in the period — left out"). This module holds that rule and
the helpers that describe months, fiscal years and spans compactly for notes and errors.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

from immfacts.periods import Period, fy, fy_end, fy_start

RULE = "a month counts only if the period covers all of it"


def month_end(m: dt.date) -> dt.date:
    """Last day of the month of ``m``."""
    return dt.date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])


def next_month(m: dt.date) -> dt.date:
    """First day of the month after ``m``'s."""
    return dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from ``first``'s month to ``last``'s month, inclusive."""
    out, m = [], dt.date(first.year, first.month, 1)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def label(m: dt.date) -> str:
    """A month as 'YYYY-MM'."""
    return f"{m.year:04d}-{m.month:02d}"


def whole_months(period: Period) -> tuple[list[dt.date], list[str]]:
    """The months a range covers entirely, and notes on the partial months left out."""
    assert period.start is not None
    months, notes = [], []
    for m in months_between(period.start, period.end):
        lo, hi = max(m, period.start), min(month_end(m), period.end)
        days = (hi - lo).days + 1
        total = (month_end(m) - m).days + 1
        if days == total:
            months.append(m)
        else:
            notes.append(f"{label(m)}: {days} of {total} days in the period — left out ({RULE})")
    return months, notes


def runs(months: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of months as (first, last) pairs."""
    out: list[tuple[dt.date, dt.date]] = []
    for m in sorted(set(months)):
        if out and next_month(out[-1][1]) == m:
            out[-1] = (out[-1][0], m)
        else:
            out.append((m, m))
    return out


def describe_months(months: Iterable[dt.date]) -> str:
    """Months as compact text: whole fiscal years as FY2019..FY2020, other runs as 2020-10..2021-03."""
    parts = []
    for a, b in runs(months):
        if a.month == 10 and b.month == 9:
            parts.append(f"FY{fy(a)}" if fy(a) == fy(b) else f"FY{fy(a)}..FY{fy(b)}")
        else:
            parts.append(label(a) if a == b else f"{label(a)}..{label(b)}")
    return ", ".join(parts) if parts else "nothing"


def describe_years(years: Iterable[int]) -> str:
    """Fiscal years as compact text: FY2017..FY2019, FY2021."""
    ys = sorted(set(years))
    parts: list[str] = []
    start = prev = None
    for y in ys + [None]:
        if y is not None and prev is not None and y == prev + 1:
            prev = y
            continue
        if start is not None:
            parts.append(f"FY{start}" if start == prev else f"FY{start}..FY{prev}")
        start = prev = y
    return ", ".join(parts) if parts else "nothing"


def describe_span(start: dt.date | None, end: dt.date) -> str:
    """A figure's span: 'FY2023', '2024-03', '2021-01-20..2023-10-09', or 'at 2024-09-30' for a stock."""
    if start is None:
        return f"at {end.isoformat()}"
    if start == fy_start(fy(start)) and end == fy_end(fy(end)):
        return f"FY{fy(start)}" if fy(start) == fy(end) else f"FY{fy(start)}..FY{fy(end)}"
    if start.day == 1 and end == month_end(end):
        return label(start) if (start.year, start.month) == (end.year, end.month) else f"{label(start)}..{label(end)}"
    return f"{start.isoformat()}..{end.isoformat()}"


def fiscal_year_months(year: int) -> list[dt.date]:
    """First days of the twelve months of a fiscal year."""
    return months_between(fy_start(year), fy_end(year))
