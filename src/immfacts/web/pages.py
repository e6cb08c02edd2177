"""The HTML pages: home, metric explorer, claim checker, definitions, data quality, sources.

Every page is server-rendered from the same library calls as the JSON API. The explorer's
URL encodes its whole query (metric, variants, period, ``by``, filters, number/percent
mode), so any view can be shared; filters cascade like TRAC's tools — the values offered
for a filter are the groups that exist under the filters before it. A library error on a
page (unknown metric, bad period) is shown in the page with the error's HTTP status.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from immfacts.errors import ImmfactsError, WarehouseError
from immfacts.web import checking, quality, services
from immfacts.web.app import context_of
from immfacts.web.errorshape import immfacts_error_entry
from immfacts.web.queries import MetricQuery

router = APIRouter(include_in_schema=False)

PERIOD_PRESETS = ("FY2024", "FY2023", "FY2020..FY2024", "FY2014..FY2024", "2024-09-30", "biden", "trump1", "biden:fy_whole")
MAX_FILTER_OPTIONS = 300


def _error_view(e: ImmfactsError) -> dict[str, Any]:
    return {"status": e.http_status, "message": e.message, **immfacts_error_entry(e)}


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, release: str | None = None) -> HTMLResponse:
    """Headline numbers with their variants and small trends; the release and its date."""
    ctx = context_of(request)
    cards, problems = services.headline_cards(ctx)
    return ctx.render(request, "home.html", release_id=release, page="home", cards=cards, problems=problems)


def _filters(where: list[str], wdim: list[str], wval: list[str]) -> list[tuple[str, str]]:
    """Filter rows from ``where=dim=value`` params plus the form's ``wdim``/``wval`` pairs."""
    rows = [(w.partition("=")[0].strip(), w.partition("=")[2].strip()) for w in where if "=" in w]
    rows += [(d.strip(), v.strip()) for d, v in zip_longest(wdim, wval, fillvalue="") if d.strip()]
    seen: dict[str, str] = {}
    for d, v in rows:
        if d and (d not in seen or v):
            seen[d] = v
    return list(seen.items())


