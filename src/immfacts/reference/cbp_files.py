"""CBP's published encounter files, read into tidy rows — with every problem found.

CBP publishes its "Nationwide Encounters" data as CSV files, one per span of fiscal years
(``nationwide-encounters-fy23-fy26-nov-state.csv``…), with the header
``Fiscal Year, Month Grouping, Month (abbv), Land Border Region, State, Demographic,
Citizenship, Title of Authority, Encounter Count``. This module turns such a file into tidy
rows (one per month × region × state × demographic × citizenship × title, values in the
catalogue's canonical spelling) and validates it: header, fiscal-year and month labels,
categories, counts, duplicate keys, and gaps between months. The build tool uses it for the
bundled releases and ``add_cbp`` for a newly released file, so both go through one reader.

The Southwest-border component files (SBO) are read here too (:func:`read_sbo`): they add
the USBP/OFO split and the encounter type for the southwest land border.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from immfacts.errors import ReferenceDataError
from immfacts.reference.coverage import label as month_label
from immfacts.reference.coverage import next_month

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

NATIONWIDE_HEADER = (
    "Fiscal Year", "Month Grouping", "Month (abbv)", "Land Border Region", "State",
    "Demographic", "Citizenship", "Title of Authority", "Encounter Count",
)
SBO_HEADER = (
    "Fiscal Year", "Month Grouping", "Month (abbv)", "Component", "Demographic",
    "Citizenship Grouping", "Title of Authority", "Encounter Type", "Encounter Count",
)
NATIONWIDE_COLUMNS = ("month", "fiscal_year", "region", "state", "demographic", "citizenship", "title", "encounters")
SBO_COLUMNS = ("month", "fiscal_year", "component", "demographic", "citizenship_group", "title", "encounter_type", "encounters")

REGIONS = {
    "southwest land border": "southwest_land_border",
    "northern land border": "northern_land_border",
    "other": "other",
}
DEMOGRAPHICS = {
    "accompanied minors": "Accompanied Minors",
    "fmua": "FMUA",
    "single adults": "Single Adults",
    "uac": "UAC",
    "uc / single minors": "UAC",  # label of releases up to 2024 for the same category
}
LEGACY_LABELS = {"uc / single minors"}
TITLES = {"title 8": "Title 8", "title 42": "Title 42"}
COMPONENTS = {"u.s. border patrol": "USBP", "office of field operations": "OFO"}
ENCOUNTER_TYPES = {"apprehensions": "Apprehensions", "expulsions": "Expulsions", "inadmissibles": "Inadmissibles"}
GROUPINGS = {"fytd", "remaining"}

_FY_LABEL = re.compile(r"^(\d{4})(?:\s*\(FYTD\))?$", re.IGNORECASE)
_STATE = re.compile(r"^[A-Z]{2}$")
MAX_PROBLEMS = 20


def month_of(fiscal_year: int, abbv: str) -> dt.date:
    """First day of the calendar month ``abbv`` of fiscal year ``fiscal_year`` (OCT–DEC fall in the previous calendar year)."""
    m = MONTHS.index(abbv) + 1
    return dt.date(fiscal_year - 1 if m >= 10 else fiscal_year, m, 1)


@dataclass
class TidyFile:
    """A CBP file read into tidy rows, with what was found while reading it."""

    kind: str  # nationwide | sbo
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    renamed: dict[str, int] = field(default_factory=dict)  # e.g. "UC / Single Minors → UAC": n

    @property
    def months(self) -> list[dt.date]:
        """The months present, sorted."""
        return sorted({r[0] for r in self.rows})

    def month_totals(self) -> dict[str, int]:
        """Total encounters per month ('YYYY-MM')."""
        out: dict[str, int] = {}
        for r in self.rows:
            key = month_label(r[0])
            out[key] = out.get(key, 0) + r[-1]
        return dict(sorted(out.items()))

    def fiscal_year_totals(self, **where: str) -> dict[int, int]:
        """Total encounters per fiscal year, optionally filtered by column values."""
        idx = {c: i for i, c in enumerate(self.columns)}
        out: dict[int, int] = {}
        for r in self.rows:
            if all(r[idx[k]] == v for k, v in where.items()):
                out[r[1]] = out.get(r[1], 0) + r[-1]
        return dict(sorted(out.items()))

    def write(self, path: Path, compress: bool | None = None) -> None:
        """Write the tidy CSV, gzipped (byte-reproducibly) when ``compress`` or the name ends in .gz."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for r in sorted(self.rows):
            w.writerow([month_label(r[0]), *r[1:]])
        data = buf.getvalue().encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name.endswith(".gz") if compress is None else compress:
            with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
                gz.write(data)
        else:
            path.write_bytes(data)


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ReferenceDataError(f"{path.name}: not a text file", "give CBP's CSV file as downloaded")  # pragma: no cover


