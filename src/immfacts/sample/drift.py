"""The sample generator's drift option: the *next* release of a sample, with known changes.

``write_drift_release(OLD.zip, OUT.zip)`` (CLI: ``immfacts sample OUT.zip --drift-from
OLD.zip``) copies a sample release line by line into a release dated ``months`` later and
changes it the way EOIR's monthly releases change:

* **vanished cases** — whole cases disappear with every row that names them (proceedings,
  applications, hearings, charges …);
* **vanished applications** — applications disappear while their case stays (the pattern TRAC
  documented in 2019);
* **changed outcomes** — pending removal cases get their decision (``DEC_CODE X``, removal,
  dated in the new month) and their pending asylum applications are denied (``APPL_DEC D``);
* **added cases** — new cases received in the new month, each with one open proceeding (and an
  asylum application when its template had one);
* **schema drift** — ``A_TblCase``'s ``GENDER`` column is renamed ``Sex`` (as in newer real
  releases), ``tblLookupCourtDecision`` gains a decision code nobody uses yet, and a nationality
  is redescribed in ``tblLookupAlienNat`` (``TURKEY`` → ``TURKIYE``).

Only *clean* lines are removed or edited (:mod:`immfacts.lifecycle.rawrelease`), so every
quirk of the old release and every ingest counter survives unchanged. ``OUT.drift.json``
records the exact changes — what ``immfacts diff OLD NEW`` must report — and, when
``OLD.truth.json`` exists, ``OUT.truth.json`` is the old truth with row counts and metrics
updated (metrics are sums over cases, so the changed cases' contributions are swapped; fiscal
years are those of the old truth).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from immfacts.errors import InputError
from immfacts.lifecycle.rawrelease import (
    LineChecker,
    LookupCodes,
    layout,
    open_zip,
    parse_day,
    split,
)
from immfacts.schema import main_tables

DEFAULT_RATES: dict[str, Any] = {
    "cases_vanished": 0.002,  # share of cases; above diff's 0.1 % alert threshold
    "applications_vanished": 0.006,  # share of applications, removed alone (their case stays)
    "outcomes_changed": 0.005,  # share of cases: pending → removal order
    "cases_added": 0.003,  # share of cases: new receipts in the new month
    "months": 1,
    "rename": True,
    "lookup_code_added": True,
    "lookup_code_redefined": True,
}
CASES, PROCS, APPS = "A_TblCase", "B_TblProceeding", "tbl_Court_Appln"
CORE = {CASES: "IDNCASE", PROCS: "IDNPROCEEDING", APPS: "IDNPROCEEDINGAPPLN"}
PROC_FIELDS = ("IDNPROCEEDING", "IDNCASE", "INPUT_DATE", "OSC_DATE", "BASE_CITY_CODE", "NAT", "DEC_CODE",
               "OTHER_COMP", "COMP_DATE", "CASE_TYPE", "ABSENTIA")
APP_FIELDS = ("IDNPROCEEDINGAPPLN", "IDNPROCEEDING", "IDNCASE", "APPL_CODE", "APPL_RECD_DATE", "APPL_DEC")
# Proceeding columns cleared on an added (just received) proceeding.
CLEARED = ("TRANS_IN_DATE", "PREV_HEARING_LOC", "PREV_HEARING_BASE", "PREV_IJ_CODE", "TRANS_NBR", "HEARING_DATE",
           "HEARING_TIME", "DEC_TYPE", "DEC_CODE", "DEPORTED_1", "DEPORTED_2", "OTHER_COMP", "APPEAL_RSVD",
           "APPEAL_NOT_FILED", "COMP_DATE", "ABSENTIA", "VENUE_CHG_GRANTED", "TRANSFER_TO",
           "DATE_APPEAL_DUE_STATUS", "TRANSFER_STATUS", "DATE_DETAINED", "DATE_RELEASED")
NEW_DECISION = "REMANDED TO DHS FOR FURTHER PROCESSING"
REDEFINE = ("TU", "TURKIYE")  # Türkiye's 2022 name change


def _check(rates: dict[str, Any]) -> dict[str, Any]:
    out = dict(DEFAULT_RATES)
    for k, v in rates.items():
        if k not in out:
            raise InputError(f"unknown drift option {k!r}", "drift options: " + ", ".join(sorted(out)))
        out[k] = v
    for k in ("cases_vanished", "applications_vanished", "outcomes_changed", "cases_added"):
        if not 0 <= float(out[k]) <= 0.2:
            raise InputError(f"drift rate {k}={out[k]} is outside 0..0.2", "rates are shares of the release's records")
        out[k] = float(out[k])
    if int(out["months"]) < 1:
        raise InputError(f"months={out['months']} must be at least 1", "the next release is 1 month later by default")
    out["months"] = int(out["months"])
    return out


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months (the day clipped to the month's length)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def folder_date(folder: str) -> dt.date:
    """The data date of a ``MMDDYY-FOIA-TRAC-FILES`` folder."""
    try:
        return dt.datetime.strptime(folder.rsplit("/", 1)[-1][:6], "%m%d%y").date()
    except ValueError:
        raise InputError(
            f"the release folder {folder!r} is not named MMDDYY-FOIA-TRAC-FILES",
            "give a release zip written by `immfacts sample` (or EOIR)",
        ) from None


def _stamp(d: dt.date) -> str:
    return d.isoformat() + " 00:00:00.000"


# --- pass 1: scan ----------------------------------------------------------------------------
@dataclass
class Scan:
    """What pass 1 learned about the old release."""

    headers: dict[str, list[str]] = field(default_factory=dict)
    checkers: dict[str, LineChecker] = field(default_factory=dict)
    case_col: dict[str, int] = field(default_factory=dict)  # table -> index of its IDNCASE column
    dirty: set[int] = field(default_factory=set)
    cases: dict[int, dict[str, str]] = field(default_factory=dict)
    procs: dict[int, dict[str, Any]] = field(default_factory=dict)
    apps: dict[int, dict[str, Any]] = field(default_factory=dict)
    case_procs: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    case_apps: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    max_id: Counter = field(default_factory=Counter)  # key kind -> largest id seen anywhere
    decision_values: set[str] = field(default_factory=set)
    lines: Counter = field(default_factory=Counter)  # data lines per table


def _int(v: str) -> int | None:
    v = v.strip()
    return int(v) if v.lstrip("-").isdigit() else None


def _scan(z, lay, codes: LookupCodes) -> Scan:
    s = Scan()
    owner: dict[int, int] = {}  # proceeding -> its case, from B_TblProceeding (scanned first)
    order = sorted(lay.tables, key=lambda t: (t != PROCS, t != CASES))
    for table in order:
        member = lay.tables[table]
        spec = main_tables()[table]
        lines = _lines(z, member)
        header = [h.strip() for h in split(next(lines))]
        chk = LineChecker(spec, header, codes)
        s.headers[table], s.checkers[table] = header, chk
        ci = chk.index("IDNCASE")
        if ci is not None:
            s.case_col[table] = ci
        id_cols = {k: chk.index(k) for k in ("IDNCASE", "IDNPROCEEDING", "IDNPROCEEDINGAPPLN")}
        pk = chk.index(spec.primary_key) if spec.primary_key else None
        dec_cols = [i for i in (chk.index("DEC_CODE"), chk.index("OTHER_COMP")) if i is not None]
        # Ingest loads the first of several lines with one key and quarantines the others, so
        # removing the first would promote another: every case sharing a key (on any line,
        # clean or not) is off limits, as are cases with a line ingest would not load.
        seen_pk: Counter = Counter()
        seen_line: Counter = Counter()
        pk_cases: dict[int, set[int]] = defaultdict(set)
        line_case: dict[bytes, int] = {}
        for raw in lines:
            s.lines[table] += 1
            line = raw.rstrip(b"\r\n")
            f = split(line)
            for kind, i in id_cols.items():
                if i is not None and i < len(f) and (v := _int(f[i])) is not None:
                    s.max_id[kind] = max(s.max_id[kind], v)
            for i in dec_cols:
                if i < len(f) and f[i].strip():
                    s.decision_values.add(f[i].strip().upper())
            case = _int(f[ci]) if ci is not None and ci < len(f) else None
            key = _int(f[pk]) if pk is not None and pk < len(f) else None
            if key is not None:
                seen_pk[key] += 1
                if case is not None:
                    pk_cases[key].add(case)
            if case is None:
                continue
            proc_i = id_cols["IDNPROCEEDING"]
            proc = _int(f[proc_i]) if proc_i is not None and proc_i < len(f) else None
            if table == PROCS and proc is not None:
                owner.setdefault(proc, case)
            elif proc is not None and owner.get(proc, case) != case:
                # a row of another case points at this proceeding: both cases stay untouched
                s.dirty.update((case, owner[proc]))
            if not chk.clean(f) or (pk is not None and key is None):
                s.dirty.add(case)
                continue
            seen_line[line] += 1
            line_case[line] = case
            if table == CASES:
                s.cases[case] = {c: f[chk.index(c)].upper() if chk.index(c) is not None else "" for c in ("CASE_TYPE", "NAT")}
                s.cases[case]["_fields"] = f
            elif table == PROCS and key is not None:
                s.procs[key] = _record(chk, f, PROC_FIELDS)
                s.case_procs[case].append(key)
            elif table == APPS and key is not None:
                s.apps[key] = _record(chk, f, APP_FIELDS)
                s.case_apps[case].append(key)
        for k, n in seen_pk.items():
            if n > 1:
                s.dirty.update(pk_cases[k])
        s.dirty.update(line_case[ln] for ln, n in seen_line.items() if n > 1)
    return s


def _record(chk: LineChecker, f: list[str], names: tuple[str, ...]) -> dict[str, Any]:
    rec: dict[str, Any] = {"_fields": f}
    for n in names:
        i = chk.index(n)
        v = f[i] if i is not None else ""
        col = chk.columns[i] if i is not None else None
        if col is not None and col.type == "TIMESTAMP":
            rec[n] = parse_day(v) if v else None
        elif col is not None and col.type == "BIGINT":
            rec[n] = _int(v) if v else None
        else:
            rec[n] = (v.upper() if col is not None and (col.lookup or col.pattern) else v) or None
    return rec


def _lines(z, member: str):
    """Raw lines of a member, terminators kept (so untouched lines are copied byte for byte)."""
    import io

    with z.open(member) as fh:
        yield from io.BufferedReader(fh, buffer_size=1 << 20)


def _eligible(s: Scan) -> list[int]:
    """Cases whose every line, in every table, is clean and self-consistent."""
    out = []
    for case, c in s.cases.items():
        if case in s.dirty or not s.case_procs.get(case):
            continue
        procs = [s.procs[p] for p in s.case_procs[case]]
        if any(p["CASE_TYPE"] != c["CASE_TYPE"] or p["IDNCASE"] != case for p in procs):
            continue
        pids = set(s.case_procs[case])
        if any(s.apps[a]["IDNPROCEEDING"] not in pids for a in s.case_apps.get(case, [])):
            continue
        out.append(case)
    return sorted(out)


# --- plan --------------------------------------------------------------------------------------
@dataclass
class Plan:
    vanish: list[int] = field(default_factory=list)
    lone_apps: list[int] = field(default_factory=list)
    changed: dict[int, dt.date] = field(default_factory=dict)  # proceeding -> completion date
    denied: list[int] = field(default_factory=list)  # applications set to D
    added: list[dict[str, Any]] = field(default_factory=list)  # {case, proc, app, template, date, …}


def _count(rate: float, n: int) -> int:
    return max(1, round(rate * n)) if rate > 0 and n else 0


def _plan(s: Scan, rng: random.Random, rates: dict[str, Any], old: dt.date, new: dt.date, n_cases: int, n_apps: int) -> Plan:
    plan = Plan()
    pool = _eligible(s)
    span = (new - old).days
    k = min(_count(rates["cases_vanished"], n_cases), len(pool))
    plan.vanish = sorted(rng.sample(pool, k))
    rest = [c for c in pool if c not in set(plan.vanish)]

    def pending_removal(case: int) -> bool:
        procs = [s.procs[p] for p in s.case_procs[case]]
        open_ = [p for p in procs if p["COMP_DATE"] is None and not p["DEC_CODE"] and not p["OTHER_COMP"]]
        return s.cases[case]["CASE_TYPE"] == "RMV" and len(open_) == 1 and all(
            p["COMP_DATE"] is None or p["COMP_DATE"] <= old for p in procs
        )

    cands = [c for c in rest if pending_removal(c)]
    k = min(_count(rates["outcomes_changed"], n_cases), len(cands))
    for case in sorted(rng.sample(cands, k)):
        p = next(s.procs[p] for p in s.case_procs[case] if s.procs[p]["COMP_DATE"] is None)
        plan.changed[p["IDNPROCEEDING"]] = old + dt.timedelta(days=rng.randint(1, span))
        plan.denied += [a for a in s.case_apps.get(case, [])
                        if s.apps[a]["IDNPROCEEDING"] == p["IDNPROCEEDING"] and s.apps[a]["APPL_CODE"] == "ASYL"
                        and not s.apps[a]["APPL_DEC"]]
    changed_cases = {s.procs[p]["IDNCASE"] for p in plan.changed}
    apps = sorted(a for c in rest if c not in changed_cases for a in s.case_apps.get(c, []))
    k = min(_count(rates["applications_vanished"], n_apps), len(apps))
    plan.lone_apps = sorted(rng.sample(apps, k))

    templates = [c for c in pool if s.cases[c]["CASE_TYPE"] == "RMV"] or pool
    k = _count(rates["cases_added"], n_cases) if templates else 0
    ids = {kind: s.max_id[kind] + 1000 for kind in ("IDNCASE", "IDNPROCEEDING", "IDNPROCEEDINGAPPLN")}
    for i in range(k):
        t = rng.choice(templates)
        t_proc = s.procs[min(s.case_procs[t])]
        t_app = next((s.apps[a] for a in sorted(s.case_apps.get(t, [])) if s.apps[a]["APPL_CODE"] == "ASYL"), None)
        received = old + dt.timedelta(days=rng.randint(1, span))
        plan.added.append({
            "case": ids["IDNCASE"] + i, "proc": ids["IDNPROCEEDING"] + i,
            "app": ids["IDNPROCEEDINGAPPLN"] + i if t_app else None,
            "template": t, "t_proc": t_proc, "t_app": t_app, "received": received,
            "osc": received - dt.timedelta(days=rng.randint(0, 30)),
            "app_received": received + dt.timedelta(days=rng.randint(0, (new - received).days)),
        })
    return plan


# --- pass 2: write -----------------------------------------------------------------------------
def _set(chk: LineChecker, f: list[str], **values: str | int | None) -> list[str]:
    f = list(f)
    for name, v in values.items():
        i = chk.index(name)
        if i is not None:
            f[i] = "" if v is None else str(v)
    return f


def _added_lines(s: Scan, plan: Plan, table: str) -> list[list[str]]:
    chk = s.checkers[table]
    out = []
    for a in plan.added:
        if table == CASES:
            out.append(_set(chk, s.cases[a["template"]]["_fields"], IDNCASE=a["case"]))
        elif table == PROCS:
            cleared = {c: None for c in CLEARED}
            out.append(_set(chk, a["t_proc"]["_fields"], **cleared, IDNPROCEEDING=a["proc"], IDNCASE=a["case"],
                            INPUT_DATE=_stamp(a["received"]), OSC_DATE=_stamp(a["osc"])))
        elif table == APPS and a["app"] is not None:
            out.append(_set(chk, a["t_app"]["_fields"], IDNPROCEEDINGAPPLN=a["app"], IDNPROCEEDING=a["proc"],
                            IDNCASE=a["case"], APPL_RECD_DATE=_stamp(a["app_received"]), APPL_DEC=None))
    return out


def _write_table(z, member: str, table: str, s: Scan, plan: Plan, rename: bool, write) -> tuple[int, int, list]:
    """Copy one table with the plan applied; returns (rows removed, rows added, renames)."""
    chk = s.checkers[table]
    ci = s.case_col.get(table)
    pk = chk.index(main_tables()[table].primary_key or "")
    vanish, lone, denied = set(plan.vanish), set(plan.lone_apps), set(plan.denied)
    removed, renames = 0, []
    lines = _lines(z, member)
    head = next(lines)
    eol = head[len(head.rstrip(b"\r\n")):] or b"\r\n"
    header = split(head.rstrip(b"\r\n"))
    if rename and table == CASES:
        i = chk.index("GENDER")
        if i is not None and header[i].strip() == "GENDER":
            header[i] = "Sex"
            renames.append({"from": "GENDER", "to": "Sex"})
    write("\t".join(header).encode("latin-1") + eol)
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        f = split(line)
        case = _int(f[ci]) if ci is not None and ci < len(f) else None
        if case is not None and case in vanish:
            removed += 1
            continue
        key = _int(f[pk]) if pk is not None and pk < len(f) else None
        if table == APPS and key in lone:
            removed += 1
            continue
        if table == PROCS and key in plan.changed:
            f = _set(chk, f, DEC_CODE="X", COMP_DATE=_stamp(plan.changed[key]))
            raw = "\t".join(f).encode("latin-1") + raw[len(line):]
        elif table == APPS and key in denied:
            f = _set(chk, f, APPL_DEC="D")
            raw = "\t".join(f).encode("latin-1") + raw[len(line):]
        write(raw)
    added = _added_lines(s, plan, table)
    for f in added:
        write("\t".join(f).encode("latin-1") + eol)
    return removed, len(added), renames


def _lookup_edit(raw: bytes, name: str, s: Scan, rng: random.Random, rates: dict[str, Any]) -> tuple[bytes, dict[str, Any] | None]:
    """Add an unused decision code (tblLookupCourtDecision) or redescribe a nationality."""
    text = raw.decode("latin-1")
    eol = "\r\n" if "\r\n" in text else "\n"
    rows = [r.split("\t") for r in text.split(eol) if r != ""]
    header = [h.strip() for h in rows[0]]
    col = {h.lower(): i for i, h in enumerate(header)}
    if name.lower() == "tbllookupcourtdecision" and rates["lookup_code_added"]:
        ct, code, kind = col.get("strcasetype"), col.get("strdeccode"), col.get("strdectype")
        if None in (ct, code, kind):
            return raw, None
        used = {r[code].strip().upper() for r in rows[1:] if len(r) > code} | s.decision_values
        free = [ch for ch in "QNZYWSKGBLEHPI" if ch not in used]
        template = next((r for r in rows[1:] if len(r) == len(header) and r[ct].strip() == "RMV" and r[kind].strip() == "C"), None)
        if not free or template is None:
            return raw, None
        new = list(template)
        new[code] = free[0]
        if "strdecdescription" in col:
            new[col["strdecdescription"]] = NEW_DECISION
        idn = col.get("idncourtdecision", 0)
        ids = [int(r[idn]) for r in rows[1:] if len(r) > idn and r[idn].strip().isdigit()]
        new[idn] = str(max(ids, default=0) + 1)
        added = {header[ct]: "RMV", header[code]: free[0], header[kind]: "C"}
        return (eol.join("\t".join(r) for r in rows + [new]) + eol).encode("latin-1"), {"added": [added]}
    if name.lower() == "tbllookupaliennat" and rates["lookup_code_redefined"]:
        code, desc = col.get("strcode"), col.get("strdescription")
        if code is None or desc is None:
            return raw, None
        target = next((r for r in rows[1:] if len(r) > desc and r[code].strip() == REDEFINE[0]), None)
        if target is None:
            target = next((r for r in rows[1:] if len(r) > desc and r[desc].strip()), None)
            if target is None:
                return raw, None
            target[desc] = target[desc].strip() + " (REDEFINED)"
        else:
            target[desc] = REDEFINE[1]
        return (eol.join("\t".join(r) for r in rows) + eol).encode("latin-1"), {"redefined": [{header[code]: target[code].strip()}]}
    return raw, None


def write_drift_release(old_zip: str | os.PathLike[str], out_zip: str | os.PathLike[str], *, seed: int = 0, **rates: Any) -> dict[str, Any]:
    """Write the release after ``old_zip`` to ``out_zip``; return (and write) the drift truth.

    Options (``rates``): ``cases_vanished``, ``applications_vanished``, ``outcomes_changed``,
    ``cases_added`` (shares of the release's cases / applications, see :data:`DEFAULT_RATES`),
    ``months`` (how much later the new release is), ``rename``, ``lookup_code_added``,
    ``lookup_code_redefined`` (booleans). Writes ``OUT.drift.json`` and, when the old release
    has its ``.truth.json``, an updated ``OUT.truth.json``.
    """
    from immfacts.sample.writer import ReleaseZip, folder_name

    opts = _check(rates)
    old_zip, out = Path(old_zip), Path(out_zip)
    if not old_zip.is_file():
        raise InputError(f"{old_zip}: no such release zip", "write one first with `immfacts sample OLD.zip`")
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist", "create it first or write the release elsewhere")
    rng = random.Random(seed)
    old_truth_path = old_zip.with_suffix(".truth.json")
    old_truth = json.loads(old_truth_path.read_text()) if old_truth_path.is_file() else None
    with open_zip(old_zip) as z:
        lay = layout(z)
        for need in (CASES, PROCS):
            if need not in lay.tables:
                raise InputError(f"{old_zip.name} has no {need} table", "give a release zip written by `immfacts sample`")
        old_date = folder_date(lay.folder)
        new_date = add_months(old_date, opts["months"])
        scan = _scan(z, lay, LookupCodes(z, lay))
        loaded = (old_truth or {}).get("tables", {})
        n_cases = loaded.get(CASES, {}).get("rows_loaded") or len(scan.cases)
        n_apps = loaded.get(APPS, {}).get("rows_loaded") or len(scan.apps)
        plan = _plan(scan, rng, opts, old_date, new_date, n_cases, n_apps)
        new_folder = folder_name(new_date)
        compression = "deflate64" if lay.compress_type == 9 else "deflate"
        zout = ReleaseZip(out, new_folder, new_date, compression)
        deltas: dict[str, tuple[int, int]] = {}
        pending_count: tuple[str, bytes] | None = None
        renames: dict[str, list] = {}
        lookups: dict[str, dict[str, Any]] = {}
        try:
            for info in z.infolist():
                if info.is_dir():
                    continue
                rel = info.filename[len(lay.folder) + 1 :] if lay.folder and info.filename.startswith(lay.folder + "/") else info.filename
                table = next((t for t, m in lay.tables.items() if m == info.filename), None)
                if info.filename == lay.count_txt:
                    pending_count = (rel, z.read(info.filename))
                    continue
                with zout.open(rel) as fh:
                    if table is not None:
                        removed, added, ren = _write_table(z, info.filename, table, scan, plan, opts["rename"], fh.write)
                        deltas[table] = (removed, added)
                        if ren:
                            renames[table] = ren
                    elif info.filename in lay.lookups.values():
                        stem = info.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                        data, change = _lookup_edit(z.read(info.filename), stem, scan, rng, opts)
                        if change:
                            lookups[stem] = {"added": [], "removed": [], "redefined": [], **change}
                        fh.write(data)
                    elif info.filename.rsplit("/", 1)[-1].upper() == "README-SYNTHETIC.TXT":
                        note = f"\r\nDrifted from {lay.folder} by `immfacts sample --drift-from` (seed={seed}); see the .drift.json sidecar.\r\n"
                        fh.write(z.read(info.filename) + note.encode("latin-1"))
                    else:
                        fh.write(z.read(info.filename))
            if pending_count is not None:  # written once every table's change is known
                with zout.open(pending_count[0]) as fh:
                    fh.write(_count_txt(pending_count[1], deltas))
            zout.close()
        except BaseException:
            if out.exists():
                out.unlink()
            raise
    from immfacts.lifecycle.drift_truth import drift_truth, updated_truth

    drift = drift_truth(scan, plan, opts, seed, (old_zip, lay.folder, old_date), (out, new_folder, new_date), deltas, renames, lookups, old_truth)
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    (out.with_name(stem + ".drift.json")).write_text(json.dumps(drift, indent=1, default=str) + "\n")
    if old_truth is not None:
        new_truth = updated_truth(old_truth, scan, plan, deltas, new_folder, new_date, old_zip, seed, opts)
        (out.with_name(stem + ".truth.json")).write_text(json.dumps(new_truth, indent=1) + "\n")
    return drift


def _count_txt(raw: bytes, deltas: dict[str, tuple[int, int]]) -> bytes:
    """Count.txt with each table's count moved by its rows removed / added."""
    from immfacts.schema import find_table

    out = []
    for line in raw.decode("latin-1").splitlines(keepends=True):
        body = line.rstrip("\r\n")
        parts = body.split("\t")
        spec = find_table(parts[0].strip()) if parts else None
        if spec is not None and len(parts) == 2 and parts[1].strip().isdigit():
            removed, added = deltas.get(spec.name, (0, 0))
            parts[1] = str(int(parts[1]) - removed + added)
            line = "\t".join(parts) + line[len(body):]
        out.append(line)
    return "".join(out).encode("latin-1")
