"""CBP encounters: one metric answered from four CBP tables, month by month.

CBP publishes encounters in tables of different shapes, and no single one covers everything:

| table (family)     | grain  | covers            | dimensions                                         | fixed scope |
|--------------------|--------|-------------------|----------------------------------------------------|-------------|
| ``nationwide``     | month  | FY2020 → latest   | region, state, demographic, citizenship, title     | —           |
| ``sbo``            | month  | FY2019 → FY2025   | component, demographic, citizenship_group, title, encounter_type | region = southwest_land_border |
| ``usbp_sectors``   | month  | FY2000 → FY2020   | region, sector                                     | component = USBP |
| ``enforcement_fy`` | FY     | FY2017 → FY2024   | component                                          | —           |

A query (filters, groups, period) is planned like this: the tables that can answer it are
those having every dimension it groups or filters by, and whose fixed scope the query asks
for (the ``sbo`` table answers only southwest-border questions). Each whole month of the
period is then taken from the first such table, in the order above, that has the month; a
whole fiscal year no monthly table has may come from the fiscal-year table. Within a table
the **newest release wins** month by month (or the edition chosen). One SQL statement —
kept in the result — sums the chosen rows. Months that no table has are named in the notes.

Variants are named scopes (``nationwide`` — the default —, ``southwest_land_border``,
``southwest_land_border_usbp``, ``northern_land_border``, ``usbp``); ``region=nationwide``
means every region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from immfacts.errors import InvalidQueryError, PeriodError
from immfacts.periods import Period, fy, fy_end, fy_start, parse_period
from immfacts.reference import coverage as cov
from immfacts.reference.editions import Edition
from immfacts.reference.results import make_result, period_block
from immfacts.reference.specs import (
    NATIONWIDE,
    Spec,
    Variant,
    canonical_value,
    dimension,
    parse_by,
    parse_where,
)
from immfacts.reference.store import FAMILY_TABLES, Store, sql_str

TIME_DIMS = ("fiscal_year", "month", "calendar_year")


@dataclass(frozen=True)
class Table:
    """One CBP table shape: what it can be grouped or filtered by, and its fixed scope."""

    family: str
    grain: str  # month | fiscal_year
    columns: frozenset[str]
    constants: tuple[tuple[str, str], ...]
    label: str

    @property
    def fixed(self) -> dict[str, str]:
        """The fixed scope of the table as a dict (e.g. region = southwest_land_border)."""
        return dict(self.constants)

    def has(self, dim: str) -> bool:
        """True if the table can group or filter by ``dim`` (as a column or its fixed scope)."""
        return dim in self.columns or dim in self.fixed

    def can_answer(self, dims: set[str], filters: dict[str, list[str]]) -> bool:
        """True if the table has every dimension used and the query asks for its fixed scope."""
        if not all(self.has(d) for d in dims):
            return False
        return all(filters.get(d) == [v] for d, v in self.constants)


MONTHLY = frozenset({"fiscal_year", "month", "calendar_year"})
TABLES: tuple[Table, ...] = (
    Table("nationwide", "month", MONTHLY | {"region", "state", "demographic", "citizenship", "title"}, (),
          "CBP nationwide encounters by state"),
    Table("sbo", "month", MONTHLY | {"component", "demographic", "citizenship_group", "title", "encounter_type"},
          (("region", "southwest_land_border"),), "CBP southwest land border encounters by component"),
    Table("usbp_sectors", "month", MONTHLY | {"region", "sector"}, (("component", "USBP"),),
          "USBP monthly encounters by sector"),
    Table("enforcement_fy", "fiscal_year", frozenset({"fiscal_year", "component"}), (),
          "CBP enforcement statistics by fiscal year"),
)


@dataclass
class Plan:
    """Which table answers which months (or fiscal years) of a query, and the SQL."""

    months: dict[str, list[dt.date]] = field(default_factory=dict)
    years: dict[str, list[int]] = field(default_factory=dict)
    releases: dict[str, list[str]] = field(default_factory=dict)
    uncovered: list[dt.date] = field(default_factory=list)
    sql: str = ""


# --- data-dependent facts (cached per store) -------------------------------------------------
def _cte(store: Store, table: Table, edition: Edition) -> str:
    rows = FAMILY_TABLES[table.family]
    key = "fiscal_year" if table.grain == "fiscal_year" else "month"
    family_ids = {r.id for r in store.releases if r.family == table.family}
    applies = edition.mode != "named" or edition.name in family_ids
    cond = edition.condition("c.published", "c.release_id") if applies else "TRUE"
    return (
        f"{table.family} AS (\n    SELECT r.* FROM {rows} AS r JOIN cbp_releases AS c ON c.release_id = r.release_id\n"
        f"    WHERE {cond}\n    QUALIFY c.rank = max(c.rank) OVER (PARTITION BY r.{key})\n  )"
    )


def _coverage(store: Store, table: Table, edition: Edition) -> dict[Any, str]:
    """Month (or fiscal year) → the release that answers it, under the edition choice."""
    cache = store.__dict__.setdefault("_cbp_coverage", {})
    key = (table.family, edition)
    if key not in cache:
        unit = "fiscal_year" if table.grain == "fiscal_year" else "month"
        rows = store.query(f"WITH {_cte(store, table, edition)}\nSELECT DISTINCT {unit} AS unit, release_id FROM {table.family}")
        cache[key] = {r["unit"]: r["release_id"] for r in rows}
    return cache[key]


def known_values(store: Store, dim: str) -> set[str]:
    """The values of a categorical dimension present in the data (cached per store)."""
    cache = store.__dict__.setdefault("_cbp_values", {})
    if dim not in cache:
        values: set[str] = set()
        for t in TABLES:
            if dim in t.columns and dim not in MONTHLY:
                rows = store.query(f"SELECT DISTINCT {dim} AS v FROM {FAMILY_TABLES[t.family]} WHERE {dim} IS NOT NULL")
                values.update(r["v"] for r in rows)
            if dim in t.fixed:
                values.add(t.fixed[dim])
        values.discard("ALL")  # the fiscal-year table's printed totals, not a component
        cache[dim] = values
    return cache[dim]


# --- query terms -----------------------------------------------------------------------------
def resolve_filters(spec: Spec, variant: Variant, where: Any, store: Store) -> dict[str, list[str]]:
    """Variant scope + user filters, canonical and validated; ``region=nationwide`` removed."""
    merged: dict[str, list[str]] = {d: [v] for d, v in variant.where.items()}
    for raw_dim, values in parse_where(where).items():
        d = dimension(raw_dim, spec)
        if d in TIME_DIMS:
            raise InvalidQueryError(f"filter on {d} is not supported", "choose the time window with --period instead")
        vals = []
        known = known_values(store, d)
        for v in values:
            c = canonical_value(d, v, known)
            if c != NATIONWIDE and c not in known:
                choices = sorted(known) + (["nationwide"] if d == "region" else [])
                raise InvalidQueryError(
                    f"{d}={v!r} is not a value of cbp.encounters",
                    f"choose from {', '.join(choices[:30])}{' …' if len(choices) > 30 else ''}",
                )
            vals.append(c)
        if d in merged and sorted(merged[d]) != sorted(set(vals)):
            raise InvalidQueryError(
                f"the filter {d}={'|'.join(vals)} contradicts variant {variant.name!r} ({d}={merged[d][0]})",
                "drop the filter or choose another variant (--variant nationwide has no filters)",
            )
        merged[d] = sorted(set(vals))
    region = merged.get("region")
    if region and NATIONWIDE in region:
        if len(region) > 1:
            raise InvalidQueryError("region=nationwide already includes every region", "give nationwide alone")
        del merged["region"]
    return merged


def _no_table_error(dims: set[str], filters: dict[str, list[str]]) -> InvalidQueryError:
    shapes = "; ".join(
        f"{t.label}: {', '.join(sorted(t.columns - MONTHLY))}"
        + (f" (only {', '.join(f'{d}={v}' for d, v in t.constants)})" if t.constants else "")
        for t in TABLES
    )
    asked = ", ".join(sorted(dims | set(filters))) or "nothing"
    return InvalidQueryError(
        f"no CBP table can answer a query on {asked}",
        f"CBP's tables are — {shapes}",
    )


# --- planning --------------------------------------------------------------------------------
def _candidates(dims: set[str], filters: dict[str, list[str]]) -> list[Table]:
    return [t for t in TABLES if t.can_answer(dims, filters)]


def _describe_coverage(store: Store, tables: list[Table], edition: Edition) -> str:
    months: set[dt.date] = set()
    years: set[int] = set()
    for t in tables:
        if t.grain == "month":
            months.update(_coverage(store, t, edition))
        else:
            years.update(_coverage(store, t, edition))
    years = {y for y in years if not set(cov.fiscal_year_months(y)) <= months}
    parts = []
    if years:
        parts.append(f"fiscal-year totals for {cov.describe_years(years)}")
    if months:
        parts.append(f"months {cov.describe_months(months)}")
    return " and ".join(parts) or "no data"


def _default_period(store: Store, tables: list[Table], edition: Edition, by: list[str]) -> Period:
    months: set[dt.date] = set()
    years: set[int] = set()
    for t in tables:
        (months if t.grain == "month" else years).update(_coverage(store, t, edition))
    if by:
        starts = [min(months)] if months else []
        ends = [cov.month_end(max(months))] if months else []
        if years:
            starts.append(fy_start(min(years)))
            ends.append(fy_end(max(years)))
        return Period(min(starts), max(ends), "all available", "range",
                      ("no period given: everything available for this scope",))
    complete = [y for y in range(2100, 1990, -1) if set(cov.fiscal_year_months(y)) <= months or y in years]
    if not complete:
        raise PeriodError("cbp.encounters has no complete fiscal year for this scope", "give a --period")
    y = complete[0]
    return Period(fy_start(y), fy_end(y), f"FY{y}", "range",
                  (f"no period given: the latest complete fiscal year, FY{y}",))


def plan(store: Store, tables: list[Table], months: list[dt.date], edition: Edition) -> Plan:
    """Assign each month to the first table that has it; whole uncovered FYs to a FY table."""
    p = Plan()
    left = list(months)
    for t in (t for t in tables if t.grain == "month"):
        have = _coverage(store, t, edition)
        take = [m for m in left if m in have]
        if take:
            p.months[t.family] = take
            p.releases[t.family] = sorted({have[m] for m in take})
            left = [m for m in left if m not in have]
    wanted = set(months)
    for t in (t for t in tables if t.grain == "fiscal_year"):
        have = _coverage(store, t, edition)
        for y in sorted({fy(m) for m in left}):
            fy_months = set(cov.fiscal_year_months(y))
            if y in have and fy_months <= wanted and fy_months <= set(left):
                p.years.setdefault(t.family, []).append(y)
                p.releases.setdefault(t.family, [])
                if have[y] not in p.releases[t.family]:
                    p.releases[t.family].append(have[y])
                left = [m for m in left if m not in fy_months]
    p.uncovered = left
    return p


def _select_list(table: Table, by: list[str]) -> list[str]:
    out = []
    for d in by:
        if d == "month":
            out.append("strftime(month, '%Y-%m') AS month")
        elif d == "calendar_year":
            out.append("year(month) AS calendar_year")
        elif d in table.fixed:
            out.append(f"{sql_str(table.fixed[d])} AS {d}")
        else:
            out.append(d)
    return out


def _branch(table: Table, p: Plan, by: list[str], filters: dict[str, list[str]]) -> str:
    conds = []
    if table.grain == "month":
        ranges = [
            f"month BETWEEN DATE {sql_str(a.isoformat())} AND DATE {sql_str(b.isoformat())}"
            for a, b in cov.runs(p.months[table.family])
        ]
        conds.append("(" + " OR ".join(ranges) + ")" if len(ranges) > 1 else ranges[0])
    else:
        conds.append(f"fiscal_year IN ({', '.join(str(y) for y in p.years[table.family])})")
        # the fiscal-year table has CBP's printed totals as component 'ALL' (they do not
        # always equal OFO + USBP); use them unless the query splits or filters by component
        conds.append("component <> 'ALL'" if ("component" in by or "component" in filters) else "component = 'ALL'")
    for d, vals in sorted(filters.items()):
        if d in table.fixed:
            continue
        conds.append(f"{d} IN ({', '.join(sql_str(v) for v in vals)})")
    cols = ", ".join([*_select_list(table, by), "encounters"])
    where = "\n      AND ".join(conds)
    return f"    SELECT {cols}\n    FROM {table.family}\n    WHERE {where}"


def build_sql(store: Store, tables: list[Table], p: Plan, by: list[str], filters: dict[str, list[str]],
              edition: Edition) -> str:
    """The one SQL statement that sums the planned rows (grouped by ``by``)."""
    used = [t for t in tables if t.family in p.months or t.family in p.years]
    ctes = ",\n  ".join(_cte(store, t, edition) for t in used)
    union = "\n    UNION ALL\n".join(_branch(t, p, by, filters) for t in used)
    if by:
        cols = ", ".join(by)
        return (f"WITH\n  {ctes}\nSELECT {cols}, sum(encounters) AS value, count(*) AS rows_scanned\nFROM (\n{union}\n) AS t\n"
                f"GROUP BY {cols}\nORDER BY {cols}")
    return f"WITH\n  {ctes}\nSELECT sum(encounters) AS value, count(*) AS rows_scanned\nFROM (\n{union}\n) AS t"


# --- computing -------------------------------------------------------------------------------
def compute(spec: Spec, store: Store, edition: Edition, *, period: Any, by: Any, where: Any,
            variant: str | None, execute: bool = True):
    """Compute cbp.encounters (see the module docstring); ``execute=False`` only plans (explain)."""
    v = spec.variant(variant)
    by_dims = parse_by(by, spec)
    filters = resolve_filters(spec, v, where, store)
    if edition.mode == "named" and edition.name not in {r.id for r in store.releases}:
        raise InvalidQueryError(
            f"cbp.encounters has no edition {edition.name!r}",
            "editions are CBP release ids: " + ", ".join(r.id for r in store.releases),
        )
    dims = set(by_dims) | set(filters)
    tables = _candidates(dims, filters)
    if not tables:
        raise _no_table_error(set(by_dims), filters)
    requested = parse_period(period)
    if requested is None:
        resolved = _default_period(store, tables, edition, by_dims)
        requested_block = None
    else:
        if requested.is_date:
            raise PeriodError(
                f"cbp.encounters is a count over a period; {requested.text!r} is a single day",
                "give a range: a month (2024-03), a fiscal year (FY2024), a range (2021-02..2024-04) or an administration (biden)",
            )
        resolved, requested_block = requested, requested
    months, partial = cov.whole_months(resolved)
    notes = [*resolved.notes, *partial]
    if not months:
        raise PeriodError(
            f"the period {resolved.text!r} does not cover any whole month",
            f"CBP publishes encounters by month ({cov.RULE}); give a longer period",
        )
    p = plan(store, tables, months, edition)
    if not p.months and not p.years:
        raise PeriodError(
            f"cbp.encounters ({_scope_text(filters)}) has no data for {resolved.text!r}",
            f"for this scope the reference data covers {_describe_coverage(store, tables, edition)}",
        )
    if p.uncovered:
        notes.append(f"no data for {cov.describe_months(p.uncovered)} in this scope — not counted "
                     f"(coverage: {_describe_coverage(store, tables, edition)})")
    p.sql = build_sql(store, tables, p, by_dims, filters, edition)
    if not execute:
        return p.sql
    out = store.query(p.sql)
    if by_dims:
        rows = [{**{d: r[d] for d in by_dims}, "value": int(r["value"])} for r in out]
        value = sum(r["value"] for r in rows)
        scanned = sum(int(r["rows_scanned"]) for r in out)
    else:
        rows = None
        value = int(out[0]["value"] or 0)
        scanned = int(out[0]["rows_scanned"])
    used_months = [m for ms in p.months.values() for m in ms] + [
        m for ys in p.years.values() for y in ys for m in cov.fiscal_year_months(y)]
    first, last = min(used_months), max(used_months)
    source_notes = []
    for t in tables:
        if t.family in p.months or t.family in p.years:
            span = cov.describe_months(p.months[t.family]) if t.family in p.months else cov.describe_years(p.years[t.family])
            several = sum(r.family == t.family for r in store.releases) > 1
            source_notes.append(f"{span}: {t.label} (release {', '.join(p.releases[t.family])}"
                                + ("; newest release wins)" if several else ")"))
            for y in p.years.get(t.family, []):
                source_notes.extend(n for r in store.releases if r.family == t.family for n in r.notes if f"FY{y} " in n)
    complete = not p.uncovered and not partial
    period_out = period_block(requested_block, first, cov.month_end(last), resolved.text, "range", notes, complete)
    sources = [s for fam in p.releases for s in _release_sources(store, p.releases[fam])]
    shown_filters = {d: (vals[0] if len(vals) == 1 else vals) for d, vals in filters.items()}
    if "region" not in shown_filters:
        shown_filters["region"] = NATIONWIDE
    return make_result(
        spec, v, store, edition, value=value, period=period_out, sql=p.sql, sources=sources,
        notes=[*notes, *source_notes], filters=shown_filters, groups=by_dims, rows=rows, rows_scanned=scanned,
    )


def _release_sources(store: Store, release_ids: list[str]) -> list[str]:
    by_id = {r.id: r.source for r in store.releases}
    return [by_id[r] for r in release_ids]


def _scope_text(filters: dict[str, list[str]]) -> str:
    if not filters:
        return "nationwide"
    return ", ".join(f"{d}={'|'.join(v)}" for d, v in sorted(filters.items()))
