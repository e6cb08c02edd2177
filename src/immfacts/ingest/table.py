"""Ingest one table: pre-pass, bulk load through DuckDB, Python repair of the rest, accounting.

The steps, per table (:func:`scan_table`):

1. **Pre-pass** (:mod:`~immfacts.ingest.prepass`): stream the member from the zip, keep the
   lines with control characters, a wrong field count or a key that is not plain digits for
   Python (classified at once, :func:`~immfacts.ingest.repair.classify`), sort the others into
   a *plain* and a *full* data file, and find keys used by more than one line.
2. **Bulk load**: DuckDB's strict native CSV reader reads each data file in parallel (keys and
   dates typed by the reader); the *full* file's rows go through the generated SELECT
   (:func:`~immfacts.ingest.sqlgen.typing_sql`), which normalises every value, flags
   inconsistent rows and marks value quirks, the *plain* file's through the lean one
   (:func:`~immfacts.ingest.sqlgen.lean_sql`: nothing to normalise or flag). The Arrow streams
   are written straight to ``tables/<Table>.parquet`` (PyArrow, snappy) — except rows whose key
   is contested or belongs to a line kept for Python, and inconsistent rows, which go to Python. Lines
   the reader rejects (a key or date that does not parse) come back from its rejects table by
   content (its line numbers are estimates in a parallel scan; they are looked up by key).
3. **Python**: rejected and inconsistent lines are repaired or quarantined; the lines of
   contested keys are fetched (:func:`~immfacts.ingest.prepass.find_lines`) and resolved
   (first loaded, later ones duplicates); every loaded row goes through the same SELECT (text
   input), so bulk and repaired rows are typed and counted alike, and is appended to the file.
4. **Accounting**: quarantined lines are written verbatim (raw bytes, latin-1, with line number
   and reason) to ``quarantine/<Table>.tsv``; invalid codes are counted per distinct value of
   the written file; ``rows_read == rows_loaded + rows_quarantined`` is checked, and so is the
   agreement of the bulk reader with the pre-pass (rows streamed + lines rejected == lines in
   each data file) — a disagreement stops the ingest instead of losing a row.

``strict=True`` raises :class:`~immfacts.errors.StrictModeError` at the first line that would
need a repair or quarantine (the build folder is discarded, nothing changes).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from immfacts.errors import IngestError, InputError, StrictModeError
from immfacts.ingest.layout import Layout, build_layout, parse_header
from immfacts.ingest.limits import Limits
from immfacts.ingest.lookups import Lookups
from immfacts.ingest.prepass import (
    KeyCounter,
    Prepass,
    PrepassResult,
    Screen,
    find_lines,
    in_sorted,
)
from immfacts.ingest.progress import Progress
from immfacts.ingest.repair import Outcome, classify, resolve_duplicates
from immfacts.ingest.report import TableReport
from immfacts.ingest.source import Member, Release
from immfacts.ingest.sqlgen import (
    counter_columns,
    invalid_code_counts,
    lean_sql,
    read_csv_sql,
    typing_sql,
)
from immfacts.schema import main_tables
from immfacts.warehouse import release_arrow_memory

# Rows per Arrow batch from DuckDB's reader (and per staged row group). The load's memory is a
# few batches in flight, whatever the table's size: with 2**18, a 0.1-scale tbl_schedule load
# peaked at 731 MB against 509 MB at 0.01; with 2**16 at 514 MB (docs/performance.md, "Memory, third round").
BATCH_ROWS = 1 << 16
COMPRESSION = "snappy"
MAX_EXAMPLES = 5


class _Counters:
    """Per-column value counters, summed from the SELECT's per-value flags."""

    def __init__(self, layout: Layout, typed: bool) -> None:
        self.cols = counter_columns(layout, typed)
        self.acc = np.zeros(len(self.cols), dtype=np.int64)

    def add(self, batch: pa.RecordBatch | pa.Table, mask: np.ndarray | None = None) -> None:
        for j, (ctl, _, _) in enumerate(self.cols):
            col = batch.column(ctl)
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            if col.true_count:
                flags = col.to_numpy(zero_copy_only=False)
                self.acc[j] += int(np.count_nonzero(flags & mask) if mask is not None else np.count_nonzero(flags))

    def into(self, rep: TableReport) -> None:
        for (_, name, kind), n in zip(self.cols, self.acc.tolist(), strict=True):
            rep.add_value(name, kind, n)


