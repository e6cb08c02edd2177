"""CLI commands of the web stage: ``immfacts serve`` and ``immfacts get /path``.

Both wrap :mod:`immfacts.web` (``serve`` and ``get``) and hold no logic. ``get`` prints the
body of the answer (JSON pretty-printed) and exits non-zero for an HTTP error status, so
``immfacts get /api/metrics/eoir.receipts?period=FY2020`` is the same answer as the HTTP API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from immfacts.cli import common


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``get`` to the root app."""

    @app.command("serve")
    @common.handle_errors
    def serve(
        warehouse: Path = typer.Option(None, help="Warehouse folder (default: $IMMFACTS_HOME or the per-user data folder)."),
        host: str = typer.Option("127.0.0.1", help="Interface to listen on (127.0.0.1 = this machine only)."),
        port: int = typer.Option(8000, help="TCP port."),
        allow_private_fetch: bool = typer.Option(
            False, "--allow-private-fetch",
            help="Let the claim checker fetch URLs on loopback/private addresses (off for public servers).",
        ),
    ) -> None:
        """Serve the web app: dashboard, metric explorer, claim checker, definitions, data quality."""
        from immfacts.warehouse import Warehouse
        from immfacts.web import serve as _serve

        wh = Warehouse(warehouse)
        rels = wh.releases()
        if rels and rels[0].synthetic:
            common.synthetic_banner()
        where = f"release {rels[0].id} ({rels[0].data_date})" if rels else "no release yet — run `make demo`"
        common.err_console.print(f"Warehouse [bold]{wh.path}[/bold]: {where}", highlight=False)
        common.err_console.print(f"Open [bold]http://{host}:{port}[/bold] — Ctrl-C to stop", highlight=False)
        _serve(warehouse, host=host, port=port, allow_private_fetch=allow_private_fetch)

    @app.command("get")
    @common.handle_errors
    def get(
        path: str = typer.Argument(..., help="Route of the web app, e.g. /api/metrics/eoir.receipts?period=FY2020"),
        warehouse: Path = typer.Option(None, help="Warehouse folder (default: $IMMFACTS_HOME or the per-user data folder)."),
    ) -> None:
        """Answer one web route in-process (no server) and print the body; non-zero exit on an HTTP error."""
        from immfacts.web import get as _get

        r = _get(path, warehouse=warehouse)
        if "json" in r.content_type:
            body = json.loads(r.text)
            if isinstance(body, dict) and body.get("synthetic"):
                common.synthetic_banner()  # stderr: stdout stays pure JSON
            common.print_json(body)
        else:
            typer.echo(r.text)
        if not r.ok:
            sys.exit(1)
