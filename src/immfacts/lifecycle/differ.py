"""What changed between two releases: counts, vanished and appeared records, outcomes, schema.

EOIR publishes no changelog, and records have silently disappeared between releases (TRAC
documented ~900,000 vanished applications in 2019). :func:`diff` compares two releases of a
warehouse (or two release zips, ingested into a temporary warehouse first) with DuckDB
anti-joins over the staged Parquet files, so it runs at full scale on a laptop:

* per main table: rows in each release and the delta;
* cases (``IDNCASE``), proceedings (``IDNPROCEEDING``) and applications
  (``IDNPROCEEDINGAPPLN``) that **vanished** (in OLD only) or **appeared** (in NEW only), with
  breakdowns by fiscal year (cases: of the receipt date, the earliest ``INPUT_DATE``;
  proceedings: ``INPUT_DATE``; applications: ``APPL_RECD_DATE``), court (``BASE_CITY_CODE``;
  of the case's final proceeding for cases, of the proceeding for applications) and
  nationality (``NAT`` of the case / proceeding / the application's proceeding), each in the
  release where the record exists;
* records present in both whose **outcome changed**: proceedings (``DEC_CODE``,
  ``OTHER_COMP``, ``COMP_DATE`` as a date), applications (``APPL_DEC``), cases (final outcome
  class and date from the canonical model; the final proceeding's raw codes when a release has
  no model);
* **schema** drift (:mod:`immfacts.lifecycle.schema_diff`);
* **alerts** when the vanished share passes a threshold (default: 0.1 % of cases or
  proceedings, 0.5 % of applications, the Relief Docket's thresholds). The CLI then exits 3.

Each diff is saved as ``<home>/diffs/<old>__<new>.json``; :func:`latest_diff` returns the most
recent one (the web app's data-quality page shows it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from immfacts.errors import InputError, InvalidQueryError
from immfacts.lifecycle import schema_diff
from immfacts.paths import resolve_warehouse
from immfacts.warehouse import ReleaseInfo, Warehouse, literal, parquet_files, parquet_glob

DEFAULT_THRESHOLDS = {"cases": 0.001, "proceedings": 0.001, "applications": 0.005}
SAMPLE_IDS = 20
RECENCY_DAYS = 7  # Deportation Data Project's tolerance between Last-Modified and the latest completion
TOP_TRANSITIONS = 25

# entity → (table, key, typed columns the diff reads)
ENTITIES: dict[str, tuple[str, str, dict[str, str]]] = {
    "cases": ("A_TblCase", "IDNCASE", {"IDNCASE": "BIGINT", "NAT": "VARCHAR"}),
    "proceedings": (
        "B_TblProceeding",
        "IDNPROCEEDING",
        {
            "IDNPROCEEDING": "BIGINT", "IDNCASE": "BIGINT", "INPUT_DATE": "TIMESTAMP",
            "BASE_CITY_CODE": "VARCHAR", "NAT": "VARCHAR", "DEC_CODE": "VARCHAR",
            "OTHER_COMP": "VARCHAR", "COMP_DATE": "TIMESTAMP",
        },
    ),
    "applications": (
        "tbl_Court_Appln",
        "IDNPROCEEDINGAPPLN",
        {
            "IDNPROCEEDINGAPPLN": "BIGINT", "IDNPROCEEDING": "BIGINT", "IDNCASE": "BIGINT",
            "APPL_CODE": "VARCHAR", "APPL_RECD_DATE": "TIMESTAMP", "APPL_DEC": "VARCHAR",
        },
    ),
}
DIMENSIONS = ("fiscal_year", "court", "nationality")


@dataclass
class ReleaseDiff:
    """The comparison of two releases; ``to_dict()`` is the JSON saved and served."""

    old: dict[str, Any]
    new: dict[str, Any]
    synthetic: bool
    tables: dict[str, Any]
    records: dict[str, Any]
    outcomes: dict[str, Any]
    schema: dict[str, Any]
    thresholds: dict[str, float]
    recency: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    computed_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    saved_to: str | None = None

    @property
    def status(self) -> str:
        return "alert" if self.alerts else "ok"

    @property
    def exit_code(self) -> int:
        """3 when a threshold was passed (the CLI's exit status), else 0."""
        return 3 if self.alerts else 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status
        if self.synthetic:
            from immfacts.provenance import SYNTHETIC_LABEL

            d["label"] = SYNTHETIC_LABEL
        return d

    def to_markdown(self) -> str:
        """A Markdown report of this diff (the same text ``immfacts diff --md`` prints)."""
        from immfacts.lifecycle.diff_report import render_markdown

        return render_markdown(self.to_dict())


# --- inputs ----------------------------------------------------------------------------
def _resolve(ref: str | os.PathLike[str], wh: Warehouse, scratch: Path, label: str, progress: bool) -> ReleaseInfo:
    """A release id of ``wh``, a release folder, or a release zip/folder to ingest first."""
    path = Path(ref)
    if path.exists():
        meta_file = path / "release.json"
        if path.is_dir() and meta_file.exists():
            return ReleaseInfo(path.name, path, json.loads(meta_file.read_text()))
        tmp_home = scratch / label
        _ingest_into(path, tmp_home, progress)
        return Warehouse(tmp_home).release()
    text = str(ref)
    if text.lower().endswith(".zip") or os.sep in text:
        raise InputError(f"{text}: no such file or folder", "check the path, or pass a release id (`immfacts releases`)")
    return wh.release(text)


def _ingest_into(path: Path, home: Path, progress: bool) -> None:
    """Ingest a release zip/folder into a (temporary) warehouse."""
    import immfacts

    immfacts.ingest(path, warehouse=home, progress=progress)


def _thresholds(thresholds: dict[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_THRESHOLDS)
    for k, v in (thresholds or {}).items():
        if k not in out:
            raise InvalidQueryError(
                f"unknown threshold {k!r}", "thresholds are set for: " + ", ".join(sorted(out))
            )
        if v is None or not 0 <= float(v) <= 1:
            raise InvalidQueryError(f"threshold {k}={v!r} is not a fraction between 0 and 1", "e.g. 0.001 for 0.1%")
        out[k] = float(v)
    return out


def _view(con: duckdb.DuckDBPyConnection, name: str, path: Path, cols: dict[str, str]) -> bool:
    """A view with exactly ``cols`` (typed; NULL where the file lacks one). False if no file."""
    if not path.exists():
        select = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols.items())
        con.execute(f"CREATE VIEW {name} AS SELECT {select} WHERE false")
        return False
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(path)})").fetchall()]
    have = {c.lower(): c for c in names}
    parts = []
    for c, t in cols.items():
        src = have.get(c.lower())
        parts.append(f'CAST("{src}" AS {t}) AS {c}' if src else f"CAST(NULL AS {t}) AS {c}")
    con.execute(f"CREATE VIEW {name} AS SELECT {', '.join(parts)} FROM read_parquet({literal(path)})")
    return True


