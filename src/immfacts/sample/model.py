"""The sample's court: cases, their proceedings and their applications, as NumPy arrays.

A case arrives on its receipt date and, if its fiscal year's completion quota picks it, ends
on a final completion date with a final outcome drawn from a case-type- and year-dependent mix
(PD dismissals and terminations rise after FY2022, PD admin closures peak in FY2012–FY2015).
Before its final proceeding a case may pass through changes of venue and transfers (O-type
C/T, each followed by a new proceeding), an administrative closure that is later recalendared,
and an in-absentia order that is later reopened. Asylum cases file ASYL+ASYW+WCAT together;
after a change of venue, closure or reopening the applications are re-entered in the final
proceeding. Everything is vectorised: no Python loop runs per case.

Dates are integer days since 1970-01-01; ``-1`` is null. Codes are NumPy string arrays with
``""`` for null.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from immfacts.sample import volumes as V
from immfacts.sample.calib import classify, decision_table, geography, valid_frequencies

Frame = dict[str, np.ndarray]

# Final-outcome mixes per case type: (code, C|O, weight). Checked against the bundled lookup.
MIXES: dict[str, list[tuple[str, str, float]]] = {
    "RMV": [("X", "C", .40), ("V", "C", .08), ("R", "C", .11), ("T", "C", .07), ("U", "C", .05), ("I", "C", .01),
            ("O", "C", .005), ("A", "O", .06), ("Y", "O", .015), ("M", "O", .002), ("K", "O", .002), ("B", "O", .002),
            ("F", "O", .05), ("P", "O", .004), ("O", "O", .004), ("X", "O", .008), ("H", "O", .001), ("L", "O", .0005)],
    "DEP": [("D", "C", .5), ("T", "C", .12), ("V", "C", .12), ("R", "C", .12), ("I", "C", .01), ("U", "C", .01),
            ("A", "O", .06), ("F", "O", .02), ("P", "O", .01), ("O", "O", .01), ("X", "O", .01), ("H", "O", .005), ("Y", "O", .005)],
    "EXC": [("E", "C", .55), ("A", "C", .05), ("T", "C", .1), ("I", "C", .01), ("U", "C", .01), ("O", "C", .02),
            ("A", "O", .1), ("F", "O", .03), ("P", "O", .02), ("O", "O", .02), ("X", "O", .02), ("Y", "O", .01), ("H", "O", .01)],
    "AOC": [("G", "C", .12), ("D", "C", .45), ("A", "C", .1), ("W", "C", .1), ("C", "C", .02), ("O", "C", .02), ("Z", "C", .02),
            ("E", "C", .02), ("T", "C", .03), ("U", "C", .03), ("A", "O", .05), ("F", "O", .01), ("O", "O", .01), ("X", "O", .01)],
    "CFR": [("A", "C", .7), ("V", "C", .25), ("O", "C", .02), ("A", "O", .01), ("F", "O", .01), ("O", "O", .01)],
    "RFR": [("A", "C", .8), ("V", "C", .15), ("O", "C", .02), ("A", "O", .01), ("F", "O", .01), ("O", "O", .01)],
    "CSR": [("A", "C", .6), ("V", "C", .3), ("O", "C", .05), ("A", "O", .05)],
    "REC": [("R", "C", .5), ("S", "C", .2), ("T", "C", .2), ("O", "C", .05), ("A", "O", .05)],
    "NAC": [("G", "C", .5), ("D", "C", .3), ("A", "C", .1), ("W", "C", .1)],
    "CDR": [("D", "C", .5), ("G", "C", .3), ("O", "C", .2)],
}
MIXES["WHO"] = MIXES["AOC"]
REMOVAL_CODE = {"RMV": "X", "DEP": "D", "EXC": "E"}
CONFLICT_TYPE = {"RMV": "DEP", "DEP": "RMV", "EXC": "RMV", "AOC": "WHO", "WHO": "AOC"}
ASYLUM_FAMILY = ("ASYL", "ASYW", "WCAT")


def _year_factor(code: str, typ: str, fy: np.ndarray) -> np.ndarray:
    """Multiplier of a mix weight by completion fiscal year (policy eras, EOIR_DOMAIN.md §2.1)."""
    f = np.ones(fy.shape)
    if typ == "C" and code == "U":
        f = np.where((fy >= 2022) & (fy <= 2024), 6.0, np.where(fy >= 2025, 3.0, np.where(fy < 2015, 0.3, 1.0)))
    elif typ == "C" and code == "T":
        f = np.where(fy >= 2022, 1.6, 1.0)
    elif typ == "C" and code == "I":
        f = np.where(((fy >= 2012) & (fy <= 2015)) | ((fy >= 2022) & (fy <= 2024)), 3.0, 1.0)
    elif typ == "O" and code == "Y":
        f = np.where((fy >= 2012) & (fy <= 2015), 8.0, 0.2)
    elif typ == "O" and code == "F":
        f = np.where(fy >= 2020, 2.5, np.where(fy < 2016, 0.3, 1.0))
    elif typ == "O" and code == "A":
        f = np.where((fy >= 2018) & (fy <= 2021), 0.3, np.where(fy < 2018, 1.5, 1.0))
    elif typ == "C" and code == "V":
        f = np.where(fy < 2010, 1.5, 1.0)
    return f


@dataclass
class Entities:
    """The generator's own entities (the truth is computed from them)."""

    cases: Frame
    procs: Frame
    apps: Frame
    data_date: int
    missing_case_ids: np.ndarray  # IDNCASE values skipped by the numbering (targets of orphans)