def _strict_fail(table: str, o: Outcome) -> StrictModeError:
    what = o.reason or ", ".join(o.repairs)
    where = f"line {o.line_no}" if o.line_no else f"the row with key {o.pk}"
    return StrictModeError(
        f"table {table}, {where}: needs {'quarantine' if o.reason else 'repair'} ({what}{': ' + o.detail if o.detail else ''})",
        hint="run without --strict (lenient, the default) to repair or quarantine such rows and report them",
    )


def _python_rows(con: duckdb.DuckDBPyConnection, layout: Layout, rows: list[list[str]]) -> pa.Table:
    """Type rows of text fields with the same SELECT as the bulk (text input, per-column flags)."""
    cols = {f"c{i}": pa.array([(f[i] or None) for f in rows], pa.string()) for i in range(layout.n)}
    cur = con.cursor()
    try:
        cur.register("__py_rows", pa.table(cols))
        return cur.sql(typing_sql(layout, "__py_rows", typed=False, with_raw=False)).to_arrow_table()
    finally:
        cur.close()


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A staged table's Parquet writer. Dictionaries for text and dates (few distinct values),
    not for integers (keys are unique: a dictionary only costs time); min/max statistics for
    keys and dates (row-group pruning), not for text (no order to prune by). Measured on
    ``tbl_schedule`` at scale 0.1: 45 % less CPU and a 14 % smaller file than the defaults."""
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    dates = [f.name for f in schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    other = [f.name for f in schema if f.name not in text]
    return pq.ParquetWriter(path, schema, compression=COMPRESSION, use_dictionary=text + dates, write_statistics=other)


def _empty_schema(con: duckdb.DuckDBPyConnection, layout: Layout, out_names: list[str]) -> pa.Schema:
    """The staged schema of a table none of whose lines reached the bulk."""
    cols = {f"c{c.pos}": pa.array([], pa.string()) for c in layout.columns}
    cur = con.cursor()
    try:
        cur.register("__no_rows", pa.table(cols))
        got = cur.sql(typing_sql(layout, "__no_rows", typed=False, with_raw=False)).to_arrow_table().schema
    finally:
        cur.close()
    return pa.schema([got.field(n) for n in out_names])


def screen_of(layout: Layout) -> Screen:
    """What the pre-pass's value screen inspects for this layout (see :class:`Screen`)."""
    native = ("pk", "key", "ts")
    return Screen(
        plain=tuple(c.pos for c in layout.columns if c.role not in native),
        ints=tuple(c.pos for c in layout.columns if c.role == "int"),
        dates=tuple(c.pos for c in layout.columns if c.role == "ts"),
        codes=tuple(c.pos for c in layout.columns if c.role == "code"),
    )


@dataclass
class Prepared:
    """A table after its pre-pass: layout and what the pre-pass found (its data files included)."""

    table: str
    member: Member
    layout: Layout
    res: PrepassResult
    names: list[str]
    seconds: float


_REJECTS = "rj_scan"


@dataclass
class _Bulk:
    """What streaming the bulk produced."""

    streamed: int = 0
    written: int = 0
    keys: KeyCounter = field(default_factory=KeyCounter)
    viol: list[tuple[int | None, str]] = field(default_factory=list)
    refused: list[bytes] = field(default_factory=list)


