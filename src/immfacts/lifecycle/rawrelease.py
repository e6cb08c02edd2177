"""Line-level access to a release zip: its members, table headers, and which lines are clean.

Used where a release must be edited without being parsed into tables — the sample
generator's drift option (:mod:`immfacts.sample.drift`) writes the next release by copying
the previous one line by line. A data line is **clean** when ingest would load it exactly as
written and count nothing about it: the header's field count; no control characters; every
value trimmed, single-spaced and not a null-like token; integers in BIGINT columns; parseable
dates (year ≥ 1900) in TIMESTAMP columns and no date-shaped text elsewhere (the shift
evidence); coded values present in the release's lookup (or the bundled one) and matching
the registry's pattern. Removing or editing only clean lines keeps every ingest counter
(repairs, quarantine, value counters) unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from immfacts.schema import TableSpec, find_table

NULL_TOKENS = frozenset({"NULL", "N/A", "NA", "B6", "(B)(6)", "???"})
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: \d{2}:\d{2}:\d{2}(?:\.\d{1,7})?)?$")
DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}")
INT_RE = re.compile(r"^-?\d+$")


def open_zip(path: str | Path) -> zipfile.ZipFile:
    """Open a release zip (Deflate64 members included)."""
    import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

    return zipfile.ZipFile(path)


@dataclass
class Layout:
    """Where things are in a release zip."""

    folder: str  # the MMDDYY-FOIA-TRAC-FILES folder ('' when files sit at the top)
    tables: dict[str, str] = field(default_factory=dict)  # registry table name -> member
    lookups: dict[str, str] = field(default_factory=dict)  # lookup file stem -> member
    count_txt: str | None = None
    others: list[str] = field(default_factory=list)
    compress_type: int = zipfile.ZIP_DEFLATED


def layout(z: zipfile.ZipFile) -> Layout:
    """Classify the members of a release zip."""
    out = Layout(folder="")
    folders = set()
    for info in z.infolist():
        if info.is_dir():
            continue
        parts = info.filename.split("/")
        name = parts[-1]
        if any(p.lower() == "lookup" for p in parts[:-1]):
            out.lookups[name.rsplit(".", 1)[0]] = info.filename
            continue
        if name.lower() == "count.txt":
            out.count_txt = info.filename
            continue
        spec = find_table(name)
        if spec and spec.kind == "main" and name.lower().endswith((".csv", ".tsv", ".txt")):
            out.tables[spec.name] = info.filename
            folders.add("/".join(parts[:-1]))
            out.compress_type = info.compress_type
        else:
            out.others.append(info.filename)
    out.folder = sorted(folders)[0] if folders else ""
    return out


def iter_lines(z: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The lines of a member without their terminator (CRLF or LF)."""
    with z.open(member) as raw:
        for line in io.BufferedReader(raw, buffer_size=1 << 20):
            if line.endswith(b"\n"):
                line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            yield line


def split(line: bytes) -> list[str]:
    return line.decode("latin-1").split("\t")


def parse_day(value: str) -> dt.date | None:
    """The date of a ``YYYY-MM-DD[ HH:MM:SS[.fff]]`` value (None when not a valid date ≥ 1900)."""
    m = DATE_RE.match(value)
    if not m:
        return None
    try:
        d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return d if d.year >= 1900 else None


class LookupCodes:
    """Codes of the lookups a release ships (else the bundled ones), compared upper-cased."""

    def __init__(self, z: zipfile.ZipFile, lay: Layout) -> None:
        self._z, self._lay = z, lay
        self._cache: dict[str, frozenset[str] | None] = {}

    def get(self, lookup: str) -> frozenset[str] | None:
        key = lookup.lower()
        if key not in self._cache:
            self._cache[key] = self._load(lookup)
        return self._cache[key]

    def _load(self, lookup: str) -> frozenset[str] | None:
        from immfacts import data

        member = next((m for s, m in self._lay.lookups.items() if s.lower() == lookup.lower()), None)
        if member is not None:
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / f"{lookup}.csv"
                p.write_bytes(self._z.read(member))
                return data.lookup_codes(lookup, p)
        if data.is_bundled(lookup):
            return data.lookup_codes(lookup)
        return None


class LineChecker:
    """Decides whether a data line of one table is clean (see the module docstring)."""

    def __init__(self, spec: TableSpec, header: list[str], codes: LookupCodes) -> None:
        self.spec = spec
        self.header = header
        self.columns = [spec.column(spec.canonical_name(h)) for h in header]
        self._index = {c.name.lower(): i for i, c in reversed(list(enumerate(self.columns))) if c is not None}
        self._checks = [_validator(c, codes) for c in self.columns]

    def index(self, column: str) -> int | None:
        """Position of a registry column in this file's header (aliases resolved)."""
        return self._index.get(column.lower())

    def clean(self, fields: list[str]) -> bool:
        if len(fields) != len(self._checks):
            return False
        return all(v == "" or check(v) for v, check in zip(fields, self._checks, strict=True))


# Leading/trailing or doubled whitespace, or a control character: ingest would count or strip it.
_UNTIDY = re.compile(r"^\s|\s$|\s\s|[\x00-\x1f\x7f]")


def _tidy(v: str) -> bool:
    return not _UNTIDY.search(v) and not (len(v) <= 8 and v.upper() in NULL_TOKENS)


def _validator(col, codes: LookupCodes):
    """A check of one column's non-empty values (built once per column)."""
    if col is None:
        return _tidy
    if col.type == "BIGINT":
        return lambda v: bool(INT_RE.match(v))
    if col.type == "TIMESTAMP":
        return lambda v: parse_day(v) is not None
    valid = codes.get(col.lookup) if col.lookup else None
    pattern = re.compile(col.pattern) if col.pattern else None

    def check(v: str) -> bool:
        if not _tidy(v) or DATE_SHAPE.match(v):
            return False
        if valid is not None and v.upper() not in valid:
            return False
        return not (pattern is not None and not pattern.search(v.upper()))

    return check
