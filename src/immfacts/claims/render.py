"""Rendering a check report: JSON, Markdown, and a Rich terminal view.

All three render the same :meth:`CheckReport.to_dict` object; the HTML report is in
:mod:`immfacts.claims.html`. Anything computed from a SYNTHETIC sample release is labelled
so in every form.
"""

from __future__ import annotations

import json
from typing import Any

from immfacts.provenance import SYNTHETIC_LABEL

VERDICT_STYLE = {
    "consistent": ("green", "✔"),
    "consistent_under_variant": ("cyan", "≈"),
    "overstated": ("red", "▲"),
    "understated": ("magenta", "▼"),
    "misattributed": ("yellow", "⇄"),
    "not_checkable": ("dim", "?"),
}


def _d(report: Any) -> dict[str, Any]:
    return report if isinstance(report, dict) else report.to_dict()


def fmt(v: Any, unit: str | None) -> str:
    """A value for people: percents as %, millions as 'x.xx million', counts with commas."""
    if v is None:
        return "—"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if unit in ("percent", "percent_change"):
        return f"{v * 100:.1f}%"
    if unit == "points":
        return f"{v * 100:+.1f} points"
    if unit == "ratio":
        return f"×{v:.2f}"
    if unit == "days":
        return f"{v:,.0f} days"
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:,.2f} million"
    return f"{v:,.0f}"


def value_unit(claim: dict[str, Any]) -> str:
    u = (claim.get("claimed") or {}).get("unit", "count")
    return u


def render_json(report: Any) -> str:
    """The JSON contract, pretty-printed."""
    return json.dumps(_d(report), indent=2, ensure_ascii=False, default=str)


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: Any) -> str:
    """A Markdown report: summary table, then one section per claim."""
    d = _d(report)
    lines = [f"# Claim check (as of {d['as_of']})", ""]
    if d.get("synthetic"):
        lines += [f"> **{SYNTHETIC_LABEL}**. Verdicts marked *illustrative* are not findings.", ""]
    src = d.get("source") or {}
    if src.get("url"):
        lines += [f"Source: <{src['url']}>" + (f" — {src.get('title')}" if src.get("title") else ""), ""]
    lines += ["| # | claim | metric | period | verdict |", "|---|---|---|---|---|"]
    for i, c in enumerate(d["claims"], 1):
        p = c.get("period") or {}
        per = f"{p.get('start') or ''}..{p.get('end') or ''}" if p.get("end") else "—"
        verdict = c["verdict"] + (f" ({c['variant']})" if c.get("variant") else "")
        if c.get("illustrative"):
            verdict += " *(illustrative)*"
        lines.append(f"| {i} | {_md_escape(c.get('text') or '')} | {c.get('metric') or '—'} | {per} | {verdict} |")
    lines.append("")
    for i, c in enumerate(d["claims"], 1):
        lines += [f"## {i}. {_md_escape(c.get('text') or '')} — {c['verdict']}", "", f"> {_md_escape(c['sentence'])}", ""]
        lines.append(f"**Explanation.** {_md_escape(c.get('explanation') or '')}")
        lines.append("")
        if c.get("tolerance"):
            lines.append(f"Tolerance: {c['tolerance']['interval']} — {c['tolerance']['rule']}")
            lines.append("")
        unit = "percent" if value_unit(c) == "percent" else value_unit(c)
        if c.get("computed"):
            lines += ["| source | variant | reading | value |", "|---|---|---|---|"]
            for v in c["computed"]:
                tag = " (SYNTHETIC)" if v.get("synthetic") else ""
                ed = f" [{v['edition']} edition]" if v.get("edition") else ""
                lines.append(f"| {v.get('source')}{ed}{tag} | {v.get('variant') or 'default'} | {v.get('reading')} | {fmt(v.get('value'), unit)} |")
            lines.append("")
        for f in c.get("published") or []:
            cit = f.get("citation") or {}
            label = f.get("label") or f"{f.get('metric')} ({f.get('variant')}, {f.get('reading')})"
            lines.append(f"* Published: {_md_escape(str(label))}: {fmt(f.get('value'), unit)}"
                         + (f" — {_md_escape(str(cit.get('publisher', '')))} <{cit.get('url')}>" if isinstance(cit, dict) and cit.get("url") else ""))
        for s in (c.get("provenance") or {}).get("sources", []):
            rel = s.get("release") or {}
            if rel and s.get("source_kind") != "reference":
                lines.append(f"* Release: {rel.get('id')} (data date {rel.get('data_date')})" + (" — SYNTHETIC" if s.get("synthetic") else ""))
            for cit in s.get("citation") or []:
                if isinstance(cit, dict):
                    lines.append(f"* Source: {_md_escape(str(cit.get('publisher', '')))}, {_md_escape(str(cit.get('title', '')))} <{cit.get('url', '')}>")
            if s.get("sql"):
                lines += ["", "```sql", s["sql"].strip(), "```"]
        lines.append("")
    return "\n".join(lines)


def render_rich(report: Any, console: Any = None) -> None:
    """Print the verdict table and explanations to a Rich console."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    d = _d(report)
    t = Table(title=f"Claims checked (as of {d['as_of']})", show_lines=False)
    for col in ("#", "claim", "metric", "period", "claimed", "computed (default)", "verdict"):
        t.add_column(col, overflow="fold")
    for i, c in enumerate(d["claims"], 1):
        style, mark = VERDICT_STYLE.get(c["verdict"], ("white", ""))
        p = c.get("period") or {}
        unit = value_unit(c)
        with_value = [v for v in c.get("computed") or [] if v.get("value") is not None]
        default = next((v for v in with_value if v.get("default") and v.get("primary_reading")), with_value[0] if with_value else None)
        verdict = Text(f"{mark} {c['verdict']}", style=style)
        if c.get("variant"):
            verdict.append(f"\n  ({c['variant']})", style=style)
        if c.get("illustrative"):
            verdict.append("\n  illustrative", style="bold black on yellow")
        t.add_row(str(i), Text(c.get("text") or ""), c.get("metric") or "—",
                  f"{p.get('start') or ''}..{p.get('end') or ''}" if p.get("end") else "—",
                  Text(f"{(c.get('claimed') or {}).get('comparator')} {fmt((c.get('claimed') or {}).get('value'), unit)}"),
                  fmt(default.get("value"), unit) if default else "—", verdict)
    console.print(t)
    for i, c in enumerate(d["claims"], 1):
        console.print(Text(f"{i}. ", style="bold") + Text(c.get("explanation") or ""), highlight=False)
