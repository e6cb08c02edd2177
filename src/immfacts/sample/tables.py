"""The ten main tables of a sample release, built chunk by chunk from the entities.

Each table is a :class:`TableSource`: how many entity rows it has and a ``build(lo, hi, rng)``
that returns the text columns of rows ``lo:hi`` in the registry's column order. Cases,
proceedings and applications come straight from the case model; the other tables hang off
them (hearings, motions, bonds and charges per proceeding; custody history, representatives
and BIA appeals per case) with counts drawn once, up front, so that chunking never changes
the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from immfacts.sample.calib import geography
from immfacts.sample.columns import blank, coded, dates, fill, ints, text, vocabulary
from immfacts.sample.model import Entities, factorize
from immfacts.schema import main_tables

Columns = dict[str, pa.Array]

# US cities of residence (synthetic addresses: city, state, ZIP prefix); multi-word names are
# where embedded tabs land. Puerto Rico names carry latin-1 letters.
CITIES = [
    ("HOUSTON", "TX", "770"), ("LOS ANGELES", "CA", "900"), ("NEW YORK", "NY", "100"), ("MIAMI", "FL", "331"),
    ("SAN ANTONIO", "TX", "782"), ("DALLAS", "TX", "752"), ("CHICAGO", "IL", "606"), ("SAN JOSE", "CA", "951"),
    ("LAS VEGAS", "NV", "891"), ("EL PASO", "TX", "799"), ("SAN DIEGO", "CA", "921"), ("FORT WORTH", "TX", "761"),
    ("SILVER SPRING", "MD", "209"), ("NEW ORLEANS", "LA", "701"), ("SALT LAKE CITY", "UT", "841"), ("ATLANTA", "GA", "303"),
    ("PHOENIX", "AZ", "850"), ("DENVER", "CO", "802"), ("CHARLOTTE", "NC", "282"), ("BOSTON", "MA", "021"),
    ("NEWARK", "NJ", "071"), ("SEATTLE", "WA", "981"), ("ORLANDO", "FL", "328"), ("MEMPHIS", "TN", "381"),
    ("BALTIMORE", "MD", "212"), ("SAN FRANCISCO", "CA", "941"), ("LONG ISLAND CITY", "NY", "111"), ("ELIZABETH", "NJ", "072"),
]
LATIN1_CITIES = [("MAYAGÜEZ", "PR", "006"), ("CANÓVANAS", "PR", "007"), ("PEÑUELAS", "PR", "006"), ("BAYAMÓN", "PR", "009")]
ADJ_MESSAGES = ["CONTINUED FOR ATTORNEY PREPARATION", "RESET PER COURT ORDER", "INTERPRETER NOT AVAILABLE", "DHS FILE NOT AVAILABLE"]
LATIN1_MESSAGES = ["AUDIENCIA REPROGRAMADA POR EL TRIBUNAL", "INTÉRPRETE NO DISPONIBLE"]
MOTION_TYPES = (["CO", "CV", "O", "C", "U", "AC", "TP", "BD"], [0.25, 0.25, 0.1, 0.1, 0.1, 0.05, 0.05, 0.1])
BIA_DECISIONS = (["DIS", "SUS", "REM", "SAF", "TER", "ADM", "TPD", "APD", "WPD"], [0.45, 0.08, 0.15, 0.12, 0.05, 0.06, 0.03, 0.04, 0.02])


@dataclass
class TableSource:
    """A main table: its entity row count and a chunk builder."""

    name: str
    n: int
    build: Callable[[int, int, np.random.Generator], Columns]


def _ids(lo: int, hi: int, every: int) -> np.ndarray:
    """Primary keys of rows ``lo:hi``: numbered from 1, one id skipped after every ``every``."""
    i = np.arange(lo, hi, dtype=np.int64)
    return 1 + i + i // every


def _complete(name: str, cols: Columns, n: int, rng: np.random.Generator, anchor: np.ndarray, end: np.ndarray) -> Columns:
    """Fill the columns not given, in the registry's order."""
    spec = main_tables()[name]
    return {c.name: cols[c.name] if c.name in cols else fill(rng, spec, c, n, anchor, end) for c in spec.columns}


def _pick(rng, values, n, p=None) -> np.ndarray:
    values = np.asarray(values)
    return values[rng.choice(len(values), n, p=p)]


