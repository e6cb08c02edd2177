"""Materialising the canonical model of one release as Parquet (``model/*.parquet``).

``build_model(release_dir)`` runs at the end of every ingest, before the release folder is
swapped in: it reads ``tables/`` and ``lookups/``, builds the Ibis expressions of
:mod:`immfacts.model` on an embedded DuckDB and writes each table with ``COPY … TO``
(streaming: DuckDB spills joins, aggregates and sorts to a temp folder past its memory
limit). During an ingest the model runs on a connection of the ingest's own DuckDB database,
so one limit (``IMMFACTS_DUCKDB_MEMORY``, default 1GB) bounds both; on its own (``build_model``
called without ``duckdb_con``) it gets ``IMMFACTS_MEMORY_LIMIT``, default 4GB. A table that
does not fit is written again on one thread (see :func:`_write_parquet`). Tables are written in
dependency order and each is read back from its Parquet file, so nothing is computed twice.
``model/manifest.json`` records the rules, the lookup used, row counts, data errors and the
date range the data covers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from immfacts.errors import IngestError
from immfacts.model import asylum, buckets, cases, decode, proceedings, spells, staged
from immfacts.model.rules import DEFAULT_RULES, ModelRules
from immfacts.warehouse import (
    arrow_pool_for_builds,
    literal,
    no_huge_pages_for_builds,
    parquet_glob,
    tune_for_builds,
)

log = logging.getLogger("immfacts.model")

MODEL_TABLES = (
    "proceedings", "cases", "applications", "asylum_cases", "case_spells", "asylum_application_spells",
)
MODEL_VERSION = 1


def _connect(tmp: Path, duckdb_con: Any = None) -> Any:
    if duckdb_con is not None:  # a connection of the ingest's database: its memory limit and spill folder
        con = ibis.duckdb.from_connection(duckdb_con)
    else:
        con = ibis.duckdb.connect()
        tmp.mkdir(parents=True, exist_ok=True)
        limit = os.environ.get("IMMFACTS_MEMORY_LIMIT", "4GB")
        con.raw_sql(f"SET memory_limit='{limit}'")
        con.raw_sql(f"SET temp_directory='{tmp.as_posix()}'")
        tune_for_builds(con.con)
    con.raw_sql("SET preserve_insertion_order=false")
    con.raw_sql("SET enable_progress_bar=false")  # ingest shows its own progress
    return con


# Row groups of 30,720 rows (DuckDB's default is 122,880): each writing thread buffers whole
# row groups outside what DuckDB can spill, so smaller ones leave the joins and aggregates
# more of the memory limit (at scale 0.1 under a 300MB limit: no table needs the one-thread
# retry with 30,720, `cases` does with 61,440). docs/performance.md, "Memory, third round".
# No Bloom filters: a row group of 30,720 rows holds most courts, judges and nationalities, so
# they would skip next to nothing, and writing them cost 5-12 % of a table's write
# (docs/performance.md, "Where the time goes", third round).
_COPY_OPTIONS = "ROW_GROUP_SIZE 30720, WRITE_BLOOM_FILTER false"


def _write_parquet(con: Any, sql: str, path: Path) -> None:
    """``COPY`` one model table (or one bucket's part of it) to Parquet. When DuckDB runs out
    of memory (its limit is shared with the ingest), the table is written again on one thread:
    each thread holds its own hash tables and Parquet buffers, so one thread needs far less
    memory (and spills the rest) — slower, but the ingest completes. ``threads`` is a setting
    of the whole database: during an ingest the table loads running meanwhile get one thread
    too, until the setting is restored."""
    copy = f"COPY ({sql}) TO {literal(path)} (FORMAT parquet, {_COPY_OPTIONS})"
    try:
        con.raw_sql(copy)
        return
    except duckdb.OutOfMemoryException as e:
        log.warning("the model table %s does not fit in DuckDB's memory limit (%s); writing it again on one thread", path.stem, str(e).splitlines()[0])
    path.unlink(missing_ok=True)
    threads = con.raw_sql("SELECT current_setting('threads')").fetchone()[0]
    con.raw_sql("SET threads = 1")
    try:
        con.raw_sql(copy)
    finally:
        con.raw_sql(f"SET threads = {int(threads)}")


def _labels(con: Any, release_dir: Path | None) -> dict[str, ir.Table | None]:
    """The label table of each labelled dimension, as a view ``model_label_<dim>`` (None
    where the release has no usable lookup)."""
    out: dict[str, ir.Table | None] = {}
    for dim, candidates in staged.LABEL_LOOKUPS.items():
        out[dim] = None
        for lookup, code_col, label_col in candidates:
            path = staged.lookup_path(release_dir, lookup) if release_dir else None
            if path is None:
                continue
            t = con.read_parquet(str(path), table_name=f"label_{dim}")
            code, label = staged.find_column(t, code_col), staged.find_column(t, label_col)
            if code and label:
                view = con.create_view(f"model_label_{dim}", cases.label_table(t, code, label), overwrite=True)
                out[dim] = ibis.table(view.schema(), name=f"model_label_{dim}")
                break
    return out


def _expressions(decoded: ir.Table, labels: dict[str, ir.Table | None], rules: ModelRules) -> dict[str, ir.Table]:
    """Every model table as an expression over the views of :mod:`immfacts.model.buckets`
    (the current bucket's inputs and parts), in the order they are built."""
    inp = {t: ibis.table(staged.staged_schema(t), name=v) for t, v in buckets.INPUT_VIEWS.items()}
    out: dict[str, ir.Table] = {}

    def part(name: str) -> ir.Table:
        return ibis.table(out[name].schema(), name=buckets.part_view(name))

    def apps(name: str) -> ir.Table:
        return ibis.table(out[name].schema(), name=buckets.apps_view(name))

    case_t, proc_t, appl_t = inp["A_TblCase"], inp["B_TblProceeding"], inp["tbl_Court_Appln"]
    out["proceedings"] = proceedings.proceedings(proc_t, case_t, decoded, rules)
    out["cases"] = cases.cases(case_t, part("proceedings"), labels, rules)
    out["case_spells"] = spells.case_spells(part("proceedings"), part("cases"), labels, rules)
    out["applications"] = asylum.applications(appl_t, apps("proceedings"), part("cases"), rules)
    out["asylum_cases"] = asylum.asylum_cases(part("applications"), part("cases"), labels, rules)
    out["asylum_application_spells"] = spells.asylum_application_spells(part("applications"), apps("case_spells"), rules)
    return out


# Built per case in the first round; the second meets applications with their proceedings.
_FIRST, _SECOND = ("proceedings", "cases", "case_spells"), ("applications", "asylum_cases", "asylum_application_spells")
_CROSSING = ("proceedings", "case_spells")


@arrow_pool_for_builds()
@no_huge_pages_for_builds()
def build_model(
    release_dir: str | os.PathLike[str], rules: ModelRules = DEFAULT_RULES, *, duckdb_con: Any = None,
    cases_per_bucket: int | None = None,
) -> dict[str, Any]:
    """Materialise ``model/<table>.parquet`` for the release in ``release_dir``; return the manifest.

    Needs ``tables/A_TblCase.parquet`` and ``tables/B_TblProceeding.parquet``;
    ``tbl_Court_Appln`` and every lookup are optional (empty / bundled / unlabelled). A release
    of more than ``cases_per_bucket`` cases (default: ``IMMFACTS_MODEL_BUCKET_CASES``, else
    :data:`~immfacts.model.buckets.CASES_PER_BUCKET`) is built in buckets of cases, each model table a folder of parts
    (:mod:`immfacts.model.buckets`). Built with the same allocator settings as an ingest
    (:func:`~immfacts.warehouse.arrow_pool_for_builds`,
    :func:`~immfacts.warehouse.no_huge_pages_for_builds`), also when a query builds a
    missing model.
    """
    release_dir = Path(release_dir)
    for need in ("A_TblCase", "B_TblProceeding"):
        if not (release_dir / "tables" / f"{need}.parquet").exists():
            raise IngestError(
                f"cannot build the model: {release_dir / 'tables' / (need + '.parquet')} is missing",
                "ingest a release that contains A_TblCase and B_TblProceeding",
            )
    started = time.perf_counter()
    model_dir = release_dir / "model"
    building = release_dir / ".model-building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    con = _connect(building / "spill", duckdb_con)
    try:
        lookup, lookup_source = decode.court_decision_lookup(con, release_dir)
        con.raw_sql("DROP TABLE IF EXISTS model_decoded")  # (create_table's overwrite fails on temp tables)
        decoded = con.create_table("model_decoded", decode.classify(lookup, rules), temp=True).schema()
        decoded = ibis.table(decoded, name="model_decoded")  # (every input is a named table)
        sql = {name: ibis.to_sql(e, dialect="duckdb") for name, e in _expressions(decoded, _labels(con, release_dir), rules).items()}
        per_bucket = buckets.cases_per_bucket(cases_per_bucket)
        bk = buckets.Buckets(con, release_dir, building, buckets.bucket_count(release_dir, per_bucket))
        bk.scatter()

        def write(name: str, i: int) -> None:
            _write_parquet(con, sql[name], bk.part(name, i))
            bk.point_part(name, i)

        for i in bk:  # the tables of one case's rows
            bk.point_inputs(i)
            for name in _FIRST:
                write(name, i)
        bk.gather_crossings(_CROSSING)
        for i in bk:  # the tables that meet applications with their proceedings
            bk.point_inputs(i)
            for name in _FIRST:
                bk.point_part(name, i)
            bk.point_apps(_CROSSING, i)
            for name in _SECOND:
                write(name, i)
        bk.clean()
        manifest = _manifest(con, building, rules, lookup_source)
        manifest["buckets"] = {"count": bk.k, "cases_per_bucket": per_bucket, "crossing_proceedings": bk.crossings}
    finally:
        con.disconnect()
    shutil.rmtree(building / "spill", ignore_errors=True)
    manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
    (building / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    old = release_dir / ".model-old"
    if model_dir.exists():
        model_dir.rename(old)
    building.rename(model_dir)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def _manifest(con: Any, building: Path, rules: ModelRules, lookup_source: str) -> dict[str, Any]:
    """The manifest's counts and dates, in plain SQL over the written tables (three rows back:
    no data frame library needed)."""

    def one(table: str, columns: str) -> tuple[Any, ...]:
        return con.raw_sql(f"SELECT {columns} FROM read_parquet({literal(parquet_glob(building / f'{table}.parquet'))})").fetchone()

    p_rows, p_orphans, conflicts, errors, not_in_lookup, first_input, last_input, last_comp = one(
        "proceedings",
        "count(*), count_if(orphan), count_if(type_conflict), count_if(data_error), "
        "count_if(completed AND NOT in_lookup), min(input_date), max(input_date), max(comp_date)",
    )
    c_rows, no_proceedings = one("cases", "count(*), count_if(n_proceedings = 0)")
    a_rows, a_orphans = one("applications", "count(*), count_if(orphan)")

    def d(v: Any) -> str | None:
        return None if v is None else str(v)[:10]

    last = max((x for x in (d(last_input), d(last_comp)) if x), default=None)
    return {
        "model_version": MODEL_VERSION,
        "built_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "rules": rules.to_dict(),
        "court_decision_lookup": lookup_source,
        "tables": list(MODEL_TABLES),
        "rows": {"proceedings": p_rows, "cases": c_rows, "applications": a_rows},
        "orphan_proceedings": p_orphans,
        "orphan_applications": a_orphans,
        "case_type_conflicts": conflicts,
        "completion_data_errors": errors,
        "codes_not_in_lookup": not_in_lookup,
        "cases_without_proceedings": no_proceedings,
        "first_date": d(first_input),
        "last_date": last,
    }


def read_manifest(release_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The model manifest of a release ({} if the model was never built)."""
    p = Path(release_dir) / "model" / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else {}


def model_schemas(rules: ModelRules = DEFAULT_RULES) -> dict[str, ibis.Schema]:
    """The schema of every model table, from the expressions over unbound tables (no data)."""
    lk = ibis.table({"strCaseType": "string", "strDecCode": "string", "strDecType": "string",
                     "strDecDescription": "string"}, name="lookup")
    labels: dict[str, ir.Table | None] = {
        dim: ibis.table({"code": "string", "label": "string"}, name=f"label_{dim}") for dim in staged.LABEL_LOOKUPS
    }
    return {name: e.schema() for name, e in _expressions(decode.classify(lk, rules), labels, rules).items()}
