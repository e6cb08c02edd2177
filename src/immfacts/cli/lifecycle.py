"""CLI commands of the release lifecycle: ``update``, ``releases``, ``diff``, ``export``.

Thin wrappers over :mod:`immfacts.lifecycle` (same names and arguments). ``diff`` exits with
status 3 when a vanished-records threshold is passed, so a scheduled job can alert on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.markdown import Markdown
from rich.table import Table

from immfacts.cli import common
from immfacts.errors import InvalidQueryError

WAREHOUSE = typer.Option(None, "--warehouse", "-w", help="Warehouse folder (default: $IMMFACTS_HOME or the per-user data folder).")
JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout (no progress bar).")


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _fraction(text: str | None, name: str) -> float | None:
    """``"0.1%"`` → 0.001; ``"0.001"`` → 0.001."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*([\d.]+)\s*(%?)\s*", text)
    if not m:
        raise InvalidQueryError(f"{name}: cannot read {text!r}", "write a share like 0.1% or 0.001")
    value = float(m.group(1))
    return value / 100 if m.group(2) else value


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""

    @app.command("update")
    @common.handle_errors
    def update_cmd(
        url: str = typer.Option(None, "--url", help="Release zip URL (default: EOIR's, or $IMMFACTS_EOIR_URL)."),
        warehouse: Path = WAREHOUSE,
        force: bool = typer.Option(False, "--force", help="Download even if the server says the file is unchanged."),
        check: bool = typer.Option(False, "--check", help="Only ask the server whether a new release is out."),
        min_size: str = typer.Option(None, "--min-size", help="Smallest plausible release size, e.g. 500MB (default 50MB)."),
        json_out: bool = JSON,
    ) -> None:
        """Download EOIR's release if it changed (ETag/Last-Modified), resuming interrupted downloads, then ingest it
        and diff it against the previous release (exit 3 when records vanished above the thresholds)."""
        from immfacts.lifecycle import update

        r = update(url, warehouse, force=force, check_only=check, min_bytes=min_size, progress=not json_out)
        alerts = (r.diff or {}).get("alerts") or []
        if json_out:
            common.print_json(r.to_dict())
            if alerts:
                raise typer.Exit(3)
            return
        if r.synthetic:
            common.synthetic_banner()
        colour = {"unchanged": "green", "updated": "cyan", "reingested": "cyan", "changed": "yellow"}[r.status]
        common.console.print(f"[{colour}]{r.status}[/{colour}] {r.message}", highlight=False)
        common.console.print(f"  {r.url}\n  ETag {r.etag or '—'} · Last-Modified {r.last_modified or '—'} · {_size(r.content_length)}", highlight=False)
        if r.resumed_from:
            common.console.print(f"  resumed at byte {r.resumed_from:,}", highlight=False)
        if r.diff:
            common.console.print(
                f"  compared with {r.diff['old']}: {r.diff['status']} — `immfacts diff {r.diff['old']} {r.diff['new']}` for details",
                highlight=False,
            )
        for alert in alerts:
            common.err_console.print(f"[bold red]ALERT[/bold red] {alert}", highlight=False)
        if alerts:
            raise typer.Exit(3)

    @app.command("releases")
    @common.handle_errors
    def releases_cmd(warehouse: Path = WAREHOUSE, json_out: bool = JSON) -> None:
        """List the releases in the warehouse (newest first: the default for every --release)."""
        from immfacts.lifecycle import releases

        rows = releases(warehouse)
        if json_out:
            common.print_json(rows)
            return
        if not rows:
            common.console.print("No release in this warehouse yet — run `immfacts update`, `immfacts ingest …` or `make demo`.")
            return
        if any(r.get("synthetic") for r in rows):
            common.synthetic_banner()
        t = Table(title="Releases (newest first; * = default for --release)")
        t.add_column("id", no_wrap=True)
        t.add_column("data date", no_wrap=True)
        t.add_column("kind")
        for col in ("cases", "procs", "appls", "size"):
            t.add_column(col, justify="right")
        t.add_column("ingest")
        for r in rows:
            n = r.get("rows") or {}
            t.add_row(
                ("* " if r.get("default") else "") + r["id"],
                r.get("data_date") or "—",
                "SYNTHETIC" if r.get("synthetic") else ("—" if r.get("synthetic") is None else "real"),
                *(f"{n[k]:,}" if n.get(k) is not None else "—" for k in ("cases", "proceedings", "applications")),
                _size(r.get("size_bytes")),
                r["ingest"]["summary"],
            )
        common.console.print(t)

    @app.command("diff")
    @common.handle_errors
    def diff_cmd(
        old: str = typer.Argument(..., help="Older release: an id in the warehouse, a release folder, or a release zip."),
        new: str = typer.Argument(..., help="Newer release: an id, a release folder, or a release zip."),
        warehouse: Path = WAREHOUSE,
        json_out: bool = JSON,
        md: bool = typer.Option(False, "--md", help="Markdown report on stdout."),
        max_cases: str = typer.Option(None, "--max-vanished-cases", help="Alert above this share of vanished cases (default 0.1%)."),
        max_proceedings: str = typer.Option(None, "--max-vanished-proceedings", help="Default 0.1%."),
        max_applications: str = typer.Option(None, "--max-vanished-applications", help="Default 0.5%."),
        save: bool = typer.Option(True, "--save/--no-save", help="Save the diff in <warehouse>/diffs/ (the web app shows the latest)."),
    ) -> None:
        """Compare two releases: row counts, vanished/appeared records, changed outcomes, schema drift. Exit 3 on alert."""
        from immfacts.lifecycle import diff

        limits = {
            k: v
            for k, v in (
                ("cases", _fraction(max_cases, "--max-vanished-cases")),
                ("proceedings", _fraction(max_proceedings, "--max-vanished-proceedings")),
                ("applications", _fraction(max_applications, "--max-vanished-applications")),
            )
            if v is not None
        }
        d = diff(old, new, warehouse, thresholds=limits, save=save, progress=not (json_out or md))
        if json_out:
            common.print_json(d.to_dict())
        elif md:
            typer.echo(d.to_markdown())
        else:
            if d.synthetic:
                common.synthetic_banner()
            common.console.print(Markdown(d.to_markdown()))
        for alert in d.alerts:
            common.err_console.print(f"[bold red]ALERT[/bold red] {alert}", highlight=False)
        if d.exit_code:
            raise typer.Exit(d.exit_code)

    @app.command("export")
    @common.handle_errors
    def export_cmd(
        table: str = typer.Argument(..., help="cases | proceedings | applications | asylum_cases | a raw table (A_TblCase …) | a lookup."),
        format: str = typer.Option("parquet", "--format", "-f", help="parquet | csv | dta | sqlite"),
        release: str = typer.Option(None, "--release", "-r", help="Release id (default: the newest)."),
        out: Path = typer.Option(None, "--out", "-o", help="Output file (default ./<table>-<release>.<ext>)."),
        columns: str = typer.Option(None, "--columns", help="Comma-separated source columns to keep."),
        warehouse: Path = WAREHOUSE,
        json_out: bool = JSON,
    ) -> None:
        """Export a table with decoded labels beside raw codes, carrying the release's provenance."""
        from immfacts.lifecycle import export

        cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        r = export(table, format, release=release, out=out, warehouse=warehouse, columns=cols, progress=not json_out)
        if json_out:
            common.print_json(r.to_dict())
            return
        if r.synthetic:
            common.synthetic_banner()
        common.console.print(
            f"wrote {r.rows:,} rows of {r.table} (release {r.release['id']}) to {r.path}\n"
            f"  metadata: {r.metadata_path}",
            highlight=False,
        )
        if r.format == "sqlite":
            common.console.print(f"  open it with: datasette {r.path} -m {r.metadata_path}", highlight=False)