def _per_court(rng: np.random.Generator, courts: np.ndarray, table: dict[str, np.ndarray]) -> np.ndarray:
    """One of the court's options per row (hearing locations, judges), "" if it has none."""
    out = np.empty(len(courts), dtype="<U4")
    u = rng.random(len(courts))
    names, inv = factorize(courts)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(names) + 1))
    for g, c in enumerate(names.tolist()):
        sel = order[bounds[g] : bounds[g + 1]]
        opts = table.get(str(c))
        out[sel] = opts[(u[sel] * len(opts)).astype(int)] if opts is not None and len(opts) else ""
    return out


def _birth_months(rng: np.random.Generator, n: int) -> pa.Array:
    """``M/YYYY`` (1950–2014), null for 47% of cases."""
    null = rng.random(n) < 0.47
    month, year = rng.integers(1, 13, n), rng.integers(1950, 2015, n)
    return coded(vocabulary(tuple(f"{m}/{y}" for m in range(1, 13) for y in range(1950, 2015))), (month - 1) * 65 + (year - 1950), null)


def sources(ent: Entities) -> list[TableSource]:
    """All generated tables, in the order they are written."""
    c, p, a, dd = ent.cases, ent.procs, ent.apps, ent.data_date
    geo = geography()
    case_end = np.where(c["comp"] >= 0, c["comp"], dd)
    p_end = np.where(p["COMP_DATE"] >= 0, p["COMP_DATE"], dd)
    crow = p["row"]
    rng0 = np.random.default_rng([len(c["IDNCASE"]), 7])
    hloc = _per_court(rng0, p["court"], geo.hlocs_by_court)
    judge = _per_court(rng0, p["court"], geo.judges_by_court)
    nxt_court = np.roll(p["court"], -1)
    prev = np.roll(np.arange(len(crow)), 1)

    def cases(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        n = hi - lo
        s = slice(lo, hi)
        city = rng.integers(0, len(CITIES), n)
        no_addr = rng.random(n) < 0.034
        zips = city * 100 + rng.integers(0, 100, n)  # the city's ZIP prefix and two digits
        e28 = c["E_28_DATE"][s]
        cols = {
            "IDNCASE": ints(c["IDNCASE"][s]),
            "ALIEN_CITY": coded(vocabulary(tuple(x[0] for x in CITIES)), city, no_addr),
            "ALIEN_STATE": coded(vocabulary(tuple(x[1] for x in CITIES)), city, no_addr),
            "ALIEN_ZIPCODE": coded(vocabulary(tuple(f"{x[2]}{k:02d}" for x in CITIES for k in range(100))), zips, no_addr),
            "UPDATED_ZIPCODE": blank(n), "UPDATED_CITY": blank(n), "UPDATED_STATE": blank(n),
            "NAT": text(c["NAT"][s]), "LANG": text(c["LANG"][s]), "CUSTODY": text(c["CUSTODY"][s]),
            "E_28_DATE": dates(e28), "ATTY_NBR": ints(rng.integers(1000, 999999, n), e28 < 0),
            "CASE_TYPE": text(c["CASE_TYPE"][s]),
            "UPDATE_SITE": text(_per_court(rng, c["court"][s], geo.hlocs_by_court)),
            "C_ASY_TYPE": text(c["C_ASY_TYPE"][s]),
            "C_BIRTHDATE": _birth_months(rng, n),
            "DATE_OF_ENTRY": dates(np.where(rng.random(n) < 0.365, -1, c["receipt"][s] - rng.integers(0, 3650, n))),
            "UP_BOND_DATE": blank(n), "DETENTION_DATE": blank(n), "DETENTION_LOCATION": blank(n), "DCO_LOCATION": blank(n),
            "DETENTION_FACILITY_TYPE": blank(n), "RELEASE_YEAR": blank(n),
        }
        return _complete("A_TblCase", cols, n, rng, c["receipt"][s], case_end[s])

    def proceedings(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        n = hi - lo
        s = slice(lo, hi)
        r = crow[s]
        seq, kind, oth, dec = p["seq"][s], p["kind"][s], p["OTHER_COMP"][s], p["DEC_CODE"][s]
        comp = p["COMP_DATE"][s]
        later = seq > 0
        pv = prev[s]
        ct = kind == "CT"
        dtype = _pick(rng, ["O", "W", "7", "6"], n, [0.4838, 0.4310, 0.0712, 0.0140])
        dtype = np.where(dec != "", dtype, np.where((oth != "") & (rng.random(n) < 0.5), dtype, ""))
        cols = {
            "IDNPROCEEDING": ints(p["IDNPROCEEDING"][s]), "IDNCASE": ints(p["IDNCASE"][s]),
            "OSC_DATE": dates(np.where(rng.random(n) < 0.005, -1, c["receipt"][r] - rng.integers(0, 60, n))),
            "INPUT_DATE": dates(p["INPUT_DATE"][s]),
            "BASE_CITY_CODE": text(p["court"][s]), "HEARING_LOC_CODE": text(hloc[s]), "IJ_CODE": text(judge[s]),
            "TRANS_IN_DATE": dates(np.where(later, p["INPUT_DATE"][s], -1)),
            "PREV_HEARING_LOC": text(np.where(later, hloc[pv], "")), "PREV_HEARING_BASE": text(np.where(later, p["court"][pv], "")),
            "PREV_IJ_CODE": text(np.where(later, judge[pv], "")),
            "HEARING_DATE": dates(p["INPUT_DATE"][s] + np.floor(rng.random(n) * (p_end[s] - p["INPUT_DATE"][s] + 1)).astype(np.int64)),
            "DEC_TYPE": text(dtype), "DEC_CODE": text(dec),
            "DEPORTED_1": text(np.where(p["class"][s] == "removal", c["NAT"][r], "")), "DEPORTED_2": blank(n),
            "OTHER_COMP": text(oth), "COMP_DATE": dates(comp), "ABSENTIA": text(p["ABSENTIA"][s]),
            "VENUE_CHG_GRANTED": dates(np.where(ct & (oth == "C"), comp, -1)),
            "TRANSFER_TO": text(np.where(ct, nxt_court[s], "")),
            "DATE_APPEAL_DUE_STATUS": dates(np.where((comp >= 0) & ~ct, comp + 30, -1)),
            "TRANSFER_STATUS": text(np.where(ct, np.where(oth == "C", "C", "T"), "")),
            "CUSTODY": text(c["CUSTODY"][r]), "CASE_TYPE": text(p["CASE_TYPE"][s]),
            "NAT": text(c["NAT"][r]), "LANG": text(c["LANG"][r]), "SCHEDULED_HEAR_LOC": text(np.where(rng.random(n) < 0.72, "", hloc[s])),
            "AGGRAVATE_FELON": ints(np.zeros(n), rng.random(n) < 0.27),
        }
        return _complete("B_TblProceeding", cols, n, rng, p["INPUT_DATE"][s], p_end[s])

    def applications(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        s = slice(lo, hi)
        return {
            "IDNPROCEEDINGAPPLN": ints(a["IDNPROCEEDINGAPPLN"][s]), "IDNPROCEEDING": ints(a["IDNPROCEEDING"][s]),
            "IDNCASE": ints(a["IDNCASE"][s]), "APPL_CODE": text(a["APPL_CODE"][s]),
            "APPL_RECD_DATE": dates(a["APPL_RECD_DATE"][s]), "APPL_DEC": text(a["APPL_DEC"][s]),
        }

    out = [
        TableSource("A_TblCase", len(c["IDNCASE"]), cases),
        TableSource("B_TblProceeding", len(p["IDNPROCEEDING"]), proceedings),
        TableSource("tbl_Court_Appln", len(a["IDNPROCEEDINGAPPLN"]), applications),
    ]
    out += _per_proceeding_tables(ent, hloc, judge, p_end)
    out += _per_case_tables(ent, case_end)
    return out


def _children(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _per_proceeding_tables(ent: Entities, hloc: np.ndarray, judge: np.ndarray, p_end: np.ndarray) -> list[TableSource]:
    c, p = ent.cases, ent.procs
    rng = np.random.default_rng([len(p["row"]), 11])
    np_ = len(p["row"])
    crow = p["row"]
    sched = _children(1 + rng.poisson(1.6, np_))
    motions = _children(rng.poisson(0.42, np_))
    detained = np.isin(c["CUSTODY"][crow], ("D", "R"))
    bonds = _children(np.where(detained, rng.poisson(0.3, np_), 0))
    charged = np.isin(p["CASE_TYPE"], ("RMV", "DEP", "EXC"))
    charges = _children(np.where(charged, 1 + rng.binomial(2, 0.08, np_), 0))
    judge_names = {}
    from immfacts.data import bundled_lookup_path, read_lookup

    for r in read_lookup(bundled_lookup_path("tblLookupJudge")):
        if r["JUDGE_CODE"] and r["JUDGE_NAME"]:
            judge_names.setdefault(r["JUDGE_CODE"], r["JUDGE_NAME"].upper().encode("ascii", "ignore").decode())
    charge_codes = np.asarray(sorted(x for x in _charge_codes() if x[:4] in ("212A", "237A", "241A")))

    def common(par: np.ndarray, rng: np.random.Generator) -> tuple[Columns, np.ndarray, np.ndarray]:
        n = len(par)
        start, end = p["INPUT_DATE"][par], p_end[par]
        d = start + np.floor(rng.random(n) * (end - start + 1)).astype(np.int64)
        cols = {
            "IDNPROCEEDING": ints(p["IDNPROCEEDING"][par]), "IDNCASE": ints(p["IDNCASE"][par]),
            "OSC_DATE": dates(c["receipt"][crow[par]] - 1), "BASE_CITY_CODE": text(p["court"][par]),
            "HEARING_LOC_CODE": text(hloc[par]), "IJ_CODE": text(judge[par]), "INPUT_DATE": dates(d),
            "UPDATE_DATE": dates(np.minimum(d + rng.integers(0, 30, n), end)),
        }
        return cols, start, end

    def schedule(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = sched[lo:hi]
        n = hi - lo
        cols, start, end = common(par, rng)
        msg = rng.random(n) < 0.16
        cols.update({
            "IDNSCHEDULE": ints(_ids(lo, hi, 127)), "LANG": text(c["LANG"][crow[par]]),
            "INTERPRETER_CODE": blank(n),
            "ADJ_DATE": dates(start + np.floor(rng.random(n) * (end - start + 1)).astype(np.int64)),
            "ADJ_MSG": text(np.where(msg, _pick(rng, ADJ_MESSAGES, n), "")),
        })
        return _complete("tbl_schedule", cols, n, rng, start, end)

    def court_motions(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = motions[lo:hi]
        n = hi - lo
        cols, start, end = common(par, rng)
        named = rng.random(n) < 0.04
        cols.update({
            "IDNMOTION": ints(_ids(lo, hi, 113)),
            "REC_TYPE": text(_pick(rng, MOTION_TYPES[0], n, MOTION_TYPES[1])),
            "IJ_NAME": text(np.where(named, [judge_names.get(j, "") for j in judge[par]], "")),
            "WU_MSG": blank(n), "DATE_TO_BIA_UPDATE": blank(n), "E_28_RECPTFLAG": blank(n),
            "COMP_DATE": dates(np.minimum(start + rng.integers(0, 90, n), end)),
            "strDJScenario": text(np.full(n, "0")),
        })
        return _complete("tbl_Court_Motions", cols, n, rng, start, end)

    def bond(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = bonds[lo:hi]
        n = hi - lo
        cols, start, end = common(par, rng)
        cols.update({
            "IDNASSOCBOND": ints(_ids(lo, hi, 89)), "REC_TYPE": text(np.full(n, "B")),
            "BASE_CITY_NAME": text(np.where(rng.random(n) < 0.49, "IMMIGRATION COURT", "")),
            "INITIAL_BOND": ints(rng.integers(15, 250, n) * 100, rng.random(n) < 0.66),
            "NEW_BOND": ints(rng.integers(15, 250, n) * 100, rng.random(n) < 0.44),
            "COMP_DATE": dates(np.minimum(start + rng.integers(0, 60, n), end)),
        })
        return _complete("D_TblAssociatedBond", cols, n, rng, start, end)

    def proceed_charges(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = charges[lo:hi]
        n = hi - lo
        cols = {
            "IDNPRCDCHG": ints(_ids(lo, hi, 151)), "IDNCASE": ints(p["IDNCASE"][par]),
            "IDNPROCEEDING": ints(p["IDNPROCEEDING"][par]), "CHARGE": text(_pick(rng, charge_codes, n)),
        }
        return _complete("B_TblProceedCharges", cols, n, rng, p["INPUT_DATE"][par], p_end[par])

    return [
        TableSource("tbl_schedule", len(sched), schedule),
        TableSource("tbl_Court_Motions", len(motions), court_motions),
        TableSource("D_TblAssociatedBond", len(bonds), bond),
        TableSource("B_TblProceedCharges", len(charges), proceed_charges),
    ]


def _charge_codes() -> frozenset[str]:
    from immfacts.sample.columns import shipped_codes

    return shipped_codes("tbllookupCharges") or frozenset()


def _per_case_tables(ent: Entities, case_end: np.ndarray) -> list[TableSource]:
    c, p = ent.cases, ent.procs
    nc = len(c["IDNCASE"])
    rng = np.random.default_rng([nc, 13])
    has_procs = c["CASE_TYPE"] != "DDC"
    custody = _children(np.where(has_procs, rng.poisson(0.8, nc), 0))
    rep = c["E_28_DATE"] >= 0
    n_alien = np.where(rep, 1 + rng.poisson(0.6, nc), 0)
    n_ins = np.where(has_procs, rng.poisson(1.0, nc), 0)
    reps = _children(n_alien + n_ins)
    alien = _group_seq(n_alien + n_ins) < n_alien[reps]
    final = np.full(nc, -1, dtype=np.int64)
    is_final = p["kind"] == "F"
    final[p["row"][is_final]] = np.flatnonzero(is_final)
    appealable = (c["comp"] >= 0) & (final >= 0)
    fcls = np.where(final >= 0, p["class"][np.maximum(final, 0)], "")
    p_app = np.where(np.isin(fcls, ("removal", "other", "voluntary_departure")), 0.3, 0.05)
    appeals = _children((appealable & (rng.random(nc) < p_app)).astype(int))
    dd = ent.data_date

    def custody_history(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = custody[lo:hi]
        n = hi - lo
        cols = {"IDNCUSTODY": ints(_ids(lo, hi, 101)), "IDNCASE": ints(c["IDNCASE"][par])}
        return _complete("tbl_CustodyHistory", cols, n, rng, c["receipt"][par], case_end[par])

    def reps_assigned(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = reps[lo:hi]
        n = hi - lo
        al = alien[lo:hi]
        parent = _pick(rng, ["A_TblCase", "a_tblcase", "B_TblProceeding", "b_tblproceeding", "tblAppeal"], n, [0.3, 0.25, 0.2, 0.2, 0.05])
        cols = {
            "IDNREPSASSIGNED": ints(_ids(lo, hi, 97)), "IDNCASE": ints(c["IDNCASE"][par]),
            "STRATTYTYPE": text(np.where(al, "ALIEN", "INS")), "PARENT_TABLE": text(parent),
            "PARENT_IDN": ints(c["IDNCASE"][par]), "BASE_CITY_CODE": text(np.where(rng.random(n) < 0.32, "", c["court"][par])),
            "E_28_DATE": dates(np.where(al, c["E_28_DATE"][par], -1)),
        }
        return _complete("tbl_RepsAssigned", cols, n, rng, c["receipt"][par], case_end[par])

    def appeal(lo: int, hi: int, rng: np.random.Generator) -> Columns:
        par = appeals[lo:hi]
        n = hi - lo
        filed = c["comp"][par] + rng.integers(1, 31, n)
        decided = filed + rng.integers(90, 720, n)
        decided = np.where(decided <= dd, decided, -1)
        filed = np.minimum(filed, dd)
        cols = {
            "idnAppeal": ints(_ids(lo, hi, 73)), "idncase": ints(c["IDNCASE"][par]),
            "idnProceeding": ints(p["IDNPROCEEDING"][final[par]]), "datAppealFiled": dates(filed),
            "datBIADecision": dates(decided),
            "strBIADecision": text(np.where(decided >= 0, _pick(rng, BIA_DECISIONS[0], n, BIA_DECISIONS[1]), "")),
            "strCaseType": text(c["CASE_TYPE"][par]), "strLang": text(c["LANG"][par]), "strNat": text(c["NAT"][par]),
            "strCustody": text(c["CUSTODY"][par]),
        }
        return _complete("tblAppeal", cols, n, rng, filed, np.full(n, dd))

    return [
        TableSource("tbl_CustodyHistory", len(custody), custody_history),
        TableSource("tbl_RepsAssigned", len(reps), reps_assigned),
        TableSource("tblAppeal", len(appeals), appeal),
    ]


def _group_seq(counts: np.ndarray) -> np.ndarray:
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(counts.sum()) - starts
