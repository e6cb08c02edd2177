"""The claim lexicon (``lexicon.yaml``) loaded and compiled: metric heads, scopes, out-of-scope.

The vocabulary is data so that fact-checkers can extend it without writing Python; this
module only compiles the regexes once and answers "which entries match where".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])", re.I)


@dataclass(frozen=True)
class MetricEntry:
    """How text names one catalogue metric."""

    key: str  # lexicon key (usually the metric id)
    metric: str  # catalogue metric id
    unit: str
    kind: str  # flow | stock
    heads: tuple[re.Pattern[str], ...]
    requires: tuple[re.Pattern[str], ...] = ()
    forbids: tuple[re.Pattern[str], ...] = ()
    priority: int = 1
    complement: bool = False
    component: str | None = None
    published: str | None = None
    confusable: tuple[dict[str, Any], ...] = ()
    judge_level: bool = False

    @property
    def source(self) -> str:
        return "eoir" if self.metric.startswith("eoir.") and not self.metric.startswith("eoir.published") else "reference"


@dataclass(frozen=True)
class ScopeEntry:
    pattern: re.Pattern[str]
    key: str
    value: Any
    label: str
    only_eoir: bool = False
    not_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutOfScope:
    pattern: re.Pattern[str]
    reason: str
    override: bool = False


@dataclass(frozen=True)
class Lexicon:
    metrics: tuple[MetricEntry, ...]
    scopes: tuple[ScopeEntry, ...]
    nationalities: tuple[tuple[str, re.Pattern[str]], ...]
    out_of_scope: tuple[OutOfScope, ...]
    domain: re.Pattern[str]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def entry(self, metric: str) -> MetricEntry | None:
        for e in self.metrics:
            if e.metric == metric and not e.complement:
                return e
        return None


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Load and compile the lexicon (the bundled one by default)."""
    raw = yaml.safe_load(Path(path or LEXICON_FILE).read_text(encoding="utf-8"))
    metrics = []
    for key, spec in raw["metrics"].items():
        metrics.append(
            MetricEntry(
                key=key,
                metric=spec.get("metric", key),
                unit=spec["unit"],
                kind=spec["kind"],
                heads=tuple(_rx(h) for h in spec["heads"]),
                requires=tuple(_rx(r) for r in spec.get("requires", [])),
                forbids=tuple(_rx(f) for f in spec.get("forbids", [])),
                priority=int(spec.get("priority", 1)),
                complement=bool(spec.get("complement", False)),
                component=spec.get("component"),
                published=spec.get("published"),
                confusable=tuple(spec.get("confusable", [])),
                judge_level=bool(spec.get("judge_level", False)),
            )
        )
    scopes = tuple(
        ScopeEntry(_rx(s["pattern"]), s["key"], s["value"], s["label"], bool(s.get("only_eoir")),
                   tuple(s.get("not_for", [])))
        for s in raw["scopes"]
    )
    nats = tuple(
        (country, _rx("|".join(re.escape(n) for n in names)))
        for country, names in raw["nationalities"].items()
    )
    oos = tuple(
        OutOfScope(_rx(o["pattern"]), o["reason"], o["reason"].startswith(("opinion poll", "daily")))
        for o in raw["out_of_scope"]
    )
    return Lexicon(tuple(metrics), scopes, nats, oos, re.compile(raw["domain_words"], re.I), raw)
