"""Turning a computed reference answer into an :class:`immfacts.provenance.Result`.

Every reference result says ``source_kind: "reference"``, carries the full citation of each
source it used (publisher, title, URL, publication and retrieval dates, notes, licence),
names the editions it read (``release.editions``), states the period as resolved — with the
period asked for, whether the data covers it completely, and notes on what was left out —
and keeps the SQL that produced it. It is never SYNTHETIC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from immfacts.periods import Period
from immfacts.provenance import Result
from immfacts.reference.editions import Edition
from immfacts.reference.specs import Spec, Variant
from immfacts.reference.store import Store, citation


def number(value: Any, unit: str) -> Any:
    """Counts as int when whole; shares as float."""
    if value is None:
        return None
    if unit == "count":
        f = float(value)
        return int(f) if f.is_integer() else f
    return float(value)


def period_block(
    requested: Period | None, start: dt.date | None, end: dt.date | None, text: str,
    kind: str, notes: list[str], complete: bool,
) -> dict[str, Any]:
    """The ``period`` of a result: what was answered, what was asked, and whether it all was."""
    return {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "text": text,
        "kind": kind,
        "notes": list(notes),
        "requested": None if requested is None else {
            "start": requested.start.isoformat() if requested.start else None,
            "end": requested.end.isoformat(),
            "text": requested.text,
        },
        "complete": complete,
    }


def citations(store: Store, source_ids: list[str]) -> list[dict[str, Any]]:
    """Full citations of the given sources, each once, in order."""
    seen: list[str] = []
    for s in source_ids:
        if s and s not in seen:
            seen.append(s)
    return [citation(store.source(s)) for s in seen]


def release_block(store: Store, edition: Edition, used: list[str]) -> dict[str, Any]:
    """Which editions (sources / CBP releases) the answer read, and how they were chosen."""
    editions = []
    for s in dict.fromkeys(used):
        src = store.source(s)
        editions.append({"id": s, "published": src.get("published"), "title": src.get("title"),
                         "origin": src.get("origin", "bundle")})
    origins = {e["origin"] for e in editions}
    return {
        "id": "reference",
        "source": "bundle + user overlay" if "overlay" in origins else "bundle",
        "edition": edition.describe(),
        "edition_choice": edition.to_dict(),
        "editions": editions,
    }


def make_result(
    spec: Spec, variant: Variant, store: Store, edition: Edition, *, value: Any, period: dict[str, Any] | None,
    sql: str, sources: list[str], notes: list[str], filters: dict[str, Any] | None = None,
    groups: list[str] | None = None, rows: list[dict[str, Any]] | None = None,
    components: dict[str, Any] | None = None, numerator: Any = None, denominator: Any = None,
    rows_scanned: int | None = None,
) -> Result:
    """Assemble the Result of one reference query."""
    all_notes = list(notes)
    undated = [s for s in dict.fromkeys(sources) if edition.mode == "as-of" and not store.source(s).get("published")]
    if undated:
        all_notes.append(
            f"publication date not recorded for {', '.join(undated)} — used whatever the as-of date"
        )
    if spec.secondary:
        all_notes.append("secondary source(s): figures as quoted or computed by others from official data")
    return Result(
        metric=spec.id,
        value=number(value, spec.unit),
        variant=variant.name,
        unit=spec.unit,
        numerator=number(numerator, "count"),
        denominator=number(denominator, "count"),
        components=components or {},
        period=period,
        filters=filters or {},
        groups=groups or [],
        rows=rows,
        release=release_block(store, edition, sources),
        source_kind="reference",
        citation=citations(store, [*sources, *spec.extra_citations]),
        synthetic=False,
        title=spec.title,
        definition=spec.definition,
        caveats=list(spec.caveats),
        notes=all_notes,
        sql=sql,
        engine="duckdb",
        rows_scanned=rows_scanned,
    )
