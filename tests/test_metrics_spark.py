"""One definition, two engines: every catalogue metric gives identical results on DuckDB and Spark.

Runs every metric's default and every variant, without and with a ``--by``, on a tiny
warehouse holding all the trap fixtures, through one local SparkSession for the module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "model"))
import helpers  # noqa: E402

from immfacts.metrics import engines, metrics  # noqa: E402
from immfacts.warehouse import Warehouse  # noqa: E402

pytestmark = pytest.mark.spark

# Small-data settings: one shuffle partition, no whole-stage code generation (its compile time
# dominates on a few rows), two local cores.
SPARK_ENV = {
    "IMMFACTS_SPARK_PARTITIONS": "1",
    "IMMFACTS_SPARK_MASTER": "local[2]",
    "IMMFACTS_SPARK_CONF": "spark.sql.codegen.wholeStage=false,spark.sql.adaptive.enabled=false",
}
VOLATILE = ("computed_at", "sql", "engine")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in SPARK_ENV}
    os.environ.update(SPARK_ENV)
    home = tmp_path_factory.mktemp("spark")
    helpers.make_release(home, helpers.all_fixtures(), data_date="2024-12-31")
    yield Warehouse(home)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    engines.clear_cache()


def _comparable(result) -> dict:
    d = result.to_dict()
    for k in VOLATILE:
        d.pop(k, None)
    for v in d.get("variants") or []:
        v.pop("sql", None)
    return d


def _queries():
    out = []
    for mid, spec in metrics().items():
        period = "FY2021..FY2024" if spec.timing == "flow" else "2023-03-31"
        by = "fy" if "fy" in spec.dimensions and spec.id != "eoir.judge.asylum_grant_rate" else spec.dimensions[0]
        out.append(pytest.param(mid, period, None, id=f"{mid}-all"))
        out.append(pytest.param(mid, "FY2022..FY2024" if spec.timing == "stock" else period, by, id=f"{mid}-by-{by}"))
    return out


@pytest.mark.parametrize(("metric_id", "period", "by"), _queries())
def test_every_variant_gives_identical_results_on_duckdb_and_spark(wh, metric_id, period, by):
    q = dict(period=period, by=by, variant="all")
    on_duckdb = _comparable(wh.metric(metric_id, engine="duckdb", **q))
    on_spark = _comparable(wh.metric(metric_id, engine="spark", **q))
    assert on_spark == on_duckdb
    assert on_duckdb["variants"] and len(on_duckdb["variants"]) == len(metrics()[metric_id].variants)


def test_explain_gives_spark_sql_for_the_spark_engine(wh):
    sql = wh.explain("eoir.asylum.grant_rate", period="FY2023", engine="spark")
    assert "`asylum_cases`" in sql and "on spark" in sql