def _norm(s: str) -> str:
    return " ".join(s.strip().split()).lower()


def _count(text: str) -> int | None:
    """Parse an encounter count: integer, or an integer written as a float ('9584.0')."""
    t = text.strip().replace(",", "")
    if re.fullmatch(r"\d+", t):
        return int(t)
    if re.fullmatch(r"\d+\.0*", t):
        return int(float(t))
    return None


def _read(path: Path, expected: tuple[str, ...], what: str) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    path = Path(path)
    if not path.is_file():
        raise ReferenceDataError(f"{path}: no such file", f"give the path of a downloaded CBP {what} CSV")
    text = _open_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ReferenceDataError(f"{path.name}: the file is empty", f"give CBP's {what} CSV as downloaded") from None
    got = [_norm(h) for h in header]
    missing = [c for c in expected if _norm(c) not in got]
    if missing:
        raise ReferenceDataError(
            f"{path.name}: not a CBP {what} file — the header lacks {', '.join(repr(c) for c in missing)} "
            f"(found: {', '.join(header) or 'nothing'})",
            f"expected the header {','.join(expected)}",
            missing=missing,
        )
    order = [got.index(_norm(c)) for c in expected]
    rows = ((n, [rec[i] if i < len(rec) else "" for i in order], len(rec)) for n, rec in enumerate(reader, start=2))
    return header, ((n, fields) for n, fields, width in rows if _width_ok(n, width, len(header), path) and any(f.strip() for f in fields))


def _width_ok(line: int, width: int, expected: int, path: Path) -> bool:
    if width not in (0, expected):
        raise ReferenceDataError(
            f"{path.name}, line {line}: {width} fields where the header has {expected}",
            "the file looks damaged; download it again from cbp.gov",
            line=line,
        )
    return width != 0


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []
        self.total = 0

    def add(self, line: int, msg: str) -> None:
        """Record a problem found on a line (the first 20 are kept verbatim)."""
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"line {line}: {msg}")

    def raise_if_any(self, what: str) -> None:
        """Raise one ReferenceDataError listing every problem found, if any."""
        if self.total:
            more = f" (and {self.total - len(self.items)} more)" if self.total > len(self.items) else ""
            raise ReferenceDataError(
                f"{self.path.name}: {self.total} problem(s) in the {what} file — " + "; ".join(self.items[:3]) + more,
                "nothing was changed; fix or re-download the file (all problems are listed in the error details)",
                problems=self.items,
            )


def _fy(label: str) -> int | None:
    m = _FY_LABEL.match(label.strip())
    return int(m.group(1)) if m else None


def _common(n: int, f: list[str], probs: _Problems) -> tuple[dt.date | None, int | None, int | None]:
    fy = _fy(f[0])
    if fy is None or not 1990 <= fy <= 2100:
        probs.add(n, f"fiscal year {f[0]!r} is not a year like 2024 or '2026 (FYTD)'")
    if _norm(f[1]) not in GROUPINGS:
        probs.add(n, f"month grouping {f[1]!r} is not FYTD or Remaining")
    abbv = f[2].strip().upper()
    if abbv not in MONTHS:
        probs.add(n, f"month {f[2]!r} is not a month abbreviation (JAN … DEC)")
    count = _count(f[-1])
    if count is None:
        probs.add(n, f"encounter count {f[-1]!r} is not a non-negative whole number")
    month = month_of(fy, abbv) if fy is not None and abbv in MONTHS else None
    return month, fy, count


def _category(n: int, value: str, table: dict[str, str], what: str, probs: _Problems, renamed: dict[str, int]) -> str | None:
    key = _norm(value)
    if key not in table:
        probs.add(n, f"{what} {value!r} is not one of {', '.join(sorted(set(table.values())))}")
        return None
    out = table[key]
    if key in LEGACY_LABELS:
        label = f"{value.strip()} → {out}"
        renamed[label] = renamed.get(label, 0) + 1
    return out


