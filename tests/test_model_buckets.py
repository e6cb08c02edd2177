"""The model built in buckets of cases (a large release) equals the model built in one piece,
and everything that reads the model reads a table stored as a folder of parts.

Fixtures: every trap of tests/fixtures/model (some 30 cases, among them applications that name
another case than their proceeding's), built in one piece and in buckets of 2 and 5 cases.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "model"))
import helpers  # noqa: E402

from immfacts import keys  # noqa: E402
from immfacts.lifecycle.differ import compare  # noqa: E402
from immfacts.lifecycle.exporter import export  # noqa: E402
from immfacts.model import MODEL_TABLES, buckets, build_model  # noqa: E402
from immfacts.warehouse import Warehouse, parquet_files, parquet_glob  # noqa: E402

PER_BUCKET = (2, 5)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{cases per bucket (None = one piece): (release folder, manifest)}."""
    names = helpers.all_fixtures()
    out = {}
    for per in (None, *PER_BUCKET):
        home = tmp_path_factory.mktemp(f"per{per}")
        rel = helpers.make_release(home, names, build=False)
        out[per] = (rel, build_model(rel, cases_per_bucket=per))
    return out


def _read(rel: Path, table: str) -> str:
    return f"read_parquet('{parquet_glob(rel / 'model' / (table + '.parquet'))}')"


def _differing_rows(one: Path, other: Path, table: str) -> list:
    """Rows of model ``table`` in one release's build and not the other's (both ways)."""
    a, b = _read(one, table), _read(other, table)
    return duckdb.sql(
        f"(FROM {a} EXCEPT ALL FROM {b}) UNION ALL (FROM {b} EXCEPT ALL FROM {a})"
    ).fetchall()


@pytest.mark.parametrize("per", PER_BUCKET)
def test_every_model_table_built_in_buckets_equals_the_one_piece_build(built, per):
    whole, _ = built[None]
    parts, manifest = built[per]
    n_cases = duckdb.sql(
        f"SELECT count(*) FROM '{whole / 'tables' / 'A_TblCase.parquet'}'"
    ).fetchall()[0][0]
    assert manifest["buckets"]["count"] == math.ceil(n_cases / per) > 1
    for table in MODEL_TABLES:
        assert (parts / "model" / f"{table}.parquet").is_dir(), table
        assert (
            len(parquet_files(parts / "model" / f"{table}.parquet")) == manifest["buckets"]["count"]
        ), table
        assert duckdb.sql(f"SELECT count(*) FROM {_read(whole, table)}").fetchall()[0][0] > 0, table
        assert _differing_rows(whole, parts, table) == [], table
    one = built[None][1]
    skip = {"built_at", "elapsed_s", "buckets"}
    assert {k: v for k, v in manifest.items() if k not in skip} == {
        k: v for k, v in one.items() if k not in skip
    }


def test_applications_whose_proceeding_lies_in_another_bucket_were_exercised(built):
    """The fixture's mismatched applications (5011, 5015) cross buckets in at least one of the
    bucketed builds, so the equality above covers the crossing path, not only the easy one."""
    assert built[None][1]["buckets"] == {
        "count": 1,
        "cases_per_bucket": 130_000,
        "crossing_proceedings": 0,
    }
    assert sum(built[per][1]["buckets"]["crossing_proceedings"] for per in PER_BUCKET) > 0


