"""Ground truth of a sample release: the EOIR metrics computed from the generator's entities.

The rules are the default definitions of ``docs/definitions.md``, implemented here with NumPy
and pandas directly on the entities (not by the engine), so that the engine's known-answer
tests compare two independent implementations. Inputs are the *loaded* values: cases
(``IDNCASE, CASE_TYPE``), proceedings (``IDNPROCEEDING, IDNCASE, INPUT_DATE, COMP_DATE,
DEC_CODE, OTHER_COMP, CASE_TYPE, ABSENTIA``) and applications (``IDNPROCEEDINGAPPLN,
IDNPROCEEDING, IDNCASE, APPL_CODE, APPL_RECD_DATE, APPL_DEC``); dates are day numbers since
1970-01-01 with ``-1`` for null, codes are strings with ``""`` for null.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from immfacts.sample.calib import IN_SCOPE, NON_TERMINAL, OUTCOME_CLASSES
from immfacts.sample.model import classify_all
from immfacts.sample.volumes import fy_end, fy_of

GRANTS = ("G", "F", "C", "I", "P")
# Decision priority, lowest first (docs/definitions.md, "The case's asylum decision").
PRIORITY = {d: i for i, d in enumerate(reversed(["F", "G", "D", "C", "I", "L", "P", "S", "A", "R", "O", "T", "W", "M"]))}
CLOSED_CLASSES = ("dismissal", "termination", "pd_termination", "admin_closure")
INF = np.iinfo(np.int64).max


def _frame(d: Mapping[str, np.ndarray], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: np.asarray(d[c]) for c in cols})


def case_outcomes(cases: Mapping[str, np.ndarray], procs: Mapping[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cases with receipt, final class/date/absentia; proceedings of known cases with class)."""
    c = _frame(cases, ["IDNCASE", "CASE_TYPE"]).drop_duplicates("IDNCASE")
    p = _frame(procs, ["IDNPROCEEDING", "IDNCASE", "INPUT_DATE", "COMP_DATE", "DEC_CODE", "OTHER_COMP", "CASE_TYPE", "ABSENTIA"])
    p = p[p["IDNCASE"].isin(c["IDNCASE"])].copy()  # orphans are excluded from case-level metrics
    dec, oth = p["DEC_CODE"].to_numpy(str), p["OTHER_COMP"].to_numpy(str)
    completed = (p["COMP_DATE"].to_numpy() >= 0) & ((dec != "") != (oth != ""))
    cls = classify_all(p["CASE_TYPE"].to_numpy(str), np.where(completed, dec, ""), np.where(completed, oth, ""))
    p["class"] = np.where(completed, cls, "")
    p["completed"] = completed
    p["terminal"] = completed & ~np.isin(p["class"], list(NON_TERMINAL))
    inp = p["INPUT_DATE"].where(p["INPUT_DATE"] >= 0)
    receipt = inp.groupby(p["IDNCASE"]).min()
    key = np.where(p["COMP_DATE"] >= 0, p["COMP_DATE"], INF)
    last = p.assign(_k=key).sort_values(["IDNCASE", "_k", "IDNPROCEEDING"]).groupby("IDNCASE").tail(1)
    last = last.set_index("IDNCASE")
    c = c.set_index("IDNCASE")
    c["receipt"] = receipt.reindex(c.index).fillna(-1).astype(np.int64)
    fin = last.reindex(c.index)
    done = fin["terminal"].fillna(False).astype(bool)
    c["final_class"] = np.where(done, fin["class"].fillna(""), "")
    c["final_date"] = np.where(done, fin["COMP_DATE"].fillna(-1), -1).astype(np.int64)
    c["final_absentia"] = np.where(done, fin["ABSENTIA"].fillna(""), "")
    c["in_scope"] = c["CASE_TYPE"].isin(IN_SCOPE)
    return c, p


def pending_counts(c: pd.DataFrame, p: pd.DataFrame, days: list[int]) -> tuple[list[int], list[int]]:
    """(active, inactive) pending in-scope cases at each day (docs/definitions.md, "Stocks")."""
    q = p[p["IDNCASE"].isin(c.index[c["in_scope"]]) & (p["INPUT_DATE"] >= 0)]
    q = q.sort_values(["IDNCASE", "INPUT_DATE", "IDNPROCEEDING"])
    s = q["INPUT_DATE"].to_numpy(np.int64)
    same = np.r_[q["IDNCASE"].to_numpy()[1:] == q["IDNCASE"].to_numpy()[:-1], False]
    nxt = np.where(same, np.r_[s[1:], 0], INF)  # the proceeding is the case's latest on [s, nxt)
    comp = q["COMP_DATE"].to_numpy(np.int64)
    term = q["terminal"].to_numpy(bool)
    admin = (q["class"] == "admin_closure").to_numpy()
    a_hi = np.where(term, np.minimum(comp, nxt), nxt)  # active until a terminal completion
    i_lo = np.where(admin, comp, INF)  # inactive from an admin closure until the next proceeding
    i_hi = np.where(admin, nxt, INF)

    def count(lo: np.ndarray, hi: np.ndarray, d: int) -> int:
        ok = lo < hi
        lo, hi = np.sort(lo[ok]), np.sort(hi[ok])
        return int(np.searchsorted(lo, d, "right") - np.searchsorted(hi, d, "right"))

    return [count(s, a_hi, d) for d in days], [count(i_lo, i_hi, d) for d in days]


