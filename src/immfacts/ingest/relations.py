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

from immfacts.keys import KEY_BATCH, IdMap, int_keys, largest_key


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
