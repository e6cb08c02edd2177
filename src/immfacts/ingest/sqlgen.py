"""The value rules of :mod:`immfacts.ingest.layout` as DuckDB SQL, for the bulk of the rows.

One SELECT, generated per table layout, turns raw VARCHAR fields (``c0`` … ``cN``, empty
fields already NULL) into the staged typed columns, and adds control columns that the Python
side reads from the Arrow stream:

* ``__pk`` — the primary key when its raw text is plain digits (the same test as the byte-level
  pre-pass, so both agree on which lines are well-formed), else NULL;
* ``__marker`` — the line was blanked by the pre-pass (it is handled in Python instead);
* ``__viol`` — the row is inconsistent (a type violation: shift evidence) and goes to repair;
* ``__nt<i>``, ``__tr<i>``, ``__bd<i>`` — per value of column ``i``: a null token, a trimmed
  value, a bad date (summed with NumPy over the rows written);
* ``__raw`` — for inconsistent rows only, the original line (fields joined by tabs).

The SELECT is layered (trim once, then null-likeness once, then everything else) so that it
stays cheap to plan even for tables with 60+ columns. Invalid codes are counted afterwards on
the written Parquet, per distinct value (:func:`invalid_code_counts`), since they never decide
where a row goes.
"""

from __future__ import annotations

import re

import duckdb

from immfacts.ingest.layout import NULL_TOKENS_UPPER, Column, Layout

KIND_NAMES = {"nt": "null_tokens", "tr": "trimmed", "bd": "bad_dates", "ic": "invalid_codes"}
_DATE_RX = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}'"
_TOKENS_SQL = "(" + ", ".join("'" + t.replace("'", "''") + "'" for t in NULL_TOKENS_UPPER) + ")"


def q(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    """A quoted SQL identifier."""
    return '"' + s.replace('"', '""') + '"'


def read_csv_sql(path: str, n: int, max_line: int) -> str:
    """DuckDB's native reader over a normalised data file (LF lines, no header, tab-separated)."""
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n))
    return (
        f"read_csv({q(path)}, columns={{{cols}}}, delim='\\t', quote='', escape='', header=false, "
        f"auto_detect=false, null_padding=true, ignore_errors=true, strict_mode=false, "
        f"encoding='latin-1', new_line='\\n', max_line_size={int(max_line)}, comment='')"
    )


def _value(c: Column) -> str:
    i = c.pos
    t, n = f"t{i}", f"n{i}"
    squish = f"(CASE WHEN contains({t}, '  ') THEN regexp_replace({t}, ' {{2,}}', ' ', 'g') ELSE {t} END)"
    if c.role in ("pk", "key"):
        return f"(CASE WHEN regexp_full_match({t}, '-?[0-9]{{1,18}}') THEN CAST({t} AS BIGINT) END)"
    if c.role == "ts":
        return f"(CASE WHEN r{i} >= TIMESTAMP '1900-01-01' THEN r{i} END)"
    if c.role == "code":  # codes are not squished: lookup codes keep their inner spaces
        return f"(CASE WHEN {n} THEN NULL ELSE upper({t}) END)"
    return f"(CASE WHEN {n} THEN NULL ELSE {squish} END)"


def _violation(c: Column) -> str | None:
    i = c.pos
    t, n = f"t{i}", f"n{i}"
    if c.role in ("pk", "key", "int"):
        return f"(NOT {n} AND NOT regexp_full_match({t}, '-?[0-9]+'))"
    if c.role == "ts":
        return f"(NOT {n} AND r{i} IS NULL AND NOT regexp_matches({t}, {_DATE_RX}))"
    if c.role in ("code", "text"):
        return f"(NOT {n} AND {t} LIKE '____-__-__%' AND regexp_matches({t}, {_DATE_RX}))"
    return None


