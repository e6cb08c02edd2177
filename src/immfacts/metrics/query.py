"""Resolving a metric query: variant, period (clipped to the data), as-of dates, --by, --where.

Flows count rows whose date falls in a period; stocks count spells open at as-of dates.

* No period: a flow covers the latest *complete* fiscal year of the release (or the whole
  data range when grouped by a time dimension); a stock is taken at the release's data date
  (or at every fiscal-year / month / administration end when grouped by one).
* A range for a stock means "as of its end" (said in the notes).
* Periods are clipped to the data (``Period.clip``) and the result says so; a period wholly
  outside the data is a :class:`~immfacts.errors.PeriodError`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from immfacts.errors import InvalidQueryError, PeriodError, suggest
from immfacts.metrics import dimensions as dims
from immfacts.metrics.spec import MetricSpec
from immfacts.periods import ADMINISTRATIONS, Period, fy, fy_end, fy_start, parse_period


@dataclass
class ResolvedQuery:
    """Everything a kind needs to build its expression."""

    spec: MetricSpec
    period: Period
    dates: list[dt.date] = field(default_factory=list)  # stocks: as-of dates
    by: list[str] = field(default_factory=list)
    where: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def is_stock(self) -> bool:
        return self.spec.timing == "stock"

    def filters_dict(self) -> dict[str, Any]:
        return {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.where.items()}


def parse_by(by: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """``"fy,court"`` or a list → canonical dimension names (order kept, no duplicates)."""
    if not by:
        return []
    items = by.split(",") if isinstance(by, str) else [p for b in by for p in str(b).split(",")]
    out: list[str] = []
    for item in items:
        if item.strip():
            name = dims.canonical(item)
            if name not in out:
                out.append(name)
    return out


def parse_where(where: Any) -> dict[str, tuple[Any, ...]]:
    """``["court=NYC", "nationality=MX,GT"]`` or ``{"court": "NYC"}`` → {dim: values}."""
    if not where:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(where, dict):
        pairs = list(where.items())
    else:
        for item in [where] if isinstance(where, str) else where:
            if "=" not in str(item):
                raise InvalidQueryError(f"bad filter {item!r}", "write filters as DIMENSION=VALUE, e.g. court=NYC")
            k, v = str(item).split("=", 1)
            pairs.append((k, v))
    out: dict[str, tuple[Any, ...]] = {}
    for k, v in pairs:
        name = dims.canonical(k)
        values = v if isinstance(v, list | tuple) else [p for p in str(v).split(",")]
        vals = [str(x).strip() for x in values if str(x).strip()]
        if not vals:
            raise InvalidQueryError(f"filter {k!r} has no value", "write filters as DIMENSION=VALUE")
        d = dims.DIMENSIONS[name]
        if name == "fy":
            out[name] = tuple(dims.fy_value(x) for x in vals)
        elif name == "month":
            out[name] = tuple(dims.month_value(x) for x in vals)
        elif name == "administration":
            keys = []
            for x in vals:
                key = x.lower()
                key = {"obama": "obama2", "trump": "trump1"}.get(key, key)
                if key not in ADMINISTRATIONS:
                    raise InvalidQueryError(f"unknown administration {x!r}", "choose one of " + ", ".join(ADMINISTRATIONS))
                keys.append(key)
            out[name] = tuple(keys)
        else:
            out[name] = tuple(x.upper() if d.upper else x.lower() for x in vals)
    return out


def check_dimensions(spec: MetricSpec, by: list[str], where: dict[str, Any]) -> None:
    """Every --by / --where dimension must be one the metric supports."""
    for name in list(by) + list(where):
        if name not in spec.dimensions:
            raise InvalidQueryError(
                f"metric {spec.id} cannot be split or filtered by {name!r}",
                "it supports: " + (", ".join(spec.dimensions) or "no dimensions"),
            )


def check_variant(spec: MetricSpec, variant: str | None) -> None:
    """An unknown variant name is an error that lists the valid ones."""
    if variant is None or variant == "all" or variant in spec.variant_names:
        return
    near = suggest(variant, spec.variant_names)
    raise InvalidQueryError(
        f"metric {spec.id} has no variant {variant!r}",
        ("did you mean " + ", ".join(near) + "? " if near else "")
        + "variants: " + ", ".join(spec.variant_names) + " (or 'all')",
    )


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _stock_dates(period: Period, by: list[str], data_end: dt.date) -> list[dt.date]:
    start = period.start or period.end
    end = period.end
    out: list[dt.date] = []
    if "month" in by:
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            out.append(min(_month_end(y, m), end))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    elif "fy" in by:
        for year in range(fy(start), fy(end) + 1):
            out.append(min(fy_end(year), end))
    elif "administration" in by:
        for _key, (_label, a_start, a_end) in ADMINISTRATIONS.items():
            a_end = a_end or data_end
            if a_end >= start and a_start <= end:
                out.append(min(a_end, end))
    else:
        out.append(end)
    return sorted(set(d for d in out if d >= start or period.start is None))


def resolve(
    spec: MetricSpec,
    period: Any,
    by: list[str],
    where: dict[str, tuple[Any, ...]],
    data_start: dt.date | None,
    data_end: dt.date,
) -> ResolvedQuery:
    """Resolve the period (and as-of dates for stocks) of one query on one release."""
    notes: list[str] = []
    time_by = [b for b in by if dims.DIMENSIONS[b].is_time]
    p = parse_period(period, today=data_end) if period is not None else None
    if p is None:
        if time_by:
            p = Period(data_start or fy_start(fy(data_end)), data_end, "all data", "range")
            notes.append(f"period not given: all data ({p.start} .. {p.end})")
        elif spec.timing == "stock":
            p = Period(None, data_end, data_end.isoformat(), "date")
            notes.append(f"as of the release's data date {data_end.isoformat()}")
        else:
            last = fy(data_end) if (data_end.month, data_end.day) == (9, 30) else fy(data_end) - 1
            p = Period(fy_start(last), fy_end(last), f"FY{last}", "range")
            notes.append(f"period not given: the latest complete fiscal year, FY{last}")
    if p.is_date:
        if data_start and p.end < data_start:
            raise PeriodError(
                f"date {p.end.isoformat()} is before the data begins ({data_start.isoformat()})",
                "choose a date the release covers (see `immfacts releases`)",
            )
        if p.end > data_end:
            notes.append(f"date clipped to the data's last date {data_end.isoformat()}")
            p = Period(None, data_end, p.text, "date", p.notes)
    else:
        if p.end < (data_start or p.end) or (p.start and p.start > data_end):
            raise PeriodError(
                f"period {p.text!r} ({p.start} .. {p.end}) lies outside the data "
                f"({data_start} .. {data_end})",
                "choose a period the release covers (see `immfacts releases`)",
            )
        p = p.clip(data_start, data_end)
    notes.extend(n for n in p.notes if n not in notes)
    q = ResolvedQuery(spec, p, by=by, where=where, notes=notes)
    if spec.timing == "stock":
        if not p.is_date and not time_by:
            notes.append(f"a stock over a range is taken as of its end, {p.end.isoformat()}")
        q.dates = _stock_dates(p, time_by, data_end)
        if "fy" in where:
            q.dates = [d for d in q.dates if fy(d) in where["fy"]]
        if "month" in where:
            q.dates = [d for d in q.dates if d.year * 100 + d.month in where["month"]]
        if "administration" in where:
            q.dates = [d for d in q.dates if dims.administration_of(d) in where["administration"]]
    return q
