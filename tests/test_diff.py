"""`immfacts diff`: vanished/appeared records, changed outcomes, schema drift, alerts.

The two hand-made releases are described row by row in tests/fixtures/lifecycle/pair/README.md.
"""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fixtures.lifecycle.warehouse import PAIR, build_pair, build_release
from immfacts.cli import app
from immfacts.errors import InputError, InvalidQueryError, ReleaseNotFound
from immfacts.lifecycle.differ import compare, diff, latest_diff
from immfacts.warehouse import Warehouse


@pytest.fixture
def pair(tmp_path):
    old, new = build_pair(tmp_path)
    return tmp_path, old, new


@pytest.fixture
def result(pair):
    home, old, new = pair
    return diff(old, new, home)


def test_vanished_case_is_broken_down_by_receipt_year_final_court_and_nationality(result):
    cases = result.records["cases"]
    assert (cases["old"], cases["new"], cases["vanished"], cases["appeared"]) == (5, 5, 1, 1)
    assert cases["sample_vanished"] == [2]
    # receipt = earliest INPUT_DATE (2018-10-01 → FY2019); court = final proceeding 21 (open) → SFR
    assert cases["vanished_by"] == {"fiscal_year": {"FY2019": 1}, "court": {"SFR": 1}, "nationality": {"GT": 1}}
    assert cases["appeared_by"] == {"fiscal_year": {"FY2026": 1}, "court": {"LOS": 1}, "nationality": {"SV": 1}}


def test_vanished_children_are_counted_with_their_case_and_alone(result):
    procs, apps = result.records["proceedings"], result.records["applications"]
    assert procs["sample_vanished"] == [20, 21] and procs["vanished_with_their_case"] == 2
    assert procs["vanished_by"]["court"] == {"LOS": 1, "SFR": 1}
    # 200 left with case 2; 500 vanished while its case (5) and sibling 501 stayed
    assert apps["sample_vanished"] == [200, 500] and apps["vanished_with_their_case"] == 1
    assert apps["vanished_by"]["fiscal_year"] == {"FY2019": 1, "FY2023": 1}
    assert apps["vanished_by"]["court"] == {"MIA": 1, "SFR": 1}


def test_row_counts_and_deltas_per_table(result):
    assert result.tables["B_TblProceeding"] == {"old": 6, "new": 5, "delta": -1, "delta_share": -1 / 6}
    assert result.tables["A_TblCase"]["delta"] == 0


def test_changed_outcomes_are_found_and_unchanged_records_are_not(result):
    p, a, c = (result.outcomes[k] for k in ("proceedings", "applications", "cases"))
    assert p["sample"] == [30] and p["by_field"] == {"DEC_CODE": 1, "OTHER_COMP": 0, "COMP_DATE": 1}
    assert p["transitions"] == [{"from": "none", "to": "DEC_CODE X", "n": 1}]
    assert a["sample"] == [400] and a["transitions"] == [{"from": "none", "to": "G", "n": 1}]
    assert a["by_application_type"] == {"ASYL": 1}
    assert c["sample"] == [3] and c["changed"] == 1
    assert "raw codes" in c["basis"]


def test_case_outcomes_use_the_models_classes_when_both_releases_have_one(pair):
    from immfacts.model import build_model

    home, old, new = pair
    for rid in (old, new):
        build_model(home / "releases" / rid)
    d = diff(old, new, home, save=False)
    assert d.outcomes["cases"]["transitions"] == [{"from": "pending", "to": "removal", "n": 1}]
    assert d.outcomes["proceedings"]["class_transitions"] == [{"from": "pending", "to": "removal", "n": 1}]
    assert "model" in d.outcomes["cases"]["basis"] and not d.notes


def test_rename_is_read_from_the_ingest_report_headers(result):
    assert result.schema["columns"] == {"A_TblCase": {"added": [], "removed": [], "renamed": [{"from": "GENDER", "to": "Sex"}]}}
    assert result.schema["basis"]["new"] == "ingest report headers"


