"""The value rules of :mod:`immfacts.ingest.layout` as DuckDB SQL, for the bulk of the rows.

The bulk reader (:func:`read_csv_sql`) is DuckDB's native CSV reader in strict mode, over the
pre-pass's data files (:mod:`~immfacts.ingest.prepass`), with the
keys typed BIGINT and the dates TIMESTAMP by the reader itself (its fastest path) and the other
fields VARCHAR; a line it cannot take — wrong number of fields, a key or date that does not
parse — is *rejected* into a rejects table with its line number and byte offset, and goes to
Python. One SELECT (:func:`typing_sql`), generated per table layout, then turns the fields
(``c0`` … ``cN``, empty fields NULL) into the staged columns, and adds control columns that
the Python side reads from the Arrow stream:

* ``__pk`` — the primary key when its raw text is plain digits (the same test as the byte-level
  pre-pass, so both agree on which lines are well-formed), else NULL;
* ``__viol`` — the row is inconsistent (a type violation: shift evidence) and goes to repair;
* ``__nt<i>``, ``__tr<i>``, ``__bd<i>`` — per value of column ``i``: a null token, a trimmed
  value, a bad date (summed with NumPy) — or, for the bulk, one ``__anom`` per row (any of them);
* ``__raw`` — for inconsistent or anomalous rows only, the line (fields joined by tabs; keys and
  dates the reader typed are re-rendered, so quarantined lines are re-read verbatim by key).

The SELECT is layered (trim once, then null-likeness once, then everything else) so that it
stays cheap to plan even for tables with 60+ columns. It runs only on the pre-pass's *full*
file; the *plain* lines — no value to trim, null, squish or flag — go through
:func:`lean_sql`, which returns the same values and control columns without computing them. Invalid codes are counted afterwards on
the written Parquet, per distinct value (:func:`invalid_code_counts`), since they never decide
where a row goes.
"""

from __future__ import annotations

import re

import duckdb

from immfacts.ingest.layout import NULL_TOKENS_UPPER, Column, Layout
from immfacts.warehouse import literal, quote

KIND_NAMES = {"nt": "null_tokens", "tr": "trimmed", "bd": "bad_dates", "ic": "invalid_codes"}
_DATE_RX = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}'"
_TOKENS_SQL = "(" + ", ".join(literal(t) for t in NULL_TOKENS_UPPER) + ")"
ident = quote  # a quoted SQL identifier


def reader_type(c: Column) -> str:
    """The type the bulk reader parses a column as (keys and dates natively, the rest as text)."""
    return {"pk": "BIGINT", "key": "BIGINT", "ts": "TIMESTAMP"}.get(c.role, "VARCHAR")


def read_csv_sql(path: str, layout: Layout, max_line: int, rejects: str, crlf: bool = True) -> str:
    """DuckDB's strict native reader over a data file (no header, one terminator, tab-separated);
    rejected lines land in ``<rejects>_errors`` / ``<rejects>_scans``. The terminator (the
    pre-pass made it uniform, CRLF or LF) is left to the reader to detect: naming it explicitly
    as ``new_line='\\r\\n'`` makes DuckDB 2.0 read the whole file as one line."""
    cols = ", ".join(f"'c{c.pos}': '{reader_type(c)}'" for c in layout.columns)
    return (
        f"read_csv({literal(path)}, columns={{{cols}}}, delim='\\t', quote='', escape='', header=false, "
        f"auto_detect=false, null_padding=false, ignore_errors=true, strict_mode=true, "
        f"store_rejects=true, rejects_table='{rejects}_errors', rejects_scan='{rejects}_scans', "
        f"encoding='latin-1', max_line_size={int(max_line)}, buffer_size={max(16 << 20, 2 * int(max_line))}, comment='')"
    )