def typing_sql(layout: Layout, source: str, with_raw: bool = True) -> str:
    """The SELECT that types ``source`` (a relation with columns c0…cN) — see module docstring."""
    cols = layout.columns
    raw = ", ".join(f"c{c.pos}" for c in cols)
    l1 = f"SELECT {raw}, " + ", ".join(f"trim(c{c.pos}) AS t{c.pos}" for c in cols) + f" FROM {source}"
    nl = f" IS NULL OR {{t}} = '' OR (length({{t}}) <= 6 AND upper({{t}}) IN {_TOKENS_SQL})"
    l2a = f"SELECT {raw}, " + ", ".join(f"t{c.pos}, (t{c.pos}" + nl.format(t=f"t{c.pos}") + f") AS n{c.pos}" for c in cols) + f" FROM ({l1})"
    ts = [c for c in cols if c.role == "ts"]
    l2b_items = [f"t{c.pos}, n{c.pos}" for c in cols] + [
        f"(CASE WHEN NOT n{c.pos} AND t{c.pos} LIKE '____-__-__%' THEN TRY_CAST(t{c.pos} AS TIMESTAMP) END) AS r{c.pos}" for c in ts
    ]
    l2b = f"SELECT {raw}, " + ", ".join(l2b_items) + f" FROM ({l2a})"
    out: list[str] = []
    for name, typ, col in layout.output_columns():
        out.append(f"CAST(NULL AS {typ}) AS {ident(name)}" if col is None else f"{_value(col)} AS {ident(name)}")
    pk = layout.pk_pos
    out.append(
        f"(CASE WHEN regexp_full_match(c{pk}, '[0-9]{{1,18}}') THEN CAST(c{pk} AS BIGINT) END) AS __pk" if pk is not None else "CAST(NULL AS BIGINT) AS __pk"
    )
    out.append("(c0 IS NOT DISTINCT FROM chr(1)) AS __marker")
    viols = [v for c in cols if (v := _violation(c))]
    out.append(f"coalesce({' OR '.join(viols) if viols else 'false'}, false) AS __viol")
    for c in cols:
        i = c.pos
        out.append(f"coalesce(c{i} IS NOT NULL AND n{i}, false) AS __nt{i}")
        out.append(f"coalesce(NOT n{i} AND c{i} <> t{i}, false) AS __tr{i}")
        if c.role == "ts":
            out.append(f"coalesce(NOT n{i} AND (r{i} IS NULL OR r{i} < TIMESTAMP '1900-01-01'), false) AS __bd{i}")
    l3 = f"SELECT {raw}, " + ", ".join(out) + f" FROM ({l2b})"
    joined = ", ".join(f"coalesce(c{c.pos}, '')" for c in cols)
    raw_expr = f"CASE WHEN __viol THEN concat_ws(chr(9), {joined}) END" if with_raw else "CAST(NULL AS VARCHAR)"
    return f"SELECT * EXCLUDE ({raw}), {raw_expr} AS __raw FROM ({l3})"


def counter_columns(layout: Layout) -> list[tuple[str, str, str]]:
    """(control column, report column name, counter name) of every per-value flag."""
    out = []
    for c in layout.columns:
        out.append((f"__nt{c.pos}", c.name, "null_tokens"))
        out.append((f"__tr{c.pos}", c.name, "trimmed"))
        if c.role == "ts":
            out.append((f"__bd{c.pos}", c.name, "bad_dates"))
    return out


def invalid_code_counts(con: duckdb.DuckDBPyConnection, parquet: str, layout: Layout) -> dict[str, int]:
    """Per coded column, the loaded values outside the lookup (or not matching the pattern)."""
    out: dict[str, int] = {}
    for c in layout.columns:
        if c.role != "code" or (c.codes is None and not c.pattern):
            continue
        rows = con.execute(f"SELECT {ident(c.name)}, count(*) FROM read_parquet({q(parquet)}) WHERE {ident(c.name)} IS NOT NULL GROUP BY 1").fetchall()
        if c.codes is not None:
            bad = sum(n for v, n in rows if v not in c.codes)
        else:
            rx = re.compile(c.pattern)
            bad = sum(n for v, n in rows if rx.search(v) is None)
        if bad:
            out[c.name] = bad
    return out
