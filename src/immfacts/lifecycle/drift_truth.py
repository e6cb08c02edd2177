"""The known answers of a drifted sample release (``OUT.drift.json``, updated ``OUT.truth.json``).

:func:`immfacts.sample.drift.write_drift_release` plans its changes on the old release's clean
lines; this module turns the plan into

* the **drift truth** — exactly what ``immfacts diff OLD NEW`` must report: the records that
  vanish / appear (all ids) with their breakdowns by fiscal year, court and nationality
  computed with the diff's rules (:mod:`immfacts.lifecycle.differ`), the outcomes that change,
  the renamed column and the lookup codes added or redefined;
* the **updated sample truth** — row counts moved by the rows removed and added, and every
  metric recomputed: each metric is a sum over cases, so the new value is the old one minus
  the affected cases' old contribution plus their new one (and the added cases'), both
  computed by the generator's own truth (:func:`immfacts.sample.truth.compute_truth`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from typing import Any

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def _fy(day: dt.date | None) -> str:
    return "unknown" if day is None else f"FY{day.year + (1 if day.month >= 10 else 0)}"


def _final(procs: list[dict[str, Any]]) -> dict[str, Any]:
    return max(procs, key=lambda p: (p["COMP_DATE"] is None, p["COMP_DATE"] or dt.date.min, p["IDNPROCEEDING"]))


def _by(rows: list[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    out = {}
    for i, dim in enumerate(("fiscal_year", "court", "nationality")):
        c = Counter(r[i] or "unknown" for r in rows)
        out[dim] = dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def _records(scan: Any, plan: Any) -> dict[str, Any]:
    s = scan
    gone_cases = list(plan.vanish)
    gone_procs = sorted(p for c in gone_cases for p in s.case_procs[c])
    with_case_apps = sorted(a for c in gone_cases for a in s.case_apps.get(c, []))
    gone_apps = sorted(set(with_case_apps) | set(plan.lone_apps))

    def case_row(c: int) -> tuple[str, str, str]:
        procs = [s.procs[p] for p in s.case_procs[c]]
        dates = [p["INPUT_DATE"] for p in procs if p["INPUT_DATE"] is not None]
        return _fy(min(dates) if dates else None), _final(procs)["BASE_CITY_CODE"] or "", s.cases[c]["NAT"]

    def proc_row(p: dict[str, Any]) -> tuple[str, str, str]:
        return _fy(p["INPUT_DATE"]), p["BASE_CITY_CODE"] or "", p["NAT"] or ""

    def app_row(a: dict[str, Any], proc: dict[str, Any]) -> tuple[str, str, str]:
        return _fy(a["APPL_RECD_DATE"]), proc["BASE_CITY_CODE"] or "", proc["NAT"] or ""

    added = plan.added
    new_apps = [a for a in added if a["app"] is not None]
    return {
        "cases": {
            "vanished": gone_cases,
            "vanished_by": _by([case_row(c) for c in gone_cases]),
            "appeared": [a["case"] for a in added],
            "appeared_by": _by([(_fy(a["received"]), a["t_proc"]["BASE_CITY_CODE"] or "", s.cases[a["template"]]["NAT"]) for a in added]),
        },
        "proceedings": {
            "vanished": gone_procs,
            "vanished_by": _by([proc_row(s.procs[p]) for p in gone_procs]),
            "vanished_with_their_case": len(gone_procs),
            "appeared": [a["proc"] for a in added],
            "appeared_by": _by([(_fy(a["received"]), a["t_proc"]["BASE_CITY_CODE"] or "", a["t_proc"]["NAT"] or "") for a in added]),
            "appeared_with_their_case": len(added),
        },
        "applications": {
            "vanished": gone_apps,
            "vanished_by": _by([app_row(s.apps[a], s.procs[s.apps[a]["IDNPROCEEDING"]]) for a in gone_apps]),
            "vanished_with_their_case": len(with_case_apps),
            "appeared": [a["app"] for a in new_apps],
            "appeared_by": _by([app_row({"APPL_RECD_DATE": a["app_received"]}, a["t_proc"]) for a in new_apps]),
            "appeared_with_their_case": len(new_apps),
        },
    }


def drift_truth(scan: Any, plan: Any, opts: dict[str, Any], seed: int, old: tuple, new: tuple,
                deltas: dict[str, tuple[int, int]], renames: dict[str, list], lookups: dict[str, Any],
                old_truth: dict[str, Any] | None) -> dict[str, Any]:
    """The ``OUT.drift.json`` document (see the module docstring)."""
    (old_zip, old_folder, old_date), (new_zip, new_folder, new_date) = old, new
    n = len(plan.changed)
    changed_cases = sorted({scan.procs[p]["IDNCASE"] for p in plan.changed})
    loaded = (old_truth or {}).get("tables", {})
    tables = {}
    for t, (removed, added) in deltas.items():
        tables[t] = {"removed": removed, "added": added}
        if loaded.get(t, {}).get("rows_loaded") is not None:
            tables[t]["old"] = loaded[t]["rows_loaded"]
            tables[t]["new"] = loaded[t]["rows_loaded"] - removed + added
    return {
        "synthetic": True,
        "seed": seed,
        "options": opts,
        "old": {"zip": old_zip.name, "folder": old_folder, "data_date": old_date.isoformat()},
        "new": {"zip": new_zip.name, "folder": new_folder, "data_date": new_date.isoformat()},
        "tables": tables,
        "records": _records(scan, plan),
        "outcomes": {
            "proceedings": {
                "changed": sorted(plan.changed),
                "by_field": {"DEC_CODE": n, "OTHER_COMP": 0, "COMP_DATE": n},
                "transitions": [{"from": "none", "to": "DEC_CODE X", "n": n}] if n else [],
            },
            "applications": {
                "changed": sorted(plan.denied),
                "by_application_type": {"ASYL": len(plan.denied)} if plan.denied else {},
                "transitions": [{"from": "none", "to": "D", "n": len(plan.denied)}] if plan.denied else [],
            },
            "cases": {
                "changed": changed_cases,
                "transitions": [{"from": "pending", "to": "removal", "n": len(changed_cases)}] if changed_cases else [],
                "raw_transitions": [{"from": "none", "to": "DEC_CODE X", "n": len(changed_cases)}] if changed_cases else [],
            },
        },
        "schema": {
            "columns": {t: {"added": [], "removed": [], "renamed": r} for t, r in renames.items()},
            "lookups": lookups,
        },
    }


# --- the sample truth, updated -----------------------------------------------------------------
def _days(d: dt.date | None) -> int:
    return -1 if d is None else (d - EPOCH).days


def _arrays(cases: list[tuple[int, str]], procs: list[dict[str, Any]], apps: list[dict[str, Any]]) -> tuple[dict, dict, dict]:
    def col(rows, name, kind):
        vals = [r[name] for r in rows]
        if kind == "int":
            return np.asarray([-1 if v is None else v for v in vals], dtype=np.int64)
        if kind == "day":
            return np.asarray([_days(v) for v in vals], dtype=np.int64)
        return np.asarray([v or "" for v in vals], dtype=str)

    c = {"IDNCASE": np.asarray([x[0] for x in cases], dtype=np.int64), "CASE_TYPE": np.asarray([x[1] for x in cases], dtype=str)}
    p = {n: col(procs, n, k) for n, k in (("IDNPROCEEDING", "int"), ("IDNCASE", "int"), ("INPUT_DATE", "day"),
                                          ("COMP_DATE", "day"), ("DEC_CODE", "s"), ("OTHER_COMP", "s"),
                                          ("CASE_TYPE", "s"), ("ABSENTIA", "s"))}
    a = {n: col(apps, n, k) for n, k in (("IDNPROCEEDINGAPPLN", "int"), ("IDNPROCEEDING", "int"), ("IDNCASE", "int"),
                                         ("APPL_CODE", "s"), ("APPL_RECD_DATE", "day"), ("APPL_DEC", "s"))}
    return c, p, a


def _subsets(scan: Any, plan: Any) -> tuple[tuple, tuple]:
    s = scan
    affected = set(plan.vanish) | {s.procs[p]["IDNCASE"] for p in plan.changed} | {s.apps[a]["IDNCASE"] for a in plan.lone_apps}
    old_cases = [(c, s.cases[c]["CASE_TYPE"]) for c in sorted(affected)]
    old_procs = [s.procs[p] for c in sorted(affected) for p in s.case_procs[c]]
    old_apps = [s.apps[a] for c in sorted(affected) for a in s.case_apps.get(c, [])]
    keep = sorted(affected - set(plan.vanish))
    new_cases = [(c, s.cases[c]["CASE_TYPE"]) for c in keep]
    new_procs = []
    for c in keep:
        for pid in s.case_procs[c]:
            p = dict(s.procs[pid])
            if pid in plan.changed:
                p.update(DEC_CODE="X", COMP_DATE=plan.changed[pid])
            new_procs.append(p)
    lone, denied = set(plan.lone_apps), set(plan.denied)
    new_apps = [dict(s.apps[a], **({"APPL_DEC": "D"} if a in denied else {}))
                for c in keep for a in s.case_apps.get(c, []) if a not in lone]
    for a in plan.added:
        new_cases.append((a["case"], s.cases[a["template"]]["CASE_TYPE"]))
        new_procs.append({"IDNPROCEEDING": a["proc"], "IDNCASE": a["case"], "INPUT_DATE": a["received"], "COMP_DATE": None,
                          "DEC_CODE": None, "OTHER_COMP": None, "CASE_TYPE": a["t_proc"]["CASE_TYPE"], "ABSENTIA": None})
        if a["app"] is not None:
            new_apps.append({"IDNPROCEEDINGAPPLN": a["app"], "IDNPROCEEDING": a["proc"], "IDNCASE": a["case"],
                             "APPL_CODE": a["t_app"]["APPL_CODE"], "APPL_RECD_DATE": a["app_received"], "APPL_DEC": None})
    return _arrays(old_cases, old_procs, old_apps), _arrays(new_cases, new_procs, new_apps)


def _combine(base: Any, minus: Any, plus: Any, drop_zero: bool = False) -> Any:
    if isinstance(base, dict) or isinstance(minus, dict) or isinstance(plus, dict):
        base, minus, plus = base or {}, minus or {}, plus or {}
        out = {}
        for k in list(base) + [k for k in list(minus) + list(plus) if k not in base]:
            v = _combine(base.get(k), minus.get(k), plus.get(k), drop_zero)
            if not (drop_zero and v == 0) and k not in out:
                out[k] = v
        return out
    return (base or 0) - (minus or 0) + (plus or 0)


def updated_metrics(metrics: dict[str, Any], scan: Any, plan: Any) -> dict[str, Any]:
    """The old truth's metrics with the affected and added cases' contributions swapped."""
    from immfacts.sample.truth import compute_truth

    fys = sorted({int(k[2:]) for per_fy in metrics.values() for k in per_fy if k.startswith("FY")})
    old_sub, new_sub = _subsets(scan, plan)
    t_old = compute_truth(*old_sub, fys) if len(old_sub[0]["IDNCASE"]) else {}
    t_new = compute_truth(*new_sub, fys) if len(new_sub[0]["IDNCASE"]) else {}
    out = {}
    for metric, per_fy in metrics.items():
        out[metric] = {
            fy: _combine(v, t_old.get(metric, {}).get(fy), t_new.get(metric, {}).get(fy),
                         drop_zero=metric == "eoir.completions_by_outcome")
            for fy, v in per_fy.items()
        }
    return out


def updated_truth(old_truth: dict[str, Any], scan: Any, plan: Any, deltas: dict[str, tuple[int, int]],
                  new_folder: str, new_date: dt.date, old_zip: Any, seed: int, opts: dict[str, Any]) -> dict[str, Any]:
    """The old ``.truth.json`` moved to the drifted release."""
    new = copy.deepcopy(old_truth)
    new["data_date"] = new_date.isoformat()
    new["folder"] = new_folder
    new["drift"] = {"from_zip": old_zip.name, "from_folder": old_truth.get("folder"), "seed": seed, "options": opts,
                    "note": "metrics cover the fiscal years of the old truth"}
    for table, (removed, added) in deltas.items():
        t = new.get("tables", {}).get(table)
        if not t:
            continue
        for k in ("entity_rows", "rows_read", "rows_loaded"):
            if isinstance(t.get(k), int):
                t[k] += added - removed
        if isinstance(t.get("count_txt"), int):
            t["count_txt"] += added - removed
    if "metrics" in old_truth:
        new["metrics"] = updated_metrics(old_truth["metrics"], scan, plan)
    return new
