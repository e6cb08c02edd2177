"""Thin helpers between the routes and the public Python API (no statistics are computed here).

They call ``Warehouse.metric``, ``immfacts.metrics.catalogue`` / ``headline_metrics``,
``immfacts.reference.sources`` and read release metadata, and shape the answers for
templates and JSON: a catalogue entry with normalised variants and dimensions, the rows of
a result as a table (with each group's share of the total for the number/percent toggle),
a CSV rendering that keeps the SYNTHETIC label, and the home page's headline cards.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

from immfacts.errors import ImmfactsError, UnknownMetricError, WarehouseError, suggest
from immfacts.provenance import SYNTHETIC_LABEL, Result
from immfacts.warehouse import Warehouse
from immfacts.web import charts
from immfacts.web.cache import ENGINE_LOCK, RESULTS, TTL_S, freeze, gated
from immfacts.web.queries import MetricQuery


# --- releases -------------------------------------------------------------------------------
def release_summary(meta: dict[str, Any], release_id: str) -> dict[str, Any]:
    """The public description of a release (release.json without internals)."""
    keys = ("data_date", "source", "checksum", "last_modified", "synthetic", "ingested_at", "immfacts_version", "tables")
    return {"id": release_id, **{k: meta.get(k) for k in keys}}


def releases(wh: Warehouse) -> list[dict[str, Any]]:
    """Every complete release of the warehouse, newest first."""
    return [release_summary(r.meta, r.id) for r in wh.releases()]


def layout_context(wh: Warehouse, release_id: str | None = None) -> dict[str, Any]:
    """Context every page shares: the current release, all releases, the SYNTHETIC flag."""
    rels = wh.releases()
    current = None
    if rels:
        current = rels[0]
        if release_id:
            current = next((r for r in rels if r.id == release_id or r.id.startswith(release_id)), current)
    return {
        "release": release_summary(current.meta, current.id) if current else None,
        "releases": [release_summary(r.meta, r.id) for r in rels],
        "synthetic": bool(current and current.synthetic),
        "warehouse_path": str(wh.path),
    }


# --- catalogue --------------------------------------------------------------------------------
def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return dict(vars(obj))


def _norm_variants(raw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(raw, dict):
        raw = [{"name": k, **(v if isinstance(v, dict) else {"rationale": v})} for k, v in raw.items()]
    for v in raw or ():
        d = {"name": v} if isinstance(v, str) else _as_dict(v)
        d.setdefault("name", d.get("id") or d.get("variant"))
        d.setdefault("rationale", d.get("description") or d.get("definition") or "")
        d["default"] = bool(d.get("default") or d.get("is_default"))
        out.append(d)
    if out and not any(v["default"] for v in out):
        out[0]["default"] = True
    return out


def _norm_dimensions(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        return [str(k) for k in raw]
    return [str(d if isinstance(d, str) else _as_dict(d).get("name")) for d in raw or ()]


_CATALOGUE: dict[str, Any] = {}


def catalogue() -> list[dict[str, Any]]:
    """The metric catalogue (``immfacts.metrics.catalogue()``) with normalised variants/dimensions.

    Kept for :data:`~immfacts.web.cache.TTL_S` (the registry is data shipped with the
    package; reference series can be added while the server runs). Do not mutate it.
    """
    now = time.monotonic()
    if _CATALOGUE.get("at") is not None and now - _CATALOGUE["at"] < TTL_S:
        return _CATALOGUE["entries"]
    entries = _load_catalogue()
    _CATALOGUE.update(at=now, entries=entries, index={d.get("id"): d for d in entries})
    return entries


def _load_catalogue() -> list[dict[str, Any]]:
    from immfacts.metrics import catalogue as _catalogue

    out = []
    for entry in _catalogue():
        d = _as_dict(entry)
        d["variants"] = _norm_variants(d.get("variants"))
        d["dimensions"] = _norm_dimensions(d.get("dimensions"))
        d["default_variant"] = next((v["name"] for v in d["variants"] if v["default"]), None)
        out.append(d)
    return out


def metric_info(metric_id: str) -> dict[str, Any]:
    """One catalogue entry, or :class:`UnknownMetricError` (404) with the nearest ids."""
    entries = catalogue()
    found = _CATALOGUE["index"].get(metric_id)
    if found is not None:
        return found
    ids = [str(d.get("id")) for d in entries]
    near = suggest(metric_id, ids)
    raise UnknownMetricError(
        f"unknown metric {metric_id!r}",
        ("did you mean " + ", ".join(near) + "? " if near else "") + "see /api/metrics for the catalogue",
        suggestions=near,
    )


# --- computing --------------------------------------------------------------------------------
def _release_key(wh: Warehouse, release: str | None) -> tuple[str, Any] | None:
    try:
        info = wh.release(release)
    except WarehouseError:
        return None
    return info.id, info.meta.get("ingested_at")


def metric_job(wh: Warehouse, metric_id: str, **kwargs: Any) -> tuple[Any, Callable[[], Result]]:
    """The cache key of ``wh.metric(metric_id, **kwargs)`` and the function computing it."""
    key = ("metric", str(wh.path), _release_key(wh, kwargs.get("release")), metric_id, freeze(kwargs))

    def compute() -> Result:
        with ENGINE_LOCK:
            return wh.metric(metric_id, **kwargs)

    return key, compute


def cached_metric(wh: Warehouse, metric_id: str, **kwargs: Any) -> Result:
    """``wh.metric(metric_id, **kwargs)``, reused while the release is the same (see ``web/cache.py``)."""
    return RESULTS.get_or_compute(*metric_job(wh, metric_id, **kwargs))


def run_metric(wh: Warehouse, q: MetricQuery) -> Result:
    """``wh.metric(q.metric, **q.kwargs())`` after checking the metric exists."""
    metric_info(q.metric)
    return cached_metric(wh, q.metric, **q.kwargs())


async def run_metric_async(wh: Warehouse, q: MetricQuery) -> Result:
    """:func:`run_metric` for async handlers: cached answers at once, computations queued."""
    metric_info(q.metric)
    return await gated(*metric_job(wh, q.metric, **q.kwargs()))


def run_variants(wh: Warehouse, q: MetricQuery) -> list[Result]:
    """One result per variant asked for (the default when none), for side-by-side display."""
    if not q.variants:
        return [run_metric(wh, q)]
    if "all" in q.variants:
        return [run_metric(wh, q.with_variant("all"))]
    return [run_metric(wh, q.with_variant(v)) for v in q.variants]


def group_label(row: dict[str, Any], groups: list[str]) -> str:
    """Display label of a grouped row: ``FY2024``, ``NEW YORK CITY (NYC)``, ``FY2024 · NYC``.

    A ``<dimension>_name`` group is the readable name of the ``<dimension>`` code.
    """
    parts = []
    for g in groups:
        if g.endswith("_name") and g[: -len("_name")] in groups:
            continue
        code, name = row.get(g), row.get(f"{g}_name")
        text = "—" if code is None else str(code)
        parts.append(f"{name} ({text})" if name and str(name) != text else text)
    return " · ".join(parts)


def additive(result: Result, info: dict[str, Any] | None = None) -> bool:
    """Whether the groups of a result can be summed (and shown as shares of a total).

    Counts can, except a stock (pending at a date) broken down over time: the same case is
    pending at several fiscal-year ends.
    """
    if result.unit != "count":
        return False
    time_dims = charts.ORDERED_DIMENSIONS | {"administration"}
    stock = (info or {}).get("kind") == "pending_at" or bool((result.period or {}).get("as_of"))
    return not (stock and any(g in time_dims for g in result.groups or []))


def result_table(result: Result, info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Columns and rows for the explorer's table, with each group's share of an additive total."""
    groups = list(result.groups or [])
    rows = list(result.rows or [])
    if not rows:
        rows = [{"value": result.value, "numerator": result.numerator, "denominator": result.denominator}]
    has_num = result.unit != "count" and any(r.get("numerator") is not None for r in rows)
    values = [r.get("value") for r in rows]
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    total = sum(nums) if groups and nums and additive(result, info) else None
    out_rows = []
    for r in rows:
        v = r.get("value")
        share = (v / total) if total and isinstance(v, int | float) else None
        out_rows.append(
            {
                "label": group_label(r, groups) if groups else (result.period or {}).get("text") or "all",
                "cells": [r.get(g) for g in groups],
                "value": v,
                "numerator": r.get("numerator"),
                "denominator": r.get("denominator"),
                "share": share,
                "suppressed": bool(r.get("suppressed")),
            }
        )
    return {"groups": groups, "rows": out_rows, "has_parts": has_num, "total": total, "unit": result.unit}


