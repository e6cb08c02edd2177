"""The statistics of the benchmark: percentiles, min/median/max, paired ratios, growth fits,
and the targets of issue 8 with how far a missed one is off.

Timings on a shared machine are noisy, so comparisons are *ratios of runs made side by side*
(round *i* of immfacts against round *i* of the floor), summarised by their median, and
growth is a least-squares slope on log-log axes rather than a two-point quotient.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks.

    Matches ``numpy.percentile``'s default; one value is its own every percentile.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """``{n, min, median, max}`` of some values (empty input gives ``{n: 0}``)."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": float(min(values)), "median": float(statistics.median(values)),
            "max": float(max(values))}


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """``{n, p50_ms, p95_ms, max_ms}`` of latencies given in seconds."""
    return {"n": len(seconds), "p50_ms": 1000 * percentile(seconds, 50), "p95_ms": 1000 * percentile(seconds, 95),
            "max_ms": 1000 * max(seconds)}


def paired_ratios(numerators: Sequence[float | None], denominators: Sequence[float | None]) -> list[float]:
    """Ratios of runs made in the same round (``num[i] / den[i]``), skipping failed or empty pairs."""
    out = []
    for a, b in zip(numerators, denominators, strict=True):
        if a is None or b is None or b <= 0:
            continue
        out.append(a / b)
    return out


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (the exponent *k* of y ∝ x^k).

    ≈ 1 means linear growth, ≈ 0 flat; None with fewer than two distinct positive points.
    """
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    return sxy / sxx


def describe_growth(slope: float | None) -> str:
    """Words for a log-log slope: sub-linear, ~linear, super-linear (or flat)."""
    if slope is None:
        return "unknown (fewer than two scales)"
    if slope < 0.2:
        return "flat"
    if slope < 0.85:
        return "sub-linear"
    if slope <= 1.15:
        return "~linear"
    return "super-linear"


@dataclass
class Target:
    """One acceptance target: ``value <op> threshold`` (op is ``<=``, ``<`` or ``>=``)."""

    id: str
    description: str
    value: float | None
    op: str
    threshold: float
    unit: str = ""
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        if self.op == "<=":
            return self.value <= self.threshold
        if self.op == "<":
            return self.value < self.threshold
        if self.op == ">=":
            return self.value >= self.threshold
        raise ValueError(f"unknown comparison {self.op!r}")

    @property
    def miss(self) -> float | None:
        """How far a missed target is off, as a fraction of the threshold (0 when met).

        For an upper bound, how much the value exceeds it (1.8 vs ≤ 1.5 → 0.2); for a lower
        bound, how much of the threshold is lacking (2 vs ≥ 3 → 0.333).
        """
        if self.value is None or self.met:
            return None if self.value is None else 0.0
        if self.op in ("<=", "<"):
            return self.value / self.threshold - 1.0
        return 1.0 - self.value / self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "miss": self.miss}

    def verdict(self) -> str:
        """``✓``, ``✗ missed by N %`` or ``– not measured``."""
        if self.met is None:
            return "– not measured"
        if self.met:
            return "✓"
        return f"✗ missed by {100 * self.miss:.0f} %"
