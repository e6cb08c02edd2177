"""Matching: which catalogue metric a number in a sentence measures, with which scope.

A deterministic, explainable grammar — not a model. For a number at a position:

1. every lexicon head (``lexicon.yaml``) found in the sentence is a candidate, if the
   metric's ``requires`` words are in the sentence and its ``forbids`` words are not in the
   number's own clause (the text between its neighbouring numbers);
2. a candidate's *cost* is its distance in words from the number (+1.5 when it precedes the
   number; +6 for every other number in between, which owns the words nearer to it);
3. the number's unit must be the metric's unit (a change claim may measure any unit);
4. the cheapest candidate wins; at equal cost the higher ``priority`` (the more specific
   metric: "asylum backlog" over "backlog") and then the longer head win;
5. an out-of-scope phrase (poll, ICE detention, deportations, daily figures, …) nearer than
   the winning head — or any poll/daily phrase at all — makes the claim ``not_checkable``.

The match records the words that decided it, so the report can say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from immfacts.claims.lexicon import Lexicon, MetricEntry, load_lexicon

_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class Match:
    """The outcome of matching one number: a metric with its scope, or a reason it has none."""

    entry: MetricEntry | None
    head: str | None = None
    head_span: tuple[int, int] | None = None
    cost: float = 0.0
    scope: dict[str, Any] = field(default_factory=dict)
    scope_words: tuple[str, ...] = ()
    not_checkable: str | None = None
    unit_mismatch: str | None = None

    @property
    def metric(self) -> str | None:
        return self.entry.metric if self.entry else None


def words_between(s: str, a: int, b: int) -> int:
    if b <= a:
        return 0
    return len(_WORD.findall(s[a:b]))


def _cost(sentence: str, num: tuple[int, int], span: tuple[int, int], others: list[tuple[int, int]]) -> float:
    if span[0] >= num[1]:
        lo, hi, before = num[1], span[0], False
    elif span[1] <= num[0]:
        lo, hi, before = span[1], num[0], True
    else:
        return 0.0
    d = words_between(sentence, lo, hi)
    cost = float(d) + (1.5 if before else 0.0)
    cost += 6.0 * sum(1 for o in others if o[0] >= lo and o[1] <= hi)
    # words nearer to another number belong to it ("31,859 were granted asylum and 102,550 …")
    for o in others:
        if before and o[1] > span[0]:
            continue
        if not before and o[0] < span[1]:
            continue
        gap = words_between(sentence, o[1], span[0]) if before else words_between(sentence, span[1], o[0])
        if gap < d or (before and gap == d):
            cost += 10.0
            break
    return cost


def _clause(num: tuple[int, int], others: list[tuple[int, int]], n: int) -> tuple[int, int]:
    lo = max([o[1] for o in others if o[1] <= num[0]], default=0)
    hi = min([o[0] for o in others if o[0] >= num[1]], default=n)
    return lo, hi


def find_scope(sentence: str, metric: str | None, lex: Lexicon | None = None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Scope filters named in the sentence (region, component, demographic, nationality, …)."""
    lex = lex or load_lexicon()
    filters: dict[str, Any] = {}
    words: list[str] = []
    eoir = bool(metric and metric.startswith("eoir."))
    for s in lex.scopes:
        if s.only_eoir and not eoir:
            continue
        if metric and metric in s.not_for:
            continue
        m = s.pattern.search(sentence)
        if m and s.key not in filters:
            filters[s.key] = s.value
            words.append(m.group(0))
    for country, pat in lex.nationalities:
        m = pat.search(sentence)
        if m and "nationality" not in filters:
            filters["nationality"] = country
            words.append(m.group(0))
    return filters, tuple(words)


def match_number(
    sentence: str,
    num: tuple[int, int],
    unit: str,
    others: list[tuple[int, int]],
    change: bool = False,
    lex: Lexicon | None = None,
) -> Match:
    """Match the number at ``num`` (a span in ``sentence``) to a metric, or say why not."""
    lex = lex or load_lexicon()
    clause = _clause(num, others, len(sentence))
    clause_text = sentence[clause[0]:clause[1]]
    best: tuple[tuple[float, int, int], MetricEntry, re.Match[str]] | None = None
    best_any_unit: tuple[float, MetricEntry, re.Match[str]] | None = None
    for e in lex.metrics:
        if e.requires and not any(r.search(sentence) for r in e.requires):
            continue
        if any(f.search(clause_text) for f in e.forbids):
            continue
        for h in e.heads:
            for m in h.finditer(sentence):
                c = _cost(sentence, num, m.span(), others)
                if best_any_unit is None or c < best_any_unit[0]:
                    best_any_unit = (c, e, m)
                unit_ok = e.unit == unit or (change and unit in ("percent", "ratio", "count")) or (
                    change and unit == "points" and e.unit == "percent")
                if not unit_ok:
                    continue
                key = (c, -e.priority, -(m.end() - m.start()))
                if best is None or key < best[0]:
                    best = (key, e, m)
    oos = None
    for o in lex.out_of_scope:
        for m in o.pattern.finditer(sentence):
            c = _cost(sentence, num, m.span(), others)
            if o.override and c <= 12:
                return Match(None, not_checkable=o.reason, head=m.group(0), head_span=m.span(), cost=c)
            if oos is None or c < oos[0]:
                oos = (c, o, m)
    if best is not None and best[0][0] <= 14:
        (c, _, _), e, m = best
        if e.metric == "eoir.asylum.grant_rate":
            judge = next((j for j in lex.metrics if j.judge_level), None)
            jm = next((h.search(sentence) for h in judge.heads if h.search(sentence)), None) if judge else None
            if jm is not None:
                e, m = judge, jm
        if oos is not None and oos[0] < c:
            return Match(None, not_checkable=oos[1].reason, head=oos[2].group(0), head_span=oos[2].span(), cost=oos[0])
        scope, words = find_scope(sentence, e.metric, lex)
        return Match(e, m.group(0), m.span(), c, scope, words)
    if oos is not None and oos[0] <= 14:
        return Match(None, not_checkable=oos[1].reason, head=oos[2].group(0), head_span=oos[2].span(), cost=oos[0])
    if best_any_unit is not None and best_any_unit[0] <= 8:
        c, e, m = best_any_unit
        what = {"percent": "a share or rate", "count": "a count", "days": "a duration",
                "points": "a change in percentage points", "ratio": "a multiple"}.get(unit, unit)
        return Match(None, head=m.group(0), head_span=m.span(), cost=c, unit_mismatch=e.metric,
                     not_checkable=f"{what} of “{m.group(0)}” is not a catalogue statistic "
                     f"({e.metric} is a {e.unit})")
    return Match(None)