def _stream(con, layout: Layout, reader, writer, schema, out_names, excluded: np.ndarray, counters: _Counters, tick, bulk: _Bulk, rejects: str) -> int:
    """Write the bulk's well-formed rows; collect inconsistent rows, anomalous rows' lines and
    the reader's rejected lines (see the module docstring) into ``bulk``. Returns the number of
    rows the reader returned plus the lines it rejected."""
    anomalous: list[str] = []
    streamed, refused = bulk.streamed, len(bulk.refused)
    for batch in reader:
        bulk.streamed += batch.num_rows
        keep = np.ones(batch.num_rows, dtype=bool)
        pk = None
        if layout.pk_pos is not None:
            pk = pc.fill_null(batch.column("__pk"), -1).to_numpy()
            keep &= (pk >= 0) & ~in_sorted(pk, excluded)
        bad_rows = keep & batch.column("__viol").to_numpy(zero_copy_only=False)
        good = keep & ~bad_rows
        if bad_rows.any():
            raws = batch.column("__raw").filter(pa.array(bad_rows)).to_pylist()
            keys = pk[bad_rows].tolist() if pk is not None else [None] * len(raws)
            bulk.viol.extend(zip(keys, raws, strict=True))
        n_good = int(good.sum())
        if n_good:
            anom = good & batch.column("__anom").to_numpy(zero_copy_only=False)
            if anom.any():
                anomalous.extend(batch.column("__raw").filter(pa.array(anom)).to_pylist())
                if len(anomalous) >= BATCH_ROWS:  # count value quirks as we go: memory stays flat
                    counters.add(_python_rows(con, layout, [r.split("\t") for r in anomalous]))
                    anomalous.clear()
            rows = batch if n_good == batch.num_rows else batch.filter(pa.array(good))
            if pk is not None:
                bulk.keys.add(pk[good], n_good)
            cols = [rows.column(n) for n in out_names]
            writer.write_batch(pa.record_batch([c if c.type == f.type else c.cast(f.type) for c, f in zip(cols, schema, strict=True)], schema=schema))
            bulk.written += n_good
        tick(batch.num_rows)
    reader.close()
    if anomalous:  # value quirks of the rows the bulk wrote
        counters.add(_python_rows(con, layout, [r.split("\t") for r in anomalous]))
    # The rejects table's line numbers and byte offsets are estimates in a parallel scan; its
    # csv_line is the line itself (after a stray leading LF): rejected lines are matched by content.
    rejected = con.execute(f"SELECT DISTINCT line, csv_line FROM {rejects}_errors").fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}_errors; DROP TABLE IF EXISTS {rejects}_scans")
    bulk.refused += [(text[1:] if text.startswith("\n") else text).encode("latin-1") for _, text in rejected]
    return bulk.streamed - streamed + len(bulk.refused) - refused


def _python_path(table: str, layout: Layout, prepared: Prepared, bad: list[Outcome], bulk: _Bulk, contested: set[int], strict: bool) -> list[Outcome]:
    """Classify rejected and inconsistent rows, fetch and resolve the lines of contested keys."""
    refused = [o for o in (classify(None, raw, layout) for raw in bulk.refused) if o.pk is None or o.pk not in contested]
    fixed = [classify(None, raw.encode("latin-1"), layout) for _, raw in bulk.viol]
    for o, (key, _) in zip(fixed, bulk.viol, strict=True):
        o.pk = key if o.pk is None else o.pk
    located = [o for o in refused + fixed if o.pk is not None and (o.reason or strict)]
    wanted = sorted(contested | {o.pk for o in located})
    found = []
    if wanted and layout.pk_pos is not None:
        res, keys = prepared.res, np.array(wanted, dtype=np.int64)
        for path, numbers, blocks in ((res.plain_path, res.plain_line_numbers, res.plain_blocks), (res.full_path, res.full_line_numbers, res.full_blocks)):
            found += find_lines(path, layout.n, layout.pk_pos, keys, res.crlf, numbers, blocks)
        found.sort(key=lambda b: b.line_no)
    single = {b.pk: b for b in found if b.pk not in contested}
    for o in refused + fixed:  # line numbers and verbatim bytes, by key
        if o.pk in single:
            o.line_no, o.raw = single[o.pk].line_no, single[o.pk].raw
    if strict and (refused or fixed):
        raise _strict_fail(table, min(refused + fixed, key=lambda o: o.line_no or 0))
    group_lines = [b for b in found if b.pk in contested]
    if strict:
        nums: dict[int, list[int]] = {}
        for ln, key in [(b.line_no, b.pk) for b in group_lines] + [(o.line_no, o.pk) for o in bad if o.pk in contested]:
            nums.setdefault(key, []).append(ln)
        dups = [Outcome(sorted(v)[1], b"", pk=k, reason="duplicate key", detail=f"key {k} on lines {', '.join(map(str, sorted(v)[:5]))}") for k, v in nums.items() if len(v) > 1]
        if dups:
            raise _strict_fail(table, min(dups, key=lambda o: o.line_no or 0))
    groups: dict[int, list[Outcome]] = {}
    singles: list[Outcome] = []
    for o in bad:
        (groups.setdefault(o.pk, []) if o.pk in contested else singles).append(o)
    for b in group_lines:
        groups.setdefault(b.pk, []).append(classify(b.line_no, b.raw, layout))
    return singles + refused + [o for g in groups.values() for o in resolve_duplicates(g)] + fixed


