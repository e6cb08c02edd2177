"""Engines: open a backend over a release's model Parquet files, and nothing else.

Metric kinds build Ibis expressions; an engine only supplies the tables those expressions
read and executes them. ``duckdb`` (embedded, the default) and ``spark`` (PySpark, optional
extra, imported lazily) read the *same* ``model/*.parquet`` files. Sessions are cached per
(release, engine, model build) so repeated queries are warm.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from immfacts.errors import InvalidQueryError

ENGINES = ("duckdb", "spark")
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, str, str | None], EngineSession] = {}


@dataclass
class EngineSession:
    """An open backend with the model tables registered."""

    name: str
    dialect: str
    con: Any
    tables: dict[str, Any] = field(default_factory=dict)

    def execute(self, expr: Any, sql: str | None = None) -> Any:
        """Run an expression; returns a pandas DataFrame.

        When ``sql`` (the expression compiled for this engine) is given and the expression
        holds no in-memory table, that exact SQL is run, so the query is compiled once and the
        SQL a result shows is the SQL that ran.
        """
        if sql is not None and not _has_memtable(expr):
            if self.name == "duckdb":
                # A cursor per call: DuckDB connections refuse concurrent use, cursors don't.
                return self.con.con.cursor().execute(sql).df()
            if self.name == "spark":
                return self.con._session.sql(sql).toPandas()
        return self.con.execute(expr)


def _has_memtable(expr: Any) -> bool:
    import ibis.expr.operations as ops

    return bool(expr.op().find(ops.InMemoryTable))


def default_engine() -> str:
    """``$IMMFACTS_ENGINE`` or duckdb."""
    return os.environ.get("IMMFACTS_ENGINE", "duckdb").lower()


def session(model_dir: Path, engine: str | None = None, build_id: str = "", spark_master: str | None = None) -> EngineSession:
    """A cached session over ``model_dir`` for ``engine``."""
    engine = (engine or default_engine()).lower()
    if engine not in ENGINES:
        raise InvalidQueryError(f"unknown engine {engine!r}", "choose duckdb or spark")
    key = (str(model_dir), engine, build_id, spark_master)
    with _LOCK:
        if key not in _CACHE:
            if engine == "duckdb":
                from immfacts.metrics.engines.duckdb import open_session
            else:
                from immfacts.metrics.engines.spark import open_session
            _CACHE[key] = open_session(model_dir, spark_master=spark_master)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget cached sessions (tests; after a release is replaced)."""
    with _LOCK:
        _CACHE.clear()
