"""Python repair of the few lines the fast path cannot take, and duplicate resolution.

A line reaches Python when the pre-pass found it malformed (wrong field count, a control
character, a key that is not plain digits), when its key occurs on more than one line, or
when DuckDB found it inconsistent (a type violation: a non-date in a date column, a date in a
text column, a non-integer in an integer column). For each line, in this order:

1. NUL bytes are removed (repair ``nul_stripped``), then other control characters except TAB
   (``control_chars_stripped``; a lone CR counts as one).
2. An empty line, or an empty key, is quarantined as ``empty_primary_key``; a key that is not
   an integer marks a fragment of a record split by an embedded newline
   (``continuation_line``) — it is kept verbatim in quarantine, never glued to a neighbour.
3. A line with the header's field count and no type violation is loaded as it is. Otherwise
   the candidate repairs are tried (EOIR_DOMAIN.md §5 #2–3): more fields than the header →
   merge the surplus into each free-text column in turn (``overflow_merged``); same count but
   inconsistent → merge a free-text column with the next field and restore the dropped
   trailing empty field (``shift_fixed``); fewer fields → pad with empty fields
   (``short_row_padded``). Only *consistent* candidates count; among them the one with the
   fewest lookup/pattern violations wins. No consistent candidate, or a tie between different
   ones, quarantines the line as ``unrepairable`` (nothing is guessed).
4. Lines sharing a key are resolved in file order: the first loadable line is loaded; a later
   one is ``duplicate_row`` when it repeats an earlier line byte for byte, else
   ``duplicate_key``.

Repair kinds are counted only for loaded rows (a quarantined line is kept verbatim).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from immfacts.ingest.layout import CONTROL, PK_DIGITS, Layout, code_violations, type_violations

REPAIR_KINDS = ("nul_stripped", "control_chars_stripped", "overflow_merged", "shift_fixed", "short_row_padded")
REASONS = ("empty_primary_key", "duplicate_row", "duplicate_key", "unrepairable", "continuation_line")


@dataclass
class Outcome:
    """What happens to one line: loaded (``fields`` set) or quarantined (``reason`` set)."""

    line_no: int | None
    raw: bytes
    pk: int | None = None
    fields: list[str] | None = None
    repairs: list[str] = field(default_factory=list)
    reason: str | None = None
    detail: str = ""

    @property
    def loaded(self) -> bool:
        return self.reason is None

    def quarantine(self, reason: str, detail: str = "") -> Outcome:
        self.reason, self.fields, self.repairs, self.detail = reason, None, [], detail
        return self


def _candidates(fields: list[str], layout: Layout) -> tuple[str | None, list[list[str]]]:
    n, extra = layout.n, len(fields) - layout.n
    free = layout.free_positions
    if extra > 0:
        return "overflow_merged", [
            fields[:i] + [" ".join(fields[i : i + extra + 1])] + fields[i + extra + 1 :] for i in free if i + extra < len(fields)
        ]
    if extra == 0:
        return "shift_fixed", [fields[:i] + [fields[i] + " " + fields[i + 1]] + fields[i + 2 :] + [""] for i in free if i + 1 < n]
    return "short_row_padded", [fields + [""] * (-extra)]


def fix_fields(fields: list[str], layout: Layout) -> tuple[list[str] | None, str | None, str]:
    """(fixed fields or None, repair kind or None, explanation) — see the module docstring."""
    if len(fields) == layout.n and not type_violations(fields, layout):
        return fields, None, ""
    kind, cands = _candidates(fields, layout)
    ok = [c for c in cands if not type_violations(c, layout)]
    if not ok:
        return None, None, f"{len(fields)} fields for {layout.n} columns and no consistent repair"
    scored = sorted((code_violations(c, layout), i) for i, c in enumerate(ok))
    if len(scored) > 1 and scored[0][0] == scored[1][0] and ok[scored[0][1]] != ok[scored[1][1]]:
        return None, None, "two different repairs fit equally well"
    return ok[scored[0][1]], kind, ""


def classify(line_no: int | None, raw: bytes, layout: Layout) -> Outcome:
    """Decide one line's fate (steps 1–3 of the module docstring)."""
    out = Outcome(line_no, raw)
    text = raw.decode("latin-1")
    if "\x00" in text:
        text = text.replace("\x00", "")
        out.repairs.append("nul_stripped")
    if CONTROL.search(text):
        text = CONTROL.sub("", text)
        out.repairs.append("control_chars_stripped")
    fields = text.split("\t")
    pk_pos = layout.pk_pos
    if not text.strip(" "):
        return out.quarantine("empty_primary_key" if pk_pos is not None else "unrepairable", "empty line")
    if pk_pos is not None:
        key = fields[pk_pos].strip(" ") if len(fields) > pk_pos else ""
        if not key:
            return out.quarantine("empty_primary_key")
        if PK_DIGITS.fullmatch(key) is None:
            return out.quarantine("continuation_line", f"key field {key[:20]!r} is not an integer")
        out.pk = int(key)
    fixed, kind, why = fix_fields(fields, layout)
    if fixed is None:
        return out.quarantine("unrepairable", why)
    if kind:
        out.repairs.append(kind)
    out.fields = fixed
    return out


def resolve_duplicates(group: list[Outcome]) -> list[Outcome]:
    """Lines sharing one key, any order: first loadable loaded, later ones quarantined."""
    group.sort(key=lambda o: (o.line_no is None, o.line_no or 0))
    winner = None
    seen: set[bytes] = set()
    for o in group:
        if o.reason is None:
            if winner is None:
                winner = o
            else:
                o.quarantine("duplicate_row" if o.raw in seen else "duplicate_key", f"key {o.pk} already loaded from line {winner.line_no}")
        seen.add(o.raw)
    return group