def _value(c: Column, typed: bool) -> str:
    i = c.pos
    t, n = f"t{i}", f"n{i}"
    if c.role in ("pk", "key"):
        return f"c{i}" if typed else f"(CASE WHEN regexp_full_match({t}, '-?[0-9]{{1,18}}') THEN CAST({t} AS BIGINT) END)"
    if c.role == "ts":
        r = f"c{i}" if typed else f"r{i}"
        return f"(CASE WHEN {r} >= TIMESTAMP '1900-01-01' THEN {r} END)"
    if c.role == "code":  # codes are not squished: lookup codes keep their inner spaces
        return f"(CASE WHEN {n} THEN NULL ELSE {t} END)"
    squish = f"(CASE WHEN contains({t}, '  ') THEN regexp_replace({t}, ' {{2,}}', ' ', 'g') ELSE {t} END)"
    return f"(CASE WHEN {n} THEN NULL ELSE {squish} END)"


def _violation(c: Column, typed: bool) -> str | None:
    i = c.pos
    t, n = f"t{i}", f"n{i}"
    if c.role in ("pk", "key", "ts") and typed:
        return None  # the reader rejected anything that does not parse
    if c.role in ("pk", "key", "int"):
        return f"(NOT {n} AND NOT regexp_full_match({t}, '-?[0-9]+'))"
    if c.role == "ts":
        return f"(NOT {n} AND r{i} IS NULL AND NOT regexp_matches({t}, {_DATE_RX}))"
    if c.role in ("code", "text"):
        return f"(NOT {n} AND length({t}) >= 10 AND {t} LIKE '____-__-__%' AND regexp_matches({t}, {_DATE_RX}))"
    return None


def typing_sql(layout: Layout, source: str, typed: bool = False, with_raw: bool = True, per_column: bool = True) -> str:
    """The SELECT that types ``source`` — a relation with columns c0…cN, VARCHAR, or (``typed``)
    as :func:`read_csv_sql` types them. ``per_column`` flags every value quirk per column
    (``__nt<i>``, ``__tr<i>``, ``__bd<i>``); otherwise one ``__anom`` says the row has any, and
    ``__raw`` carries such rows too (the bulk: few rows have one, and the columns are costly)."""
    cols = layout.columns
    native = {c.pos for c in cols if typed and c.role in ("pk", "key", "ts")}
    text = [c for c in cols if c.pos not in native]
    raw = ", ".join(f"c{c.pos}" for c in cols)
    # layer 1: trimmed text (codes upper-cased once)
    l1 = [f"{'upper(trim(c' + str(c.pos) + '))' if c.role == 'code' else 'trim(c' + str(c.pos) + ')'} AS t{c.pos}" for c in text]
    src = f"SELECT {raw}{', ' if l1 else ''}{', '.join(l1)} FROM {source}"
    # layer 2: null-likeness, and dates parsed from text
    l2 = []
    for c in text:
        i = c.pos
        if c.role == "code":  # (tokens are 2–6 characters; most codes are shorter or longer)
            short = f"(length(t{i}) BETWEEN 2 AND 6 AND t{i} IN {_TOKENS_SQL})"
        else:
            short = f"(length(t{i}) BETWEEN 2 AND 6 AND upper(t{i}) IN {_TOKENS_SQL})"
        l2.append(f"t{i}, coalesce(t{i} = '' OR {short}, true) AS n{i}")
    src = f"SELECT {raw}{', ' if l2 else ''}{', '.join(l2)} FROM ({src})"
    dated = [c for c in text if c.role == "ts"]
    if dated:
        l3 = [f"t{c.pos}, n{c.pos}" for c in text]
        l3 += [f"(CASE WHEN NOT n{c.pos} AND t{c.pos} LIKE '____-__-__%' THEN TRY_CAST(t{c.pos} AS TIMESTAMP) END) AS r{c.pos}" for c in dated]
        src = f"SELECT {raw}, {', '.join(l3)} FROM ({src})"
    out: list[str] = []
    for name, typ, col in layout.output_columns():
        out.append(f"CAST(NULL AS {typ}) AS {ident(name)}" if col is None else f"{_value(col, col.pos in native)} AS {ident(name)}")
    pk = layout.pk_pos
    if pk is None:
        out.append("CAST(NULL AS BIGINT) AS __pk")
    elif pk in native:
        out.append(f"c{pk} AS __pk")
    else:
        out.append(f"(CASE WHEN regexp_full_match(c{pk}, '[0-9]{{1,18}}') THEN CAST(c{pk} AS BIGINT) END) AS __pk")
    viols = [v for c in cols if (v := _violation(c, c.pos in native))]
    out.append(f"coalesce({' OR '.join(viols) if viols else 'false'}, false) AS __viol")
    flags: list[tuple[str, str]] = []
    for c in cols:
        i = c.pos
        if c.pos in native:
            if c.role == "ts":
                flags.append((f"__bd{i}", f"c{i} < TIMESTAMP '1900-01-01'"))
            continue
        flags.append((f"__nt{i}", f"c{i} IS NOT NULL AND n{i}"))
        flags.append((f"__tr{i}", f"NOT n{i} AND length(c{i}) <> length(t{i})"))
        if c.role == "ts":
            flags.append((f"__bd{i}", f"NOT n{i} AND (r{i} IS NULL OR r{i} < TIMESTAMP '1900-01-01')"))
    if per_column:
        out += [f"coalesce({expr}, false) AS {name}" for name, expr in flags]
        out.append("false AS __anom")
    else:
        out.append(f"coalesce({' OR '.join('(' + e + ')' for _, e in flags) if flags else 'false'}, false) AS __anom")
    body = f"SELECT {raw}, " + ", ".join(out) + f" FROM ({src})"
    joined = ", ".join(f"coalesce(CAST(c{c.pos} AS VARCHAR), '')" for c in cols)
    raw_expr = f"CASE WHEN __viol OR __anom THEN concat_ws(chr(9), {joined}) END" if with_raw else "CAST(NULL AS VARCHAR)"
    return f"SELECT * EXCLUDE ({raw}), {raw_expr} AS __raw FROM ({body})"


