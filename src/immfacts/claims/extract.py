"""Extraction: sentences → numeric claims (number + comparator + measured thing + scope + period).

For each sentence, every quantity (:mod:`~immfacts.claims.numbers`) that is not a date, age,
amount of money, legal citation or similar is a candidate. Its comparator comes from the
words just before or after it ("more than", "nearly", "about", "at least", "or more"); a
change cue ("up 40% from last year", "more than doubled", "fell 12 percent") makes it a
change claim; "a record" / "the highest since 2000" attaches a record check. The measured
thing and scope come from :mod:`~immfacts.claims.match`, the period from
:mod:`~immfacts.claims.when` (nearest phrase in the sentence; for flows, a phrase carried
over from an earlier sentence of the same paragraph; for levels, the publication date).
Numbers that match nothing and sit in a sentence without immigration vocabulary are not
claims; with it, they are claims outside the catalogue (``not_checkable``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from immfacts.claims.lexicon import load_lexicon
from immfacts.claims.match import Match, match_number
from immfacts.claims.numbers import NumberMention, find_numbers
from immfacts.claims.when import PeriodPhrase, Reading, comparison_reading, find_periods

_ABBREV = re.compile(
    r"(?:\b(?:U\.S|U\.N|Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Sgt|St|Jr|Sr|No|Nos|vs|etc|e\.g|i\.e|approx|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Corp|Co|Ltd|Dept|Fig|p|pp|al)\.)$"
    r"|\b[A-Z]\.$",
)
_SENT_END = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9$])")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    paragraph: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets in ``text``; blank lines separate paragraphs."""
    out: list[Sentence] = []
    para = 0
    pos = 0
    for block in re.split(r"(\n\s*\n)", text):
        if re.fullmatch(r"\n\s*\n", block or ""):
            pos += len(block)
            para += 1
            continue
        start = 0
        for m in _SENT_END.finditer(block):
            cut = m.start() + len(m.group(0).rstrip())
            head = block[start:m.start() + 1]
            if _ABBREV.search(head.rstrip()):
                continue
            out.extend(_sentence(block, start, cut, pos, para))
            start = m.end()
        out.extend(_sentence(block, start, len(block), pos, para))
        pos += len(block)
    return out


def _sentence(block: str, a: int, b: int, pos: int, para: int) -> list[Sentence]:
    seg = block[a:b]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    if not seg:
        return []
    return [Sentence(pos + a + lead, pos + a + lead + len(seg), seg, para)]


_CMP_BEFORE = [
    ("nearly", re.compile(r"\b(?:nearly|almost|close to|approaching|nearing|just (?:under|shy of|below)|not quite|shy of|upwards? of nearly)\s*(?:some\s+)?$", re.I)),
    ("at_least", re.compile(r"\b(?:at least|no fewer than|no less than|a minimum of|minimum of)\s*$", re.I)),
    ("more_than", re.compile(r"\b(?:more than|over|above|upwards? of|in excess of|exceed(?:ed|s|ing)?|north of|topp(?:ed|ing)|tops?|surpass(?:ed|es|ing)?|greater than|higher than|beyond|passed|crossed|over the)\s*$", re.I)),
    ("less_than", re.compile(r"\b(?:less than|fewer than|under|below|lower than|no more than|at most|up to|a maximum of)\s*$", re.I)),
    ("approx", re.compile(r"(?:\b(?:about|around|roughly|approximately|approx\.?|some|an estimated|estimated|circa|in the neighbou?rhood of|on the order of|or so|nearly about)|~)\s*$", re.I)),
]
_CMP_AFTER = [
    ("at_least", re.compile(r"^\s*(?:or more|or higher|and (?:up|counting)|plus)\b|^\+", re.I)),
    ("approx", re.compile(r"^\s*(?:or so|give or take)\b", re.I)),
    ("less_than", re.compile(r"^\s*or (?:fewer|less)\b", re.I)),
]
_UP = r"up|rose|risen|rising|increased|increase|jumped|jump|climbed|surged|surge|grew|growth|soared|spiked|higher|more|gain(?:ed)?|swelled|ballooned|rise"
_DOWN = r"down|fell|fallen|falling|decreased|decrease|dropped|drop|declined|decline|plunged|plummeted|lower|fewer|less|shrank|cut|slid|dipped|tumbled"
_CHANGE_BEFORE = re.compile(rf"\b(?P<dir>{_UP}|{_DOWN})\b(?:\s+(?:by|of|some|about|roughly|nearly|almost|more than|over|at least|an? estimated))*\s*$", re.I)
_CHANGE_AFTER = re.compile(
    rf"^\s*(?:(?P<dir>{_UP}|{_DOWN}|(?:an? )?(?:increase|rise|jump|drop|decline|decrease|reduction|gain|spike|surge))\b"
    r"(?:\s+(?:than|from|over|since|compared|on|in))?|(?:year[- ]over[- ]year|month[- ]over[- ]month))", re.I)
