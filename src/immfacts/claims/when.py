"""Periods in article text ("since 2022", "under Biden", "in fiscal 2023", "last year",
"in March", "as of April 30") resolved against the publication date.

Each phrase resolves to one or more *readings*: the first is the primary reading; the others
record a genuine ambiguity and are computed too. The ambiguities recorded:

* a calendar year ("since 2022", "in 2023", "last year", "this year") also reads as the
  fiscal year of the same number (FY2022 starts 2021-10-01) — EOIR, TRAC and CBP count in
  fiscal years, reporters often do not say which;
* an administration ("under Biden") reads as its exact dates (primary; inauguration day
  belongs to the incoming president), as whole fiscal years (``fy_whole``, FY2021..) and from
  the first full fiscal year (``fy_from_first_full``, FY2022..) — see :mod:`immfacts.periods`.

Open ends ("since …", an administration still in office) run to the publication date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, replace

from immfacts.periods import ADMINISTRATIONS, administration, fy, fy_end, fy_start

MONTH_NUM = {
    m: i
    for i, names in enumerate(
        [(), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")]
    )
    for m in names
}  # fmt: skip
_MON = r"(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_YR = r"(?P<yr>(?:19|20)\d\d)"
_FYR = r"(?:fiscal(?: year)?s?\s*|fy\s*'?|fys\s*)"
_NUMWORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "twelve": 12, "several": None}  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """One way to read a period phrase: a range (flows) or a date (stocks)."""

    start: dt.date | None
    end: dt.date
    label: str  # calendar | fiscal | exact_dates | fy_whole | fy_from_first_full | month | date | …
    text: str
    notes: tuple[str, ...] = field(default=())

    @property
    def is_date(self) -> bool:
        return self.start is None

    def period_string(self) -> str:
        """The period in :func:`immfacts.periods.parse_period` syntax."""
        if self.start is None:
            return self.end.isoformat()
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def as_stock(self) -> Reading:
        """A range read as the level at its last day ("the backlog in fiscal 2023")."""
        if self.start is None:
            return self
        return Reading(None, self.end, self.label, self.text,
                       self.notes + (f"a level: taken at the end of the period, {self.end.isoformat()}",))

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat(),
            "text": self.text,
            "reading": self.label,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PeriodPhrase:
    """A period phrase found in a sentence, with its readings (primary first)."""

    start: int
    end: int
    text: str
    readings: tuple[Reading, ...]
    comparison: bool = False  # "from last year", "a year earlier": the base of a change claim


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _clip(r: Reading, as_of: dt.date) -> Reading:
    if r.end > as_of and (r.start is None or r.start <= as_of):
        return replace(r, end=as_of, notes=r.notes + (f"runs to the publication date {as_of.isoformat()}",))
    return r


def _cal_and_fiscal(y: int, text: str, as_of: dt.date, open_end: bool) -> tuple[Reading, ...]:
    cal_end = as_of if open_end else dt.date(y, 12, 31)
    fis_end = as_of if open_end else fy_end(y)
    cal = Reading(dt.date(y, 1, 1), cal_end, "calendar", text, (f"calendar {y}" + ("–" if open_end else ""),))
    fis = Reading(fy_start(y), fis_end, "fiscal", text,
                  (f"fiscal year FY{y}" + ("–" if open_end else "") + f" (from {fy_start(y).isoformat()})",))
    return tuple(_clip(r, as_of) for r in (cal, fis))


def _admin_key(name: str, as_of: dt.date) -> str:
    n = name.lower()
    if n == "trump":
        return "trump2" if as_of >= ADMINISTRATIONS["trump2"][1] else "trump1"
    if n == "obama":
        return "obama2" if as_of >= ADMINISTRATIONS["obama2"][1] else "obama1"
    return n


def _admin_at(as_of: dt.date, offset: int) -> str:
    keys = list(ADMINISTRATIONS)
    current = next(k for k in reversed(keys) if ADMINISTRATIONS[k][1] <= as_of)
    return keys[max(0, keys.index(current) + offset)]


def admin_readings(key: str, text: str, as_of: dt.date) -> tuple[Reading, ...]:
    """The three readings of an administration, clipped to the publication date."""
    out = []
    for mode in ("exact_dates", "fy_whole", "fy_from_first_full"):
        p = administration(key, mode, today=as_of)
        if p.start and p.start > as_of:
            continue
        r = Reading(p.start, p.end, mode, text, tuple(p.notes) or (f"{ADMINISTRATIONS[key][0]}: exact dates",))
        out.append(_clip(r, as_of))
    # readings that coincide are one reading
    seen: dict[tuple, Reading] = {}
    for r in out:
        seen.setdefault((r.start, r.end), r)
    return tuple(seen.values())


def _span_years(n: int, as_of: dt.date, text: str) -> tuple[Reading, ...]:
    try:
        start = as_of.replace(year=as_of.year - n) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = dt.date(as_of.year - n, 3, 1)
    return (Reading(start, as_of, "trailing", text, (f"the {n} years to the publication date",)),)


def _year_of_month(m: int, as_of: dt.date) -> int:
    return as_of.year if m <= as_of.month else as_of.year - 1


_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("admin_named", re.compile(
        r"\b(?:under|during|in|throughout|since the start of|since the beginning of|since)\s+(?:the\s+)?(?:(?:President|former President|Mr\.)\s+)?"
        r"(?P<who>Biden|Trump|Obama)(?:'s|’s)?(?:\s+(?P<term>first|second))?(?:\s+(?:administration|presidency|era|years|tenure|term|White House))?\b", re.I)),
    ("admin_named", re.compile(
        r"\b(?:since|after)\s+(?:President\s+)?(?P<who>Biden|Trump|Obama)\s+(?:took office|was inaugurated|came into office|entered office|was sworn in)\b", re.I)),
    ("admin_named", re.compile(
        r"\bon\s+(?P<who>Biden|Trump|Obama)(?:'s|’s)\s+watch\b", re.I)),
    ("admin_rel", re.compile(
        r"\b(?:under|during|in|since the start of)\s+the\s+(?P<rel>current|previous|prior|last|past|former|present)\s+(?:administration|president)\b", re.I)),
    ("fy_range", re.compile(
        rf"\b(?:from|between|in|during|over)?\s*{_FYR}(?P<a>(?:19|20)?\d\d)\s*(?:-|–|to|through|thru|and|until)\s*(?:{_FYR})?(?P<b>(?:19|20)?\d\d)\b", re.I)),
    ("fy_months", re.compile(
        rf"\b(?:the\s+)?first\s+(?P<n>\w+)\s+months\s+of\s+{_FYR}(?P<y>(?:19|20)?\d\d)\b", re.I)),
    ("since_fy", re.compile(rf"\bsince\s+(?:the\s+(?:start|beginning)\s+of\s+)?{_FYR}(?P<y>(?:19|20)?\d\d)\b", re.I)),
    ("end_fy", re.compile(rf"\b(?:at|by|as of)\s+the\s+end\s+of\s+{_FYR}(?P<y>(?:19|20)?\d\d)\b", re.I)),
    ("fy", re.compile(rf"\b{_FYR}(?P<y>(?:19|20)?\d\d)\b(?!\s*(?:percent|%))", re.I)),
    ("fy", re.compile(r"\b(?:the\s+)?(?P<y>(?:19|20)\d\d)\s+fiscal\s+year\b", re.I)),
    ("this_fy", re.compile(r"\b(?:so far )?(?:this|the current) fiscal year\b|\bfiscal year to date\b|\bso far this fiscal year\b", re.I)),
    ("last_fy", re.compile(r"\b(?:last|the previous|the prior|the past) fiscal year\b", re.I)),
    ("date_full", re.compile(rf"\b(?P<pre>as of|at the end of|by|on|through|since)?\s*{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YR}\b", re.I)),
    ("since_month", re.compile(rf"\bsince\s+{_MON}(?:\s+{_YR})?\b", re.I)),
    ("end_month", re.compile(rf"\b(?:at|by|as of)\s+the\s+end\s+of\s+{_MON}(?:\s+{_YR})?\b", re.I)),
    ("end_month", re.compile(rf"\bas of\s+{_MON}(?:\s+{_YR})?\b", re.I)),
    ("month_range", re.compile(rf"\b(?:from|between)\s+{_MON}\s+(?P<y1>(?:19|20)\d\d)\s+(?:to|through|and|until|-|–)\s+(?P<mon2>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?\s+(?P<y2>(?:19|20)\d\d)\b", re.I)),
    ("month", re.compile(rf"\b(?:in|during|for|last)?\s*{_MON}(?:\s+(?:of\s+)?{_YR})?\b(?!\s+\d)", re.I)),
    ("since_year", re.compile(rf"\bsince\s+(?:the\s+(?:start|beginning)\s+of\s+)?(?:calendar\s+(?:year\s+)?)?{_YR}\b", re.I)),
    ("end_year", re.compile(rf"\b(?:at|by|as of)\s+the\s+end\s+of\s+(?:calendar\s+(?:year\s+)?)?{_YR}\b", re.I)),
    ("year_range", re.compile(r"\b(?:from|between)\s+(?P<a>(?:19|20)\d\d)\s+(?:to|through|and|until)\s+(?P<b>(?:19|20)\d\d)\b", re.I)),
    ("year_range", re.compile(r"\b(?P<a>(?:19|20)\d\d)\s*(?:-|–|through)\s*(?P<b>(?:19|20)\d\d|\d\d)\b", re.I)),
    ("calendar_year", re.compile(rf"\b(?:calendar\s+(?:year\s+)?){_YR}\b", re.I)),
    ("year", re.compile(rf"\b(?:in|during|for|of|throughout)\s+{_YR}\b", re.I)),
    ("year", re.compile(rf"(?<![\d,.$])\b{_YR}(?:'s)?\b", re.I)),
    ("last_month", re.compile(r"\blast month\b|\bthe previous month\b", re.I)),
    ("this_month", re.compile(r"\bthis month\b", re.I)),
    ("last_year", re.compile(r"\blast year\b|\bthe previous year\b|\bthe prior year\b", re.I)),
    ("this_year", re.compile(r"\bthis year\b|\bso far this year\b|\byear to date\b|\bthe current year\b", re.I)),
    ("past_n", re.compile(r"\b(?:over|in|during)\s+the\s+(?:past|last|previous)\s+(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(?P<u>years|months)\b", re.I)),
    ("past_decade", re.compile(r"\b(?:over|in|during)\s+the\s+(?:past|last)\s+decade\b|\bover the last ten years\b", re.I)),
    ("past_year", re.compile(r"\b(?:over|in|during)\s+the\s+(?:past|last)\s+(?:12 months|twelve months|year)\b", re.I)),
    ("now", re.compile(r"\b(?:currently|now|today|at present|presently|current|right now|as it stands)\b", re.I)),
]
_COMPARISON = re.compile(
    r"\b(?:from|than|compared (?:with|to)|versus|vs\.?|over|since)\s+(?:the\s+)?(?:same\s+(?:month|period|time)\s+)?"
    r"(?:a year (?:earlier|before|ago)|last year|the (?:previous|prior) (?:year|month)|a month (?:earlier|before)|last month)\b"
    r"|\ba year (?:earlier|before|ago)\b|\byear[- ]over[- ]year\b|\bmonth[- ]over[- ]month\b",
    re.I,
)


def _y(s: str) -> int:
    y = int(s)
    return y + 2000 if y < 100 else y


def find_periods(sentence: str, as_of: dt.date) -> list[PeriodPhrase]:
    """Every period phrase in ``sentence``, non-overlapping, left to right."""
    taken: list[tuple[int, int]] = []
    out: list[PeriodPhrase] = []
    for m in _COMPARISON.finditer(sentence):
        taken.append(m.span())
        out.append(PeriodPhrase(m.start(), m.end(), m.group(0).strip(), (), comparison=True))
    for kind, pat in _RULES:
        for m in pat.finditer(sentence):
            a, b = m.span()
            text = m.group(0).strip()
            if not text or any(not (b <= s or a >= e) for s, e in taken):
                continue
            readings = _resolve(kind, m, text, as_of)
            if not readings:
                continue
            taken.append((a, b))
            out.append(PeriodPhrase(a, b, text, readings))
    out.sort(key=lambda p: p.start)
    return _merge_ranges(out, sentence, as_of)


_JOIN = re.compile(r"^\s*(?:to|through|thru|until|and|-|–)\s*$", re.I)
_FROM = re.compile(r"(?:from|between)\s*$", re.I)


def _merge_ranges(phrases: list[PeriodPhrase], sentence: str, as_of: dt.date) -> list[PeriodPhrase]:
    """Join "from <period> to <period>" into one range."""
    out: list[PeriodPhrase] = []
    i = 0
    while i < len(phrases):
        p = phrases[i]
        q = phrases[i + 1] if i + 1 < len(phrases) else None
        if (q is not None and p.readings and q.readings and not p.comparison and not q.comparison
                and _JOIN.match(sentence[p.end:q.start])
                and (_FROM.search(sentence[max(0, p.start - 12):p.start]) or p.text.lower().startswith(("from", "between")))):
            a, b = p.readings[0], q.readings[0]
            start = a.start or a.end
            if start <= b.end:
                a0 = p.start - len(sentence[max(0, p.start - 12):p.start]) + _FROM.search(sentence[max(0, p.start - 12):p.start]).start() \
                    if _FROM.search(sentence[max(0, p.start - 12):p.start]) else p.start
                text = sentence[a0:q.end]
                r = _clip(Reading(start, b.end, a.label if a.label == b.label else "range", text,
                                  (f"{start.isoformat()}..{b.end.isoformat()}",)), as_of)
                out.append(PeriodPhrase(a0, q.end, text, (r,)))
                i += 2
                continue
        out.append(p)
        i += 1
    return out


def _resolve(kind: str, m: re.Match[str], text: str, as_of: dt.date) -> tuple[Reading, ...]:
    g = m.groupdict()
    if kind == "admin_named":
        who = g["who"].lower()
        key = _admin_key(who, as_of)
        if g.get("term"):
            key = {"trump": {"first": "trump1", "second": "trump2"},
                   "obama": {"first": "obama1", "second": "obama2"}}.get(who, {}).get(g["term"].lower(), key)
        if ADMINISTRATIONS[key][1] > as_of:
            return ()
        return admin_readings(key, text, as_of)
    if kind == "admin_rel":
        rel = g["rel"].lower()
        key = _admin_at(as_of, 0 if rel in ("current", "present") else -1)
        return tuple(replace(r, notes=r.notes + (f"'{rel} administration' as of {as_of.isoformat()} = {ADMINISTRATIONS[key][0]}",))
                     for r in admin_readings(key, text, as_of))
    if kind == "fy_range":
        a, b = _y(g["a"]), _y(g["b"])
        if b < a:
            return ()
        return (_clip(Reading(fy_start(a), fy_end(b), "fiscal", text, (f"FY{a}..FY{b}",)), as_of),)
    if kind == "fy_months":
        n = _NUMWORDS.get(g["n"].lower()) if not g["n"].isdigit() else int(g["n"])
        if not n or n > 12:
            return ()
        y = _y(g["y"])
        start = fy_start(y)
        em = (start.month - 1 + n - 1) % 12 + 1
        ey = start.year + (start.month - 1 + n - 1) // 12
        return (_clip(Reading(start, _month_end(ey, em), "fiscal", text, (f"first {n} months of FY{y}",)), as_of),)
    if kind == "since_fy":
        y = _y(g["y"])
        return (_clip(Reading(fy_start(y), as_of, "fiscal", text, (f"FY{y} to the publication date",)), as_of),)
    if kind == "end_fy":
        y = _y(g["y"])
        return (Reading(None, fy_end(y), "date", text, (f"end of FY{y}",)),)
    if kind == "fy":
        y = _y(g["y"])
        return (_clip(Reading(fy_start(y), fy_end(y), "fiscal", text, (f"FY{y}",)), as_of),)
    if kind == "this_fy":
        y = fy(as_of)
        return (Reading(fy_start(y), as_of, "fiscal", text, (f"FY{y} to date",)),)
    if kind == "last_fy":
        y = fy(as_of) - 1
        return (Reading(fy_start(y), fy_end(y), "fiscal", text, (f"FY{y}",)),)
    if kind == "date_full":
        try:
            d = dt.date(int(g["yr"]), MONTH_NUM[g["mon"].lower().rstrip(".")], int(g["d"]))
        except ValueError:
            return ()
        pre = (g.get("pre") or "").lower()
        if pre == "since" or pre == "through":
            return ()  # handled as part of a range elsewhere; a bare date is not a period here
        return (Reading(None, d, "date", text, (f"as of {d.isoformat()}",)),)
    if kind == "since_month":
        mo = MONTH_NUM[g["mon"].lower().rstrip(".")]
        y = int(g["yr"]) if g.get("yr") else _year_of_month(mo, as_of)
        return (_clip(Reading(dt.date(y, mo, 1), as_of, "month", text, (f"from {y}-{mo:02d} to the publication date",)), as_of),)
    if kind == "end_month":
        mo = MONTH_NUM[g["mon"].lower().rstrip(".")]
        y = int(g["yr"]) if g.get("yr") else _year_of_month(mo, as_of)
        return (Reading(None, min(_month_end(y, mo), as_of), "date", text, (f"end of {y}-{mo:02d}",)),)
    if kind == "month_range":
        m1, m2 = MONTH_NUM[g["mon"].lower().rstrip(".")], MONTH_NUM[g["mon2"].lower()]
        s, e = dt.date(int(g["y1"]), m1, 1), _month_end(int(g["y2"]), m2)
        return (_clip(Reading(s, e, "month", text, (f"{s:%Y-%m}..{e:%Y-%m}",)), as_of),) if s <= e else ()
    if kind == "month":
        mon = g["mon"].lower().rstrip(".")
        if mon == "may" and not g.get("yr") and not re.match(r"(?i)(in|during|for|last)\b", text):
            return ()  # the verb "may"
        if mon in ("march",) and not g.get("yr") and not re.match(r"(?i)(in|during|for|last)\b", text):
            return ()
        mo = MONTH_NUM[mon]
        y = int(g["yr"]) if g.get("yr") else _year_of_month(mo, as_of)
        if text.lower().startswith("last") and not g.get("yr"):
            y = as_of.year if mo < as_of.month else as_of.year - 1
        r = Reading(dt.date(y, mo, 1), _month_end(y, mo), "month", text, (f"{y}-{mo:02d}",))
        return (_clip(r, as_of),)
    if kind == "since_year":
        return _cal_and_fiscal(int(g["yr"]), text, as_of, open_end=True)
    if kind == "end_year":
        y = int(g["yr"])
        return (Reading(None, dt.date(y, 12, 31), "date", text, (f"end of {y}",)),
                Reading(None, fy_end(y), "fiscal", text, (f"end of FY{y}",)))
    if kind == "year_range":
        a = int(g["a"])
        braw = g["b"]
        b = int(braw) if len(braw) == 4 else (a // 100) * 100 + int(braw)
        if b < a or b - a > 60:
            return ()
        cal = Reading(dt.date(a, 1, 1), dt.date(b, 12, 31), "calendar", text, (f"calendar {a}..{b}",))
        fis = Reading(fy_start(a), fy_end(b), "fiscal", text, (f"FY{a}..FY{b}",))
        return tuple(_clip(r, as_of) for r in (cal, fis))
    if kind == "calendar_year":
        y = int(g["yr"])
        return (_clip(Reading(dt.date(y, 1, 1), dt.date(y, 12, 31), "calendar", text, (f"calendar {y}",)), as_of),)
    if kind == "year":
        y = int(g["yr"])
        if y > as_of.year or y < 1990:
            return ()
        return _cal_and_fiscal(y, text, as_of, open_end=False)
    if kind == "last_month":
        first = as_of.replace(day=1) - dt.timedelta(days=1)
        return (Reading(first.replace(day=1), first, "month", text, (f"{first:%Y-%m}",)),)
    if kind == "this_month":
        return (Reading(as_of.replace(day=1), as_of, "month", text, (f"{as_of:%Y-%m} to date",)),)
    if kind == "last_year":
        y = as_of.year - 1
        return _cal_and_fiscal(y, text, as_of, open_end=False)[:1] + (
            Reading(fy_start(fy(as_of) - 1), fy_end(fy(as_of) - 1), "fiscal", text, (f"FY{fy(as_of) - 1}",)),)
    if kind == "this_year":
        y = as_of.year
        return (Reading(dt.date(y, 1, 1), as_of, "calendar", text, (f"{y} to date",)),
                Reading(fy_start(fy(as_of)), as_of, "fiscal", text, (f"FY{fy(as_of)} to date",)))
    if kind == "past_n":
        raw = g["n"].lower()
        n = int(raw) if raw.isdigit() else _NUMWORDS[raw]
        if g["u"].lower() == "months":
            start = (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            for _ in range(n - 1):
                start = (start - dt.timedelta(days=1)).replace(day=1)
            end = as_of.replace(day=1) - dt.timedelta(days=1)
            return (Reading(start, end, "trailing", text, (f"the {n} full months before the publication date",)),)
        return _span_years(n, as_of, text)
    if kind == "past_decade":
        return _span_years(10, as_of, text)
    if kind == "past_year":
        return _span_years(1, as_of, text)
    if kind == "now":
        return (Reading(None, as_of, "date", text, (f"as of the publication date {as_of.isoformat()}",)),)
    return ()


def comparison_reading(current: Reading, phrase: PeriodPhrase) -> Reading:
    """The base period of a change claim: the same span a month or a year earlier."""
    month = "month" in phrase.text.lower()
    def shift(d: dt.date) -> dt.date:
        if month:
            prev = d.replace(day=1) - dt.timedelta(days=1)
            return prev.replace(day=min(d.day, calendar.monthrange(prev.year, prev.month)[1]))
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)
    start = shift(current.start) if current.start else None
    end = shift(current.end)
    if current.start and current.end == _month_end(current.end.year, current.end.month):
        end = _month_end(end.year, end.month)
    what = "the previous month" if month else "a year earlier"
    return Reading(start, end, current.label, phrase.text, (f"{what}: the same span shifted",))
