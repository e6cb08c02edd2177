"""Computing metrics: ``compute(wh, metric_id, ...) -> Result`` and friends.

This is the one code path behind ``Warehouse.metric``, ``immfacts metric`` and the web API.
Reference series ids (``cbp.*``, ``census.*``, ``eoir.published.*``) are dispatched to
:func:`immfacts.reference.compute`; everything else is an EOIR case-data metric computed from
the release's model on the chosen engine, with its provenance.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import ibis

from immfacts.errors import InvalidQueryError, WarehouseError
from immfacts.metrics import dimensions as dims
from immfacts.metrics import engines, kinds, query, registry
from immfacts.metrics.spec import MetricSpec
from immfacts.provenance import Result
from immfacts.warehouse import parquet_files


def _reference_ids() -> set[str]:
    return {r["id"] for r in registry.reference_catalogue() if "id" in r}


def is_reference(metric_id: str) -> bool:
    """True for ids served by the bundled reference figures."""
    if metric_id in registry.metrics():
        return False
    return metric_id in _reference_ids() or metric_id.startswith(("cbp.", "census.", "eoir.published."))


def catalogue() -> list[dict[str, Any]]:
    """Every metric: EOIR case-data metrics (registry order) then the reference series."""
    out = [s.summary() for s in registry.metrics().values()]
    out.extend(registry.reference_catalogue())
    return out


class _Release:
    """The release a query runs on: paths, provenance, data range, model freshness."""

    def __init__(self, wh: Any, release: str | None) -> None:
        from immfacts.model import MODEL_VERSION, build_model, read_manifest

        self.info = wh.release(release)
        manifest = read_manifest(self.info.path)
        if manifest.get("model_version") != MODEL_VERSION:
            if not (self.info.path / "tables").is_dir():
                raise WarehouseError(
                    f"release {self.info.id} has no staged tables to build its model from",
                    "re-ingest it with `immfacts ingest`",
                )
            manifest = build_model(self.info.path)
        self.manifest = manifest
        self.model_dir = self.info.path / "model"
        end = self.info.data_date or manifest.get("last_date")
        if not end:
            raise WarehouseError(f"release {self.info.id} has no data date", "re-ingest it")
        self.data_end = dt.date.fromisoformat(str(end)[:10])
        first = manifest.get("first_date")
        self.data_start = dt.date.fromisoformat(first[:10]) if first else None


def _rows_scanned(model_dir: Path, table: str) -> int | None:
    rows = [_parquet_rows(f) for f in parquet_files(model_dir / f"{table}.parquet")]
    return None if None in rows else sum(rows)


@functools.lru_cache(maxsize=256)
def _parquet_rows(path: str) -> int | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except OSError:
        return None


def _prepare(wh: Any, metric_id: str, period: Any, by: Any, where: Any, variant: str | None,
             release: str | None, engine: str | None, spark_master: str | None):
    spec = registry.get(metric_id)
    query.check_variant(spec, variant)
    by_l = query.parse_by(by)
    where_d = query.parse_where(where)
    query.check_dimensions(spec, by_l, where_d)
    for g in spec.required_groups:
        if g not in by_l:
            by_l.append(g)
    rel = _Release(wh, release)
    sess = engines.session(rel.model_dir, engine, rel.manifest.get("built_at", ""), spark_master)
    return spec, by_l, where_d, rel, sess


_MEASURES = ("n", "num", "den", "days")


def _plan(spec: MetricSpec, variant: str, period: Any, by_l: list[str], where_d: dict, rel: _Release, sess: Any):
    """(resolved spec, resolved query, expression, SQL) of one variant."""
    r = spec.resolve(variant)
    q = query.resolve(r, period, list(by_l), dict(where_d), rel.data_start, rel.data_end)
    if q.is_stock and not q.dates:
        raise InvalidQueryError(f"no as-of date of {spec.id} is left after the filters", "widen --period or --where")
    expr = kinds.build(r, sess.tables[r.table], q)
    return r, q, expr, ibis.to_sql(expr, dialect=sess.dialect)


def _sort_key(row: dict, groups: list[str]) -> tuple:
    return tuple((row.get(g) is None, str(row.get(g)) if not isinstance(row.get(g), int | float) else row.get(g))
                 for g in groups)


def _interpret(r: MetricSpec, q: query.ResolvedQuery, df: Any, variant: str, sql: str) -> dict[str, Any]:
    groups = [c for c in df.columns if c not in _MEASURES and c != "__v" and not c.startswith("c__")]
    rows = kinds.interpret(r, df, groups)
    rows.sort(key=lambda row: _sort_key(row, groups))
    rows = _finish_rows(r, q, rows, groups)
    return {"variant": variant, "sql": sql, "rows": rows, "groups": groups}


def _execute_all(sess: Any, plans: list) -> list[Any]:
    """Execute several variants' expressions as one query (UNION ALL with a variant index),
    so ``--variant all`` costs one engine round trip; falls back to one query per variant."""
    exprs = [p[2] for p in plans]
    if len(exprs) > 1:
        try:
            types: dict[str, Any] = {}
            for e in exprs:
                for name, typ in e.schema().items():
                    types.setdefault(name, typ)
            parts = [
                e.select(__v=ibis.literal(i, "int64"),
                         **{c: (e[c] if c in e.columns else ibis.null(typ)) for c, typ in types.items()})
                for i, e in enumerate(exprs)
            ]
            df = sess.execute(ibis.union(*parts, distinct=False))
            out = []
            for i, e in enumerate(exprs):
                part = df[df["__v"] == i][list(e.columns)].reset_index(drop=True)
                out.append(part)
            return out
        except Exception:  # noqa: BLE001 - an engine that cannot union these runs them one by one
            pass
    return [sess.execute(p[2], p[3]) for p in plans]


def _finish_rows(spec: MetricSpec, q: query.ResolvedQuery, rows: list[dict], groups: list[str]) -> list[dict]:
    """Format time values, fill empty fiscal years / dates with zeros, apply suppression."""
    if q.by == ["fy"] and spec.kind != "median_days":
        if q.is_stock:
            wanted = sorted({d.year + (1 if d.month >= 10 else 0) for d in q.dates})
        else:
            p = q.period
            lo = (p.start or p.end)
            wanted = list(range(lo.year + (lo.month >= 10), p.end.year + (p.end.month >= 10) + 1))
            if "fy" in q.where:
                wanted = [y for y in wanted if y in q.where["fy"]]
        have = {r["fy"] for r in rows}
        for y in wanted:
            if y not in have:
                rows.append(_zero_row(spec, {"fy": y}))
        rows.sort(key=lambda r: r["fy"])
    if spec.suppression:
        _suppress(spec, rows)
    for r in rows:
        for g in groups:
            if g in dims.DIMENSIONS:
                r[g] = dims.format_value(g, r[g])
    if q.is_stock and any(dims.DIMENSIONS[g].is_time for g in q.by):
        by_label = {}
        for d in q.dates:
            key = tuple(dims.format_value(g, v) for g, v in (
                ("fy", d.year + (1 if d.month >= 10 else 0)), ("month", d.year * 100 + d.month),
                ("administration", dims.administration_of(d))) if g in q.by)
            by_label[key] = d.isoformat()
        for r in rows:
            key = tuple(r[g] for g in ("fy", "month", "administration") if g in q.by)
            r["as_of"] = by_label.get(key)
    return rows


def _zero_row(spec: MetricSpec, keys: dict[str, Any]) -> dict[str, Any]:
    comps = kinds.component_values(spec)
    comp = {}
    for v in comps:
        comp[str(v)] = 0
    for v in comps:
        comp[f"{v}_share"] = None
    if spec.kind in ("count", "pending_at"):
        return {**keys, "value": 0, "numerator": 0, "denominator": None, "components": comp}
    return {**keys, "value": None, "numerator": 0, "denominator": 0, "components": comp}


def _suppress(spec: MetricSpec, rows: list[dict]) -> None:
    """TRAC-style minimum N: a judge needs ``min_denominator`` decisions over the period,
    and each fiscal-year row ``min_denominator_per_year`` decisions."""
    s = spec.suppression or {}
    key = s.get("per", "judge")
    totals: dict[Any, int] = {}
    for r in rows:
        totals[r.get(key)] = totals.get(r.get(key), 0) + (r.get("denominator") or 0)
    per_year = s.get("min_denominator_per_year")
    for r in rows:
        too_few = totals.get(r.get(key), 0) < s["min_denominator"]
        if per_year and "fy" in r and (r.get("denominator") or 0) < per_year:
            too_few = True
        r["suppressed"] = too_few
        if too_few:
            r["value"] = None
            r["components"] = {k: (None if k.endswith("_share") else v) for k, v in r["components"].items()}


def _summarise(spec: MetricSpec, variant_out: dict[str, Any]) -> dict[str, Any]:
    """Top-level value of one variant: the single row, or pooled over the shown rows."""
    rows = variant_out["rows"]
    if not variant_out["groups"]:
        row = rows[0] if rows else _zero_row(spec, {})
        return {"value": row["value"], "numerator": row["numerator"], "denominator": row["denominator"],
                "components": row.get("components", {})}
    if spec.suppression:
        shown = [r for r in rows if not r.get("suppressed")]
        num = sum(r["numerator"] or 0 for r in shown)
        den = sum(r["denominator"] or 0 for r in shown)
        return {"value": num / den if den else None, "numerator": num, "denominator": den,
                "components": {"groups_shown": len(shown), "groups_suppressed": len(rows) - len(shown)}}
    return {"value": None, "numerator": None, "denominator": None, "components": {}}


def compute(wh: Any, metric_id: str, period: Any = None, by: Any = None, where: Any = None,
            variant: str | None = None, release: str | None = None, engine: str | None = None,
            spark_master: str | None = None, edition: str = "latest", as_of: Any = None) -> Result:
    """Compute one catalogue metric on a warehouse release (or a reference series).

    ``period``: ``FY2024``, ``FY2022..FY2024``, ``2024-04-30``, ``biden``, ``biden:fy_whole`` …;
    ``by``: dimensions (``"fy,court"``); ``where``: ``{"court": "NYC"}`` or ``["court=NYC"]``;
    ``variant``: a variant name, or ``"all"`` for every variant side by side.
    """
    if is_reference(metric_id):
        from immfacts import reference

        return reference.compute(metric_id, period=period, by=by, where=where, variant=variant,
                                 edition=edition, as_of=as_of)
    spec, by_l, where_d, rel, sess = _prepare(wh, metric_id, period, by, where, variant, release, engine, spark_master)
    names = spec.variant_names if variant == "all" else [variant or spec.default_variant]
    plans = [_plan(spec, name, period, by_l, where_d, rel, sess) for name in names]
    frames = _execute_all(sess, plans)
    outs = [_interpret(r, q, df, name, sql) for name, (r, q, _e, sql), df in zip(names, plans, frames, strict=True)]
    main = next((o for o in outs if o["variant"] == spec.default_variant), outs[0])
    first_q = plans[names.index(main["variant"])][1]
    top = _summarise(spec, main)
    resolved = spec.resolve(main["variant"])
    q = first_q
    res = Result(
        metric=spec.id,
        value=top["value"],
        variant=main["variant"],
        unit=spec.unit,
        numerator=top["numerator"],
        denominator=top["denominator"],
        components=top["components"],
        period=q.period.to_dict() | ({"as_of": [d.isoformat() for d in q.dates]} if q.is_stock else {}),
        filters=q.filters_dict(),
        groups=main["groups"],
        rows=main["rows"] if main["groups"] else None,
        release=rel.info.provenance(),
        source_kind="eoir_case_data",
        synthetic=rel.info.synthetic,
        title=spec.title,
        definition=resolved.definition.strip(),
        caveats=list(spec.caveats),
        notes=list(q.notes),
        sql=main["sql"],
        engine=sess.name,
        rows_scanned=_rows_scanned(rel.model_dir, resolved.table),
    )
    if variant == "all":
        res.variants = []
        for o in outs:
            s = _summarise(spec, o)
            v = spec.variant_spec(o["variant"])
            entry = {"variant": o["variant"], "default": o["variant"] == spec.default_variant,
                     "rationale": v.rationale if v else "", **s, "sql": o["sql"]}
            if o["groups"]:
                entry["rows"] = o["rows"]
            res.variants.append(entry)
    return res


def explain(wh: Any, metric_id: str, period: Any = None, by: Any = None, where: Any = None,
            variant: str | None = None, release: str | None = None, engine: str | None = None,
            spark_master: str | None = None, edition: str = "latest", as_of: Any = None,
            **_: Any) -> str:
    """The SQL a query would run on the chosen engine, without running it."""
    if is_reference(metric_id):
        from immfacts import reference

        return reference.explain(metric_id, period=period, by=by, where=where, variant=variant,
                                 edition=edition, as_of=as_of)
    spec, by_l, where_d, rel, sess = _prepare(wh, metric_id, period, by, where, variant, release, engine, spark_master)
    names = spec.variant_names if variant == "all" else [variant or spec.default_variant]
    parts = []
    for name in names:
        sql = _plan(spec, name, period, by_l, where_d, rel, sess)[3]
        parts.append(f"-- {spec.id} [{name}] on {sess.name}\n{sql}")
    return "\n\n".join(parts)


HEADLINE = (
    ("eoir.pending", None),
    ("eoir.receipts", None),
    ("eoir.completions", None),
    ("eoir.asylum.grant_rate", "all"),
    ("eoir.asylum.closed_without_merits", None),
    ("eoir.asylum.allowed_to_stay_rate", "all"),
)


def latest_full_fy(wh: Any, release: str | None = None) -> int:
    """The latest fiscal year the release covers completely."""
    info = wh.release(release)
    end = dt.date.fromisoformat(str(info.data_date)[:10]) if info.data_date else dt.date.today()
    return end.year + (end.month >= 10) if (end.month, end.day) == (9, 30) else end.year + (end.month >= 10) - 1


def headline_metrics(wh: Any, release: str | None = None, engine: str | None = None) -> list[Result]:
    """Headline numbers for the latest full fiscal year of a release (demo, web home page).

    Pending (active, at the fiscal year's end), receipts, completions, the asylum grant rate
    (all variants), closed without a merits decision, and allowed-to-stay (all variants).
    """
    year = latest_full_fy(wh, release)
    out = []
    for metric_id, variant in HEADLINE:
        spec = registry.get(metric_id)
        period = f"{year}-09-30" if spec.timing == "stock" else f"FY{year}"
        out.append(compute(wh, metric_id, period=period, variant=variant, release=release, engine=engine))
    return out
