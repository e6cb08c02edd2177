"""Ingest one table: pre-pass, bulk load through DuckDB, Python repair of the rest, accounting.

The steps, per table (``scan_table``):

1. **Pre-pass** (:mod:`~immfacts.ingest.prepass`): stream the member from the zip to a
   normalised data file, capturing the malformed lines and finding keys used by more than one
   line. Python classifies the malformed lines at once (:func:`~immfacts.ingest.repair.classify`).
2. **Bulk load**: DuckDB's native CSV reader reads the data file in parallel and the generated
   SELECT (:mod:`~immfacts.ingest.sqlgen`) types every row, flags inconsistent rows and counts
   value quirks in bit masks. The Arrow stream is written straight to
   ``tables/<Table>.parquet`` — except rows whose key is contested or belongs to a malformed
   line, and inconsistent rows, which go to Python.
3. **Python**: inconsistent rows are repaired or quarantined; the lines of contested keys are
   fetched (:func:`~immfacts.ingest.prepass.find_lines`) and resolved (first loaded, later ones
   duplicates); every loaded row goes through the *same* SELECT, so the bulk and the repaired
   rows are typed and counted identically, and is appended to the Parquet file.
4. **Accounting**: quarantined lines are written verbatim (raw bytes, latin-1, with line number
   and reason) to ``quarantine/<Table>.tsv``; the report's invariant ``rows_read ==
   rows_loaded + rows_quarantined`` is checked, and so is the agreement between the bulk reader
   and the pre-pass (the number of rows DuckDB emitted must equal the well-formed lines the
   pre-pass counted — a disagreement stops the ingest instead of losing a row).

``strict=True`` raises :class:`~immfacts.errors.StrictModeError` at the first line that would
need a repair or quarantine (the build folder is discarded, nothing changes).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from immfacts.errors import InputError, StrictModeError
from immfacts.ingest.layout import Layout, build_layout, parse_header
from immfacts.ingest.limits import Limits
from immfacts.ingest.lookups import Lookups
from immfacts.ingest.prepass import Prepass, PrepassResult, find_lines
from immfacts.ingest.progress import Progress
from immfacts.ingest.repair import Outcome, classify, resolve_duplicates
from immfacts.ingest.report import TableReport
from immfacts.ingest.source import Release
from immfacts.ingest.sqlgen import counter_columns, invalid_code_counts, read_csv_sql, typing_sql
from immfacts.schema import main_tables

BATCH_ROWS = 1 << 18
COMPRESSION = "snappy"
MAX_EXAMPLES = 5


class _Counters:
    """Per-column value counters, summed from the SELECT's per-value flags."""

    def __init__(self, layout: Layout) -> None:
        self.cols = counter_columns(layout)
        self.acc = np.zeros(len(self.cols), dtype=np.int64)

    def add(self, batch: pa.RecordBatch | pa.Table, mask: np.ndarray | None = None) -> None:
        for j, (ctl, _, _) in enumerate(self.cols):
            col = batch.column(ctl)
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            if col.true_count if hasattr(col, "true_count") else pc.sum(col).as_py():
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


