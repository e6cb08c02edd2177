"""Tolerance: which true values a written number with a comparator is consistent with.

A reporter's number is rounded, and its comparator says which side of it the truth lies on.
The rules (``v`` the written value, ``s`` the step of its last written digit, ``h`` the
rounding half-width ``s/2``, for counts capped at 10 % of ``|v|`` so that "2 million" does not admit
1.5 million):

===========  ===============================  =========================================
comparator   interval                         example
===========  ===============================  =========================================
exact        ``[v - h, v + h)``               "3.5 million" → [3.45M, 3.55M); "77%" → [76.5%, 77.5%)
approx       ``[v - 2h, v + 2h)``             "about 3.5 million" → [3.4M, 3.6M) (rounding interval doubled)
more_than    ``(v, v·1.25]``                  "more than 350,000" → (350,000, 437,500]
at_least     ``[v, v·1.25]``                  "at least 350,000"
less_than    ``[v·0.8, v)``                   "fewer than 20,000" → [16,000, 20,000)
nearly       ``[v - d, v]``                   "nearly 2.5 million" → [2.375M, 2.5M]
===========  ===============================  =========================================

* **The sane upper bound of "more than" / "at least"** is 25 % above the written number
  (``MORE_THAN_MAX``): "more than 350,000" for a true 900,000 is literally true but
  understates the figure by more than half, and the verdict says ``understated``. The lower
  bound of "less than" mirrors it (80 % of the written number).
* **"Nearly" / "almost"** means slightly below: ``d = min(max(2h, 5 % of v), 10 % of v)`` for
  counts; for percents ``d = max(2h, 2 percentage points)``.
* Percents (fractions) never exceed [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

COMPARATORS = ("exact", "approx", "more_than", "less_than", "at_least", "nearly")
MORE_THAN_MAX = 1.25
LESS_THAN_MIN = 0.8
ROUNDING_CAP = 0.10


@dataclass(frozen=True)
class Tolerance:
    """An interval of true values consistent with a claim, and the rule that made it."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool
    rule: str

    def contains(self, x: float | None) -> bool:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return False
        above_low = x >= self.low if self.low_closed else x > self.low
        below_high = x <= self.high if self.high_closed else x < self.high
        return above_low and below_high

    def side(self, x: float) -> int:
        """-1 when the true value is below the interval (the claim overstates), +1 above, 0 inside."""
        if self.contains(x):
            return 0
        below = x < self.low or (x == self.low and not self.low_closed)
        return -1 if below else 1

    def distance(self, x: float) -> float:
        """Relative distance from ``x`` to the nearest end (0 inside)."""
        if self.contains(x):
            return 0.0
        edge = self.low if self.side(x) < 0 else self.high
        scale = max(abs(edge), 1e-12)
        return abs(x - edge) / scale

    def to_dict(self) -> dict[str, object]:
        lb = "[" if self.low_closed else "("
        rb = "]" if self.high_closed else ")"
        return {
            "low": self.low,
            "high": self.high,
            "interval": f"{lb}{_g(self.low)}, {_g(self.high)}{rb}",
            "rule": self.rule,
        }


def _g(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1000 else f"{x:,.0f}"


def half_width(value: float, step: float, unit: str = "count") -> float:
    """Rounding half-width of a written number; for counts capped at 10 % of its size."""
    h = abs(step) / 2.0
    if value and unit != "percent":
        h = min(h, ROUNDING_CAP * abs(value))
    return h


def tolerance(value: float, step: float, comparator: str = "exact", unit: str = "count") -> Tolerance:
    """The interval of true values consistent with ``comparator value`` written to ``step``."""
    if comparator not in COMPARATORS:
        raise ValueError(f"unknown comparator {comparator!r}")
    v = float(value)
    h = half_width(v, step, unit)
    mag = abs(v)
    if comparator == "exact":
        t = Tolerance(v - h, v + h, True, False, f"rounding: written to the nearest {_g(step)}")
    elif comparator == "approx":
        t = Tolerance(v - 2 * h, v + 2 * h, True, False,
                      f"approximate: the rounding interval (±{_g(h)}) doubled")
    elif comparator == "more_than":
        t = Tolerance(v, v + (MORE_THAN_MAX - 1) * mag, False, True,
                      f"more than: above {_g(v)}, and at most {MORE_THAN_MAX:g}× it (larger values are understated)")
    elif comparator == "at_least":
        t = Tolerance(v, v + (MORE_THAN_MAX - 1) * mag, True, True,
                      f"at least: {_g(v)} or more, and at most {MORE_THAN_MAX:g}× it")
    elif comparator == "less_than":
        t = Tolerance(v - (1 - LESS_THAN_MIN) * mag, v, True, False,
                      f"less than: below {_g(v)}, and at least {LESS_THAN_MIN:g}× it (smaller values are overstated)")
    else:  # nearly
        d = max(2 * h, 0.02) if unit == "percent" else min(max(2 * h, 0.05 * mag), ROUNDING_CAP * mag)
        t = Tolerance(v - d, v, True, True, f"nearly: slightly below {_g(v)} (within {_g(d)})")
    if unit == "percent":
        t = Tolerance(max(t.low, 0.0), min(t.high, 1.0), t.low_closed or t.low < 0,
                      t.high_closed or t.high > 1, t.rule)
    return t