def test_metrics_exports_and_diffs_read_a_model_stored_as_parts(built, tmp_path):
    whole, parts = Warehouse(built[None][0].parents[1]), Warehouse(built[2][0].parents[1])
    queries = [
        ("eoir.completions", {"period": "FY2023"}),
        ("eoir.pending", {"period": "2023-06-30"}),
        ("eoir.asylum.grant_rate", {"period": "FY2023"}),
        ("eoir.pending_asylum_applications", {"period": "2022-06-30"}),
        ("eoir.receipts", {"period": "FY2020..FY2024", "by": "fy"}),
    ]
    for metric, q in queries:
        a, b = whole.metric(metric, **q), parts.metric(metric, **q)
        assert (b.value, b.rows) == (a.value, a.rows), metric
        assert b.rows_scanned == a.rows_scanned > 0, metric
    res = export("cases", "csv", out=tmp_path / "cases.csv", warehouse=parts.path)
    assert (
        res.rows
        == duckdb.sql(f"SELECT count(*) FROM {_read(built[None][0], 'cases')}").fetchall()[0][0]
    )
    assert len((tmp_path / "cases.csv").read_text().splitlines()) == res.rows + 1
    d = compare(whole.release(), parts.release()).to_dict()
    assert d["outcomes"]["cases"]["basis"].startswith("canonical model")
    assert d["outcomes"]["cases"]["changed"] == 0


def test_a_release_without_applications_is_built_in_buckets(tmp_path):
    """No tbl_Court_Appln (an optional table): every bucket's applications are empty, and the
    application tables are empty folders of parts, not a failure."""
    names = ["fy_boundary_sept30_oct1", "change_of_venue_chain_counts_once"]
    whole = helpers.make_release(tmp_path / "whole", names)
    parts = helpers.make_release(tmp_path / "parts", names, build=False)
    manifest = build_model(parts, cases_per_bucket=1)
    assert manifest["buckets"]["count"] > 1 and manifest["rows"]["applications"] == 0
    for table in MODEL_TABLES:
        assert _differing_rows(whole, parts, table) == [], table


def test_applications_find_their_bucket_by_a_dense_index_or_else_by_search(built, tmp_path, monkeypatch):
    """Applications are scattered to their case's bucket through an array of every
    proceeding's bucket indexed by id (EOIR's ids are dense); ids far beyond the row count are
    kept apart and searched. Both give the one-piece model: the fixture has an application
    without IDNCASE (5012, its proceeding's case decides), one whose proceeding does not exist
    (5013) and two whose case and proceeding disagree (5011, 5015)."""
    whole = built[None][0]
    names = helpers.all_fixtures()
    for slack in (keys.NEAR_SLACK, 0):  # every fixture id in the array / none of them
        monkeypatch.setattr(keys, "NEAR_SLACK", slack)
        rel = helpers.make_release(tmp_path / f"slack{slack}", names, build=False)
        build_model(rel, cases_per_bucket=3)
        for table in MODEL_TABLES:
            assert _differing_rows(whole, rel, table) == [], (slack, table)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.one_of(st.integers(0, 300), st.integers(10**9, 10**9 + 50)), max_size=60, unique=True),
    probes=st.lists(st.one_of(st.integers(-1, 300), st.integers(10**9 - 5, 10**9 + 60)), max_size=80),
    slack=st.sampled_from([0, 16, 1 << 20]),
)
def test_proceeding_buckets_find_every_id_near_or_far(tmp_path_factory, ids, probes, slack):
    """ProceedingBuckets.lookup answers what a dictionary of the staged proceedings answers,
    for ids in its array, ids far beyond it, NULL (-1) and ids that are not there."""
    path = tmp_path_factory.mktemp("pb") / "B_TblProceeding.parquet"
    k = 7
    con = duckdb.connect()
    con.sql(
        f"COPY (SELECT unnest({ids or [0]}::BIGINT[]) AS IDNPROCEEDING, 1000 - IDNPROCEEDING % 97 AS IDNCASE "
        f"{'' if ids else 'LIMIT 0'}) TO '{path}' (FORMAT parquet)"
    )
    truth = dict(con.sql(f"SELECT IDNPROCEEDING, hash(IDNCASE) % {k} FROM '{path}'").fetchall())
    old = keys.NEAR_SLACK
    keys.NEAR_SLACK = slack
    try:
        index = buckets.ProceedingBuckets([str(path)], k, con)
    finally:
        keys.NEAR_SLACK = old
    got = index.lookup(np.array(probes, dtype=np.int64)).tolist()
    assert got == [truth.get(p, -1) for p in probes]
