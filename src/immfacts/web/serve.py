"""Running the app (``immfacts serve``) and answering one route in-process (``immfacts get``).

:func:`serve` starts Uvicorn on the given host and port for the default or given warehouse.
:func:`get` sends one request to the ASGI app without a server — Datasette's ``--get`` —
so every page and API answer is also reachable from the command line and from tests.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from immfacts.errors import InvalidQueryError


@dataclass(frozen=True)
class WebResponse:
    """One in-process answer: status, content type and body text."""

    status: int
    content_type: str
    text: str

    @property
    def ok(self) -> bool:
        return self.status < 400

    def json(self) -> Any:
        return json.loads(self.text)


def serve(
    warehouse: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_private_fetch: bool = False,
    log_level: str = "info",
) -> None:
    """Serve the web app until interrupted (Ctrl-C)."""
    import uvicorn

    from immfacts.web.app import create_app

    app = create_app(warehouse, allow_private_fetch=allow_private_fetch)
    threading.Thread(target=warm_up, args=(app,), name="immfacts-warm-up", daemon=True).start()
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


def warm_up(app: Any) -> None:
    """Load the catalogue and compute the home page's numbers before the first visitor asks."""
    from immfacts.web import services

    try:
        services.catalogue()
        services.headline_cards(app.state.ctx)
    except Exception:  # a broken warehouse shows its error on the page; never kill the server
        logging.getLogger("immfacts.web").exception("warm-up failed")


def get(
    path: str,
    warehouse: str | os.PathLike[str] | None = None,
    method: str = "GET",
    json_body: Any = None,
    allow_private_fetch: bool = False,
) -> WebResponse:
    """Answer ``path`` (e.g. ``/api/metrics/eoir.receipts?period=FY2020``) with the app, in-process."""
    if not path.startswith("/"):
        raise InvalidQueryError(f"{path!r} is not a path of the app", "paths start with /, e.g. /api/metrics")
    import asyncio

    import httpx

    from immfacts.web.app import create_app

    app = create_app(warehouse, allow_private_fetch=allow_private_fetch)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://immfacts.local") as client:
            headers = {"accept": "application/json, text/html;q=0.9"}
            return await client.request(method.upper(), path, json=json_body, headers=headers)

    r = asyncio.run(call())
    return WebResponse(r.status_code, r.headers.get("content-type", ""), r.text)