def _fy(expr: str) -> str:
    return (
        f"CASE WHEN {expr} IS NULL THEN 'unknown' ELSE "
        f"'FY' || CAST(year({expr}) + CASE WHEN month({expr}) >= 10 THEN 1 ELSE 0 END AS VARCHAR) END"
    )


def _final_proceeding(src: str) -> str:
    """SQL: each case's final proceeding (COMP_DATE nulls last, then IDNPROCEEDING; the last)."""
    return (
        f"SELECT * FROM {src} QUALIFY row_number() OVER (PARTITION BY IDNCASE ORDER BY "
        "COMP_DATE IS NULL DESC, CAST(COMP_DATE AS DATE) DESC, IDNPROCEEDING DESC) = 1"
    )


# --- records ---------------------------------------------------------------------------
def _attributes(entity: str, r: str, ids: str) -> str:
    """SQL with (key, fiscal_year, court, nationality) of the records of release ``r`` in ``ids``."""
    if entity == "cases":
        return f"""
            WITH p AS (SELECT p.* FROM {r}_proceedings p SEMI JOIN {ids} i ON p.IDNCASE = i.k),
                 recv AS (SELECT IDNCASE, min(INPUT_DATE) AS receipt FROM p GROUP BY IDNCASE),
                 fin AS ({_final_proceeding('p')})
            SELECT c.IDNCASE AS k, {_fy('recv.receipt')} AS fiscal_year,
                   coalesce(fin.BASE_CITY_CODE, 'unknown') AS court,
                   coalesce(c.NAT, 'unknown') AS nationality
            FROM {r}_cases c SEMI JOIN {ids} i ON c.IDNCASE = i.k
            LEFT JOIN recv ON recv.IDNCASE = c.IDNCASE LEFT JOIN fin ON fin.IDNCASE = c.IDNCASE"""
    if entity == "proceedings":
        return f"""
            SELECT p.IDNPROCEEDING AS k, {_fy('p.INPUT_DATE')} AS fiscal_year,
                   coalesce(p.BASE_CITY_CODE, 'unknown') AS court, coalesce(p.NAT, 'unknown') AS nationality
            FROM {r}_proceedings p SEMI JOIN {ids} i ON p.IDNPROCEEDING = i.k"""
    return f"""
        SELECT a.IDNPROCEEDINGAPPLN AS k, {_fy('a.APPL_RECD_DATE')} AS fiscal_year,
               coalesce(p.BASE_CITY_CODE, 'unknown') AS court, coalesce(p.NAT, 'unknown') AS nationality
        FROM {r}_applications a SEMI JOIN {ids} i ON a.IDNPROCEEDINGAPPLN = i.k
        LEFT JOIN {r}_proceedings p ON p.IDNPROCEEDING = a.IDNPROCEEDING"""


