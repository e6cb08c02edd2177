"""The row-consistency rule behind the sample's quirks, and the value counters of the truth.

A data line is *consistent* with its table when every TIMESTAMP field is empty or date-shaped
(``^\\d{4}-\\d{2}-\\d{2}``), every BIGINT field is empty or an integer, and no other field is
date-shaped (EOIR_DOMAIN.md §5 #2: type violations reveal shifted columns). Invalid codes never
break consistency. The generator injects embedded tabs only where exactly one repair — merging
the split free-text field (joined with one space, i.e. the tab squished) for an overflow row,
or merging it and restoring the dropped trailing empty field for a hidden shift — gives a
consistent row with the fewest type, lookup and pattern violations; "unrepairable" rows have no
consistent repair at all. The value counters follow the ingest report's vocabulary.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from immfacts.sample.calib import NULL_TOKENS
from immfacts.sample.columns import shipped_codes
from immfacts.schema import ColumnSpec, TableSpec

DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}")
INT_SHAPE = re.compile(r"^-?\d+$")
TOKENS_UPPER = frozenset(t.upper() for t in NULL_TOKENS)


def _norm(v: str) -> str | None:
    s = " ".join(v.replace("\x00", "").split())
    return None if not s or s.upper() in TOKENS_UPPER else s


def type_violations(fields: list[str], spec: TableSpec) -> int:
    """Fields whose text contradicts the column type (the shift evidence)."""
    bad = 0
    for f, col in zip(fields, spec.columns, strict=False):
        v = _norm(f)
        if v is None:
            continue
        if col.type == "TIMESTAMP":
            bad += not DATE_SHAPE.match(v)
        elif col.type == "BIGINT":
            bad += not INT_SHAPE.match(v)
        else:
            bad += bool(DATE_SHAPE.match(v))
    return bad


def code_violations(fields: list[str], spec: TableSpec) -> int:
    """Coded fields whose value is not in the bundled lookup or does not match the pattern."""
    bad = 0
    for f, col in zip(fields, spec.columns, strict=False):
        v = _norm(f)
        if v is None:
            continue
        v = v.upper()
        codes = shipped_codes(col.lookup) if col.lookup else None
        if codes is not None and v not in codes or col.pattern and not re.search(col.pattern, v):
            bad += 1
    return bad


def _free_idx(name: str, spec: TableSpec) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(spec.columns) if c.name in spec.free_text)


def candidate_repairs(fields: list[str], spec: TableSpec) -> list[list[str]]:
    """Every repair the rule considers for a line's fields (none if it needs none)."""
    n = len(spec.columns)
    extra = len(fields) - n
    out = []
    if extra > 0:
        for i in _free_idx(spec.name, spec):
            out.append(fields[:i] + [" ".join(fields[i : i + extra + 1])] + fields[i + extra + 1 :])
    elif extra == 0 and type_violations(fields, spec):
        for i in _free_idx(spec.name, spec):
            if i + 1 < n:
                out.append(fields[:i] + [fields[i] + " " + fields[i + 1]] + fields[i + 2 :] + [""])
    elif extra < 0:
        out.append(fields + [""] * (-extra))
    return out


def best_repair(fields: list[str], spec: TableSpec) -> tuple[list[str] | None, bool]:
    """(the unique best consistent repair or None, whether any consistent repair exists)."""
    cands = [c for c in candidate_repairs(fields, spec) if not type_violations(c, spec)]
    if not cands:
        return None, False
    scored = sorted((code_violations(c, spec), i) for i, c in enumerate(cands))
    if len(scored) > 1 and scored[0][0] == scored[1][0] and cands[scored[0][1]] != cands[scored[1][1]]:
        return None, True
    return cands[scored[0][1]], True


COUNTERS = ("null_tokens", "trimmed", "invalid_codes", "bad_dates")


