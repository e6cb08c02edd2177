"""Turning entity arrays into the text columns of a release file.

Helpers that format days, integers and codes as the release writes them (``YYYY-MM-DD
00:00:00.000``, plain integers, trimmed codes) into PyArrow string arrays with nulls, and a
generic filler for columns the case model does not derive: calibrated values and missingness
for coded columns, dates near the row's anchor date, times, small integers.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from immfacts.data import bundled_lookup_names, lookup_codes
from immfacts.sample.calib import missingness, valid_frequencies
from immfacts.schema import ColumnSpec, TableSpec

DAY0 = dt.date(1900, 1, 1)
DAY0_NUM = (DAY0 - dt.date(1970, 1, 1)).days
NULL = pa.scalar(None, pa.string())


@functools.cache
def _day_strings() -> pa.Array:
    base = np.datetime64(DAY0.isoformat(), "D")
    days = base + np.arange(0, 60000)
    return pa.array(np.char.add(np.datetime_as_string(days, unit="D"), " 00:00:00.000"))


def dates(days: np.ndarray) -> pa.Array:
    """Day numbers (-1 null) → ``YYYY-MM-DD 00:00:00.000`` strings."""
    days = np.asarray(days, dtype=np.int64)
    idx = pa.array(days - DAY0_NUM, mask=days < 0, type=pa.int64())
    return pc.take(_day_strings(), idx)


def ints(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers → strings (``null`` marks nulls)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64), mask=null), pa.string())


def text(values: np.ndarray) -> pa.Array:
    """A NumPy string array → strings, ``""`` becoming null."""
    a = pa.array(np.asarray(values).astype(str), type=pa.string())
    return pc.if_else(pc.equal(a, ""), NULL, a)


def blank(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def missing_share(table: str, column: str, default: float = 0.5) -> float:
    return missingness().get((table, column), default)


@functools.cache
def shipped_codes(lookup: str) -> frozenset[str] | None:
    """Codes of a bundled lookup (case-insensitive name), or None if it is not bundled."""
    for n in bundled_lookup_names():
        if n.lower() == lookup.lower():
            return lookup_codes(n)
    return None


@functools.cache
def _sampler(table: str, column: str, lookup: str | None, pattern: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    valid = shipped_codes(lookup) if lookup else None
    try:
        return valid_frequencies(table, column, valid, pattern)
    except KeyError:
        pass
    if valid:
        vals = np.asarray(sorted(v for v in valid if v.isalnum() and v not in {"NA", "B6"}))
        if len(vals):
            return vals, np.full(len(vals), 1.0 / len(vals))
    return None


def fill(rng: np.random.Generator, table: TableSpec, col: ColumnSpec, n: int, anchor: np.ndarray, end: np.ndarray) -> pa.Array:
    """A column the case model does not derive, drawn from its calibration.

    Nulls at the column's real missingness; coded columns from their valid calibrated values
    (or uniformly from the bundled lookup's codes); dates between ``anchor`` and ``end``;
    ``*_TIME`` columns as ``HHMM``; other integers small; free text left null.
    """
    miss = rng.random(n) < missing_share(table.name, col.name)
    if col.type == "TIMESTAMP":
        span = np.maximum(end - anchor, 0)
        d = anchor + np.floor(rng.random(n) * (span + 1)).astype(np.int64)
        return dates(np.where(miss | (anchor < 0), -1, d))
    s = _sampler(table.name, col.name, col.lookup, col.pattern)
    if s is not None and col.type == "BIGINT" and not all(str(v).isdigit() for v in s[0]):
        s = None
    if s is not None:
        vals, p = s
        v = vals[rng.choice(len(vals), n, p=p)]
        return text(np.where(miss, "", v))
    if col.type == "BIGINT":
        return ints(rng.integers(1, 1000, n), miss)
    if col.name.upper().endswith("TIME") or col.name.upper().endswith("_START") or col.name.upper().endswith("_STOP"):
        t = np.asarray(["0830", "0900", "0930", "1000", "1030", "1100", "1300", "1330", "1400", "1500"])
        return text(np.where(miss, "", t[rng.integers(0, len(t), n)]))
    return blank(n)
