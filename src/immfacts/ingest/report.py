"""The ingest report: every input row accounted for, per table, in the shared vocabulary.

``report.json`` of a release and ``immfacts ingest --json`` print :meth:`IngestReport.to_dict`:
``{"release": {...}, "tables": {Table: {...}}, "lookups": {...}, "elapsed_s"}``. Per table:
``rows_read`` (physical data lines after the header) ``== rows_loaded + rows_quarantined`` —
asserted at the end of every ingest (:meth:`TableReport.check`) — repairs by kind (a row counts
once per kind), quarantine by reason, ``Count.txt`` and the difference (``rows_loaded -
count_txt``), header columns missing/extra, per-column value counters (only columns with a
non-zero counter are listed), orphans, case-type conflicts, elapsed seconds and MB/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from immfacts.errors import IngestError
from immfacts.ingest.repair import REASONS, REPAIR_KINDS
from immfacts.ingest.sqlgen import KIND_NAMES


@dataclass
class TableReport:
    """The accounting of one table."""

    table: str
    member: str = ""
    header: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_repaired: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPAIR_KINDS, 0))
    quarantined: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    count_txt: int | None = None
    columns_missing: list[str] = field(default_factory=list)
    columns_extra: list[str] = field(default_factory=list)
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    orphans: int | None = None
    case_type_conflicts: int | None = None
    bytes_read: int = 0
    elapsed_s: float = 0.0
    fast_path_rows: int = 0
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def count_txt_diff(self) -> int | None:
        return None if self.count_txt is None else self.rows_loaded - self.count_txt

    def add_value(self, column: str, kind: str, n: int) -> None:
        if n:
            c = self.values.setdefault(column, dict.fromkeys(KIND_NAMES.values(), 0))
            c[kind] += n

    def check(self) -> None:
        """The invariant ``rows_read == rows_loaded + rows_quarantined`` (else IngestError)."""
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise IngestError(
                f"table {self.table}: {self.rows_read:,} lines read but {self.rows_loaded:,} loaded + "
                f"{self.rows_quarantined:,} quarantined — a row would be lost",
                hint="this is a bug in immfacts; please report it with the release name (nothing was written)",
            )

    def to_dict(self) -> dict[str, Any]:
        mb = self.bytes_read / 1e6
        return {
            "member": self.member,
            "header": list(self.header),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_repaired": dict(self.rows_repaired),
            "quarantined": dict(self.quarantined),
            "count_txt": self.count_txt,
            "count_txt_diff": self.count_txt_diff,
            "columns_missing": list(self.columns_missing),
            "columns_extra": list(self.columns_extra),
            "values": {c: dict(v) for c, v in sorted(self.values.items())},
            "orphans": self.orphans,
            "case_type_conflicts": self.case_type_conflicts,
            "fast_path_rows": self.fast_path_rows,
            "examples": self.examples,
            "bytes_read": self.bytes_read,
            "elapsed_s": round(self.elapsed_s, 3),
            "mb_per_s": round(mb / self.elapsed_s, 1) if self.elapsed_s > 0 else None,
        }


@dataclass
class IngestReport:
    """What :func:`immfacts.ingest` returns (and writes as ``report.json``)."""

    release: dict[str, Any]
    tables: dict[str, TableReport] = field(default_factory=dict)
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_s: float = 0.0
    path: str | None = None
    warnings: list[str] = field(default_factory=list)
    model: dict[str, Any] | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.release.get("synthetic"))

    @property
    def release_id(self) -> str:
        return str(self.release.get("id"))

    def check(self) -> None:
        for t in self.tables.values():
            t.check()

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": dict(self.release),
            "synthetic": self.synthetic,
            "path": self.path,
            "tables": {n: t.to_dict() for n, t in self.tables.items()},
            "lookups": self.lookups,
            "model": self.model,
            "warnings": list(self.warnings),
            "elapsed_s": round(self.elapsed_s, 3),
        }
