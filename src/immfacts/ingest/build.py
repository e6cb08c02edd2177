"""``immfacts.ingest(source, warehouse=...)``: a release into a warehouse, atomically.

The whole release is built in a fresh folder ``<home>/tmp/build-…/`` — lookups, every table
(:func:`~immfacts.ingest.table.scan_table`; the pre-pass of the next table runs in a thread
while DuckDB loads the current one), orphan and case-type checks, the canonical model
(:func:`immfacts.model.build_model`, in another thread as soon as its input tables are staged
— they are loaded first — while the other tables load, largest first), ``report.json`` and
``release.json`` — and only when all of that succeeded is the folder moved to
``<home>/releases/<release-id>/`` (an atomic exchange with the previous copy of the same
release on Linux, two renames elsewhere). Any failure — bad input, ``--strict`` finding a row
to repair, a full disk, Ctrl-C — removes the build folder and leaves every release already in
the warehouse as it was. ``catalog.duckdb`` (views over the release's Parquet files, with
absolute paths) is written into the published folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from immfacts.errors import ImmfactsError, IngestError, InputError, suggest
from immfacts.ingest.limits import Limits
from immfacts.ingest.lookups import load_lookups
from immfacts.ingest.progress import make_progress
from immfacts.ingest.relations import CaseIndex
from immfacts.ingest.report import IngestReport, TableReport
from immfacts.ingest.source import Release, open_release
from immfacts.ingest.table import prepare_table, scan_table
from immfacts.paths import resolve_warehouse
from immfacts.schema import main_tables
from immfacts.warehouse import (
    arrow_pool_for_builds,
    libc_function,
    literal,
    no_huge_pages_for_builds,
    parquet_glob,
    quote,
    tune_for_builds,
)

log = logging.getLogger("immfacts.ingest")


def _select(rel: Release, tables: list[str] | str | None) -> list[str]:
    if not tables:
        return list(rel.tables)
    if isinstance(tables, str):
        tables = [t for t in tables.replace(",", " ").split() if t]
    known = {n.lower(): n for n in main_tables()}
    out = []
    for t in tables:
        name = known.get(t.lower().removesuffix(".csv"))
        if name is None:
            near = suggest(t, list(main_tables()))
            raise InputError(f"unknown table {t!r}", hint=("did you mean " + ", ".join(near) + "?") if near else "known tables: " + ", ".join(main_tables()))
        if name not in rel.tables:
            raise InputError(f"table {name} is not in {rel.source}", hint="this release has: " + ", ".join(rel.tables))
        if name not in out:
            out.append(name)
    return [n for n in rel.tables if n in out]


MODEL_INPUTS = ("A_TblCase", "B_TblProceeding", "tbl_Court_Appln")
# how many tables' pre-passes may run ahead of the table being loaded: with two, a large
# table's pre-pass starts early enough that the load before it does not wait for it
PREPASS_AHEAD = 2


def _connect(build: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    spill = build / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET streaming_buffer_size = '64MB'")
    con.execute("SET enable_progress_bar = false")
    tune_for_builds(con)
    return con


class _SharedCaseIndex:
    """The staged cases' :class:`CaseIndex`, built once by whichever check asks first; the
    checks may run on any number of threads, in any order."""

    def __init__(self, case_path: Path) -> None:
        self.case_path = case_path
        self._lock = threading.Lock()
        self._index: CaseIndex | None = None

    def get(self) -> CaseIndex:
        with self._lock:
            if self._index is None:
                self._index = CaseIndex(self.case_path)
            return self._index


def _relations(build: Path, name: str, rep: TableReport, index: _SharedCaseIndex) -> None:
    """Orphans of one staged table (parent IDNCASE absent from the staged A_TblCase) and, for
    B_TblProceeding, proceeding/case type conflicts (:mod:`immfacts.ingest.relations`); nothing
    when A_TblCase was not ingested. Runs beside the load of the next table; A_TblCase's run
    builds the case index the others share (or the first check to need it does)."""
    if not index.case_path.exists():
        return
    if name == "A_TblCase":
        index.get()
        rep.orphans = 0
        return
    key = next((k for k in main_tables()[name].parent_keys if k.lower() == "idncase"), None)
    if key is None:
        return
    conflicts = name == "B_TblProceeding"
    orphans, clash = index.get().check(build / "tables" / f"{name}.parquet", key, conflicts)
    rep.orphans = orphans
    if conflicts:
        rep.case_type_conflicts = clash


def _build_model(build: Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    try:
        from immfacts.model import build_model
    except ImportError as e:
        log.warning("immfacts.model is not available (%s): the canonical model is not built", e)
        return {"built": False, "reason": f"immfacts.model is not available ({e})"}
    if not all((build / "tables" / f"{t}.parquet").exists() for t in ("A_TblCase", "B_TblProceeding")):
        return {"built": False, "reason": "the model needs A_TblCase and B_TblProceeding (not all were ingested)"}
    try:
        manifest = build_model(build, duckdb_con=con)
    except ImmfactsError:
        raise
    except Exception as e:  # a model failure must not publish a half release
        raise IngestError(f"building the canonical model failed: {type(e).__name__}: {e}", hint="nothing was changed in the warehouse; please report this") from e
    return {"built": True, **json.loads(json.dumps(manifest or {}, default=str))}


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    fn = libc_function("renameat2")
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _publish(build: Path, home: Path, rid: str) -> Path:
    releases = home / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / rid
    if not final.exists():
        os.rename(build, final)
        return final
    if _exchange(build, final):
        shutil.rmtree(build, ignore_errors=True)  # now holds the replaced copy
        return final
    old = home / "tmp" / f"replaced-{rid}-{os.getpid()}-{time.time_ns()}"
    os.rename(final, old)
    os.rename(build, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def write_catalog(release_dir: Path) -> Path:
    """``catalog.duckdb``: one view per Parquet file of the release (tables, lookups, model)."""
    release_dir = release_dir.resolve()
    tmp = release_dir / ".catalog.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for sub in ("tables", "lookups", "model"):
            for p in sorted((release_dir / sub).glob("*.parquet")):
                con.execute(f"CREATE OR REPLACE VIEW {quote(p.stem)} AS SELECT * FROM read_parquet({literal(parquet_glob(p))})")
    finally:
        con.close()
    final = release_dir / "catalog.duckdb"
    tmp.replace(final)
    return final


def _disk_error(e: BaseException) -> IngestError | None:
    text = str(e)
    if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left" in text:
        return IngestError(
            f"the disk is full while writing the release ({text})",
            hint="free some space (the real release needs ~10 GB in the warehouse plus ~25 GB while ingesting) "
            "or use --warehouse on a larger disk; the warehouse is unchanged",
        )
    return None


@arrow_pool_for_builds()
@no_huge_pages_for_builds()
def ingest(
    source: str | os.PathLike[str],
    warehouse: str | os.PathLike[str] | None = None,
    *,
    tables: list[str] | str | None = None,
    strict: bool = False,
    progress: Any = None,
    limits: Limits | None = None,
) -> IngestReport:
    """Ingest a release (zip, folder or http(s) URL) into ``warehouse`` and return the report.

    ``warehouse`` defaults to ``$IMMFACTS_HOME`` or the per-user data folder; ``tables``
    restricts the main tables; ``strict`` stops at the first row needing repair or quarantine;
    ``progress`` is ``None``/``True``/a Rich ``Progress``/a callable (see
    :mod:`immfacts.ingest.progress`). Raises :class:`~immfacts.errors.ImmfactsError`
    subclasses for bad input; the warehouse is never left half-changed. PyArrow allocates
    from ``malloc`` meanwhile (:func:`~immfacts.warehouse.arrow_pool_for_builds`), and the
    process uses no transparent huge pages (:func:`~immfacts.warehouse.no_huge_pages_for_builds`).
    """
    t0 = time.perf_counter()
    home = resolve_warehouse(warehouse)
    limits = limits or Limits.from_env()
    prog = make_progress(progress)
    published = False
    build: Path | None = None
    try:
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix="build-", dir=home / "tmp"))
        with open_release(source, cache_dir=home / "cache", limits=limits, progress=prog) as rel:
            selected = _select(rel, tables)
            lookups = load_lookups(rel, build / "work")
            lookups.write(build / "lookups")
            counts = rel.count_txt() or {}
            con = _connect(build, limits)
            stop = threading.Event()
            ahead = ThreadPoolExecutor(max_workers=PREPASS_AHEAD, thread_name_prefix="immfacts-prepass")
            # the canonical model needs only MODEL_INPUTS: it is built while the other tables load
            model_needs = set(MODEL_INPUTS) & set(selected)
            # the model's inputs load first, so that it is built while the others load; then the
            # largest tables, so that their long pre-passes start early and the short ones fill the end
            rest = sorted((t for t in selected if t not in model_needs), key=lambda t: -rel.tables[t].size)
            order = [t for t in MODEL_INPUTS if t in model_needs] + rest
            model_job = None
            model_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="immfacts-model")
            # orphan and type checks of each staged table run beside the next load, not all at the end
            check_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="immfacts-checks")
            checks: dict[str, Future[None]] = {}
            case_index = _SharedCaseIndex(build / "tables" / "A_TblCase.parquet")
            try:
                reports: dict[str, TableReport] = {}

                def prepare(name: str):
                    return ahead.submit(prepare_table, rel, name, build, lookups=lookups, limits=limits, progress=prog, stop=stop)

                futures = {}
                for i, name in enumerate(order):
                    # the pre-passes of the next tables (inflate, compiled scan) overlap this load
                    for ahead_name in order[i : i + 1 + PREPASS_AHEAD]:
                        if ahead_name not in futures and ahead_name not in reports:
                            futures[ahead_name] = prepare(ahead_name)
                    prepared = futures.pop(name).result()
                    reports[name] = scan_table(
                        rel, name, build, con=con, lookups=lookups, strict=strict, limits=limits,
                        progress=prog, count_txt=counts.get(name), prepared=prepared,
                    )
                    if model_job is None and {"A_TblCase", "B_TblProceeding"} <= model_needs <= set(reports):
                        model_job = model_pool.submit(_build_model, build, con.cursor())
                    if "A_TblCase" in reports:  # (loaded first when selected; without it, no checks)
                        for staged in [n for n in reports if n not in checks]:
                            checks[staged] = check_pool.submit(_relations, build, staged, reports[staged], case_index)
                for job in checks.values():
                    job.result()
                reports = {name: reports[name] for name in selected}  # the release's order
                model = model_job.result() if model_job is not None else None
            finally:
                stop.set()
                ahead.shutdown(wait=True, cancel_futures=True)
                model_pool.shutdown(wait=True, cancel_futures=True)
                check_pool.shutdown(wait=True, cancel_futures=True)
                con.close()
            src = os.fspath(source)
            if "://" not in src:
                src = str(Path(src).expanduser().resolve())
            rid = rel.release_id
            release = {
                "id": rid,
                "data_date": rel.data_date,
                "source": src,
                "checksum": rel.checksum(),
                "last_modified": rel.last_modified,
                "synthetic": rel.synthetic,
            }
            report = IngestReport(release=release, tables=reports, lookups=lookups.report())
            report.check()
            if not rel.count_txt():
                report.warnings.append("the release has no Count.txt: row counts could not be checked against EOIR's")
            for name, t in reports.items():
                if t.count_txt is not None and abs(t.count_txt_diff or 0) >= 5:
                    report.warnings.append(f"{name}: {t.rows_loaded:,} rows loaded, Count.txt says {t.count_txt:,}")
        shutil.rmtree(build / "work", ignore_errors=True)
        shutil.rmtree(build / "spill", ignore_errors=True)
        report.model = model if model is not None else _build_model(build)
        shutil.rmtree(build / ".model-building", ignore_errors=True)
        meta = {
            **release,
            "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "immfacts_version": _version(),
            "tables": {n: t.rows_loaded for n, t in reports.items()},
        }
        report.elapsed_s = time.perf_counter() - t0
        _write_json(build / "report.json", report.to_dict())
        _write_json(build / "release.json", meta)
        final = _publish(build, home, rid)
        published = True
        report.path = str(final)
        try:
            write_catalog(final)
        except (duckdb.Error, OSError) as e:  # the release is complete without it
            report.warnings.append(f"catalog.duckdb could not be written ({e}); the Parquet files are complete")
        report.elapsed_s = time.perf_counter() - t0
        with contextlib.suppress(OSError):
            _write_json(final / "report.json", report.to_dict())
        return report
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except ImmfactsError:
        raise
    except OSError as e:
        raise _disk_error(e) or IngestError(f"ingest failed: {e}", hint="nothing was changed in the warehouse") from None
    except duckdb.Error as e:
        raise _disk_error(e) or IngestError(f"ingest failed in DuckDB: {e}", hint="nothing was changed in the warehouse; please report this") from None
    finally:
        if build is not None and not published:
            shutil.rmtree(build, ignore_errors=True)
        prog.close()


def _version() -> str:
    from immfacts import __version__

    return __version__
