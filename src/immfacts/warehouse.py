"""The warehouse: a folder of ingested releases, and the object every face wraps.

Layout (one folder per release; the newest by data date is the default)::

    <home>/
      releases/<release-id>/
        release.json          id, data_date, source, checksum, last_modified, synthetic, …
        report.json           the ingest report (reconciliation, repairs, quarantine)
        tables/<Table>.parquet   typed main tables, named as in the zip (A_TblCase, …)
        lookups/<Lookup>.parquet the release's own lookup tables (or bundled fallbacks)
        quarantine/<Table>.tsv   rows that could not be loaded, verbatim, with reasons
        model/<name>.parquet     canonical model (proceedings, cases, applications, …): a file,
                                 or a folder of part-<i>.parquet for a release built in buckets
        catalog.duckdb           DuckDB views over the Parquet files
      tmp/                    builds in progress (swapped in atomically when complete)
      cache/                  downloads

``Warehouse.metric`` answers catalogue queries for EOIR metrics (on the chosen release)
and for bundled reference series (which need no release at all).
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from immfacts.errors import ReleaseNotFound, WarehouseError
from immfacts.paths import resolve_warehouse


def parquet_files(path: str | os.PathLike[str]) -> list[str]:
    """The Parquet files of a table: ``path`` itself, or the parts in the folder ``path``."""
    path = Path(path)
    return sorted(str(p) for p in path.glob("part-*.parquet")) if path.is_dir() else [str(path)]


def quote(name: str) -> str:
    """A SQL identifier, quoted for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str | os.PathLike[str]) -> str:
    """A SQL string literal (e.g. a file path), quoted for DuckDB."""
    return "'" + str(text).replace("'", "''") + "'"


def parquet_glob(path: str | os.PathLike[str]) -> str:
    """What DuckDB's ``read_parquet`` reads a table from: ``path``, or its parts."""
    return str(Path(path) / "part-*.parquet") if Path(path).is_dir() else str(path)


# DuckDB settings of every database a build opens (the ingest's, a model built on its own):
# hand freed memory back to the system promptly. Several threads (the loads, the model, the
# checks) allocate in DuckDB at once, and its allocator otherwise keeps what each freed.
# Scale 0.1, 3 runs each: peak RSS 757-811 MB instead of 819-927 MB, the same speed.
BUILD_SETTINGS = {  # setting: SQL value
    "allocator_flush_threshold": "'8MB'",
    "allocator_bulk_deallocation_flush_threshold": "'16MB'",
    "allocator_background_threads": "true",
}


def tune_for_builds(con: Any) -> None:
    """Apply :data:`BUILD_SETTINGS` to a DuckDB connection."""
    for name, value in BUILD_SETTINGS.items():
        con.execute(f"SET {name} = {value}")


@contextmanager
def arrow_pool_for_builds() -> Iterator[None]:
    """PyArrow allocates from the C library's ``malloc`` while a build runs, instead of its
    default pool (mimalloc), which keeps the pages it frees for its own reuse. Between DuckDB's
    allocator, which trims ``malloc``'s heap as it flushes (``allocator_flush_threshold``), and
    :func:`release_arrow_memory`, freed pages then go back to the system. Scale 0.1, 7 and 9
    runs: peak RSS 675 MiB against 740 (0.01: 580 against 641), at the same speed
    (docs/performance.md, "Memory, sixth round")."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


_PR_SET_THP_DISABLE, _PR_GET_THP_DISABLE = 41, 42  # prctl(2) options, Linux 3.15+


def libc_function(name: str) -> Any:
    """Function ``name`` of the C library the process runs on (``ctypes``), or None where that
    library has none (e.g. ``prctl`` or ``renameat2`` off Linux, ``malloc_trim`` off glibc)."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None


def _prctl() -> Any:
    """``prctl(2)`` (its four further arguments passed as the ``unsigned long`` the kernel
    reads), or None where there is none (not Linux)."""
    fn = libc_function("prctl")
    if fn is not None:
        fn.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        fn.restype = ctypes.c_int
    return fn


