"""What the sample generator is calibrated on: bundled lookups, value frequencies, missingness,
published yearly volumes, and the outcome classes of the default definitions.

Everything here is read once from ``immfacts/data`` (see the PROVENANCE.md files there) and
cached. :func:`outcome_class` is the description rule of ``docs/definitions.md`` ("Outcome
class"), applied to the bundled ``tblLookupCourtDecision``; the ground truth decodes proceedings
with it, exactly as the engine decodes them with the release's lookup.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from immfacts.data import bundled_lookup_path, lookup_codes, read_calibration_csv, read_lookup

IN_SCOPE = ("RMV", "DEP", "EXC", "AOC", "WHO")
ADMIN_CLOSURE_CODES = frozenset("ABKMY")
NON_TERMINAL = frozenset({"change_of_venue", "transfer", "bia_jurisdiction"})
OUTCOME_CLASSES = (
    "removal", "voluntary_departure", "relief", "termination", "pd_termination", "dismissal",
    "admin_closure", "change_of_venue", "transfer", "failure_to_prosecute", "other",
)
NULL_TOKENS = ("NULL", "N/A", "NA", "b6", "(b)(6)", "???")
# Tables of the real release at scale 1.0 (EOIR_DOMAIN.md §1.2, July 2026 release).
REAL_CASES = 12_662_705


def outcome_class(case_type: str, code: str, dec_type: str, description: str | None) -> str:
    """Outcome class of one decoded completion (docs/definitions.md, "Outcome class").

    ``dec_type`` is ``"C"`` for a ``DEC_CODE`` value and ``"O"`` for an ``OTHER_COMP`` value;
    ``description`` is the lookup's text for ``(case_type, code, dec_type)`` or ``None`` when
    the lookup has no such row (→ ``other``). O-type ``J`` is returned as ``bia_jurisdiction``,
    which the definitions count as ``other`` but not terminal.
    """
    code = code.strip().upper()
    if dec_type == "O":
        if code in ADMIN_CLOSURE_CODES:
            return "admin_closure"
        if code == "C":
            return "change_of_venue"
        if code == "T":
            return "transfer"
        if code == "F":
            return "failure_to_prosecute"
        if code == "J":
            return "bia_jurisdiction"
        return "other"
    d = (description or "").lower()
    if description is None:
        return "other"
    if "remove" in d or "deport" in d or "exclu" in d:
        return "removal"
    if "voluntary departure" in d:
        return "voluntary_departure"
    if "relief" in d or "grant" in d:
        return "relief"
    if "prosecutorial discretion" in d and "terminat" in d:
        return "pd_termination"
    if "terminat" in d:
        return "termination"
    if "dismiss" in d:
        return "dismissal"
    return "other"


@functools.cache
def decision_table() -> dict[tuple[str, str, str], str]:
    """``(case_type, code, C|O) → description`` from the bundled tblLookupCourtDecision."""
    rows = read_lookup(bundled_lookup_path("tblLookupCourtDecision"))
    out: dict[tuple[str, str, str], str] = {}
    for r in rows:
        key = ((r["strCaseType"] or "").upper(), (r["strDecCode"] or "").upper(), (r["strDecType"] or "").upper())
        out.setdefault(key, r["strDecDescription"] or "")
    return out


def classify(case_type: str, code: str, dec_type: str) -> str:
    """Outcome class of ``code`` in a proceeding of ``case_type`` (bundled lookup)."""
    key = (case_type.strip().upper(), code.strip().upper(), dec_type)
    return outcome_class(key[0], key[1], dec_type, decision_table().get(key))


@functools.cache
def frequencies() -> dict[tuple[str, str], list[tuple[str, int]]]:
    """``(table, column) → [(value, n), …]`` from the bundled value frequencies."""
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r in read_calibration_csv("value_frequencies.csv"):
        name = "GENDER" if r["name"] == "Sex" else r["name"]
        out.setdefault((r["table"], name), []).append((r["value"], int(r["n"])))
    return out


@functools.cache
def missingness() -> dict[tuple[str, str], float]:
    """``(table, column) → share of nulls`` from the bundled missingness table."""
    out = {}
    for r in read_calibration_csv("missingness.csv"):
        name = "GENDER" if r["name"] == "Sex" else r["name"]
        out[(r["table"], name)] = float(r["missing_pct"])
    return out


@functools.cache
def published_annual() -> dict[int, tuple[int, int, int]]:
    """``FY → (pending at end, received, completions)`` as EOIR published them."""
    return {int(r["FY"]): (int(r["Pending"]), int(r["Received"]), int(r["Completions"])) for r in read_calibration_csv("eoir_annual.csv")}


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def valid_frequencies(table: str, column: str, valid: frozenset[str] | None = None, pattern: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values and probabilities of a column, keeping only clean values.

    Drops empty values, null-like tokens, date-shaped values, values with control characters
    and values outside ``valid`` (a lookup's codes) or not matching ``pattern``; junk values
    and control characters are injected separately as counted quirks.
    """
    vals, ns = [], []
    for v, n in frequencies().get((table, column), []):
        v2 = v.strip()
        if not v2 or v2 != v or v2.upper() in {t.upper() for t in NULL_TOKENS} or re.match(r"^\d{4}-\d{2}-\d{2}", v2):
            continue
        if _CONTROL.search(v2):  # ESC, ^A … values of the real release: an ingest strips them
            continue
        if valid is not None and v2.upper() not in valid:
            continue
        if pattern is not None and not (re.search(pattern, v2.upper()) and re.fullmatch(pattern, v2.upper())):
            continue
        vals.append(v2)
        ns.append(n)
    if not vals:
        raise KeyError(f"no calibration values for {table}.{column}")
    p = np.asarray(ns, dtype=float)
    return np.asarray(vals), p / p.sum()


