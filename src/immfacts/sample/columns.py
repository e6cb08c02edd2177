"""Turning entity arrays into the text columns of a release file.

Helpers that format days, integers and codes as the release writes them (``YYYY-MM-DD
00:00:00.000``, plain integers, trimmed codes) into PyArrow arrays with nulls, and a generic
filler for columns the case model does not derive: calibrated values and missingness for coded
columns, dates near the row's anchor date, times, small integers.

A column is kept in the cheapest Arrow form that still says exactly what its text is, and is
turned into strings only when its lines are joined (:func:`as_strings`):

* dates are a dictionary array whose indices are day numbers into one shared table of
  formatted days (no per-row formatting);
* integers stay ``int64`` (Arrow's cast prints them as plain decimal integers);
* values drawn from a small vocabulary are a dictionary array over that vocabulary;
* other codes are plain strings, built from NumPy's fixed-width arrays with vectorised byte
  operations (ASCII only; anything else takes PyArrow's general conversion).
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
    """Day numbers (-1 null) → ``YYYY-MM-DD 00:00:00.000`` (a dictionary over formatted days)."""
    days = np.asarray(days, dtype=np.int64)
    null = days < 0
    idx = days - DAY0_NUM
    if len(idx) and (idx[~null].min(initial=0) < 0 or idx.max() >= len(_day_strings())):
        raise IndexError("sample date outside 1900..2064")
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32), mask=null if null.any() else None), _day_strings(), safe=False)


def ints(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers (``null`` marks nulls), kept as ``int64`` until the line is written."""
    mask = None if null is None or not np.any(null) else np.asarray(null, dtype=bool)
    return pa.array(np.asarray(values, dtype=np.int64), mask=mask, type=pa.int64())


def coded(vocabulary: pa.Array, index: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``vocabulary[index]`` (``null`` marks nulls) as a dictionary array; no value may be ``""``."""
    mask = None if null is None or not np.any(null) else np.asarray(null, dtype=bool)
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(index, dtype=np.int32), mask=mask), vocabulary, safe=False)


def text(values: np.ndarray) -> pa.Array:
    """A NumPy string array → strings, ``""`` becoming null."""
    a = np.ascontiguousarray(np.asarray(values))
    if a.dtype.kind != "U":
        a = np.ascontiguousarray(a.astype(str))
    n, w = len(a), a.dtype.itemsize // 4
    if n == 0 or w == 0:
        return pa.nulls(n, pa.string())
    cp = a.view(np.uint32).reshape(n, w)
    filled = cp != 0
    lengths = filled.sum(axis=1, dtype=np.int64)
    if cp.max() >= 128 or not np.array_equal(lengths, np.strings.str_len(a)):
        return _text_general(a)  # non-ASCII, or NUL characters inside a value
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = cp[filled].astype(np.uint8)
    valid = lengths > 0
    nulls = n - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, nulls)


def _text_general(a: np.ndarray) -> pa.Array:
    s = pa.array(a, type=pa.string())
    return pc.if_else(pc.equal(s, ""), NULL, s)


def as_strings(a: pa.Array) -> pa.Array:
    """Any column of this module as plain strings (what its field text is)."""
    if pa.types.is_dictionary(a.type):
        return a.dictionary_decode()
    if not (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)):
        return pc.cast(a, pa.string())
    return a


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


@functools.cache
def vocabulary(values: tuple[str, ...]) -> pa.Array:
    """One shared Arrow array per vocabulary (value counters are cached per vocabulary)."""
    return pa.array(list(values), type=pa.string())


TIMES = ("0830", "0900", "0930", "1000", "1030", "1100", "1300", "1330", "1400", "1500")


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
        return coded(vocabulary(tuple(vals.tolist())), rng.choice(len(vals), n, p=p), miss)
    if col.type == "BIGINT":
        return ints(rng.integers(1, 1000, n), miss)
    if col.name.upper().endswith("TIME") or col.name.upper().endswith("_START") or col.name.upper().endswith("_STOP"):
        return coded(vocabulary(TIMES), rng.integers(0, len(TIMES), n), miss)
    return blank(n)
