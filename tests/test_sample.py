"""The sample release generator: real layout, counted quirks, determinism, ground truth."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import immfacts
from immfacts.cli import app
from immfacts.errors import ImmfactsError
from immfacts.sample import load_truth, write_sample
from immfacts.sample.truth import compute_truth
from immfacts.schema import main_tables

FOLDER = "070826-FOIA-TRAC-FILES"
FIXTURE = Path(__file__).parent / "fixtures" / "sample" / "deflate64_sample.zip"
TABLES = ["A_TblCase", "B_TblProceeding", "tbl_Court_Appln", "tbl_Court_Motions", "tbl_RepsAssigned",
          "tbl_schedule", "D_TblAssociatedBond", "B_TblProceedCharges", "tbl_CustodyHistory", "tblAppeal"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "sample.zip"
    info = immfacts.sample(out, scale=0.001, seed=0)
    return out, info, load_truth(out)


def _lines(z: zipfile.ZipFile, name: str) -> list[bytes]:
    raw = z.read(f"{FOLDER}/{name}")
    assert raw.endswith(b"\r\n")
    return raw[:-2].split(b"\r\n")


def test_zip_has_the_real_layout_and_a_synthetic_marker(sample):
    out, info, truth = sample
    names = set(zipfile.ZipFile(out).namelist())
    for t in TABLES:
        assert f"{FOLDER}/{t}.csv" in names
    assert f"{FOLDER}/Count.txt" in names and f"{FOLDER}/README-SYNTHETIC.txt" in names
    for lk in ("tblLookupCourtDecision", "tblLookUp_Appln", "tblLookupCaseType", "tblLookupBaseCity", "tblLookupHloc",
               "tblLookupJudge", "tblLookupNationality", "tblLanguage", "tblLookupCustodyStatus"):
        assert f"{FOLDER}/Lookup/{lk}.csv" in names
    assert truth["synthetic"] is True and truth["folder"] == FOLDER and info.synthetic


def test_headers_follow_the_registry_column_order(sample):
    z = zipfile.ZipFile(sample[0])
    for t in TABLES:
        header = _lines(z, f"{t}.csv")[0].decode("latin-1").split("\t")
        assert header == main_tables()[t].column_names


def test_files_are_crlf_latin1_and_dates_use_the_release_format(sample):
    z = zipfile.ZipFile(sample[0])
    raw = z.read(f"{FOLDER}/A_TblCase.csv")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert "Ü".encode("latin-1") in raw or "Ó".encode("latin-1") in raw or "Ñ".encode("latin-1") in raw  # latin-1, not UTF-8
    assert b"\xc3" not in raw
    line = _lines(z, "B_TblProceeding.csv")[1].decode("latin-1").split("\t")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00\.000", line[3])


def test_count_txt_counts_records_as_the_truth_says(sample):
    out, _, truth = sample
    z = zipfile.ZipFile(out)
    counts = dict(line.split("\t") for line in z.read(f"{FOLDER}/Count.txt").decode().split("\r\n") if line)
    for t, d in truth["tables"].items():
        assert int(counts[t]) == d["count_txt"] == d["rows_read"] - d["quarantined"].get("continuation_line", 0)


def _consistent(fields: list[str], spec) -> bool:
    """Type consistency, re-implemented here: dates where dates go, integers where integers go."""
    for f, col in zip(fields, spec.columns, strict=True):
        v = f.strip()
        if not v or v.upper() in {"NULL", "N/A", "NA", "B6", "(B)(6)", "???"}:
            continue
        if col.type == "TIMESTAMP" and not DATE.match(v):
            return False
        if col.type == "BIGINT" and not re.fullmatch(r"-?\d+", v):
            return False
        if col.type == "VARCHAR" and DATE.match(v):
            return False
    return True


def _rescan(z: zipfile.ZipFile, table: str):
    """Independent re-scan of a written table: what a correct ingest must find."""
    spec = main_tables()[table]
    n = len(spec.columns)
    free = [i for i, c in enumerate(spec.columns) if c.name in spec.free_text]
    pk = [c.name for c in spec.columns].index(spec.primary_key)
    repaired, quarantined = Counter(), Counter()
    seen_lines, seen_keys, loaded = set(), set(), []
    lines = _lines(z, f"{table}.csv")[1:]
    for raw in lines:
        text = raw.decode("latin-1")
        if "\x00" in text:
            repaired["nul_stripped"] += 1
            text = text.replace("\x00", "")
        if re.search(r"[\x01-\x08\x0b-\x1f\x7f]", text):
            repaired["control_chars_stripped"] += 1
            text = re.sub(r"[\x01-\x08\x0b-\x1f\x7f]", "", text)
        f = text.split("\t")
        if f[pk].strip() == "":
            quarantined["empty_primary_key"] += 1
            continue
        if not f[0].strip().isdigit():
            quarantined["continuation_line"] += 1
            continue
        if len(f) < n:
            repaired["short_row_padded"] += 1
            f += [""] * (n - len(f))
        elif len(f) > n or not _consistent(f, spec):
            k = len(f) - n
            fixes = [f[:i] + [" ".join(f[i : i + k + 1])] + f[i + k + 1 :] for i in free] if k > 0 else \
                    [f[:i] + [f[i] + " " + f[i + 1]] + f[i + 2 :] + [""] for i in free]
            fixes = [g for g in fixes if _consistent(g, spec)]
            if not fixes:
                quarantined["unrepairable"] += 1
                continue
            repaired["overflow_merged" if k > 0 else "shift_fixed"] += 1
            f = fixes[0]
        if text in seen_lines:
            quarantined["duplicate_row"] += 1
            continue
        if f[pk] in seen_keys:
            quarantined["duplicate_key"] += 1
            continue
        seen_lines.add(text)
        seen_keys.add(f[pk])
        loaded.append(f)
    return len(lines), loaded, repaired, quarantined


def test_every_quirk_class_is_present_and_its_consequences_are_counted_exactly(sample):
    out, _, truth = sample
    z = zipfile.ZipFile(out)
    scans = {t: _rescan(z, t) for t in TABLES}
    case_ids = {int(f[0]) for f in scans["A_TblCase"][1]}
    case_type = {int(f[0]): f[12].strip() for f in scans["A_TblCase"][1]}
    present = Counter()
    for t in TABLES:
        read, loaded, repaired, quarantined = scans[t]
        d = truth["tables"][t]
        assert d["rows_read"] == read == d["rows_loaded"] + d["rows_quarantined"]
        assert d["rows_loaded"] == len(loaded)
        assert {k: v for k, v in d["rows_repaired"].items() if v} == dict(repaired)
        assert {k: v for k, v in d["quarantined"].items() if v} == dict(quarantined)
        spec = main_tables()[t]
        ci = next((i for i, c in enumerate(spec.columns) if c.name.lower() == "idncase"), None)
        if ci is not None and t != "A_TblCase":
            assert d["orphans"] == sum(int(f[ci]) not in case_ids for f in loaded)
        present.update(k for k, v in d["quirks"].items() if v)
    conflicts = sum(1 for f in scans["B_TblProceeding"][1] if int(f[1]) in case_type and f[28].strip() != case_type[int(f[1])])
    assert conflicts == truth["tables"]["B_TblProceeding"]["case_type_conflicts"] > 0
    for cls in immfacts.sample.DEFAULT_QUIRK_RATES:
        assert present[cls] > 0, f"quirk class {cls} missing"


def test_value_counters_match_a_rescan_of_null_tokens_and_padding(sample):
    out, _, truth = sample
    z = zipfile.ZipFile(out)
    _, loaded, _, _ = _rescan(z, "B_TblProceeding")
    cols = main_tables()["B_TblProceeding"].column_names
    tokens = Counter()
    trimmed = Counter()
    for f in loaded:
        for c, v in zip(cols, f, strict=True):
            if v and (v.strip().upper() in {"NULL", "N/A", "NA", "B6", "(B)(6)", "???"} or not v.strip()):
                tokens[c] += 1
            elif v != v.strip():
                trimmed[c] += 1
    vals = truth["tables"]["B_TblProceeding"]["values"]
    assert dict(tokens) == {c: v["null_tokens"] for c, v in vals.items() if v.get("null_tokens")}
    assert dict(trimmed) == {c: v["trimmed"] for c, v in vals.items() if v.get("trimmed")}


def test_same_seed_gives_a_byte_identical_zip_and_another_seed_does_not(tmp_path):
    a, b, c = tmp_path / "a.zip", tmp_path / "b.zip", tmp_path / "c.zip"
    write_sample(a, scale=0.0002, seed=7)
    write_sample(b, scale=0.0002, seed=7)
    write_sample(c, scale=0.0002, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert json.loads((tmp_path / "a.truth.json").read_text()) == json.loads((tmp_path / "b.truth.json").read_text())


def test_pending_share_and_published_shape(sample):
    truth = sample[2]
    m = truth["metrics"]
    # scale × EOIR's published FY2024 receipts and completions (1,783,909 and 704,949)
    assert abs(m["eoir.receipts"]["FY2024"] - 1784) < 200
    assert abs(m["eoir.completions"]["FY2024"] - 705) < 60
    assert m["eoir.pending"]["FY2024"] > m["eoir.pending"]["FY2019"] > m["eoir.pending"]["FY2016"]
    assert m["eoir.completions_by_outcome"]["FY2023"]["dismissal"] > m["eoir.completions_by_outcome"]["FY2017"].get("dismissal", 0)


def _days(*iso: str) -> np.ndarray:
    return np.asarray([-1 if d is None else (np.datetime64(d) - np.datetime64("1970-01-01")).astype(int) for d in iso], dtype=np.int64)


def test_asylum_truth_of_five_hand_made_cases():
    cases = {"IDNCASE": np.asarray([1, 2, 3, 4, 5]), "CASE_TYPE": np.asarray(["RMV", "RMV", "RMV", "RMV", "CFR"])}
    procs = {
        "IDNPROCEEDING": np.asarray([10, 20, 21, 30, 40, 50]),
        "IDNCASE": np.asarray([1, 2, 2, 3, 4, 5]),
        "INPUT_DATE": _days("2022-01-05", "2021-03-01", "2022-05-01", "2022-02-01", "2020-06-01", "2023-01-01"),
        "COMP_DATE": _days("2023-12-01", "2022-04-20", "2024-02-10", "2024-03-01", None, "2024-01-01"),
        "DEC_CODE": np.asarray(["R", "", "U", "X", "", "A"]),
        "OTHER_COMP": np.asarray(["", "C", "", "", "", ""]),
        "CASE_TYPE": np.asarray(["RMV", "RMV", "RMV", "RMV", "RMV", "CFR"]),
        "ABSENTIA": np.asarray(["N", "N", "N", "Y", "", "N"]),
    }
    apps = {
        "IDNPROCEEDINGAPPLN": np.asarray([100, 200, 201, 300, 400, 500]),
        "IDNPROCEEDING": np.asarray([10, 20, 21, 30, 40, 50]),
        "IDNCASE": np.asarray([1, 2, 2, 3, 4, 5]),
        "APPL_CODE": np.asarray(["ASYL", "ASYL", "ASYL", "ASYL", "ASYL", "ASYL"]),
        "APPL_RECD_DATE": _days("2022-03-01", "2021-06-01", "2022-06-01", "2022-03-01", "2020-07-01", "2023-01-02"),
        "APPL_DEC": np.asarray(["G", "T", "", "D", "", "D"]),
    }
    m = compute_truth(cases, procs, apps, [2024])
    # case 1 granted (decided FY2024); case 3 denied; case 5 is CFR, out of scope
    assert m["eoir.asylum.grants"]["FY2024"] == 1
    assert m["eoir.asylum.denials"]["FY2024"] == 1
    # case 2: venue change, then dismissed in FY2024 with no merits decision on its last ASYL
    assert m["eoir.asylum.closed_without_merits"]["FY2024"] == {"total": 1, "dismissal": 1, "termination": 0, "pd_termination": 0, "admin_closure": 0}
    # completed RMV asylum cases in FY2024: 1 (relief), 2 (dismissal), 3 (removal) → 2 of 3 stay
    assert m["eoir.asylum.allowed_to_stay_rate"]["FY2024"] == {"numerator": 2, "denominator": 3}
    assert m["eoir.in_absentia_orders"]["FY2024"] == m["eoir.removal_orders"]["FY2024"] == 1
    assert m["eoir.pending"]["FY2024"] == 1  # case 4, never completed


def test_deflate64_fixture_reads_back_and_matches_its_truth():
    import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

    z = zipfile.ZipFile(FIXTURE)
    assert {i.compress_type for i in z.infolist() if not i.filename.endswith("/")} == {9}
    truth = load_truth(FIXTURE)
    read = len(_lines(z, "A_TblCase.csv")) - 1
    assert read == truth["tables"]["A_TblCase"]["rows_read"]


def test_bad_arguments_are_user_errors(tmp_path):
    with pytest.raises(ImmfactsError, match="unknown quirk class"):
        write_sample(tmp_path / "x.zip", quirk_rates={"nope": 0.1})
    with pytest.raises(ImmfactsError, match="not a date"):
        write_sample(tmp_path / "x.zip", data_date="July 2026")
    res = CliRunner().invoke(app, ["sample", str(tmp_path / "y.zip"), "--compression", "lzma"])
    assert res.exit_code == 2 and "unknown compression" in res.output and "Traceback" not in res.output


def test_cli_json_says_synthetic_and_lists_tables(tmp_path):
    res = CliRunner().invoke(app, ["sample", str(tmp_path / "s.zip"), "--scale", "0.0002", "--seed", "2", "--json", "--quirk-rate", "overflow=0.001"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["synthetic"] is True and doc["tables"]["A_TblCase"] > 0
    assert load_truth(tmp_path / "s.zip")["quirk_rates"]["overflow"] == 0.001