@dataclass(frozen=True)
class Geography:
    """Courts, their hearing locations and judges, nationalities and languages to draw from."""

    courts: np.ndarray
    court_p: np.ndarray
    hlocs_by_court: dict[str, np.ndarray]
    judges_by_court: dict[str, np.ndarray]
    nats: np.ndarray
    nat_p: np.ndarray
    lang_by_nat: dict[str, str]


# Larger courts get larger weights (hand-set, illustrative); the rest weigh 1.
_COURT_WEIGHTS = {
    "NYC": 14, "LOS": 10, "MIA": 9, "HOU": 8, "SFR": 7, "CHI": 6, "ATL": 5, "DAL": 6, "NEW": 5,
    "ELZ": 3, "BAL": 4, "ARL": 4, "WAS": 4, "SNA": 4, "PHO": 3, "DEN": 3, "BOS": 4, "ORL": 4,
    "SEA": 3, "LVG": 3, "CHL": 3, "SND": 3, "SAJ": 2, "OMA": 2, "MEM": 3, "NOL": 2, "PHI": 3,
}
# Top nationalities of the immigration courts' docket with rough shares (hand-set, illustrative;
# the calibration data has no nationality frequencies). Other codes share the remainder.
_NAT_WEIGHTS = {
    "MX": 24, "GT": 11, "HO": 10, "ES": 10, "CH": 4, "CU": 3, "VE": 4, "HA": 3, "EC": 4, "CO": 3,
    "NU": 3, "IN": 3, "DR": 1.5, "BR": 1.5, "RU": 0.7, "PE": 0.7, "PK": 0.5, "RP": 0.5, "JM": 0.5,
    "UE": 0.4, "MR": 0.3, "SG": 0.3, "AL": 0.3, "BG": 0.3, "NP": 0.3,
}
_LANG_BY_NAT = {
    "MX": "SP", "GT": "SP", "HO": "SP", "ES": "SP", "CU": "SP", "VE": "SP", "EC": "SP", "CO": "SP",
    "NU": "SP", "DR": "SP", "PE": "SP", "CH": "MAN", "HA": "CRE", "IN": "PUN", "BR": "POR",
    "RU": "RUS", "PK": "UR", "UE": "UK", "MR": "AR", "SG": "WLF", "AL": "ALB", "BG": "BEN", "NP": "NEP",
}


@functools.cache
def geography() -> Geography:
    """Courts/hearing locations/judges from the bundled lookups, with illustrative weights."""
    hloc = read_lookup(bundled_lookup_path("tblLookupHloc"))
    base_codes = lookup_codes("tblLookupBaseCity")
    by_court: dict[str, list[str]] = {}
    for r in hloc:
        b, c = r.get("HEARING_BASE_CITY"), r.get("HEARING_LOC_CODE")
        if b and c and b.upper() in base_codes and c.upper() not in {t.upper() for t in NULL_TOKENS}:
            by_court.setdefault(b, []).append(c)
    courts = np.asarray(sorted(by_court))
    w = np.asarray([_COURT_WEIGHTS.get(c, 1.0) for c in courts])
    judges = sorted(c for c in lookup_codes("tblLookupJudge") if c.isalpha() and c != "AAA" and c not in {"NA", "B6"})
    judges_by_court = {c: np.asarray(judges[i :: len(courts)]) for i, c in enumerate(courts)}
    nat_codes = sorted(c for c in lookup_codes("tblLookupAlienNat") if c.isalpha() and len(c) == 2 and c not in {"NA", "XX", "US", "UN", "IU", "ND", "NN"})
    rest = [c for c in nat_codes if c not in _NAT_WEIGHTS]
    nats = np.asarray(list(_NAT_WEIGHTS) + rest)
    p = np.asarray(list(_NAT_WEIGHTS.values()) + [4.0 / len(rest)] * len(rest))
    langs = lookup_codes("tblLanguage")
    lang_by_nat = {n: (_LANG_BY_NAT.get(n, "ENG") if _LANG_BY_NAT.get(n, "ENG") in langs else "ENG") for n in nats}
    return Geography(
        courts=courts,
        court_p=w / w.sum(),
        hlocs_by_court={c: np.asarray(sorted(v)) for c, v in by_court.items()},
        judges_by_court=judges_by_court,
        nats=nats,
        nat_p=p / p.sum(),
        lang_by_nat=lang_by_nat,
    )
