"""Dimensions: what a metric can be sliced by (``--by``) or filtered on (``--where``).

Time dimensions (``fy``, ``month``, ``administration``) come from the metric's date column
for flows and from the as-of dates for stocks. Attribute dimensions map to a model column
(a metric may point a dimension elsewhere with ``dimension_columns``, e.g. the judge who
decided an asylum application rather than the case's last judge); where the model carries a
``<column>_name`` label from the release's lookups, grouped rows include it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from immfacts.errors import InvalidQueryError, suggest
from immfacts.periods import ADMINISTRATIONS


@dataclass(frozen=True)
class Dimension:
    """One dimension: its name, the model column it reads, and how users may spell it."""

    name: str
    column: str | None  # None for time dimensions
    title: str
    aliases: tuple[str, ...] = ()
    upper: bool = True  # values are codes compared upper-cased

    @property
    def is_time(self) -> bool:
        return self.column is None


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("fy", None, "fiscal year", ("fiscal_year", "fiscal-year")),
        Dimension("month", None, "calendar month", ("calendar_month",)),
        Dimension("administration", None, "administration", ("admin", "president")),
        Dimension("court", "court", "immigration court (base city)", ("base_city", "base_city_code")),
        Dimension("hearing_location", "hearing_location", "hearing location", ("hloc", "hearing_loc")),
        Dimension("nationality", "nationality", "nationality", ("nat", "country", "citizenship")),
        Dimension("language", "language", "language", ("lang",)),
        Dimension("custody", "custody", "custody (N never detained, R released, D detained)", ()),
        Dimension("case_type", "case_type", "case type", ("casetype",)),
        Dimension("judge", "judge", "immigration judge", ("ij", "ij_code")),
        Dimension("representation", "represented", "representation", ("represented", "rep"), upper=False),
        Dimension("asylum_type", "asylum_type", "affirmative / defensive asylum",
                  ("affirmative_defensive", "asy_type"), upper=False),
    )
}
_ALIASES = {a: d.name for d in DIMENSIONS.values() for a in (d.name, *d.aliases)}


def canonical(name: str) -> str:
    """The dimension's canonical name, or a clear error naming the nearest ones."""
    key = name.strip().lower().replace("-", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    near = suggest(key, sorted(_ALIASES))
    raise InvalidQueryError(
        f"unknown dimension {name!r}",
        ("did you mean " + ", ".join(near) + "? " if near else "")
        + "dimensions: " + ", ".join(DIMENSIONS),
    )


def fy_value(raw: str) -> int:
    """``FY2024`` / ``2024`` / ``fy24`` as the integer fiscal year."""
    s = str(raw).strip().lower().removeprefix("fy").strip("' ")
    if not s.isdigit():
        raise InvalidQueryError(f"bad fiscal year {raw!r}", "write fiscal years as FY2024")
    y = int(s)
    return y + 2000 if y < 100 else y


def month_value(raw: str) -> int:
    """``2024-04`` as the integer key 202404."""
    try:
        y, m = str(raw).strip().split("-")
        if not 1 <= int(m) <= 12:
            raise ValueError
        return int(y) * 100 + int(m)
    except ValueError:
        raise InvalidQueryError(f"bad month {raw!r}", "write months as YYYY-MM") from None


def administration_of(d: dt.date) -> str | None:
    """The administration (exact dates) a day belongs to."""
    for key, (_label, start, end) in ADMINISTRATIONS.items():
        if start <= d and (end is None or d <= end):
            return key
    return None


def format_value(dim: str, value: object) -> object:
    """A grouped value as users read it (``FY2024``, ``2024-04``)."""
    if value is None:
        return None
    if dim == "fy":
        return f"FY{int(value)}"
    if dim == "month":
        v = int(value)
        return f"{v // 100:04d}-{v % 100:02d}"
    return value
