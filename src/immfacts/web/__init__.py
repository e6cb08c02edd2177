"""The web app: the same statistics, definitions, claim checks and data quality, in a browser.

``immfacts serve`` runs it; ``immfacts get /path`` answers any of its routes from the
command line (in-process, no server). ``create_app(warehouse=None, allow_private_fetch=False)``
returns the FastAPI application for embedding or tests.

Pages are server-rendered Jinja2 (autoescaped) with a few lines of vanilla JavaScript, and
the JSON API mirrors the CLI and Python (``/api/metrics``, ``/api/metrics/{id}``,
``POST /api/check``, ``/api/releases``, ``/api/sources``, schema at ``/openapi.json``).

**Charts are rendered server-side as inline SVG** (``web/charts.py``) rather than by a
JavaScript charting library: the app must work fully offline (no CDN), a bundled library
would be a large vendored file to keep up to date, and SVG built next to the table it
illustrates is escaped by the same code, readable without JavaScript and testable in
plain Python. The number/percent toggle switches between two pre-rendered charts.
"""

from __future__ import annotations

from immfacts.web.app import create_app
from immfacts.web.serve import WebResponse, get, serve

__all__ = ["WebResponse", "create_app", "get", "serve"]