@contextmanager
def no_huge_pages_for_builds() -> Iterator[None]:
    """Transparent huge pages off for the process while a build runs (Linux; elsewhere nothing
    changes), the previous setting restored after. Where an allocator asks for huge pages, a
    2 MB page is resident as soon as one byte of it is touched: an ingest at 0.1 held up to
    76 MB of them. 3 interleaved runs each: peak RSS 675 MiB against 723 at 0.1, 602 against
    628 at 0.01, no slower (docs/performance.md, "Memory, sixth round")."""
    prctl = _prctl()
    before = prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0) if prctl is not None else -1
    changed = before >= 0 and prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        if changed:
            prctl(_PR_SET_THP_DISABLE, before, 0, 0, 0)


def release_arrow_memory() -> None:
    """Hand the memory PyArrow's pool has freed back to the system (``malloc_trim`` for the
    system pool of :func:`arrow_pool_for_builds`). With mimalloc, PyArrow's default, freed
    pages stayed with the pool, where DuckDB's allocator cannot reuse them: after the model's
    scatter of a full-size release's applications (up to ~200 MB of Arrow batches alive at
    once), RSS stayed ~270 MB higher with nothing allocated, and the whole ingest's peak fell
    from 1,643 to 1,391 MiB once it was released (docs/performance.md, "Where to switch to
    Spark"). Called after that scatter and after each table's load."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


@dataclass(frozen=True)
class ReleaseInfo:
    """What a warehouse knows about one ingested release."""

    id: str
    path: Path
    meta: dict[str, Any]

    @property
    def data_date(self) -> str | None:
        return self.meta.get("data_date")

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))

    def table_path(self, table: str) -> Path:
        return self.path / "tables" / f"{table}.parquet"

    def lookup_path(self, lookup: str) -> Path:
        return self.path / "lookups" / f"{lookup}.parquet"

    def report(self) -> dict[str, Any]:
        p = self.path / "report.json"
        return json.loads(p.read_text()) if p.exists() else {}

    def provenance(self) -> dict[str, Any]:
        """The release block carried by every result."""
        keys = ("id", "data_date", "checksum", "last_modified", "source", "synthetic")
        return {k: self.meta.get(k) for k in keys}


class Warehouse:
    """A warehouse folder (default: ``$IMMFACTS_HOME`` or the per-user data folder)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_warehouse(path)

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    @property
    def releases_dir(self) -> Path:
        return self.path / "releases"

    def releases(self) -> list[ReleaseInfo]:
        """Complete releases, newest first (by data date, then ingest time)."""
        out = []
        if self.releases_dir.is_dir():
            for d in self.releases_dir.iterdir():
                meta_file = d / "release.json"
                if d.is_dir() and meta_file.exists():
                    out.append(ReleaseInfo(d.name, d, json.loads(meta_file.read_text())))
        out.sort(key=lambda r: (r.meta.get("data_date") or "", r.meta.get("ingested_at") or ""), reverse=True)
        return out

    def release(self, release_id: str | None = None) -> ReleaseInfo:
        """One release by id (default: the newest). Raises a clear error if absent."""
        rels = self.releases()
        if not rels:
            raise WarehouseError(
                f"no release has been ingested into the warehouse at {self.path}",
                "run `make demo`, or `immfacts ingest \"EOIR Case Data.zip\"` (or `immfacts sample` first)",
            )
        if release_id is None:
            return rels[0]
        for r in rels:
            if r.id == release_id or r.id.startswith(release_id):
                return r
        raise ReleaseNotFound(
            f"release {release_id!r} is not in the warehouse at {self.path}",
            "available: " + ", ".join(r.id for r in rels),
        )

    def has_release(self) -> bool:
        return bool(self.releases())

    # --- metrics (implemented in immfacts.metrics) -------------------------------------
    def metric(self, metric_id: str, **query: Any):
        """Compute a catalogue metric; see :func:`immfacts.metrics.compute` for arguments."""
        from immfacts.metrics import compute

        return compute(self, metric_id, **query)

    def explain(self, metric_id: str, **query: Any) -> str:
        """The SQL a metric query would run, without running it."""
        from immfacts.metrics import explain

        return explain(self, metric_id, **query)

    def metrics(self) -> list[dict[str, Any]]:
        """The catalogue: every metric's id, title, definition, unit and variants."""
        from immfacts.metrics import catalogue

        return catalogue()
