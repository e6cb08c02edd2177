"""The self-contained HTML report: the article with each claim highlighted, and verdict cards.

``render_html(report, standalone=True)`` returns a whole page (inline CSS, inline SVG, no
external requests); ``standalone=False`` returns the fragment (article + cards) that the web
app embeds. **Every** piece of article text, and every string from data, goes through
:func:`html.escape` — the article may be hostile. Each card shows the claimed value against
the computed value under each definition, a small SVG chart of the series with the claim
marked, the sources, the release and the SQL.
"""

from __future__ import annotations

from html import escape
from typing import Any

from immfacts.claims.render import VERDICT_STYLE, fmt, value_unit
from immfacts.provenance import SYNTHETIC_LABEL

COLORS = {
    "consistent": "#1b7f3a",
    "consistent_under_variant": "#0e7490",
    "overstated": "#b91c1c",
    "understated": "#9d174d",
    "misattributed": "#a16207",
    "not_checkable": "#6b7280",
}
CSS = """
.imf-report{font:15px/1.5 system-ui,sans-serif;color:#111;max-width:980px;margin:auto}
.imf-banner{background:#facc15;color:#000;padding:.5em 1em;font-weight:600;border-radius:4px}
.imf-article{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:1em;border-radius:4px}
.imf-article mark{padding:0 .15em;border-radius:3px;border-bottom:3px solid;background:#fff7d6}
.imf-article mark a{color:inherit;text-decoration:none}
.imf-card{border:1px solid #ddd;border-left:6px solid;border-radius:4px;padding:.6em 1em;margin:1em 0}
.imf-card h3{margin:.2em 0;font-size:1.05em}
.imf-verdict{font-weight:700;text-transform:uppercase;font-size:.85em;letter-spacing:.03em}
.imf-card table{border-collapse:collapse;font-size:.9em;margin:.4em 0}
.imf-card td,.imf-card th{border-bottom:1px solid #eee;padding:.15em .6em;text-align:left}
.imf-card pre{white-space:pre-wrap;font-size:.8em;background:#f4f4f5;padding:.5em;overflow:auto}
.imf-ill{background:#facc15;color:#000;font-size:.75em;padding:0 .4em;border-radius:3px;margin-left:.4em}
.imf-muted{color:#555;font-size:.9em}
"""


def _d(report: Any) -> dict[str, Any]:
    return report if isinstance(report, dict) else report.to_dict()


