"""The one JSON error shape of the web API, and the handlers that produce it.

Every error the app returns — a user error from the library
(:class:`immfacts.errors.ImmfactsError`, whose ``http_status`` sets the status), a request
that fails validation, an unknown route, an oversized body, an unexpected crash — has the
same body::

    {"ok": false, "error": "<what is wrong>", "errors": [{...}, ...], "status": <int>}

``errors`` lists the individual problems (a library error's ``type``, ``hint``,
``details`` and, for unknown metrics, ``suggestions``; one entry per invalid field for
validation errors). Pages (non-``/api`` paths asked for by a browser) get the same content
as an HTML page with the same status.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from immfacts.errors import ImmfactsError, InputError

log = logging.getLogger("immfacts.web")


class InputTooLargeError(InputError):
    """A request body, article text or query parameter is larger than the app accepts."""

    http_status = 413


def error_body(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The canonical error object."""
    return {"ok": False, "error": message, "errors": list(errors or []), "status": int(status)}


def error_json(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    """The canonical error object as a JSON response."""
    return JSONResponse(error_body(status, message, errors), status_code=status)


def immfacts_error_entry(e: ImmfactsError) -> dict[str, Any]:
    """One ``errors`` entry for a library error (message, type, hint, details, suggestions)."""
    entry = e.to_dict()
    suggestions = e.details.get("suggestions")
    if isinstance(suggestions, list | tuple):
        entry["suggestions"] = [str(s) for s in suggestions]
    return entry


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/api" or path.endswith(".json"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or request.method == "POST" and "form" in request.headers.get(
        "content-type", ""
    )


def _respond(request: Request, status: int, message: str, errors: list[dict[str, Any]]) -> Response:
    if _wants_html(request):
        from immfacts.web.app import render_error_page

        return render_error_page(request, status, message, errors)
    return error_json(status, message, errors)


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into the canonical shape."""

    @app.exception_handler(ImmfactsError)
    async def _immfacts_error(request: Request, exc: ImmfactsError) -> Response:
        return _respond(request, exc.http_status, exc.message, [immfacts_error_entry(exc)])

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            errors.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
        where = ", ".join(".".join(e["loc"]) for e in errors if e["loc"]) or "request"
        return _respond(request, 422, f"invalid request: check {where}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            message = f"no such page or API route: {request.url.path}"
            errors = [{"type": "NotFound", "hint": "see /openapi.json for the API, or / for the app"}]
        elif exc.status_code == 413:
            message = str(exc.detail)
            errors = [{"type": "InputTooLargeError", "hint": "send a shorter article or query"}]
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            errors = [{"type": "MethodNotAllowed"}]
        else:
            message = str(exc.detail)
            errors = []
        response = _respond(request, exc.status_code, message, errors)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(
            request,
            500,
            "internal error: the server could not answer this request",
            [{"type": type(exc).__name__, "hint": "this is a bug in immfacts; please report it"}],
        )
