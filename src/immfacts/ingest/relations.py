"""Orphans and case-type conflicts of the staged tables, checked against the staged A_TblCase.

An *orphan* is a row whose ``IDNCASE`` is not a staged case; a *case-type conflict* is a
proceeding whose ``CASE_TYPE`` differs from its case's (both set). Each check runs beside the
load of the next table. EOIR's ids are dense, so :class:`CaseIndex` holds the staged cases as
one bit per ``IDNCASE`` value and one 16-bit case-type code per value (~2 + 30 MB for a full
release), read once in batches; each table's check is then one pass over its key column.
A join against the case table would build a hash table of every case for every table — the
largest memory of the ingest's middle, growing with the release. Keys too large for dense
arrays (a release with ids beyond :data:`DENSE_LIMIT`) fall back to that join, in DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DENSE_LIMIT = 1 << 28  # the largest IDNCASE held densely (then 32 MB of bits, 512 MB of types)
KEY_BATCH = 1 << 16


def _codes(
    column: pa.ChunkedArray | pa.Array, vocabulary: dict[str, int], grow: bool
) -> np.ndarray:
    """Case-type strings as codes (0 = NULL; a value not in ``vocabulary`` gets a new code when
    ``grow``, else -1)."""
    enc = pc.dictionary_encode(column)
    enc = enc.combine_chunks() if isinstance(enc, pa.ChunkedArray) else enc
    words = enc.dictionary.to_pylist()
    if grow:
        for w in words:
            vocabulary.setdefault(w, len(vocabulary) + 1)
    lut = np.array([vocabulary.get(w, -1) for w in words] + [0], dtype=np.int32)
    idx = enc.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
    return lut[idx]


def int_keys(column: pa.Array) -> np.ndarray:
    """An integer key column as int64, NULL as -1."""
    return column.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def largest_key(pf: pq.ParquetFile, column: str) -> int:
    """The largest value of an integer ``column`` (-1 if none): from the row groups'
    statistics, or one pass over the column where a row group has none."""
    i = pf.schema_arrow.get_field_index(column)
    stats = [pf.metadata.row_group(g).column(i).statistics for g in range(pf.num_row_groups)]
    if all(st is not None and st.has_min_max for st in stats):
        return max((int(st.max) for st in stats), default=-1)
    top = -1
    for batch in pf.iter_batches(columns=[column], batch_size=KEY_BATCH):
        m = pc.max(batch.column(0)).as_py()
        top = max(top, -1 if m is None else m)
    return top


class CaseIndex:
    """The staged cases: which ``IDNCASE`` values exist and each one's ``CASE_TYPE`` code."""

    def __init__(self, case_path: Path) -> None:
        self.path = case_path
        pf = pq.ParquetFile(case_path)
        top = largest_key(pf, "IDNCASE")
        self.dense = top < DENSE_LIMIT
        if not self.dense:
            return
        self.vocabulary: dict[str, int] = {}
        self.types = np.zeros(top + 1, dtype=np.uint16)
        self.present = np.zeros(top + 1, dtype=bool)
        typed = "CASE_TYPE" in pf.schema_arrow.names
        for batch in pf.iter_batches(
            columns=["IDNCASE", "CASE_TYPE"] if typed else ["IDNCASE"], batch_size=KEY_BATCH
        ):
            keys = int_keys(batch.column(0))
            ok = keys >= 0
            self.present[keys[ok]] = True
            if typed:
                self.types[keys[ok]] = _codes(batch.column(1), self.vocabulary, grow=True)[ok]
        self.dense = len(self.vocabulary) < np.iinfo(np.uint16).max

    def _keys(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Keys as integers (NULL → -1) and whether each is a staged case."""
        keys = int_keys(column)
        inside = (keys >= 0) & (keys < self.present.size)
        ok = inside.copy()
        ok[inside] = self.present[keys[inside]]
        return keys, ok

    def check(
        self, cur: duckdb.DuckDBPyConnection, path: Path, key: str, conflicts: bool
    ) -> tuple[int, int | None]:
        """(orphans, case-type conflicts or None) of the staged table at ``path``."""
        if not self.dense:
            return _check_sql(cur, self.path, path, key, conflicts)
        orphans, clash = 0, 0
        conflicts = conflicts and "CASE_TYPE" in pq.read_schema(path).names
        columns = [key, "CASE_TYPE"] if conflicts else [key]
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=KEY_BATCH):
            keys, ok = self._keys(batch.column(0))
            orphans += int(((keys != -1) & ~ok).sum())
            if conflicts:
                own = _codes(batch.column(1), self.vocabulary, grow=False)[ok]
                theirs = self.types[keys[ok]]
                clash += int(((own != 0) & (theirs != 0) & (own != theirs)).sum())
        return orphans, (clash if conflicts else None)


def _check_sql(
    cur: duckdb.DuckDBPyConnection, case_path: Path, path: Path, key: str, conflicts: bool
) -> tuple[int, int | None]:
    """The same checks as joins in DuckDB (for keys too large for dense arrays)."""
    cases = f"read_parquet('{case_path}')"
    orphans = cur.execute(
        f'SELECT count(*) FROM read_parquet(\'{path}\') t ANTI JOIN {cases} c ON t."{key}" = c.IDNCASE WHERE t."{key}" IS NOT NULL'
    ).fetchone()[0]
    if not conflicts:
        return orphans, None
    clash = cur.execute(
        f"SELECT count(*) FROM read_parquet('{path}') p JOIN {cases} c ON p.IDNCASE = c.IDNCASE "
        "WHERE p.CASE_TYPE <> c.CASE_TYPE"
    ).fetchone()[0]
    return orphans, clash
