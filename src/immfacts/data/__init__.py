"""Data files bundled in the package: the EOIR lookup tables and the sample's calibration.

``lookups/<Lookup>.csv`` are real EOIR lookup tables, written exactly as a release's
``Lookup/`` files (tab-delimited, unquoted, latin-1, CRLF, header row; see
``lookups/PROVENANCE.md``). Ingest falls back on them when a release ships no lookup of its
own, and the sample generator copies them into every sample release. ``calibration/`` holds the
public value frequencies, missingness and yearly volumes the sample generator is shaped on.

This module reads both without pandas: :func:`read_lookup` parses a lookup file (bundled or
from a release) into rows, and :func:`lookup_code_column` names the column whose values the
main tables' coded columns refer to, so "is this code in the lookup?" means the same thing to
ingest, the sample generator and its ground truth.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from immfacts.errors import SchemaError
from immfacts.paths import package_data

# The column holding the code, for lookups where the rule "first column (after column 0) whose
# name contains 'code'" would not find it.
_CODE_COLUMN_OVERRIDES = {
    "tblLookupCourtDecision": "strDecCode",
    "tblLookupInmate": "INMATE_CODE",
    "tblInmateHousing": "Strcode",
    "tblLookupRegion": "strcode",
}


def lookups_dir() -> Path:
    """Folder of the bundled lookup tables."""
    return package_data("lookups")


def calibration_dir() -> Path:
    """Folder of the bundled calibration tables of the sample generator."""
    return package_data("calibration")


@functools.cache
def bundled_lookup_names() -> tuple[str, ...]:
    """Names (file stems) of the bundled lookup tables, sorted."""
    return tuple(sorted(p.stem for p in lookups_dir().glob("*.csv")))


def bundled_lookup_path(name: str) -> Path:
    """Path of the bundled lookup ``name`` (case-insensitive, with or without ``.csv``).

    Raises :class:`~immfacts.errors.SchemaError` if no such lookup is bundled.
    """
    stem = Path(name).name
    if stem.lower().endswith(".csv"):
        stem = stem[:-4]
    for n in bundled_lookup_names():
        if n.lower() == stem.lower():
            return lookups_dir() / f"{n}.csv"
    raise SchemaError(
        f"no bundled lookup table named {name!r}",
        hint="bundled lookups: " + ", ".join(bundled_lookup_names()),
    )


def is_bundled(name: str) -> bool:
    """True if a lookup of that name (case-insensitive) is bundled."""
    low = Path(name).name.lower().removesuffix(".csv")
    return any(n.lower() == low for n in bundled_lookup_names())


def read_lookup(path: str | os.PathLike[str]) -> list[dict[str, str | None]]:
    """Rows of a lookup file as dicts keyed by its header's column names.

    Parses the release format: tab-delimited, unquoted (quotes are literal), latin-1, CRLF or
    LF. NUL bytes are removed; values are trimmed and empty values become ``None``. Short rows
    are padded with ``None``; fields beyond the header are joined onto the last column.
    """
    raw = Path(path).read_bytes().replace(b"\x00", b"").decode("latin-1")
    lines = [ln for ln in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    if not lines:
        return []
    header = [h.strip() for h in lines[0].split("\t")]
    rows: list[dict[str, str | None]] = []
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) > len(header):
            fields = fields[: len(header) - 1] + ["\t".join(fields[len(header) - 1 :])]
        fields += [""] * (len(header) - len(fields))
        rows.append({h: (f.strip() or None) for h, f in zip(header, fields, strict=True)})
    return rows


def lookup_code_column(name: str, columns: list[str] | None = None) -> str | None:
    """The column of lookup ``name`` holding the codes that main-table columns refer to.

    Rule: an explicit override for the few irregular lookups (``tblLookupCourtDecision`` →
    ``strDecCode``), else the first column (after column 0) whose name contains "code"
    (``strCode``, ``BASE_CITY_CODE``, ``HEARING_LOC_CODE``, ``JUDGE_CODE``, ``state_code`` …),
    else the second column. ``columns`` defaults to the registry's columns for ``name``.
    """
    if columns is None:
        from immfacts.schema import lookup_tables

        spec = next((s for n, s in lookup_tables().items() if n.lower() == name.lower()), None)
        if spec is None:
            return None
        columns = spec.column_names
        name = spec.name
    for n, col in _CODE_COLUMN_OVERRIDES.items():
        if n.lower() == name.lower() and col in columns:
            return col
    for c in columns[1:]:
        if "code" in c.lower():
            return c
    return columns[1] if len(columns) > 1 else (columns[0] if columns else None)


def lookup_codes(name: str, path: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Codes of a lookup, trimmed and upper-cased (the form coded columns are compared in).

    Reads ``path`` if given (e.g. a release's own ``Lookup/`` file), else the bundled file.
    """
    p = Path(path) if path is not None else bundled_lookup_path(name)
    rows = read_lookup(p)
    if not rows:
        return frozenset()
    col = lookup_code_column(name, list(rows[0].keys()))
    return frozenset(v.upper() for r in rows if (v := r.get(col)) is not None)


def read_calibration_csv(name: str) -> list[dict[str, str]]:
    """Rows of a bundled calibration CSV (comma-separated, UTF-8, header row)."""
    with open(calibration_dir() / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
