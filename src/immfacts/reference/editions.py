"""Editions: which publication of a revised figure a query reads.

Official series are revised: EOIR's pending cases at the end of FY2016 are 521,517 in its
April 2021 edition and 826,488 in April 2026; CBP re-issues its monthly files. The bundle
keeps every edition it has, each dated by its source's publication date, and a query picks:

* ``latest`` (default) — for each figure (or CBP month), the newest edition that has it;
* ``as-of`` with ``as_of=DATE`` — the newest edition published on or before DATE, i.e. the
  figure as a reader could have seen it that day (passing ``as_of`` implies this mode);
  sources whose publication date is not recorded are always eligible, and results say so;
* a named edition (a source or CBP release id, e.g. ``eoir-adjstats-2021-04-19``) — only
  that edition.

Every result names the editions it used (``release.editions``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from immfacts.errors import InvalidQueryError
from immfacts.reference.store import sql_str


@dataclass(frozen=True)
class Edition:
    """A resolved edition choice."""

    mode: str  # latest | as-of | named
    as_of: dt.date | None = None
    name: str | None = None

    def condition(self, published: str, ident: str) -> str:
        """SQL condition on a source/release (its publication-date and id columns)."""
        if self.mode == "as-of":
            return f"({published} IS NULL OR {published} <= DATE {sql_str(self.as_of.isoformat())})"
        if self.mode == "named":
            return f"{ident} = {sql_str(self.name)}"
        return "TRUE"

    def describe(self) -> str:
        """The edition choice in words, for results and errors."""
        if self.mode == "as-of":
            return f"as of {self.as_of.isoformat()} (the newest edition published by then)"
        if self.mode == "named":
            return f"edition {self.name}"
        return "latest (the newest edition of each figure)"

    def to_dict(self) -> dict[str, Any]:
        """The edition choice as JSON."""
        return {"mode": self.mode, "as_of": self.as_of.isoformat() if self.as_of else None, "name": self.name}


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidQueryError(f"cannot read the date {value!r}", "write dates as YYYY-MM-DD") from None


def parse_edition(edition: str | None, as_of: Any = None) -> Edition:
    """Resolve ``edition`` / ``as_of`` (see the module docstring)."""
    text = (edition or "").strip()
    key = text.lower().replace("_", "-")
    if key in ("", "latest"):
        return Edition("as-of", _date(as_of)) if as_of not in (None, "") else Edition("latest")
    if key in ("as-of", "asof"):
        if as_of in (None, ""):
            raise InvalidQueryError(
                "edition 'as-of' needs a date",
                "pass as_of=YYYY-MM-DD (CLI: --as-of 2024-06-01), the day the figure should be read as of",
            )
        return Edition("as-of", _date(as_of))
    return Edition("named", None, text)