def asylum_decisions(c: pd.DataFrame, p: pd.DataFrame, apps: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per asylum case: its chosen ASYL decision and the decision date (-1 undated)."""
    a = _frame(apps, ["IDNPROCEEDINGAPPLN", "IDNPROCEEDING", "IDNCASE", "APPL_CODE", "APPL_RECD_DATE", "APPL_DEC"])
    a = a[(a["APPL_CODE"] == "ASYL") & a["IDNCASE"].isin(c.index)].copy()
    a["_r"] = np.where(a["APPL_RECD_DATE"] >= 0, a["APPL_RECD_DATE"], -(2**62))  # nulls first
    a["_p"] = a["APPL_DEC"].map(PRIORITY).fillna(-1)
    last = a.sort_values(["IDNCASE", "_r", "_p", "IDNPROCEEDINGAPPLN"]).groupby("IDNCASE").tail(1)
    comp = p.set_index("IDNPROCEEDING")["COMP_DATE"]
    last = last.assign(date=last["IDNPROCEEDING"].map(comp).fillna(-1).astype(np.int64)).set_index("IDNCASE")
    return last[["APPL_DEC", "date"]]


def compute_truth(cases: Mapping[str, np.ndarray], procs: Mapping[str, np.ndarray], apps: Mapping[str, np.ndarray], fiscal_years: list[int]) -> dict[str, dict]:
    """The ``"metrics"`` part of the truth sidecar, keyed by metric id then ``"FY2019"``."""
    c, p = case_outcomes(cases, procs)
    out: dict[str, dict] = {k: {} for k in (
        "eoir.receipts", "eoir.completions", "eoir.completions_by_outcome", "eoir.pending",
        "eoir.pending:including_inactive", "eoir.pending:inactive", "eoir.removal_orders",
        "eoir.in_absentia_orders", "eoir.asylum.grants", "eoir.asylum.denials",
        "eoir.asylum.closed_without_merits", "eoir.asylum.allowed_to_stay_rate")}
    scope = c[c["in_scope"]]
    rfy = pd.Series(np.where(scope["receipt"] >= 0, fy_of(scope["receipt"].clip(lower=0)), 0), index=scope.index)
    done = scope[scope["final_date"] >= 0]
    cfy = pd.Series(fy_of(done["final_date"]), index=done.index)
    asy = asylum_decisions(c, p, apps)
    ac = c.join(asy, how="inner")
    ac_scope = ac[ac["in_scope"]]
    dfy = pd.Series(np.where(ac_scope["date"] >= 0, fy_of(ac_scope["date"].clip(lower=0)), 0), index=ac_scope.index)
    rmv = ac[(ac["CASE_TYPE"] == "RMV") & (ac["final_date"] >= 0)]
    rmv_fy = pd.Series(fy_of(rmv["final_date"]), index=rmv.index)
    active, inactive = pending_counts(c, p, [fy_end(y) for y in fiscal_years])
    for i, y in enumerate(fiscal_years):
        fy = f"FY{y}"
        out["eoir.receipts"][fy] = int((rfy == y).sum())
        d = done[cfy == y]
        out["eoir.completions"][fy] = len(d)
        by = d["final_class"].value_counts()
        out["eoir.completions_by_outcome"][fy] = {k: int(by[k]) for k in OUTCOME_CLASSES if k in by.index}
        out["eoir.removal_orders"][fy] = int((d["final_class"] == "removal").sum())
        out["eoir.in_absentia_orders"][fy] = int(((d["final_class"] == "removal") & (d["final_absentia"] == "Y")).sum())
        out["eoir.pending"][fy] = active[i]
        out["eoir.pending:inactive"][fy] = inactive[i]
        out["eoir.pending:including_inactive"][fy] = active[i] + inactive[i]
        dec = ac_scope[(dfy == y).to_numpy()]["APPL_DEC"]
        out["eoir.asylum.grants"][fy] = int(dec.isin(GRANTS).sum())
        out["eoir.asylum.denials"][fy] = int((dec == "D").sum())
        r = rmv[(rmv_fy == y).to_numpy()]
        merits = r["APPL_DEC"].isin(GRANTS + ("D",))
        closed = r[r["final_class"].isin(CLOSED_CLASSES) & ~merits]
        comp = {k: int((closed["final_class"] == k).sum()) for k in CLOSED_CLASSES}
        out["eoir.asylum.closed_without_merits"][fy] = {"total": len(closed), **comp}
        stay = ~r["final_class"].isin(["removal", "voluntary_departure"])
        out["eoir.asylum.allowed_to_stay_rate"][fy] = {"numerator": int(stay.sum()), "denominator": len(r)}
    return out
