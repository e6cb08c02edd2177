"""The metric catalogue: every statistic declared as data, computed on DuckDB or Spark.

* ``definitions/*.yaml`` — the registry (one file per topic); see :mod:`.spec` for the fields.
* :mod:`.registry` — loads and validates it, returning every problem at once.
* :mod:`.kinds` — the closed set of metric kinds, each building an Ibis expression.
* :mod:`.query` — periods, as-of dates, ``--by`` and ``--where``.
* :mod:`.engines` — opens DuckDB or Spark over the release's model Parquet (the only seam).
* :mod:`.api` — ``compute`` / ``explain`` / ``catalogue`` / ``headline_metrics``.
* :mod:`.docs` — writes docs/metrics.md from the registry.

``Warehouse.metric(...)`` calls :func:`compute`.
"""

from __future__ import annotations

from immfacts.metrics.api import (
    catalogue,
    compute,
    explain,
    headline_metrics,
    is_reference,
    latest_full_fy,
)
from immfacts.metrics.registry import check, get, metrics

__all__ = [
    "catalogue",
    "check",
    "compute",
    "explain",
    "get",
    "headline_metrics",
    "is_reference",
    "latest_full_fy",
    "metrics",
]
