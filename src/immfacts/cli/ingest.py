"""``immfacts ingest``: a release (zip, folder or URL) into the warehouse — a thin wrapper over
:func:`immfacts.ingest.ingest` that renders the reconciliation table (or ``--json``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from immfacts.cli import common


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [t for v in values for t in v.replace(",", " ").split() if t]


def render(report: dict) -> None:
    """The reconciliation table of an ingest report, on the terminal."""
    rel = report["release"]
    t = Table(title=f"Release {rel['id']} ({rel.get('data_date') or 'undated'}){' — SYNTHETIC' if report.get('synthetic') else ''}")
    for col in ("table", "read", "loaded", "quarantined", "repaired", "Count.txt", "Δ", "MB/s"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, tt in report["tables"].items():
        ok = tt["rows_read"] == tt["rows_loaded"] + tt["rows_quarantined"]
        diff = tt.get("count_txt_diff")
        t.add_row(
            name + ("" if ok else " [red]✗[/red]"),
            f"{tt['rows_read']:,}",
            f"{tt['rows_loaded']:,}",
            f"{tt['rows_quarantined']:,}",
            f"{sum(tt['rows_repaired'].values()):,}",
            "—" if tt.get("count_txt") is None else f"{tt['count_txt']:,}",
            "—" if diff is None else f"{diff:+,}",
            "—" if tt.get("mb_per_s") is None else f"{tt['mb_per_s']:,.0f}",
        )
    common.console.print(t)
    reasons: dict[str, int] = {}
    repairs: dict[str, int] = {}
    for tt in report["tables"].values():
        for k, v in tt["quarantined"].items():
            reasons[k] = reasons.get(k, 0) + v
        for k, v in tt["rows_repaired"].items():
            repairs[k] = repairs.get(k, 0) + v
    fmt = ", ".join
    common.console.print("repaired: " + (fmt(f"{k} {v:,}" for k, v in repairs.items() if v) or "none"), highlight=False)
    common.console.print("quarantined: " + (fmt(f"{k} {v:,}" for k, v in reasons.items() if v) or "none"), highlight=False)
    bundled = [n for n, lk in report.get("lookups", {}).items() if lk.get("source") == "bundled"]
    if bundled:
        common.console.print(f"lookups from the bundled copy: {', '.join(bundled)}", highlight=False)
    for w in report.get("warnings", []):
        common.err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    common.console.print(f"every row accounted for in {report['elapsed_s']:.1f} s → {report.get('path')}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``immfacts ingest`` to the root app."""

    @app.command("ingest")
    @common.handle_errors
    def ingest_cmd(
        source: str = typer.Argument(..., help="Release zip (deflate or Deflate64), unpacked release folder, or http(s) URL of the zip."),
        warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help="Warehouse folder (default: $IMMFACTS_HOME, else the per-user data folder)."),
        tables: list[str] | None = typer.Option(None, "--tables", "-t", help="Only these main tables (repeat, or comma-separate)."),
        strict: bool = typer.Option(False, "--strict/--lenient", help="--strict stops at the first row needing repair or quarantine; --lenient (default) repairs, quarantines and reports."),
        json_out: bool = typer.Option(False, "--json", help="Print the ingest report as JSON (no progress bars)."),
    ) -> None:
        """Ingest an EOIR case-data release into the warehouse: typed Parquet, every row accounted for."""
        from immfacts.ingest import ingest

        report = ingest(source, warehouse=warehouse, tables=_split(tables), strict=strict, progress=not json_out)
        d = report.to_dict()
        if json_out:
            common.print_json(d)
            return
        if report.synthetic:
            common.synthetic_banner()
        render(d)
