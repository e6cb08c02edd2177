"""The model built in buckets of cases, so that its memory does not grow with the release.

Every model table is a function of one case's rows, except where an application meets its
proceeding (``applications`` reads the proceeding's columns, ``asylum_application_spells``
its spells), which goes by ``IDNPROCEEDING``. So the model can be built ``k`` buckets at a
time, bucket ``i`` holding the cases with ``hash(IDNCASE) % k == i`` and every row that
belongs to them, and its joins, aggregates and windows only ever hold one bucket. ``k`` grows
with the release (``IMMFACTS_MODEL_BUCKET_CASES`` cases per bucket, default 130,000), so a
bucket is about the same size at every scale; a release that fits in one bucket (every sample
up to scale 0.01) is read straight from its staged tables.

The model's SQL is compiled once, over named views (:data:`INPUT_VIEWS`, :func:`part_view`,
:func:`apps_view`); moving to the next bucket only re-points the views.

1. **Scatter.** ``A_TblCase``, ``B_TblProceeding`` and ``tbl_Court_Appln`` (the model's
   columns only) are written once as hive-partitioned Parquet by bucket. An application
   belongs to the bucket of its case: its own ``IDNCASE``, else its proceeding's (the rule of
   ``applications.idncase``). Its proceeding's bucket comes from :class:`ProceedingBuckets`,
   an array indexed by ``IDNPROCEEDING`` built in one pass over the staged proceedings: a
   join would hold every proceeding in a hash table, the part of the scatter that grew most
   with the release. Each thread's partition buffers are divided among the buckets, so they
   too stay the same size at every scale.
2. **Crossings.** An application whose ``IDNCASE`` and whose proceeding's ``IDNCASE`` fall in
   different buckets (the files disagree; rare) needs that proceeding's rows from the other
   bucket. After the case-level tables are built, those rows (model ``proceedings`` and
   ``case_spells``) are copied to a small file keyed by the application's bucket.
3. **Parts.** Bucket ``i`` writes ``<table>.parquet/part-<i>.parquet``: with more than one
   bucket a model table is a folder of parts (as Spark writes it), which readers find with
   :func:`immfacts.warehouse.parquet_files` / :func:`~immfacts.warehouse.parquet_glob`.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from immfacts.keys import KEY_BATCH, IdMap, int_keys, largest_key
from immfacts.model.staged import MAIN_COLUMNS, select_sql, staged_columns, staged_files
from immfacts.warehouse import literal, quote, release_arrow_memory

# About a scale-0.01 release (~127,000 cases), which is built in one piece: a larger release's
# buckets then hold what that one piece holds, so the model's memory stays flat from there
# up (250,000 left 0.1 ~50 MB higher, for ~0.45 s less per bucket; docs/performance.md,
# "Where the time goes", third round).
CASES_PER_BUCKET = 130_000
INPUT_VIEWS = {table: f"model_in_{table}" for table in MAIN_COLUMNS}
_B, _PB = "_bucket", "_proc_bucket"  # an application's bucket, and its proceeding's (NULL without one)
# Rows a thread buffers per partition before flushing it while scattering: DuckDB's default,
# 524,288, would hold a sizeable share of a large table in memory. Divided among the buckets,
# so that a thread's buffers stay about the same size at every scale (9,830 rows per partition
# at 0.1; the floor of 2,048 at full size, where 16,384 cost ~200 MB more, and 1,003 no less).
_SCATTER_BUFFER_ROWS = 98_304
_SCATTER_MIN_FLUSH = 2_048


def part_view(name: str) -> str:
    """The view of the current bucket's part of model table ``name``."""
    return f"model_part_{name}"


def apps_view(name: str) -> str:
    """The view of model table ``name`` as the current bucket's applications see it: the
    bucket's part plus the rows of other buckets its applications refer to."""
    return f"model_apps_{name}"


def cases_per_bucket(given: int | None = None) -> int:
    """``given``, else ``IMMFACTS_MODEL_BUCKET_CASES``, else :data:`CASES_PER_BUCKET`."""
    return max(1, given or int(os.environ.get("IMMFACTS_MODEL_BUCKET_CASES", "") or CASES_PER_BUCKET))


def bucket_count(release_dir: Path, per_bucket: int) -> int:
    """How many buckets the model of ``release_dir`` is built in (1 for a small release)."""
    import pyarrow.parquet as pq

    rows = pq.read_metadata(Path(release_dir) / "tables" / "A_TblCase.parquet").num_rows
    return max(1, math.ceil(rows / per_bucket))


