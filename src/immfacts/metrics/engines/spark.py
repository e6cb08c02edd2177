"""The Spark engine (optional extra ``immfacts[spark]``): the same Ibis expressions on PySpark.

The session runs ``local[*]`` unless ``spark_master`` (``--spark-master``) or the standard
``SPARK_REMOTE`` (Spark Connect) names a cluster. Model tables are read from the release's
``model/`` folder, or from ``$IMMFACTS_SPARK_MODEL_URI/<table>.parquet`` when set (object
storage such as ``s3a://bucket/immfacts/<release>/model``), see docs/scale-out.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from immfacts.errors import ImmfactsError
from immfacts.metrics.engines import EngineSession


class EngineUnavailable(ImmfactsError):
    """The Spark engine was asked for but PySpark or Java is not installed."""


def _spark(master: str | None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "the Spark engine needs PySpark, which is not installed",
            "pip install 'immfacts[spark]' (and a Java 17+ runtime), or use --engine duckdb",
        ) from None
    builder = SparkSession.builder.appName("immfacts")
    remote = os.environ.get("SPARK_REMOTE")
    if master:
        builder = builder.master(master)
    elif remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(os.environ.get("IMMFACTS_SPARK_MASTER", "local[*]"))
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("IMMFACTS_SPARK_PARTITIONS", "8"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
    )
    # Extra settings, e.g. for tiny test data: IMMFACTS_SPARK_CONF="spark.sql.codegen.wholeStage=false,…"
    for item in filter(None, os.environ.get("IMMFACTS_SPARK_CONF", "").split(",")):
        key, _, value = item.partition("=")
        builder = builder.config(key.strip(), value.strip())
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # JVM missing or cluster unreachable
        raise EngineUnavailable(
            f"could not start Spark ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})",
            "install a Java 17+ runtime, check --spark-master / SPARK_REMOTE, or use --engine duckdb",
        ) from None
    spark.sparkContext.setLogLevel("ERROR") if hasattr(spark, "sparkContext") and not remote else None
    return spark


def open_session(model_dir: Path, spark_master: str | None = None) -> EngineSession:
    """A PySpark-backed Ibis connection with one table per model Parquet file."""
    import ibis

    spark = _spark(spark_master)
    con = ibis.pyspark.connect(spark)
    base = os.environ.get("IMMFACTS_SPARK_MODEL_URI")
    tables = {}
    from immfacts.model import MODEL_TABLES

    for name in MODEL_TABLES:
        if base:
            uri = f"{base.rstrip('/')}/{name}.parquet"
        elif (Path(model_dir) / f"{name}.parquet").exists():
            uri = str((Path(model_dir) / f"{name}.parquet").resolve())
        else:
            continue
        tables[name] = con.read_parquet(uri, table_name=name)
    return EngineSession("spark", "pyspark", con, tables)
