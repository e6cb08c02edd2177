"""The release lifecycle: fetch new EOIR releases, list and compare them, export tables.

EOIR replaces its case-data release roughly monthly, with no changelog, and has silently
dropped records between releases. This stage keeps every release, says what changed, and
hands the clean tables to the tools researchers already use:

* :func:`update` (module ``updater``) — ask EOIR's server (HEAD: ETag / Last-Modified),
  download only when the file changed (resuming with HTTP Range), size-check it, ingest it;
* :func:`releases` (``listing``) — the releases in a warehouse, with data date, rows, size and status;
* :func:`diff` (``differ``) — two releases compared: row counts, vanished / appeared records with
  breakdowns, changed outcomes, schema and lookup drift, threshold alerts;
  :func:`latest_diff` — the last diff saved in the warehouse (for the web app);
* :func:`export` (``exporter``) — a model or raw table to Parquet, CSV, Stata or SQLite (+ Datasette
  metadata), decoded labels beside raw codes, provenance attached.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "update": "updater",
    "UpdateResult": "updater",
    "releases": "listing",
    "diff": "differ",
    "latest_diff": "differ",
    "ReleaseDiff": "differ",
    "export": "exporter",
    "ExportResult": "exporter",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    # Lazy, so that `import immfacts.lifecycle` stays cheap (no DuckDB/pandas until used).
    try:
        module = _NAMES[name]
    except KeyError:
        raise AttributeError(f"module 'immfacts.lifecycle' has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"immfacts.lifecycle.{module}"), name)
