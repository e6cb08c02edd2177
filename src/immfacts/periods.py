"""Periods: the time windows statistics are asked for, and how text becomes one.

Accepted forms (case-insensitive):

* a date ``2024-04-30`` (for stocks such as pending cases: "as of");
* a month ``2024-04``, a calendar year ``2023`` / ``CY2023``;
* a fiscal year ``FY2023`` / ``FY23`` (2022-10-01 .. 2023-09-30);
* ranges ``A..B`` of any of the above (``FY2022..FY2024``, ``2021-02..2024-04``);
  an open end (``FY2022..``) runs to the data's end date, and the result says so;
* administrations ``obama2``, ``trump1``, ``biden``, ``trump2`` (aliases ``trump`` =
  trump1, ``obama`` = obama2), in three modes: ``exact_dates`` (default; inauguration day
  belongs to the incoming president), ``fy_whole`` (the fiscal years that overlap the term,
  e.g. Biden = FY2021..FY2024) and ``fy_from_first_full`` (the first full fiscal year on,
  Biden = FY2022..FY2024). Write ``biden:fy_whole`` to pick a mode in a period string.

Fiscal year: ``fy(d) = d.year + (d.month >= 10)``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from immfacts.errors import PeriodError

ADMINISTRATIONS: dict[str, tuple[str, dt.date, dt.date | None]] = {
    "obama1": ("Obama (first term)", dt.date(2009, 1, 20), dt.date(2013, 1, 19)),
    "obama2": ("Obama (second term)", dt.date(2013, 1, 20), dt.date(2017, 1, 19)),
    "trump1": ("Trump (first term)", dt.date(2017, 1, 20), dt.date(2021, 1, 19)),
    "biden": ("Biden", dt.date(2021, 1, 20), dt.date(2025, 1, 19)),
    "trump2": ("Trump (second term)", dt.date(2025, 1, 20), None),
}
ADMIN_ALIASES = {"obama": "obama2", "trump": "trump1", "trump_1": "trump1", "trump_2": "trump2"}
ADMIN_MODES = ("exact_dates", "fy_whole", "fy_from_first_full")


def fy(d: dt.date) -> int:
    """Federal fiscal year of a date (FY2024 = 2023-10-01 .. 2024-09-30)."""
    return d.year + (1 if d.month >= 10 else 0)


def fy_start(year: int) -> dt.date:
    return dt.date(year - 1, 10, 1)


def fy_end(year: int) -> dt.date:
    return dt.date(year, 9, 30)


@dataclass(frozen=True)
class Period:
    """A resolved period: ``start`` .. ``end`` inclusive; ``start is None`` for a date (stock)."""

    start: dt.date | None
    end: dt.date
    text: str
    kind: str = "range"  # range | date
    notes: tuple[str, ...] = field(default=())

    @property
    def is_date(self) -> bool:
        return self.kind == "date"

    def fiscal_years(self) -> list[int]:
        lo = fy(self.start or self.end)
        return list(range(lo, fy(self.end) + 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat(),
            "text": self.text,
            "kind": self.kind,
            "notes": list(self.notes),
        }

    def clip(self, data_start: dt.date | None, data_end: dt.date | None) -> Period:
        """Clip to the data's coverage, recording a note when anything was cut."""
        start, end, notes = self.start, self.end, list(self.notes)
        if data_end and end > data_end:
            notes.append(f"end clipped to the data's last date {data_end.isoformat()}")
            end = data_end
        if data_start and start and start < data_start:
            notes.append(f"start clipped to the data's first date {data_start.isoformat()}")
            start = data_start
        if start and start > end:
            raise PeriodError(
                f"period {self.text!r} lies outside the data ({data_start} .. {data_end})",
                "choose a period the release covers (see `immfacts releases`)",
            )
        return Period(start, end, self.text, self.kind, tuple(notes))


