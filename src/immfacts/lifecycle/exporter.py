"""Export a release's tables for other tools: Parquet, CSV, Stata and SQLite (for Datasette).

:func:`export` takes a canonical-model table (``cases``, ``proceedings``, ``applications``,
``asylum_cases``, ``case_spells``, ``asylum_application_spells``), a raw main table
(``A_TblCase``, ``B_TblProceeding`` …, any letter case) or a lookup, from one release of the
warehouse (default: the newest), and writes it with:

* **decoded labels beside raw codes**: the model already carries them (``court_name`` …,
  ``outcome_class``); for a raw table each code column with a lookup gets a ``<COLUMN>_label``
  column right after it, from the release's own lookup (``DEC_CODE`` / ``OTHER_COMP`` are
  decoded per case type and decision type, as EOIR's letters mean different things there);
* **provenance**: the release (id, data date, Last-Modified, checksum) and the SYNTHETIC
  flag travel with every file — Parquet key-value metadata, the Stata data label, the SQLite
  ``immfacts_release`` table and Datasette ``metadata.json``, and a ``<file>.metadata.json``
  sidecar (with the column descriptions) for the other formats.

The SQLite file can hold several tables: exporting another table into the same file adds it
(and merges the Datasette metadata). Open it with ``datasette FILE.db -m FILE.metadata.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from immfacts.errors import InvalidQueryError, WarehouseError, suggest
from immfacts.lifecycle import describe, formats
from immfacts.lifecycle.lookups import coded_columns, shape
from immfacts.lifecycle.progress import bar
from immfacts.schema import find_table
from immfacts.warehouse import ReleaseInfo, Warehouse, literal, parquet_glob

MODEL_TABLES = ("cases", "proceedings", "applications", "asylum_cases", "case_spells", "asylum_application_spells")
FORMATS = {"parquet": "parquet", "csv": "csv", "dta": "dta", "sqlite": "db"}
EOIR_URL = "https://fileshare.eoir.justice.gov/EOIR%20Case%20Data.zip"


@dataclass
class ExportResult:
    """What was written, with the provenance it carries."""

    table: str
    kind: str  # model | raw | lookup
    format: str
    path: str
    metadata_path: str
    rows: int
    columns: list[dict[str, Any]]
    release: dict[str, Any]
    synthetic: bool
    exported_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.synthetic:
            from immfacts.provenance import SYNTHETIC_LABEL

            d["label"] = SYNTHETIC_LABEL
        return d


@dataclass(frozen=True)
class Source:
    name: str  # as exported (model name, registry table name, lookup name)
    kind: str
    path: Path


def _lookup_file(rel: ReleaseInfo, name: str) -> Path | None:
    folder = rel.path / "lookups"
    if folder.is_dir():
        for p in folder.glob("*.parquet"):
            if p.stem.lower() == name.lower():
                return p
    return None


def resolve_source(rel: ReleaseInfo, table: str) -> Source:
    """The Parquet file behind an export name, with a clear error when there is none."""
    if table.lower() in MODEL_TABLES:
        name = table.lower()
        path = rel.path / "model" / f"{name}.parquet"
        if not path.exists():
            raise WarehouseError(
                f"release {rel.id} has no canonical model table {name!r} ({path} is missing)",
                "re-ingest the release (the model is built at the end of every ingest)",
            )
        return Source(name, "model", path)
    spec = find_table(table)
    if spec and spec.kind == "main":
        path = rel.table_path(spec.name)
        if not path.exists():
            raise WarehouseError(
                f"release {rel.id} has no table {spec.name} (the release did not ship {spec.file})",
                "list what it has with `immfacts releases --json`, or pick another release with --release",
            )
        return Source(spec.name, "raw", path)
    lk = _lookup_file(rel, table)
    if lk is not None:
        return Source(lk.stem, "lookup", lk)
    choices = list(MODEL_TABLES) + sorted(p.stem for p in (rel.path / "tables").glob("*.parquet"))
    near = suggest(table, choices + sorted(p.stem for p in (rel.path / "lookups").glob("*.parquet")))
    raise InvalidQueryError(
        f"nothing to export under the name {table!r} in release {rel.id}",
        ("did you mean " + ", ".join(near) + "? " if near else "") + "choose one of: " + ", ".join(choices),
    )


def _label_joins(
    rel: ReleaseInfo, src: Source, cols: list[str], all_cols: list[str]
) -> tuple[list[str], list[str], dict[str, str]]:
    """SELECT items, JOIN clauses and ``{label column: lookup}`` decoding a raw table's codes
    (``cols`` are exported; ``all_cols`` can be read, e.g. CASE_TYPE to decode DEC_CODE)."""
    select, joins, labels = [], [], {}
    coded = coded_columns(src.name) if src.kind == "raw" else {}
    upper = {c.upper(): c for c in all_cols}
    for col in cols:
        select.append(f's."{col}"')
        lookup = coded.get(col)
        label_col = f"{col}_label"
        lk_path = _lookup_file(rel, lookup) if lookup else None
        if lk_path is None or label_col.upper() in upper:
            continue
        import pyarrow.parquet as pq

        sh = shape(lookup, pq.read_schema(lk_path).names)
        if not sh.label or not sh.code:
            continue
        alias = f"lk{len(joins)}"
        code_expr = f'upper(trim(CAST(s."{col}" AS VARCHAR)))'
        if len(sh.key) == 3 and "CASE_TYPE" in upper:
            # tblLookupCourtDecision: (case type, code, C|O); DEC_CODE is C-type, OTHER_COMP O-type.
            ct, code, dtype = sh.key
            kind = "O" if col.upper() == "OTHER_COMP" else "C"
            sub = (
                f'SELECT upper(trim("{ct}")) AS ct, upper(trim("{code}")) AS code, min(trim("{sh.label}")) AS label '
                f"FROM read_parquet({literal(lk_path)}) WHERE upper(trim(\"{dtype}\")) = '{kind}' GROUP BY 1, 2"
            )
            on = f"{alias}.ct = upper(trim(s.\"{upper['CASE_TYPE']}\")) AND {alias}.code = {code_expr}"
        elif len(sh.key) == 1:
            sub = (
                f'SELECT upper(trim(CAST("{sh.code}" AS VARCHAR))) AS code, min(trim(CAST("{sh.label}" AS VARCHAR))) AS label '
                f"FROM read_parquet({literal(lk_path)}) WHERE \"{sh.code}\" IS NOT NULL GROUP BY 1"
            )
            on = f"{alias}.code = {code_expr}"
        else:
            continue
        joins.append(f"LEFT JOIN ({sub}) {alias} ON {on}")
        select.append(f'{alias}.label AS "{label_col}"')
        labels[label_col] = lookup
    return select, joins, labels


def _order_key(src: Source, cols: list[str]) -> str | None:
    spec = find_table(src.name) if src.kind == "raw" else None
    if spec and spec.primary_key and spec.primary_key in cols:
        return spec.primary_key
    return next((c for c in cols if c.lower().startswith("idn")), None)


def export(
    table: str,
    format: str = "parquet",
    *,
    release: str | None = None,
    out: str | os.PathLike[str] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    columns: list[str] | None = None,
    progress: bool = False,
) -> ExportResult:
    """Export ``table`` of a release to ``out`` in ``format`` (parquet, csv, dta, sqlite).

    ``release`` defaults to the newest release; ``out`` to ``./<table>-<release>.<ext>``
    (``.db`` for SQLite; an existing SQLite file gets the table added). ``columns`` keeps only
    those source columns (their decoded labels come along). Returns an :class:`ExportResult`.
    """
    fmt = format.lower()
    if fmt not in FORMATS:
        raise InvalidQueryError(f"unknown export format {format!r}", "choose one of: " + ", ".join(FORMATS))
    wh = Warehouse(warehouse)
    rel = wh.release(release)
    src = resolve_source(rel, table)
    target = Path(out) if out else Path.cwd() / f"{src.name}-{rel.id}.{FORMATS[fmt]}"
    if target.is_dir():
        target = target / f"{src.name}-{rel.id}.{FORMATS[fmt]}"
    target.parent.mkdir(parents=True, exist_ok=True)

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        all_cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(parquet_glob(src.path))})").fetchall()]
        cols = all_cols
        if columns:
            by_lower = {c.lower(): c for c in all_cols}
            unknown = [c for c in columns if c.lower() not in by_lower]
            if unknown:
                raise InvalidQueryError(
                    f"{src.name} has no column(s) {', '.join(unknown)}",
                    "its columns: " + ", ".join(all_cols),
                )
            cols = [by_lower[c.lower()] for c in columns]
        select, joins, labels = _label_joins(rel, src, cols, all_cols)
        order = _order_key(src, cols)
        sql = f"SELECT {', '.join(select)} FROM read_parquet({literal(parquet_glob(src.path))}) s {' '.join(joins)}"
        if order:
            sql += f' ORDER BY s."{order}"'
        out_types = con.execute(f"DESCRIBE {sql}").fetchall()
        descriptions = {}
        for name, *_ in out_types:
            if name in labels:
                descriptions[name] = describe.label_column(name[: -len("_label")], labels[name])
            elif src.kind == "model":
                descriptions[name] = describe.model_column(name)
            else:
                descriptions[name] = describe.raw_column(src.name, name)
        provenance = _provenance(rel, src, fmt)
        names = {n: n for n, *_ in out_types}
        if fmt == "parquet":
            formats.write_parquet(con, sql, target, provenance)
        elif fmt == "csv":
            formats.write_csv(con, sql, target)
        elif fmt == "dta":
            label = (("SYNTHETIC " if rel.synthetic else "") + f"EOIR {src.name}, release {rel.id} (immfacts)")
            names = formats.write_dta(con, sql, target, descriptions, label)
        else:
            with bar(f"exporting {src.name}", enabled=progress, unit="rows") as update:
                formats.write_sqlite(con, sql, target, src.name, provenance, on_progress=update)
        rows = con.execute(f"SELECT count(*) FROM read_parquet({literal(parquet_glob(src.path))})").fetchone()[0]
    finally:
        con.close()

    col_meta = [
        {"name": n, "exported_name": names.get(n, n), "type": str(t), "description": descriptions.get(n, ""),
         **({"decodes": n[: -len("_label")], "lookup": labels[n]} if n in labels else {})}
        for n, t, *_ in out_types
    ]
    result = ExportResult(
        table=src.name, kind=src.kind, format=fmt, path=str(target), metadata_path="", rows=rows,
        columns=col_meta, release=rel.provenance(), synthetic=rel.synthetic,
    )
    if fmt == "sqlite":
        meta_path = target.with_name(target.stem + ".metadata.json")
        meta = formats.datasette_metadata(
            meta_path, target.stem, src.name, _table_description(src, rel),
            {c["name"]: c["description"] for c in col_meta}, provenance,
        )
    else:
        meta_path = target.with_name(target.name + ".metadata.json")
        meta = {**provenance, "file": target.name, "rows": rows, "columns": col_meta}
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str, ensure_ascii=False))
    tmp.replace(meta_path)
    result.metadata_path = str(meta_path)
    return result


def _table_description(src: Source, rel: ReleaseInfo) -> str:
    what = {
        "model": f"Canonical model table '{src.name}' (rules: docs/definitions.md)",
        "raw": f"EOIR table {src.name} as ingested (typed, trimmed; quarantined rows excluded)",
        "lookup": f"EOIR lookup table {src.name}",
    }[src.kind]
    return f"{what}, release {rel.id} (data date {rel.data_date})."


def _provenance(rel: ReleaseInfo, src: Source, fmt: str) -> dict[str, Any]:
    from immfacts import __version__
    from immfacts.provenance import SYNTHETIC_LABEL

    source = rel.meta.get("source") or ""
    return {
        "table": src.name,
        "kind": src.kind,
        "format": fmt,
        "release": rel.provenance(),
        "synthetic": rel.synthetic,
        "label": SYNTHETIC_LABEL if rel.synthetic else None,
        "source_url": source if source.startswith("http") else EOIR_URL,
        "immfacts_version": __version__,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
