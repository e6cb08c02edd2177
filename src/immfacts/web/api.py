"""The JSON API: the CLI's and Python's functions over HTTP, with the same names and arguments.

| HTTP | CLI | Python |
|---|---|---|
| ``GET /api/metrics`` | ``immfacts metrics`` | ``immfacts.metrics.catalogue()`` |
| ``GET /api/metrics/{id}?period=&by=&where=&variant=&release=`` | ``immfacts metric ID …`` | ``Warehouse().metric(id, …)`` |
| ``POST /api/check`` ``{text\\|url, as_of}`` | ``immfacts check`` | ``immfacts.check(text, as_of=…)`` |
| ``GET /api/releases`` | ``immfacts releases`` | ``Warehouse().releases()`` |
| ``GET /api/releases/{id}/report`` | ``immfacts ingest --json`` (its report) | ``ReleaseInfo.report()`` |
| ``GET /api/sources`` | ``immfacts sources`` | ``immfacts.reference.sources()`` |

Successful answers carry ``"ok": true`` next to the library's own JSON (``Result.to_dict()``,
``CheckReport.to_dict()``); errors have the one shape of ``web/errorshape.py``. The metric
and check handlers are ``async``: a cached answer is returned from the event loop, and a
computation waits its turn there (``web/cache.py``) before running in a worker thread, so
slow queries never tie up the thread pool. The others are plain ``def`` functions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from immfacts.web import checking, services
from immfacts.web.app import context_of
from immfacts.web.queries import MetricQuery

router = APIRouter(prefix="/api", tags=["api"])


class CheckRequest(BaseModel):
    """Body of ``POST /api/check``: the article text or its URL, and the publication date."""

    text: str | None = Field(None, description="Article text (at most 200 KB).")
    url: str | None = Field(None, description="Article URL (http/https; fetched server-side).")
    as_of: str | None = Field(None, description="Publication date YYYY-MM-DD (default: found in the page, else today).")


def _ok(obj: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, **obj}


@router.get("/metrics", summary="The metric catalogue")
def list_metrics() -> dict[str, Any]:
    """Every metric: id, title, plain-English definition, unit, dimensions, variants, caveats."""
    return _ok({"metrics": services.catalogue()})


@router.get("/metrics/{metric_id}", summary="Compute a metric", response_model=None)
async def get_metric(
    request: Request,
    metric_id: str,
    period: Annotated[str | None, Query(description="FY2024, FY2022..FY2024, 2024-04-30, biden …")] = None,
    by: Annotated[str | None, Query(description="Group by a dimension (fy, court, nationality …)")] = None,
    where: Annotated[list[str] | None, Query(description="Filters DIMENSION=VALUE (repeatable)")] = None,
    variant: Annotated[str | None, Query(description="A named variant, or 'all'")] = None,
    release: Annotated[str | None, Query(description="Release id (default: the newest)")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json (default) or csv")] = "json",
) -> Response | dict[str, Any]:
    """The same as ``immfacts metric ID --json`` and ``Warehouse().metric(ID, …).to_dict()``."""
    ctx = context_of(request)
    q = MetricQuery.parse(metric_id, period=period, by=by, where=where, variant=variant, release=release)
    result = await services.run_metric_async(ctx.warehouse, q)
    if format == "csv":
        name = metric_id + ("-SYNTHETIC" if result.synthetic else "") + ".csv"
        return Response(
            services.result_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return _ok(result.to_dict())


@router.post("/check", summary="Check the numbers in an article")
async def post_check(
    request: Request,
    body: Annotated[CheckRequest, Body(description="{text | url, as_of}")],
) -> JSONResponse:
    """The same as ``immfacts check`` / ``immfacts.check(text, as_of=…)``: one entry per numeric claim."""
    ctx = context_of(request)
    report = await checking.run_check_async(
        ctx.warehouse, text=body.text, url=body.url, as_of=body.as_of, allow_private_fetch=ctx.allow_private_fetch
    )
    return JSONResponse(_ok(checking.report_dict(report)))


@router.get("/releases", summary="Releases in the warehouse")
def list_releases(request: Request) -> dict[str, Any]:
    """Every ingested release, newest first (release.json without internals)."""
    ctx = context_of(request)
    rels = services.releases(ctx.warehouse)
    return _ok({"warehouse": str(ctx.warehouse.path), "releases": rels,
                "synthetic": bool(rels and rels[0].get("synthetic"))})


@router.get("/releases/{release_id}/report", summary="The ingest report of a release")
def release_report(request: Request, release_id: str) -> dict[str, Any]:
    """The ingest report: reconciliation, repairs, quarantine by reason, Count.txt agreement."""
    rel = context_of(request).warehouse.release(release_id)
    return _ok({"release": rel.id, "synthetic": rel.synthetic, "report": rel.report()})


@router.get("/sources", summary="Reference series and their citations")
def list_sources() -> dict[str, Any]:
    """The bundled reference series: publisher, title, URL, coverage, editions."""
    return _ok({"sources": services.sources()})
