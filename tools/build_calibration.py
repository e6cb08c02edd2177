"""Regenerate src/immfacts/data/calibration/ from ../shared/data (see PROVENANCE.md there).

The sample generator is shaped on three public tables; this copies the subset it uses:
* value_frequencies.csv — ``table,name,value,n,pct`` for the generated tables' coded columns
  (deportationdata/eoir ``data/value_frequencies_by_field.csv``);
* missingness.csv — ``table,name,missing_pct`` for the generated tables
  (deportationdata/eoir ``data/missingness_by_field.csv``);
* eoir_annual.csv — ``FY,Pending,Received,Completions`` (EOIR "Pending Cases, New Cases, and
  Total Completions", FY2016–FY2026 Q2, as transcribed in the shared data).

Run: python tools/build_calibration.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "immfacts" / "data" / "calibration"
TABLES = {
    "A_TblCase", "B_TblProceeding", "tbl_Court_Appln", "tbl_Court_Motions", "tbl_RepsAssigned",
    "tbl_schedule", "D_TblAssociatedBond", "B_TblProceedCharges", "tbl_CustodyHistory", "tblAppeal",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    src = SHARED / "eoir_schema"
    with open(src / "deportationdata_value_frequencies_by_field.csv", encoding="utf-8", newline="") as fh:
        freq = [
            r for r in csv.DictReader(fh)
            if r["table"] in TABLES and not r["name"].endswith("_TO_BE_REMOVED") and not set(r["value"]) & set("\r\n")
        ]  # values with line breaks are junk and would not survive an unquoted CSV
    with open(OUT / "value_frequencies.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["table", "name", "value", "n", "pct"])
        for r in freq:
            w.writerow([r["table"], r["name"], r["value"], r["n"], r["pct"]])
    with open(src / "deportationdata_missingness_by_field.csv", encoding="utf-8", newline="") as fh:
        miss = [r for r in csv.DictReader(fh) if r["table"] in TABLES and not r["name"].endswith("_TO_BE_REMOVED")]
    with open(OUT / "missingness.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["table", "name", "missing_pct"])
        for r in miss:
            w.writerow([r["table"], r["name"], r["missing_pct"]])
    pub = SHARED / "eoir_published_stats" / "eoir_annual_pending_received_completions_fy2016_fy2026q2.csv"
    with open(pub, encoding="utf-8", newline="") as fh, open(OUT / "eoir_annual.csv", "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["FY", "Pending", "Received", "Completions"])
        for r in csv.DictReader(fh):
            w.writerow([r["FY"], r["Pending"], r["Received"], r["Completions"]])
    print(f"wrote {OUT}: {len(freq)} frequency rows, {len(miss)} missingness rows")


if __name__ == "__main__":
    main()
