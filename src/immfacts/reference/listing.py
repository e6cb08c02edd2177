"""The list of reference series behind ``immfacts sources``, the web Sources page and the docs.

One entry per series (CBP encounters, gotaways, foreign-born, EOIR published statistics,
published analyses): its metrics, what it covers (overall dates and, per table or metric, in
words), the editions kept, whether it holds secondary figures, and the full citation of every
source it draws on.
"""

from __future__ import annotations

from typing import Any

from immfacts.periods import fy_end, fy_start
from immfacts.reference.coverage import describe_months, describe_span, describe_years, month_end
from immfacts.reference.encounters import TABLES
from immfacts.reference.specs import Spec
from immfacts.reference.store import Store, citation

FAMILY_WORDS = {
    "nationwide": "nationwide by month, with region, state, demographic, citizenship and title",
    "sbo": "southwest land border by month, with component (USBP/OFO), demographic, citizenship group, title and encounter type",
    "usbp_sectors": "Border Patrol by month and sector",
    "enforcement_fy": "nationwide fiscal-year totals by component (OFO/USBP)",
}


def _encounters(store: Store) -> tuple[list[str], list[str], str | None, str | None]:
    parts, sources = [], []
    starts, ends = [], []
    for t in TABLES:
        rels = [r for r in store.releases if r.family == t.family]
        if not rels:
            continue
        if t.grain == "month":
            rows = store.query(f"SELECT DISTINCT month FROM {_table(t.family)} ORDER BY 1")
            months = [r["month"] for r in rows]
            span = describe_months(months)
            starts.append(months[0].isoformat())
            ends.append(month_end(months[-1]).isoformat())
        else:
            rows = store.query(f"SELECT DISTINCT fiscal_year FROM {_table(t.family)} ORDER BY 1")
            years = [r["fiscal_year"] for r in rows]
            span = describe_years(years)
            starts.append(fy_start(years[0]).isoformat())
            ends.append(fy_end(years[-1]).isoformat())
        parts.append(f"{FAMILY_WORDS[t.family]}: {span} ({len(rels)} release{'s' if len(rels) > 1 else ''})")
        sources += [r.source for r in sorted(rels, key=lambda r: r.last_month)]
    return parts, sources, min(starts) if starts else None, max(ends) if ends else None


def _table(family: str) -> str:
    from immfacts.reference.store import FAMILY_TABLES

    return FAMILY_TABLES[family]


def list_sources(store: Store, series: tuple[dict[str, Any], ...], specs: dict[str, Spec]) -> list[dict[str, Any]]:
    """Every series with its coverage and citations (see the module docstring)."""
    out = []
    for s in series:
        metric_ids = list(s["metrics"])
        coverage_parts: list[str] = []
        source_ids: list[str] = []
        start = end = None
        if "cbp.encounters" in metric_ids:
            coverage_parts, source_ids, start, end = _encounters(store)
        figure_metrics = sorted({specs[m].figure_metric for m in metric_ids if specs[m].kind != "encounters"})
        for fm in figure_metrics:
            rows = store.query(
                "SELECT variant, period_start, period_end, source FROM figures WHERE metric = ? "
                "ORDER BY variant, period_end, period_start", [fm])
            by_variant: dict[str, list[str]] = {}
            for r in rows:
                spans = by_variant.setdefault(r["variant"], [])
                span = describe_span(r["period_start"], r["period_end"])
                if span not in spans:
                    spans.append(span)
                if r["source"] not in source_ids:
                    source_ids.append(r["source"])
                first = (r["period_start"] or r["period_end"]).isoformat()
                start = first if start is None or first < start else start
                last = r["period_end"].isoformat()
                end = last if end is None or last > end else end
            for variant, spans in by_variant.items():
                shown = ", ".join(spans[:6]) + (f" … ({len(spans)} figures)" if len(spans) > 6 else "")
                coverage_parts.append(f"{fm} [{variant}]: {shown}")
        for m in metric_ids:
            for extra in specs[m].extra_citations:
                if extra not in source_ids:
                    source_ids.append(extra)
        cites = [citation(store.source(i)) for i in source_ids]
        out.append({
            "series": s["id"],
            "title": s["title"],
            "metrics": metric_ids,
            "secondary": any(specs[m].secondary for m in metric_ids),
            "coverage": {"start": start, "end": end, "detail": coverage_parts},
            "editions": [{"id": c["id"], "published": c.get("published")} for c in cites],
            "citations": cites,
        })
    return out
