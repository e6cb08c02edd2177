"""``immfacts reference check``: is the bundle whole, cited and consistent?

Problems (any one makes ``ok`` false):

* a figure or CBP release names a source missing from ``sources.yaml``, or a source lacks
  publisher, title, URL, publication date (or a note saying it is not recorded), retrieval
  date or licence;
* a CBP table file is missing, its SHA-256 or row count differs from the manifest, or its
  fiscal-year totals differ from those recorded when it was built;
* a figure is malformed: unknown metric or variant, a span ending before it starts, a stock
  with a start date, a flow without one, a share outside [0, 1], a value that disagrees with
  its numerator ÷ denominator, an unknown qualifier, or two flow figures of one edition
  overlapping;
* the catalogue is malformed (no or several default variants, a series naming a missing metric).

Reported for information (not problems): **differences between overlapping CBP releases**
(per month: each release's total and the number of rows that differ — the newest release
wins), and **cross-source consistency** (southwest-border totals in the nationwide vs the
component files, USBP totals in the sector file vs CBP's fiscal-year table, …).
"""

from __future__ import annotations

from typing import Any

from immfacts.errors import ReferenceDataError
from immfacts.reference.specs import series, specs
from immfacts.reference.store import (
    FAMILY_TABLES,
    SOURCE_FIELDS,
    Release,
    Store,
    get_store,
    load_releases,
    release_rank_key,
    sha256_file,
)

QUALIFIERS = {"exact", "approx", "more_than", "less_than", "nearly", "at_least"}


def _source_problems(store: Store) -> list[dict[str, Any]]:
    probs = []
    for sid, s in store.sources.items():
        missing = [f for f in SOURCE_FIELDS if f != "published" and not s.get(f)]
        if "published" not in s:
            missing.append("published")
        elif not s.get("published") and "not recorded" not in str(s.get("notes", "")).lower():
            missing.append("published (or a note saying it is not recorded)")
        if missing:
            probs.append({"kind": "citation", "item": sid, "detail": f"source lacks {', '.join(missing)}"})
    rows = store.query(
        "SELECT f.metric, f.variant, f.source, count(*) AS n FROM figures AS f LEFT JOIN sources AS s ON s.id = f.source "
        "WHERE s.id IS NULL OR f.source IS NULL GROUP BY ALL")
    for r in rows:
        probs.append({"kind": "citation", "item": f"{r['metric']} [{r['variant']}]",
                      "detail": f"{r['n']} figure(s) cite {r['source']!r}, which is not in sources.yaml"})
    for rel in store.releases:
        if rel.source not in store.sources:
            probs.append({"kind": "citation", "item": rel.id, "detail": f"release cites unknown source {rel.source!r}"})
    return probs