def _breakdowns(con: duckdb.DuckDBPyConnection, attrs: str) -> dict[str, dict[str, int]]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE _attrs AS {attrs}")
    out = {}
    for dim in DIMENSIONS:
        rows = con.execute(f"SELECT {dim}, count(*) FROM _attrs GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        out[dim] = {str(k): int(n) for k, n in rows}
    return out


def _records(con: duckdb.DuckDBPyConnection, entity: str) -> dict[str, Any]:
    table, key, _cols = ENTITIES[entity]
    n_old = con.execute(f"SELECT count(*) FROM o_{entity}").fetchone()[0]
    n_new = con.execute(f"SELECT count(*) FROM n_{entity}").fetchone()[0]
    out: dict[str, Any] = {"table": table, "key": key, "old": n_old, "new": n_new}
    _full_join(con, entity, key)
    for kind, a, mine, other in (("vanished", "o", "ok", "nk"), ("appeared", "n", "nk", "ok")):
        ids = f"_{kind}_{entity}"
        con.execute(
            f"CREATE TEMP TABLE {ids} AS SELECT {mine} AS k FROM _fj_{entity} "
            f"WHERE {other} IS NULL AND {mine} IS NOT NULL"
        )
        n = con.execute(f"SELECT count(*) FROM {ids}").fetchone()[0]
        base = n_old if kind == "vanished" else n_new
        out[kind] = n
        out[f"{kind}_share"] = n / base if base else 0.0
        out[f"{kind}_by"] = _breakdowns(con, _attributes(entity, a, ids)) if n else {d: {} for d in DIMENSIONS}
        out[f"sample_{kind}"] = [r[0] for r in con.execute(f"SELECT k FROM {ids} ORDER BY k LIMIT {SAMPLE_IDS}").fetchall()]
        if entity != "cases":
            parent = f"_{kind}_cases"
            exists = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [parent]
            ).fetchone()[0]
            if exists:
                out[f"{kind}_with_their_case"] = con.execute(
                    f"SELECT count(*) FROM {a}_{entity} x SEMI JOIN {ids} i ON x.{key} = i.k "
                    f"SEMI JOIN {parent} c ON x.IDNCASE = c.k"
                ).fetchone()[0]
    return out


