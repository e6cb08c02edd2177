"""Metric benchmark: warm p50/p95 latency of every catalogue metric on DuckDB, in-process.

On the scale-0.1 warehouse (and 1.0 when asked) each EOIR case-data metric of the registry is
computed with its default query (default period and variant) once to warm the session and
the caches, then ``repeats`` more times, timed one by one; then the same with
``variant="all"`` for metrics that have more than one variant. A metric whose query raises is
recorded with its error, not dropped. ``slowest`` lists the five worst p95s (what to profile).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import stats


def time_calls(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    """Seconds of one cold call, then of ``repeats`` warm calls."""
    t0 = time.perf_counter()
    fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    return cold, warm


def run(warehouse: Path, repeats: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Latencies of every registry metric (default, and ``variant="all"``) on ``warehouse``."""
    from immfacts.errors import ImmfactsError
    from immfacts.metrics import registry
    from immfacts.warehouse import Warehouse

    wh = Warehouse(warehouse)
    rel = wh.release()
    out: dict[str, Any] = {"warehouse": str(warehouse), "release": rel.id, "synthetic": rel.synthetic,
                           "engine": "duckdb", "repeats": repeats, "metrics": {}}
    for metric_id, spec in registry.metrics().items():
        modes = [("default", None)] + ([("all", "all")] if len(spec.variant_names) > 1 else [])
        for mode, variant in modes:
            key = f"{metric_id}" if mode == "default" else f"{metric_id} --variant all"
            try:
                cold, warm = time_calls(lambda m=metric_id, v=variant: wh.metric(m, variant=v, engine="duckdb"), repeats)
            except ImmfactsError as e:
                out["metrics"][key] = {"metric": metric_id, "mode": mode, "error": str(e)}
                log(f"  metric {key}: ERROR {e}")
                continue
            entry = {"metric": metric_id, "mode": mode, "cold_ms": 1000 * cold, **stats.latency_summary(warm)}
            out["metrics"][key] = entry
            log(f"  metric {key:48s} p50 {entry['p50_ms']:7.1f} ms  p95 {entry['p95_ms']:7.1f} ms")
    ok = [v for v in out["metrics"].values() if "p95_ms" in v]
    defaults = [v for v in ok if v["mode"] == "default"]
    out["worst_default_p95_ms"] = max((v["p95_ms"] for v in defaults), default=None)
    out["worst_all_p95_ms"] = max((v["p95_ms"] for v in ok if v["mode"] == "all"), default=None)
    out["errors"] = sorted(k for k, v in out["metrics"].items() if "error" in v)
    out["slowest"] = [k for k, _ in sorted(((k, v["p95_ms"]) for k, v in out["metrics"].items() if "p95_ms" in v),
                                           key=lambda kv: -kv[1])[:5]]
    return out
