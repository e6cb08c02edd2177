"""Published secondary figures (TRAC, CRS, EOIR as quoted in the press) for a claim.

The reference stage bundles these figures with their citations
(:func:`immfacts.reference.published_analyses`); this module only selects the ones about
the claim's metric and says whether each is about the claim's period: a level (stock) figure
dated within :data:`STOCK_WINDOW_DAYS` of the claim's date (the nearest one is what a reader
would have had), or a total over the same
span within :data:`FLOW_SLACK_DAYS` at either end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from immfacts.claims.when import Reading

STOCK_WINDOW_DAYS = 130
FLOW_SLACK_DAYS = 35


def _load(metric: str) -> list[dict[str, Any]]:
    try:
        from immfacts import reference
    except ImportError:
        return []
    fn = getattr(reference, "published_analyses", None)
    if fn is None:
        return []
    try:
        rows = fn(metric)
    except Exception:  # noqa: BLE001 - a secondary figure must never break a check
        return []
    out = []
    for r in rows or []:
        out.append(r if isinstance(r, dict) else getattr(r, "to_dict", lambda r=r: dict(vars(r)))())
    return out


def _date(x: Any) -> dt.date | None:
    if x is None:
        return None
    if isinstance(x, dt.date):
        return x
    try:
        return dt.date.fromisoformat(str(x)[:10])
    except ValueError:
        return None


def _matches(fig: dict[str, Any], r: Reading) -> bool:
    period = fig.get("period") or {}
    start = _date(period.get("start") if isinstance(period, dict) else None) or _date(fig.get("start"))
    end = _date(period.get("end") if isinstance(period, dict) else None) or _date(fig.get("end")) or _date(fig.get("date"))
    if end is None:
        return False
    if r.start is None:  # a level at r.end
        return start is None and abs(r.end - end) <= dt.timedelta(days=STOCK_WINDOW_DAYS)
    if start is None:
        return False
    slack = dt.timedelta(days=FLOW_SLACK_DAYS)
    return abs(start - r.start) <= slack and abs(end - r.end) <= slack


def figures_for(metric: str, readings: tuple[Reading, ...], where: dict[str, Any], day: dt.date) -> list[dict[str, Any]]:
    """Secondary figures for ``metric``, each with ``matches_period`` and the reading it fits."""
    out = []
    for fig in _load(metric):
        fw = fig.get("where") or fig.get("filters") or {}
        if any(fw.get(k) != v for k, v in (where or {}).items() if k in fw):
            continue
        f = dict(fig)
        f["matches_period"] = False
        for i, r in enumerate(readings):
            if _matches(fig, r):
                f["matches_period"] = True
                f["reading"] = r.label if i else "primary"
                break
        out.append(f)
    return out
