"""Regenerate the bundled EOIR lookup tables in src/immfacts/data/lookups/ from ../shared/data.

Each output file is written exactly as a release's ``Lookup/<name>.csv`` would be: tab-delimited,
unquoted, latin-1, CRLF line endings, a header row with the schema registry's columns for that
lookup (``immfacts.schema.lookup_tables()[name].column_names``). Values are trimmed (the release
copy written by the sample generator adds realistic padding back).

Sources (see src/immfacts/data/lookups/PROVENANCE.md):
* TRAC ``master_decision_on_proceeding.csv`` for tblLookupCourtDecision (keyed by case type and
  decision type), plus the rows listed in ``COURT_DECISION_ADDITIONS``;
* raw TRAC lookup exports (BaseCity, Hloc, Judge, Nationality, Schedule_Type) for their extra
  columns;
* deportationdata's combined lookup file for codes and descriptions of the others;
* marrowb/eoir lookup JSON where the combined file is garbled (tblDecCode, tblAdjournmentCodes).

Run: python tools/build_lookups.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from immfacts.schema import lookup_tables  # noqa: E402

SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "immfacts" / "data" / "lookups"
TRAC = SHARED / "eoir_lookups" / "trac_2015_jgutman_refugee"
MARROWB = SHARED / "eoir_lookups" / "marrowb_json" / "lookups"
COMBINED = SHARED / "eoir_schema" / "deportationdata_lookup_tables_combined.csv"

# Rows the definitions need that TRAC's 2015 file lacks. Each is attested in the flattened
# lookup of a ~2025 release (deportationdata combined file: "Dismissed by IJ", "Administrative
# Closure", "In Court Prosecutorial Discretion - Admin Closure", "Lifted Detained Status",
# "Grant-INA Withholding", "Grant-CAT Deferral", "Grant-CAT Withholding", "Terminated" in the
# asylum-only block) or in marrowb's lookup JSON; the case-type keying is ours (PROVENANCE.md).
COURT_DECISION_ADDITIONS: list[tuple[str, str, str, str]] = []
for _ct in ("RMV", "DEP", "EXC", "AOC", "WHO", "CFR", "RFR", "CSR", "REC", "NAC"):
    COURT_DECISION_ADDITIONS += [
        (_ct, "U", "C", "Dismissed by IJ"),
        (_ct, "K", "O", "Administrative Closure"),
        (_ct, "M", "O", "In Court Prosecutorial Discretion - Admin Closure"),
    ]
for _ct in ("RMV", "DEP", "EXC", "AOC", "WHO"):
    COURT_DECISION_ADDITIONS += [
        (_ct, "J", "O", "Jurisdiction Transferred to the BIA"),
        (_ct, "L", "O", "Lifted Detained Status"),
    ]
for _ct in ("AOC", "WHO"):
    COURT_DECISION_ADDITIONS += [
        (_ct, "E", "C", "Grant-INA Withholding"),
        (_ct, "H", "C", "Grant-CAT Deferral"),
        (_ct, "Z", "C", "Grant-CAT Withholding"),
        (_ct, "T", "C", "Terminated"),
    ]

# Lookups built from the combined file: name -> (code column, description column).
FROM_COMBINED = {
    "tblLookUp_Appln": ("strcode", "strdescription"),
    "tblLookupCourtAppDecisions": ("strCourtApplnDecCode", "strCourtApplnDecDesc"),
    "tblLookupCaseType": ("strCode", "strDescription"),
    "tblLookupBaseCity": ("BASE_CITY_CODE", "BASE_CITY_NAME"),
    "tblLookupHloc": ("HEARING_LOC_CODE", "HEARING_LOC_NAME"),
    "tblLookupJudge": ("JUDGE_CODE", "JUDGE_NAME"),
    "tblLookupNationality": ("NAT_CODE", "NAT_NAME"),
    "tblLookupAlienNat": ("strCode", "strDescription"),
    "tblLanguage": ("strCode", "strDescription"),
    "tblLookupCustodyStatus": ("strCode", "strDescription"),
    "tblLookupMotionType": ("strMotionCode", "strMotionDesc"),
    "tblLookupFiledBy": ("strCode", "strDescription"),
    "tbllookupCal_Type": ("strCalTypeCode", "strCalTypeDescription"),
    "tbllookupSchedule_Type": ("strCode", "strDescription"),
    "tblLookupState": ("state_code", "state_name"),
    "tbllookupCharges": ("strCode", "strCodeDescription"),
}
FROM_MARROWB = {
    "tblDecCode": ("tblDecCode.json", "strCode", "strDescription"),
    "tblAdjournmentcodes": ("tblAdjournmentCodes.json", "strcode", "strDesciption"),
}
# Raw TRAC exports: registry column -> TRAC field index (user-name columns are dropped, as the
# FOIA release does).
TRAC_RAW = {
    "tblLookupHloc": ("tblLookupHloc.csv", list(range(14)) + [14, 16, 18] + list(range(19, 30))),
    "tblLookupJudge": ("tblLookupJudge.csv", list(range(9)) + [9, 11] + list(range(13, 20))),
    "tblLookupNationality": ("tblLookupNationality.csv", [0, 1, 2, 3, 4, 6, 8, 9]),
    "tbllookupSchedule_Type": ("tbllookupSchedule_Type.csv", [0, 1, 2, 3, 5, 7, 8, 9]),
    "tblLookupBaseCity": ("tblLookupBaseCity.csv", list(range(94)) + [94, 96, 98, 99]),
}
_TS = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?$")
_CP1252 = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def clean(value: str | None) -> str:
    """One field as the release writes it: no tabs/newlines, latin-1 representable, trimmed."""
    if value is None:
        return ""
    v = re.sub(r"[\t\r\n\x00]+", " ", str(value)).translate(_CP1252).strip()
    m = _TS.match(v)
    if m:  # timestamps as YYYY-MM-DD HH:MM:SS.fff
        v = f"{m.group(1)} {m.group(2)}.{(m.group(3) or '0').ljust(3, '0')[:3]}"
    return v.encode("latin-1", "replace").decode("latin-1")


def combined() -> dict[str, list[tuple[str, str]]]:
    by: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with open(COMBINED, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            by[r["table"]].append((r["value"], r["description"]))
    return by


def trac_rows(file: str) -> list[list[str]]:
    text = (TRAC / file).read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    return [r for r in csv.reader(io.StringIO(text)) if r]


def court_decision_rows() -> list[dict[str, str]]:
    text = (TRAC / "master_decision_on_proceeding.csv").read_bytes().decode("latin-1").replace("\r", "\n")
    seen: set[tuple[str, str, str]] = set()
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        ct, code, typ = (r.get("strCaseType") or "").strip(), (r.get("strDecCode") or "").strip(), (r.get("strDecType") or "").strip()
        if len(ct) != 3 or not code or typ not in ("C", "O"):
            continue  # blank line and TRAC's annotation row
        seen.add((ct, code, typ))
        rows.append({"strCaseType": ct, "strDecCode": code, "strDecType": typ, "strDecDescription": r["strDecDescription"]})
    for ct, code, typ, desc in COURT_DECISION_ADDITIONS:
        if (ct, code, typ) not in seen:
            seen.add((ct, code, typ))
            rows.append({"strCaseType": ct, "strDecCode": code, "strDecType": typ, "strDecDescription": desc})
    rows.sort(key=lambda d: (d["strCaseType"], d["strDecCode"], d["strDecType"]))
    for i, d in enumerate(rows, 1):
        d["idnCourtDecision"] = str(i)
        d["blnActive"] = "True"
    return rows


def write(name: str, rows: list[dict[str, str]]) -> None:
    cols = lookup_tables()[name].column_names
    lines = ["\t".join(cols)] + ["\t".join(clean(r.get(c)) for c in cols) for r in rows]
    (OUT / f"{name}.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    comb = combined()
    write("tblLookupCourtDecision", court_decision_rows())
    for name, (file, code_col, desc_col) in FROM_MARROWB.items():
        data = json.loads((MARROWB / file).read_text())
        cols = lookup_tables()[name].column_names
        rows = [{cols[0]: str(i), code_col: k, desc_col: v, "blnActive": "True"} for i, (k, v) in enumerate(data.items(), 1)]
        write(name, rows)
    for name, (code_col, desc_col) in FROM_COMBINED.items():
        cols = lookup_tables()[name].column_names
        raw: dict[str, list[str]] = {}
        if name in TRAC_RAW:
            file, idx = TRAC_RAW[name]
            assert len(idx) == len(cols), (name, len(idx), len(cols))
            for r in trac_rows(file):
                raw.setdefault(r[1].strip(), [r[i] if i < len(r) else "" for i in idx])
        rows = []
        seen_codes: set[tuple[str, str]] = set()
        for i, (code, desc) in enumerate(comb[name], 1):
            if (code, desc) in seen_codes:
                continue
            seen_codes.add((code, desc))
            if code.strip() in raw:
                row = dict(zip(cols, raw.pop(code.strip()), strict=True))
                row[code_col], row[desc_col] = code, desc
            else:
                row = {cols[0]: str(10000 + i), code_col: code, desc_col: desc, "blnActive": "True"}
            rows.append(row)
        write(name, rows)


if __name__ == "__main__":
    main()
