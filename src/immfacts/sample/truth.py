"""Ground truth of a sample release: the EOIR metrics computed from the generator's entities.

The rules are the default definitions of ``docs/definitions.md``, implemented here with NumPy
directly on the entities (not by the engine), so that the engine's known-answer tests compare
two independent implementations. Inputs are the *loaded* values: cases (``IDNCASE,
CASE_TYPE``), proceedings (``IDNPROCEEDING, IDNCASE, INPUT_DATE, COMP_DATE, DEC_CODE,
OTHER_COMP, CASE_TYPE, ABSENTIA``) and applications (``IDNPROCEEDINGAPPLN, IDNPROCEEDING,
IDNCASE, APPL_CODE, APPL_RECD_DATE, APPL_DEC``); dates are day numbers since 1970-01-01 with
``-1`` for null, codes are strings with ``""`` for null.

Every "the case's last X" is a stable sort on the case and the rule's keys, then the last row
of each case: rows equal on every key keep their input order, the later one winning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from immfacts.sample.calib import IN_SCOPE, NON_TERMINAL, OUTCOME_CLASSES
from immfacts.sample.model import _map, classify_codes
from immfacts.sample.volumes import fy_end, fy_of

GRANTS = ("G", "F", "C", "I", "P")
# Decision priority, lowest first (docs/definitions.md, "The case's asylum decision").
PRIORITY = {d: i for i, d in enumerate(reversed(["F", "G", "D", "C", "I", "L", "P", "S", "A", "R", "O", "T", "W", "M"]))}
CLOSED_CLASSES = ("dismissal", "termination", "pd_termination", "admin_closure")
INF = np.iinfo(np.int64).max


def _ints(d: Mapping[str, np.ndarray], col: str) -> np.ndarray:
    return np.asarray(d[col], dtype=np.int64)


def _strs(d: Mapping[str, np.ndarray], col: str) -> np.ndarray:
    a = np.asarray(d[col])
    return a if a.dtype.kind == "U" else a.astype(str)


def _last_of_groups(groups: np.ndarray) -> np.ndarray:
    """Positions of the last row of each run of equal values in a sorted array."""
    return np.flatnonzero(np.r_[groups[1:] != groups[:-1], True]) if len(groups) else np.zeros(0, dtype=np.int64)


@dataclass
class Cases:
    """One row per distinct case (first occurrence of its IDNCASE), sorted by IDNCASE."""

    id: np.ndarray
    case_type: np.ndarray
    receipt: np.ndarray
    final_class: np.ndarray  # index into the class names (0 = "": not completed)
    final_date: np.ndarray
    final_absentia: np.ndarray
    in_scope: np.ndarray

    def index(self, idncase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position of each IDNCASE among the cases, whether it is one of them)."""
        return _index(self.id, idncase)