PROC_CHANGED = (
    "o.DEC_CODE IS DISTINCT FROM n.DEC_CODE OR o.OTHER_COMP IS DISTINCT FROM n.OTHER_COMP "
    "OR CAST(o.COMP_DATE AS DATE) IS DISTINCT FROM CAST(n.COMP_DATE AS DATE)"
)


def _full_join(con: duckdb.DuckDBPyConnection, entity: str, key: str) -> None:
    """One pass over both releases of an entity: the records only in OLD, only in NEW, and
    (proceedings, applications) those in both whose outcome changed — or, for proceedings,
    that moved to another case (that matters to the case-level comparison)."""
    extra, changed = "", "false"
    if entity == "proceedings":
        changed = f"({PROC_CHANGED} OR o.IDNCASE IS DISTINCT FROM n.IDNCASE)"
        extra = (
            f", o.IDNCASE AS oc, n.IDNCASE AS nc, {_code_label('o')} AS f, {_code_label('n')} AS t, "
            "o.DEC_CODE IS DISTINCT FROM n.DEC_CODE AS d_dec, o.OTHER_COMP IS DISTINCT FROM n.OTHER_COMP AS d_oth, "
            "CAST(o.COMP_DATE AS DATE) IS DISTINCT FROM CAST(n.COMP_DATE AS DATE) AS d_date, "
            f"({PROC_CHANGED}) AS outcome_changed"
        )
    elif entity == "applications":
        changed = "o.APPL_DEC IS DISTINCT FROM n.APPL_DEC"
        extra = (
            ", coalesce(o.APPL_DEC, 'none') AS f, coalesce(n.APPL_DEC, 'none') AS t, "
            "coalesce(n.APPL_CODE, o.APPL_CODE, 'unknown') AS appl_code"
        )
    con.execute(
        f"CREATE TEMP TABLE _fj_{entity} AS SELECT o.{key} AS ok, n.{key} AS nk{extra} "
        f"FROM o_{entity} o FULL OUTER JOIN n_{entity} n ON o.{key} = n.{key} "
        f"WHERE o.{key} IS NULL OR n.{key} IS NULL OR {changed}"
    )


# --- outcomes --------------------------------------------------------------------------
def _code_label(alias: str) -> str:
    return (
        f"CASE WHEN {alias}.DEC_CODE IS NOT NULL THEN 'DEC_CODE ' || {alias}.DEC_CODE "
        f"WHEN {alias}.OTHER_COMP IS NOT NULL THEN 'OTHER_COMP ' || {alias}.OTHER_COMP ELSE 'none' END"
    )


def _transitions(con: duckdb.DuckDBPyConnection, src: str) -> list[dict[str, Any]]:
    rows = con.execute(
        f"SELECT f, t, count(*) AS n FROM {src} GROUP BY 1, 2 ORDER BY n DESC, f, t LIMIT {TOP_TRANSITIONS}"
    ).fetchall()
    return [{"from": f, "to": t, "n": int(n)} for f, t, n in rows]