def _check_gaps(months: list[dt.date], path: Path) -> None:
    if not months:
        raise ReferenceDataError(f"{path.name}: the file has a header but no data rows", "download the file again from cbp.gov")
    missing, m = [], months[0]
    present = set(months)
    while m < months[-1]:
        if m not in present:
            missing.append(month_label(m))
        m = next_month(m)
    if missing:
        raise ReferenceDataError(
            f"{path.name}: months {', '.join(missing[:6])}{' …' if len(missing) > 6 else ''} are missing between "
            f"{month_label(months[0])} and {month_label(months[-1])} — the file looks truncated",
            "download the complete file again from cbp.gov; nothing was changed",
            missing=missing,
        )


def _check_future(months: list[dt.date], path: Path, today: dt.date | None) -> None:
    today = today or dt.date.today()
    late = [month_label(m) for m in months if m > dt.date(today.year, today.month, 1)]
    if late:
        raise ReferenceDataError(
            f"{path.name}: rows for months that have not happened yet ({', '.join(late[:3])})",
            "check the Fiscal Year and Month columns; nothing was changed",
        )


def read_nationwide(path: str | Path, today: dt.date | None = None) -> TidyFile:
    """Read and validate a CBP Nationwide Encounters (state-level) CSV into tidy rows.

    Raises :class:`ReferenceDataError` listing every problem (up to 20, with line numbers) when
    the header, a label, a count or the sequence of months is wrong, or a key repeats.
    """
    path = Path(path)
    _, records = _read(path, NATIONWIDE_HEADER, "Nationwide Encounters")
    probs = _Problems(path)
    out = TidyFile("nationwide", NATIONWIDE_COLUMNS)
    seen: dict[tuple, int] = {}
    for n, f in records:
        month, fy, count = _common(n, f, probs)
        region = _category(n, f[3], REGIONS, "region", probs, out.renamed)
        state = f[4].strip().upper()
        if not _STATE.match(state):
            probs.add(n, f"state {f[4]!r} is not a two-letter code")
        demographic = _category(n, f[5], DEMOGRAPHICS, "demographic", probs, out.renamed)
        citizenship = " ".join(f[6].split()).upper()
        if not citizenship:
            probs.add(n, "citizenship is empty")
        title = _category(n, f[7], TITLES, "title of authority", probs, out.renamed)
        if None in (month, fy, count, region, demographic, title) or not citizenship:
            continue
        key = (month, region, state, demographic, citizenship, title)
        if key in seen:
            probs.add(n, f"repeats the row of line {seen[key]} (same month, region, state, demographic, citizenship and title)")
            continue
        seen[key] = n
        out.rows.append((month, fy, region, state, demographic, citizenship, title, count))
    probs.raise_if_any("Nationwide Encounters")
    _check_gaps(out.months, path)
    _check_future(out.months, path, today)
    return out


def read_sbo(path: str | Path, today: dt.date | None = None) -> TidyFile:
    """Read and validate a CBP Southwest Land Border Encounters (SBO) CSV into tidy rows."""
    path = Path(path)
    _, records = _read(path, SBO_HEADER, "Southwest Land Border Encounters")
    probs = _Problems(path)
    out = TidyFile("sbo", SBO_COLUMNS)
    seen: dict[tuple, int] = {}
    for n, f in records:
        month, fy, count = _common(n, f, probs)
        component = _category(n, f[3], COMPONENTS, "component", probs, out.renamed)
        demographic = _category(n, f[4], DEMOGRAPHICS, "demographic", probs, out.renamed)
        group = " ".join(f[5].split()).upper()
        title = _category(n, f[6], TITLES, "title of authority", probs, out.renamed)
        etype = _category(n, f[7], ENCOUNTER_TYPES, "encounter type", probs, out.renamed)
        if None in (month, fy, count, component, demographic, title, etype) or not group:
            continue
        key = (month, component, demographic, group, title, etype)
        if key in seen:
            probs.add(n, f"repeats the row of line {seen[key]}")
            continue
        seen[key] = n
        out.rows.append((month, fy, component, demographic, group, title, etype, count))
    probs.raise_if_any("Southwest Land Border Encounters")
    _check_gaps(out.months, path)
    _check_future(out.months, path, today)
    return out