def _flags(col: ColumnSpec, a: pa.Array) -> dict[str, np.ndarray]:
    """Which values of a plain string array each counter counts (boolean per value)."""
    stripped = pc.utf8_trim_whitespace(a)
    upper = pc.utf8_upper(stripped)
    is_tok = pc.fill_null(pc.or_(pc.is_in(upper, value_set=_TOKENS), pc.equal(stripped, "")), False)
    out = {"null_tokens": is_tok, "trimmed": pc.fill_null(pc.and_(pc.invert(is_tok), pc.not_equal(a, stripped)), False)}
    norm = pc.if_else(is_tok, pa.scalar(None, pa.string()), upper)
    codes = shipped_codes(col.lookup) if col.lookup else None
    if codes is not None:
        out["invalid_codes"] = pc.fill_null(pc.and_(pc.is_valid(norm), pc.invert(pc.is_in(norm, value_set=_code_set(codes)))), False)
    elif col.pattern:
        out["invalid_codes"] = pc.fill_null(pc.invert(pc.match_substring_regex(norm, col.pattern)), False)
    if col.type == "TIMESTAMP":
        shaped = pc.match_substring_regex(norm, r"^\d{4}-\d{2}-\d{2}( ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?)?$")
        day = pc.utf8_slice_codeunits(norm, 0, 10)
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
        # Arrow rolls impossible days over (2017-02-30 → 2017-03-02); an ingest rejects them
        real = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)
        good = pc.and_(pc.and_(pc.fill_null(shaped, False), pc.fill_null(real, False)), pc.fill_null(pc.greater_equal(pc.year(parsed), 1900), False))
        out["bad_dates"] = pc.fill_null(pc.and_(pc.is_valid(norm), pc.invert(good)), False)
    return {k: np.asarray(v.to_numpy(zero_copy_only=False), dtype=bool) for k, v in out.items()}


_TOKENS = pa.array(sorted(TOKENS_UPPER))


@functools.cache
def _code_set(codes: frozenset[str]) -> pa.Array:
    return pa.array(sorted(codes))


_DICT_FLAGS: dict[tuple, tuple[pa.Array, dict[str, np.ndarray]]] = {}


def _dictionary_flags(col: ColumnSpec, d: pa.Array) -> dict[str, np.ndarray]:
    """:func:`_flags` of a dictionary's values, cached per dictionary (dates share one)."""
    # keyed by the dictionary's buffers (each access makes a new Python wrapper); holding
    # ``d`` in the cache keeps those buffers alive, so their addresses cannot be reused
    key = (tuple(b.address if b is not None else 0 for b in d.buffers()), d.offset, len(d), col.type, col.lookup, col.pattern)
    hit = _DICT_FLAGS.get(key)
    if hit is not None:
        return hit[1]
    if len(_DICT_FLAGS) > 512:
        _DICT_FLAGS.clear()
    flags = _flags(col, d)
    _DICT_FLAGS[key] = (d, flags)
    return flags


def column_counters(col: ColumnSpec, a: pa.Array) -> dict[str, int]:
    """The value counters of one column (all four, zeros included), computed per distinct value.

    Dictionary arrays are counted on their dictionary, weighted by how often each entry is
    used; ``int64`` arrays hold plain integers, which no counter counts unless the column is a
    date or coded; other arrays are counted on their distinct values (``value_counts``).
    """
    out = dict.fromkeys(COUNTERS, 0)
    if len(a) == 0 or a.null_count == len(a):
        return out
    if pa.types.is_dictionary(a.type):
        flags = _dictionary_flags(col, a.dictionary)
        if not any(f.any() for f in flags.values()):
            return out
        idx = a.indices.drop_null().to_numpy()
        weights = np.bincount(idx, minlength=len(a.dictionary))
    else:
        if pa.types.is_integer(a.type):
            if col.type != "TIMESTAMP" and not col.lookup and not col.pattern:
                return out
            a = pc.cast(a, pa.string())
        vc = pc.value_counts(a)
        flags = _flags(col, vc.field("values"))
        weights = vc.field("counts").to_numpy()
    for k, f in flags.items():
        out[k] = int(weights[f].sum())
    return out


def value_counters(spec: TableSpec, cols: dict[str, pa.Array]) -> dict[str, dict[str, int]]:
    """Per column: ``null_tokens``, ``trimmed``, ``invalid_codes``, ``bad_dates`` (non-zero only).

    ``null_tokens`` counts non-empty null-like tokens (whitespace-only included, never also
    counted as ``trimmed``); ``trimmed`` values with leading/trailing whitespace;
    ``invalid_codes`` non-null values (trimmed, upper-cased) of a column coded by a bundled
    lookup not in its codes, or of a regex-coded column not matching; ``bad_dates`` non-null
    values of TIMESTAMP columns that do not parse as a date or lie before 1900.
    """
    out: dict[str, dict[str, int]] = {}
    for col in spec.columns:
        c = {k: v for k, v in column_counters(col, cols[col.name]).items() if v}
        if c:
            out[col.name] = c
    return out
