"""The DuckDB engine (default): an in-process DuckDB with one view per model Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from immfacts.metrics.engines import EngineSession
from immfacts.warehouse import literal, parquet_glob, quote


def open_session(model_dir: Path, spark_master: Any = None) -> EngineSession:
    """Views over ``model_dir/*.parquet`` on a fresh in-memory DuckDB."""
    con = ibis.duckdb.connect()
    tables = {}
    for path in sorted(Path(model_dir).glob("*.parquet")):  # files, or folders of parts
        # Persistent (not TEMP) views, so per-thread cursors see them too: the web app runs
        # queries from several threads at once, each on its own cursor.
        con.con.execute(f"CREATE OR REPLACE VIEW {quote(path.stem)} AS SELECT * FROM read_parquet({literal(parquet_glob(path))})")
        tables[path.stem] = con.table(path.stem)
    return EngineSession("duckdb", "duckdb", con, tables)