def _index(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of each id in ``sorted_ids``, whether it is there)."""
    if not len(sorted_ids):
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return pos, sorted_ids[pos] == ids


@dataclass
class Procs:
    """Proceedings of known cases (orphans dropped), decoded, in input order."""

    id: np.ndarray
    case: np.ndarray  # position of the proceeding's case in :class:`Cases`
    input_date: np.ndarray
    comp_date: np.ndarray
    klass: np.ndarray  # index into ``names`` (0 = "": not completed)
    terminal: np.ndarray
    absentia: np.ndarray
    names: np.ndarray

    def code(self, *classes: str) -> list[int]:
        """Indices of these class names (those that occur)."""
        return [i for i, n in enumerate(self.names.tolist()) if n in classes]


def case_outcomes(cases: Mapping[str, np.ndarray], procs: Mapping[str, np.ndarray]) -> tuple[Cases, Procs]:
    """(cases with receipt, final class/date/absentia; proceedings of known cases with class)."""
    cid = _ints(cases, "IDNCASE")
    ids, first = np.unique(cid, return_index=True)
    c_type = _strs(cases, "CASE_TYPE")[first]
    pos, found = _index(ids, _ints(procs, "IDNCASE"))  # orphans are excluded from case-level metrics
    keep = np.flatnonzero(found)
    dec, oth = _strs(procs, "DEC_CODE")[keep], _strs(procs, "OTHER_COMP")[keep]
    comp = _ints(procs, "COMP_DATE")[keep]
    completed = (comp >= 0) & ((dec != "") != (oth != ""))
    names, cls = classify_codes(_strs(procs, "CASE_TYPE")[keep], np.where(completed, dec, ""), np.where(completed, oth, ""))
    cls = np.where(completed, cls, 0).astype(np.int16)
    p = Procs(
        id=_ints(procs, "IDNPROCEEDING")[keep], case=pos[keep], input_date=_ints(procs, "INPUT_DATE")[keep], comp_date=comp,
        klass=cls, terminal=np.zeros(0, dtype=bool), absentia=_strs(procs, "ABSENTIA")[keep], names=names,
    )
    p.terminal = completed & ~np.isin(cls, p.code(*NON_TERMINAL))
    n = len(ids)
    # receipt: the case's earliest (non-null) input date
    receipt = np.full(n, INF, dtype=np.int64)
    dated = p.input_date >= 0
    np.minimum.at(receipt, p.case[dated], p.input_date[dated])
    receipt[receipt == INF] = -1
    # final: the case's last proceeding by completion date (open ones last), then IDNPROCEEDING,
    # if that proceeding ended the case
    final_class = np.zeros(n, dtype=np.int16)
    final_date = np.full(n, -1, dtype=np.int64)
    final_abs = np.full(n, "", dtype=p.absentia.dtype if len(p.absentia) else "<U1")
    if len(p.id):
        order = np.lexsort((p.id, np.where(p.comp_date >= 0, p.comp_date, INF), p.case))
        last = order[_last_of_groups(p.case[order])]
        last = last[p.terminal[last]]
        final_class[p.case[last]] = p.klass[last]
        final_date[p.case[last]] = p.comp_date[last]
        final_abs[p.case[last]] = p.absentia[last]
    return Cases(ids, c_type, receipt, final_class, final_date, final_abs, np.isin(c_type, list(IN_SCOPE))), p


def pending_counts(c: Cases, p: Procs, days: list[int]) -> tuple[list[int], list[int]]:
    """(active, inactive) pending in-scope cases at each day (docs/definitions.md, "Stocks")."""
    q = np.flatnonzero(c.in_scope[p.case] & (p.input_date >= 0)) if len(p.id) else np.zeros(0, dtype=np.int64)
    q = q[np.lexsort((p.id[q], p.input_date[q], p.case[q]))]
    s = p.input_date[q]
    case = p.case[q]
    same = np.r_[case[1:] == case[:-1], False]
    nxt = np.where(same, np.r_[s[1:], 0], INF)  # the proceeding is the case's latest on [s, nxt)
    comp = p.comp_date[q]
    term = p.terminal[q]
    admin = np.isin(p.klass[q], p.code("admin_closure"))
    a_hi = np.where(term, np.minimum(comp, nxt), nxt)  # active until a terminal completion
    i_lo = np.where(admin, comp, INF)  # inactive from an admin closure until the next proceeding
    i_hi = np.where(admin, nxt, INF)

    def counts(lo: np.ndarray, hi: np.ndarray) -> list[int]:
        ok = lo < hi
        lo, hi = np.sort(lo[ok]), np.sort(hi[ok])
        return [int(np.searchsorted(lo, d, "right") - np.searchsorted(hi, d, "right")) for d in days]

    return counts(s, a_hi), counts(i_lo, i_hi)


def asylum_decisions(c: Cases, p: Procs, apps: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per asylum case: (its position among the cases, its chosen ASYL decision, the decision
    date, -1 undated)."""
    code = _strs(apps, "APPL_CODE")
    pos, found = c.index(_ints(apps, "IDNCASE"))
    sel = np.flatnonzero((code == "ASYL") & found)
    case = pos[sel]
    recd = _ints(apps, "APPL_RECD_DATE")[sel]
    dec = _strs(apps, "APPL_DEC")[sel]
    r = np.where(recd >= 0, recd, -(2**62))  # nulls first
    prio = _map(dec, lambda x: PRIORITY.get(x, -1), "int64")
    order = np.lexsort((_ints(apps, "IDNPROCEEDINGAPPLN")[sel], prio, r, case))
    last = order[_last_of_groups(case[order])]
    # the decision date is the completion date of the application's proceeding
    by_id = np.argsort(p.id, kind="stable")
    at, hit = _index(p.id[by_id], _ints(apps, "IDNPROCEEDING")[sel][last])
    date = np.where(hit, p.comp_date[by_id][at], -1) if len(by_id) else np.full(len(last), -1)
    return case[last], dec[last], date.astype(np.int64)