def _pick(rng: np.random.Generator, values: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    return values[rng.choice(len(values), size=n, p=p)]


def _receipts(rng: np.random.Generator, scale: float, dd: int) -> tuple[np.ndarray, np.ndarray]:
    """Case types and receipt days of all cases received up to the data date."""
    counts = V.case_type_counts(scale)
    types, days = [], []
    targets = V.yearly_targets(scale, dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + dd))
    share = np.asarray([counts["RMV"], counts["AOC"], counts["WHO"]])
    share = share / share.sum()
    for fy, (r, _) in targets.items():
        n = int(rng.poisson(r)) if r > 0 else 0
        lo, hi = max(V.fy_start(fy), V.day(V.IIRIRA)), min(V.fy_end(fy), dd)
        if n and hi >= lo:
            days.append(rng.integers(lo, hi + 1, n))
            types.append(np.asarray(["RMV", "AOC", "WHO"])[rng.choice(3, n, p=share)])
    rmv_days = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
    lo_dep, hi_dep = V.fy_start(V.FIRST_FY), min(V.day(V.IIRIRA) - 1, dd)
    for t in ("DEP", "EXC"):
        n = int(rng.poisson(counts[t] * max(0, hi_dep - lo_dep + 1) / (V.day(V.IIRIRA) - lo_dep)))
        if n and hi_dep >= lo_dep:
            days.append(rng.integers(lo_dep, hi_dep + 1, n))
            types.append(np.full(n, t))
    recent = rmv_days[rmv_days >= V.fy_start(1998)]
    for t in ("CFR", "RFR", "DDC", "REC", "CSR", "NAC", "CDR"):
        n = int(rng.poisson(counts[t] * min(1.0, (dd - lo_dep) / (V.day(V.DEFAULT_DATA_DATE) - lo_dep))))
        if not n:
            continue
        if t in ("CFR", "RFR") and len(recent):  # credible/reasonable fear follows the docket's growth
            d = np.minimum(recent[rng.integers(0, len(recent), n)] + rng.integers(0, 30, n), dd)
        else:
            d = rng.integers(lo_dep, dd + 1, n)
        days.append(d)
        types.append(np.full(n, t))
    return np.concatenate(types), np.concatenate(days)