def _bucket(key: str, k: int) -> str:
    return f"hash(coalesce({key}, 0)) % {k}"


class ProceedingBuckets:
    """The bucket of every staged proceeding, by ``IDNPROCEEDING``, in an
    :class:`~immfacts.keys.IdMap` (EOIR's ids are dense: 2 bytes per id value,
    ~35-65 MB for a full release; the rare ids far out of range are searched beside it)."""

    def __init__(self, files: list[str], k: int, con: Any) -> None:
        have = staged_columns(files)
        top, rows = -1, 0
        for f in files:
            pf = pq.ParquetFile(f)
            rows += pf.metadata.num_rows
            if "IDNPROCEEDING" in have:
                top = max(top, largest_key(pf, have["IDNPROCEEDING"]))
        self.map = IdMap(top, rows, np.int16 if k < 1 << 15 else np.int32)
        reader = con.sql(
            f"SELECT IDNPROCEEDING, {_bucket('IDNCASE', k)} FROM ({select_sql('B_TblProceeding', files)}) "
            "WHERE IDNPROCEEDING IS NOT NULL"
        ).to_arrow_reader(KEY_BATCH)
        for batch in reader:
            self.map.put(int_keys(batch.column(0)), batch.column(1).to_numpy())
        self.map.freeze()

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """The bucket of each proceeding id (int64, -1 for NULL); -1 where there is no such
        proceeding."""
        return self.map.get(ids)

    def applications(self, files: list[str]) -> pa.RecordBatchReader:
        """The staged applications (the model's columns), batch by batch, each row with
        ``_pb``: the bucket of its proceeding (NULL when there is no such proceeding)."""
        fields = pq.read_schema(files[0])
        have = {n.upper(): n for n in fields.names}
        columns = [have[c.upper()] for c in MAIN_COLUMNS["tbl_Court_Appln"] if c.upper() in have]
        schema = pa.schema([fields.field(c) for c in columns] + [pa.field("_pb", pa.from_numpy_dtype(self.map.near.dtype))])

        def batches() -> Iterator[pa.RecordBatch]:
            for f in files:
                for batch in pq.ParquetFile(f).iter_batches(columns=columns, batch_size=KEY_BATCH):
                    ids = (
                        int_keys(batch.column(columns.index(have["IDNPROCEEDING"])))
                        if "IDNPROCEEDING" in have
                        else np.full(batch.num_rows, -1, dtype=np.int64)
                    )
                    pb = self.lookup(ids)
                    yield pa.RecordBatch.from_arrays([*batch.columns, pa.array(pb, mask=pb < 0)], schema=schema)

        return pa.RecordBatchReader.from_batches(schema, batches())


