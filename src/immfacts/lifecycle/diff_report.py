"""A release diff as Markdown: what ``immfacts diff --md`` prints and the web page can show.

Rendering works on the diff's JSON dict (``ReleaseDiff.to_dict()`` or :func:`latest_diff`),
so a saved diff renders the same as a fresh one.
"""

from __future__ import annotations

from typing import Any

TOP = 10


def _n(v: Any) -> str:
    return "—" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:+.3%}" if v < 0 else f"{v:.3%}"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out + [""]


def _top(d: dict[str, int], n: int = TOP) -> str:
    items = list(d.items())
    shown = ", ".join(f"{k} {v:,}" for k, v in items[:n])
    return shown + (f", … ({len(items) - n} more)" if len(items) > n else "")


def render_markdown(d: dict[str, Any]) -> str:
    """The Markdown report of a diff dict."""
    old, new = d["old"], d["new"]
    lines = [f"# Release diff: {old['id']} → {new['id']}", ""]
    if d.get("synthetic"):
        lines += ["> **SYNTHETIC** — computed from generated sample releases, not real EOIR data.", ""]
    if d.get("alerts"):
        lines += ["**ALERT**", ""] + [f"- {a}" for a in d["alerts"]] + [""]
    else:
        lines += [f"Status: ok (no vanished share above its threshold; thresholds {_thresholds(d)}).", ""]

    lines += ["## Releases", ""]
    recency = d.get("recency") or {}
    lines += _table(
        ["", "id", "data date", "Last-Modified", "latest completion", "source"],
        [[label, r.get("id"), r.get("data_date") or "—", r.get("last_modified") or "—",
          (recency.get(label.lower()) or {}).get("latest_completion") or "—", r.get("source") or "—"]
         for label, r in (("OLD", old), ("NEW", new))],
    )

    lines += ["## Rows per table", ""]
    lines += _table(
        ["table", "OLD", "NEW", "delta", "delta %"],
        [[t, _n(v["old"]), _n(v["new"]), f"{v['delta']:+,}", _pct(v.get("delta_share"))] for t, v in d["tables"].items()],
    )

    lines += ["## Vanished and appeared records", ""]
    rows = []
    for entity, r in d["records"].items():
        rows.append([
            entity, _n(r["old"]), _n(r["new"]),
            f"{r['vanished']:,} ({r['vanished_share']:.3%})", f"{r['appeared']:,}",
            _n(r.get("vanished_with_their_case")) if entity != "cases" else "",
        ])
    lines += _table(["records", "OLD", "NEW", "vanished", "appeared", "vanished with their case"], rows)
    for entity, r in d["records"].items():
        for kind in ("vanished", "appeared"):
            if r.get(kind):
                lines.append(f"**{entity} {kind}** ({r[kind]:,}), e.g. {r['key']} {', '.join(map(str, r['sample_' + kind][:5]))}")
                lines.append("")
                for dim, counts in r[f"{kind}_by"].items():
                    lines.append(f"- by {dim.replace('_', ' ')}: {_top(counts)}")
                lines.append("")

    lines += ["## Outcomes that changed", ""]
    for entity in ("cases", "proceedings", "applications"):
        o = d["outcomes"][entity]
        extra = f" (basis: {o['basis']})" if o.get("basis") else ""
        lines.append(f"**{entity}**: {o['changed']:,} changed{extra}")
        if o.get("by_field"):
            lines.append("- by field: " + ", ".join(f"{k} {v:,}" for k, v in o["by_field"].items()))
        if o.get("by_application_type"):
            lines.append("- by application type: " + _top(o["by_application_type"]))
        codes = "final outcomes" if entity == "cases" else "codes"
        for key, title in (("class_transitions", "outcome classes"), ("transitions", codes)):
            if o.get(key):
                lines.append(f"- {title}: " + ", ".join(f"{t['from']} → {t['to']} {t['n']:,}" for t in o[key][:TOP]))
        lines.append("")

    lines += _schema_lines(d["schema"])
    if d.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in d["notes"]] + [""]
    lines.append(f"_Computed {d.get('computed_at')} by immfacts._")
    return "\n".join(lines) + "\n"


def _thresholds(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.2%}" for k, v in d.get("thresholds", {}).items())


def _schema_lines(s: dict[str, Any]) -> list[str]:
    lines = ["## Schema changes", ""]
    found = False
    for kind in ("tables_added", "tables_removed"):
        if s.get(kind):
            found = True
            lines.append(f"- {kind.replace('_', ' ')}: {', '.join(s[kind])}")
    for table, c in s.get("columns", {}).items():
        found = True
        parts = []
        if c.get("renamed"):
            parts.append("renamed " + ", ".join(f"{r['from']} → {r['to']}" for r in c["renamed"]))
        if c.get("added"):
            parts.append("added " + ", ".join(c["added"]))
        if c.get("removed"):
            parts.append("removed " + ", ".join(c["removed"]))
        lines.append(f"- {table}: " + "; ".join(parts))
    lk = s.get("lookups", {})
    for kind in ("lookups_added", "lookups_removed"):
        if lk.get(kind):
            found = True
            lines.append(f"- {kind.replace('_', ' ')}: {', '.join(lk[kind])}")
    for name, e in lk.get("tables", {}).items():
        found = True
        parts = []
        for kind in ("added", "removed", "redefined"):
            if e.get(kind):
                codes = e[f"{kind}_codes"] if kind != "redefined" else [r["code"] for r in e["redefined_codes"]]
                parts.append(f"{e[kind]} code(s) {kind} ({', '.join('/'.join(str(v) for v in c.values()) for c in codes[:TOP])})")
        if e.get("columns_added"):
            parts.append("columns added " + ", ".join(e["columns_added"]))
        if e.get("columns_removed"):
            parts.append("columns removed " + ", ".join(e["columns_removed"]))
        if e.get("source"):
            parts.append(f"source {e['source']['old']} → {e['source']['new']}")
        lines.append(f"- lookup {name}: " + "; ".join(parts))
    if not found:
        lines.append("No tables, columns or lookup codes changed.")
    basis = s.get("basis")
    if basis:
        lines += ["", f"_Columns as written by each release, from: OLD {basis['old']}; NEW {basis['new']}._"]
    return lines + [""]