def _filter_options(
    ctx: Any, q: MetricQuery, filters: list[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """Cascading filter values: for filter i, the (code, name) groups present under filters 0..i-1."""
    options: dict[str, list[tuple[str, str]]] = {}
    for i, (dim, _value) in enumerate(filters):
        before = tuple(f"{d}={v}" for d, v in filters[:i] if v)
        sub = MetricQuery(metric=q.metric, period=q.period, by=dim, where=before, release=q.release)
        try:
            r = services.run_metric(ctx.warehouse, sub)
        except ImmfactsError:
            continue
        key = (r.groups or [dim])[0]
        pairs = {
            (str(row[key]), str(row.get(f"{key}_name") or ""))
            for row in (r.rows or [])
            if row.get(key) is not None
        }
        options[dim] = sorted(pairs)[:MAX_FILTER_OPTIONS]
    return options


@router.api_route("/explore", methods=["GET", "HEAD"], response_class=HTMLResponse)
def explore(
    request: Request,
    metric: str | None = None,
    period: str | None = None,
    by: str | None = None,
    where: Annotated[list[str] | None, Query()] = None,
    wdim: Annotated[list[str] | None, Query()] = None,
    wval: Annotated[list[str] | None, Query()] = None,
    variant: Annotated[list[str] | None, Query()] = None,
    release: str | None = None,
    mode: str = "number",
) -> HTMLResponse:
    """Choose a metric, variants, period, a ``by`` dimension and filters → chart, table, definition, SQL."""
    ctx = context_of(request)
    catalogue = services.catalogue()
    view: dict[str, Any] = {
        "page": "explore", "catalogue": catalogue, "period_presets": PERIOD_PRESETS,
        "mode": "percent" if mode == "percent" else "number", "results": [], "error": None,
    }
    metric = metric or (catalogue[0]["id"] if catalogue else None)
    if metric is None:
        return ctx.render(request, "explore.html", **view)
    filters = _filters(where or [], wdim or [], wval or [])
    view.update(metric=metric, period=period or "", by=by or "", filters=filters, variants_chosen=variant or [])
    status = 200
    try:
        q = MetricQuery.parse(
            metric, period=period, by=by, where=[f"{d}={v}" for d, v in filters if v],
            variant=variant, release=release,
        )
        view["query"] = q
        view["info"] = services.metric_info(q.metric)
        results = services.run_variants(ctx.warehouse, q)
        primary = results[0]
        view.update(
            results=results,
            primary=primary,
            table=services.result_table(primary, view["info"]),
            chart=services.result_chart(primary, view["info"]),
            filter_options=_filter_options(ctx, q, filters),
        )
    except ImmfactsError as e:
        view["error"] = _error_view(e)
        status = e.http_status
    return ctx.render(request, "explore.html", status=status, release_id=release, **view)


def _check_page(request: Request, status: int = 200, **view: Any) -> HTMLResponse:
    ctx = context_of(request)
    example, example_note = (None, None)
    if "report" not in view:
        example, example_note = checking.example_report(ctx.warehouse)
    view.setdefault("text", "")
    view.setdefault("url", "")
    view.setdefault("as_of", "")
    return ctx.render(
        request, "check.html", status=status, page="check",
        example_html=checking.render_report(example) if example is not None else None,
        example_note=example_note, max_kb=checking.MAX_TEXT_BYTES // 1024,
        allow_private_fetch=ctx.allow_private_fetch, **view,
    )


@router.api_route("/check", methods=["GET", "HEAD"], response_class=HTMLResponse)
def check_form(request: Request) -> HTMLResponse:
    """Paste text or a URL; shows the demo's checked example article when present."""
    return _check_page(request)


@router.post("/check", response_class=HTMLResponse)
def check_submit(
    request: Request,
    text: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    as_of: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Run the claim checker and show the annotated article with its verdict cards."""
    ctx = context_of(request)
    try:
        report = checking.run_check(
            ctx.warehouse, text=text, url=url, as_of=as_of, allow_private_fetch=ctx.allow_private_fetch
        )
    except ImmfactsError as e:
        return _check_page(request, status=e.http_status, error=_error_view(e), text=text, url=url, as_of=as_of)
    data = checking.report_dict(report)
    return _check_page(
        request, report=report, report_html=checking.render_report(report), report_data=data,
        text=text, url=url, as_of=as_of,
    )


@router.api_route("/definitions", methods=["GET", "HEAD"], response_class=HTMLResponse)
def definitions(request: Request) -> HTMLResponse:
    """Every metric's definition and variants, generated from the registry."""
    ctx = context_of(request)
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in services.catalogue():
        groups.setdefault(_topic(m), []).append(m)
    return ctx.render(request, "definitions.html", page="definitions", groups=groups)


def _topic(m: dict[str, Any]) -> str:
    source = str(m.get("source") or "")
    mid = str(m.get("id") or "")
    if source == "reference" or not mid.startswith("eoir.") or mid.startswith("eoir.published"):
        return "Reference figures (bundled, cited)"
    if mid.startswith("eoir.asylum") or "asylum" in mid:
        return "EOIR case data — asylum"
    if mid.startswith("eoir.judge"):
        return "EOIR case data — judges"
    return "EOIR case data — caseload and outcomes"


@router.api_route("/quality", methods=["GET", "HEAD"], response_class=HTMLResponse)
def quality_page(request: Request, release: str | None = None) -> HTMLResponse:
    """The ingest report of a release (reconciliation, repairs, quarantine, Count.txt) and the release list."""
    ctx = context_of(request)
    try:
        view = quality.quality(ctx.warehouse, release)
        status, error = 200, None
    except WarehouseError as e:
        view, status, error = {}, (e.http_status if release else 200), _error_view(e)
    return ctx.render(request, "quality.html", status=status, release_id=release, page="quality",
                      q=view, error=error)


@router.api_route("/sources", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sources_page(request: Request) -> HTMLResponse:
    """The reference series' citations and coverage."""
    ctx = context_of(request)
    return ctx.render(request, "sources.html", page="sources", sources=services.sources())
