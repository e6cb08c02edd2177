"""CLI commands of the claims stage: ``immfacts check`` and ``immfacts eval``.

Thin wrappers: ``check`` reads the source (file, ``-`` for stdin, or an http(s) URL) and
calls :func:`immfacts.claims.check` / :func:`immfacts.claims.check_url`; ``eval`` calls
:func:`immfacts.claims.evaluate.evaluate`. Rendering is the library's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from immfacts.cli import common
from immfacts.errors import InputError

FORMATS = ("text", "json", "md", "html")


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    p = Path(source)
    if not p.is_file():
        raise InputError(f"{source}: no such file", "give a text file, - for stdin, or an http(s) URL")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return p.read_text(encoding="latin-1")


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``eval`` to the root app."""

    @app.command("check")
    @common.handle_errors
    def check(
        source: str = typer.Argument(..., help="Article: a text file, - for stdin, or an http(s) URL."),
        as_of: str = typer.Option(None, "--as-of", help="Publication date YYYY-MM-DD (default: the page's date, else today)."),
        warehouse: Path = typer.Option(None, "--warehouse", help="Warehouse folder (default: $IMMFACTS_HOME or the per-user folder)."),
        format: str = typer.Option("text", "--format", "-f", help="text | json | md | html"),
        out: Path = typer.Option(None, "--out", "-o", help="Write the report to this file instead of stdout."),
        allow_private_fetch: bool = typer.Option(False, "--allow-private-fetch", help="Allow URLs on loopback/private networks (trusted networks only)."),
    ) -> None:
        """Check every numeric claim in an article against the catalogue."""
        from immfacts import claims

        if format not in FORMATS:
            raise InputError(f"unknown format {format!r}", f"choose one of {', '.join(FORMATS)}")
        if source.startswith(("http://", "https://")) or "://" in source:
            report = claims.check_url(source, as_of=as_of, warehouse=warehouse,
                                      allow_private=True if allow_private_fetch else None)
        else:
            report = claims.check(_read_source(source), as_of=as_of, warehouse=warehouse)
        if report.synthetic and format == "text":
            common.synthetic_banner()
        if format == "text" and out is None:
            claims.render_rich(report, common.console)
            return
        rendered = {"json": claims.render_json, "md": claims.render_markdown, "html": claims.render_html,
                    "text": claims.render_markdown}[format](report)
        if out is not None:
            out.write_text(rendered, encoding="utf-8")
            common.err_console.print(f"wrote {out}")
        else:
            typer.echo(rendered)

    @app.command("eval")
    @common.handle_errors
    def eval_(
        file: Path = typer.Argument(..., help="Labelled sentences (JSON lines; see eval/README.md)."),
        warehouse: Path = typer.Option(None, "--warehouse", help="Warehouse folder (EOIR verdict labels need one)."),
        json_out: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
        errors: bool = typer.Option(False, "--errors", help="List every mismatch."),
    ) -> None:
        """Score the claim checker on a labelled set: extraction P/R, metric, period and verdict accuracy."""
        from immfacts.claims.evaluate import evaluate, render_scores

        scores = evaluate(file, warehouse=warehouse)
        if json_out:
            common.print_json(scores)
        else:
            render_scores(scores, common.console, show_errors=errors)
