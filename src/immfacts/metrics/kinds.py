"""Metric kinds: each turns a declared spec into an Ibis expression (``validate`` → ``build``).

The closed set:

``count``        rows of the metric's table in the universe whose date is in the period
``ratio``        numerator rows / denominator rows (both within the universe), e.g. grant rate
``share``        numerator rows / all universe rows (outcome shares)
``pending_at``   spells open at each as-of date with a status in ``statuses`` (stocks)
``median_days``  median and mean of (``days_to`` − ``days_from``) in days, flow or stock

Every kind returns one row per group with integer parts (``n`` or ``num``/``den``, plus one
``c__<value>`` per declared component); the ratio itself is computed in Python from those
integers, so DuckDB and Spark give bit-identical results. ``median_days`` returns the
distribution (days, count) and the median is computed in Python for the same reason.
Ibis is the only seam: nothing here knows which engine will run the expression.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from immfacts.metrics import dimensions as dims
from immfacts.metrics.query import ResolvedQuery
from immfacts.metrics.spec import KINDS, Condition, MetricSpec
from immfacts.periods import ADMINISTRATIONS

SPELL_COLUMNS = ("spell_start", "spell_end", "status")


def condition(t: ir.Table, c: Condition) -> ir.BooleanValue:
    """One declared filter as an Ibis predicate (NULL never matches, except ``null: true``)."""
    col = t[c.column]
    if c.op == "eq":
        return (col == c.value).fill_null(False)
    if c.op == "ne":
        return (col != c.value).fill_null(True) if c.value is not None else col.notnull()
    if c.op == "in":
        return col.isin(list(c.value)).fill_null(False)
    if c.op == "not_in":
        return col.notin(list(c.value)).fill_null(True)
    if c.op == "null":
        return col.isnull() if c.value else col.notnull()
    raise ValueError(f"unknown operator {c.op}")


def all_of(t: ir.Table, conds: tuple[Condition, ...]) -> ir.BooleanValue:
    pred = ibis.literal(True)
    for c in conds:
        pred = pred & condition(t, c)
    return pred


def dim_column(spec: MetricSpec, dim: str) -> str | None:
    """The model column a dimension reads for this metric."""
    d = dims.DIMENSIONS[dim]
    return spec.dimension_columns.get(dim, d.column)


def _time_columns(date: ir.DateValue) -> dict[str, ir.Value]:
    year, month = date.year(), date.month()
    admin_branches = []
    for key, (_label, start, end) in ADMINISTRATIONS.items():
        cond = date >= ibis.date(start.year, start.month, start.day)
        if end is not None:
            cond = cond & (date <= ibis.date(end.year, end.month, end.day))
        admin_branches.append((cond, key))
    return {
        "fy": (year + ibis.cases((month >= 10, 1), else_=0)).cast("int64"),
        "month": (year * 100 + month).cast("int64"),
        "administration": ibis.cases(*admin_branches, else_=ibis.null("string")),
    }


def frame(spec: MetricSpec, t: ir.Table, q: ResolvedQuery) -> tuple[ir.Table, list[str]]:
    """Rows in scope for the query, with one column per group; returns (table, group columns)."""
    t = t.filter(all_of(t, spec.universe))
    for dim, values in q.where.items():
        if dims.DIMENSIONS[dim].is_time:
            continue  # applied below (flows) or on the as-of dates (stocks)
        t = t.filter(t[dim_column(spec, dim)].isin(list(values)).fill_null(False))
    schema = t.schema()
    if q.is_stock:
        t = t.filter(t.status.isin(list(spec.statuses)))
        if len(q.dates) == 1:
            # one as-of date (the common case): a plain filter, no join
            d = q.dates[0]
            as_of = ibis.date(d.year, d.month, d.day)
            t = t.filter(t.spell_start <= as_of, t.spell_end.isnull() | (as_of < t.spell_end)).mutate(as_of=as_of)
        else:
            dates = ibis.memtable({"as_of": q.dates}, schema={"as_of": "date"})
            t = t.inner_join(
                dates, [t.spell_start <= dates.as_of, t.spell_end.isnull() | (dates.as_of < t.spell_end)]
            )
        timecol = t.as_of
    else:
        timecol = t[spec.date]
        p = q.period
        start = p.start or p.end
        t = t.filter(
            timecol.notnull(),
            timecol >= ibis.date(start.year, start.month, start.day),
            timecol <= ibis.date(p.end.year, p.end.month, p.end.day),
        )
        timecol = t[spec.date]
    times = _time_columns(timecol)
    if not q.is_stock:
        for dim in ("fy", "month", "administration"):
            if dim in q.where:
                t = t.filter(times[dim].isin(list(q.where[dim])).fill_null(False))
        times = _time_columns(t[spec.date])
    groups: dict[str, ir.Value] = {}
    for dim in q.by:
        if dims.DIMENSIONS[dim].is_time:
            groups[dim] = times[dim]
        else:
            col = dim_column(spec, dim)
            groups[dim] = t[col]
            if f"{col}_name" in schema:
                groups[f"{dim}_name"] = t[f"{col}_name"]
    extra: dict[str, ir.Value] = {}
    if spec.kind == "median_days":
        to = t.as_of if (q.is_stock and spec.days_to in (None, "as_of")) else t[spec.days_to]
        extra["days"] = to.delta(t[spec.days_from], unit="day")
    return t.mutate(**groups, **extra), list(groups)


def _flag(pred: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.cases((pred, 1), else_=0).cast("int64")


def component_values(spec: MetricSpec) -> list[Any]:
    return list((spec.components or {}).get("values") or [])


def build(spec: MetricSpec, t: ir.Table, q: ResolvedQuery) -> ir.Table:
    """The aggregate expression of one resolved query (one row per group)."""
    f, groups = frame(spec, t, q)
    aggs: dict[str, ir.Value] = {}
    comp_col = (spec.components or {}).get("column")
    base_pred: ir.BooleanValue | None = None  # None = every row in the frame

    def count(pred: ir.BooleanValue | None) -> ir.IntegerValue:
        return f.count() if pred is None else _flag(pred).sum()

    if spec.kind in ("count", "pending_at"):
        aggs["n"] = count(None)
    elif spec.kind in ("ratio", "share"):
        den = all_of(f, spec.denominator) if (spec.kind == "ratio" and spec.denominator) else None
        num = all_of(f, spec.numerator)
        aggs["num"] = count(num if den is None else den & num)
        aggs["den"] = count(den)
        base_pred = den
    elif spec.kind == "median_days":
        f = f.filter(f.days.notnull())
        keys = [*groups, "days"]
        return f.group_by(keys).aggregate(n=f.count()).order_by(keys)
    if comp_col:
        for i, v in enumerate(component_values(spec)):
            is_v = (f[comp_col] == v).fill_null(False)
            aggs[f"c__{i}"] = count(is_v if base_pred is None else base_pred & is_v)
    expr = f.group_by(groups).aggregate(**aggs) if groups else f.aggregate(**aggs)
    return expr.order_by(groups) if groups else expr


def validate(spec: MetricSpec, schemas: dict[str, Any]) -> list[str]:
    """Every problem of one resolved spec against the model schemas (empty list = valid)."""
    issues: list[str] = []
    where = f"{spec.id}" + (f" [{spec.variant}]" if spec.variant else "")
    if spec.kind not in KINDS:
        return [f"{where}: unknown kind {spec.kind!r} (kinds: {', '.join(KINDS)})"]
    if spec.table not in schemas:
        return [f"{where}: unknown model table {spec.table!r} (tables: {', '.join(schemas)})"]
    cols = schemas[spec.table]

    def need(col: str | None, what: str) -> None:
        if not col:
            issues.append(f"{where}: {what} is missing")
        elif col not in cols:
            issues.append(f"{where}: {what} {col!r} is not a column of model table {spec.table!r}")

    for group in ("universe", "numerator", "denominator"):
        for c in getattr(spec, group):
            need(c.column, f"{group} column")
    stock = spec.timing == "stock"
    if spec.timing not in ("flow", "stock"):
        issues.append(f"{where}: timing must be flow or stock, not {spec.timing!r}")
    if stock:
        for c in SPELL_COLUMNS:
            need(c, "spell column")
        if not spec.statuses:
            issues.append(f"{where}: a stock needs `statuses` (active / inactive)")
    else:
        need(spec.date, "date column")
    if spec.kind == "pending_at" and not stock:
        issues.append(f"{where}: kind pending_at is a stock (timing: stock)")
    if spec.kind in ("ratio",) and not spec.denominator and not spec.numerator:
        issues.append(f"{where}: a ratio needs a numerator and/or denominator filter")
    if spec.kind == "share" and not spec.numerator:
        issues.append(f"{where}: a share needs a numerator filter")
    if spec.kind == "median_days":
        need(spec.days_from, "days_from")
        if not (stock and spec.days_to in (None, "as_of")):
            need(spec.days_to, "days_to")
    if spec.components is not None:
        if not isinstance(spec.components, dict) or "column" not in spec.components:
            issues.append(f"{where}: components must be {{column: ..., values: [...]}}")
        else:
            need(spec.components.get("column"), "components column")
            if not spec.components.get("values"):
                issues.append(f"{where}: components need a list of values")
    for d in spec.dimensions:
        if d not in dims.DIMENSIONS:
            issues.append(f"{where}: unknown dimension {d!r} (dimensions: {', '.join(dims.DIMENSIONS)})")
        elif not dims.DIMENSIONS[d].is_time:
            need(dim_column(spec, d), f"dimension {d!r} column")
    for d in spec.required_groups:
        if d not in spec.dimensions:
            issues.append(f"{where}: required group {d!r} is not one of its dimensions")
    if spec.suppression is not None:
        s = spec.suppression
        if not isinstance(s, dict) or not isinstance(s.get("min_denominator"), int):
            issues.append(f"{where}: suppression needs an integer min_denominator")
        if spec.kind not in ("ratio", "share"):
            issues.append(f"{where}: suppression applies to ratios only")
    if spec.unit == "percent" and spec.kind not in ("ratio", "share"):
        issues.append(f"{where}: unit percent needs kind ratio or share")
    if spec.unit == "days" and spec.kind != "median_days":
        issues.append(f"{where}: unit days needs kind median_days")
    if spec.unit == "count" and spec.kind not in ("count", "pending_at"):
        issues.append(f"{where}: unit count needs kind count or pending_at")
    return issues


def interpret(spec: MetricSpec, df: Any, groups: list[str]) -> list[dict[str, Any]]:
    """Rows of numbers (value, parts, components) from an executed expression's DataFrame."""
    records = df.to_dict("records")
    comps = component_values(spec)
    out: list[dict[str, Any]] = []
    if spec.kind == "median_days":
        by_group: dict[tuple, list[tuple[int, int]]] = {}
        for r in records:
            by_group.setdefault(tuple(r[g] for g in groups), []).append((int(r["days"]), int(r["n"])))
        if not groups and not by_group:
            by_group[()] = []
        for key, dist in by_group.items():
            row = {g: _py(v) for g, v in zip(groups, key, strict=True)}
            row.update(_days_stats(dist))
            out.append(row)
        return out
    for r in records:
        row = {g: _py(r[g]) for g in groups}
        if spec.kind in ("count", "pending_at"):
            n = _int(r["n"])
            row.update(value=n, numerator=n, denominator=None)
            total = n
        else:
            num, den = _int(r["num"]), _int(r["den"])
            row.update(value=(num / den) if den else None, numerator=num, denominator=den)
            total = den
        if comps:
            cd: dict[str, Any] = {}
            for i, v in enumerate(comps):
                cd[str(v)] = _int(r[f"c__{i}"])
            for v in comps:
                cd[f"{v}_share"] = (cd[str(v)] / total) if total else None
            row["components"] = cd
        else:
            row["components"] = {}
        out.append(row)
    return out


def _int(v: Any) -> int:
    return 0 if v is None or v != v else int(v)


def _py(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "date") and callable(v.date) and type(v).__name__ in ("Timestamp", "datetime"):
        return v.date().isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _days_stats(dist: list[tuple[int, int]]) -> dict[str, Any]:
    """Median (mid-point of the two middle values for an even count), mean and n."""
    dist = sorted(dist)
    n = sum(c for _d, c in dist)
    if n == 0:
        return {"value": None, "numerator": None, "denominator": 0,
                "components": {"median_days": None, "mean_days": None, "n": 0}}

    def kth(k: int) -> int:
        seen = 0
        for d, c in dist:
            seen += c
            if seen > k:
                return d
        return dist[-1][0]

    median = (kth((n - 1) // 2) + kth(n // 2)) / 2
    total = sum(d * c for d, c in dist)
    mean = total / n
    return {"value": median, "numerator": total, "denominator": n,
            "components": {"median_days": median, "mean_days": mean, "n": n}}
