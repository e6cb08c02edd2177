"""Integer ids of EOIR's tables held in arrays: ``IdMap`` and the helpers that read key columns.

EOIR's ids (``IDNCASE``, ``IDNPROCEEDING``, …) are dense, so a value per id fits an array
indexed by the id, far smaller and faster than a hash table of the same ids. Used by the
ingest's orphan and case-type checks (:mod:`immfacts.ingest.relations`) and by the model's
scatter (:mod:`immfacts.model.buckets`).
"""

from __future__ import annotations

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