def _complete_in_scope(rng, receipt, custody, in_scope, targets, dd) -> np.ndarray:
    """Final completion day of in-scope cases (-1 = pending), meeting yearly quotas."""
    comp = np.full(len(receipt), -1, dtype=np.int64)
    idx = np.flatnonzero(in_scope)
    order = idx[np.argsort(receipt[idx], kind="stable")]
    r_sorted = receipt[order]
    detained = custody[order] == "D"
    done = np.zeros(len(order), dtype=bool)
    for fy, (_, c) in sorted(targets.items()):
        s, e = V.fy_start(fy), min(V.fy_end(fy), dd)
        avail = np.flatnonzero(~done[: np.searchsorted(r_sorted, e, side="right")])
        k = min(len(avail), int(round(c)))
        if k <= 0:
            continue
        w = np.where(r_sorted[avail] >= s, (e - r_sorted[avail] + 1) / (e - s + 1), 1.0) * np.where(detained[avail], 3.0, 1.0)
        keys = np.log(rng.random(len(avail))) / np.maximum(w, 1e-9)
        chosen = avail[np.argpartition(-keys, k - 1)[:k]] if k < len(avail) else avail
        done[chosen] = True
        lo = np.maximum(s, r_sorted[chosen])
        comp[order[chosen]] = lo + np.floor(rng.random(k) * (e - lo + 1)).astype(np.int64)
    return comp


def _final_codes(rng, ctype, comp, asylum) -> tuple[np.ndarray, np.ndarray]:
    """DEC_CODE/OTHER_COMP of each completed case's final proceeding."""
    n = len(ctype)
    dec = np.full(n, "", dtype="<U1")
    oth = np.full(n, "", dtype="<U1")
    fy = V.fy_of(np.maximum(comp, 0))
    for t, mix in MIXES.items():
        sel = np.flatnonzero((ctype == t) & (comp >= 0))
        if not len(sel):
            continue
        w = np.stack([np.full(len(sel), wt) * _year_factor(c, ty, fy[sel]) for c, ty, wt in mix], axis=1)
        for j, (c, ty, _) in enumerate(mix):
            if ty == "C" and c == "R":
                w[:, j] *= np.where(asylum[sel], 1.8, 1.0)
            if ty == "C" and c == "V":
                w[:, j] *= np.where(asylum[sel], 0.6, 1.0)
        cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        k = np.minimum((cum < rng.random(len(sel))[:, None]).sum(axis=1), len(mix) - 1)
        codes = np.asarray([c for c, _, _ in mix])[k]
        is_c = np.asarray([ty == "C" for _, ty, _ in mix])[k]
        dec[sel] = np.where(is_c, codes, "")
        oth[sel] = np.where(is_c, "", codes)
    return dec, oth


def build_entities(seed: int, scale: float, data_date: dt.date) -> Entities:
    """Draw every case, proceeding and application of a sample release."""
    rng = np.random.default_rng([seed, 1])
    geo = geography()
    dd = V.day(data_date)
    ctype, receipt = _receipts(rng, scale, dd)
    n = len(ctype)
    in_scope = np.isin(ctype, ("RMV", "DEP", "EXC", "AOC", "WHO"))
    cvals, cp = valid_frequencies("A_TblCase", "CUSTODY", frozenset("NDR"))
    custody = _pick(rng, cvals, cp, n)
    comp = _complete_in_scope(rng, receipt, custody, in_scope, V.yearly_targets(scale, data_date), dd)
    quick = np.isin(ctype, ("CFR", "RFR"))
    dur = np.where(quick, rng.integers(1, 30, n), rng.exponential(300, n).astype(np.int64) + 1)
    fin = receipt + dur
    comp = np.where(~in_scope & (ctype != "DDC") & (fin <= dd) & (rng.random(n) < np.where(quick, 0.97, 0.8)), fin, comp)
    rfy = V.fy_of(receipt)
    p_asy = np.where(rfy < 2010, 0.25, np.where(rfy < 2019, 0.35, 0.45))
    asylum = np.where(ctype == "AOC", True, np.isin(ctype, ("RMV", "DEP", "EXC")) & (rng.random(n) < np.where(ctype == "RMV", p_asy, 0.15)))
    dec, oth = _final_codes(rng, ctype, comp, asylum)
    # numbering: cases in order of receipt, with a gap every 97 ids (deleted records)
    order = np.lexsort((rng.random(n), receipt))
    ctype, receipt, custody, comp, asylum, dec, oth = (a[order] for a in (ctype, receipt, custody, comp, asylum, dec, oth))
    idn = np.arange(n, dtype=np.int64)
    idncase = 1 + idn + idn // 96
    taken = np.zeros(int(idncase[-1]) + 1 if n else 1, dtype=bool)
    taken[idncase] = True
    missing = np.flatnonzero(~taken[1:]) + 1  # ascending, as np.setdiff1d gave them
    court = _pick(rng, geo.courts, geo.court_p, n)
    nat = _pick(rng, geo.nats, geo.nat_p, n)
    lang = _map(nat, lambda x: geo.lang_by_nat[x], "<U3")
    end = np.where(comp >= 0, comp, dd)
    asy_type = np.where(asylum, np.where((ctype == "RMV") & (rng.random(n) < 0.3), "I", "E"), "")
    rep = rng.random(n) < np.where(asylum, 0.6, 0.3)
    e28 = np.where(rep, receipt + np.floor(rng.random(n) * np.minimum(730, end - receipt + 1)).astype(np.int64), -1)
    cases: Frame = {
        "IDNCASE": idncase, "CASE_TYPE": ctype, "receipt": receipt, "comp": comp, "CUSTODY": custody,
        "asylum": asylum, "C_ASY_TYPE": asy_type, "E_28_DATE": e28, "NAT": nat, "LANG": lang, "court": court,
        "final_dec": dec, "final_oth": oth,
    }
    procs = _proceedings(rng, cases, dd)
    apps = _applications(rng, cases, procs, dd)
    return Entities(cases=cases, procs=procs, apps=apps, data_date=dd, missing_case_ids=missing)


