"""Staged tables of a release, as the model reads them.

Ingest writes ``tables/<Table>.parquet`` and ``lookups/<Lookup>.parquet`` with the schema
registry's column names and types (keys BIGINT, dates TIMESTAMP, codes upper-cased VARCHAR).
A release may lack a column the registry knows (schema drift between vintages) or a whole
optional table; the model then sees a typed NULL column / an empty table, never a crash.
This module is the only place that knows those file names.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir

from immfacts.schema import registry
from immfacts.warehouse import literal, quote

_IBIS_TYPES = {"BIGINT": "int64", "TIMESTAMP": "timestamp", "VARCHAR": "string"}

# The columns the model reads from each main table.
MAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "A_TblCase": ("IDNCASE", "NAT", "LANG", "CUSTODY", "CASE_TYPE", "E_28_DATE", "C_ASY_TYPE"),
    "B_TblProceeding": (
        "IDNPROCEEDING", "IDNCASE", "OSC_DATE", "INPUT_DATE", "BASE_CITY_CODE",
        "HEARING_LOC_CODE", "IJ_CODE", "DEC_CODE", "OTHER_COMP", "COMP_DATE", "ABSENTIA",
        "CUSTODY", "CASE_TYPE", "NAT", "LANG",
    ),
    "tbl_Court_Appln": (
        "IDNPROCEEDINGAPPLN", "IDNPROCEEDING", "IDNCASE", "APPL_CODE", "APPL_RECD_DATE", "APPL_DEC",
    ),
}

# Label lookups: (lookup file, code column, label column) for each labelled dimension.
LABEL_LOOKUPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "court": (("tblLookupBaseCity", "BASE_CITY_CODE", "BASE_CITY_NAME"),),
    "hearing_location": (("tblLookupHloc", "HEARING_LOC_CODE", "HEARING_LOC_NAME"),),
    "judge": (("tblLookupJudge", "JUDGE_CODE", "JUDGE_NAME"),),
    "nationality": (
        ("tblLookupNationality", "NAT_CODE", "NAT_NAME"),
        ("tblLookupAlienNat", "strCode", "strDescription"),
    ),
    "language": (("tblLanguage", "strCode", "strDescription"),),
}

COURT_DECISION_LOOKUP = "tblLookupCourtDecision"


def column_type(table: str, column: str) -> str:
    """Ibis type name of a registry column (``string`` when the registry does not know it)."""
    spec = registry().get(table)
    col = spec.column(column) if spec else None
    return _IBIS_TYPES.get(col.type if col else "VARCHAR", "string")


def staged_schema(table: str) -> ibis.Schema:
    """The schema the model expects for a main table (the columns it reads, typed)."""
    return ibis.schema({c: column_type(table, c) for c in MAIN_COLUMNS[table]})


def staged_files(release_dir: Path, table: str) -> list[str]:
    """The staged Parquet file of ``table`` (none when the release lacks the table)."""
    path = Path(release_dir) / "tables" / f"{table}.parquet"
    return [str(path)] if path.exists() else []


def staged_columns(files: list[str]) -> dict[str, str]:
    """The columns of staged Parquet ``files``, as {upper-cased name: actual name}."""
    if not files:
        return {}
    import pyarrow.parquet as pq

    return {n.upper(): n for n in pq.read_schema(files[0]).names}


def select_sql(table: str, files: list[str], source: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """SQL reading the model's columns of ``table`` from Parquet ``files`` (or from the relation
    named ``source``, which has the files' columns and ``extra`` ones, passed through), typed as
    the registry says: a column the files lack is a typed NULL, and no files give no rows."""
    def sql_type(c: str) -> str:
        spec = registry().get(table)
        col = spec.column(c) if spec else None
        return col.type if col and col.type in _IBIS_TYPES else "VARCHAR"

    have = staged_columns(files)
    cols = ", ".join(
        f'CAST({quote(have[c.upper()]) if c.upper() in have else "NULL"} AS {sql_type(c)}) AS {quote(c)}'
        for c in MAIN_COLUMNS[table]
    ) + "".join(f", {quote(c)}" for c in extra)
    if not files:
        return f"SELECT {cols} WHERE false"
    return f"SELECT {cols} FROM {source or 'read_parquet([' + ', '.join(literal(f) for f in files) + '])'}"


def lookup_path(release_dir: Path, lookup: str) -> Path | None:
    """Path of a lookup the release ships (case-insensitive file name), else None."""
    folder = Path(release_dir) / "lookups"
    if not folder.is_dir():
        return None
    for p in folder.glob("*.parquet"):
        if p.stem.lower() == lookup.lower():
            return p
    return None


def find_column(t: ir.Table, name: str) -> str | None:
    """The actual column name of ``name`` in ``t``, compared case-insensitively."""
    for c in t.columns:
        if c.lower() == name.lower():
            return c
    return None
