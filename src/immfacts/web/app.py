"""The FastAPI application: one factory, the pages and the JSON API over the same library calls.

:func:`create_app` builds the app for one warehouse. Pages (``web/pages.py``) and the JSON
API (``web/api.py``) call the same public functions as the CLI and Python
(``Warehouse.metric``, ``immfacts.check``, ``immfacts.reference.sources`` …) through the
thin helpers of ``web/services.py``; nothing is computed only for the web.

Templates are Jinja2 with autoescaping on for every template (untrusted article text,
query parameters and data values are always escaped); the only markup inserted unescaped
is the claim checker's own report HTML (``immfacts.claims.render_html``, which escapes the
article) and the SVG charts of ``web/charts.py`` (which escape every label).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from immfacts import __version__
from immfacts.provenance import SYNTHETIC_LABEL
from immfacts.warehouse import Warehouse
from immfacts.web import charts, errorshape
from immfacts.web.limits import LimitsMiddleware

HERE = Path(__file__).resolve().parent

NAV = (
    ("home", "/", "Home"),
    ("explore", "/explore", "Metric explorer"),
    ("check", "/check", "Check a claim"),
    ("definitions", "/definitions", "Definitions"),
    ("quality", "/quality", "Data quality"),
    ("sources", "/sources", "Sources"),
)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = charts.format_value
    env.globals["version"] = __version__
    env.globals["nav"] = NAV
    env.globals["synthetic_label"] = SYNTHETIC_LABEL
    return env


@dataclass
class WebContext:
    """What every request handler needs: the warehouse, the operator's choices, templates."""

    warehouse: Warehouse
    allow_private_fetch: bool = False
    env: jinja2.Environment = field(default_factory=_env)

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a page with the shared layout context (release, SYNTHETIC banner, nav)."""
        from immfacts.web import services

        base = services.layout_context(self.warehouse, context.pop("release_id", None))
        base.update(context)
        base["request"] = request
        html = self.env.get_template(template).render(base)
        return HTMLResponse(html, status_code=status)


def context_of(request: Request) -> WebContext:
    """The :class:`WebContext` of the app serving ``request``."""
    return request.app.state.ctx


def render_error_page(request: Request, status: int, message: str, errors: list[dict[str, Any]]) -> HTMLResponse:
    """An HTML page carrying the same content as the canonical JSON error."""
    ctx = context_of(request)
    try:
        return ctx.render(request, "error.html", status=status, status_code=status, message=message, errors=errors)
    except Exception:  # the layout itself failed (e.g. an unreadable warehouse): plain page
        from markupsafe import escape

        return HTMLResponse(f"<h1>Error {status}</h1><p>{escape(message)}</p>", status_code=status)


def create_app(warehouse: str | os.PathLike[str] | None = None, allow_private_fetch: bool = False) -> FastAPI:
    """The web app for ``warehouse`` (default: the default warehouse).

    ``allow_private_fetch`` lets the claim checker fetch URLs on loopback/private addresses
    (off by default: a public server must not be usable to probe its own network).
    """
    from immfacts.web import api, pages

    app = FastAPI(
        title="immfacts",
        version=__version__,
        description=(
            "Reproducible U.S. immigration statistics (EOIR case data and official reference "
            "figures) and a checker for the numbers in the news. The same functions as the "
            "`immfacts` CLI and Python API. Every error has the shape "
            "`{ok: false, error, errors, status}`."
        ),
        openapi_url="/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the app stays offline
        redoc_url=None,
    )
    app.state.ctx = WebContext(Warehouse(warehouse), allow_private_fetch=allow_private_fetch)
    app.add_middleware(LimitsMiddleware)
    errorshape.install(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
