"""The claim checker: every number in an article, checked against the catalogue.

A deterministic, explainable grammar over the metric catalogue — number + comparator +
measured thing + scope + period — not an opaque model::

    import immfacts
    report = immfacts.check("More than 350,000 asylum cases were closed since 2022 ...",
                            as_of="2024-06-04")
    report.to_dict()        # the JSON contract of PRODUCT.md
    render_html(report)     # the self-contained HTML report

Modules: ``numbers`` (quantities in text), ``when`` (periods in text), ``lexicon.yaml`` +
``lexicon``/``match`` (which metric a number measures), ``extract`` (sentences → claims),
``tolerance`` and ``verdict`` (rounding-aware verdicts), ``compute`` and ``published`` (the
values), ``check`` (the pipeline), ``report``, ``render`` and ``html`` (outputs), ``fetch``
(URLs), ``evaluate`` (precision and recall on a labelled set).
"""

from __future__ import annotations

from typing import Any

from immfacts.claims.check import check
from immfacts.claims.html import render_html
from immfacts.claims.render import render_json, render_markdown, render_rich
from immfacts.claims.report import CheckReport, ClaimResult

__all__ = [
    "CheckReport",
    "ClaimResult",
    "check",
    "check_url",
    "render_html",
    "render_json",
    "render_markdown",
    "render_rich",
]


def check_url(url: str, as_of: Any = None, warehouse: Any = None, allow_private: bool | None = None) -> CheckReport:
    """Fetch the article at ``url`` (within limits) and check it.

    ``as_of`` defaults to the publication date found in the page, else today.
    """
    from immfacts.claims.fetch import fetch

    art = fetch(url, allow_private=allow_private)
    when = as_of or art.date
    source = {"kind": "url", "url": art.url, "title": art.title,
              "date": art.date.isoformat() if art.date else None}
    return check(art.text, as_of=when, warehouse=warehouse, url=art.url, source=source)
