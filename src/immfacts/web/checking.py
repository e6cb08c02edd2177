"""Checking an article from the web: size limits, the URL guard, and the same library calls.

``POST /api/check`` and the claim-checker page both come here. Text is limited to
:data:`MAX_TEXT_BYTES` (``413`` beyond); a URL must pass :func:`~immfacts.web.fetchguard.check_fetch_url`
(http/https only, public addresses only unless the operator allowed private ones) and is
then fetched and checked by :func:`immfacts.claims.check_url` with the CLI's own limits.
Text is checked by :func:`immfacts.check`. Reports are rendered by
:func:`immfacts.claims.render_html` — the same verdict cards as the HTML report.

The example article checked by ``make demo`` (``<home>/reports/article.json``) is shown on
the claim page when present.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from typing import Any

from markupsafe import Markup

from immfacts.errors import InvalidQueryError, PeriodError
from immfacts.warehouse import Warehouse
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


def run_check(
    wh: Warehouse,
    text: str | None = None,
    url: str | None = None,
    as_of: str | dt.date | None = None,
    allow_private_fetch: bool = False,
) -> Any:
    """Check ``text`` or the article at ``url`` (exactly one) against ``wh``; returns the CheckReport."""
    text = text if text and text.strip() else None
    url = url.strip() if url and url.strip() else None
    if bool(text) == bool(url):
        raise InvalidQueryError(
            "give either the article text or its URL" + (" (not both)" if text else ""),
            'POST {"text": "…"} or {"url": "https://…"}, optionally with "as_of": "YYYY-MM-DD"',
        )
    when = parse_as_of(as_of)
    wh_arg = wh if wh.has_release() else None
    if text is not None:
        check_text_size(text)
        import immfacts

        return immfacts.check(text, as_of=when, warehouse=wh_arg)
    check_fetch_url(url, allow_private=allow_private_fetch)
    from immfacts.claims import check_url

    kwargs: dict[str, Any] = {"as_of": when, "warehouse": wh_arg}
    params = inspect.signature(check_url).parameters
    for name in ("allow_private", "allow_private_fetch"):
        if name in params:
            kwargs[name] = allow_private_fetch
    return check_url(url, **{k: v for k, v in kwargs.items() if k in params or _has_var_kw(params)})


def _has_var_kw(params: Any) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


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
