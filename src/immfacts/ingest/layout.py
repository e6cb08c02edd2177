"""A table file's layout (header-driven) and the value rules every row is judged by.

Parsing is header-driven: each header name is mapped to the registry's column (case-
insensitively, through aliases such as ``Sex`` → ``GENDER``); unknown names are kept as extra
VARCHAR columns and reported; registry columns absent from the header are reported (and
written as NULL so downstream queries keep working); a missing *required* column stops the
ingest with a :class:`~immfacts.errors.SchemaError` naming the table, column and release.

Every column gets a **role** that decides its staged type and its checks:

| role | staged type | the value is *inconsistent* (shift evidence) when |
|---|---|---|
| ``pk`` / ``key`` (primary / parent keys) | BIGINT | not an integer |
| ``int`` (other registry BIGINT) | VARCHAR | not an integer |
| ``ts`` (registry TIMESTAMP) | TIMESTAMP | not date-shaped (``YYYY-MM-DD…``) |
| ``code`` (lookup or regex in the registry) | VARCHAR, upper-cased, not squished | date-shaped |
| ``text`` | VARCHAR | date-shaped |
| ``extra`` (not in the registry) | VARCHAR | never |

Values are trimmed (spaces) and squished (runs of spaces → one; codes are only trimmed, as
the lookups' codes keep inner spaces, e.g. ``237A02AI  I``); null-like tokens (empty, whitespace-only, ``NULL``,
``N/A``, ``NA``, ``b6``, ``(b)(6)``, ``???``, case-insensitively) are NULL. A row is
**consistent** when no value is inconsistent; invalid codes never make a row inconsistent
(they are kept and counted). The same rules exist twice, on purpose kept side by side: in SQL
(:mod:`immfacts.ingest.sqlgen`, for the bulk of the rows) and in Python (here, for the few
rows that need repair).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from immfacts.errors import SchemaError
from immfacts.schema import ColumnSpec, TableSpec

NULL_TOKENS = ("NULL", "N/A", "NA", "b6", "(b)(6)", "???")
NULL_TOKENS_UPPER = tuple(sorted({t.upper() for t in NULL_TOKENS}))
_TOKENS = frozenset(NULL_TOKENS_UPPER)
DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
INTEGER = re.compile(r"-?\d+", re.ASCII)
PK_DIGITS = re.compile(r"\d{1,18}", re.ASCII)
CONTROL = re.compile(r"[\x01-\x08\x0b-\x1f\x7f]")
SPACES = re.compile(r" {2,}")


@dataclass
class Column:
    """One field position of a table file."""

    pos: int
    header: str
    name: str
    role: str  # pk | key | int | ts | code | text | extra
    spec: ColumnSpec | None = None
    free_text: bool = False
    lookup: str | None = None
    codes: frozenset[str] | None = None
    pattern: str | None = None

    @property
    def sql_type(self) -> str:
        return {"pk": "BIGINT", "key": "BIGINT", "ts": "TIMESTAMP"}.get(self.role, "VARCHAR")


@dataclass
class Layout:
    """Columns of a table file in file order, plus what the header lacks or adds."""

    table: TableSpec
    header: list[str]
    columns: list[Column]
    missing: list[ColumnSpec] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.columns)

    @property
    def pk_pos(self) -> int | None:
        return next((c.pos for c in self.columns if c.role == "pk"), None)

    @property
    def free_positions(self) -> list[int]:
        """Positions where an embedded tab can be merged back (free-text columns first)."""
        free = [c.pos for c in self.columns if c.free_text]
        if free:
            return free
        # Tables with no free-text column in the registry: any plain text column may hold a tab.
        return [c.pos for c in self.columns if c.role == "text"]

    def output_columns(self) -> list[tuple[str, str, Column | None]]:
        """(name, SQL type, file column or None) in output order: registry order, then extras."""
        by_name = {c.name: c for c in self.columns}
        out: list[tuple[str, str, Column | None]] = []
        for spec in self.table.columns:
            c = by_name.get(spec.name)
            if c is not None:
                out.append((c.name, c.sql_type, c))
            else:
                role = _role(self.table, spec)
                out.append((spec.name, {"pk": "BIGINT", "key": "BIGINT", "ts": "TIMESTAMP"}.get(role, "VARCHAR"), None))
        out += [(c.name, "VARCHAR", c) for c in self.columns if c.role == "extra"]
        return out


def _role(table: TableSpec, spec: ColumnSpec) -> str:
    if table.primary_key and spec.name == table.primary_key:
        return "pk"
    if spec.name in table.parent_keys:
        return "key"
    if spec.type == "TIMESTAMP":
        return "ts"
    if spec.type == "BIGINT":
        return "int"
    if spec.lookup or spec.pattern:
        return "code"
    return "text"


def parse_header(raw: bytes) -> list[str]:
    """Header names of a table file (latin-1; NULs, a BOM, CR and padding removed)."""
    text = raw.replace(b"\x00", b"").decode("latin-1").rstrip("\r\n")
    if text.startswith("ï»¿"):
        text = text[3:]
    return [h.strip(" \r\ufeff") for h in text.split("\t")]


def build_layout(table: TableSpec, header: list[str], source: str, codes_for) -> Layout:
    """Map a header to the registry (``codes_for(lookup) -> frozenset | None`` gives lookup codes)."""
    columns: list[Column] = []
    used: set[str] = set()
    extra: list[str] = []
    for pos, h in enumerate(header):
        name = table.canonical_name(h) if h else f"column_{pos + 1}"
        spec = table.column(name) if h else None
        if spec is not None and spec.name in used:
            spec = None
        if spec is None:
            base = name
            k = 2
            while name in used or table.column(name) is not None:
                name = f"{base}_{k}"
                k += 1
            columns.append(Column(pos, h, name, "extra"))
            extra.append(h or name)
        else:
            role = _role(table, spec)
            codes = codes_for(spec.lookup) if spec.lookup else None
            columns.append(Column(pos, h, spec.name, role, spec, spec.name in table.free_text, spec.lookup, codes, spec.pattern))
            name = spec.name
        used.add(name)
    missing = [s for s in table.columns if s.name not in used]
    lacking = [s.name for s in missing if s.name in table.required]
    if lacking:
        raise SchemaError(
            f"table {table.name} of release {source} lacks required column(s) {', '.join(lacking)} "
            f"(header: {', '.join(header[:12])}{' …' if len(header) > 12 else ''})",
            hint="this release's layout is not supported yet; add the renamed column as an alias in the schema registry",
        )
    if table.primary_key and table.primary_key not in used:
        raise SchemaError(
            f"table {table.name} of release {source} has no primary key column {table.primary_key}",
            hint="add the renamed key as an alias in the schema registry",
        )
    return Layout(table, header, columns, missing, extra)


# --- the Python side of the value rules (used for the rows that need repair) ---------------
def norm(value: str) -> str | None:
    """The value as it is staged before typing: trimmed, squished, None when null-like."""
    s = value.strip(" ")
    if not s or s.upper() in _TOKENS:
        return None
    return SPACES.sub(" ", s) if "  " in s else s


def inconsistent(value: str, col: Column) -> bool:
    """True when the value contradicts its column's type (see the module docstring)."""
    v = norm(value)
    if v is None or col.role == "extra":
        return False
    if col.role in ("pk", "key", "int"):
        return INTEGER.fullmatch(v) is None
    if col.role == "ts":
        return DATE_PREFIX.match(v) is None
    return DATE_PREFIX.match(v) is not None


def type_violations(fields: list[str], layout: Layout) -> int:
    """How many values of a row (with exactly ``layout.n`` fields) are inconsistent."""
    return sum(inconsistent(f, c) for f, c in zip(fields, layout.columns, strict=True))


def code_violations(fields: list[str], layout: Layout) -> int:
    """How many coded values are outside their lookup or pattern (the tie-breaker of repairs)."""
    bad = 0
    for f, c in zip(fields, layout.columns, strict=True):
        if c.codes is None and c.pattern is None:
            continue
        v = norm(f)
        if v is None:
            continue
        u = v.upper()
        if (c.codes is not None and u not in c.codes) or (c.codes is None and c.pattern and re.search(c.pattern, u) is None):
            bad += 1
    return bad
