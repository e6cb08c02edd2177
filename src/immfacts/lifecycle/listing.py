"""The releases in a warehouse: what each one is, how big, and whether its ingest was clean.

:func:`releases` lists every complete release (newest first — the default for every query,
which other commands select with ``--release``), plus builds left unfinished in ``<home>/tmp``
(an interrupted or failed ingest never replaces a release, so these are only reported).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from immfacts.warehouse import ReleaseInfo, Warehouse

ENTITY_TABLES = {"cases": "A_TblCase", "proceedings": "B_TblProceeding", "applications": "tbl_Court_Appln"}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _status(rel: ReleaseInfo) -> dict[str, Any]:
    """Ingest status from report.json: balance, quarantine, Count.txt, model presence."""
    report = rel.report()
    tables = report.get("tables", {})
    unbalanced = [
        t for t, v in tables.items()
        if {"rows_read", "rows_loaded", "rows_quarantined"} <= v.keys()
        and v["rows_read"] != v["rows_loaded"] + v["rows_quarantined"]
    ]
    count_txt = [t for t, v in tables.items() if v.get("count_txt_diff")]
    quarantined = sum(int(v.get("rows_quarantined") or 0) for v in tables.values())
    repaired = sum(sum((v.get("rows_repaired") or {}).values()) for v in tables.values())
    model = (rel.path / "model" / "cases.parquet").exists()
    problems = []
    if not report:
        problems.append("no ingest report")
    if unbalanced:
        problems.append("rows unaccounted for in " + ", ".join(unbalanced))
    if not model:
        problems.append("model missing")
    notes = []
    if quarantined:
        notes.append(f"{quarantined:,} rows quarantined")
    if repaired:
        notes.append(f"{repaired:,} rows repaired")
    if count_txt:
        notes.append("Count.txt differs for " + ", ".join(count_txt))
    summary = "; ".join(problems) if problems else "ok" + (f" ({'; '.join(notes)})" if notes else "")
    return {
        "status": "problem" if problems else "ok",
        "summary": summary,
        "rows_quarantined": quarantined,
        "rows_repaired": repaired,
        "count_txt_differs": count_txt,
        "unbalanced": unbalanced,
        "model": model,
    }


def describe(rel: ReleaseInfo, *, default: bool = False) -> dict[str, Any]:
    """One release as a dict: identity, provenance, rows per entity, size on disk, status."""
    rows_by_table = rel.meta.get("tables") or {}
    rows = {e: rows_by_table.get(t) for e, t in ENTITY_TABLES.items()}
    return {
        "id": rel.id,
        "default": default,
        "data_date": rel.data_date,
        "synthetic": rel.synthetic,
        "last_modified": rel.meta.get("last_modified"),
        "ingested_at": rel.meta.get("ingested_at"),
        "source": rel.meta.get("source"),
        "checksum": rel.meta.get("checksum"),
        "rows": rows,
        "rows_total": sum(int(v or 0) for v in rows_by_table.values()),
        "tables": len(rows_by_table),
        "size_bytes": _size(rel.path),
        "path": str(rel.path),
        "ingest": _status(rel),
    }


def releases(warehouse: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every release of the warehouse, newest first, then unfinished builds (``status``
    ``incomplete``). The first complete release is the ``default`` one queries use."""
    wh = Warehouse(warehouse)
    rels = wh.releases()
    out = [describe(r, default=(i == 0)) for i, r in enumerate(rels)]
    tmp = wh.path / "tmp"
    if tmp.is_dir():
        for d in sorted(tmp.iterdir()):
            if d.is_dir() and not d.name.startswith("diff-"):
                out.append({
                    "id": d.name,
                    "default": False,
                    "data_date": None,
                    "synthetic": None,
                    "rows": {},
                    "rows_total": None,
                    "size_bytes": _size(d),
                    "path": str(d),
                    "ingest": {"status": "incomplete", "summary": "unfinished build (interrupted or failed ingest); safe to delete"},
                })
    return out
