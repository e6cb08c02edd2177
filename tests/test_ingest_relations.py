"""Orphan and case-type checks: the case index counts what a join in DuckDB counts, for ids
in its array and ids far beyond it."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts import keys
from immfacts.ingest.relations import CaseIndex
from immfacts.keys import IdMap

TYPES = st.sampled_from(["RMV", "DEP", "AOC", "rmv", "", None])
CASE_IDS = st.one_of(st.integers(0, 50), st.integers(2**40, 2**40 + 3))
KEYS = st.one_of(st.none(), st.integers(0, 60), st.integers(2**40, 2**40 + 5))


def _write(path, ids, types, key="IDNCASE"):
    pq.write_table(
        pa.table({key: pa.array(ids, pa.int64()), "CASE_TYPE": pa.array(types, pa.string())}), path
    )
    return path


def _joined(cur, case_path, path, key, conflicts):
    """The oracle: the same checks as joins in DuckDB."""
    cases = f"read_parquet('{case_path}')"
    orphans = cur.execute(
        f"SELECT count(*) FROM read_parquet('{path}') t ANTI JOIN {cases} c ON t.\"{key}\" = c.IDNCASE "
        f"WHERE t.\"{key}\" IS NOT NULL"
    ).fetchone()[0]
    if not conflicts:
        return orphans, None
    clash = cur.execute(
        f"SELECT count(*) FROM read_parquet('{path}') p JOIN {cases} c ON p.IDNCASE = c.IDNCASE "
        "WHERE p.CASE_TYPE <> c.CASE_TYPE"
    ).fetchone()[0]
    return orphans, clash


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.dictionaries(CASE_IDS, TYPES, max_size=30),
    procs=st.lists(st.tuples(KEYS, TYPES), max_size=40),
    slack=st.sampled_from([0, 8, keys.NEAR_SLACK]),
)
def test_the_case_index_counts_what_the_join_counts(tmp_path, monkeypatch, cases, procs, slack):
    monkeypatch.setattr(keys, "NEAR_SLACK", slack)
    case_path = _write(tmp_path / "A_TblCase.parquet", list(cases), list(cases.values()))
    proc_path = _write(
        tmp_path / "B_TblProceeding.parquet", [k for k, _ in procs], [t for _, t in procs]
    )
    cur = duckdb.connect()
    want = _joined(cur, case_path, proc_path, "IDNCASE", conflicts=True)
    index = CaseIndex(case_path)
    assert index.codes.near.size <= 2 * len(cases) + slack  # far ids never widen the array
    assert index.check(proc_path, "IDNCASE", conflicts=True) == want
    assert index.check(proc_path, "IDNCASE", conflicts=False) == (want[0], None)


def test_an_id_map_answers_near_far_missing_and_null_ids():
    m = IdMap(top=2**40, rows=3)
    m.put(np.array([5, 2**40, 7]), np.array([1, 2, 3]))
    m.put(np.array([2**40]), np.array([4]))  # a later put of the same far id wins
    m.freeze()
    assert m.near.size == 6 + keys.NEAR_SLACK
    assert m.get(np.array([5, 7, 6, 2**40, 2**40 - 1, -1])).tolist() == [1, 3, -1, 4, -1, -1]
    m.widen(np.int32)
    assert m.get(np.array([2**40])).dtype == np.int32


@pytest.mark.parametrize("has_type", [True, False])
def test_a_table_without_case_type_has_orphans_but_no_conflicts(tmp_path, has_type):
    case_path = _write(tmp_path / "A_TblCase.parquet", [1, 2], ["RMV", "RMV"])
    child = tmp_path / "tbl_Court_Motions.parquet"
    cols = {"IDNCASE": pa.array([1, 3, 3], pa.int64())}
    if has_type:
        cols["CASE_TYPE"] = pa.array(["DEP", "DEP", None])
    pq.write_table(pa.table(cols), child)
    assert CaseIndex(case_path).check(child, "IDNCASE", conflicts=True) == (
        2,
        1 if has_type else None,
    )
