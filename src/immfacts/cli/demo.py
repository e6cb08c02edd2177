"""``immfacts demo``: the whole pipeline on a SYNTHETIC sample release, no download.

Steps, each a public API call: write a sample release (``immfacts.sample``), ingest it into
the default warehouse (``immfacts.ingest``) and print the reconciliation, print headline
metrics with their variants, check the example article (``immfacts.check``) and write its
HTML report, then say how to open the web app. ``make demo`` runs this.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from immfacts.cli import common


def _fmt(v: object, unit: str | None = None) -> str:
    if v is None:
        return "—"
    if unit == "percent" and isinstance(v, int | float):
        return f"{v:.1%}"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}"
    if isinstance(v, int | float):
        return f"{int(v):,}"
    return str(v)


def run_demo(
    out: Path,
    scale: float = 0.002,
    seed: int = 1,
    warehouse: Path | None = None,
    article: Path | None = None,
    as_of: str = "2024-06-04",
) -> dict[str, object]:
    """Run the end-to-end demo; returns the paths it wrote (for tests and scripts)."""
    import immfacts
    from immfacts.paths import resolve_warehouse

    console = common.console
    out.mkdir(parents=True, exist_ok=True)
    home = resolve_warehouse(warehouse)
    written: dict[str, object] = {"warehouse": str(home)}

    # 1. A sample release in the real format.
    zip_path = out / "sample-release.zip"
    console.rule("[bold]1. Sample release (SYNTHETIC)")
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from immfacts.cli.sample import render as render_sample

    common.synthetic_banner()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} rows"),
        TimeElapsedColumn(),
        console=common.err_console,
    ) as prog:
        info = immfacts.sample(zip_path, scale=scale, seed=seed, progress=prog)
    written["release_zip"] = str(zip_path)
    render_sample(info)

    # 2. Ingest it into the default warehouse.
    console.rule("[bold]2. Ingest")
    report = immfacts.ingest(zip_path, warehouse=home, progress=True)
    rep = report.to_dict()
    t = Table(title=f"Reconciliation — release {rep['release']['id']} into {home}")
    for col in ("table", "read", "loaded", "quarantined", "repaired", "Count.txt", "ok"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, tt in rep["tables"].items():
        ok = tt["rows_read"] == tt["rows_loaded"] + tt["rows_quarantined"]
        t.add_row(
            name,
            f"{tt['rows_read']:,}",
            f"{tt['rows_loaded']:,}",
            f"{tt['rows_quarantined']:,}",
            f"{sum(tt.get('rows_repaired', {}).values()):,}",
            _fmt(tt.get("count_txt")),
            "[green]yes[/green]" if ok else "[red]NO[/red]",
        )
    console.print(t)

    # 3. Headline metrics with their variants.
    console.rule("[bold]3. Headline metrics")
    from immfacts.metrics import headline_metrics

    wh = immfacts.Warehouse(home)
    common.synthetic_banner()
    t = Table(title="Headline metrics (SYNTHETIC sample release)")
    for col in ("metric", "period", "variant", "value"):
        t.add_column(col, justify="right" if col == "value" else "left")
    for r in headline_metrics(wh):
        period = (r.period or {}).get("text", "")
        for v in r.variants or [{"variant": r.variant, "value": r.value}]:
            t.add_row(r.metric, period, str(v.get("variant")), _fmt(v.get("value"), r.unit))
    console.print(t)

    # 4. Check the example article.
    console.rule("[bold]4. Claim check: examples/article.txt")
    article = article or _find_article()
    text = article.read_text(encoding="utf-8")
    from immfacts.claims import render_html

    check = immfacts.check(text, as_of=dt.date.fromisoformat(as_of), warehouse=wh)
    html_path = out / "article-report.html"
    html_path.write_text(render_html(check, standalone=True), encoding="utf-8")
    reports = home / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "article.json").write_text(json.dumps(check.to_dict(), indent=2, default=str))
    written["html_report"] = str(html_path)
    t = Table(title=f"Verdicts (as of {as_of})")
    for col in ("claim", "metric", "verdict"):
        t.add_column(col)
    for c in check.to_dict()["claims"]:
        claimed = c.get("claimed") or {}
        t.add_row(
            str(c.get("text") or (c.get("sentence") or "")[:70]),
            str(c.get("metric") or "—"),
            f"{c.get('verdict')}  ({_fmt(claimed.get('value'), claimed.get('unit'))})",
        )
    console.print(t)
    console.print(f"HTML report: [bold]{html_path}[/bold]")

    # 5. The web app.
    console.rule("[bold]5. Explore in a browser")
    console.print("Run [bold]make serve[/bold] (or `immfacts serve`) and open http://127.0.0.1:8000")
    return written


def _find_article() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        p = base / "examples" / "article.txt"
        if p.exists():
            return p
    raise common.ImmfactsError(
        "examples/article.txt not found", "run the demo from the repository root (make demo)"
    )


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command("demo")
    @common.handle_errors
    def demo(
        out: Path = typer.Option(Path("demo"), help="Folder for the sample release and reports."),
        scale: float = typer.Option(0.002, help="Sample release scale (1.0 ≈ the real release)."),
        seed: int = typer.Option(1, help="Random seed of the sample release."),
        warehouse: Path = typer.Option(None, help="Warehouse folder (default: $IMMFACTS_HOME or the per-user data folder)."),
        as_of: str = typer.Option("2024-06-04", help="Publication date used to check the example article."),
    ) -> None:
        """Build a SYNTHETIC sample release, ingest it, compute headline metrics and check the example article."""
        run_demo(out, scale=scale, seed=seed, warehouse=warehouse, as_of=as_of)