def _proceeding_outcomes(con: duckdb.DuckDBPyConnection, model: bool) -> dict[str, Any]:
    con.execute(
        "CREATE TEMP VIEW _proc_diff AS SELECT ok AS k, oc, nc, f, t, d_dec, d_oth, d_date, outcome_changed "
        "FROM _fj_proceedings WHERE ok IS NOT NULL AND nk IS NOT NULL"
    )
    con.execute("CREATE TEMP VIEW _proc_changed AS SELECT * FROM _proc_diff WHERE outcome_changed")
    n, dec, oth, date = con.execute(
        "SELECT count(*), count_if(d_dec), count_if(d_oth), count_if(d_date) FROM _proc_changed"
    ).fetchone()
    out: dict[str, Any] = {
        "changed": int(n),
        "by_field": {"DEC_CODE": int(dec or 0), "OTHER_COMP": int(oth or 0), "COMP_DATE": int(date or 0)},
        "transitions": _transitions(con, "_proc_changed"),
        "sample": [r[0] for r in con.execute(f"SELECT k FROM _proc_changed ORDER BY k LIMIT {SAMPLE_IDS}").fetchall()],
    }
    if model and n:
        con.execute(
            """CREATE TEMP TABLE _proc_classes AS
            SELECT coalesce(o.outcome_class, 'pending') AS f, coalesce(m.outcome_class, 'pending') AS t
            FROM _proc_changed c JOIN o_model_proceedings o ON o.idnproceeding = c.k
            JOIN n_model_proceedings m ON m.idnproceeding = c.k"""
        )
        out["class_transitions"] = _transitions(con, "_proc_classes")
    return out


def _application_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    con.execute(
        "CREATE TEMP VIEW _appl_changed AS SELECT ok AS k, f, t, appl_code "
        "FROM _fj_applications WHERE ok IS NOT NULL AND nk IS NOT NULL"
    )
    n = con.execute("SELECT count(*) FROM _appl_changed").fetchone()[0]
    by_type = con.execute("SELECT appl_code, count(*) FROM _appl_changed GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    return {
        "changed": int(n),
        "by_application_type": {k: int(v) for k, v in by_type},
        "transitions": _transitions(con, "_appl_changed"),
        "sample": [r[0] for r in con.execute(f"SELECT k FROM _appl_changed ORDER BY k LIMIT {SAMPLE_IDS}").fetchall()],
    }


def _case_outcomes(con: duckdb.DuckDBPyConnection, model: bool) -> dict[str, Any]:
    if model:
        state = "CASE WHEN {a}.completed THEN coalesce({a}.final_outcome, 'other') ELSE 'pending' END"
        date = "CASE WHEN {a}.completed THEN CAST({a}.final_comp_date AS DATE) END"
        src = """SELECT o.idncase AS k, {so} AS f, {sn} AS t, {do_} AS fd, {dn} AS td
                 FROM o_model_cases o JOIN n_model_cases n ON o.idncase = n.idncase"""
        sql = src.format(
            so=state.format(a="o"), sn=state.format(a="n"), do_=date.format(a="o"), dn=date.format(a="n")
        )
        basis = "canonical model: final outcome class and final completion date"
    else:
        # A case's final proceeding can only change if one of its proceedings changed, moved,
        # vanished or appeared: compare those cases only (cheap at any scale).
        con.execute(
            """CREATE TEMP TABLE _case_cand AS
            SELECT DISTINCT c AS k FROM (
                SELECT oc AS c FROM _proc_diff UNION ALL SELECT nc FROM _proc_diff
                UNION ALL SELECT p.IDNCASE FROM o_proceedings p SEMI JOIN _vanished_proceedings v ON p.IDNPROCEEDING = v.k
                UNION ALL SELECT p.IDNCASE FROM n_proceedings p SEMI JOIN _appeared_proceedings v ON p.IDNPROCEEDING = v.k
            ) WHERE c IS NOT NULL"""
        )
        fin = "(" + _final_proceeding("(SELECT p.* FROM {r}_proceedings p SEMI JOIN _case_cand x ON p.IDNCASE = x.k)") + ")"
        sql = f"""
            WITH fo AS {fin.format(r="o")}, fn AS {fin.format(r="n")}
            SELECT c.IDNCASE AS k, coalesce({_code_label('fo')}, 'none') AS f, coalesce({_code_label('fn')}, 'none') AS t,
                   CAST(fo.COMP_DATE AS DATE) AS fd, CAST(fn.COMP_DATE AS DATE) AS td
            FROM o_cases c SEMI JOIN _case_cand x ON c.IDNCASE = x.k SEMI JOIN n_cases n ON c.IDNCASE = n.IDNCASE
            LEFT JOIN fo ON fo.IDNCASE = c.IDNCASE LEFT JOIN fn ON fn.IDNCASE = c.IDNCASE"""
        basis = "raw codes of the final proceeding (COMP_DATE nulls last, IDNPROCEEDING)"
    con.execute(
        f"CREATE TEMP TABLE _case_changed AS SELECT * FROM ({sql}) WHERE f IS DISTINCT FROM t OR fd IS DISTINCT FROM td"
    )
    n = con.execute("SELECT count(*) FROM _case_changed").fetchone()[0]
    return {
        "changed": int(n),
        "basis": basis,
        "transitions": _transitions(con, "_case_changed"),
        "sample": [r[0] for r in con.execute(f"SELECT k FROM _case_changed ORDER BY k LIMIT {SAMPLE_IDS}").fetchall()],
    }


