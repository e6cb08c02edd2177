"""The result record every statistic comes back in, whatever its source.

A :class:`Result` carries the number *and* how it was made: the metric and variant, the
period as resolved, filters and groups, the data release (or the citation of a reference
series), whether the data is SYNTHETIC, and the SQL that produced it. ``to_dict()`` is the
JSON contract of PRODUCT.md; CLI ``--json``, the web API and the claim checker all use it.
Percent metrics carry ``value`` as a fraction in [0, 1].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

SYNTHETIC_LABEL = "SYNTHETIC — computed from a generated sample release, not real EOIR data"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class Result:
    """One computed statistic with its provenance."""

    metric: str
    value: float | int | None = None
    variant: str | None = None
    unit: str = "count"  # count | percent | days
    numerator: float | int | None = None
    denominator: float | int | None = None
    components: dict[str, Any] = field(default_factory=dict)
    period: dict[str, Any] | None = None  # {"start", "end", "text", "notes"}
    filters: dict[str, Any] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] | None = None  # with --by: one dict per group
    variants: list[dict[str, Any]] | None = None  # with --variant all
    release: dict[str, Any] | None = None  # {"id", "data_date", "checksum", "source"}
    source_kind: str = "eoir_case_data"  # eoir_case_data | reference
    citation: list[dict[str, Any]] | None = None  # reference series: publisher, title, url, …
    synthetic: bool = False
    title: str | None = None
    definition: str | None = None
    caveats: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sql: str | None = None
    engine: str | None = None
    rows_scanned: int | None = None
    computed_at: str = field(default_factory=now_iso)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("rows", "variants", "citation"):
            if d[key] is None:
                del d[key]
        if self.synthetic:
            d["label"] = SYNTHETIC_LABEL
        return d
