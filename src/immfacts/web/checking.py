"""Checking an article from the web: size limits, the URL guard, and the same library calls.

``POST /api/check`` and the claim-checker page both come here. Text is limited to
:data:`MAX_TEXT_BYTES` (``413`` beyond); a URL must pass :func:`~immfacts.web.fetchguard.check_fetch_url`
(http/https only, public addresses only unless the operator allowed private ones) and is
then fetched by the claim checker's own fetcher with the CLI's limits — the two halves of
:func:`immfacts.claims.check_url`, split so that network time never holds the engine lock.
The text is checked by :func:`immfacts.claims.check`; reports are cached by text, date and
release, and rendered by :func:`immfacts.claims.render_html` — the same verdict cards as
the HTML report.

The example article checked by ``make demo`` (``<home>/reports/article.json``) is shown on
the claim page when present.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from immfacts.errors import InvalidQueryError, PeriodError
from immfacts.warehouse import Warehouse
from immfacts.web.cache import ENGINE_LOCK, RESULTS, freeze, gated
from immfacts.web.errorshape import InputTooLargeError
from immfacts.web.fetchguard import check_fetch_url

MAX_TEXT_BYTES = 200 * 1024


def parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    """The publication date (``YYYY-MM-DD``) or ``None``; a bad date is a 422."""
    if as_of is None or isinstance(as_of, dt.date):
        return as_of
    s = str(as_of).strip()
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise PeriodError(f"as_of {s[:40]!r} is not a date", "write the publication date as YYYY-MM-DD") from None


def check_text_size(text: str) -> None:
    """Raise a 413 error when ``text`` is over the limit."""
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise InputTooLargeError(
            f"the article text is {size / 1024:,.0f} KB (limit {MAX_TEXT_BYTES // 1024} KB)",
            "check the part of the article with the numbers, or split it",
        )


@dataclass(frozen=True)
class Article:
    """What will be checked: the text, where it came from, and the publication date."""

    text: str
    as_of: dt.date | None
    url: str | None = None
    source: dict[str, Any] | None = None


def prepare(
    text: str | None = None,
    url: str | None = None,
    as_of: str | dt.date | None = None,
    allow_private_fetch: bool = False,
) -> Article:
    """Validate the request and, for a URL, fetch the article (network time, no engine lock)."""
    text = text if text and text.strip() else None
    url = url.strip() if url and url.strip() else None
    if bool(text) == bool(url):
        raise InvalidQueryError(
            "give either the article text or its URL" + (" (not both)" if text else ""),
            'POST {"text": "…"} or {"url": "https://…"}, optionally with "as_of": "YYYY-MM-DD"',
        )
    when = parse_as_of(as_of)
    if text is not None:
        check_text_size(text)
        return Article(text, when)
    check_fetch_url(url, allow_private=allow_private_fetch)
    from immfacts.claims.fetch import fetch

    # The first half of immfacts.claims.check_url (the checker's own size/time/address
    # limits apply, redirects included); the check itself runs in check_job.
    art = fetch(url, allow_private=allow_private_fetch)
    source = {"kind": "url", "url": art.url, "title": art.title, "date": art.date.isoformat() if art.date else None}
    return Article(art.text, when or art.date, art.url, source)


def check_job(wh: Warehouse, article: Article) -> tuple[Any, Callable[[], Any]]:
    """The cache key of checking ``article`` against ``wh``, and the function that checks it."""
    digest = hashlib.sha256(article.text.encode("utf-8")).hexdigest()
    rels = wh.releases()
    release = (rels[0].id, rels[0].meta.get("ingested_at")) if rels else None
    as_of = article.as_of or dt.date.today()  # "today" changes: part of the key
    key = ("check", str(wh.path), release, digest, as_of.isoformat(), article.url, freeze(article.source or {}))

    def compute() -> Any:
        from immfacts.claims import check

        kwargs: dict[str, Any] = {"as_of": article.as_of, "warehouse": wh}  # never None (see run_check)
        if article.url:
            kwargs.update(url=article.url, source=article.source)
        with ENGINE_LOCK:
            return check(article.text, **kwargs)

    return key, compute


def run_check(
    wh: Warehouse,
    text: str | None = None,
    url: str | None = None,
    as_of: str | dt.date | None = None,
    allow_private_fetch: bool = False,
) -> Any:
    """Check ``text`` or the article at ``url`` (exactly one) against ``wh``; returns the CheckReport.

    The warehouse is always this app's own (given ``None``, the checker would fall back to
    the default warehouse). Reports are cached like metric results.
    """
    article = prepare(text, url, as_of, allow_private_fetch)
    return RESULTS.get_or_compute(*check_job(wh, article))


async def run_check_async(
    wh: Warehouse,
    text: str | None = None,
    url: str | None = None,
    as_of: str | dt.date | None = None,
    allow_private_fetch: bool = False,
) -> Any:
    """:func:`run_check` for async handlers: fetching in a worker thread, checking queued."""
    from starlette.concurrency import run_in_threadpool

    article = await run_in_threadpool(prepare, text, url, as_of, allow_private_fetch)
    return await gated(*check_job(wh, article))


def report_dict(report: Any) -> dict[str, Any]:
    """The report's JSON object (``CheckReport.to_dict()``)."""
    return report if isinstance(report, dict) else report.to_dict()


def render_report(report: Any) -> Markup:
    """The verdict cards and annotated article, as rendered by the claim checker itself."""
    from immfacts.claims import render_html

    return Markup(render_html(report, standalone=False))


def example_report(wh: Warehouse) -> tuple[Any | None, str | None]:
    """The demo's checked example article (``<home>/reports/article.json``), if present."""
    path = wh.path / "reports" / "article.json"
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, f"{path} could not be read ({e})"
    from immfacts.claims.report import CheckReport

    return CheckReport.from_dict(data), None
