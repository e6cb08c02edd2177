"""Published figures (EOIR statistics, gotaways, foreign-born, published analyses) queried by SQL.

Each figure in ``data/figures/*.csv`` is one published number: a metric and variant, the span
it describes (``period_start``..``period_end``; a stock has only ``period_end``, its date), the
value with its qualifier ("more than", "approximately"…), margin of error or share where
published, and the source (= edition) it comes from. A query first keeps, for each span, the
figure of the edition chosen (latest / as-of / named, see :mod:`editions`), then answers by
the metric's kind:

* ``flow`` — the figures lying wholly inside the period are added; figures only partly
  inside are left out and named (a figure counts only if the period covers all of it), as
  are stretches of the period no figure covers;
* ``stock`` — the latest figure dated within the period (or on or before a date);
* ``rate`` — the figure whose span best matches the period (largest overlap ÷ union), since
  published shares cannot be added; a span that differs from the period is noted.

``by=period`` lists the figures; ``by=fiscal_year`` groups them by fiscal year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from immfacts.errors import InvalidQueryError, PeriodError
from immfacts.periods import Period, parse_period
from immfacts.reference.coverage import describe_span
from immfacts.reference.editions import Edition
from immfacts.reference.results import make_result, number, period_block
from immfacts.reference.specs import Spec, Variant, parse_by, parse_where
from immfacts.reference.store import Store, sql_str

FY_SQL = "(year({d}) + CASE WHEN month({d}) >= 10 THEN 1 ELSE 0 END)"
QUALIFIER_WORDS = {"more_than": "more than", "less_than": "less than", "approx": "about", "nearly": "nearly", "at_least": "at least"}


def _base_sql(spec: Spec, variant: Variant, edition: Edition) -> str:
    measure = spec.measure
    moe = "share_moe" if measure == "share" else "moe"
    other = "value" if measure == "share" else "share"
    return (
        "WITH editions AS (\n"
        f"  SELECT f.period_start, f.period_end, f.{measure} AS value, f.{moe} AS moe, f.{other} AS {'level' if measure == 'share' else 'share'},\n"
        "         f.qualifier, f.numerator, f.denominator, f.label, f.source AS edition, s.published AS edition_published\n"
        "  FROM figures AS f JOIN sources AS s ON s.id = f.source\n"
        f"  WHERE f.metric = {sql_str(spec.figure_metric)} AND f.variant = {sql_str(variant.name)}\n"
        f"    AND f.{measure} IS NOT NULL AND {edition.condition('s.published', 'f.source')}\n"
        "), current AS (\n"
        "  SELECT * FROM editions\n"
        "  QUALIFY row_number() OVER (PARTITION BY period_start, period_end\n"
        "                             ORDER BY edition_published DESC NULLS LAST, edition DESC) = 1\n"
        ")\n"
    )


def _d(x: dt.date) -> str:
    return f"DATE {sql_str(x.isoformat())}"


def _headline_sql(spec: Spec, base: str, req: Period | None) -> tuple[str, str]:
    """SQL of the single answer, and a note on how it was chosen."""
    cols = "SELECT *"
    if req is None:
        if spec.kind == "rate":
            return base + f"{cols} FROM current ORDER BY period_end DESC, period_end - coalesce(period_start, period_end) DESC LIMIT 1", \
                "no period given: the latest figure"
        return base + f"{cols} FROM current ORDER BY period_end DESC, coalesce(period_start, period_end) DESC LIMIT 1", \
            "no period given: the latest figure"
    if spec.kind == "stock":
        if req.is_date:
            return base + f"{cols} FROM current WHERE period_end <= {_d(req.end)} ORDER BY period_end DESC LIMIT 1", \
                f"the latest figure on or before {req.end.isoformat()}"
        return base + (f"{cols} FROM current WHERE period_end BETWEEN {_d(req.start)} AND {_d(req.end)} "
                       "ORDER BY period_end DESC LIMIT 1"), "the latest figure within the period (a level at its date)"
    if spec.kind == "rate":
        start = req.start or req.end
        return base + (
            f"SELECT *, (least(period_end, {_d(req.end)}) - greatest(period_start, {_d(start)}) + 1)::DOUBLE\n"
            f"       / (greatest(period_end, {_d(req.end)}) - least(period_start, {_d(start)}) + 1) AS match\n"
            f"FROM current WHERE period_start <= {_d(req.end)} AND period_end >= {_d(start)}\n"
            "ORDER BY match DESC, edition_published DESC NULLS LAST LIMIT 1"
        ), "the published figure whose span best matches the period (largest overlap ÷ union)"
    return base + (
        f"SELECT sum(value) AS value, count(*) AS figures, min(period_start) AS period_start, max(period_end) AS period_end\n"
        f"FROM current WHERE period_start >= {_d(req.start)} AND period_end <= {_d(req.end)}"
    ), "the sum of the figures lying wholly inside the period"


def _rows_sql(spec: Spec, base: str, req: Period | None, by: str) -> str:
    if req is None:
        where = "TRUE"
    elif spec.kind == "flow":
        where = f"period_start >= {_d(req.start)} AND period_end <= {_d(req.end)}"
    elif spec.kind == "stock" and req.is_date:
        where = f"period_end <= {_d(req.end)}"
    elif spec.kind == "stock":
        where = f"period_end BETWEEN {_d(req.start)} AND {_d(req.end)}"
    else:
        where = f"period_start <= {_d(req.end)} AND period_end >= {_d(req.start or req.end)}"
    if by == "period":
        return base + f"SELECT * FROM current WHERE {where} ORDER BY period_end, period_start"
    fy_end = FY_SQL.format(d="period_end")
    if spec.kind == "flow":
        return base + (
            f"SELECT {fy_end} AS fiscal_year, sum(value) AS value, count(*) AS figures,\n"
            "       list_sort(list(DISTINCT edition)) AS editions FROM current\n"
            f"WHERE {where} AND {FY_SQL.format(d='period_start')} = {fy_end}\nGROUP BY 1 ORDER BY 1"
        )
    order = "period_end DESC" if spec.kind == "stock" else "period_end - coalesce(period_start, period_end) DESC"
    return base + (
        f"SELECT {fy_end} AS fiscal_year, * FROM current WHERE {where}"
        + (f" AND {FY_SQL.format(d='period_start')} = {fy_end}" if spec.kind == "rate" else "")
        + f"\nQUALIFY row_number() OVER (PARTITION BY {fy_end} ORDER BY {order}) = 1 ORDER BY 1"
    )


def _spans(store: Store, base: str) -> str:
    rows = store.query(base + "SELECT DISTINCT period_start, period_end FROM current ORDER BY period_end, period_start")
    return ", ".join(describe_span(r["period_start"], r["period_end"]) for r in rows) or "none"


def _flow_coverage(store: Store, base: str, req: Period) -> tuple[list[str], bool]:
    """Notes on figures only partly inside the period, and on stretches no figure covers."""
    notes: list[str] = []
    rows = store.query(base + (
        f"SELECT period_start, period_end, value FROM current WHERE period_start <= {_d(req.end)} "
        f"AND period_end >= {_d(req.start)} ORDER BY period_start"))
    inside = [(r["period_start"], r["period_end"]) for r in rows if r["period_start"] >= req.start and r["period_end"] <= req.end]
    for r in rows:
        if not (r["period_start"] >= req.start and r["period_end"] <= req.end):
            notes.append(f"{describe_span(r['period_start'], r['period_end'])} ({number(r['value'], 'count'):,}) lies only "
                         "partly inside the period — left out (a figure counts only if the period covers all of it)")
    gaps, cursor = [], req.start
    for a, b in sorted(inside):
        if a > cursor:
            gaps.append((cursor, a - dt.timedelta(days=1)))
        cursor = max(cursor, b + dt.timedelta(days=1))
    if cursor <= req.end:
        gaps.append((cursor, req.end))
    if gaps:
        notes.append("no figure covers " + ", ".join(f"{a.isoformat()}..{b.isoformat()}" for a, b in gaps))
    return notes, not notes


def _qualifier(quals: list[str]) -> str:
    q = set(quals) - {"exact", None, ""}
    if not q:
        return "exact"
    return q.pop() if len(q) == 1 else "approx"


def _components(row: dict[str, Any], spec: Spec) -> dict[str, Any]:
    comp: dict[str, Any] = {"qualifier": row.get("qualifier") or "exact", "label": row.get("label"), "edition": row.get("edition")}
    if row.get("moe") is not None:
        comp["margin_of_error"] = number(row["moe"], spec.unit)
    if row.get("share") is not None:
        comp["share"] = float(row["share"])
    if row.get("level") is not None:
        comp["level"] = number(row["level"], "count")
    return comp


def _row_out(r: dict[str, Any], spec: Spec, by: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if by == "fiscal_year":
        out["fiscal_year"] = int(r["fiscal_year"])
    if "period_start" in r:
        out["period_start"] = r["period_start"].isoformat() if r["period_start"] else None
        out["period_end"] = r["period_end"].isoformat()
        out["span"] = describe_span(r["period_start"], r["period_end"])
    out["value"] = number(r["value"], spec.unit)
    for k in ("qualifier", "label", "edition", "editions"):
        if r.get(k) is not None:
            out[k] = r[k]
    if r.get("figures") is not None:
        out["figures"] = int(r["figures"])
    return out


def compute(spec: Spec, store: Store, edition: Edition, *, period: Any, by: Any, where: Any,
            variant: str | None, execute: bool = True):
    """Compute a published-figure metric (see the module docstring); ``execute=False`` returns the SQL."""
    v = spec.variant(variant)
    if parse_where(where):
        raise InvalidQueryError(f"{spec.id} has no filters", "its figures are national totals; drop --where")
    by_dims = parse_by(by, spec)
    if len(by_dims) > 1:
        raise InvalidQueryError(f"{spec.id} can be grouped by one of period, fiscal_year", "give a single --by")
    by_dim = by_dims[0] if by_dims else None
    _check_edition(spec, v, store, edition)
    req = parse_period(period)
    if req is not None and req.is_date and spec.kind == "flow":
        raise PeriodError(
            f"{spec.id} is a count over a period; {req.text!r} is a single day",
            "give a range, e.g. FY2023, FY2021..FY2023 or biden",
        )
    base = _base_sql(spec, v, edition)
    head_sql, how = _headline_sql(spec, base, req)
    rows_sql = _rows_sql(spec, base, req, by_dim) if by_dim else None
    sql = head_sql if rows_sql is None else rows_sql + ";\n\n-- the single value:\n" + head_sql
    if not execute:
        return sql
    head = store.query(head_sql)
    if not head or head[0].get("value") is None:
        if edition.mode == "as-of" and _spans(store, base) == "none":
            first = store.query(
                "SELECT min(s.published) AS first FROM figures AS f JOIN sources AS s ON s.id = f.source "
                "WHERE f.metric = ? AND f.variant = ?", [spec.figure_metric, v.name])
            raise PeriodError(
                f"no edition of {spec.id} ({v.name}) was published on or before {edition.as_of.isoformat()}",
                f"the earliest bundled edition is of {first[0]['first']}; use a later --as-of or --edition latest",
            )
        raise PeriodError(
            f"{spec.id} ({v.name}) has no figure for {req.text!r}" if req else f"{spec.id} ({v.name}) has no figures",
            f"its figures ({edition.describe()}): {_spans(store, base)}"
            + ("; a figure counts only if the period covers all of it" if spec.kind == "flow" else ""),
        )
    h = head[0]
    notes = [how]
    if req is not None:
        notes = [*req.notes, how]
    components: dict[str, Any] = {}
    numerator = denominator = None
    complete = True
    if spec.kind == "flow" and req is not None:
        detail = store.query(base + (
            f"SELECT * FROM current WHERE period_start >= {_d(req.start)} AND period_end <= {_d(req.end)} ORDER BY period_start"))
        cov_notes, complete = _flow_coverage(store, base, req)
        notes += cov_notes
        start, end = h["period_start"], h["period_end"]
        components = {"qualifier": _qualifier([d["qualifier"] for d in detail]), "figures": int(h["figures"])}
        if len(detail) == 1:
            components.update(_components(detail[0], spec))
            components["figures"] = 1
        sources = [d["edition"] for d in detail]
        notes += [f"{describe_span(d['period_start'], d['period_end'])}: {number(d['value'], spec.unit):,} "
                  f"({QUALIFIER_WORDS.get(d['qualifier'], 'exactly')}; {d['edition']})" for d in detail]
    else:
        start, end = h["period_start"], h["period_end"]
        components = _components(h, spec)
        sources = [h["edition"]]
        numerator, denominator = h.get("numerator"), h.get("denominator")
        notes.append(f"figure: {describe_span(start, end)} — {h.get('label') or ''} ({h['edition']})".replace(" —  (", " — ("))
        if req is not None:
            if spec.kind == "stock" and req.is_date:
                complete = end == req.end
                if not complete:
                    notes.append(f"the figure is dated {end.isoformat()}, not {req.end.isoformat()}")
            elif spec.kind == "stock" and end != req.end:
                notes.append(f"the figure is dated {end.isoformat()}, within the period (a level at its date)")
            else:
                complete = (start or end) == (req.start or req.end) and end == req.end
                if not complete:
                    notes.append(f"the published figure covers {describe_span(start, end)}, not exactly the period asked "
                                 f"({req.text}: {(req.start or req.end).isoformat()}..{req.end.isoformat()})")
    rows = None
    if rows_sql is not None:
        raw = store.query(rows_sql)
        rows = [_row_out(r, spec, by_dim) for r in raw]
        for r in raw:
            sources += r.get("editions") or ([r["edition"]] if r.get("edition") else [])
    kind = "date" if spec.kind == "stock" else "range"
    period_out = period_block(req, start if kind == "range" else None, end, req.text if req else "latest", kind, notes, complete)
    if spec.kind == "stock":
        period_out["date"] = end.isoformat()
    return make_result(
        spec, v, store, edition, value=h["value"], period=period_out, sql=sql, sources=sources,
        notes=notes, groups=[by_dim] if by_dim else [], rows=rows, components=components,
        numerator=numerator, denominator=denominator,
        rows_scanned=int(h["figures"]) if "figures" in h and h["figures"] is not None else 1,
    )


def _check_edition(spec: Spec, v: Variant, store: Store, edition: Edition) -> None:
    if edition.mode != "named":
        return
    rows = store.query(
        f"SELECT DISTINCT source FROM figures WHERE metric = {sql_str(spec.figure_metric)} AND variant = {sql_str(v.name)} ORDER BY 1")
    names = [r["source"] for r in rows]
    if edition.name not in names:
        raise InvalidQueryError(
            f"{spec.id} ({v.name}) has no edition {edition.name!r}",
            f"its editions: {', '.join(names)}",
        )
