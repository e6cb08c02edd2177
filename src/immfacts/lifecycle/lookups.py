"""Which columns of an EOIR lookup table are its code, its label and its tracked content.

EOIR's ``Lookup/`` tables keep their own column names (``strCode``, ``BASE_CITY_CODE``,
``strCourtApplnDecCode`` …) and rarely declare a key. The registry names the natural key when
one code is not enough (``tblLookupCourtDecision``: case type, code, decision type);
otherwise the code column is found by name. Used to decode codes for exports and to tell
codes added / removed / redefined between releases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from immfacts.schema import registry

# Columns that are bookkeeping, not meaning: row ids and created/modified stamps.
_BOOKKEEPING = re.compile(r"^(idn|id$|dat(created|modified)on$|regd_by$)", re.IGNORECASE)
_CODE = re.compile(r"(^str\w*code$|_code$|^code$|^strcode$|code$)", re.IGNORECASE)
_LABEL = re.compile(r"(desc|name|disp$|_info$|^strgroup$|reason|holiday|codestring)", re.IGNORECASE)

# Code columns whose lookup the registry does not declare (EOIR_DOMAIN.md §1.5).
EXTRA_CODED_COLUMNS: dict[str, dict[str, str]] = {
    "tbl_Court_Appln": {"APPL_CODE": "tblLookUp_Appln", "APPL_DEC": "tblLookupCourtAppDecisions"},
}
# Registry lookups that do not decode the column's values (DEC_TYPE is O/W/6/7, not tblDecCode's letters).
NOT_DECODED: dict[str, set[str]] = {"B_TblProceeding": {"DEC_TYPE"}}


@dataclass(frozen=True)
class LookupShape:
    """The roles of a lookup's columns."""

    name: str
    key: tuple[str, ...]  # natural key (one code column for most lookups)
    code: str | None  # the code column (last key column for multi-key lookups)
    label: str | None  # the human-readable description
    tracked: tuple[str, ...]  # non-key columns whose change means "redefined"


def is_bookkeeping(column: str) -> bool:
    """Row ids and created/modified stamps (changes there do not redefine a code)."""
    return bool(_BOOKKEEPING.search(column))


def shape(name: str, columns: list[str]) -> LookupShape:
    """Find the key, code, label and tracked columns of lookup ``name`` with ``columns``."""
    spec = registry().get(name)
    by_lower = {c.lower(): c for c in columns}
    key: tuple[str, ...] = ()
    if spec and spec.natural_key and all(k.lower() in by_lower for k in spec.natural_key):
        key = tuple(by_lower[k.lower()] for k in spec.natural_key)
    code = None
    if key:
        # tblLookupCourtDecision: the code is strDecCode (key order: type, code, dec type).
        code = next((k for k in key if _CODE.search(k)), key[-1])
    else:
        candidates = [c for c in columns if not is_bookkeeping(c)]
        code = next((c for c in candidates if _CODE.search(c)), None)
        if code is None:
            code = next((c for c in candidates if not c.lower().startswith("bln")), None)
        key = (code,) if code else ()
    label = None
    if code:
        after = columns[columns.index(code) + 1 :] + columns[: columns.index(code)]
        usable = [c for c in after if c not in key and not is_bookkeeping(c)]
        label = next((c for c in usable if "desc" in c.lower()), None) or next(
            (c for c in usable if _LABEL.search(c)), None
        )
    tracked = tuple(c for c in columns if c not in key and not is_bookkeeping(c))
    return LookupShape(name, key, code, label, tracked)


def coded_columns(table: str) -> dict[str, str]:
    """``{column: lookup}`` for the code columns of a main table that a lookup decodes."""
    spec = registry().get(table)
    out: dict[str, str] = {}
    if spec:
        for c in spec.columns:
            if c.lookup and c.name not in NOT_DECODED.get(table, set()):
                out[c.name] = c.lookup
    out.update(EXTRA_CODED_COLUMNS.get(table, {}))
    return out