def result_chart(result: Result, info: dict[str, Any] | None = None, chart_id: str = "metric-chart") -> dict[str, Any]:
    """The value chart and (for additive counts) the share chart of a grouped result."""
    if not result.rows or not result.groups:
        return {}
    table = result_table(result, info)
    dim = result.groups[0] if len(result.groups) == 1 else None
    points = [(r["label"], r["value"]) for r in table["rows"]]
    out = {"count": charts.chart_for(dim, points, result.unit, result.title or result.metric, chart_id)}
    if table["total"]:
        shares = [(r["label"], r["share"]) for r in table["rows"]]
        out["share"] = charts.chart_for(dim, shares, "percent", (result.title or result.metric) + " (share)", chart_id + "-share")
    return out


def result_csv(result: Result) -> str:
    """The result's table as CSV; a SYNTHETIC result says so in its ``synthetic``/``label`` columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    groups = list(result.groups or [])
    period = result.period or {}
    w.writerow(["metric", "variant", "period_start", "period_end", *groups, "value", "numerator",
                "denominator", "unit", "release", "synthetic", "label"])
    release = (result.release or {}).get("id") if result.release else None
    label = SYNTHETIC_LABEL if result.synthetic else ""
    rows = result.rows or [{"value": result.value, "numerator": result.numerator, "denominator": result.denominator}]
    for r in rows:
        w.writerow([result.metric, r.get("variant", result.variant), period.get("start"), period.get("end"),
                    *[r.get(g) for g in groups], r.get("value"), r.get("numerator"), r.get("denominator"),
                    result.unit, release, "true" if result.synthetic else "false", label])
    return buf.getvalue()


# --- home page --------------------------------------------------------------------------------
def _trend_dimension(info: dict[str, Any]) -> str | None:
    dims = info.get("dimensions") or []
    for name in ("fy", "fiscal_year", "month"):
        if name in dims:
            return name
    return None


HOME_REFERENCE = ("cbp.encounters",)
TREND_POINTS = 12  # the home page's small trends show the last twelve periods


def _reference_headlines(
    wh: Warehouse, index: dict[str, Any], have: set[str], problems: list[str]
) -> list[Result]:
    """Reference headlines (border encounters) for the release's latest full fiscal year.

    They need no release: without one, or when the series does not reach that year, the
    series' own default period is used.
    """
    out = []
    year = None
    if wh.has_release():
        from immfacts.metrics import latest_full_fy

        year = latest_full_fy(wh)
    for metric_id in HOME_REFERENCE:
        if metric_id not in index or metric_id in have:
            continue
        for period in ([f"FY{year}"] if year else []) + [None]:
            try:
                out.append(cached_metric(wh, metric_id, period=period))
                break
            except ImmfactsError as e:
                if period is None:
                    problems.append(f"{metric_id}: {e.message}")
    return out


def headline_cards(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Headline results (``immfacts.metrics.headline_metrics``) with a small trend each.

    Cached per release (releases are immutable once ingested). Returns the cards and the
    problems met (e.g. no release yet), which the page shows instead of failing.
    """
    wh: Warehouse = ctx.warehouse
    key = ("headlines", str(wh.path), _release_key(wh, None))
    return RESULTS.get_or_compute(key, lambda: _headline_cards(wh))


