"""Ingest: an EOIR case-data release (zip, folder or URL) into typed Parquet, nothing lost.

``immfacts.ingest(source, warehouse=None, tables=None, strict=False, progress=None)`` returns an
:class:`IngestReport` (``.to_dict()`` is ``report.json`` / ``immfacts ingest --json``) after
building ``<home>/releases/<release-id>/`` atomically (see :mod:`immfacts.ingest.build`).

How a table goes in (details in each module's docstring):

* :mod:`~immfacts.ingest.source` — open the zip (deflate/Deflate64) or folder; refuse unsafe
  paths and zip bombs; data date, checksum, release id, ``Count.txt``, SYNTHETIC marker.
* :mod:`~immfacts.ingest.prepass` — stream the member once; a compiled pass (Numba) finds
  malformed lines, duplicated keys and values that need the full typing SELECT, and sorts the
  well-formed lines into a *plain* and a *full* data file for the bulk reader.
* :mod:`~immfacts.ingest.layout` / :mod:`~immfacts.ingest.sqlgen` — header-driven columns and
  the value rules (types, trimming, null tokens, dates, codes) in Python and in SQL.
* :mod:`~immfacts.ingest.table` — DuckDB's native reader types the well-formed majority in
  bulk; :mod:`~immfacts.ingest.repair` repairs or quarantines the rest in Python.
* :mod:`~immfacts.ingest.lookups` — the release's ``Lookup/`` tables, bundled fallbacks.
* :mod:`~immfacts.ingest.report` — the accounting (``rows_read == rows_loaded +
  rows_quarantined`` for every table).

Reusable pieces: :func:`open_release` / :func:`read_release_tables` (list a release's tables)
and :func:`scan_table` (ingest one table into a folder).
"""

from __future__ import annotations

from immfacts._callable import make_callable
from immfacts.ingest.build import ingest, write_catalog
from immfacts.ingest.limits import Limits
from immfacts.ingest.report import IngestReport, TableReport
from immfacts.ingest.source import Member, Release, open_release, read_release_tables
from immfacts.ingest.table import scan_table

__all__ = [
    "IngestReport",
    "Limits",
    "Member",
    "Release",
    "TableReport",
    "ingest",
    "open_release",
    "read_release_tables",
    "scan_table",
    "write_catalog",
]

make_callable(__name__, "ingest")
