"""Measuring the claim checker on a labelled set (``eval/dev.jsonl``, format in eval/README.md).

Each line is a sentence (or short passage) with its publication date and the claims a
careful reader finds in it, labelled with the fields of the JSON contract. The scores:

* **extraction precision / recall** — a predicted claim matches a labelled one when the
  claimed value (to 1e-9 relative) and unit agree; each label matches at most once;
* **comparator accuracy**, **metric accuracy** (``null`` = outside the catalogue) and
  **period accuracy** (primary reading's start and end) — over matched claims whose label
  gives the field;
* **verdict accuracy** — over matched claims whose label gives a verdict. Labels give
  verdicts only where the answer does not depend on a warehouse: reference-series claims
  (CBP, gotaways, Census, EOIR published — bundled, real data), and ``not_checkable``
  claims (polls, out-of-catalogue statistics). EOIR case-data claims carry no verdict label,
  because their verdict depends on the release loaded (a SYNTHETIC sample in CI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from immfacts.errors import InputError

FIELDS = ("comparator", "metric", "period", "verdict")


def load(path: str | Path) -> list[dict[str, Any]]:
    """The labelled items of a JSON-lines file (blank lines and ``//`` comments skipped)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file", "give a JSON-lines file such as eval/dev.jsonl")
    items = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        try:
            item = json.loads(s)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not valid JSON ({e.msg})", "one JSON object per line; see eval/README.md") from None
        if "text" not in item or "claims" not in item:
            raise InputError(f"{path}:{n}: an item needs 'text' and 'claims'", "see eval/README.md")
        item["_line"] = n
        items.append(item)
    return items


def _same_value(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def _pair(pred: list[dict[str, Any]], gold: list[dict[str, Any]]) -> list[tuple[dict, dict]]:
    used: set[int] = set()
    pairs = []
    for g in gold:
        for i, p in enumerate(pred):
            if i in used:
                continue
            pc = p["claimed"]
            if pc["unit"] == g.get("unit", "count") and _same_value(pc["value"], g["value"]):
                used.add(i)
                pairs.append((p, g))
                break
    return pairs


def _period_ok(p: dict[str, Any], g: dict[str, Any]) -> bool:
    pp, gp = p.get("period") or {}, g["period"]
    return pp.get("start") == gp.get("start") and pp.get("end") == gp.get("end")


def evaluate(path: str | Path, warehouse: Any = None) -> dict[str, Any]:
    """Scores of the checker on the labelled file (see module docstring)."""
    from immfacts.claims.check import check

    items = load(path)
    n_pred = n_gold = n_match = 0
    hits = dict.fromkeys(FIELDS, 0)
    totals = dict.fromkeys(FIELDS, 0)
    errors: list[dict[str, Any]] = []
    for item in items:
        report = check(item["text"], as_of=item.get("as_of"), warehouse=warehouse)
        pred = [c.data for c in report.claims]
        gold = item["claims"]
        pairs = _pair(pred, gold)
        n_pred += len(pred)
        n_gold += len(gold)
        n_match += len(pairs)
        matched_pred = {id(p) for p, _ in pairs}
        matched_gold = {id(g) for _, g in pairs}
        for p in pred:
            if id(p) not in matched_pred:
                errors.append({"id": item.get("id"), "kind": "spurious", "text": p.get("text"), "sentence": item["text"]})
        for g in gold:
            if id(g) not in matched_gold:
                errors.append({"id": item.get("id"), "kind": "missed", "value": g["value"], "sentence": item["text"]})
        for p, g in pairs:
            for f in FIELDS:
                if f not in g or (f == "verdict" and g[f] is None) or (f == "period" and g[f] is None):
                    continue
                totals[f] += 1
                if f == "period":
                    ok = _period_ok(p, g)
                    got = {k: (p.get("period") or {}).get(k) for k in ("start", "end")}
                elif f == "comparator":
                    ok = p["claimed"]["comparator"] == g[f]
                    got = p["claimed"]["comparator"]
                else:
                    ok = p.get(f) == g[f]
                    got = p.get(f)
                hits[f] += ok
                if not ok:
                    errors.append({"id": item.get("id"), "kind": f, "expected": g[f], "got": got,
                                   "sentence": item["text"], "text": p.get("text")})
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None
    return {
        "file": str(path),
        "items": len(items),
        "claims_labelled": n_gold,
        "claims_predicted": n_pred,
        "claims_matched": n_match,
        "extraction_precision": ratio(n_match, n_pred),
        "extraction_recall": ratio(n_match, n_gold),
        **{f"{f}_accuracy": ratio(hits[f], totals[f]) for f in FIELDS},
        **{f"{f}_scored": totals[f] for f in FIELDS},
        "errors": errors,
    }


def render_scores(scores: dict[str, Any], console: Any, show_errors: bool = False) -> None:
    """A Rich table of the scores (and, optionally, every mismatch)."""
    from rich.table import Table

    t = Table(title=f"Claim checker on {scores['file']} ({scores['items']} items, {scores['claims_labelled']} labelled claims)")
    t.add_column("score")
    t.add_column("value", justify="right")
    t.add_column("over", justify="right")
    t.add_row("extraction precision", _pct(scores["extraction_precision"]), str(scores["claims_predicted"]))
    t.add_row("extraction recall", _pct(scores["extraction_recall"]), str(scores["claims_labelled"]))
    for f in FIELDS:
        t.add_row(f"{f} accuracy", _pct(scores[f"{f}_accuracy"]), str(scores[f"{f}_scored"]))
    console.print(t)
    if show_errors:
        for e in scores["errors"]:
            console.print(e, highlight=False)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"
