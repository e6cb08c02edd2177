"""Verdicts: a claimed number against the computed values, under every definition.

Given the tolerance of the claim (:mod:`~immfacts.claims.tolerance`) and the values computed
for the matched metric — one per (variant, period reading), the default variant on the
primary reading first — plus values of the metric's *confusable* quantities:

* ``consistent`` — the default definition on the primary reading is within tolerance;
* ``consistent_under_variant`` — only another named definition (or period reading) fits;
  the verdict names it;
* ``misattributed`` — nothing of the matched metric fits, but another catalogue quantity with
  the same unit and period does (e.g. the total court backlog called an "asylum backlog");
  the verdict names it;
* ``overstated`` / ``understated`` — outside tolerance under every variant: the claim is
  above (overstated) or below (understated) the default definition's value;
* ``not_checkable`` — nothing could be computed; the reason says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from immfacts.claims.tolerance import Tolerance

VERDICTS = (
    "consistent",
    "consistent_under_variant",
    "overstated",
    "understated",
    "misattributed",
    "not_checkable",
)


@dataclass(frozen=True)
class Value:
    """One computed value: a variant of a metric on one period reading, from one source."""

    metric: str
    variant: str | None
    value: float | None
    reading: str = "primary"
    default: bool = False
    primary_reading: bool = True
    source: str = ""  # warehouse | reference | published
    label: str | None = None  # for confusables: what the quantity is
    period: dict[str, Any] | None = None
    synthetic: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def name(self) -> str:
        parts = [self.variant or "default"]
        if not self.primary_reading:
            parts.append(f"period read as {self.reading}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    under: Value | None = None  # the value that fits (or the default one for over/understated)
    reason: str | None = None


def decide(tol: Tolerance, values: list[Value], confusables: list[Value] | None = None) -> Verdict:
    """The verdict for a claim with tolerance ``tol`` against ``values`` (see module doc)."""
    usable = [v for v in values if v.value is not None]
    if not usable:
        return Verdict("not_checkable", reason="nothing could be computed for this claim")
    default = next((v for v in usable if v.default and v.primary_reading), None) or usable[0]
    if tol.contains(default.value):
        return Verdict("consistent", default)
    fitting = [v for v in usable if v is not default and tol.contains(v.value)]
    if fitting:
        # prefer a named variant on the primary reading, then other readings
        fitting.sort(key=lambda v: (not v.primary_reading, not v.default, tol.distance(v.value)))
        return Verdict("consistent_under_variant", fitting[0])
    for c in confusables or []:
        if c.value is not None and tol.contains(c.value):
            return Verdict("misattributed", c)
    side = tol.side(float(default.value))
    return Verdict("overstated" if side < 0 else "understated", default)


def explain(verdict: Verdict, claimed: str, tol: Tolerance, default: Value | None, fmt) -> str:
    """One plain-English sentence saying why."""
    v = verdict
    if v.verdict == "not_checkable":
        return f"Not checkable: {v.reason}."
    d = default or v.under
    dv = fmt(d.value) if d else "—"
    if v.verdict == "consistent":
        return f"{claimed} is consistent with {dv} ({d.name()}); tolerance {tol.to_dict()['interval']}."
    if v.verdict == "consistent_under_variant":
        u = v.under
        return (f"{claimed} fits only under “{u.name()}” ({fmt(u.value)}); the default definition gives {dv}, "
                f"outside {tol.to_dict()['interval']}.")
    if v.verdict == "misattributed":
        u = v.under
        return (f"{claimed} does not fit this quantity ({dv}) but matches {u.label or u.metric} "
                f"({u.metric}{' / ' + u.variant if u.variant else ''}: {fmt(u.value)}) — the number belongs to a different statistic.")
    word = "above" if v.verdict == "overstated" else "below"
    return (f"{claimed} is {word} every definition computed; the default gives {dv}, outside {tol.to_dict()['interval']}.")
