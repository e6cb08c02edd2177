"""Orphans and case-type conflicts of the staged tables, checked against the staged A_TblCase.

An *orphan* is a row whose ``IDNCASE`` is not a staged case; a *case-type conflict* is a
proceeding whose ``CASE_TYPE`` differs from its case's (both set). Each check runs beside the
load of the next table. EOIR's ids are dense, so :class:`CaseIndex` holds the staged cases as
one 16-bit case-type code per ``IDNCASE`` value in an :class:`IdMap` (~25 MB for a full
release), read once in batches; each table's check is then one pass over its key column.
A join against the case table would build a hash table of every case for every table — the
largest memory of the ingest's middle, growing with the release. An :class:`IdMap` keeps the
rare ids far beyond the row count (an id out of range, which releases carry) sorted beside its
array, so one such id does not turn the array into gigabytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

NEAR_SLACK = 1 << 20  # ids an IdMap holds in its array beyond 2 per row
KEY_BATCH = 1 << 16


class IdMap:
    """Small integer values by integer id, -1 for an id not put. Ids below ``2 × rows +``
    :data:`NEAR_SLACK` (``rows``: how many ids will be put) index an array; the rare ids above
    it are kept sorted beside it and found by binary search. Call :meth:`freeze` after the
    last :meth:`put`."""

    def __init__(self, top: int, rows: int, dtype: type = np.int16) -> None:
        self.near = np.full(max(0, min(top + 1, 2 * rows + NEAR_SLACK)), -1, dtype=dtype)
        self._far: list[tuple[np.ndarray, np.ndarray]] = []
        self.far_ids = np.empty(0, dtype=np.int64)
        self.far_values = np.empty(0, dtype=dtype)

    def put(self, ids: np.ndarray, values: np.ndarray) -> None:
        """Set ``values`` (>= 0) for ``ids`` (>= 0)."""
        values = values.astype(self.near.dtype, copy=False)
        near = ids < self.near.size
        self.near[ids[near]] = values[near]
        if not near.all():
            self._far.append((ids[~near], values[~near]))

    def widen(self, dtype: type) -> None:
        """Hold values of a wider type from now on."""
        self.near = self.near.astype(dtype)
        self.far_values = self.far_values.astype(dtype)
        self._far = [(i, v.astype(dtype)) for i, v in self._far]

    def freeze(self) -> None:
        """Sort the far ids (a later put of the same far id wins)."""
        if not self._far:
            return
        ids = np.concatenate([self.far_ids, *(i for i, _ in self._far)])
        values = np.concatenate([self.far_values, *(v for _, v in self._far)])
        self._far = []
        order = np.argsort(ids, kind="stable")
        ids, values = ids[order], values[order]
        last = np.append(ids[1:] != ids[:-1], True)
        self.far_ids, self.far_values = ids[last], values[last]

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The value of each id (int64; -1, as for NULL, gives -1); -1 where none was put."""
        out = np.full(ids.size, -1, dtype=self.near.dtype)
        near = (ids >= 0) & (ids < self.near.size)
        out[near] = self.near[ids[near]]
        far = ids >= self.near.size
        if self.far_ids.size and far.any():
            want = ids[far]
            pos = np.minimum(np.searchsorted(self.far_ids, want), self.far_ids.size - 1)
            out[far] = np.where(self.far_ids[pos] == want, self.far_values[pos], -1)
        return out


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
    """The staged cases: each ``IDNCASE``'s ``CASE_TYPE`` code (0: NULL; -1: no such case)."""

    def __init__(self, case_path: Path) -> None:
        pf = pq.ParquetFile(case_path)
        self.vocabulary: dict[str, int] = {}
        self.codes = IdMap(largest_key(pf, "IDNCASE"), pf.metadata.num_rows)
        typed = "CASE_TYPE" in pf.schema_arrow.names
        for batch in pf.iter_batches(
            columns=["IDNCASE", "CASE_TYPE"] if typed else ["IDNCASE"], batch_size=KEY_BATCH
        ):
            keys = int_keys(batch.column(0))
            ok = keys >= 0
            codes = _codes(batch.column(1), self.vocabulary, grow=True) if typed else np.zeros(keys.size, np.int32)
            if len(self.vocabulary) >= np.iinfo(self.codes.near.dtype).max:
                self.codes.widen(np.int32)
            self.codes.put(keys[ok], codes[ok])
        self.codes.freeze()

    def check(self, path: Path, key: str, conflicts: bool) -> tuple[int, int | None]:
        """(orphans, case-type conflicts or None) of the staged table at ``path``."""
        orphans, clash = 0, 0
        conflicts = conflicts and "CASE_TYPE" in pq.read_schema(path).names
        columns = [key, "CASE_TYPE"] if conflicts else [key]
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=KEY_BATCH):
            keys = int_keys(batch.column(0))
            theirs = self.codes.get(keys)
            ok = theirs >= 0
            orphans += int(((keys != -1) & ~ok).sum())
            if conflicts:
                own = _codes(batch.column(1), self.vocabulary, grow=False)[ok]
                theirs = theirs[ok]
                clash += int(((own != 0) & (theirs != 0) & (own != theirs)).sum())
        return orphans, (clash if conflicts else None)