class Buckets:
    """The buckets of one model build: inputs scattered under ``building/.buckets``, parts
    written under ``building``."""

    def __init__(self, con: Any, release_dir: Path, building: Path, k: int) -> None:
        self.con, self.release_dir, self.building, self.k = con, Path(release_dir), Path(building), k
        self.scratch = self.building / ".buckets"
        self.crossings = 0

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.k))

    def _sql(self, sql: str) -> None:
        self.con.raw_sql(sql)

    def _view(self, name: str, sql: str) -> None:
        self._sql(f"CREATE OR REPLACE TEMP VIEW {quote(name)} AS {sql}")

    # -- inputs ----------------------------------------------------------------------------
    def scatter(self) -> None:
        """Write the staged inputs by bucket (nothing to do with one bucket)."""
        if self.k == 1:
            return
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._sql(f"SET partitioned_write_flush_threshold = {max(_SCATTER_MIN_FLUSH, _SCATTER_BUFFER_ROWS // self.k)}")
        for table in ("A_TblCase", "B_TblProceeding"):
            typed = select_sql(table, staged_files(self.release_dir, table))
            self._scatter(table, f"SELECT *, {_bucket('IDNCASE', self.k)} AS {_B} FROM ({typed})")
        appl = staged_files(self.release_dir, "tbl_Court_Appln")
        if not appl:  # (an optional table): no rows to scatter
            return
        index = ProceedingBuckets(staged_files(self.release_dir, "B_TblProceeding"), self.k, self.con.con)
        view = "model_scatter_applications"
        self.con.con.register(view, index.applications(appl))
        try:
            typed = select_sql("tbl_Court_Appln", appl, source=view, extra=("_pb",))
            self._scatter(
                "tbl_Court_Appln",
                (
                    f"SELECT * EXCLUDE (_pb), CASE WHEN IDNCASE IS NULL AND _pb IS NOT NULL THEN _pb::UBIGINT "
                    f"ELSE {_bucket('IDNCASE', self.k)} END AS {_B}, _pb::UBIGINT AS {_PB} FROM ({typed})"
                ),
            )
        finally:
            self.con.con.unregister(view)
            release_arrow_memory()

    def _scatter(self, table: str, sql: str) -> None:
        # scratch files, read once per bucket and deleted: neither compressed nor Bloom-filtered
        # (~30 % less CPU for the scatter; docs/performance.md, "Where the time goes", third round)
        out = self.scratch / table
        self._sql(f"COPY ({sql}) TO {literal(out)} "
                  f"(FORMAT parquet, PARTITION_BY ({_B}), COMPRESSION uncompressed, WRITE_BLOOM_FILTER false)")

    def _input_files(self, table: str, i: int) -> list[str]:
        return sorted(str(p) for p in (self.scratch / table / f"{_B}={i}").glob("*.parquet"))

    def point_inputs(self, i: int) -> None:
        """Point :data:`INPUT_VIEWS` at bucket ``i``'s rows of the staged tables."""
        for table, view in INPUT_VIEWS.items():
            files = staged_files(self.release_dir, table) if self.k == 1 else self._input_files(table, i)
            self._view(view, select_sql(table, files))

    # -- outputs -----------------------------------------------------------------------------
    def part(self, name: str, i: int) -> Path:
        """Where bucket ``i`` writes its part of model table ``name``."""
        if self.k == 1:
            return self.building / f"{name}.parquet"
        folder = self.building / f"{name}.parquet"
        folder.mkdir(exist_ok=True)
        return folder / f"part-{i}.parquet"

    def point_part(self, name: str, i: int) -> None:
        """Point :func:`part_view` of ``name`` at bucket ``i``'s part (already written)."""
        self._view(part_view(name), f"SELECT * FROM read_parquet({literal(self.part(name, i))})")

    # -- crossings ---------------------------------------------------------------------------
    def gather_crossings(self, names: tuple[str, ...]) -> None:
        """Copy the rows of model tables ``names`` (keyed by ``idnproceeding``) that applications
        of another bucket refer to, each with the bucket that needs it."""
        if self.k == 1 or not any((self.scratch / "tbl_Court_Appln").glob("*/*.parquet")):
            return  # one bucket, or no applications at all
        apps = literal(self.scratch / "tbl_Court_Appln" / "*" / "*.parquet")
        ids = self.scratch / "crossing_ids.parquet"
        self._sql(
            f"COPY (SELECT DISTINCT IDNPROCEEDING AS x_idn, {_B} AS x_bucket "
            f"FROM read_parquet({apps}, hive_partitioning = true) "
            f"WHERE {_PB} IS NOT NULL AND {_PB} <> {_B}) TO {literal(ids)} (FORMAT parquet)"
        )
        self.crossings = self.con.raw_sql(f"SELECT count(*) FROM read_parquet({literal(ids)})").fetchone()[0]
        if not self.crossings:
            return
        for name in names:
            parts = ", ".join(literal(self.part(name, i)) for i in self)
            self._sql(
                f"COPY (SELECT m.*, c.x_bucket FROM read_parquet([{parts}]) m "
                f"JOIN read_parquet({literal(ids)}) c ON m.idnproceeding = c.x_idn) "
                f"TO {literal(self.scratch / f'crossing_{name}.parquet')} (FORMAT parquet)"
            )

    def point_apps(self, names: tuple[str, ...], i: int) -> None:
        """Point :func:`apps_view` of each of ``names`` at bucket ``i``'s part plus its crossings."""
        for name in names:
            sql = f"SELECT * FROM {quote(part_view(name))}"
            if self.crossings:
                cross = literal(self.scratch / f"crossing_{name}.parquet")
                sql += f" UNION ALL SELECT * EXCLUDE (x_bucket) FROM read_parquet({cross}) WHERE x_bucket = {i}"
            self._view(apps_view(name), sql)

    def clean(self) -> None:
        """Drop the scattered inputs and crossings."""
        shutil.rmtree(self.scratch, ignore_errors=True)
