"""Writers for the export formats: Parquet, CSV, Stata ``.dta`` and SQLite (+ Datasette metadata).

Each writer takes a DuckDB connection and the SELECT that produces the table, so Parquet and
CSV stream straight from DuckDB (``COPY … TO``) at any size. Stata's format is written by
pandas (``DataFrame.to_stata``, version 118: UTF-8, ``strL`` for long text) and so holds the
table in memory; names are made Stata-safe (≤ 32 characters, letters, digits and ``_``,
unique, not reserved) and the original names kept as variable labels. SQLite is filled in
batches through the standard ``sqlite3`` module (dates as ISO text), with indexes on the key
columns and a ``immfacts_release`` table carrying the provenance.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from immfacts.warehouse import literal

BATCH = 50_000
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80
STATA_STR_MAX = 2045  # longer strings are written as strL
STATA_RESERVED = {
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N",
    "_pi", "_pred", "_rc", "_skip", "strl", "using", "with",
}
KEY_COLUMNS = re.compile(r"^idn(case|proceeding|proceedingappln)$", re.IGNORECASE)


# --- Parquet and CSV: straight from DuckDB -------------------------------------------------
def write_parquet(con: duckdb.DuckDBPyConnection, sql: str, path: Path, provenance: dict[str, Any]) -> None:
    """``COPY`` to Parquet (zstd), with the provenance JSON in the file's key-value metadata."""
    meta = json.dumps(provenance, default=str).replace("'", "''")
    con.execute(
        f"COPY ({sql}) TO {literal(path)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{immfacts: '{meta}'}})"
    )


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    """``COPY`` to a comma-separated file with a header row (UTF-8, ISO dates)."""
    con.execute(f"COPY ({sql}) TO {literal(path)} (FORMAT csv, HEADER, DELIMITER ',')")


