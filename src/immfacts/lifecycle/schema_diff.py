"""Schema drift between two releases: tables and columns added, removed or renamed; lookup
codes added, removed or redefined.

Ingest parses header-driven and maps known renames to the registry's name (``Sex`` is
stored as ``GENDER``), so the Parquet files alone hide a rename. The columns *as the release
wrote them* come, in order of preference, from the ingest report (``header`` per table, when
ingest records it), from the release's source zip or folder if it is still on disk (its
header lines are read, nothing else), and finally from the Parquet columns plus the report's
``columns_missing`` / ``columns_extra``. Two names are a rename when the registry's aliases
(or a change of letter case) map them to the same column.

Lookup tables are compared on their natural key (see :mod:`immfacts.lifecycle.lookups`):
a key only in the new release was *added*, only in the old *removed*, and a key whose
descriptive columns (description, active flag …; not row ids or modification stamps)
differ was *redefined*. When one release shipped a lookup and the other did not (ingest then
uses the bundled copy), the entry says so (``source``), since the change is then ours.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from immfacts.lifecycle.lookups import shape
from immfacts.schema import find_table, registry
from immfacts.warehouse import ReleaseInfo

MAX_LISTED = 50  # lookup keys listed per change kind (the counts are always complete)


# --- columns as written by the release ---------------------------------------------------
def _clean(name: str) -> str:
    return name.replace("\x00", "").strip().strip("\ufeff")


def _split_header(line: bytes) -> list[str]:
    text = line.decode("latin-1").rstrip("\r\n")
    return [_clean(c) for c in text.split("\t") if _clean(c)]


def source_headers(source: str | None) -> dict[str, list[str]]:
    """``{Table: header names}`` read from a release zip or folder (main tables only)."""
    if not source:
        return {}
    path = Path(source)
    out: dict[str, list[str]] = {}
    try:
        if path.is_dir():
            for f in path.rglob("*"):
                spec = find_table(f.name) if f.is_file() and "lookup" not in f.parent.name.lower() else None
                if spec and spec.kind == "main":
                    with f.open("rb") as fh:
                        out[spec.name] = _split_header(fh.readline())
        elif path.is_file() and zipfile.is_zipfile(path):
            import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    parts = info.filename.split("/")
                    if info.is_dir() or any(p.lower() == "lookup" for p in parts[:-1]):
                        continue
                    spec = find_table(parts[-1])
                    if spec and spec.kind == "main":
                        with z.open(info) as fh:
                            out[spec.name] = _split_header(io.BufferedReader(fh).readline())
    except (OSError, zipfile.BadZipFile, NotImplementedError):
        return {}
    return out


def release_columns(rel: ReleaseInfo) -> tuple[dict[str, list[str]], str]:
    """``({Table: columns as written}, basis)`` for every main table of a release."""
    report = rel.report().get("tables", {})
    tables = sorted(p.stem for p in (rel.path / "tables").glob("*.parquet"))
    from_report = {t: list(report[t]["header"]) for t in tables if isinstance(report.get(t, {}).get("header"), list)}
    if from_report and len(from_report) == len(tables):
        return from_report, "ingest report headers"
    from_source = source_headers(rel.meta.get("source"))
    out: dict[str, list[str]] = {}
    basis = "release source headers" if from_source else "Parquet columns and ingest report"
    for t in tables:
        if t in from_report:
            out[t] = from_report[t]
        elif t in from_source:
            out[t] = from_source[t]
        else:
            cols = pq.read_schema(rel.table_path(t)).names
            missing = set(report.get(t, {}).get("columns_missing") or [])
            out[t] = [c for c in cols if c not in missing]
    return out, basis


def _canonical(table: str, name: str) -> str:
    spec = registry().get(table)
    return spec.canonical_name(name) if spec else name


def column_changes(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, Any]:
    """Tables and columns added / removed / renamed between two ``{Table: columns}`` maps."""
    out: dict[str, Any] = {
        "tables_added": sorted(set(new) - set(old)),
        "tables_removed": sorted(set(old) - set(new)),
        "columns": {},
    }
    for t in sorted(set(old) & set(new)):
        o = {_canonical(t, c): c for c in old[t]}
        n = {_canonical(t, c): c for c in new[t]}
        change = {
            "added": [n[c] for c in n if c not in o],
            "removed": [o[c] for c in o if c not in n],
            "renamed": [{"from": o[c], "to": n[c]} for c in o if c in n and o[c] != n[c]],
        }
        if any(change.values()):
            out["columns"][t] = change
    return out


# --- lookups ---------------------------------------------------------------------------
def _lookup_rows(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    table = pq.read_table(path)
    return table.column_names, table.to_pylist()


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        v = " ".join(v.split())
        return v or None
    return v


def lookup_changes(old_rel: ReleaseInfo, new_rel: ReleaseInfo) -> dict[str, Any]:
    """Per lookup: codes added / removed / redefined, and lookup columns added / removed."""
    old_files = {p.stem: p for p in (old_rel.path / "lookups").glob("*.parquet")}
    new_files = {p.stem: p for p in (new_rel.path / "lookups").glob("*.parquet")}
    out: dict[str, Any] = {
        "lookups_added": sorted(set(new_files) - set(old_files)),
        "lookups_removed": sorted(set(old_files) - set(new_files)),
        "tables": {},
    }
    old_src = {k: (v or {}).get("source") for k, v in (old_rel.report().get("lookups") or {}).items() if isinstance(v, dict)}
    new_src = {k: (v or {}).get("source") for k, v in (new_rel.report().get("lookups") or {}).items() if isinstance(v, dict)}
    for name in sorted(set(old_files) & set(new_files)):
        ocols, orows = _lookup_rows(old_files[name])
        ncols, nrows = _lookup_rows(new_files[name])
        oshape, nshape = shape(name, ocols), shape(name, ncols)
        entry: dict[str, Any] = {}
        if [c.lower() for c in ocols] != [c.lower() for c in ncols]:
            entry["columns_added"] = [c for c in ncols if c.lower() not in {x.lower() for x in ocols}]
            entry["columns_removed"] = [c for c in ocols if c.lower() not in {x.lower() for x in ncols}]
        if oshape.key and [k.lower() for k in oshape.key] == [k.lower() for k in nshape.key]:
            common = [c for c in oshape.tracked if c.lower() in {x.lower() for x in nshape.tracked}]
            ncommon = {c.lower(): c for c in nshape.tracked}
            ogroups = _group(orows, oshape.key, common)
            ngroups = _group(nrows, nshape.key, [ncommon[c.lower()] for c in common])
            added = sorted(set(ngroups) - set(ogroups), key=str)
            removed = sorted(set(ogroups) - set(ngroups), key=str)
            key_names = list(oshape.key)
            redefined = [
                {"code": _key_dict(key_names, k), "changes": _changes(ogroups[k], ngroups[k], common)}
                for k in sorted(set(ogroups) & set(ngroups), key=str)
                if ogroups[k] != ngroups[k]
            ]
            if added or removed or redefined:
                entry.update(
                    key=key_names,
                    added=len(added),
                    removed=len(removed),
                    redefined=len(redefined),
                    added_codes=[_key_dict(key_names, k) for k in added[:MAX_LISTED]],
                    removed_codes=[_key_dict(key_names, k) for k in removed[:MAX_LISTED]],
                    redefined_codes=redefined[:MAX_LISTED],
                )
        if entry and old_src.get(name) != new_src.get(name):
            # e.g. the release stopped shipping it and ingest fell back on the bundled copy
            entry["source"] = {"old": old_src.get(name), "new": new_src.get(name)}
        if entry:
            out["tables"][name] = entry
    return out


def _group(rows: list[dict[str, Any]], key: tuple[str, ...], cols: list[str]) -> dict[tuple, list[tuple]]:
    groups: dict[tuple, set[tuple]] = {}
    for r in rows:
        k = tuple(_norm(r.get(c)) for c in key)
        if any(v is None for v in k):
            continue
        k = tuple(v.upper() if isinstance(v, str) else v for v in k)
        groups.setdefault(k, set()).add(tuple(_norm(r.get(c)) for c in cols))
    return {k: sorted(v, key=str) for k, v in groups.items()}


def _key_dict(key: list[str], k: tuple) -> dict[str, Any]:
    return dict(zip(key, k, strict=True))


def _changes(old: list[tuple], new: list[tuple], cols: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if len(old) == 1 and len(new) == 1:
        for i, c in enumerate(cols):
            if old[0][i] != new[0][i]:
                changes[c] = {"old": old[0][i], "new": new[0][i]}
    else:
        changes["rows"] = {"old": [dict(zip(cols, r, strict=True)) for r in old], "new": [dict(zip(cols, r, strict=True)) for r in new]}
    return changes
