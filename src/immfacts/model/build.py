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
from ibis import _

from immfacts.errors import IngestError
from immfacts.model import asylum, cases, decode, proceedings, spells, staged
from immfacts.model.rules import DEFAULT_RULES, ModelRules

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
    con.raw_sql("SET preserve_insertion_order=false")
    con.raw_sql("SET enable_progress_bar=false")  # ingest shows its own progress
    return con


# Row groups of 30,720 rows (DuckDB's default is 122,880): each writing thread buffers whole
# row groups outside what DuckDB can spill, so smaller ones leave the joins and aggregates
# more of the memory limit (at scale 0.1 under a 300MB limit: no table needs the one-thread
# retry with 30,720, `cases` does with 61,440). docs/performance.md, "Memory, third round".
_COPY_OPTIONS = {"row_group_size": 30_720}


def _write_parquet(con: Any, expr: ir.Table, path: Path) -> None:
    """``COPY`` one model table to Parquet. When DuckDB runs out of memory (its limit is shared
    with the ingest, and a large release's joins and aggregates may not fit), the table is
    written again on one thread: each thread holds its own hash tables and Parquet buffers, so
    one thread needs far less memory (and spills the rest) — slower, but the ingest completes.
    ``threads`` is a setting of the whole database: during an ingest the table loads running
    meanwhile get one thread too, until the setting is restored."""
    try:
        con.to_parquet(expr, str(path), **_COPY_OPTIONS)
        return
    except duckdb.OutOfMemoryException as e:
        log.warning("the model table %s does not fit in DuckDB's memory limit (%s); writing it again on one thread", path.stem, str(e).splitlines()[0])
    path.unlink(missing_ok=True)
    threads = con.raw_sql("SELECT current_setting('threads')").fetchone()[0]
    con.raw_sql("SET threads = 1")
    try:
        con.to_parquet(expr, str(path), **_COPY_OPTIONS)
    finally:
        con.raw_sql(f"SET threads = {int(threads)}")


def _labels(con: Any, release_dir: Path | None) -> dict[str, ir.Table | None]:
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
                out[dim] = cases.label_table(t, code, label)
                break
    return out


def build_model(release_dir: str | os.PathLike[str], rules: ModelRules = DEFAULT_RULES, *, duckdb_con: Any = None) -> dict[str, Any]:
    """Materialise ``model/<table>.parquet`` for the release in ``release_dir``; return the manifest.

    Needs ``tables/A_TblCase.parquet`` and ``tables/B_TblProceeding.parquet``;
    ``tbl_Court_Appln`` and every lookup are optional (empty / bundled / unlabelled).
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
        decoded = decode.classify(lookup, rules)
        labels = _labels(con, release_dir)
        case_t = staged.main_table(con, release_dir, "A_TblCase")
        proc_t = staged.main_table(con, release_dir, "B_TblProceeding")
        appl_t = staged.main_table(con, release_dir, "tbl_Court_Appln")

        def write(name: str, expr: ir.Table) -> ir.Table:
            path = building / f"{name}.parquet"
            _write_parquet(con, expr, path)
            return con.read_parquet(str(path), table_name=f"model_{name}")

        m_proc = write("proceedings", proceedings.proceedings(proc_t, case_t, decoded, rules))
        m_cases = write("cases", cases.cases(case_t, m_proc, labels, rules))
        m_apps = write("applications", asylum.applications(appl_t, m_proc, m_cases, rules))
        write("asylum_cases", asylum.asylum_cases(m_apps, m_cases, labels, rules))
        m_spells = write("case_spells", spells.case_spells(m_proc, m_cases, labels, rules))
        write("asylum_application_spells", spells.asylum_application_spells(m_apps, m_spells, rules))
        manifest = _manifest(con, m_proc, m_cases, m_apps, rules, lookup_source)
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


def _manifest(con: Any, procs: ir.Table, cases_t: ir.Table, apps: ir.Table, rules: ModelRules, lookup_source: str) -> dict[str, Any]:
    p = con.execute(procs.aggregate(
        rows=_.count(),
        orphans=_.orphan.sum(),
        type_conflicts=_.type_conflict.sum(),
        data_errors=_.data_error.sum(),
        not_in_lookup=(_.completed & ~_.in_lookup).sum(),
        first_input=_.input_date.min(),
        last_input=_.input_date.max(),
        last_comp=_.comp_date.max(),
    )).iloc[0]
    c = con.execute(cases_t.aggregate(rows=_.count(), no_proceedings=(_.n_proceedings == 0).sum())).iloc[0]
    a = con.execute(apps.aggregate(rows=_.count(), orphans=_.orphan.sum())).iloc[0]

    def d(v: Any) -> str | None:
        return None if v is None or v != v else str(v)[:10]

    def n(v: Any) -> int:
        return 0 if v is None or v != v else int(v)

    last = max([x for x in (d(p["last_input"]), d(p["last_comp"])) if x] or [None]) if (d(p["last_input"]) or d(p["last_comp"])) else None
    return {
        "model_version": MODEL_VERSION,
        "built_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "rules": rules.to_dict(),
        "court_decision_lookup": lookup_source,
        "tables": list(MODEL_TABLES),
        "rows": {"proceedings": n(p["rows"]), "cases": n(c["rows"]), "applications": n(a["rows"])},
        "orphan_proceedings": n(p["orphans"]),
        "orphan_applications": n(a["orphans"]),
        "case_type_conflicts": n(p["type_conflicts"]),
        "completion_data_errors": n(p["data_errors"]),
        "codes_not_in_lookup": n(p["not_in_lookup"]),
        "cases_without_proceedings": n(c["no_proceedings"]),
        "first_date": d(p["first_input"]),
        "last_date": last,
    }


def read_manifest(release_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The model manifest of a release ({} if the model was never built)."""
    p = Path(release_dir) / "model" / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else {}


def model_schemas(rules: ModelRules = DEFAULT_RULES) -> dict[str, ibis.Schema]:
    """The schema of every model table, from the expressions over unbound tables (no data)."""
    case_t = ibis.table(staged.staged_schema("A_TblCase"), name="A_TblCase")
    proc_t = ibis.table(staged.staged_schema("B_TblProceeding"), name="B_TblProceeding")
    appl_t = ibis.table(staged.staged_schema("tbl_Court_Appln"), name="tbl_Court_Appln")
    lk = ibis.table({"strCaseType": "string", "strDecCode": "string", "strDecType": "string",
                     "strDecDescription": "string"}, name="lookup")
    labels: dict[str, ir.Table | None] = {
        dim: ibis.table({"code": "string", "label": "string"}, name=f"label_{dim}") for dim in staged.LABEL_LOOKUPS
    }
    decoded = decode.classify(lk, rules)
    p = proceedings.proceedings(proc_t, case_t, decoded, rules)
    c = cases.cases(case_t, p, labels, rules)
    a = asylum.applications(appl_t, p, c, rules)
    s = spells.case_spells(p, c, labels, rules)
    return {
        "proceedings": p.schema(),
        "cases": c.schema(),
        "applications": a.schema(),
        "asylum_cases": asylum.asylum_cases(a, c, labels, rules).schema(),
        "case_spells": s.schema(),
        "asylum_application_spells": spells.asylum_application_spells(a, s, rules).schema(),
    }