def test_rename_is_read_from_the_release_source_when_the_report_lacks_headers(tmp_path):
    build_release(tmp_path, "a", PAIR / "old", "2026-07-08", header_in_report=False, source=str(PAIR / "old"))
    build_release(tmp_path, "b", PAIR / "new", "2026-08-06", header_in_report=False, source=str(PAIR / "new"))
    d = diff("a", "b", tmp_path, save=False)
    assert d.schema["columns"]["A_TblCase"]["renamed"] == [{"from": "GENDER", "to": "Sex"}]
    assert d.schema["basis"]["old"] == "release source headers"


def test_without_any_header_a_rename_is_not_claimed(tmp_path):
    build_release(tmp_path, "a", PAIR / "old", "2026-07-08", header_in_report=False)
    build_release(tmp_path, "b", PAIR / "new", "2026-08-06", header_in_report=False)
    d = diff("a", "b", tmp_path, save=False)
    assert d.schema["columns"] == {}


def test_added_and_removed_columns_and_tables(pair):
    home, old, new = pair
    rel = home / "releases" / new
    t = pq.read_table(rel / "tables" / "A_TblCase.parquet")
    pq.write_table(t.append_column("NEW_COL", pa.array(["x"] * t.num_rows)).drop(["NAT"]), rel / "tables" / "A_TblCase.parquet")
    report = json.loads((rel / "report.json").read_text())
    report["tables"]["A_TblCase"]["header"] = ["IDNCASE", "CASE_TYPE", "Sex", "NEW_COL"]
    (rel / "report.json").write_text(json.dumps(report))
    (rel / "tables" / "tbl_Court_Appln.parquet").unlink()
    del report["tables"]["tbl_Court_Appln"]
    (rel / "report.json").write_text(json.dumps(report))
    d = diff(old, new, home, save=False)
    assert d.schema["columns"]["A_TblCase"]["added"] == ["NEW_COL"]
    assert d.schema["columns"]["A_TblCase"]["removed"] == ["NAT"]
    assert d.schema["tables_removed"] == ["tbl_Court_Appln"]
    # a column missing from NEW is NULL there, not a crash: every case "lost" its nationality
    assert d.records["cases"]["appeared_by"]["nationality"] == {"unknown": 1}
    assert d.records["applications"]["new"] == 0 and d.tables["tbl_Court_Appln"]["new"] is None


def test_lookup_codes_added_removed_and_redefined_but_not_bookkeeping(result):
    lk = result.schema["lookups"]["tables"]
    nat = lk["tblLookupAlienNat"]
    assert nat["added_codes"] == [{"strCode": "SV"}] and nat["removed_codes"] == [{"strCode": "CH"}]
    assert nat["redefined_codes"] == [
        {"code": {"strCode": "GT"}, "changes": {"strDescription": {"old": "GUATEMALA", "new": "GUATEMALA (REPUBLIC OF)"}}}
    ]
    dec = lk["tblLookupCourtDecision"]
    assert dec["added_codes"] == [{"strCaseType": "RMV", "strDecCode": "Q", "strDecType": "C"}]
    assert dec["redefined"] == 0  # only datModifiedOn of X changed


def test_vanished_shares_above_thresholds_raise_alerts(result):
    assert result.status == "alert" and result.exit_code == 3
    assert len(result.alerts) == 3 and "1 of 5 cases" in result.alerts[0]


def test_thresholds_are_configurable(pair):
    home, old, new = pair
    d = diff(old, new, home, thresholds={"cases": 0.25, "proceedings": 0.5, "applications": 0.5}, save=False)
    assert d.alerts == [] and d.exit_code == 0
    d = diff(old, new, home, thresholds={"cases": 0.25, "proceedings": 0.5, "applications": 0.3}, save=False)
    assert len(d.alerts) == 1 and "applications" in d.alerts[0]


@pytest.mark.parametrize("bad", [{"casez": 0.1}, {"cases": 2.0}, {"cases": -0.1}])
def test_bad_thresholds_are_user_errors(pair, bad):
    home, old, new = pair
    with pytest.raises(InvalidQueryError):
        diff(old, new, home, thresholds=bad, save=False)