def _group_seq(counts: np.ndarray) -> np.ndarray:
    """0..k-1 within each group of a flat array laid out group after group."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(counts.sum()) - starts


def _proceedings(rng: np.random.Generator, c: Frame, dd: int) -> Frame:
    n = len(c["IDNCASE"])
    ctype, receipt, comp = c["CASE_TYPE"], c["receipt"], c["comp"]
    end = np.where(comp >= 0, comp, dd)
    span = end - receipt
    scope = np.isin(ctype, ("RMV", "DEP", "EXC", "AOC", "WHO"))
    n_ct = np.where(scope, rng.choice(4, n, p=[0.83, 0.12, 0.04, 0.01]), (rng.random(n) < 0.02).astype(int) * np.isin(ctype, ("CFR", "RFR")))
    ac = scope & (span >= 60) & (rng.random(n) < 0.03)
    ro = np.isin(ctype, ("RMV", "DEP", "EXC")) & (span >= 120) & (rng.random(n) < 0.015)
    m = n_ct + ac + ro
    over = np.maximum(0, m - span)  # too short to fit: drop changes of venue first
    n_ct = np.maximum(0, n_ct - over)
    m = n_ct + ac + ro
    m = np.minimum(m, np.maximum(span, 0))
    k = np.where(ctype == "DDC", 0, m + 1)  # DD appeals have no proceedings
    row = np.repeat(np.arange(n), k)
    seq = _group_seq(k)
    u = np.where(seq == 0, 0.0, rng.random(len(row)))
    srt = np.lexsort((u, row))
    u = u[srt]
    mm = m[row]
    start = receipt[row] + np.floor(u * (span[row] - mm + 1)).astype(np.int64) + seq
    is_final = seq == mm
    kind = np.where(is_final, "F", np.where(seq < n_ct[row], "CT", np.where((seq == n_ct[row]) & ac[row], "AC", "RO")))
    nxt = np.where(is_final, end[row], np.roll(start, -1))
    gap = np.maximum(nxt - start, 0)
    r = rng.random(len(row))
    pcomp = np.where(kind == "CT", nxt - np.floor(r * np.minimum(15, gap + 1)).astype(np.int64),
                     start + np.floor((0.1 + 0.6 * r) * gap).astype(np.int64))
    pcomp = np.where(is_final, comp[row], np.clip(pcomp, start, nxt))
    ptype = ctype[row]
    dec = np.where(is_final, c["final_dec"][row], "")
    oth = np.where(is_final, c["final_oth"][row], "")
    oth = np.where(kind == "CT", np.where(rng.random(len(row)) < 0.69, "C", "T"), oth)
    ac_codes = np.asarray(["A", "Y", "M", "K", "B"])[rng.choice(5, len(row), p=[0.75, 0.1, 0.05, 0.05, 0.05])]
    oth = np.where(kind == "AC", ac_codes, oth)
    dec = np.where(kind == "RO", _map(ptype, lambda t: REMOVAL_CODE.get(t, "X"), "<U1"), dec)
    pclass = classify_all(ptype, dec, oth)
    fy = V.fy_of(np.maximum(pcomp, 0))
    p_abs = np.where(fy < 2014, 0.35, np.where(fy < 2019, 0.45, np.where(fy < 2023, 0.55, 0.65)))
    absentia = np.where(pcomp < 0, "", np.where((pclass == "removal") & ((kind == "RO") | (rng.random(len(row)) < p_abs)), "Y", "N"))
    # numbering in order of creation (input date), case by case
    order = np.lexsort((seq, row, start))
    idnproc = np.empty(len(row), dtype=np.int64)
    idnproc[order] = 1 + np.arange(len(row)) + np.arange(len(row)) // 211
    geo = geography()
    court = c["court"][row].copy()
    fresh = geo.courts[rng.choice(len(geo.courts), len(row), p=geo.court_p)]
    venue_changed = (np.roll(kind, 1) == "CT") & (np.roll(oth, 1) == "C")
    for s in range(1, int(seq.max()) + 1 if len(seq) else 0):  # a new court only after a change of venue
        sel = np.flatnonzero(seq == s)
        court[sel] = np.where(venue_changed[sel], fresh[sel], court[sel - 1])
    return {
        "IDNPROCEEDING": idnproc, "row": row, "seq": seq, "kind": kind, "IDNCASE": c["IDNCASE"][row],
        "INPUT_DATE": start, "COMP_DATE": pcomp, "DEC_CODE": dec, "OTHER_COMP": oth, "CASE_TYPE": ptype,
        "ABSENTIA": absentia, "class": pclass, "court": court,
    }



def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(distinct values, index of each value among them)``, in no particular order.

    Short ASCII strings are packed into integers first (7 bits a character), so codes of up
    to three characters are factorised with one table look-up per row instead of a sort.
    """
    a = np.ascontiguousarray(np.asarray(values))
    n = len(a)
    w = a.dtype.itemsize // 4 if a.dtype.kind == "U" else 0
    if a.dtype.kind == "U" and n and 0 < w <= 9:
        cp = a.view(np.uint32).reshape(n, w)
        if cp.max() < 128:
            key = np.zeros(n, dtype=np.int64)
            for j in range(w):
                key = (key << 7) | cp[:, j]
            if w <= 3:
                present = np.zeros(1 << (7 * w), dtype=bool)
                present[key] = True
                keys = np.flatnonzero(present)
                rank = np.cumsum(present, dtype=np.int64) - 1
                inv = rank[key]
            else:
                keys, inv = np.unique(key, return_inverse=True)
            rep = np.empty(len(keys), dtype=np.int64)
            rep[inv] = np.arange(n)
            return a[rep], inv
    if n == 0:
        return a[:0], np.zeros(0, dtype=np.int64)
    u, inv = np.unique(a, return_inverse=True)
    return u, inv.reshape(-1)


