"""A metric query as the web sees it: parsed from a URL, validated, and written back to one.

The explorer's URL *is* the query (``/explore?metric=eoir.receipts&period=FY2020..FY2024&by=fy``),
so a page can be shared; the API takes the same parameters with the same names as the CLI
and Python (``metric``, ``period``, ``by``, ``where``, ``variant``, ``release``). This module
checks what only the web must check — sizes, characters, and that the metric exists (404
with suggestions) and the period parses (422) before any work is done — and leaves the
meaning of ``by``/``where``/``variant`` to :meth:`immfacts.Warehouse.metric`, which raises
:class:`~immfacts.errors.InvalidQueryError` (422) for what it does not support. Values reach
the engine only as arguments of that call (bound parameters / Ibis literals), never as SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from immfacts.errors import InvalidQueryError
from immfacts.periods import parse_period
from immfacts.web.errorshape import InputTooLargeError

MAX_PARAM_CHARS = 200
MAX_WHERE = 8
MAX_VARIANTS = 8
_METRIC_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


def _check_size(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_PARAM_CHARS:
        raise InputTooLargeError(
            f"the {name!r} parameter is {len(value):,} characters long (limit {MAX_PARAM_CHARS})",
            f"shorten {name}",
        )
    return value or None


@dataclass(frozen=True)
class MetricQuery:
    """One metric query; ``variants`` holds every variant asked for (the explorer allows several)."""

    metric: str
    period: str | None = None
    by: str | None = None
    where: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    release: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def parse(
        cls,
        metric: str,
        period: str | None = None,
        by: str | None = None,
        where: list[str] | tuple[str, ...] | None = None,
        variant: str | list[str] | tuple[str, ...] | None = None,
        release: str | None = None,
    ) -> MetricQuery:
        """Validate raw parameters (sizes, metric id syntax, period) into a query."""
        metric = (metric or "").strip()
        if not _METRIC_ID.match(metric):
            raise InvalidQueryError(
                f"{metric[:100]!r} is not a metric id",
                "metric ids look like eoir.asylum.grant_rate; see /api/metrics",
            )
        period = _check_size("period", period)
        if period is not None:
            parse_period(period)  # raises PeriodError (422) with a hint
        wheres = [w for w in (_check_size("where", w) for w in (where or ())) if w]
        if len(wheres) > MAX_WHERE:
            raise InputTooLargeError(f"{len(wheres)} filters given (limit {MAX_WHERE})", "remove some filters")
        for w in wheres:
            if "=" not in w:
                raise InvalidQueryError(f"filter {w!r} is not DIMENSION=VALUE", "write filters like court=NYC")
        raw_variants = [variant] if isinstance(variant, str) else list(variant or ())
        variants = [v for v in (_check_size("variant", v) for v in raw_variants) if v]
        if len(variants) > MAX_VARIANTS:
            raise InputTooLargeError(f"{len(variants)} variants given (limit {MAX_VARIANTS})", "ask for fewer variants")
        return cls(
            metric=metric,
            period=period,
            by=_check_size("by", by),
            where=tuple(wheres),
            variants=tuple(dict.fromkeys(variants)),
            release=_check_size("release", release),
        )

    @property
    def variant(self) -> str | None:
        """The single ``variant`` argument of the Python call (``None`` = the default)."""
        if not self.variants:
            return None
        return self.variants[0] if len(self.variants) == 1 else "all"

    def where_dict(self) -> dict[str, str]:
        """Filters as ``{dimension: value}`` (the last value wins for a repeated dimension)."""
        out: dict[str, str] = {}
        for w in self.where:
            k, _, v = w.partition("=")
            out[k.strip()] = v.strip()
        return out

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Warehouse.metric`` for this query."""
        return {
            "period": self.period,
            "by": self.by,
            "where": list(self.where) or None,  # ["court=NYC", "nationality=MX,GT"], as the CLI passes it
            "variant": self.variant,
            "release": self.release,
        }

    def with_variant(self, variant: str | None) -> MetricQuery:
        """The same query for one variant (``None``: the default)."""
        return replace(self, variants=(variant,) if variant else ())

    def params(self) -> list[tuple[str, str]]:
        """URL parameters (explorer and API use the same names)."""
        out: list[tuple[str, str]] = [("metric", self.metric)]
        for name in ("period", "by"):
            value = getattr(self, name)
            if value:
                out.append((name, value))
        out += [("where", w) for w in self.where]
        out += [("variant", v) for v in self.variants]
        if self.release:
            out.append(("release", self.release))
        return out

    def explore_url(self) -> str:
        """The shareable explorer URL of this query."""
        return "/explore?" + urlencode(self.params())

    def api_url(self, fmt: str | None = None, variant: str | None = None) -> str:
        """The API URL of this query (``fmt='csv'`` for the CSV download)."""
        params = [(k, v) for k, v in self.params() if k not in ("metric", "variant")]
        chosen = variant or self.variant
        if chosen:
            params.append(("variant", chosen))
        if fmt:
            params.append(("format", fmt))
        qs = urlencode(params)
        return f"/api/metrics/{self.metric}" + (f"?{qs}" if qs else "")
