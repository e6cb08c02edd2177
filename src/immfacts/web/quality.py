"""The data-quality view: what the ingest report says about a release, arranged for reading.

The ingest report (``report.json`` of each release, the vocabulary of the shared contract)
accounts for every input row: per table ``rows_read == rows_loaded + rows_quarantined``,
repairs by kind, quarantine by reason, agreement with the release's own ``Count.txt``,
missing/extra columns, value counters per column, orphans and case-type conflicts. This
module checks the reconciliation invariant itself (so the page shows a failure rather than
trusting a flag), totals repairs and quarantine reasons across tables, and adds the latest
release-to-release diff from :func:`immfacts.lifecycle.latest_diff` when that stage can
compute one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from immfacts.errors import ImmfactsError
from immfacts.warehouse import Warehouse

VALUE_COUNTERS = ("null_tokens", "trimmed", "invalid_codes", "bad_dates")


def _int(v: Any) -> int:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def table_quality(name: str, t: dict[str, Any]) -> dict[str, Any]:
    """One table's line of the reconciliation, with the invariant checked here."""
    read, loaded, quarantined = _int(t.get("rows_read")), _int(t.get("rows_loaded")), _int(t.get("rows_quarantined"))
    repaired = {k: _int(v) for k, v in (t.get("rows_repaired") or {}).items() if _int(v)}
    reasons = {k: _int(v) for k, v in (t.get("quarantined") or {}).items() if _int(v)}
    values: dict[str, dict[str, int]] = {}
    totals = Counter()
    for col, counters in (t.get("values") or {}).items():
        row = {c: _int((counters or {}).get(c)) for c in VALUE_COUNTERS}
        if any(row.values()):
            values[col] = row
            totals.update(row)
    count_txt = t.get("count_txt")
    diff = t.get("count_txt_diff")
    count_status = "absent" if count_txt is None else ("agrees" if not diff else "differs")
    return {
        "name": name,
        "rows_read": read,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "reconciled": read == loaded + quarantined,
        "repaired": repaired,
        "repaired_total": sum(repaired.values()),
        "quarantined": reasons,
        "count_txt": count_txt,
        "count_txt_diff": diff,
        "count_status": count_status,
        "columns_missing": list(t.get("columns_missing") or []),
        "columns_extra": list(t.get("columns_extra") or []),
        "column_values": values,
        "value_totals": {c: totals.get(c, 0) for c in VALUE_COUNTERS},
        "orphans": _int(t.get("orphans")),
        "case_type_conflicts": _int(t.get("case_type_conflicts")),
        "elapsed_s": t.get("elapsed_s"),
        "mb_per_s": t.get("mb_per_s"),
    }


def summarize_report(report: dict[str, Any]) -> dict[str, Any]:
    """The whole report as the page shows it: tables, totals, lookups, overall verdicts."""
    tables = [table_quality(name, t or {}) for name, t in (report.get("tables") or {}).items()]
    reasons: Counter[str] = Counter()
    repairs: Counter[str] = Counter()
    for t in tables:
        reasons.update(t["quarantined"])
        repairs.update(t["repaired"])
    lookups = []
    for name, lk in (report.get("lookups") or {}).items():
        lk = lk if isinstance(lk, dict) else {"value": lk}
        lookups.append({"name": name, **lk})
    return {
        "release": report.get("release") or {},
        "tables": tables,
        "all_reconciled": all(t["reconciled"] for t in tables),
        "rows_read": sum(t["rows_read"] for t in tables),
        "rows_loaded": sum(t["rows_loaded"] for t in tables),
        "rows_quarantined": sum(t["rows_quarantined"] for t in tables),
        "quarantine_reasons": dict(reasons.most_common()),
        "repair_kinds": dict(repairs.most_common()),
        "count_txt_disagreements": [t["name"] for t in tables if t["count_status"] == "differs"],
        "lookups": lookups,
        "warnings": [str(w) for w in report.get("warnings") or []],
        "elapsed_s": report.get("elapsed_s"),
    }


def latest_diff(wh: Warehouse) -> tuple[dict[str, Any] | None, str | None]:
    """The lifecycle stage's diff of the two newest releases, or why there is none."""
    try:
        from immfacts.lifecycle import latest_diff as _latest_diff
    except ImportError:
        return None, "release diffing is not available in this installation"
    try:
        diff = _latest_diff(wh)
    except ImmfactsError as e:
        return None, e.message
    if diff is None:
        return None, "no release diff has been computed yet: run `immfacts diff OLD NEW` after ingesting a second release"
    if hasattr(diff, "to_dict"):
        diff = diff.to_dict()
    return (diff if isinstance(diff, dict) else {"diff": diff}), None


def quality(wh: Warehouse, release_id: str | None = None) -> dict[str, Any]:
    """Everything the data-quality page shows for one release (default: the newest)."""
    rel = wh.release(release_id)
    report = rel.report()
    summary = summarize_report(report) if report else None
    diff, diff_note = latest_diff(wh)
    return {"release_id": rel.id, "meta": rel.meta, "report": summary, "diff": diff, "diff_note": diff_note}