def test_a_release_compared_with_itself_has_no_changes(pair):
    home, old, _ = pair
    d = diff(old, old, home, save=False)
    assert all(r["vanished"] == r["appeared"] == 0 for r in d.records.values())
    assert all(o["changed"] == 0 for o in d.outcomes.values())
    assert d.schema["columns"] == {} and d.schema["lookups"]["tables"] == {} and d.alerts == []


def test_unknown_release_and_missing_zip_are_clear_errors(pair):
    home, old, _ = pair
    with pytest.raises(ReleaseNotFound):
        diff(old, "1999-01", home)
    with pytest.raises(InputError, match="no such file"):
        diff(old, "nowhere/release.zip", home)


def test_release_folders_can_be_compared_across_warehouses(pair, tmp_path_factory):
    home, old, new = pair
    other = tmp_path_factory.mktemp("other")
    shutil.copytree(home / "releases" / new, other / "copy")
    d = diff(str(home / "releases" / old), str(other / "copy"), home, save=False)
    assert d.records["cases"]["vanished"] == 1 and d.new["id"] == new


def test_the_diff_is_saved_and_latest_diff_returns_the_newest(pair):
    home, old, new = pair
    assert latest_diff(home) is None
    first = diff(old, new, home)
    assert first.saved_to == str(home / "diffs" / f"{old}__{new}.json")
    second = diff(new, old, home)
    latest = latest_diff(Warehouse(home))
    assert latest["old"]["id"] == new and latest["computed_at"] >= first.computed_at
    assert latest == json.loads((home / "diffs" / f"{new}__{old}.json").read_text())
    assert second.notes and "reversed" in second.notes[-1]


def test_markdown_report_names_alerts_renames_and_synthetic(result):
    md = result.to_markdown()
    assert "SYNTHETIC" in md and "**ALERT**" in md
    assert "renamed GENDER → Sex" in md and "RMV/Q/C" in md
    assert "| B_TblProceeding | 6 | 5 | -1 |" in md


def test_cli_diff_exits_3_on_alert_and_0_below_the_thresholds(pair):
    home, old, new = pair
    runner = CliRunner()
    r = runner.invoke(app, ["diff", old, new, "-w", str(home), "--json"])
    assert r.exit_code == 3
    body = json.loads(r.stdout)
    assert body["synthetic"] is True and body["status"] == "alert"
    r = runner.invoke(
        app,
        ["diff", old, new, "-w", str(home), "--md", "--max-vanished-cases", "25%",
         "--max-vanished-proceedings", "50%", "--max-vanished-applications", "0.5"],
    )
    assert r.exit_code == 0 and r.stdout.startswith("# Release diff")


def test_cli_diff_unknown_release_is_an_error_without_traceback(pair):
    home, old, _ = pair
    r = CliRunner().invoke(app, ["diff", old, "nope", "-w", str(home)])
    assert r.exit_code == 2 and "Traceback" not in r.output and "not in the warehouse" in r.output


def _write_keys(home, rid, cases, procs, apps):
    d = home / "releases" / rid / "tables"
    d.mkdir(parents=True)
    pq.write_table(pa.table({"IDNCASE": pa.array(sorted(cases), pa.int64())}), d / "A_TblCase.parquet")
    pq.write_table(
        pa.table({"IDNPROCEEDING": pa.array(sorted(procs), pa.int64()), "IDNCASE": pa.array([p % 7 for p in sorted(procs)], pa.int64())}),
        d / "B_TblProceeding.parquet",
    )
    pq.write_table(pa.table({"IDNPROCEEDINGAPPLN": pa.array(sorted(apps), pa.int64())}), d / "tbl_Court_Appln.parquet")
    (home / "releases" / rid / "release.json").write_text(json.dumps({"id": rid, "data_date": rid}))