_UP_RX = re.compile(rf"^(?:{_UP}|increase|rise|jump|gain|spike|surge)$", re.I)
_RECORD = re.compile(
    r"\b(?:(?:a |an |the )?(?:new )?record(?:[- ]high|[- ]breaking|[- ]setting)?|all[- ]time high|historic high|"
    r"highest (?:level |number |total |figure )?(?:ever|on record|in (?:U\.S\. )?history)|"
    r"(?:highest|most|largest) since (?P<since>(?:19|20)\d\d)|(?:the )?highest (?:level|number|total|figure))\b",
    re.I,
)
_RECORD_LOW = re.compile(r"\b(?:record[- ]low|lowest (?:level |number )?(?:since|ever|on record)|(?:lowest|fewest) since (?P<since>(?:19|20)\d\d))", re.I)


@dataclass
class Candidate:
    """A numeric claim found in text, before it is checked."""

    span: tuple[int, int]  # offsets in the whole text
    sentence: str
    sentence_span: tuple[int, int]
    number: NumberMention
    comparator: str
    kind: str  # level | change
    match: Match
    readings: tuple[Reading, ...] = ()
    base_readings: tuple[Reading, ...] = ()
    period_text: str | None = None
    period_source: str = "sentence"  # sentence | carried | publication_date | none
    direction: int = 0  # change claims: +1 up, -1 down
    record: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def claimed_value(self) -> float:
        v = self.number.value
        if self.kind == "change" and self.number.unit in ("percent", "points"):
            return v * (self.direction or 1)
        return v

    @property
    def claimed_unit(self) -> str:
        if self.kind == "change":
            return {"percent": "percent_change", "ratio": "ratio", "points": "points", "count": "count_change"}[self.number.unit]
        return self.number.unit


def comparator_of(sentence: str, n: NumberMention) -> str:
    """The comparator written around the number (default ``exact``)."""
    before = sentence[max(0, n.start - 40): n.start]
    after = sentence[n.end: n.end + 25]
    if n.form == "multiple" and re.search(r"\bmore than\s*$", before, re.I):
        return "more_than"
    for name, pat in _CMP_BEFORE:
        if pat.search(before):
            return name
    for name, pat in _CMP_AFTER:
        if pat.search(after):
            return name
    if n.form in ("ratio", "fraction") and not re.search(r"\bexactly\s*$", before, re.I):
        return "approx"
    return "exact"


def change_of(sentence: str, n: NumberMention) -> int:
    """+1/-1 when the number states a change ("up 40%", "a 12 percent drop"), else 0."""
    if n.form == "multiple":
        return 1 if n.value >= 1 else -1
    if n.unit not in ("percent", "points", "count"):
        return 0
    before = sentence[max(0, n.start - 45): n.start]
    after = sentence[n.end: n.end + 45]
    m = _CHANGE_BEFORE.search(before)
    if m and (n.unit != "count" or re.search(r"\bby\s*$", before, re.I)):
        if n.unit == "percent" and re.search(r"\b(?:more|fewer|less|higher|lower)\s*$", before, re.I):
            return 0  # "more than 40%" is a comparator, not a change
        return 1 if _UP_RX.match(m.group("dir")) else -1
    m = _CHANGE_AFTER.match(after)
    if m and n.unit != "count":
        d = (m.group("dir") or "").lower().split()[-1] if m.group("dir") else "up"
        if d in ("than",):
            return 0
        # "40% more migrants than" / "a 40% increase" / "12 percent lower"
        return -1 if re.match(rf"^(?:{_DOWN}|drop|decline|decrease|reduction)$", d, re.I) else 1
    return 0


def record_of(sentence: str, n: NumberMention) -> dict | None:
    """A record claim near the number ("a record 51.6 million", "highest since 2000")."""
    for pat, kind in ((_RECORD_LOW, "low"), (_RECORD, "high")):
        m = pat.search(sentence)
        if m:
            since = m.group("since") if "since" in m.groupdict() else None
            return {"kind": kind, "since": int(since) if since else None, "text": m.group(0)}
    return None


def extract(text: str, as_of: dt.date) -> list[Candidate]:
    """Every numeric claim in ``text`` (not yet checked), in reading order."""
    lex = load_lexicon()
    out: list[Candidate] = []
    carried: dict[int, PeriodPhrase] = {}
    for s in split_sentences(text):
        numbers = find_numbers(s.text)
        phrases = find_periods(s.text, as_of)
        spans = [(n.start, n.end) for n in numbers if n.is_claim_candidate]
        domain = bool(lex.domain.search(s.text))
        for n in numbers:
            cand = _candidate(s, n, numbers, spans, phrases, carried.get(s.paragraph), domain, as_of, lex)
            if cand is not None:
                out.append(cand)
        own = [p for p in phrases if p.readings and not p.comparison]
        if own:
            carried[s.paragraph] = own[-1]
    return out


_DURATION = re.compile(r"^\s*-?\s*(?P<u>years?|months?|weeks?|days?)\b", re.I)
_DAYS = {"year": 365.25, "month": 30.44, "week": 7.0, "day": 1.0}


