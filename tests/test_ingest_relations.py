"""Orphan and case-type checks: the dense case index counts what the join in DuckDB counts."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts.ingest import relations
from immfacts.ingest.relations import CaseIndex, _check_sql

TYPES = st.sampled_from(["RMV", "DEP", "AOC", "rmv", "", None])
KEYS = st.one_of(st.none(), st.integers(0, 60), st.integers(2**40, 2**40 + 3))


def _write(path, keys, types, key="IDNCASE"):
    pq.write_table(
        pa.table({key: pa.array(keys, pa.int64()), "CASE_TYPE": pa.array(types, pa.string())}), path
    )
    return path


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.dictionaries(st.integers(0, 50), TYPES, max_size=30),
    procs=st.lists(st.tuples(KEYS, TYPES), max_size=40),
)
def test_the_case_index_counts_what_the_join_counts(tmp_path, cases, procs):
    case_path = _write(tmp_path / "A_TblCase.parquet", list(cases), list(cases.values()))
    proc_path = _write(
        tmp_path / "B_TblProceeding.parquet", [k for k, _ in procs], [t for _, t in procs]
    )
    cur = duckdb.connect()
    want = _check_sql(cur, case_path, proc_path, "IDNCASE", conflicts=True)
    index = CaseIndex(case_path)
    assert index.dense
    assert index.check(cur, proc_path, "IDNCASE", conflicts=True) == want
    assert index.check(cur, proc_path, "IDNCASE", conflicts=False) == (want[0], None)


def test_ids_too_large_for_dense_arrays_fall_back_to_the_join(tmp_path, monkeypatch):
    monkeypatch.setattr(relations, "DENSE_LIMIT", 100)
    case_path = _write(tmp_path / "A_TblCase.parquet", [5, 500], ["RMV", "AOC"])
    child = _write(
        tmp_path / "B_TblProceeding.parquet", [5, 500, 7, None], ["DEP", "AOC", "RMV", "RMV"]
    )
    index = CaseIndex(case_path)
    assert not index.dense
    assert index.check(duckdb.connect(), child, "IDNCASE", conflicts=True) == (1, 1)


@pytest.mark.parametrize("has_type", [True, False])
def test_a_table_without_case_type_has_orphans_but_no_conflicts(tmp_path, has_type):
    case_path = _write(tmp_path / "A_TblCase.parquet", [1, 2], ["RMV", "RMV"])
    child = tmp_path / "tbl_Court_Motions.parquet"
    cols = {"IDNCASE": pa.array([1, 3, 3], pa.int64())}
    if has_type:
        cols["CASE_TYPE"] = pa.array(["DEP", "DEP", None])
    pq.write_table(pa.table(cols), child)
    assert CaseIndex(case_path).check(duckdb.connect(), child, "IDNCASE", conflicts=True) == (
        2,
        1 if has_type else None,
    )
