"""Web benchmark: the web colleague's bounded localhost load test, run and recorded.

``bench/load_web.py`` (not ours to change) starts ``immfacts serve`` on 127.0.0.1, runs N
clients for T seconds over a fixed mix of metric queries and claim checks, and prints one JSON
line with requests, errors and p50/p95 per endpoint. The default ``make bench`` runs a short
bounded load (10 clients × 10 s); the full mode runs the issue's 50 clients × 30 s. Which one
ran is recorded with the numbers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import ROOT, run_child

MODES = {"short": (10, 10.0), "full": (50, 30.0)}


def run(warehouse: Path, mode: str = "short", log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the load test against ``warehouse``; the load test's own JSON plus how it ran."""
    clients, duration = MODES[mode]
    cmd = [sys.executable, str(ROOT / "bench" / "load_web.py"), "--clients", str(clients), "--duration",
           str(duration), "--warehouse", str(warehouse)]
    rec = run_child("load_web", cmd, env={"IMMFACTS_HOME": str(warehouse)}, timeout_s=600 + duration)
    out: dict[str, Any] = {"mode": mode, "clients": clients, "duration_s": duration, "exit_code": rec.exit_code,
                           "warehouse": str(warehouse), "result": rec.result}
    if rec.result is None:
        out["error"] = rec.stderr_tail[-800:] or "the load test printed no result"
        log(f"  web: FAILED (exit {rec.exit_code})")
        return out
    r = rec.result
    log(f"  web ({mode}: {clients} clients × {duration:.0f} s): {r.get('requests')} requests, "
        f"{r.get('errors')} errors, p50 {r.get('all', {}).get('p50_ms')} ms, p95 {r.get('all', {}).get('p95_ms')} ms")
    return out