def _headline_cards(wh: Warehouse) -> tuple[list[dict[str, Any]], list[str]]:
    from immfacts.metrics import headline_metrics

    problems: list[str] = []
    try:
        with ENGINE_LOCK:
            results = list(headline_metrics(wh))
    except WarehouseError as e:
        problems.append(f"{e.message} — {e.hint}" if e.hint else e.message)
        results = []
    index = {d["id"]: d for d in catalogue()}
    results += _reference_headlines(wh, index, {r.metric for r in results}, problems)
    cards = []
    for r in results:
        info = index.get(r.metric, {})
        trend_points: list[tuple[str, Any]] = []
        dim = _trend_dimension(info)
        if dim:
            try:
                t = cached_metric(wh, r.metric, by=dim, variant=r.variant)
                groups = list(t.groups or [dim])
                trend_points = [(group_label(row, groups), row.get("value")) for row in (t.rows or [])]
            except ImmfactsError as e:
                problems.append(f"{r.metric} trend: {e.message}")
        variants = r.variants or [{"variant": r.variant, "value": r.value}]
        q = MetricQuery(metric=r.metric, period=(r.period or {}).get("text") or None)
        shown = trend_points[-TREND_POINTS:]
        cards.append(
            {
                "result": r,
                "info": info,
                "variants": variants,
                "trend": charts.sparkline(shown, r.unit),
                "trend_text": f"{shown[0][0]}–{shown[-1][0]}" if len(shown) >= 2 else "",
                "explore_url": q.explore_url(),
            }
        )
    return cards, problems


# --- reference sources ---------------------------------------------------------------------
def sources() -> list[dict[str, Any]]:
    """The bundled reference series with their citations and coverage (``immfacts.reference.sources``)."""
    from immfacts.reference import sources as _sources

    return [_as_dict(s) for s in _sources()]