_FY = re.compile(r"^fy\s*'?(\d{2}|\d{4})$")
_CY = re.compile(r"^(?:cy)?\s*(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _year(s: str) -> int:
    y = int(s)
    return y + 2000 if y < 100 else y


def _bounds(token: str, today: dt.date | None) -> tuple[dt.date, dt.date, str]:
    """(first day, last day, kind) of one token; kind is 'date' for a single day."""
    t = token.strip().lower()
    if t in ("today", "now", "latest"):
        d = today or dt.date.today()
        return d, d, "date"
    if m := _FY.match(t):
        y = _year(m.group(1))
        return fy_start(y), fy_end(y), "range"
    if m := _DATE.match(t):
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as e:
            raise PeriodError(f"bad date {token!r}: {e}", "write dates as YYYY-MM-DD") from None
        return d, d, "date"
    if m := _MONTH.match(t):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise PeriodError(f"bad month {token!r}", "write months as YYYY-MM")
        return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1]), "range"
    if m := _CY.match(t):
        y = int(m.group(1))
        return dt.date(y, 1, 1), dt.date(y, 12, 31), "range"
    raise PeriodError(
        f"cannot read period {token!r}",
        "use e.g. FY2024, FY2022..FY2024, 2023, 2021-02..2024-04, 2024-04-30, biden",
    )


def administration(name: str, mode: str = "exact_dates", today: dt.date | None = None) -> Period:
    """The period of an administration under one of the three modes."""
    key = ADMIN_ALIASES.get(name.lower(), name.lower())
    if key not in ADMINISTRATIONS:
        raise PeriodError(
            f"unknown administration {name!r}",
            f"choose one of {', '.join(ADMINISTRATIONS)}",
        )
    if mode not in ADMIN_MODES:
        raise PeriodError(f"unknown administration mode {mode!r}", f"choose one of {', '.join(ADMIN_MODES)}")
    label, start, end = ADMINISTRATIONS[key]
    notes: list[str] = []
    if end is None:
        end = today or dt.date.today()
        notes.append(f"{label}: open-ended, to {end.isoformat()}")
    if mode == "exact_dates":
        return Period(start, end, key, "range", tuple(notes))
    # The fiscal year holding the inauguration (most of it is the new term's) starts the
    # fy_whole window; the last full fiscal year before the term ends closes both windows.
    first_fy = fy(start) if mode == "fy_whole" else fy(start) + 1
    if ADMINISTRATIONS[key][2] is None:
        last_fy, p_end = fy(end), end
    else:
        last_fy = fy(end) if (end.month, end.day) == (9, 30) else fy(end) - 1
        p_end = fy_end(last_fy)
    notes.append(f"{label} as fiscal years FY{first_fy}..FY{last_fy} ({mode})")
    return Period(fy_start(first_fy), p_end, f"{key}:{mode}", "range", tuple(notes))


def parse_period(text: str | Period | None, today: dt.date | None = None) -> Period | None:
    """Parse a period string (see module docstring). ``None`` stays ``None``."""
    if text is None or isinstance(text, Period):
        return text
    raw = str(text).strip()
    if not raw:
        return None
    low = raw.lower()
    name, _, mode = low.partition(":")
    if ADMIN_ALIASES.get(name, name) in ADMINISTRATIONS:
        return administration(name, mode or "exact_dates", today)
    if ".." in low:
        a, b = (s.strip() for s in low.split("..", 1))
        if not a:
            raise PeriodError(f"period {raw!r} has no start", "write START..END or START..")
        a_start, _, _ = _bounds(a, today)
        notes: tuple[str, ...] = ()
        if b:
            _, b_end, _ = _bounds(b, today)
        else:
            b_end = today or dt.date.today()
            notes = (f"open end: runs to {b_end.isoformat()}",)
        if a_start > b_end:
            raise PeriodError(f"period {raw!r} ends before it starts", "swap the two ends")
        return Period(a_start, b_end, raw, "range", notes)
    start, end, kind = _bounds(low, today)
    if kind == "date":
        return Period(None, end, raw, "date")
    return Period(start, end, raw, "range")