def prepare_table(
    release: Release,
    table: str,
    build: Path,
    *,
    lookups: Lookups,
    limits: Limits | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Prepared:
    """Step 1 of :func:`scan_table`: the pre-pass (it may run in a thread, ahead of the load of
    the previous table; ``stop`` aborts it between blocks)."""
    limits = limits or Limits.from_env()
    progress = progress or Progress()
    t0 = time.perf_counter()
    member = release.tables[table]
    work = build / "work"
    work.mkdir(parents=True, exist_ok=True)
    progress.start_table(table, member.size)

    def on_bytes(n: int) -> None:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        progress.read(table, n)

    with release.open(member) as stream:
        pp = Prepass(stream, on_bytes=on_bytes)
        header = pp.read_header()
        if header is None:
            raise InputError(
                f"table {table} ({member.name}) in {release.source} is empty: 0 bytes, not even a header",
                hint="the release is incomplete; download it again",
            )
        names = parse_header(header)
        layout = build_layout(main_tables()[table], names, release.source, lookups.codes)
        res = pp.run(work / table, layout.n, layout.pk_pos, limits.max_line_bytes, limits.max_bad_lines, screen_of(layout))
    return Prepared(table, member, layout, res, names, time.perf_counter() - t0)


def scan_table(
    release: Release,
    table: str,
    build: Path,
    *,
    con: duckdb.DuckDBPyConnection,
    lookups: Lookups,
    strict: bool = False,
    limits: Limits | None = None,
    progress: Progress | None = None,
    count_txt: int | None = None,
    prepared: Prepared | None = None,
) -> TableReport:
    """Ingest ``table`` of ``release`` into ``build`` (``tables/``, ``quarantine/``); see module
    docstring. ``prepared`` is the table's :func:`prepare_table` result when it ran ahead."""
    limits = limits or Limits.from_env()
    progress = progress or Progress()
    if prepared is None:
        prepared = prepare_table(release, table, build, lookups=lookups, limits=limits, progress=progress)
    t0 = time.perf_counter()
    layout, res, names = prepared.layout, prepared.res, prepared.names
    rep = TableReport(table, member=prepared.member.name, count_txt=count_txt)
    rep.header, rep.rows_read, rep.bytes_read = names, res.lines, res.bytes_in
    rep.columns_missing = [c.name for c in layout.missing]
    rep.columns_extra = list(layout.extra)
    progress.start_rows(table, res.lines)

    # 1. the blanked lines, and which keys Python must see
    bad = [classify(b.line_no, b.raw, layout) for b in res.bad]
    bad += [Outcome(b.line_no, b.raw).quarantine("duplicate_row", "repeats an earlier line") for b in res.dup_raw_lines]
    contested = set(res.contested)
    prepass_keys = {b.line_no: b.pk for b in res.bad}
    keyed = Counter(o.pk for o in bad if o.pk is not None)
    for o in bad:  # a key readable only after repair may collide with another line's
        if o.pk is not None and (keyed[o.pk] > 1 or (prepass_keys.get(o.line_no) is None and res.keys is not None and res.keys.seen(o.pk))):
            contested.add(o.pk)
    excluded = np.array(sorted(contested | {o.pk for o in bad if o.pk is not None}), dtype=np.int64)
    if strict:
        first = [o for o in bad if o.reason or o.repairs]
        if first:
            raise _strict_fail(table, min(first, key=lambda o: o.line_no or 0))

    # 2. the bulk, through DuckDB's strict reader
    out_names = [n for n, _, _ in layout.output_columns()]
    tables_dir = build / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    parquet = tables_dir / f"{table}.parquet"
    counters = _Counters(layout, typed=False)
    bulk = _Bulk()
    writer = None
    try:
        # plain lines through the lean SELECT, the other well-formed ones through the full one
        for kind, path, lines in (("plain", res.plain_path, res.plain_lines), ("full", res.full_path, res.good - res.plain_lines)):
            if not lines:
                continue
            rejects = f"{_REJECTS}_{kind}"
            source = read_csv_sql(str(path), layout, limits.max_line_bytes, rejects, res.crlf)
            sql = lean_sql(layout, source) if kind == "plain" else typing_sql(layout, source, typed=True, per_column=False)
            reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
            if writer is None:
                schema = pa.schema([reader.schema.field(n) for n in out_names])
                writer = _parquet_writer(parquet, schema)
            seen = _stream(con, layout, reader, writer, schema, out_names, excluded, counters, lambda n: progress.load(table, n), bulk, rejects)
            if seen != lines:
                raise IngestError(
                    f"table {table}: DuckDB's reader returned and rejected {seen:,} lines of the {lines:,} in {Path(path).name}",
                    hint="the file has a layout immfacts does not handle yet; please report it (nothing was written)",
                )
        if writer is None:
            schema = _empty_schema(con, layout, out_names)
            writer = _parquet_writer(parquet, schema)
        # 3. Python: lines the reader rejected, inconsistent rows, contested keys
        outcomes = _python_path(table, layout, prepared, bad, bulk, contested, strict)
        loaded = [o for o in outcomes if o.loaded]
        clash = next((o for o in loaded if o.pk is not None and bulk.keys.seen(o.pk)), None)
        if clash is not None:
            raise IngestError(
                f"table {table}: line {clash.line_no} (key {clash.pk}) would be loaded twice — the bulk reader and the pre-pass disagree",
                hint="please report this with the release name (nothing was written)",
            )
        if loaded:
            typed = _python_rows(con, layout, [o.fields for o in loaded])
            counters.add(typed)
            writer.write_table(pa.table([typed.column(n) for n in out_names], schema=schema))
    finally:
        if writer is not None:
            writer.close()
    for path in (res.plain_path, res.full_path):
        Path(path).unlink(missing_ok=True)

    # 4. accounting
    counters.into(rep)
    for name, n in invalid_code_counts(con, str(parquet), layout).items():
        rep.add_value(name, "invalid_codes", n)
    rep.fast_path_rows = bulk.written
    rep.rows_loaded = bulk.written + len(loaded)
    for o in loaded:
        for kind in dict.fromkeys(o.repairs):
            rep.rows_repaired[kind] += 1
    quarantined = sorted((o for o in outcomes if not o.loaded), key=lambda o: o.line_no or 0)
    for o in quarantined:
        rep.quarantined[o.reason] += 1
        ex = rep.examples.setdefault(o.reason, [])
        if len(ex) < MAX_EXAMPLES:
            ex.append({"line": o.line_no, "detail": o.detail, "raw": o.raw[:200].decode("latin-1")})
    if quarantined:
        qdir = build / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        with open(qdir / f"{table}.tsv", "wb") as fh:
            fh.write(b"line\treason\traw\n")
            for o in quarantined:
                fh.write(f"{o.line_no if o.line_no is not None else ''}\t{o.reason}\t".encode() + o.raw + b"\n")
    rep.elapsed_s = prepared.seconds + time.perf_counter() - t0
    progress.end_table(table)
    rep.check()
    release_arrow_memory()  # (the next table's DuckDB work cannot reuse what PyArrow's pool keeps)
    return rep