def _map(values: np.ndarray, func, dtype: str) -> np.ndarray:
    """Apply ``func`` to each distinct value (few distinct values, many rows)."""
    if not len(values):
        return np.zeros(0, dtype=dtype)
    u, inv = factorize(values)
    return np.asarray([func(x) for x in u.tolist()], dtype=dtype)[inv]


def classify_all(ptype: np.ndarray, dec: np.ndarray, oth: np.ndarray) -> np.ndarray:
    """Outcome class of every proceeding ("" when it has no code), decoded with its own case type."""
    names, codes = classify_codes(ptype, dec, oth)
    return names[codes]


def classify_codes(ptype: np.ndarray, dec: np.ndarray, oth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`classify_all` as (the sorted class names, "" first; each proceeding's index among
    them) — two bytes a row instead of a string."""
    if not len(ptype):
        return np.asarray([""], dtype="<U24"), np.zeros(0, dtype=np.int16)
    (up, ip), (ud, idc), (uo, io) = factorize(ptype), factorize(dec), factorize(oth)
    combo = (ip * len(ud) + idc) * len(uo) + io
    keys, inv = np.unique(combo, return_inverse=True) if len(up) * len(ud) * len(uo) > (1 << 22) else _dense_unique(combo, len(up) * len(ud) * len(uo))

    def one(k: int) -> str:
        t, rest = divmod(int(k), len(ud) * len(uo))
        d, o = divmod(rest, len(uo))
        d_, o_ = str(ud[d]), str(uo[o])
        # the key the rule reads: type (3 characters), then C+DEC_CODE or O+OTHER_COMP
        code = ("C" + d_[:2])[:3] if d_ != "" else (("O" + o_[:2])[:3] if o_ != "" else "")
        key = str(up[t])[:3] + code
        return classify(key[:3], key[4:], key[3]) if len(key) > 3 else ""

    per_key = [one(k) for k in keys]
    names = sorted(set(per_key) | {""})
    lut = np.asarray([names.index(x) for x in per_key], dtype=np.int16)
    return np.asarray(names, dtype="<U24"), lut[inv]


def _dense_unique(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    present = np.zeros(size, dtype=bool)
    present[key] = True
    keys = np.flatnonzero(present)
    return keys, (np.cumsum(present, dtype=np.int64) - 1)[key]


def _applications(rng: np.random.Generator, c: Frame, p: Frame, dd: int) -> Frame:
    """ASYL+ASYW+WCAT for asylum cases (first and final proceeding), relief and VD applications."""
    row, seq, kind = p["row"], p["seq"], p["kind"]
    final = kind == "F"
    asy = c["asylum"][row] & (c["CASE_TYPE"][row] != "WHO")
    first_prior = (seq == 0) & ~final
    # asylum family in the first proceeding when it was not the final one, and in the final one
    host = np.flatnonzero((asy & (first_prior | final)) | (final & (c["CASE_TYPE"][row] == "WHO")))
    parts = []
    pend = np.where(p["COMP_DATE"] >= 0, p["COMP_DATE"], dd)
    for code, prob in (("ASYL", 1.0), ("ASYW", 0.85), ("WCAT", 0.8)):
        h = host[rng.random(len(host)) < prob]
        if code == "ASYL":
            h = h[c["CASE_TYPE"][row[h]] != "WHO"]
        parts.append((h, np.full(len(h), code)))
    h_all = np.concatenate([x for x, _ in parts])
    codes = np.concatenate([y for _, y in parts])
    # an application of an earlier proceeding is received before that proceeding ends, so a
    # case's ASYL applications never share a received date (the tie-break never sees a null)
    span = np.maximum(pend[h_all] - p["INPUT_DATE"][h_all] - (kind[h_all] != "F"), 0)
    recd = p["INPUT_DATE"][h_all] + np.floor(rng.random(len(h_all)) * np.minimum(span + 1, 300)).astype(np.int64)
    dec = _asylum_decisions(rng, codes, p, h_all)
    # relief / voluntary departure / other applications on final proceedings
    fcls = p["class"]
    rel = np.flatnonzero(final & (((fcls == "relief") & ~asy) | (fcls == "voluntary_departure")) | (final & (rng.random(len(row)) < 0.12)))
    rcode = np.where(fcls[rel] == "voluntary_departure", "VD",
                     np.asarray(["42B", "245", "42A", "212h", "212c", "I881"])[rng.choice(6, len(rel), p=[0.45, 0.3, 0.12, 0.06, 0.04, 0.03])])
    rcode = np.where(np.isin(c["CASE_TYPE"][row[rel]], ("DEP",)) & (rcode == "42B"), "SUSP", rcode)
    granted = np.isin(fcls[rel], ("relief", "voluntary_departure"))
    rdec = np.where(p["COMP_DATE"][rel] < 0, "", np.where(granted & (rng.random(len(rel)) < 0.85), "G",
                    np.asarray(["D", "W", "A", "O"])[rng.choice(4, len(rel), p=[0.5, 0.25, 0.15, 0.1])]))
    rspan = np.maximum(pend[rel] - p["INPUT_DATE"][rel], 0)
    rrecd = p["INPUT_DATE"][rel] + np.floor(rng.random(len(rel)) * np.minimum(rspan + 1, 400)).astype(np.int64)
    prow = np.concatenate([h_all, rel])
    order = np.lexsort((np.concatenate([codes, rcode]), prow))
    prow = prow[order]
    appl = {
        "prow": prow,
        "APPL_CODE": np.concatenate([codes, rcode])[order],
        "APPL_RECD_DATE": np.concatenate([recd, rrecd])[order],
        "APPL_DEC": np.concatenate([dec, rdec])[order],
    }
    appl["IDNPROCEEDING"] = p["IDNPROCEEDING"][prow]
    appl["IDNCASE"] = p["IDNCASE"][prow]
    srt = np.lexsort((np.arange(len(prow)), appl["APPL_RECD_DATE"]))
    idn = np.empty(len(prow), dtype=np.int64)
    idn[srt] = 1 + np.arange(len(prow)) + np.arange(len(prow)) // 307
    appl["IDNPROCEEDINGAPPLN"] = idn
    return appl


def _asylum_decisions(rng: np.random.Generator, codes: np.ndarray, p: Frame, h: np.ndarray) -> np.ndarray:
    """APPL_DEC of the asylum family, coherent with the proceeding's outcome."""
    k = len(h)
    cls, kind, absent = p["class"][h], p["kind"][h], p["ABSENTIA"][h]
    r = rng.random(k)

    def draw(vals: list[str], probs: list[float]) -> np.ndarray:
        return np.asarray(vals)[rng.choice(len(vals), k, p=probs)]

    grant = draw(["G", "F", "C", "I", "P"], [0.8, 0.07, 0.03, 0.07, 0.03])
    out = np.full(k, "", dtype="<U1")
    out = np.where(cls == "relief", np.where(r < 0.72, grant, draw(["D", "W", "M"], [0.6, 0.25, 0.15])), out)
    out = np.where(cls == "removal", np.where(absent == "Y", np.where(r < 0.7, "A", "D"), draw(["D", "A", "W", "O"], [0.7, 0.1, 0.15, 0.05])), out)
    out = np.where(cls == "voluntary_departure", draw(["W", "D", "A"], [0.6, 0.3, 0.1]), out)
    closed = np.isin(cls, ("termination", "pd_termination", "dismissal", "admin_closure", "failure_to_prosecute", "other"))
    out = np.where(closed, np.where(r < 0.03, "D", draw(["", "W", "O", "M", "S"], [0.4, 0.15, 0.15, 0.15, 0.15])), out)
    aoc = np.isin(p["CASE_TYPE"][h], ("AOC", "WHO")) & (kind == "F")
    aoc_map = {"G": "G", "C": "C", "Z": "G", "E": "G", "H": "G", "D": "D", "A": "A", "W": "W"}
    out = np.where(aoc, _map(p["DEC_CODE"][h], lambda x: aoc_map.get(x, "O" if x else ""), "<U1"), out)
    out = np.where(kind == "CT", "T", np.where(kind == "AC", "S", np.where(kind == "RO", "A", out)))
    out = np.where(p["COMP_DATE"][h] < 0, "", out)
    # withholding and CAT follow asylum: not adjudicated after a grant, mostly denied otherwise
    follow = np.where(np.isin(out, ["G", "F", "C", "I", "P"]), np.where(r < 0.5, "M", ""), np.where(out == "D", np.where(r < 0.1, "G", "D"), out))
    follow = np.where((codes == "WCAT") & (out == "D") & (r > 0.95), "L", follow)
    return np.where(codes == "ASYL", out, follow)


def check_mixes() -> list[str]:
    """Mix entries missing from the bundled decision lookup (should be none)."""
    table = decision_table()
    return [f"{t}/{c}/{ty}" for t, mix in MIXES.items() for c, ty, _ in mix if (t, c, ty) not in table]
