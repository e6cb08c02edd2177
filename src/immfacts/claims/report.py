"""The check report: one entry per numeric claim, in the JSON contract of PRODUCT.md.

``CheckReport.to_dict()`` is the contract every face renders::

    {"as_of", "synthetic", "source", "text", "summary",
     "claims": [{"span", "sentence", "claimed": {"value", "unit", "comparator"}, "metric",
                 "scope", "period": {"start", "end", "text"}, "computed": [{"variant", "value"}],
                 "verdict", "tolerance", "explanation", "provenance", …}]}

Percents are fractions (77 % → 0.77). A verdict computed from a SYNTHETIC sample release
carries ``"illustrative": true``; the report carries ``"synthetic": true`` when any value in
it is synthetic. ``CheckReport.from_dict`` reads a saved report back (the web app shows the
demo's saved report).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClaimResult:
    """One checked claim (the dict form is the contract; this class only holds it)."""

    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def verdict(self) -> str:
        return self.data["verdict"]

    @property
    def metric(self) -> str | None:
        return self.data.get("metric")

    @property
    def span(self) -> tuple[int, int]:
        s = self.data["span"]
        return int(s[0]), int(s[1])


@dataclass
class CheckReport:
    """The result of checking one text: its claims and where the text came from."""

    as_of: str
    text: str
    claims: list[ClaimResult] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)  # {"kind": text|file|url, "url", "title", "date"}
    warehouse: dict[str, Any] | None = None  # release provenance, when a warehouse was used
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return any(c.get("illustrative") or c.get("synthetic") for c in self.claims) or bool(
            (self.warehouse or {}).get("synthetic"))

    def summary(self) -> dict[str, int]:
        return dict(Counter(c.verdict for c in self.claims))

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see module docstring)."""
        return {
            "as_of": self.as_of,
            "synthetic": self.synthetic,
            "source": self.source,
            "release": self.warehouse,
            "summary": self.summary(),
            "claims": [c.data for c in self.claims],
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckReport:
        """Read back a report written by :meth:`to_dict`."""
        return cls(
            as_of=d.get("as_of", ""),
            text=d.get("text", ""),
            claims=[ClaimResult(c) for c in d.get("claims", [])],
            source=d.get("source") or {},
            warehouse=d.get("release"),
        )