def annotate(text: str, claims: list[dict[str, Any]]) -> str:
    """The article as HTML, each claim's number wrapped in a coloured, linked <mark>."""
    out: list[str] = []
    pos = 0
    for c in sorted(claims, key=lambda c: c["span"][0]):
        a, b = int(c["span"][0]), int(c["span"][1])
        if a < pos or b > len(text) or a >= b:
            continue
        color = COLORS.get(c["verdict"], "#6b7280")
        out.append(escape(text[pos:a]))
        out.append(f'<mark style="border-color:{color}" title="{escape(c["verdict"])}">'
                   f'<a href="#{escape(c.get("id", ""))}">{escape(text[a:b])}</a></mark>')
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def chart_svg(series: list[dict[str, Any]], claim: dict[str, Any], width: int = 360, height: int = 120) -> str:
    """A small bar chart of the series; the claim's period highlighted and its value marked."""
    pts = [(str(p.get("label")), float(p["value"])) for p in series if p.get("value") is not None]
    if not pts:
        return ""
    unit = value_unit(claim)
    claimed = (claim.get("claimed") or {}).get("value")
    single = claim.get("claimed", {}).get("kind") == "level" and _single_year(claim)
    top = max([v for _, v in pts] + ([float(claimed)] if single and claimed is not None else []) + [1e-12])
    n = len(pts)
    pad, bw = 4, (width - 8) / max(n, 1)
    per = claim.get("period") or {}
    years = _years(per)
    parts = [f'<svg class="imf-chart" role="img" width="{width}" height="{height + 18}" viewBox="0 0 {width} {height + 18}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(claim.get("metric") or "")} by fiscal year</title>']
    for i, (label, v) in enumerate(pts):
        h = (v / top) * (height - 10) if top else 0
        x = pad + i * bw
        hl = any(y in label for y in years)
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" '
                     f'fill="{"#2563eb" if hl else "#cbd5e1"}"><title>{escape(label)}: {escape(fmt(v, unit))}</title></rect>')
        if n <= 14:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{height + 13}" font-size="9" text-anchor="middle">{escape(label[-4:])}</text>')
    if single and claimed is not None and top:
        y = height - (float(claimed) / top) * (height - 10)
        parts.append(f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" stroke-dasharray="4 3"/>'
                     f'<text x="{width - 2}" y="{max(y - 3, 9):.1f}" font-size="10" text-anchor="end" fill="#dc2626">claimed {escape(fmt(claimed, unit))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _years(per: dict[str, Any]) -> list[str]:
    s, e = per.get("start"), per.get("end")
    if not e:
        return []
    import datetime as dt

    try:
        end = dt.date.fromisoformat(e)
        start = dt.date.fromisoformat(s) if s else end
    except ValueError:
        return []
    fy0 = start.year + (start.month >= 10)
    fy1 = end.year + (end.month >= 10)
    return [str(y) for y in range(fy0, fy1 + 1)]


def _single_year(claim: dict[str, Any]) -> bool:
    return len(_years(claim.get("period") or {})) == 1


def _published_item(f: dict[str, Any], unit: str) -> str:
    label = f.get("label") or f"{f.get('metric')} ({f.get('variant')}, {f.get('reading')})"
    out = f"<li>{escape(str(label))}: {escape(fmt(f.get('value'), unit))}"
    cit = f.get("citation")
    if isinstance(cit, dict) and cit.get("url"):
        out += f' — <a href="{escape(str(cit["url"]))}">{escape(str(cit.get("publisher", "")))}</a>'
    return out + "</li>"


def card(c: dict[str, Any]) -> str:
    """One verdict card (HTML)."""
    color = COLORS.get(c["verdict"], "#6b7280")
    unit = value_unit(c)
    claimed = c.get("claimed") or {}
    head = (f'<div class="imf-card" id="{escape(c.get("id", ""))}" style="border-left-color:{color}">'
            f'<h3><span class="imf-verdict" style="color:{color}">{escape(VERDICT_STYLE.get(c["verdict"], ("", ""))[1])} '
            f'{escape(c["verdict"].replace("_", " "))}</span>'
            + (f' — {escape(str(c["variant"]))}' if c.get("variant") else "")
            + ('<span class="imf-ill">illustrative · SYNTHETIC</span>' if c.get("illustrative") else "")
            + f'</h3><blockquote>{escape(c.get("sentence") or "")}</blockquote>')
    body = [f'<p>{escape(c.get("explanation") or "")}</p>',
            f'<p class="imf-muted">Claimed: <b>{escape(claimed.get("comparator", ""))} {escape(fmt(claimed.get("value"), unit))}</b>'
            f' · metric: <code>{escape(str(c.get("metric") or "—"))}</code>'
            + (f' · scope: {escape(", ".join(f"{k}={v}" for k, v in ((c.get("scope") or {}).get("filters") or {}).items()))}'
               if (c.get("scope") or {}).get("filters") else "")
            + (f' · period: {escape(str((c.get("period") or {}).get("start") or ""))}..{escape(str((c.get("period") or {}).get("end") or ""))}'
               if (c.get("period") or {}).get("end") else "")
            + (f' · tolerance: {escape(c["tolerance"]["interval"])}' if c.get("tolerance") else "") + "</p>"]
    if c.get("computed"):
        rows = "".join(
            f'<tr><td>{escape(str(v.get("source") or ""))}{" · " + escape(str(v["edition"])) + " edition" if v.get("edition") else ""}'
            f'{" · SYNTHETIC" if v.get("synthetic") else ""}</td><td>{escape(str(v.get("variant") or "default"))}'
            f'{" (default)" if v.get("default") else ""}</td><td>{escape(str(v.get("reading") or ""))}</td>'
            f'<td>{escape(fmt(v.get("value"), unit))}</td></tr>'
            for v in c["computed"])
        body.append(f"<table><tr><th>source</th><th>definition</th><th>period reading</th><th>value</th></tr>{rows}</table>")
    if c.get("series"):
        body.append(chart_svg(c["series"], c))
    pubs = c.get("published") or []
    if pubs:
        items = "".join(_published_item(f, unit) for f in pubs)
        body.append(f"<p>Published figures:</p><ul>{items}</ul>")
    for s in (c.get("provenance") or {}).get("sources", []):
        rel = s.get("release") or {}
        cits = [x for x in (s.get("citation") or []) if isinstance(x, dict)]
        if rel and s.get("source_kind") != "reference":
            body.append(f'<p class="imf-muted">Release {escape(str(rel.get("id")))} (data date {escape(str(rel.get("data_date")))})'
                        + (" — SYNTHETIC" if s.get("synthetic") else "") + "</p>")
        for cit in cits:
            body.append(f'<p class="imf-muted">Source: {escape(str(cit.get("publisher", "")))} — '
                        f'<a href="{escape(str(cit.get("url", "")))}">{escape(str(cit.get("title", "")))}</a></p>')
        if s.get("sql"):
            body.append(f"<details><summary>SQL</summary><pre>{escape(s['sql'])}</pre></details>")
    if (c.get("editions") or {}).get("note"):
        body.append(f'<p class="imf-muted">{escape(c["editions"]["note"])}</p>')
    return head + "".join(body) + "</div>"


def render_html(report: Any, standalone: bool = True) -> str:
    """The HTML report (a whole page, or the embeddable fragment)."""
    d = _d(report)
    claims = d.get("claims", [])
    parts = ['<div class="imf-report">']
    if d.get("synthetic"):
        parts.append(f'<p class="imf-banner">{escape(SYNTHETIC_LABEL)}. Verdicts marked illustrative are not findings.</p>')
    src = d.get("source") or {}
    meta = f"As of {escape(str(d.get('as_of')))}"
    if src.get("url"):
        meta += f' · <a href="{escape(str(src["url"]))}">{escape(str(src.get("title") or src["url"]))}</a>'
    summary = ", ".join(f"{escape(k.replace('_', ' '))}: {v}" for k, v in (d.get("summary") or {}).items())
    parts.append(f'<p class="imf-muted">{meta} · {len(claims)} claims · {summary}</p>')
    parts.append(f'<div class="imf-article">{annotate(d.get("text") or "", claims)}</div>')
    parts.extend(card(c) for c in claims)
    parts.append("</div>")
    fragment = "".join(parts)
    if not standalone:
        return f"<style>{CSS}</style>{fragment}"
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>immfacts claim check — {escape(str(d.get('as_of')))}</title><style>{CSS}</style></head>"
            f"<body>{fragment}</body></html>")
