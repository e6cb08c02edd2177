"""The lookup tables of a release: decoded from its own ``Lookup/`` folder, bundled as fallback.

Each ``Lookup/<name>.csv`` of the release is parsed like the main tables (tab-delimited,
unquoted — quotes and commas are literal — latin-1, NULs stripped, values trimmed; see
:func:`immfacts.data.read_lookup`). A lookup the release lacks, or ships empty or unreadable,
is taken from the copy bundled with the package (``immfacts/data/lookups``, real EOIR lookups
with their provenance), and the report says which source each lookup came from:
``{"lookups": {name: {"source": "release" | "bundled", "rows": n}}}``.

Codes: a coded column of a main table is validated against its lookup's code column
(:func:`immfacts.data.lookup_code_column`: ``strDecCode`` for ``tblLookupCourtDecision``, else
the first column whose name contains "code"), trimmed and upper-cased — the same rule the
sample generator's ground truth uses. Lookups are written to ``lookups/<name>.parquet`` with
their own column names: keys (``idn…`` / ``ID`` integer columns) BIGINT, the rest VARCHAR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from immfacts.data import bundled_lookup_names, bundled_lookup_path, lookup_code_column, read_lookup
from immfacts.errors import InputError
from immfacts.ingest.source import Release
from immfacts.schema import lookup_tables


@dataclass
class Lookup:
    """One decoded lookup table."""

    name: str
    source: str  # release | bundled
    header: list[str]
    rows: list[dict[str, str | None]]
    note: str | None = None

    def codes(self) -> frozenset[str]:
        col = lookup_code_column(self.name, self.header)
        if col is None:
            return frozenset()
        return frozenset(v.upper() for r in self.rows if (v := r.get(col)) is not None)


@dataclass
class Lookups:
    """All lookups of a release, by name (matched case-insensitively)."""

    items: dict[str, Lookup] = field(default_factory=dict)
    _codes: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def get(self, name: str) -> Lookup | None:
        low = name.lower()
        return next((lk for n, lk in self.items.items() if n.lower() == low), None)

    def codes(self, name: str) -> frozenset[str] | None:
        """Trimmed, upper-cased codes of a lookup, or None if neither release nor package has it."""
        key = name.lower()
        if key not in self._codes:
            lk = self.get(name)
            self._codes[key] = lk.codes() if lk is not None and lk.rows else None
        return self._codes[key]

    def report(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for name in sorted(self.items, key=str.lower):
            lk = self.items[name]
            out[name] = {"source": lk.source, "rows": len(lk.rows)}
            if lk.note:
                out[name]["note"] = lk.note
        return out

    def write(self, folder: Path) -> None:
        """``<folder>/<name>.parquet`` for every lookup."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, lk in self.items.items():
            _write_lookup(lk, folder / f"{name}.parquet")


def _is_key(name: str, spec_types: dict[str, str]) -> bool:
    low = name.lower()
    return spec_types.get(low) == "BIGINT" and (low.startswith("idn") or low == "id")


def _write_lookup(lk: Lookup, path: Path) -> None:
    spec = next((s for n, s in lookup_tables().items() if n.lower() == lk.name.lower()), None)
    types = {c.name.lower(): c.type for c in spec.columns} if spec else {}
    arrays, names, used = [], [], set()
    for h in lk.header:
        name = h or f"column_{len(names) + 1}"
        while name.lower() in used:
            name += "_2"
        used.add(name.lower())
        values = [r.get(h) for r in lk.rows]
        if _is_key(h, types):
            ints = [int(v) if v is not None and v.lstrip("-").isdigit() and len(v) < 19 else None for v in values]
            arrays.append(pa.array(ints, pa.int64()))
        else:
            arrays.append(pa.array(values, pa.string()))
        names.append(name)
    pq.write_table(pa.table(arrays, names=names), path)


def _parse(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    rows = read_lookup(path)
    raw = path.read_bytes().replace(b"\x00", b"").decode("latin-1")
    first = raw.replace("\r\n", "\n").split("\n", 1)[0]
    header = [h.strip() for h in first.split("\t")] if first.strip() else []
    return header, rows


def load_lookups(release: Release, work: Path) -> Lookups:
    """Decode the release's lookups, falling back on the bundled copies (module docstring)."""
    work.mkdir(parents=True, exist_ok=True)
    out = Lookups()
    for stem, member in sorted(release.lookups.items()):
        note = None
        try:
            tmp = work / f"lookup-{len(out.items)}.csv"
            tmp.write_bytes(release.read_bytes(member))
            header, rows = _parse(tmp)
            tmp.unlink()
            if not header or not rows:
                note = "the release's file is empty"
        except (OSError, ValueError, UnicodeError, InputError) as e:  # unreadable member
            header, rows, note = [], [], f"the release's file is unreadable ({e})"
        if note is None:
            out.items[stem] = Lookup(stem, "release", header, rows)
            continue
        try:
            path = bundled_lookup_path(stem)
        except Exception:
            out.items[stem] = Lookup(stem, "release", header, rows, note)
            continue
        b_header, b_rows = _parse(path)
        out.items[path.stem] = Lookup(path.stem, "bundled", b_header, b_rows, note + "; the bundled copy is used")
    for name in bundled_lookup_names():
        if out.get(name) is None:
            header, rows = _parse(bundled_lookup_path(name))
            out.items[name] = Lookup(name, "bundled", header, rows, "not in the release; the bundled copy is used")
    return out