def _file_problems(releases: list[Release]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Presence and checksum of every CBP table file (before anything is loaded)."""
    probs, files = [], []
    for rel in releases:
        entry = {"release": rel.id, "family": rel.family, "origin": rel.origin, "file": str(rel.path), "ok": True}
        if not rel.path.exists():
            probs.append({"kind": "file", "item": rel.id, "detail": f"{rel.path} is missing"})
            entry["ok"] = False
        elif sha256_file(rel.path) != rel.sha256:
            probs.append({"kind": "file", "item": rel.id,
                          "detail": "SHA-256 differs from the manifest (the file changed after it was written)"})
            entry["ok"] = False
        files.append(entry)
    return probs, files


def _total_problems(store: Store, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Row counts and fiscal-year totals of every loaded CBP table file against its manifest entry."""
    probs = []
    status = {f["release"]: f for f in files}
    for rel in store.releases:
        table = FAMILY_TABLES[rel.family]
        rows = store.query(f"SELECT count(*) AS n FROM {table} WHERE release_id = ?", [rel.id])[0]["n"]
        status[rel.id]["rows"] = rows
        if rows != rel.rows:
            status[rel.id]["ok"] = False
            probs.append({"kind": "file", "item": rel.id, "detail": f"{rows} rows, the manifest says {rel.rows}"})
        where = "AND component = 'ALL'" if rel.family == "enforcement_fy" else ""
        got = {int(r["fy"]): int(r["n"]) for r in store.query(
            f"SELECT fiscal_year AS fy, sum(encounters) AS n FROM {table} WHERE release_id = ? {where} GROUP BY 1", [rel.id])}
        if rel.fy_totals and got != rel.fy_totals:
            status[rel.id]["ok"] = False
            bad = [f"FY{y}: {got.get(y)} vs {n}" for y, n in rel.fy_totals.items() if got.get(y) != n]
            probs.append({"kind": "totals", "item": rel.id,
                          "detail": "fiscal-year totals differ from the manifest: " + "; ".join(bad[:4])})
    return probs


def _figure_problems(store: Store) -> list[dict[str, Any]]:
    probs: list[dict[str, Any]] = []
    all_specs = specs()
    declared = {s.figure_metric: {v.name for v in s.variants} for s in all_specs.values() if s.kind != "encounters"}
    kinds = {s.figure_metric: s.kind for s in all_specs.values() if s.kind != "encounters" and not s.figures_of}
    for r in store.query("SELECT metric, variant, period_start, period_end, value, share, qualifier, numerator, denominator, source FROM figures"):
        item = f"{r['metric']} [{r['variant']}] {r['period_start'] or ''}..{r['period_end']}"

        def bad(detail: str, item: str = item) -> None:
            """Record one problem with the current figure."""
            probs.append({"kind": "figure", "item": item, "detail": detail})

        if r["metric"] not in declared:
            bad("metric is not in catalogue.yaml")
            continue
        if r["variant"] not in declared[r["metric"]]:
            bad(f"variant {r['variant']!r} is not declared for {r['metric']}")
        kind = kinds.get(r["metric"])
        if r["period_end"] is None:
            bad("no period_end")
            continue
        if kind == "stock" and r["period_start"] is not None:
            bad("a stock figure has only a date (period_end)")
        if kind in ("flow", "rate") and r["period_start"] is None:
            bad("a flow or rate figure needs period_start")
        if r["period_start"] is not None and r["period_start"] > r["period_end"]:
            bad("period_start is after period_end")
        if r["qualifier"] not in QUALIFIERS:
            bad(f"qualifier {r['qualifier']!r} is not one of {', '.join(sorted(QUALIFIERS))}")
        if kind == "rate" and r["value"] is not None and not 0 <= r["value"] <= 1:
            bad(f"rate {r['value']} is outside [0, 1]")
        if r["share"] is not None and not 0 <= r["share"] <= 1:
            bad(f"share {r['share']} is outside [0, 1]")
        if r["numerator"] is not None and r["denominator"] and kind == "rate":
            ratio = r["numerator"] / r["denominator"]
            if abs(ratio - r["value"]) > 1e-5:
                bad(f"value {r['value']} ≠ numerator/denominator {ratio:.6f}")
    overlaps = store.query(
        "SELECT a.metric, a.variant, a.source, a.period_start AS a_start, a.period_end AS a_end, b.period_start AS b_start, "
        "b.period_end AS b_end FROM figures AS a JOIN figures AS b ON a.metric = b.metric AND a.variant = b.variant "
        "AND a.source = b.source AND a.period_start < b.period_start AND b.period_start <= a.period_end "
        "WHERE a.metric IN (" + ", ".join(f"'{m}'" for m, k in kinds.items() if k == "flow") + ")")
    for o in overlaps:
        probs.append({"kind": "figure", "item": f"{o['metric']} [{o['variant']}] {o['source']}",
                      "detail": f"flow figures overlap: {o['a_start']}..{o['a_end']} and {o['b_start']}..{o['b_end']} would be added twice"})
    return probs


def _catalogue_problems() -> list[dict[str, Any]]:
    probs = []
    all_specs = specs()
    for s in all_specs.values():
        n = sum(v.default for v in s.variants)
        if n != 1:
            probs.append({"kind": "catalogue", "item": s.id, "detail": f"{n} default variants (exactly one needed)"})
    for grp in series():
        for m in grp["metrics"]:
            if m not in all_specs:
                probs.append({"kind": "catalogue", "item": grp["id"], "detail": f"names unknown metric {m!r}"})
    return probs


def release_differences(store: Store) -> list[dict[str, Any]]:
    """Months where overlapping releases of one family disagree: each release's total, rows differing.

    A row absent from one release and zero in the other is not a difference.
    """
    out: list[dict[str, Any]] = []
    keys = {"nationwide": "region, state, demographic, citizenship, title",
            "sbo": "component, demographic, citizenship_group, title, encounter_type"}
    for pair in _overlaps(store):
        older, newer = pair["releases"]
        lo, hi = pair["months"].split("..")
        table = FAMILY_TABLES[pair["family"]]
        span = f"month BETWEEN strptime('{lo}-01', '%Y-%m-%d')::DATE AND strptime('{hi}-01', '%Y-%m-%d')::DATE"
        rows = store.query(
            f"SELECT strftime(month, '%Y-%m') AS month, sum(coalesce(a.encounters, 0)) AS older_total,\n"
            f"       sum(coalesce(b.encounters, 0)) AS newer_total,\n"
            f"       count(*) FILTER (WHERE coalesce(a.encounters, 0) <> coalesce(b.encounters, 0)) AS rows_differing\n"
            f"FROM (SELECT * FROM {table} WHERE release_id = ? AND {span}) AS a\n"
            f"FULL JOIN (SELECT * FROM {table} WHERE release_id = ? AND {span}) AS b USING (month, {keys[pair['family']]})\n"
            f"GROUP BY 1 HAVING rows_differing > 0 ORDER BY 1", [older, newer])
        for r in rows:
            out.append({"family": pair["family"], "month": r["month"], "older": older, "newer": newer,
                        "older_total": int(r["older_total"]), "newer_total": int(r["newer_total"]),
                        "change": int(r["newer_total"]) - int(r["older_total"]),
                        "rows_differing": int(r["rows_differing"]), "used": newer})
    return out


def _overlaps(store: Store) -> list[dict[str, Any]]:
    out = []
    for family in ("nationwide", "sbo"):
        rels = sorted((r for r in store.releases if r.family == family), key=release_rank_key)
        for i, a in enumerate(rels):
            for b in rels[i + 1:]:
                lo, hi = max(a.first_month, b.first_month), min(a.last_month, b.last_month)
                if lo <= hi:
                    out.append({"family": family, "releases": [a.id, b.id], "months": f"{lo}..{hi}"})
    return out


def consistency(store: Store) -> list[dict[str, Any]]:
    """Totals that two different CBP tables both publish, side by side (newest release of each)."""
    def newest(table: str, key: str = "month") -> str:
        """The rows of a CBP table, newest release per month (or fiscal year)."""
        return (f"(SELECT r.* FROM {table} AS r JOIN cbp_releases AS c ON c.release_id = r.release_id "
                f"QUALIFY c.rank = max(c.rank) OVER (PARTITION BY r.{key}))")

    checks = [
        ("southwest land border by month: nationwide file vs component (SBO) file",
         f"SELECT strftime(month, '%Y-%m') AS unit, sum(encounters) AS n FROM {newest('cbp_nationwide_rows')} "
         "WHERE region = 'southwest_land_border' GROUP BY 1",
         f"SELECT strftime(month, '%Y-%m') AS unit, sum(encounters) AS n FROM {newest('cbp_sbo_rows')} GROUP BY 1"),
        ("USBP southwest border by month: component (SBO) file vs sector file",
         f"SELECT strftime(month, '%Y-%m') AS unit, sum(encounters) AS n FROM {newest('cbp_sbo_rows')} "
         "WHERE component = 'USBP' GROUP BY 1",
         f"SELECT strftime(month, '%Y-%m') AS unit, sum(encounters) AS n FROM {newest('cbp_usbp_sectors')} "
         "WHERE region = 'southwest_land_border' GROUP BY 1"),
        ("USBP nationwide by fiscal year: sector file vs CBP fiscal-year table",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_usbp_sectors')} GROUP BY 1",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_enforcement_fy', 'fiscal_year')} "
         "WHERE component = 'USBP' GROUP BY 1"),
        ("all encounters by fiscal year: nationwide monthly file vs CBP fiscal-year table",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_nationwide_rows')} GROUP BY 1 "
         "HAVING count(DISTINCT month) = 12",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_enforcement_fy', 'fiscal_year')} "
         "WHERE component = 'ALL' GROUP BY 1"),
        ("CBP fiscal-year table: OFO + USBP vs its printed total",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_enforcement_fy', 'fiscal_year')} "
         "WHERE component <> 'ALL' GROUP BY 1",
         f"SELECT 'FY' || fiscal_year AS unit, sum(encounters) AS n FROM {newest('cbp_enforcement_fy', 'fiscal_year')} "
         "WHERE component = 'ALL' GROUP BY 1"),
    ]
    out = []
    for label, left, right in checks:
        a = {r["unit"]: int(r["n"]) for r in store.query(left)}
        b = {r["unit"]: int(r["n"]) for r in store.query(right)}
        common = sorted(set(a) & set(b))
        diffs = [{"unit": u, "left": a[u], "right": b[u], "difference": a[u] - b[u]} for u in common if a[u] != b[u]]
        out.append({"check": label, "compared": len(common), "agree": len(common) - len(diffs), "differences": diffs})
    return out


def check(home: Any = None) -> dict[str, Any]:
    """Run every check (see the module docstring) and return the report."""
    file_probs, files = _file_problems(load_releases(home))
    problems = [*_catalogue_problems(), *file_probs]
    report: dict[str, Any] = {"ok": False, "problems": problems, "counts": {}, "files": files, "overlaps": [],
                              "release_differences": [], "consistency": []}
    try:
        store = get_store(home)
    except ReferenceDataError as e:
        problems.append({"kind": "load", "item": "reference data", "detail": e.message})
        return report
    problems += [*_source_problems(store), *_total_problems(store, files), *_figure_problems(store)]
    figures = store.query("SELECT count(*) AS n FROM figures")[0]["n"]
    report.update(
        ok=not problems,
        counts={"sources": len(store.sources), "figures": int(figures), "cbp_releases": len(store.releases),
                "metrics": len(specs())},
        overlaps=_overlaps(store),
        release_differences=release_differences(store),
        consistency=consistency(store),
    )
    return report