# --- the public functions ----------------------------------------------------------------
def _table_counts(con: duckdb.DuckDBPyConnection, old: ReleaseInfo, new: ReleaseInfo) -> dict[str, Any]:
    names = sorted({p.stem for r in (old, new) for p in (r.path / "tables").glob("*.parquet")})
    out = {}
    for t in names:
        counts = []
        for r in (old, new):
            p = r.table_path(t)
            counts.append(con.execute(f"SELECT count(*) FROM read_parquet({literal(p)})").fetchone()[0] if p.exists() else None)
        o, n = counts
        delta = (n or 0) - (o or 0)
        out[t] = {"old": o, "new": n, "delta": delta, "delta_share": (delta / o) if o else None}
    return out


def _recency(con: duckdb.DuckDBPyConnection, r: str, rel: ReleaseInfo) -> dict[str, Any]:
    """The latest completion date of a release and its gap to the file's Last-Modified."""
    import email.utils

    latest = con.execute(f"SELECT max(CAST(COMP_DATE AS DATE)) FROM {r[0]}_proceedings").fetchone()[0]
    out: dict[str, Any] = {"latest_completion": latest.isoformat() if latest else None,
                           "last_modified": rel.meta.get("last_modified"), "gap_days": None}
    if latest and out["last_modified"]:
        try:
            lm = email.utils.parsedate_to_datetime(out["last_modified"]).date()
            out["gap_days"] = (lm - latest).days
        except (TypeError, ValueError):
            pass
    return out


def _has_model(rel: ReleaseInfo, name: str, cols: tuple[str, ...]) -> bool:
    p = rel.path / "model" / f"{name}.parquet"
    if not p.exists():
        return False
    import pyarrow.parquet as pq

    have = {c.lower() for c in pq.read_schema(parquet_files(p)[0]).names}
    return all(c in have for c in cols)