def _per_year(fy: np.ndarray, years: list[int], weights: np.ndarray | None = None) -> dict[int, int]:
    """How many rows (or the sum of ``weights``) fall in each fiscal year."""
    if not years:
        return {}
    fy = np.asarray(fy, dtype=np.int64)
    lo, hi = min(years), max(years)
    ok = (fy >= lo) & (fy <= hi)
    counts = np.bincount(fy[ok] - lo, weights=None if weights is None else np.asarray(weights)[ok], minlength=hi - lo + 1)
    return {y: int(counts[y - lo]) for y in years}


def _fy(days: np.ndarray) -> np.ndarray:
    """Fiscal year of each day, 0 for null days."""
    days = np.asarray(days, dtype=np.int64)
    return np.where(days >= 0, fy_of(np.maximum(days, 0)), 0) if len(days) else np.zeros(0, dtype=np.int64)


def compute_truth(cases: Mapping[str, np.ndarray], procs: Mapping[str, np.ndarray], apps: Mapping[str, np.ndarray], fiscal_years: list[int]) -> dict[str, dict]:
    """The ``"metrics"`` part of the truth sidecar, keyed by metric id then ``"FY2019"``."""
    c, p = case_outcomes(cases, procs)
    out: dict[str, dict] = {k: {} for k in (
        "eoir.receipts", "eoir.completions", "eoir.completions_by_outcome", "eoir.pending",
        "eoir.pending:including_inactive", "eoir.pending:inactive", "eoir.removal_orders",
        "eoir.in_absentia_orders", "eoir.asylum.grants", "eoir.asylum.denials",
        "eoir.asylum.closed_without_merits", "eoir.asylum.allowed_to_stay_rate")}
    years = list(fiscal_years)
    scope = c.in_scope
    receipts = _per_year(_fy(c.receipt[scope]), years)
    done = scope & (c.final_date >= 0)
    cfy = _fy(c.final_date[done])
    fcls = c.final_class[done]
    by_class = {k: _per_year(cfy[np.isin(fcls, p.code(k))], years) for k in OUTCOME_CLASSES}
    completions = _per_year(cfy, years)
    in_absentia = _per_year(cfy[np.isin(fcls, p.code("removal")) & (c.final_absentia[done] == "Y")], years)
    a_case, a_dec, a_date = asylum_decisions(c, p, apps)
    a_scope = scope[a_case]
    dfy = _fy(a_date[a_scope])
    grants = _per_year(dfy[np.isin(a_dec[a_scope], GRANTS)], years)
    denials = _per_year(dfy[a_dec[a_scope] == "D"], years)
    rmv = (c.case_type[a_case] == "RMV") & (c.final_date[a_case] >= 0)
    r_case, r_dec = a_case[rmv], a_dec[rmv]
    r_fy = _fy(c.final_date[r_case])
    r_cls = c.final_class[r_case]
    merits = np.isin(r_dec, GRANTS + ("D",))
    closed = np.isin(r_cls, p.code(*CLOSED_CLASSES)) & ~merits
    closed_by = {k: _per_year(r_fy[closed & np.isin(r_cls, p.code(k))], years) for k in CLOSED_CLASSES}
    closed_total = _per_year(r_fy[closed], years)
    stay = _per_year(r_fy[~np.isin(r_cls, p.code("removal", "voluntary_departure"))], years)
    rmv_total = _per_year(r_fy, years)
    active, inactive = pending_counts(c, p, [fy_end(y) for y in fiscal_years])
    for i, y in enumerate(fiscal_years):
        fy = f"FY{y}"
        out["eoir.receipts"][fy] = receipts[y]
        out["eoir.completions"][fy] = completions[y]
        out["eoir.completions_by_outcome"][fy] = {k: by_class[k][y] for k in OUTCOME_CLASSES if by_class[k][y]}
        out["eoir.removal_orders"][fy] = by_class["removal"][y]
        out["eoir.in_absentia_orders"][fy] = in_absentia[y]
        out["eoir.pending"][fy] = active[i]
        out["eoir.pending:inactive"][fy] = inactive[i]
        out["eoir.pending:including_inactive"][fy] = active[i] + inactive[i]
        out["eoir.asylum.grants"][fy] = grants[y]
        out["eoir.asylum.denials"][fy] = denials[y]
        out["eoir.asylum.closed_without_merits"][fy] = {"total": closed_total[y], **{k: closed_by[k][y] for k in CLOSED_CLASSES}}
        out["eoir.asylum.allowed_to_stay_rate"][fy] = {"numerator": stay[y], "denominator": rmv_total[y]}
    return out
