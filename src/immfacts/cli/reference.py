"""CLI commands of the reference stage: ``sources`` and ``reference compute|add-cbp|check``.

Thin wrappers over :mod:`immfacts.reference`: ``immfacts sources`` → ``reference.sources()``,
``immfacts reference compute`` → ``reference.compute()`` (with ``--edition`` / ``--as-of``),
``immfacts reference add-cbp FILE.csv`` → ``reference.add_cbp()``, ``immfacts reference
check`` → ``reference.check()``. ``--json`` prints what the Python function returns.
Reference figures are real, cited data — never SYNTHETIC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from immfacts.cli import common

_QUALIFIER = {"more_than": "more than ", "less_than": "less than ", "approx": "about ", "nearly": "nearly ", "at_least": "at least "}


def _fmt(value: Any, unit: str = "count") -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3f}"
    return f"{int(value):,}"


def _render_result(d: dict[str, Any]) -> None:
    con = common.console
    unit = d.get("unit", "count")
    con.print(f"[bold]{d.get('title') or d['metric']}[/bold]  [dim]{d['metric']} · variant {d.get('variant')} · reference[/dim]")
    con.print(d.get("definition") or "", style="italic", highlight=False)
    p = d.get("period") or {}
    if p:
        span = f"{p.get('start')} .. {p.get('end')}" if p.get("start") else f"at {p.get('end')}"
        done = "" if p.get("complete", True) else "  [yellow](partly covered — see notes)[/yellow]"
        con.print(f"period: {p.get('text')} ({span}){done}", highlight=False)
    filters = d.get("filters") or {}
    if filters:
        con.print("filters: " + ", ".join(f"{k}={v}" for k, v in filters.items()), highlight=False)
    prefix = _QUALIFIER.get((d.get("components") or {}).get("qualifier"), "")
    con.print(f"value: [bold]{prefix}{_fmt(d.get('value'), unit)}[/bold]", highlight=False)
    if d.get("variants"):
        t = Table(title="variants")
        for c in ("variant", "value", "period", "description"):
            t.add_column(c, justify="right" if c == "value" else "left")
        for v in d["variants"]:
            vp = v.get("period") or {}
            q = _QUALIFIER.get((v.get("components") or {}).get("qualifier"), "")
            t.add_row(v["variant"] + (" (default)" if v.get("default") else ""),
                      q + _fmt(v.get("value"), unit),
                      f"{vp.get('start') or ''}..{vp.get('end') or ''}" if vp else "",
                      v.get("description", "") + (f" [red]{v['error']}[/red]" if v.get("error") else ""))
        con.print(t)
    if d.get("rows"):
        keys = [k for k in d["rows"][0] if k not in ("value",)]
        t = Table()
        for k in [*keys, "value"]:
            t.add_column(k, justify="right" if k == "value" else "left")
        for r in d["rows"]:
            t.add_row(*[str(r.get(k, "")) for k in keys], _fmt(r.get("value"), unit))
        con.print(t)
    for n in d.get("notes") or []:
        con.print(f"[dim]note:[/dim] {n}", highlight=False)
    rel = d.get("release") or {}
    con.print(f"[dim]edition:[/dim] {rel.get('edition')}", highlight=False)
    for c in d.get("citation") or []:
        con.print(f"[dim]source:[/dim] {c.get('publisher')}, “{c.get('title')}” ({c.get('published') or 'date not recorded'}) "
                  f"{c.get('url')} — {c.get('license')}", highlight=False, soft_wrap=True)


def _render_sources(items: list[dict[str, Any]]) -> None:
    con = common.console
    for s in items:
        flag = " [yellow](secondary figures)[/yellow]" if s.get("secondary") else ""
        cov = s.get("coverage") or {}
        con.rule(f"[bold]{s['title']}[/bold]{flag}")
        con.print(f"series {s['series']} · metrics {', '.join(s['metrics'])}", highlight=False)
        con.print(f"coverage: {cov.get('start')} .. {cov.get('end')}", highlight=False)
        for line in cov.get("detail", []):
            con.print(f"  • {line}", highlight=False)
        t = Table(show_header=True, header_style="bold")
        for c in ("source", "published", "publisher / title", "licence"):
            t.add_column(c, overflow="fold")
        for c in s.get("citations", []):
            t.add_row(c["id"], c.get("published") or "not recorded", f"{c.get('publisher')}: {c.get('title')}\n{c.get('url')}",
                      c.get("license") or "")
        con.print(t)


def _render_add(rep: dict[str, Any]) -> None:
    con = common.console
    rel = rep.get("release") or {}
    con.print(f"[bold]{rep['file']}[/bold]: {rep['months']['count']} months, {rep['months']['first']} .. {rep['months']['last']}",
              highlight=False)
    if rep.get("message"):
        con.print(f"[yellow]{rep['message']}[/yellow]", highlight=False)
    con.print(f"release {rel.get('id')} (published {rel.get('published')}) in {rep['overlay']}", highlight=False)
    con.print(f"months added: {', '.join(rep['added']) or 'none'}", highlight=False)
    if rep["revised"]:
        t = Table(title="months revised (the new release wins)")
        for c in ("month", "previous", "new", "change", "rows changed", "previous release"):
            t.add_column(c, justify="left" if c in ("month", "previous release") else "right")
        for r in rep["revised"]:
            t.add_row(r["month"], f"{r['previous']:,}", f"{r['new']:,}", f"{r['change']:+,}", str(r["rows_changed"]),
                      r["previous_release"])
        con.print(t)
    else:
        con.print("months revised: none", highlight=False)
    con.print(f"months unchanged: {rep['unchanged']}", highlight=False)
    for label, n in (rep.get("renamed") or {}).items():
        con.print(f"[dim]label read as: {label} ({n} rows)[/dim]", highlight=False)


def _render_check(rep: dict[str, Any]) -> None:
    con = common.console
    c = rep["counts"]
    con.print(f"{c['metrics']} reference metrics, {c['figures']} figures, {c['cbp_releases']} CBP table files, "
              f"{c['sources']} sources", highlight=False)
    if rep["problems"]:
        t = Table(title=f"[red]{len(rep['problems'])} problem(s)[/red]")
        for col in ("kind", "item", "problem"):
            t.add_column(col, overflow="fold")
        for p in rep["problems"]:
            t.add_row(p["kind"], p["item"], p["detail"])
        con.print(t)
    else:
        con.print("[green]ok[/green]: every figure is cited, every file matches its checksum and totals")
    for o in rep["overlaps"]:
        con.print(f"overlap: {o['family']} releases {' and '.join(o['releases'])} both cover {o['months']}", highlight=False)
    diffs = rep["release_differences"]
    if diffs:
        t = Table(title="differences between overlapping releases (the newer one is used)")
        for col in ("family", "month", "older", "newer", "older total", "newer total", "rows differing"):
            t.add_column(col, justify="right" if "total" in col or "rows" in col else "left")
        for d in diffs:
            t.add_row(d["family"], d["month"], d["older"], d["newer"], f"{d['older_total']:,}", f"{d['newer_total']:,}",
                      str(d["rows_differing"]))
        con.print(t)
    else:
        con.print("overlapping releases agree row for row")
    for chk in rep["consistency"]:
        status = "[green]agree[/green]" if not chk["differences"] else f"[yellow]{len(chk['differences'])} differ[/yellow]"
        con.print(f"{chk['check']}: {chk['agree']}/{chk['compared']} {status}", highlight=False)
        for d in chk["differences"][:5]:
            con.print(f"    {d['unit']}: {d['left']:,} vs {d['right']:,} ({d['difference']:+,})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app: ``sources`` and the ``reference`` group."""
    ref = typer.Typer(
        help="Bundled reference figures (CBP, gotaways, Census, EOIR published): compute, keep CBP current, check.",
        no_args_is_help=True,
    )

    @app.command("sources")
    @common.handle_errors
    def sources(json_out: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
        """List every reference series with its coverage and full citations."""
        from immfacts import reference

        items = reference.sources()
        if json_out:
            common.print_json(items)
        else:
            _render_sources(items)

    @ref.command("compute")
    @common.handle_errors
    def compute(
        metric_id: str = typer.Argument(..., help="A reference metric id, e.g. cbp.encounters (see `immfacts sources`)."),
        period: str | None = typer.Option(None, "--period", "-p", help="FY2024, 2021-02..2024-04, biden, 2024-09-30 …"),
        by: str | None = typer.Option(None, "--by", help="Dimensions to split by, comma-separated (fy, month, region …)."),
        where: list[str] = typer.Option([], "--where", "-w", help="Filter DIMENSION=VALUE (repeatable; a|b for several)."),
        variant: str | None = typer.Option(None, "--variant", "-v", help="A named variant, or 'all'."),
        edition: str = typer.Option("latest", "--edition", help="latest, as-of (with --as-of), or a source/release id."),
        as_of: str | None = typer.Option(None, "--as-of", help="Read the figures as published on this date (YYYY-MM-DD)."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        explain: bool = typer.Option(False, "--explain", help="Print the SQL without running the query."),
    ) -> None:
        """Compute a reference metric, with its citation and edition."""
        from immfacts import reference

        query = dict(period=period, by=by, where=where or None, variant=variant, edition=edition, as_of=as_of)
        if explain:
            typer.echo(reference.explain(metric_id, **query))
            return
        result = reference.compute(metric_id, **query).to_dict()
        if json_out:
            common.print_json(result)
        else:
            _render_result(result)

    @ref.command("add-cbp")
    @common.handle_errors
    def add_cbp(
        file: Path = typer.Argument(..., help="A CBP Nationwide Encounters CSV (state-level), as downloaded from cbp.gov."),
        released: str | None = typer.Option(None, "--released", help="CBP's publication date of the file (default: today)."),
        max_revision: float = typer.Option(0.05, "--max-revision", help="Largest accepted change of a month already held (fraction)."),
        warehouse: Path | None = typer.Option(None, "--warehouse", help="Warehouse folder holding the overlay (default: $IMMFACTS_HOME)."),
        json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Validate a newly released CBP file, merge it into the overlay, and report what changed."""
        from immfacts import reference

        if json_out:
            rep = reference.add_cbp(file, home=warehouse, released=released, max_revision=max_revision)
            common.print_json(rep)
            return
        with common.console.status(f"reading {file.name} …"):
            rep = reference.add_cbp(file, home=warehouse, released=released, max_revision=max_revision)
        _render_add(rep)

    @ref.command("check")
    @common.handle_errors
    def check(
        warehouse: Path | None = typer.Option(None, "--warehouse", help="Warehouse folder holding the overlay (default: $IMMFACTS_HOME)."),
        json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Check citations, checksums and totals; report differences between overlapping CBP releases."""
        from immfacts import reference

        rep = reference.check(home=warehouse)
        if json_out:
            common.print_json(rep)
        else:
            _render_check(rep)
        if not rep["ok"]:
            raise typer.Exit(1)

    app.add_typer(ref, name="reference")