def _python_rows(con: duckdb.DuckDBPyConnection, layout: Layout, rows: list[Outcome]) -> pa.Table:
    cols = {f"c{i}": pa.array([(o.fields[i] or None) for o in rows], pa.string()) for i in range(layout.n)}
    cur = con.cursor()
    try:
        cur.register("__py_rows", pa.table(cols))
        return cur.sql(typing_sql(layout, "__py_rows", with_raw=False)).to_arrow_table()
    finally:
        cur.close()


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
) -> TableReport:
    """Ingest ``table`` of ``release`` into ``build`` (``tables/``, ``quarantine/``); see module docstring."""
    limits = limits or Limits.from_env()
    progress = progress or Progress()
    spec = main_tables()[table]
    member = release.tables[table]
    rep = TableReport(table, member=member.name, count_txt=count_txt)
    t0 = time.perf_counter()
    work = build / "work"
    work.mkdir(parents=True, exist_ok=True)
    data_path = work / f"{table}.data"
    progress.start_table(table, member.size)
    with release.open(member) as stream:
        pp = Prepass(stream, on_bytes=lambda n: progress.read(table, n))
        header = pp.read_header()
        if header is None:
            raise InputError(
                f"table {table} ({member.name}) in {release.source} is empty: 0 bytes, not even a header",
                hint="the release is incomplete; download it again",
            )
        names = parse_header(header)
        layout = build_layout(spec, names, release.source, lookups.codes)
        res = pp.run(data_path, layout.n, layout.pk_pos, limits.max_line_bytes, limits.max_bad_lines)
    rep.header, rep.rows_read, rep.bytes_read = names, res.lines, res.bytes_in
    rep.columns_missing = [c.name for c in layout.missing]
    rep.columns_extra = list(layout.extra)
    progress.start_rows(table, res.lines)

    # 1. the malformed lines, and which keys go to Python
    bad = [classify(b.line_no, b.raw, layout) for b in res.bad]
    bad += [Outcome(b.line_no, b.raw).quarantine("duplicate_row", "repeats an earlier line") for b in res.dup_raw_lines]
    contested = set(res.contested)
    prepass_keys = {b.line_no: b.pk for b in res.bad}
    late = Counter(o.pk for o in bad if o.pk is not None)
    for o in bad:
        if o.pk is None:
            continue
        if late[o.pk] > 1 or (prepass_keys.get(o.line_no) is None and res.keys is not None and res.keys.seen(o.pk)):
            contested.add(o.pk)
    excluded = np.array(sorted(contested | {o.pk for o in bad if o.pk is not None}), dtype=np.int64)
    wanted = np.array(sorted(contested), dtype=np.int64)
    group_lines = find_lines(data_path, layout.n, layout.pk_pos, wanted) if layout.pk_pos is not None else []
    if strict:
        first = [o for o in bad if o.reason or o.repairs]
        lines_by_key: dict[int, list[int]] = {}
        for line_no, key in [(b.line_no, b.pk) for b in group_lines] + [(o.line_no, o.pk) for o in bad if o.pk in contested]:
            lines_by_key.setdefault(key, []).append(line_no)
        for key, nums in lines_by_key.items():
            if len(nums) > 1:
                first.append(Outcome(sorted(nums)[1], b"", pk=key, reason="duplicate key", detail=f"key {key} is on lines {', '.join(map(str, sorted(nums)[:5]))}"))
        if first:
            raise _strict_fail(table, min(first, key=lambda o: o.line_no or 0))

    # 2. the bulk, through DuckDB
    out_names = [n for n, _, _ in layout.output_columns()]
    tables_dir = build / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    counters = _Counters(layout)
    sql = typing_sql(layout, read_csv_sql(str(data_path), layout.n, limits.max_line_bytes))
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    schema = pa.schema([reader.schema.field(n) for n in out_names])
    writer = pq.ParquetWriter(tables_dir / f"{table}.parquet", schema, compression=COMPRESSION)
    emitted = written = 0
    viol: list[tuple[int | None, str]] = []
    try:
        for batch in reader:
            marker = batch.column("__marker").to_numpy(zero_copy_only=False)
            if layout.pk_pos is not None:
                pk = pc.fill_null(batch.column("__pk"), -1).to_numpy()
                keep = (pk >= 0) & ~marker
                if excluded.size:
                    pos = np.searchsorted(excluded, pk)
                    keep &= ~((pos < excluded.size) & (excluded[np.minimum(pos, excluded.size - 1)] == pk))
            else:
                pk = None
                keep = ~marker
            bad_rows = keep & batch.column("__viol").to_numpy(zero_copy_only=False)
            good = keep & ~bad_rows
            emitted += int(keep.sum())
            if bad_rows.any():
                raws = batch.column("__raw").filter(pa.array(bad_rows)).to_pylist()
                keys = pk[bad_rows].tolist() if pk is not None else [None] * len(raws)
                viol.extend(zip(keys, raws, strict=True))
            n_good = int(good.sum())
            if n_good:
                counters.add(batch, good)
                rows = batch if n_good == batch.num_rows else batch.filter(pa.array(good))
                writer.write_batch(pa.record_batch([rows.column(n) for n in out_names], schema=schema))
                written += n_good
            progress.load(table, batch.num_rows)
        reader.close()

        expected = res.good - len(group_lines)
        if emitted != expected:
            raise InputError(
                f"table {table}: DuckDB's reader returned {emitted:,} well-formed rows where the pre-pass counted {expected:,}",
                hint="the file has a layout immfacts does not handle yet; please report it (nothing was written)",
            )

        # 3. Python: inconsistent rows, contested keys
        fixed = [classify(None, raw.encode("latin-1"), layout) for _, raw in viol]
        for o, (key, _) in zip(fixed, viol, strict=True):
            o.pk = key if o.pk is None else o.pk
        need_lines = np.array(sorted({o.pk for o in fixed if o.pk is not None and (o.reason or strict)}), dtype=np.int64)
        if need_lines.size:
            where = {b.pk: b.line_no for b in find_lines(data_path, layout.n, layout.pk_pos, need_lines)}
            for o in fixed:
                o.line_no = where.get(o.pk, o.line_no)
        if strict and fixed:
            raise _strict_fail(table, min(fixed, key=lambda o: o.line_no or 0))
        groups: dict[int, list[Outcome]] = {}
        singles: list[Outcome] = []
        for o in bad:
            (groups.setdefault(o.pk, []) if o.pk in contested else singles).append(o)
        for b in group_lines:
            groups.setdefault(b.pk, []).append(classify(b.line_no, b.raw, layout))
        resolved = [o for g in groups.values() for o in resolve_duplicates(g)]
        outcomes = singles + resolved + fixed
        loaded = [o for o in outcomes if o.loaded]
        if loaded:
            typed = _python_rows(con, layout, loaded)
            counters.add(typed)
            writer.write_table(pa.table([typed.column(n) for n in out_names], schema=schema))
    finally:
        writer.close()
    data_path.unlink(missing_ok=True)

    # 4. accounting
    counters.into(rep)
    for name, n in invalid_code_counts(con, str(tables_dir / f"{table}.parquet"), layout).items():
        rep.add_value(name, "invalid_codes", n)
    rep.fast_path_rows = written
    rep.rows_loaded = written + len(loaded)
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
    rep.elapsed_s = time.perf_counter() - t0
    progress.end_table(table)
    rep.check()
    return rep


def prepass_only(release: Release, table: str, work: Path, limits: Limits | None = None) -> tuple[Layout, PrepassResult]:
    """Run just the pre-pass of a table (for tools that want the malformed lines)."""
    from immfacts.ingest.lookups import Lookups

    limits = limits or Limits.from_env()
    member = release.tables[table]
    with release.open(member) as stream:
        pp = Prepass(stream)
        header = pp.read_header() or b""
        layout = build_layout(main_tables()[table], parse_header(header), release.source, Lookups().codes)
        return layout, pp.run(work / f"{table}.data", layout.n, layout.pk_pos, limits.max_line_bytes, limits.max_bad_lines)
