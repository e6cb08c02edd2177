"""Computing what a claim measures: the catalogue metric on a period, under every variant.

EOIR case-data metrics come from the warehouse (``Warehouse.metric``); reference series
(CBP, gotaways, Census, EOIR published) from :func:`immfacts.reference.compute`, under the
edition current at the publication date and the latest edition. Results are cached per
(metric, period, filters, variant, edition) within one check, so a metric asked for by
several claims of an article is computed once.

Failures become *reasons* (:class:`Unavailable`), never exceptions: no warehouse → "data
not loaded"; a period outside the data → "period not covered"; a filter the metric does not
have → "scope not available".

Monthly reference series and open-ended periods: a period running "to the publication
date" ends with the last month whose figures were out by then (a month is published about
three weeks after it ends, :data:`PUBLICATION_LAG_DAYS`), and a period starting mid-month
starts with the next whole month ("under Biden" = 2021-02 ..).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from immfacts.claims.when import Reading
from immfacts.errors import ImmfactsError, PeriodError, UnknownMetricError, WarehouseError

PUBLICATION_LAG_DAYS = 20
MONTHLY_SERIES = ("cbp.encounters",)


@dataclass
class Unavailable:
    """Why a value could not be computed."""

    reason: str


@dataclass
class Computed:
    """A metric computed on one period (all variants), with the result it came from."""

    metric: str
    reading: Reading
    values: list[dict[str, Any]]  # [{variant, value, default, numerator, denominator}]
    result: Any  # immfacts.provenance.Result
    edition: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return bool(getattr(self.result, "synthetic", False))

    def default(self) -> dict[str, Any] | None:
        return next((v for v in self.values if v.get("default")), self.values[0] if self.values else None)


def snap_monthly(reading: Reading, as_of: dt.date) -> Reading:
    """Whole months only: start at the first whole month, end at the last published one."""
    if reading.start is None:
        return reading
    start, end, notes = reading.start, reading.end, list(reading.notes)
    if start.day != 1:
        nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        notes.append(f"monthly data: starts with the first whole month, {nxt:%Y-%m}")
        start = nxt
    last_published = (as_of - dt.timedelta(days=PUBLICATION_LAG_DAYS)).replace(day=1) - dt.timedelta(days=1)
    month_end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if end != month_end or end > last_published:
        new_end = min(end.replace(day=1) - dt.timedelta(days=1) if end != month_end else end, last_published)
        if new_end != end:
            notes.append(f"monthly data: ends with the last whole month published by the publication date, {new_end:%Y-%m}")
        end = new_end
    if start > end:
        return reading
    return Reading(start, end, reading.label, reading.text, tuple(notes))


# Results shared between checks in one process (a warm server or a batch): reference series
# keyed by the reference store in use, EOIR metrics by warehouse folder and release.
_SHARED: dict[tuple, Computed | Unavailable] = {}
_SHARED_MAX = 4096


def _reference_key() -> Any:
    try:
        from immfacts.reference.store import get_store

        return id(get_store())
    except Exception:  # noqa: BLE001 - no reference stage: nothing to share
        return None


class Computer:
    """Computes metrics for one check, with a cache (and a process-wide one behind it)."""

    def __init__(self, warehouse: Any, as_of: dt.date) -> None:
        self.as_of = as_of
        self.warehouse = warehouse
        self._cache: dict[tuple, Computed | Unavailable] = {}
        self._ref_key = _reference_key()
        self._wh_key: Any = None
        if warehouse is not None:
            try:
                rel = warehouse.release()
                self._wh_key = (str(warehouse.path), rel.id, rel.meta.get("ingested_at"))
            except Exception:  # noqa: BLE001 - an unreadable warehouse is reported per claim
                self._wh_key = None

    # -- public -------------------------------------------------------------------------
    def compute(self, metric: str, reading: Reading, where: dict[str, Any] | None = None,
                edition: str | None = None, by: str | None = None) -> Computed | Unavailable:
        """All variants of ``metric`` on ``reading`` (cached)."""
        if metric in MONTHLY_SERIES:
            reading = snap_monthly(reading, self.as_of)
        key = (metric, reading.start, reading.end, tuple(sorted((where or {}).items())), edition, by)
        if key not in self._cache:
            ref = self.is_reference(metric)
            owner = self._ref_key if ref else self._wh_key
            shared = (owner, self.as_of if edition == "as-of" else None, *key) if owner is not None else None
            if shared is not None and shared in _SHARED:
                self._cache[key] = _SHARED[shared]
            else:
                self._cache[key] = self._compute(metric, reading, where or {}, edition, by)
                if shared is not None:
                    if len(_SHARED) >= _SHARED_MAX:
                        _SHARED.clear()
                    _SHARED[shared] = self._cache[key]
        return self._cache[key]

    @staticmethod
    def is_reference(metric: str) -> bool:
        return not metric.startswith("eoir.") or metric.startswith("eoir.published")

    # -- internals ----------------------------------------------------------------------
    def _compute(self, metric, reading, where, edition, by) -> Computed | Unavailable:
        period = reading.period_string()
        try:
            if self.is_reference(metric):
                from immfacts import reference
                from immfacts.reference.specs import is_reference_metric

                if not is_reference_metric(metric):
                    return Unavailable(f"out of catalogue: {metric} is not a reference series")

                kwargs: dict[str, Any] = {"period": period, "where": where or None, "variant": "all"}
                if by:
                    kwargs["by"] = by
                if edition:
                    kwargs["edition"] = edition
                    if edition != "latest":
                        kwargs["as_of"] = self.as_of
                result = reference.compute(metric, **kwargs)
                _fill_missing_variants(reference, metric, kwargs, result)
            else:
                if self.warehouse is None:
                    return Unavailable("data not loaded: no EOIR release in the warehouse (run `immfacts ingest` or `make demo`)")
                result = self.warehouse.metric(metric, period=period, where=where or None, variant="all", by=by)
        except WarehouseError as e:
            return Unavailable(f"data not loaded: {e.message}")
        except PeriodError as e:
            return Unavailable(f"period not covered: {e.message}")
        except UnknownMetricError as e:
            return Unavailable(f"out of catalogue: {e.message}")
        except ImmfactsError as e:
            return Unavailable(f"not computable: {e.message}")
        except (ImportError, AttributeError) as e:  # a stage not installed in this build
            return Unavailable(f"not computable: {e}")
        return Computed(metric, reading, _variant_values(result), result, edition)


def _fill_missing_variants(reference: Any, metric: str, kwargs: dict[str, Any], result: Any) -> None:
    """Ask again, one variant at a time, for variants that came back without a value or error."""
    for v in getattr(result, "variants", None) or []:
        if v.get("value") is None and not v.get("error") and v.get("variant"):
            try:
                one = reference.compute(metric, **{**kwargs, "variant": v["variant"]})
            except ImmfactsError as e:
                v["error"] = e.message
                continue
            v["value"] = one.value


def _variant_values(result: Any) -> list[dict[str, Any]]:
    """``[{variant, value, default, …}]`` from a Result (with or without ``variants``)."""
    default_name = getattr(result, "variant", None)
    rows = getattr(result, "variants", None) or []
    out = []
    for _i, r in enumerate(rows):
        d = dict(r)
        d.setdefault("variant", None)
        is_default = bool(d.get("default")) or (default_name is not None and d["variant"] == default_name)
        d["default"] = is_default
        out.append(d)
    if out and not any(d["default"] for d in out):
        out[0]["default"] = True
    if not out:
        out.append({"variant": default_name, "value": getattr(result, "value", None), "default": True,
                    "numerator": getattr(result, "numerator", None),
                    "denominator": getattr(result, "denominator", None),
                    "components": getattr(result, "components", {}) or {}})
    return out


def pick_value(entry: dict[str, Any], result: Any, component: str | None, complement: bool) -> float | None:
    """The number to compare: the value, one component of it, or its complement."""
    if component:
        comps = entry.get("components") or getattr(result, "components", {}) or {}
        v = comps.get(component)
        if isinstance(v, dict):
            v = v.get("value", v.get("n"))
    else:
        v = entry.get("value")
    if v is None:
        return None
    v = float(v)
    return 1.0 - v if complement else v
