"""CLI commands of the metrics stage: ``metric``, ``metrics``, ``registry check|docs``.

Thin wrappers: ``immfacts metric`` calls :meth:`immfacts.Warehouse.metric` (i.e.
:func:`immfacts.metrics.compute`) with the same arguments and renders the Result; ``--json``
prints ``Result.to_dict()`` exactly, so CLI and Python agree by construction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from immfacts.cli import common


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "days":
        return f"{value:,.1f} days"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)  # labels and qualifiers carried in reference components
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3f}"
    return f"{int(value):,}"


def _render(d: dict[str, Any]) -> None:
    con = common.console
    unit = d.get("unit", "count")
    if d.get("synthetic"):
        common.synthetic_banner()
    con.print(f"[bold]{d.get('title') or d['metric']}[/bold]  [dim]{d['metric']} · variant {d.get('variant')}[/dim]")
    if d.get("definition"):
        con.print(d["definition"], style="italic", highlight=False)
    p = d.get("period") or {}
    if p:
        span = f"{p.get('start')} .. {p.get('end')}" if p.get("start") else f"as of {p.get('end')}"
        con.print(f"period: {p.get('text')} ({span})", highlight=False)
    if d.get("filters"):
        con.print("filters: " + ", ".join(f"{k}={v}" for k, v in d["filters"].items()), highlight=False)
    if d.get("variants") and any(v.get("rows") for v in d["variants"]):
        groups = list(d.get("groups", []))
        t = Table(title="variants (sensitivity band) by " + ", ".join(groups))
        for g in groups:
            t.add_column(g)
        for v in d["variants"]:
            t.add_column(v["variant"] + (" (default)" if v.get("default") else ""), justify="right")
        keyed: dict[tuple, list[str]] = {}
        for i, v in enumerate(d["variants"]):
            for r in v.get("rows") or []:
                key = tuple(r.get(g) for g in groups)
                cells = keyed.setdefault(key, ["—"] * len(d["variants"]))
                cells[i] = "suppressed" if r.get("suppressed") else _fmt(r.get("value"), unit)
        for key, cells in keyed.items():
            t.add_row(*[str(k) if k is not None else "—" for k in key], *cells)
        con.print(t)
        d = {**d, "variants": None}
    elif d.get("variants"):
        t = Table(title="variants (sensitivity band)")
        for c in ("variant", "value", "numerator", "denominator", "rationale"):
            t.add_column(c, justify="right" if c in ("value", "numerator", "denominator") else "left")
        for v in d["variants"]:
            name = v["variant"] + (" (default)" if v.get("default") else "")
            t.add_row(name, _fmt(v.get("value"), unit), _fmt(v.get("numerator"), "count"),
                      _fmt(v.get("denominator"), "count"), v.get("rationale") or v.get("description") or "")
        con.print(t)
    elif d.get("rows"):
        groups = [g for g in d.get("groups", [])]
        t = Table()
        for g in groups:
            t.add_column(g)
        for c in ("value", "numerator", "denominator"):
            t.add_column(c, justify="right")
        for r in d["rows"]:
            val = "suppressed (too few)" if r.get("suppressed") else _fmt(r.get("value"), unit)
            t.add_row(*[str(r.get(g)) if r.get(g) is not None else "—" for g in groups], val,
                      _fmt(r.get("numerator"), "count"), _fmt(r.get("denominator"), "count"))
        con.print(t)
    if (not d.get("rows") or d.get("variants")) and not (d.get("groups") and d.get("value") is None):
        con.print(f"[bold]value: {_fmt(d.get('value'), unit)}[/bold]", highlight=False)
        if d.get("denominator") is not None:
            con.print(f"numerator {_fmt(d.get('numerator'), 'count')} / denominator {_fmt(d.get('denominator'), 'count')}",
                      highlight=False)
        comps = {k: v for k, v in (d.get("components") or {}).items() if not k.endswith("_share")}
        if comps:
            t = Table(title="components")
            t.add_column("component")
            t.add_column("value", justify="right")
            shares = d.get("components") or {}
            share_col = any(f"{k}_share" in shares for k in comps)
            if share_col:
                t.add_column("share", justify="right")
            for k, v in comps.items():
                row = [k, _fmt(v, "days" if k.endswith("_days") else "count")]
                if share_col:
                    row.append(_fmt(shares.get(f"{k}_share"), "percent"))
                t.add_row(*row)
            con.print(t)
    for n in d.get("notes") or []:
        con.print(f"[yellow]note:[/yellow] {n}", highlight=False)
    for c in d.get("caveats") or []:
        con.print(f"[dim]caveat: {c}[/dim]", highlight=False)
    rel = d.get("release") or {}
    if rel and d.get("source_kind") != "reference":
        con.print(f"[dim]release {rel.get('id')} (data date {rel.get('data_date')}, checksum {rel.get('checksum')}) · "
                  f"engine {d.get('engine')} · {d.get('rows_scanned')} rows scanned · {d.get('computed_at')}[/dim]",
                  highlight=False)
    for cite in d.get("citation") or []:
        con.print(f"[dim]source: {cite.get('title') or cite.get('publisher')} {cite.get('url', '')}[/dim]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``metric``, ``metrics`` and ``registry`` to the root app."""

    @app.command("metric")
    @common.handle_errors
    def metric(
        metric_id: str = typer.Argument(..., metavar="ID", help="Metric id, e.g. eoir.asylum.grant_rate (see `immfacts metrics`)."),
        period: str | None = typer.Option(None, "--period", "-p", help="FY2024, FY2022..FY2024, 2024-04-30, biden, biden:fy_whole …"),
        by: str | None = typer.Option(None, "--by", help="Dimensions to split by, comma-separated (fy, court, nationality …)."),
        where: list[str] = typer.Option([], "--where", "-w", help="Filter DIMENSION=VALUE (repeatable)."),
        variant: str | None = typer.Option(None, "--variant", "-v", help="A named variant, or 'all' for the sensitivity band."),
        warehouse: Path | None = typer.Option(None, "--warehouse", help="Warehouse folder (default: $IMMFACTS_HOME or the per-user folder)."),
        release: str | None = typer.Option(None, "--release", help="Release id (default: the newest)."),
        engine: str | None = typer.Option(None, "--engine", help="duckdb (default) or spark ($IMMFACTS_ENGINE)."),
        spark_master: str | None = typer.Option(None, "--spark-master", help="Spark master URL (default local[*] or $SPARK_REMOTE)."),
        edition: str = typer.Option("latest", "--edition", help="Reference series only: 'latest' or 'as-of' (the edition published by --as-of)."),
        as_of: str | None = typer.Option(None, "--as-of", help="Reference series only: read the edition current at this date (YYYY-MM-DD)."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        explain: bool = typer.Option(False, "--explain", help="Print the SQL without running it."),
    ) -> None:
        """Compute one statistic, with its definition, variant, release and SQL."""
        from immfacts.warehouse import Warehouse

        wh = Warehouse(warehouse)
        query = dict(period=period, by=by, where=list(where) or None, variant=variant, release=release,
                     engine=engine, spark_master=spark_master)
        if edition != "latest" or as_of:
            query.update(edition=edition, as_of=as_of)
        if explain:
            typer.echo(wh.explain(metric_id, **query))
            return
        if json_out:
            common.print_json(wh.metric(metric_id, **query).to_dict())
            return
        with common.err_console.status(f"computing {metric_id} …"):
            result = wh.metric(metric_id, **query)
        _render(result.to_dict())

    @app.command("metrics")
    @common.handle_errors
    def metrics(json_out: bool = typer.Option(False, "--json", help="Print the catalogue as JSON.")) -> None:
        """List the metric catalogue: EOIR case-data metrics and bundled reference series."""
        from immfacts.metrics import catalogue

        cat = catalogue()
        if json_out:
            common.print_json(cat)
            return
        t = Table(title=f"{len(cat)} metrics")
        for c in ("id", "title", "unit", "variants"):
            t.add_column(c)
        for m in cat:
            names = [v["name"] if isinstance(v, dict) else str(v) for v in m.get("variants") or []]
            default = m.get("default_variant")
            names = [f"{n}*" if n == default else n for n in names]
            t.add_row(m.get("id", ""), m.get("title", ""), m.get("unit", ""), ", ".join(names))
        common.console.print(t)
        common.console.print("[dim]* default variant · details: docs/metrics.md or `immfacts metric ID --explain`[/dim]")

    registry_app = typer.Typer(help="Check the metric registry, or write its reference page.", no_args_is_help=True)
    app.add_typer(registry_app, name="registry")

    @registry_app.command("check")
    @common.handle_errors
    def registry_check(json_out: bool = typer.Option(False, "--json", help="Print the problems as JSON.")) -> None:
        """Validate every metric definition; list every problem at once (exit 1 if any)."""
        from immfacts.metrics import check
        from immfacts.metrics import metrics as all_metrics

        issues = check()
        if json_out:
            common.print_json({"ok": not issues, "problems": [i.__dict__ for i in issues]})
        elif issues:
            for i in issues:
                common.err_console.print(f"[red]✗[/red] {i}", highlight=False, soft_wrap=True)
            common.err_console.print(f"{len(issues)} problem(s) in the metric registry", highlight=False)
        else:
            common.console.print(f"[green]✓[/green] {len(all_metrics())} metrics, no problems")
        if issues:
            raise typer.Exit(1)

    @registry_app.command("docs")
    @common.handle_errors
    def registry_docs(
        out: Path = typer.Option(Path("docs/metrics.md"), "--out", help="Where to write the page."),
        check_only: bool = typer.Option(False, "--check", help="Exit 1 if the page is out of date instead of writing it."),
    ) -> None:
        """Write docs/metrics.md from the registry (or check it is up to date)."""
        from immfacts.metrics.docs import render

        text = render()
        if check_only:
            current = out.read_text(encoding="utf-8") if out.exists() else ""
            if current != text:
                common.err_console.print(f"{out} is out of date; run `immfacts registry docs`")
                raise typer.Exit(1)
            common.console.print(f"{out} is up to date")
            return
        out.write_text(text, encoding="utf-8")
        common.console.print(f"wrote {out}")


def headline_table(results: list[Any]) -> Table:
    """A Rich table of :func:`immfacts.metrics.headline_metrics` results, one row per variant.

    For ``make demo`` and any command that shows the headline numbers; titled SYNTHETIC when
    the release is a sample.
    """
    synthetic = any(getattr(r, "synthetic", False) for r in results)
    first = results[0].to_dict() if results else {}
    title = ("SYNTHETIC — " if synthetic else "") + "headline metrics" + (f" ({first.get('release', {}).get('id')})" if first else "")
    t = Table(title=title, caption="SYNTHETIC sample release: illustrative, not real EOIR data" if synthetic else None)
    for c in ("metric", "variant", "period", "value", "numerator / denominator"):
        t.add_column(c, justify="right" if c in ("value", "numerator / denominator") else "left")
    for r in results:
        d = r.to_dict()
        p = d.get("period") or {}
        when = p.get("text") or ""
        entries = d.get("variants") or [{"variant": d["variant"], "value": d["value"], "numerator": d["numerator"],
                                         "denominator": d["denominator"], "default": True}]
        for i, v in enumerate(entries):
            parts = (f"{_fmt(v.get('numerator'), 'count')} / {_fmt(v.get('denominator'), 'count')}"
                     if v.get("denominator") is not None else "")
            t.add_row(d["metric"] if i == 0 else "", v["variant"] + (" ★" if v.get("default") else ""),
                      when if i == 0 else "", _fmt(v.get("value"), d.get("unit", "count")), parts)
    return t
