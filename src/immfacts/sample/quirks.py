"""Injecting the real release's quirks into a chunk of a table, and counting every one.

Quirk classes and what a correct ingest must report for them (the truth sidecar carries both):

| class | what is written | consequence |
|---|---|---|
| ``null_token`` | ``N/A``, ``NULL``, ``NA``, ``b6``, ``(b)(6)``, ``???`` or blanks where the value is null (VARCHAR columns) | ``values.<col>.null_tokens`` |
| ``padded_code`` | a coded value with leading/trailing spaces | ``values.<col>.trimmed`` |
| ``junk_code`` | a code outside the lookup/pattern (e.g. ``SP`` in CUSTODY) — never in columns the metrics use | ``values.<col>.invalid_codes`` |
| ``sentinel_date`` / ``malformed_date`` | ``1753-01-01 …`` / ``2017-02-30 …`` in a date column the metrics do not use | ``values.<col>.bad_dates`` |
| ``latin1`` | a free-text value with latin-1 letters (Puerto Rico place names …) | lossless |
| ``nul_byte`` / ``control_char`` | a NUL / SUB byte inside a field | ``rows_repaired.nul_stripped`` / ``control_chars_stripped`` |
| ``overflow`` | a tab in place of a space in a free-text field (one field too many) | ``rows_repaired.overflow_merged`` |
| ``hidden_shift`` | the same, with the (empty) last field dropped: same field count, columns slid | ``rows_repaired.shift_fixed`` |
| ``short_row`` | trailing empty fields dropped | ``rows_repaired.short_row_padded`` |
| ``unrepairable`` | an extra line with a tab *and* a non-integer in an integer column | ``quarantined.unrepairable`` |
| ``continuation_line`` | an extra fragment line whose first field is text | ``quarantined.continuation_line`` |
| ``empty_pk`` | an extra copy of a line with the primary key blanked | ``quarantined.empty_primary_key`` |
| ``duplicate_row`` / ``duplicate_key`` | an extra exact copy / a copy with one value changed | ``quarantined.duplicate_row`` / ``duplicate_key`` |
| ``orphan`` | an extra row whose IDNCASE is not in A_TblCase (loaded) | ``orphans`` |
| ``case_type_conflict`` | a proceeding typed differently from its case (an entity property) | ``case_type_conflicts`` |

Every repair is lossless (the loaded value equals the entity's value), extra lines are never
entities, and junk codes and bad dates avoid the columns the metrics read, so the metric truth
stays exactly computable from the entities.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from immfacts.sample.calib import NULL_TOKENS
from immfacts.sample.columns import shipped_codes
from immfacts.sample.tables import LATIN1_CITIES, LATIN1_MESSAGES
from immfacts.sample.validate import best_repair, column_counters, type_violations
from immfacts.schema import TableSpec

# Per entity row; the count of a class in a table is max(MIN_COUNT, round(rate × rows)).
DEFAULT_QUIRK_RATES: dict[str, float] = {
    "null_token": 1e-4, "padded_code": 1e-4, "junk_code": 1e-5, "sentinel_date": 5e-6,
    "malformed_date": 5e-6, "latin1": 1e-5, "nul_byte": 2e-6, "control_char": 2e-6,
    "overflow": 5e-6, "hidden_shift": 3e-6, "short_row": 2e-6, "unrepairable": 2e-7,
    "continuation_line": 2e-7, "empty_pk": 2e-7, "duplicate_row": 1e-6, "duplicate_key": 5e-7,
    "orphan": 1e-5, "case_type_conflict": 1.6e-5,
}
MIN_COUNT = 2
QUARANTINE = {"unrepairable": "unrepairable", "continuation_line": "continuation_line", "empty_pk": "empty_primary_key",
              "duplicate_row": "duplicate_row", "duplicate_key": "duplicate_key"}
REPAIR = {"nul_byte": "nul_stripped", "control_char": "control_chars_stripped", "overflow": "overflow_merged",
          "hidden_shift": "shift_fixed", "short_row": "short_row_padded"}
VALUE_CLASSES = ("null_token", "padded_code", "junk_code", "sentinel_date", "malformed_date", "latin1")
ROW_CLASSES = ("nul_byte", "control_char", "overflow", "hidden_shift", "short_row")
EXTRA_CLASSES = ("unrepairable", "continuation_line", "empty_pk", "duplicate_row", "duplicate_key")
# Columns the metrics read: only lossless quirks touch them.
PROTECTED = {
    "A_TblCase": {"CASE_TYPE", "C_ASY_TYPE", "E_28_DATE"},
    "B_TblProceeding": {"INPUT_DATE", "COMP_DATE", "DEC_CODE", "OTHER_COMP", "CASE_TYPE", "ABSENTIA", "OSC_DATE"},
    "tbl_Court_Appln": {"APPL_CODE", "APPL_RECD_DATE", "APPL_DEC"},
}
JUNK = ["SP", "ENG", "MAN", "LOS", "BND", "MAA", "AOL", "Q9", "00"]
SENTINELS = ["1753-01-01 00:00:00.000", "1899-12-30 00:00:00.000", "0001-01-01 00:00:00.000"]
MALFORMED = ["2017-02-30 00:00:00.000", "2019-13-01 00:00:00.000", "2021-04-31 00:00:00.000"]


def quirk_counts(table: TableSpec, rows: int, rates: dict[str, float]) -> dict[str, int]:
    """How many of each applicable quirk class this table gets."""
    applicable = set(rates)
    if not table.free_text:
        applicable -= {"overflow", "hidden_shift", "unrepairable", "continuation_line", "latin1"}
    if not table.parent_keys:
        applicable.discard("orphan")
    if table.name != "B_TblProceeding":
        applicable.discard("case_type_conflict")
    return {k: (max(MIN_COUNT, round(rates[k] * rows)) if rates[k] > 0 and rows else 0) for k in sorted(applicable)}


@dataclass
class TableAccount:
    """Everything a correct ingest must report for one table."""

    entity_rows: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    quirks: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    repaired: Counter = field(default_factory=Counter)
    values: dict[str, Counter] = field(default_factory=dict)
    orphans: int = 0
    case_type_conflicts: int = 0

    def add_values(self, counters: dict[str, dict[str, int]]) -> None:
        for col, c in counters.items():
            self.values.setdefault(col, Counter()).update(c)

    def to_dict(self, count_txt: int) -> dict:
        q = sum(self.quarantined.values())
        return {
            "entity_rows": self.entity_rows, "rows_read": self.rows_read, "rows_loaded": self.rows_loaded,
            "rows_quarantined": q, "quarantined": dict(sorted(self.quarantined.items())),
            "rows_repaired": dict(sorted(self.repaired.items())),
            "values": {c: dict(sorted(v.items())) for c, v in sorted(self.values.items())},
            "quirks": dict(sorted(self.quirks.items())), "orphans": self.orphans,
            "case_type_conflicts": self.case_type_conflicts, "count_txt": count_txt,
        }


@dataclass
class KeyPool:
    """Fresh ids for extra rows, and the IDNCASE values no case has (targets of orphans)."""

    next_pk: int
    next_proc: int
    missing_cases: list[int]

    def pk(self) -> int:
        self.next_pk += 1
        return self.next_pk

    def proc(self) -> int:
        self.next_proc += 1
        return self.next_proc

    def case(self, rng: np.random.Generator) -> int:
        return int(self.missing_cases[rng.integers(0, len(self.missing_cases))])


class ChunkQuirks:
    """Applies one chunk's share of each quirk class; see the module docstring."""

    def __init__(self, spec: TableSpec, cols: dict[str, pa.Array], rng: np.random.Generator, acct: TableAccount, keys: KeyPool):
        self.spec, self.cols, self.rng, self.acct, self.keys = spec, cols, rng, acct, keys
        self.n = len(next(iter(cols.values())))
        self.used = np.zeros(self.n, dtype=bool)
        self.valid = {c: np.asarray(a.is_valid().to_numpy(zero_copy_only=False)) for c, a in cols.items()}
        self.edits: dict[str, dict[int, str]] = {}
        self.python_rows: dict[int, str] = {}  # rows rendered in Python (quirked lines)
        self.extra_lines: list[str] = []
        self.pk = spec.primary_key
        self.protected = PROTECTED.get(spec.name, set())
        self.keycols = {spec.primary_key, *spec.parent_keys}
        # per value class: the columns it may edit (in column order), and whether they must hold
        # a generated value (True) or a null (False) in the row
        cols_ = [c for c in spec.columns if c.name not in self.keycols]
        junkable = [c for c in cols_ if c.type == "VARCHAR" and self._coded(c) and c.name not in self.protected and c.name not in spec.free_text]
        self.eligible: dict[str, tuple[list[str], bool]] = {
            "null_token": ([c.name for c in cols_ if c.type == "VARCHAR"], False),
            "padded_code": ([c.name for c in cols_ if c.type == "VARCHAR" and self._coded(c)], True),
            "junk_code": ([c.name for c in junkable if self._junk_for(c)], True),
            "sentinel_date": ([c.name for c in cols_ if c.type == "TIMESTAMP" and c.name not in self.protected], True),
        }
        self.eligible["malformed_date"] = self.eligible["sentinel_date"]

    # -- helpers ---------------------------------------------------------------------------
    def _candidates(self, limit: int) -> np.ndarray:
        """Up to ``limit`` rows not yet quirked, in random order (drawn without permuting the
        whole chunk)."""
        idx = np.flatnonzero(~self.used)
        return idx[self.rng.choice(len(idx), min(limit, len(idx)), replace=False)]

    def value(self, col: str, i: int) -> str | None:
        if col in self.edits and i in self.edits[col]:
            return self.edits[col][i]
        v = self.cols[col][i].as_py()
        return v if v is None or isinstance(v, str) else str(v)

    def fields(self, i: int) -> list[str]:
        return [self.value(c.name, i) or "" for c in self.spec.columns]

    def _options(self, cls: str, i: int) -> list[str]:
        """Columns of row ``i`` that value class ``cls`` may edit, in column order."""
        names, want_valid = self.eligible[cls]
        return [n for n in names if bool(self.valid[n][i]) is want_valid]

    def _coded(self, c) -> bool:
        return (c.lookup is not None and shipped_codes(c.lookup) is not None) or c.pattern is not None

    def _junk_for(self, c) -> str | None:
        import re

        codes = shipped_codes(c.lookup) if c.lookup else None
        for j in JUNK:
            if codes is not None and j not in codes:
                return j
            if codes is None and c.pattern and not re.search(c.pattern, j):
                return j
        return None

    # -- value quirks ------------------------------------------------------------------------
    def apply_values(self, quota: dict[str, int]) -> None:
        for cls in VALUE_CLASSES:
            want = quota.get(cls, 0)
            if not want:
                continue
            done = 0
            for i in self._candidates(max(2000, want * 200)):  # bounded: some tables have no candidates
                if done >= want:
                    break
                if self._value_quirk(cls, int(i)):
                    self.used[i] = True
                    done += 1
            quota[cls] -= done
            self.acct.quirks[cls] += done

    def _set(self, col: str, i: int, v: str) -> None:
        self.edits.setdefault(col, {})[i] = v

    def _value_quirk(self, cls: str, i: int) -> bool:
        r = self.rng
        if cls == "null_token":
            opts = self._options(cls, i)
            if opts:
                self._set(opts[r.integers(len(opts))], i, [*NULL_TOKENS, "  "][r.integers(len(NULL_TOKENS) + 1)])
                return True
        elif cls == "padded_code":
            opts = self._options(cls, i)
            if opts:
                col = opts[r.integers(len(opts))]
                v = self.value(col, i)
                self._set(col, i, (" " + v) if r.random() < 0.3 else (v + " " * int(r.integers(1, 6))))
                return True
        elif cls == "junk_code":
            opts = self._options(cls, i)
            if opts:
                col = opts[r.integers(len(opts))]
                self._set(col, i, self._junk_for(self.spec.column(col)))
                return True
        elif cls in ("sentinel_date", "malformed_date"):
            opts = self._options(cls, i)
            if opts:
                pool = SENTINELS if cls == "sentinel_date" else MALFORMED
                self._set(opts[r.integers(len(opts))], i, pool[r.integers(len(pool))])
                return True
        elif cls == "latin1":
            if self.spec.name == "A_TblCase" and self.valid["ALIEN_CITY"][i]:
                city, state, z = LATIN1_CITIES[r.integers(len(LATIN1_CITIES))]
                self._set("ALIEN_CITY", i, city)
                self._set("ALIEN_STATE", i, state)
                self._set("ALIEN_ZIPCODE", i, z + f"{int(r.integers(0, 100)):02d}")
                self.python_rows[i] = ""
                return True
            if self.spec.name == "tbl_schedule" and self.valid["ADJ_MSG"][i]:
                self._set("ADJ_MSG", i, LATIN1_MESSAGES[r.integers(len(LATIN1_MESSAGES))])
                self.python_rows[i] = ""
                return True
        return False

    def edited_rows(self) -> list[int]:
        """Rows with at least one value quirk, in order."""
        return sorted({i for ed in self.edits.values() for i in ed})

    def value_counters(self, orphans: dict[str, pa.Array] | None) -> dict[str, dict[str, int]]:
        """Value counters of the loaded rows: the generated columns, corrected for the edited
        cells (their generated values out, the written values in), plus the orphan rows."""
        out: dict[str, dict[str, int]] = {}
        for col in self.spec.columns:
            c = column_counters(col, self.cols[col.name])
            ed = self.edits.get(col.name)
            if ed:
                rows = sorted(ed)
                old = column_counters(col, self.cols[col.name].take(pa.array(rows, pa.int64())))
                new = column_counters(col, pa.array([ed[i] for i in rows], pa.string()))
                c = {k: c[k] - old[k] + new[k] for k in c}
            if orphans is not None:
                o = column_counters(col, orphans[col.name])
                c = {k: c[k] + o[k] for k in c}
            c = {k: v for k, v in c.items() if v}
            if c:
                out[col.name] = c
        return out

    # -- orphans ---------------------------------------------------------------------------
    def orphan_rows(self, k: int, cols: dict[str, pa.Array]) -> dict[str, pa.Array] | None:
        if not k:
            return None
        idx = self._candidates(k)
        self.used[idx] = True
        out = {c: a.take(pa.array(idx)) for c, a in cols.items()}
        m = len(idx)
        for c in self.spec.columns:
            name = c.name
            if name == self.pk:
                out[name] = pa.array([self.keys.pk() for _ in range(m)], pa.int64())
            elif name.lower() == "idncase":
                out[name] = pa.array([self.keys.case(self.rng) for _ in range(m)], pa.int64())
            elif name.lower() == "idnproceeding":
                out[name] = pa.array([self.keys.proc() for _ in range(m)], pa.int64())
        self.acct.orphans += m
        self.acct.quirks["orphan"] += m
        return out

    # -- structural quirks on lines ----------------------------------------------------------
    def apply_rows(self, quota: dict[str, int]) -> None:
        free = [j for j, c in enumerate(self.spec.columns) if c.name in self.spec.free_text]
        for cls in ROW_CLASSES:
            want = quota.get(cls, 0)
            done = 0
            for i in self._candidates(max(200, want * 50)):
                if done >= want:
                    break
                line = self._row_quirk(cls, int(i), free)
                if line is not None:
                    self.python_rows[int(i)] = line
                    self.used[i] = True
                    done += 1
            quota[cls] = want - done
            self.acct.quirks[cls] += done
            self.acct.repaired[REPAIR[cls]] += done

    def _split_free(self, f: list[str], free: list[int]) -> int | None:
        opts = [j for j in free if " " in f[j].strip()]
        return opts[self.rng.integers(len(opts))] if opts else None

    def _row_quirk(self, cls: str, i: int, free: list[int]) -> str | None:
        f = self.fields(i)
        r = self.rng
        if cls == "nul_byte":
            j = int(r.integers(len(f)))
            pos = int(r.integers(len(f[j]) + 1))
            f[j] = f[j][:pos] + "\x00" + f[j][pos:]
            return "\t".join(f)
        if cls == "control_char":
            opts = [j for j, c in enumerate(self.spec.columns) if c.type == "VARCHAR" and len(f[j]) >= 2]
            if not opts:
                return None
            j = opts[r.integers(len(opts))]
            pos = int(r.integers(1, len(f[j])))
            f[j] = f[j][:pos] + "\x1a" + f[j][pos:]
            return "\t".join(f)
        if cls == "short_row":
            k = 0
            while k < len(f) - 1 and f[len(f) - 1 - k] == "":
                k += 1
            if not k:
                return None
            return "\t".join(f[: len(f) - int(r.integers(1, k + 1))])
        j = self._split_free(f, free)
        if j is None:
            return None
        parts = f[j].split(" ", 1)
        g = f[:j] + [parts[0], parts[1]] + f[j + 1 :]
        if cls == "hidden_shift":
            if f[-1] != "":
                return None
            g = g[:-1]
            if not type_violations(g, self.spec):
                return None
        fixed, _ = best_repair(g, self.spec)
        return "\t".join(g) if fixed == f else None

    # -- extra (quarantined) lines -----------------------------------------------------------
    def apply_extras(self, quota: dict[str, int]) -> None:
        for cls in EXTRA_CLASSES:
            want = quota.get(cls, 0)
            done = 0
            for i in self._candidates(max(200, want * 50)):
                if done >= want:
                    break
                line = self._extra(cls, int(i))
                if line is not None:
                    self.extra_lines.append(line)
                    self.used[i] = True
                    done += 1
            quota[cls] = want - done
            self.acct.quirks[cls] += done
            self.acct.quarantined[QUARANTINE[cls]] += done

    def _extra(self, cls: str, i: int) -> str | None:
        f = self.fields(i)
        pki = [c.name for c in self.spec.columns].index(self.pk)
        if cls == "duplicate_row":
            return "\t".join(f)
        if cls == "empty_pk":
            f[pki] = ""
            return "\t".join(f)
        if cls == "duplicate_key":
            for j, c in enumerate(self.spec.columns):
                if c.type == "TIMESTAMP" and c.name not in self.keycols and f[j]:
                    f[j] = _next_day(f[j])
                    return "\t".join(f)
            j = max(j for j, c in enumerate(self.spec.columns) if c.type == "VARCHAR")
            f[j] = "O" if f[j] == "S" else "S"
            return "\t".join(f)
        if cls == "continuation_line":
            free = [j for j, c in enumerate(self.spec.columns) if c.name in self.spec.free_text and f[j]]
            if not free:
                return None
            return "\t".join(["APT " + str(int(self.rng.integers(1, 99)))] + f[free[0] : free[0] + 3])
        if cls == "unrepairable":
            free = [j for j, c in enumerate(self.spec.columns) if c.name in self.spec.free_text]
            ints_ = [j for j, c in enumerate(self.spec.columns) if c.type == "BIGINT" and c.name not in self.keycols]
            j = self._split_free(f, free)
            if j is None or not ints_:
                return None
            f[pki] = str(self.keys.pk())
            f[ints_[-1]] = "9O1"
            parts = f[j].split(" ", 1)
            g = f[:j] + [parts[0], parts[1]] + f[j + 1 :]
            _, ok = best_repair(g, self.spec)
            return None if ok else "\t".join(g)
        return None


def _next_day(v: str) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(v[:10]) + dt.timedelta(days=1)
    return d.isoformat() + v[10:]