def _as_duration(s: Sentence, n: NumberMention, others, lex) -> NumberMention | None:
    """A duration ("4.5 years") is a claim only when it measures case age / waiting time."""
    m = _DURATION.match(s.text[n.end:])
    if not m:
        return None
    mult = _DAYS[m.group("u").lower().rstrip("s")]
    d = NumberMention(n.start, n.start + len(n.text) + m.end(), s.text[n.start:n.end + m.end()],
                      n.value * mult, "days", n.step * mult, n.form)
    hit = match_number(s.text, (d.start, d.end), "days", others, lex=lex)
    return d if hit.entry is not None and hit.entry.unit == "days" else None


def _candidate(s, n, numbers, spans, phrases, carry, domain, as_of, lex) -> Candidate | None:
    if n.skip == "duration":
        n = _as_duration(s, n, [sp for sp in spans if sp != (n.start, n.end)], lex) or n
    if not n.is_claim_candidate:
        return None
    others = [sp for sp in spans if sp != (n.start, n.end)]
    direction = change_of(s.text, n)
    unit = n.unit
    if n.unit == "ratio" and not direction:
        return None
    kind = "change" if direction else "level"
    if n.unit == "points" and not direction:
        kind, direction = "change", 1
    m = match_number(s.text, (n.start, n.end), unit, others, change=kind == "change", lex=lex)
    if m.entry is None and m.not_checkable is None and not domain:
        return None
    if m.entry is None and m.not_checkable is None:
        m = Match(None, not_checkable="no catalogue statistic matches the words around this number")
    cand = Candidate(
        span=(s.start + n.start, s.start + n.end),
        sentence=s.text,
        sentence_span=(s.start, s.end),
        number=n,
        comparator=comparator_of(s.text, n),
        kind=kind,
        match=m,
        direction=direction,
        record=record_of(s.text, n) if kind == "level" else None,
    )
    _attach_period(cand, s.text, n, phrases, carry, as_of)
    return cand


def _first_year(r: Reading) -> Reading:
    end = dt.date(r.start.year + 1, r.start.month, r.start.day) - dt.timedelta(days=1)
    return Reading(r.start, end, r.label, r.text, r.notes + ("base: the first year of the range",))


def _last_year(r: Reading) -> Reading:
    start = dt.date(r.end.year - 1, r.end.month, r.end.day) + dt.timedelta(days=1)
    return Reading(start, r.end, r.label, r.text, r.notes + ("the last year of the range",))


def _attach_period(cand: Candidate, text: str, n: NumberMention, phrases: list[PeriodPhrase],
                   carry: PeriodPhrase | None, as_of: dt.date) -> None:
    own = [p for p in phrases if p.readings and not p.comparison]
    comp = [p for p in phrases if p.comparison]
    stock = bool(cand.match.entry and cand.match.entry.kind == "stock")
    base_phrase: PeriodPhrase | None = None
    if cand.kind == "change" and not comp and len(own) >= 2:
        # "in April, up 40% from March": the phrase after from/than/compared is the base
        for p in own:
            if re.search(r"(?:from|than|compared (?:with|to)|versus|over)\s*(?:the\s+)?$", text[max(0, p.start - 20):p.start], re.I):
                base_phrase = p
        own = [p for p in own if p is not base_phrase]
    if own:
        # the narrowest period wins ("under Trump … in fiscal 2020" is about fiscal 2020), then the nearest
        def width(q: PeriodPhrase) -> int:
            r = q.readings[0]
            return (r.end - r.start).days if r.start else 0
        def dist(q: PeriodPhrase) -> float:
            return abs(q.start - n.start) if q.start >= n.end else abs(n.start - q.end) + 0.5
        p = min(own, key=lambda q: (width(q), dist(q)))
        cand.readings, cand.period_text, cand.period_source = p.readings, p.text, "sentence"
    elif carry is not None and not stock:
        cand.readings, cand.period_text, cand.period_source = carry.readings, carry.text, "carried"
        cand.notes.append(f"period “{carry.text}” carried over from an earlier sentence")
    elif stock or cand.kind == "change":
        cand.readings = (Reading(None, as_of, "date", "(publication date)",
                                 ("no date stated: taken as of the publication date",)),)
        cand.period_text, cand.period_source = None, "publication_date"
    else:
        cand.period_source = "none"
    if cand.kind == "change" and cand.readings and not comp and base_phrase is None and cand.readings[0].start is not None \
            and (cand.readings[0].end - cand.readings[0].start).days > 400:
        # "doubled between 2019 and 2023": from the first year to the last
        cand.base_readings = tuple(_first_year(r) for r in cand.readings)
        cand.readings = tuple(_last_year(r) for r in cand.readings)
    if stock and cand.readings:
        cand.readings = tuple(r.as_stock() for r in cand.readings)
        cand.base_readings = tuple(r.as_stock() for r in cand.base_readings)
    if cand.kind == "change" and cand.readings and not cand.base_readings:
        if comp:
            cand.base_readings = tuple(comparison_reading(r, comp[0]) for r in cand.readings)
        elif base_phrase is not None:
            cand.base_readings = base_phrase.readings