# --- Stata ---------------------------------------------------------------------------------
def stata_names(names: list[str]) -> dict[str, str]:
    """``{column: Stata-safe name}``: ≤ 32 chars of ``[A-Za-z0-9_]``, not starting with a
    digit, not reserved, unique (a numeric suffix resolves clashes)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "v"
        if base[0].isdigit():
            base = "_" + base
        if base.lower() in STATA_RESERVED or base.lower().startswith("str") and base[3:].isdigit():
            base = base + "_"
        candidate = base[:STATA_NAME_MAX]
        i = 2
        while candidate.lower() in used:
            suffix = f"_{i}"
            candidate = base[: STATA_NAME_MAX - len(suffix)] + suffix
            i += 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def write_dta(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    path: Path,
    descriptions: dict[str, str],
    data_label: str,
) -> dict[str, str]:
    """Write a Stata 118 file; returns ``{column: Stata name}``."""
    df = con.execute(sql).df()
    types = {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {sql}").fetchall()}
    names = stata_names(list(df.columns))
    df = df.rename(columns=names)
    convert_dates = {}
    strl = []
    for col, new in names.items():
        t = types.get(col, "")
        if t == "DATE":
            convert_dates[new] = "td"
        elif t.startswith("TIMESTAMP"):
            convert_dates[new] = "tc"
        elif t == "VARCHAR":
            # Stata has no missing value for strings: "" is its missing string.
            df[new] = df[new].astype(object).where(df[new].notna(), "")
            longest = df[new].dropna().map(lambda s: len(str(s).encode("utf-8"))).max()
            if longest and longest > STATA_STR_MAX:
                strl.append(new)
    labels = {}
    for col, new in names.items():
        text = descriptions.get(col) or ""
        label = text if new == col else f"{col}: {text}" if text else col
        labels[new] = label[:STATA_LABEL_MAX]
    df.to_stata(
        path,
        version=118,
        write_index=False,
        convert_dates=convert_dates,
        convert_strl=strl,
        variable_labels=labels,
        data_label=data_label[:STATA_LABEL_MAX],
    )
    return names


# --- SQLite --------------------------------------------------------------------------------
_SQLITE_TYPES = {"BIGINT": "INTEGER", "INTEGER": "INTEGER", "SMALLINT": "INTEGER", "TINYINT": "INTEGER",
                 "BOOLEAN": "INTEGER", "DOUBLE": "REAL", "FLOAT": "REAL", "HUGEINT": "INTEGER"}


def write_sqlite(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    path: Path,
    table: str,
    provenance: dict[str, Any],
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Create (or replace) ``table`` in the SQLite file ``path``; returns the rows written."""
    cols = con.execute(f"DESCRIBE {sql}").fetchall()
    select, ddl = [], []
    for name, typ, *_ in cols:
        t = str(typ)
        base = t.split("(")[0]
        if base in ("DATE",) or base.startswith("TIMESTAMP"):
            select.append(f'CAST("{name}" AS VARCHAR) AS "{name}"')  # ISO text, as SQLite expects
            ddl.append(f'"{name}" TEXT')
        elif base == "BOOLEAN":
            select.append(f'CAST("{name}" AS INTEGER) AS "{name}"')
            ddl.append(f'"{name}" INTEGER')
        elif base.startswith("DECIMAL"):
            select.append(f'CAST("{name}" AS DOUBLE) AS "{name}"')
            ddl.append(f'"{name}" REAL')
        else:
            select.append(f'"{name}"')
            ddl.append(f'"{name}" {_SQLITE_TYPES.get(base, "TEXT")}')
    total = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    db = sqlite3.connect(path)
    try:
        db.execute(f'DROP TABLE IF EXISTS "{table}"')
        db.execute(f'CREATE TABLE "{table}" ({", ".join(ddl)})')
        insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in cols)})'
        cur = con.execute(f"SELECT {', '.join(select)} FROM ({sql})")
        written = 0
        while batch := cur.fetchmany(BATCH):
            db.executemany(insert, batch)
            written += len(batch)
            if on_progress:
                on_progress(written, total)
        for name, *_ in cols:
            if KEY_COLUMNS.match(name):
                db.execute(f'CREATE INDEX IF NOT EXISTS "ix_{table}_{name}" ON "{table}" ("{name}")')
        db.execute(
            "CREATE TABLE IF NOT EXISTS immfacts_release (exported_table TEXT PRIMARY KEY, release_id TEXT, "
            "data_date TEXT, last_modified TEXT, checksum TEXT, synthetic INTEGER, label TEXT, exported_at TEXT, "
            "provenance_json TEXT)"
        )
        rel = provenance.get("release") or {}
        db.execute(
            "INSERT OR REPLACE INTO immfacts_release VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table, rel.get("id"), rel.get("data_date"), rel.get("last_modified"), rel.get("checksum"),
                int(bool(provenance.get("synthetic"))), provenance.get("label"), provenance.get("exported_at"),
                json.dumps(provenance, default=str),
            ),
        )
        db.commit()
    finally:
        db.close()
    return written


def datasette_metadata(
    path: Path,
    database: str,
    table: str,
    description: str,
    columns: dict[str, str],
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """Datasette ``metadata.json`` for ``database`` (merged into ``path`` if it exists)."""
    meta: dict[str, Any] = {}
    if path.exists():
        try:
            meta = json.loads(path.read_text())
        except json.JSONDecodeError:
            meta = {}
    rel = provenance.get("release") or {}
    synthetic = bool(provenance.get("synthetic"))
    prefix = "SYNTHETIC — " if synthetic else ""
    meta["title"] = f"{prefix}EOIR immigration-court case data, release {rel.get('id')}"
    meta["description"] = (
        (provenance.get("label") + ". " if synthetic else "")
        + f"Tables exported by immfacts {provenance.get('immfacts_version')} from release {rel.get('id')} "
        f"(data date {rel.get('data_date')}, Last-Modified {rel.get('last_modified') or 'unknown'}, "
        f"checksum {rel.get('checksum') or 'unknown'}). Decoded labels (*_label, *_name) sit beside the raw "
        "codes; the immfacts_release table holds the provenance of each exported table."
    )
    if synthetic:
        meta["source"] = "SYNTHETIC sample release generated by immfacts (not real EOIR data)"
        meta.pop("source_url", None)
    else:
        meta["source"] = "U.S. Executive Office for Immigration Review (EOIR), FOIA case-data release"
        meta["source_url"] = provenance.get("source_url")
    db = meta.setdefault("databases", {}).setdefault(database, {})
    tables = db.setdefault("tables", {})
    tables[table] = {"description": prefix + description, "columns": columns}
    tables["immfacts_release"] = {
        "description": "Provenance of each exported table: release id, data date, Last-Modified, checksum, SYNTHETIC flag",
    }
    return meta