def lean_sql(layout: Layout, source: str) -> str:
    """The SELECT for *plain* lines (:func:`immfacts.ingest.prepass._analyse`: no value to trim,
    squish, null or upper-case, no shift evidence, no date before 1900): keys and dates as the
    reader typed them, every other value as read — the values :func:`typing_sql` would give, at
    a fraction of its cost. Same control columns, constant (no plain line is flagged)."""
    out: list[str] = []
    for name, typ, col in layout.output_columns():
        if col is None:
            out.append(f"CAST(NULL AS {typ}) AS {ident(name)}")
        else:  # codes too: the screen sent every code a SELECT would upper-case to the full one
            out.append(f"c{col.pos} AS {ident(name)}")
    pk = layout.pk_pos
    out.append("CAST(NULL AS BIGINT) AS __pk" if pk is None else f"c{pk} AS __pk")
    out += ["false AS __viol", "false AS __anom", "CAST(NULL AS VARCHAR) AS __raw"]
    return f"SELECT {', '.join(out)} FROM {source}"


def counter_columns(layout: Layout, typed: bool) -> list[tuple[str, str, str]]:
    """(control column, report column name, counter name) of every per-value flag."""
    out = []
    for c in layout.columns:
        if not (typed and c.role in ("pk", "key", "ts")):
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
        rows = con.execute(f"SELECT {ident(c.name)}, count(*) FROM read_parquet({literal(parquet)}) WHERE {ident(c.name)} IS NOT NULL GROUP BY 1").fetchall()
        if c.codes is not None:
            bad = sum(n for v, n in rows if v not in c.codes)
        else:
            rx = re.compile(c.pattern)
            bad = sum(n for v, n in rows if rx.search(v) is None)
        if bad:
            out[c.name] = bad
    return out