def compare(old: ReleaseInfo, new: ReleaseInfo, thresholds: dict[str, float] | None = None) -> ReleaseDiff:
    """Compare two ingested releases (see the module docstring for what is compared)."""
    limits = _thresholds(thresholds)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        for r, rel in (("o", old), ("n", new)):
            for entity, (table, _key, cols) in ENTITIES.items():
                _view(con, f"{r}_{entity}", rel.table_path(table), cols)
        model_cases = all(_has_model(r, "cases", ("idncase", "completed", "final_outcome", "final_comp_date")) for r in (old, new))
        model_procs = all(_has_model(r, "proceedings", ("idnproceeding", "outcome_class")) for r in (old, new))
        for r, rel in (("o", old), ("n", new)):
            if model_cases:
                con.execute(f"CREATE VIEW {r}_model_cases AS SELECT * FROM read_parquet({literal(parquet_glob(rel.path / 'model' / 'cases.parquet'))})")
            if model_procs:
                con.execute(
                    f"CREATE VIEW {r}_model_proceedings AS SELECT * FROM read_parquet({literal(parquet_glob(rel.path / 'model' / 'proceedings.parquet'))})"
                )
        records = {e: _records(con, e) for e in ENTITIES}
        procs = _proceeding_outcomes(con, model_procs)  # before cases: they reuse its table
        outcomes = {
            "cases": _case_outcomes(con, model_cases),
            "proceedings": procs,
            "applications": _application_outcomes(con),
        }
        tables = _table_counts(con, old, new)
        recency = {r: _recency(con, r, rel) for r, rel in (("old", old), ("new", new))}
    finally:
        con.close()

    ocols, obasis = schema_diff.release_columns(old)
    ncols, nbasis = schema_diff.release_columns(new)
    schema = schema_diff.column_changes(ocols, ncols)
    schema["basis"] = {"old": obasis, "new": nbasis}
    schema["lookups"] = schema_diff.lookup_changes(old, new)

    notes = [
        f"{label.upper()}: the latest completion ({r['latest_completion']}) is {r['gap_days']} days before the "
        f"file's Last-Modified ({r['last_modified']}) — a stale extract?"
        for label, r in recency.items()
        if r.get("gap_days") is not None and r["gap_days"] > RECENCY_DAYS
    ]
    if not model_cases:
        notes.append("a release has no canonical model: case outcomes compared on the final proceeding's raw codes")
    if (old.data_date or "") > (new.data_date or ""):
        notes.append(f"OLD ({old.data_date}) is newer than NEW ({new.data_date}): vanished/appeared are reversed")
    alerts = []
    for entity, limit in limits.items():
        rec = records[entity]
        if rec["old"] and rec["vanished_share"] > limit:
            alerts.append(
                f"{rec['vanished']:,} of {rec['old']:,} {entity} ({rec['vanished_share']:.3%}) vanished "
                f"between {old.id} and {new.id} — above the {limit:.2%} threshold"
            )
    return ReleaseDiff(
        old=old.provenance(),
        new=new.provenance(),
        synthetic=old.synthetic or new.synthetic,
        tables=tables,
        records=records,
        outcomes=outcomes,
        schema=schema,
        thresholds=limits,
        recency=recency,
        alerts=alerts,
        notes=notes,
    )


def diff(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    warehouse: str | os.PathLike[str] | None = None,
    *,
    thresholds: dict[str, float] | None = None,
    save: bool = True,
    progress: bool = False,
) -> ReleaseDiff:
    """Compare release OLD with release NEW.

    ``old`` / ``new`` are release ids of the warehouse (a unique prefix is enough), release
    folders, or paths of release zips (ingested into a temporary warehouse first and removed
    afterwards). ``thresholds`` overrides the vanished-share alert limits
    (``{"cases": 0.001, "proceedings": 0.001, "applications": 0.005}``). With ``save`` the
    result is written to ``<warehouse>/diffs/<old>__<new>.json``.
    """
    wh = Warehouse(warehouse)
    home = resolve_warehouse(warehouse)
    scratch_root = home / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="diff-", dir=scratch_root))
    try:
        o = _resolve(old, wh, scratch, "old", progress)
        n = _resolve(new, wh, scratch, "new", progress)
        result = compare(o, n, thresholds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if save:
        result.saved_to = str(save_diff(home, result))
    return result


def save_diff(home: Path, result: ReleaseDiff) -> Path:
    """Write ``result`` to ``<home>/diffs/<old>__<new>.json`` (atomically)."""
    folder = Path(home) / "diffs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.old['id']}__{result.new['id']}.json"
    result.saved_to = str(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2, default=str))
    tmp.replace(path)
    return path


def latest_diff(warehouse: Warehouse | str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The most recently computed diff saved in the warehouse (its JSON dict), or None."""
    home = warehouse.path if isinstance(warehouse, Warehouse) else resolve_warehouse(warehouse)
    best: tuple[str, float, dict[str, Any]] | None = None
    for p in (Path(home) / "diffs").glob("*.json"):
        try:
            d = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        key = (str(d.get("computed_at", "")), p.stat().st_mtime)
        if best is None or key > best[:2]:
            best = (key[0], key[1], d)
    return best[2] if best else None
