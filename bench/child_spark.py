"""Child process of the Spark check: a few metrics on local Spark and on DuckDB, compared.

    .venv/bin/python bench/child_spark.py WAREHOUSE_DIR

Spark in the benchmark is for *correctness* (one definition, two engines), with its time
recorded: the session start, then each metric's first and second run. Prints one JSON line;
``skipped`` with a reason when PySpark or Java is missing.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

METRICS = ("eoir.receipts", "eoir.completions", "eoir.pending", "eoir.asylum.grant_rate")


def _values(res) -> list:
    rows = res.rows or []
    return [res.value, res.numerator, res.denominator, [(r.get("value"), r.get("numerator")) for r in rows]]


def main(argv: list[str]) -> int:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print(json.dumps({"skipped": "PySpark is not installed (pip install 'immfacts[spark]')"}))
        return 0
    if shutil.which("java") is None:
        print(json.dumps({"skipped": "no Java runtime on PATH (Spark needs Java 17+)"}))
        return 0
    from immfacts.warehouse import Warehouse

    wh = Warehouse(argv[0])
    out: dict = {"metrics": {}, "master": "local[*]"}
    t0 = time.perf_counter()
    first = wh.metric(METRICS[0], engine="spark")
    out["session_and_first_s"] = time.perf_counter() - t0
    for m in METRICS:
        t0 = time.perf_counter()
        s = first if m == METRICS[0] else wh.metric(m, engine="spark")
        t_first = out["session_and_first_s"] if m == METRICS[0] else time.perf_counter() - t0
        t0 = time.perf_counter()
        s = wh.metric(m, engine="spark")
        t_warm = time.perf_counter() - t0
        d = wh.metric(m, engine="duckdb")
        out["metrics"][m] = {"spark_first_s": t_first, "spark_warm_s": t_warm, "equal": _values(s) == _values(d),
                             "spark_value": s.value, "duckdb_value": d.value}
    out["all_equal"] = all(v["equal"] for v in out["metrics"].values())
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
