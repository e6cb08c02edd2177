"""Request limits and security headers, as one small ASGI middleware.

* **Body size**: a request body over :data:`MAX_BODY_BYTES` is answered ``413`` with the
  canonical error shape — checked from ``Content-Length`` before reading, and counted while
  reading for chunked bodies, so an oversized upload is never buffered whole.
* **Query string size**: over :data:`MAX_QUERY_BYTES` → ``413``.
* **Headers**: a Content-Security-Policy that allows scripts and styles only from this
  origin (no inline script: an injected ``<script>`` would not run even if escaping ever
  failed), no framing, ``nosniff`` and no referrer.

Article text itself is limited separately (:data:`immfacts.web.checking.MAX_TEXT_BYTES`).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 256 * 1024
MAX_QUERY_BYTES = 8 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def _too_large_body(what: str, limit: int) -> bytes:
    from immfacts.web.errorshape import error_body

    body = error_body(
        413,
        f"the {what} is larger than {limit // 1024} KB",
        [{"type": "InputTooLargeError", "hint": "send a shorter article or query"}],
    )
    return json.dumps(body).encode()


class LimitsMiddleware:
    """Enforce body/query size limits and add security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_query: int = MAX_QUERY_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self.max_query = max_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        html = not scope.get("path", "").startswith("/api") and b"text/html" in headers.get(b"accept", b"")
        if len(scope.get("query_string", b"")) > self.max_query:
            await self._reject(send, "query string", self.max_query, html)
            return
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body:
            await self._reject(send, "request body", self.max_body, html)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # FastAPI re-raises HTTPExceptions from body reading; the app's handler
                    # turns this one into the canonical 413 error.
                    raise StarletteHTTPException(413, f"the request body is larger than {self.max_body // 1024} KB")
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in existing]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, counting_receive, send_with_headers)

    async def _reject(self, send: Send, what: str, limit: int, html: bool = False) -> None:
        """Answer 413 before the app runs: the canonical JSON, or a short page for a browser."""
        body = _too_large_body(what, limit)
        ctype = b"application/json"
        if html:
            message = json.loads(body)["error"]
            body = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too large · immfacts</title>'
                '<link rel="stylesheet" href="/static/app.css"></head><body><main><h1>Too large</h1>'
                f'<div class="error-box" id="error" data-status="413"><p>Error 413: {message}.</p>'
                '<p class="hint">Check the part of the article with the numbers.</p></div>'
                '<p><a href="/check">Back to the claim checker</a></p></main></body></html>'
            ).encode()
            ctype = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
