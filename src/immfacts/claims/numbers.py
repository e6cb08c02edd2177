"""Numbers as reporters write them, and the numbers in text that are not statistics.

:func:`find_numbers` returns every quantity in a sentence with its value, unit and rounding
step: ``350,000``, ``3.5 million``, ``9.5m``, ``77 percent``, ``77%``, ``one in five``,
``a third``, ``two-thirds``, ``half``, ``two million``, ``doubled``. The *step* is the unit of
the last written digit ("3.5 million" → 100,000; "350,000" → 10,000; "77%" → 0.01): the
tolerance rules read the rounding interval from it.

It also marks numbers that are not statistical claims — years, dates, days of a month,
money, ages, durations, legal citations (Title 42, 8 CFR 1003.18), report numbers, ordinals,
times of day — with a ``skip`` reason, so extraction never reports them as claims.
Percents are fractions (77% → 0.77).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}  # fmt: skip
SCALES = {
    "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
    "mn": 1_000_000, "bn": 1_000_000_000, "m": 1_000_000, "k": 1_000,
}  # fmt: skip
ORDINAL_DENOMS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "tenths": 10,
}  # fmt: skip
MULTIPLES = {
    "doubled": 2.0, "tripled": 3.0, "trebled": 3.0, "quadrupled": 4.0, "quintupled": 5.0,
    "halved": 0.5,
}  # fmt: skip
MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)

_WORDNUM = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|"
    r"five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_SCALE = r"(?:\s*(?:thousand|million|billion)\b|\s?(?:mn|bn|m|k)\b)"
_PCT = r"(?:\s*(?:%|percent\b|per\s+cent\b|pct\b))"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "one in five", "1 in 4", "one out of every three"
    ("ratio", re.compile(
        rf"(?<![\d,.])\b(?P<num>{_WORDNUM}|\d{{1,2}})\s+(?:in|out\s+of)\s+(?:every\s+)?(?P<den>{_WORDNUM}|\d{{1,2}})\b(?!\s*(?:%|percent|[,.]\d))",
        re.I)),
    # "two-thirds", "a third", "one-fifth", "half", "three quarters"
    ("fraction", re.compile(
        rf"\b(?P<num>{_WORDNUM}|an?|\d+)[- ](?P<den>halves|half|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)\b"
        r"|\b(?P<half>half)\b(?=\s+(?:of|the|all)\b)|(?:(?<=by )|(?<=than )|(?<=nearly )|(?<=almost )|(?<=about ))(?P<half2>half)\b",
        re.I)),
    ("multiple", re.compile(r"\b(?P<mult>doubled|tripled|trebled|quadrupled|quintupled|halved)\b", re.I)),
    ("multiple", re.compile(
        rf"\b(?P<times>twice|(?:{_WORDNUM}|\d+(?:\.\d+)?)\s+times)\s+(?:as\s+(?:many|much|high|large)|(?:more|higher|larger|greater|the))\b",
        re.I)),
    # digits with optional scale or percent; a leading currency sign is captured to skip money
    ("digits", re.compile(
        rf"(?P<cur>[$£€]\s?)?(?<![\w.,/-])(?P<num>{_DIGITS})(?P<scale>{_SCALE})?(?P<pct>{_PCT})?"
        r"(?P<pp>\s*(?:percentage\s+points?|points?)\b)?",
        re.I)),
    # word numbers need a scale or a percent to be a quantity ("two million", "ten percent")
    ("words", re.compile(
        rf"(?P<cur>[$£€]\s?)?\b(?P<num>{_WORDNUM}|a|an|half\s+a)\s*(?:(?P<scale>(?:hundred\s+)?(?:thousand|million|billion)\b)|(?P<pct>{_PCT}))",
        re.I)),
]


@dataclass(frozen=True)
class NumberMention:
    """One quantity in a sentence: where it is, what it is worth, how finely it was written."""

    start: int
    end: int
    text: str
    value: float
    unit: str  # count | percent | ratio (change multiple) | points (percentage points)
    step: float  # unit of the last written digit (rounding grain), same scale as value
    form: str  # digits | words | ratio | fraction | multiple
    skip: str | None = None  # reason this is not a statistical claim

    @property
    def is_claim_candidate(self) -> bool:
        return self.skip is None


def _word_value(w: str) -> int:
    w = w.lower().replace("-", " ").strip()
    if w in ("a", "an"):
        return 1
    parts = w.split()
    return sum(WORD_UNITS[p] for p in parts)


def _digits_step(num: str) -> float:
    """Grain of a written number: 350,000 → 10,000; 3.5 → 0.1; 365,698 → 1."""
    s = num.replace(",", "")
    if "." in s:
        return 10.0 ** -len(s.split(".", 1)[1])
    stripped = s.rstrip("0")
    zeros = len(s) - len(stripped) if stripped else 0
    return float(10**zeros) if stripped else 1.0


def find_numbers(sentence: str) -> list[NumberMention]:
    """Every quantity in ``sentence``, left to right, non-overlapping; non-claims marked ``skip``."""
    taken: list[tuple[int, int]] = []
    out: list[NumberMention] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for form, pat in _PATTERNS:
        for m in pat.finditer(sentence):
            a, b = m.span()
            if a == b or not free(a, b):
                continue
            mention = _mention(form, m, sentence)
            if mention is None:
                continue
            taken.append((mention.start, mention.end))
            out.append(mention)
    out.sort(key=lambda n: n.start)
    return [_classify(n, sentence) for n in out]


def _mention(form: str, m: re.Match[str], s: str) -> NumberMention | None:
    a, b = m.span()
    g = m.groupdict()
    if form == "ratio":
        num, den = g["num"], g["den"]
        n = float(num) if num.isdigit() else _word_value(num)
        d = float(den) if den.isdigit() else _word_value(den)
        if d == 0 or n > d:
            return None
        return NumberMention(a, b, m.group(0), n / d, "percent", _fraction_step(d), form)
    if form == "fraction":
        if g.get("half") or g.get("half2"):
            return NumberMention(a, b, m.group(0), 0.5, "percent", _fraction_step(2), form)
        num, den = g["num"], g["den"].lower()
        n = float(num) if num.isdigit() else _word_value(num)
        d = ORDINAL_DENOMS[den]
        if n >= d or (den in ("half",) and n != 1):
            return None
        return NumberMention(a, b, m.group(0), n / d, "percent", _fraction_step(d), form)
    if form == "multiple":
        if g.get("mult"):
            return NumberMention(a, b, m.group(0), MULTIPLES[g["mult"].lower()], "ratio", 0.2, form)
        times = g["times"].lower()
        if times == "twice":
            v = 2.0
        else:
            t = times.rsplit(" ", 1)[0]
            v = float(t) if t[0].isdigit() else float(_word_value(t))
        return NumberMention(a, b, m.group(0), v, "ratio", 0.2, form)
    if form == "digits":
        num = g["num"]
        value = float(num.replace(",", ""))
        # trailing zeros mark rounding only for bare counts ("350,000"); "20%" and
        # "20 million" are rounded to the written unit
        step = _digits_step(num) if not (g.get("scale") or g.get("pct") or g.get("pp")) else (
            _digits_step(num) if "." in num else 1.0)
        unit = "count"
        if g.get("scale"):
            scale_word = g["scale"].strip().lower()
            mult = SCALES[scale_word]
            value *= mult
            step *= mult
        if g.get("pct"):
            unit, value, step = "percent", value / 100.0, step / 100.0
        elif g.get("pp"):
            unit, value, step = "points", value / 100.0, step / 100.0
        skip = "money" if g.get("cur") else None
        return NumberMention(a, b, m.group(0), value, unit, step, form, skip)
    if form == "words":
        num = g["num"].lower()
        value = 0.5 if num.startswith("half") else float(_word_value(num))
        if g.get("pct"):
            return NumberMention(a, b, m.group(0), value / 100, "percent", 0.01, form,
                                 "money" if g.get("cur") else None)
        scale = g["scale"].lower().split()
        mult = 1
        for w in scale:
            mult *= 100 if w == "hundred" else SCALES[w]
        step = mult * (0.5 if num.startswith("half") else 1)
        return NumberMention(a, b, m.group(0), value * mult, "count", float(step), form,
                             "money" if g.get("cur") else None)
    return None


def _fraction_step(den: float) -> float:
    """Spoken fractions are approximate: half the gap to the neighbouring simple fraction."""
    return 0.05 if den <= 4 else 0.04


_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")
_BEFORE = {
    "date": re.compile(rf"\b(?:{MONTHS})\.?\s*$", re.I),
    "legal": re.compile(
        r"\b(?:title|section|sec\.|§|cfr|u\.s\.c\.|usc|ina|report|no\.|number|figure|fig\.|table|"
        r"page|p\.|chapter|item|rule|docket|case\s+no\.|i-|form|h\.r\.|s\.|district|precinct|"
        r"route|highway|interstate|article|paragraph|footnote|volume|vol\.|phase|tier|level|"
        r"step|grade|class|category|version|sector\s+\w+\s+station)\s*$", re.I),
    "fiscal_year": re.compile(r"\b(?:fy|fiscal(?:\s+year)?|cy|calendar\s+year|year)\s*'?$", re.I),
    "age": re.compile(r"\b(?:aged?|ages)\s*$", re.I),
    "time": re.compile(r"\d:\s*$"),
}
_AFTER = {
    "age": re.compile(r"^\s*(?:-|\s)?(?:years?|yrs?)[- ]old\b|^\s*-year-old|^\s*(?:and|or|to)\s+(?:older|younger|under|over)\b", re.I),
    "duration": re.compile(
        r"^\s*(?:-\s*)?(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)\b(?!\s+(?:of\s+)?(?:encounters|cases|arrests|apprehensions))",
        re.I),
    "date": re.compile(rf"^\s*(?:st|nd|rd|th)?\s*(?:of\s+)?(?:{MONTHS})\b|^(?:st|nd|rd|th)\b", re.I),
    "money": re.compile(r"^\s*(?:dollars?|usd|euros?|cents?)\b", re.I),
    "distance": re.compile(r"^\s*-?\s*(?:miles?|kilometers?|kilometres?|km|feet|foot|acres?)\b", re.I),
    "legal": re.compile(r"^\s*(?:cfr|u\.s\.c\.|usc|i&n|f\.\s?\d|fr\b|s\.\s?ct\.)", re.I),
    "time": re.compile(r"^\s*(?:a\.m\.|p\.m\.|am\b|pm\b|:\d)", re.I),
    "sample size": re.compile(r"^\s*(?:registered\s+|likely\s+|eligible\s+)?(?:voters|adults|people|respondents|Americans)\s+(?:surveyed|polled|interviewed)\b|^\s*(?:registered|likely|eligible)\s+voters\b", re.I),
    "judges": re.compile(
        r"^\s*(?:(?:new|more|additional|full-time|sitting|active|immigration|federal|"
        r"appellate|board|Border\s+Patrol|ICE|CBP|asylum|deportation)\s+)*(?:judges?|courts?|courtrooms?|lawyers?|attorneys?|staff|"
        r"employees|clerks|agents|officers|interpreters|pages?|words|people\s+surveyed|"
        r"respondents\b(?!\s+(?:were|had|have))|"
        r"states|countries|counties|cities|sectors|stations|facilities|beds|miles|feet|"
        r"members|senators|votes)\b",
        re.I),
}
_ORDINAL = re.compile(r"^(?:st|nd|rd|th)\b", re.I)
_SAMPLE = re.compile(
    r"\b(?:surveyed|survey\s+of|poll\s+of|sample\s+of|interviewed|n\s*=|margin\s+of\s+error|"
    r"respondents)\s*$", re.I)


def _classify(n: NumberMention, s: str) -> NumberMention:
    """Mark numbers that are not statistical claims, with the reason."""
    if n.skip:
        return n
    before = s[max(0, n.start - 40): n.start]
    after = s[n.end: n.end + 60]
    raw = n.text.strip()
    reason: str | None = None
    if n.form == "digits" and n.unit == "count":
        bare = raw.replace(",", "")
        if _YEAR.match(raw) or (re.fullmatch(r"'\d\d", raw)):
            reason = "year"
        elif re.match(r"^\s*[/:]\d", after) or re.search(r"\d[/:]\s*$", before):
            reason = "date or time"
        elif _ORDINAL.match(after):
            reason = "ordinal"
        elif re.match(r"^\s*-\s*\d", after) or re.search(r"\d\s*-\s*$", before):
            # ranges like "2021-2024" or phone-like sequences; a year range is a period
            reason = "range or identifier" if not _YEAR.match(bare) else "year"
        elif bare.isdigit() and len(bare) > 1 and bare.startswith("0"):
            reason = "identifier"
    if reason is None:
        for why, pat in _BEFORE.items():
            if pat.search(before):
                if why == "fiscal_year" and n.unit != "count":
                    continue
                reason = "year" if why == "fiscal_year" else why
                break
    if reason is None:
        for why, pat in _AFTER.items():
            if pat.search(after):
                if why == "duration" and n.unit != "count":
                    continue
                reason = why
                break
    if reason is None and n.unit == "count" and _SAMPLE.search(before):
        reason = "sample size"
    if reason is None and re.search(r"margin\s+of\s+error(?:\s+of)?\s*(?:plus\s+or\s+minus\s+|±\s*)?$", before, re.I):
        reason = "margin of error"
    if reason is None and n.unit == "count" and n.value < 10 and n.form == "digits" and n.step >= 1:
        reason = "small count"
    if reason is None:
        return n
    return NumberMention(n.start, n.end, n.text, n.value, n.unit, n.step, n.form, reason)
