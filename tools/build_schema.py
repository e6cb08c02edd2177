"""Regenerate src/immfacts/schema/tables.json from the public schema files in ../shared/data.

Sources (see src/immfacts/schema/PROVENANCE.md):
* column order and types of the main FOIA tables: marrowb/eoir table-dtypes/*.json;
* column order and types of the Lookup/ tables: deportationdata/eoir data/variable_types.csv.

Run: python tools/build_schema.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "immfacts" / "schema" / "tables.json"

# Primary and parent keys of the main tables (EOIR_DOMAIN.md §1.3).
KEYS = {
    "A_TblCase": ("IDNCASE", []),
    "A_TblCaseIdentifier": ("IDNCASEID", ["IDNCASE"]),
    "B_TblProceeding": ("IDNPROCEEDING", ["IDNCASE"]),
    "B_TblProceedCharges": ("IDNPRCDCHG", ["IDNCASE", "IDNPROCEEDING"]),
    "D_TblAssociatedBond": ("IDNASSOCBOND", ["IDNCASE", "IDNPROCEEDING"]),
    "tbl_Court_Appln": ("IDNPROCEEDINGAPPLN", ["IDNCASE", "IDNPROCEEDING"]),
    "tbl_Court_Motions": ("IDNMOTION", ["IDNCASE", "IDNPROCEEDING"]),
    "tbl_schedule": ("IDNSCHEDULE", ["IDNCASE", "IDNPROCEEDING"]),
    "tbl_RepsAssigned": ("IDNREPSASSIGNED", ["IDNCASE"]),
    "tbl_CustodyHistory": ("IDNCUSTODY", ["IDNCASE"]),
    "tblAppeal": ("idnAppeal", ["idncase", "idnProceeding"]),
    "tblAppealFedCourts": ("idnAppealFedCourts", []),
    "tblThreeMbrReferrals": ("idn3MemberReferral", []),
    "tbl_CasePriorityHistory": ("idnCasePriHistory", ["idnCase"]),
    "tbl_JuvenileHistory": ("idnJuvenileHistory", ["idnCase", "idnProceeding"]),
    "tbl_Lead_Rider": ("idnLeadRider", []),
    "tbl_EOIR_Attorney": ("EOIRAttorneyID", []),
    "tblProBono": (None, []),
}
# Columns the canonical model needs; a release missing one of these cannot be modelled.
REQUIRED = {
    "A_TblCase": ["IDNCASE", "NAT", "CASE_TYPE"],
    "B_TblProceeding": ["IDNPROCEEDING", "IDNCASE", "INPUT_DATE", "DEC_CODE", "OTHER_COMP", "COMP_DATE", "CASE_TYPE"],
    "tbl_Court_Appln": ["IDNPROCEEDINGAPPLN", "IDNPROCEEDING", "IDNCASE", "APPL_CODE", "APPL_DEC"],
}
# Columns renamed between releases: canonical name -> other names seen (VERIFY per release).
ALIASES = {
    "A_TblCase": {"GENDER": ["Sex", "SEX"]},
}
# Tables whose free-text columns are known to carry embedded tabs (EOIR_DOMAIN.md §5 #2).
FREE_TEXT = {
    "A_TblCase": ["ALIEN_CITY", "ALIEN_STATE", "UPDATED_CITY", "UPDATED_STATE", "DETENTION_LOCATION", "DCO_LOCATION"],
    "tbl_Court_Motions": ["IJ_NAME", "WU_MSG"],
    "D_TblAssociatedBond": ["BASE_CITY_NAME"],
    "tbl_schedule": ["ADJ_MSG"],
}


def col_type(t: str) -> tuple[str, str | None, str | None]:
    """(sql type, lookup file stem, regex) from a marrowb dtype string."""
    if t in ("integer", "bigint", "smallint"):
        return "BIGINT", None, None
    if t.startswith("timestamp") or t == "date":
        return "TIMESTAMP", None, None
    if t.startswith("time"):
        return "VARCHAR", None, None
    if t.endswith(".json"):
        return "VARCHAR", t[:-5], None
    if t.startswith("^"):
        return "VARCHAR", None, t
    return "VARCHAR", None, None


def main() -> None:
    dtypes_dir = SHARED / "eoir_lookups" / "marrowb_json" / "table-dtypes"
    tables = {}
    for f in sorted(dtypes_dir.glob("*.json")):
        name = f.stem
        spec = json.loads(f.read_text())
        pk, parents = KEYS.get(name, (None, []))
        cols = []
        for c, t in spec.items():
            sql, lookup, pattern = col_type(t)
            if c == pk or c in parents:
                sql = "BIGINT"
            cols.append({"name": c, "type": sql, "lookup": lookup, "pattern": pattern})
        tables[name] = {
            "file": f"{name}.csv",
            "kind": "main",
            "primary_key": pk,
            "parent_keys": parents,
            "required": REQUIRED.get(name, [pk] if pk else []),
            "aliases": ALIASES.get(name, {}),
            "free_text": FREE_TEXT.get(name, []),
            "columns": cols,
        }
    lookups: dict[str, dict] = {}
    with open(SHARED / "eoir_schema" / "deportationdata_variable_types.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            t = row["table"]
            if t in tables or t == "D_TblAssociatedBond" or not t.lower().startswith("tbl"):
                continue
            if t.startswith("tbl_") and not t.startswith("tbl_br"):
                continue
            typ = {"Numeric": "BIGINT", "Date": "TIMESTAMP", "Boolean": "VARCHAR"}.get(row["type"], "VARCHAR")
            lookups.setdefault(t, {"file": f"Lookup/{t}.csv", "kind": "lookup", "columns": []})
            lookups[t]["columns"].append({"name": row["name"], "type": typ})
    # The decision lookup is keyed by (case type, code, decision type), never by code alone.
    if "tblLookupCourtDecision" in lookups:
        lookups["tblLookupCourtDecision"]["natural_key"] = ["strCaseType", "strDecCode", "strDecType"]
    doc = {
        "about": "Schema registry of the EOIR FOIA case-data release: file names, column order, "
        "types, keys, aliases. Generated by tools/build_schema.py; see PROVENANCE.md.",
        "tables": tables,
        "lookups": dict(sorted(lookups.items())),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}: {len(tables)} tables, {len(lookups)} lookups")


if __name__ == "__main__":
    main()