ids = st.sets(st.integers(min_value=1, max_value=60), max_size=25)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.tuples(ids, ids, ids), b=st.tuples(ids, ids, ids))
def test_old_plus_appeared_minus_vanished_is_new(tmp_path_factory, a, b):
    home = tmp_path_factory.mktemp("h")
    _write_keys(home, "2020-01-01", *a)
    _write_keys(home, "2020-02-01", *b)
    w = Warehouse(home)
    d = compare(w.release("2020-01-01"), w.release("2020-02-01"))
    for (entity, rec), old_ids, new_ids in zip(d.records.items(), a, b, strict=True):
        assert rec["old"] - rec["vanished"] + rec["appeared"] == rec["new"], entity
        assert rec["vanished"] == len(old_ids - new_ids) and rec["appeared"] == len(new_ids - old_ids)
        assert sum(rec["vanished_by"]["fiscal_year"].values()) == rec["vanished"]


def test_a_proceeding_moved_to_another_case_changes_the_case_it_left(pair):
    home, old, new = pair
    path = home / "releases" / new / "tables" / "B_TblProceeding.parquet"
    t = pq.read_table(path).to_pandas()
    t.loc[t.IDNPROCEEDING == 50, "IDNCASE"] = 4  # case 5 loses its only (relief) proceeding
    pq.write_table(pa.Table.from_pandas(t, preserve_index=False), path)
    d = diff(old, new, home, save=False)
    assert d.outcomes["cases"]["sample"] == [3, 5]
    assert {"from": "DEC_CODE R", "to": "none", "n": 1} in d.outcomes["cases"]["transitions"]
    assert d.outcomes["proceedings"]["sample"] == [30]  # its own outcome did not change


def test_zip_paths_are_ingested_into_a_temporary_warehouse_that_is_removed(tmp_path, monkeypatch):
    from immfacts.lifecycle import differ

    def fake_ingest(path, home, progress):  # stands in for immfacts.ingest (see test_lifecycle_drift.py)
        src = PAIR / ("old" if path.name == "old.zip" else "new")
        build_release(home, path.stem, src, "2026-07-08" if path.name == "old.zip" else "2026-08-06")

    monkeypatch.setattr(differ, "_ingest_into", fake_ingest)
    for name in ("old.zip", "new.zip"):
        (tmp_path / name).write_bytes(b"PK")
    home = tmp_path / "wh"
    d = diff(tmp_path / "old.zip", str(tmp_path / "new.zip"), home)
    assert d.records["cases"]["sample_vanished"] == [2] and (d.old["id"], d.new["id"]) == ("old", "new")
    assert list((home / "tmp").iterdir()) == []
    assert latest_diff(home)["records"]["cases"]["vanished"] == 1


def test_recency_gap_between_last_modified_and_latest_completion_is_noted(tmp_path):
    build_release(tmp_path, "a", PAIR / "old", "2026-07-08", last_modified="Wed, 08 Jul 2026 12:00:00 GMT")
    build_release(tmp_path, "b", PAIR / "new", "2026-08-06", last_modified="Thu, 06 Aug 2026 12:00:00 GMT")
    d = diff("a", "b", tmp_path, save=False)
    assert d.recency["new"] == {"latest_completion": "2026-07-20", "last_modified": "Thu, 06 Aug 2026 12:00:00 GMT", "gap_days": 17}
    assert d.recency["old"]["latest_completion"] == "2024-01-01"
    assert any(n.startswith("NEW: the latest completion (2026-07-20) is 17 days") for n in d.notes)


def test_a_lookup_that_fell_back_on_the_bundled_copy_says_so(pair):
    home, old, new = pair
    for rid, source in ((old, "release"), (new, "bundled")):
        path = home / "releases" / rid / "report.json"
        report = json.loads(path.read_text())
        report["lookups"] = {"tblLookupAlienNat": {"source": source, "rows": 4}, "tblLookupCourtDecision": {"source": "release", "rows": 4}}
        path.write_text(json.dumps(report))
    d = diff(old, new, home, save=False)
    lk = d.schema["lookups"]["tables"]
    assert lk["tblLookupAlienNat"]["source"] == {"old": "release", "new": "bundled"}
    assert "source" not in lk["tblLookupCourtDecision"]
    assert "source release → bundled" in d.to_markdown()
