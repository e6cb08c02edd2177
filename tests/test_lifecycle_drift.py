"""The sample generator's drift option, and the release lifecycle end to end on it.

One small sample (scale 0.0001, ~1,250 cases) is drifted once per module. The first tests
re-read both zips line by line: the next release changes exactly what its drift truth says.
Then ``immfacts update`` fetches both releases from a local server and ingests them for real,
and ``immfacts diff`` of the two must equal the drift truth exactly; exports of the ingested
release round-trip.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import immfacts
from fixtures.lifecycle.release_server import serve
from immfacts.cli import app
from immfacts.errors import InputError
from immfacts.lifecycle import diff, export, releases, update
from immfacts.lifecycle.rawrelease import layout, open_zip
from immfacts.sample.drift import add_months, write_drift_release

SCALE, SEED = 0.0001, 2


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    d = tmp_path_factory.mktemp("drift")
    immfacts.sample(d / "old.zip", scale=SCALE, seed=SEED)
    drift = write_drift_release(d / "old.zip", d / "new.zip", seed=5)
    return d, drift


def _table_lines(path, table):
    with open_zip(path) as z:
        lay = layout(z)
        lines = z.read(lay.tables[table]).split(b"\r\n")
    return lines[0], [ln for ln in lines[1:] if ln]


def _ids(lines, col=0):
    out = []
    for ln in lines:
        f = ln.split(b"\t")
        if len(f) > col and f[col].isdigit():
            out.append(int(f[col]))
    return out


def test_the_new_release_is_a_month_later_and_still_synthetic(released):
    d, drift = released
    with open_zip(d / "new.zip") as z:
        lay = layout(z)
        names = z.namelist()
    assert lay.folder == "080826-FOIA-TRAC-FILES" and drift["new"]["data_date"] == "2026-08-08"
    assert any(n.endswith("README-SYNTHETIC.txt") for n in names)
    assert drift["synthetic"] is True
    assert json.loads((d / "new.drift.json").read_text()) == json.loads(json.dumps(drift, default=str))


def test_vanished_cases_leave_with_every_row_and_added_ones_appear(released):
    d, drift = released
    rec = drift["records"]
    n_cases = json.loads((d / "old.truth.json").read_text())["tables"]["A_TblCase"]["rows_loaded"]
    assert len(rec["cases"]["vanished"]) == round(0.002 * n_cases)  # the default share
    assert len(rec["cases"]["appeared"]) == round(0.003 * n_cases)
    _, old_cases = _table_lines(d / "old.zip", "A_TblCase")
    _, new_cases = _table_lines(d / "new.zip", "A_TblCase")
    gone, added = set(rec["cases"]["vanished"]), set(rec["cases"]["appeared"])
    assert gone and added
    assert gone <= set(_ids(old_cases)) and not gone & set(_ids(new_cases))
    assert added <= set(_ids(new_cases)) and not added & set(_ids(old_cases))
    for table, col in (("B_TblProceeding", 1), ("tbl_Court_Appln", 2), ("tbl_schedule", 2)):
        _, lines = _table_lines(d / "new.zip", table)
        assert not gone & set(_ids(lines, col)), table
    _, new_apps = _table_lines(d / "new.zip", "tbl_Court_Appln")
    assert not set(rec["applications"]["vanished"]) & set(_ids(new_apps))
    assert rec["applications"]["vanished_with_their_case"] < len(rec["applications"]["vanished"])  # some left alone


def test_only_the_planned_lines_differ_and_quirky_lines_survive_byte_for_byte(released):
    d, drift = released
    for table in ("A_TblCase", "B_TblProceeding", "tbl_Court_Appln", "tbl_schedule", "tbl_RepsAssigned"):
        _, old = _table_lines(d / "old.zip", table)
        _, new = _table_lines(d / "new.zip", table)
        removed = Counter(old) - Counter(new)
        added = Counter(new) - Counter(old)
        t = drift["tables"][table]
        changed = {"B_TblProceeding": len(drift["outcomes"]["proceedings"]["changed"]),
                   "tbl_Court_Appln": len(drift["outcomes"]["applications"]["changed"])}.get(table, 0)
        assert sum(removed.values()) == t["removed"] + changed, table
        assert sum(added.values()) == t["added"] + changed, table
        for line in removed:  # nothing quirky was removed or edited
            assert b"\x00" not in line and b"  " not in line and b"N/A" not in line.split(b"\t")


def test_changed_outcomes_are_removal_orders_dated_in_the_new_month(released):
    d, drift = released
    header, lines = _table_lines(d / "new.zip", "B_TblProceeding")
    cols = header.decode().split("\t")
    dec, comp = cols.index("DEC_CODE"), cols.index("COMP_DATE")
    changed = set(drift["outcomes"]["proceedings"]["changed"])
    assert changed
    for ln in lines:
        f = ln.decode("latin-1").split("\t")
        if f[0].isdigit() and int(f[0]) in changed:
            day = dt.date.fromisoformat(f[comp][:10])
            assert f[dec] == "X" and dt.date(2026, 7, 8) < day <= dt.date(2026, 8, 8)
    assert drift["outcomes"]["cases"]["transitions"] == [{"from": "pending", "to": "removal", "n": len(drift["outcomes"]["cases"]["changed"])}]


def test_schema_drift_rename_and_lookup_codes(released):
    d, drift = released
    header, _ = _table_lines(d / "new.zip", "A_TblCase")
    old_header, _ = _table_lines(d / "old.zip", "A_TblCase")
    assert b"\tSex\t" in header and b"\tGENDER\t" in old_header
    assert header.replace(b"\tSex\t", b"\tGENDER\t") == old_header
    assert drift["schema"]["columns"] == {"A_TblCase": {"added": [], "removed": [], "renamed": [{"from": "GENDER", "to": "Sex"}]}}
    lk = drift["schema"]["lookups"]
    code = lk["tblLookupCourtDecision"]["added"][0]
    assert code["strCaseType"] == "RMV" and code["strDecType"] == "C"
    assert lk["tblLookupAlienNat"]["redefined"] == [{"strCode": "TU"}]
    with open_zip(d / "new.zip") as z:
        nat = z.read(layout(z).lookups["tblLookupAlienNat"]).decode("latin-1")
    assert "\tTU\tTURKIYE\t" in nat and "TURKEY" not in nat


def test_count_txt_and_truth_row_counts_move_with_the_rows(released):
    d, drift = released

    def counts(path):
        with open_zip(path) as z:
            text = z.read(layout(z).count_txt).decode()
        return {a: int(b) for a, b in (ln.split("\t") for ln in text.split("\r\n") if ln)}

    old, new = counts(d / "old.zip"), counts(d / "new.zip")
    old_truth = json.loads((d / "old.truth.json").read_text())
    new_truth = json.loads((d / "new.truth.json").read_text())
    for table, t in drift["tables"].items():
        assert new[table] == old[table] - t["removed"] + t["added"]
        assert new_truth["tables"][table]["rows_loaded"] == old_truth["tables"][table]["rows_loaded"] - t["removed"] + t["added"]
        assert new_truth["tables"][table]["count_txt"] == new[table]
        assert new_truth["tables"][table]["quarantined"] == old_truth["tables"][table]["quarantined"]
    assert new_truth["data_date"] == "2026-08-08" and new_truth["folder"] == "080826-FOIA-TRAC-FILES"


def test_updated_metrics_equal_the_truth_of_the_drifted_entities(released):
    """Recompute every metric from the generator's entities with the drift applied."""
    from immfacts.sample import _case_type_conflicts, model, volumes
    from immfacts.sample.quirks import quirk_counts
    from immfacts.sample.truth import compute_truth
    from immfacts.schema import main_tables

    d, drift = released
    old_truth = json.loads((d / "old.truth.json").read_text())
    ent = model.build_entities(SEED, SCALE, dt.date(2026, 7, 8))
    k = quirk_counts(main_tables()["B_TblProceeding"], len(ent.procs["row"]), old_truth["quirk_rates"]).get("case_type_conflict", 0)
    _case_type_conflicts(ent, k, SEED)
    c, p, a = ({k: np.asarray(v).copy() for k, v in f.items()} for f in (ent.cases, ent.procs, ent.apps))
    gone = np.asarray(drift["records"]["cases"]["vanished"])
    keep_c, keep_p = ~np.isin(c["IDNCASE"], gone), ~np.isin(p["IDNCASE"], gone)
    keep_a = ~np.isin(a["IDNCASE"], gone) & ~np.isin(a["IDNPROCEEDINGAPPLN"], drift["records"]["applications"]["vanished"])
    new_p = _read_core(d / "new.zip")
    changed = np.isin(p["IDNPROCEEDING"], drift["outcomes"]["proceedings"]["changed"])
    p["DEC_CODE"] = np.where(changed, "X", p["DEC_CODE"])
    p["COMP_DATE"] = np.where(changed, [new_p["comp"].get(i, -1) for i in p["IDNPROCEEDING"]], p["COMP_DATE"])
    a["APPL_DEC"] = np.where(np.isin(a["IDNPROCEEDINGAPPLN"], drift["outcomes"]["applications"]["changed"]), "D", a["APPL_DEC"])
    cols_c, cols_p, cols_a = (["IDNCASE", "CASE_TYPE"],
                              ["IDNPROCEEDING", "IDNCASE", "INPUT_DATE", "COMP_DATE", "DEC_CODE", "OTHER_COMP", "CASE_TYPE", "ABSENTIA"],
                              ["IDNPROCEEDINGAPPLN", "IDNPROCEEDING", "IDNCASE", "APPL_CODE", "APPL_RECD_DATE", "APPL_DEC"])
    cases = {k: np.concatenate([c[k][keep_c], new_p["added_cases"][k]]) for k in cols_c}
    procs = {k: np.concatenate([p[k][keep_p], new_p["added_procs"][k]]) for k in cols_p}
    apps = {k: np.concatenate([a[k][keep_a], new_p["added_apps"][k]]) for k in cols_a}
    fys = list(range(volumes.FIRST_FY, 2027))
    expected = compute_truth(cases, procs, apps, fys)
    got = json.loads((d / "new.truth.json").read_text())["metrics"]
    assert got == json.loads(json.dumps(expected))
    assert got != old_truth["metrics"]


def _read_core(path):
    """Completion days of proceedings and the added records, from the new zip."""
    epoch = dt.date(1970, 1, 1)
    day = lambda v: (dt.date.fromisoformat(v[:10]) - epoch).days if v else -1  # noqa: E731
    drift = json.loads(path.with_name("new.drift.json").read_text())
    out = {"comp": {}}
    rows = {}
    for table in ("A_TblCase", "B_TblProceeding", "tbl_Court_Appln"):
        header, lines = _table_lines(path, table)
        names = header.decode().split("\t")
        rows[table] = [dict(zip(names, ln.decode("latin-1").split("\t"), strict=False)) for ln in lines]
    for r in rows["B_TblProceeding"]:
        if r["IDNPROCEEDING"].isdigit() and r.get("COMP_DATE"):
            out["comp"][int(r["IDNPROCEEDING"])] = day(r["COMP_DATE"])
    new_c, new_p, new_a = (set(drift["records"][k]["appeared"]) for k in ("cases", "proceedings", "applications"))
    c = [r for r in rows["A_TblCase"] if r["IDNCASE"].isdigit() and int(r["IDNCASE"]) in new_c]
    p = [r for r in rows["B_TblProceeding"] if r["IDNPROCEEDING"].isdigit() and int(r["IDNPROCEEDING"]) in new_p]
    a = [r for r in rows["tbl_Court_Appln"] if r["IDNPROCEEDINGAPPLN"].isdigit() and int(r["IDNPROCEEDINGAPPLN"]) in new_a]
    out["added_cases"] = {"IDNCASE": np.asarray([int(r["IDNCASE"]) for r in c], np.int64), "CASE_TYPE": np.asarray([r["CASE_TYPE"] for r in c], str)}
    out["added_procs"] = {
        "IDNPROCEEDING": np.asarray([int(r["IDNPROCEEDING"]) for r in p], np.int64), "IDNCASE": np.asarray([int(r["IDNCASE"]) for r in p], np.int64),
        "INPUT_DATE": np.asarray([day(r["INPUT_DATE"]) for r in p], np.int64), "COMP_DATE": np.asarray([day(r["COMP_DATE"]) for r in p], np.int64),
        "DEC_CODE": np.asarray([r["DEC_CODE"] for r in p], str), "OTHER_COMP": np.asarray([r["OTHER_COMP"] for r in p], str),
        "CASE_TYPE": np.asarray([r["CASE_TYPE"] for r in p], str), "ABSENTIA": np.asarray([r["ABSENTIA"] for r in p], str),
    }
    out["added_apps"] = {
        "IDNPROCEEDINGAPPLN": np.asarray([int(r["IDNPROCEEDINGAPPLN"]) for r in a], np.int64),
        "IDNPROCEEDING": np.asarray([int(r["IDNPROCEEDING"]) for r in a], np.int64), "IDNCASE": np.asarray([int(r["IDNCASE"]) for r in a], np.int64),
        "APPL_CODE": np.asarray([r["APPL_CODE"] for r in a], str), "APPL_RECD_DATE": np.asarray([day(r["APPL_RECD_DATE"]) for r in a], np.int64),
        "APPL_DEC": np.asarray([r["APPL_DEC"] for r in a], str),
    }
    return out


def test_bad_options_and_missing_zip_are_user_errors(released, tmp_path):
    d, _ = released
    with pytest.raises(InputError, match="unknown drift option"):
        write_drift_release(d / "old.zip", tmp_path / "x.zip", cases_vanishd=0.1)
    with pytest.raises(InputError, match="outside"):
        write_drift_release(d / "old.zip", tmp_path / "x.zip", cases_vanished=0.9)
    with pytest.raises(InputError, match="no such release zip"):
        write_drift_release(tmp_path / "missing.zip", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_options_turn_changes_off(released, tmp_path):
    d, _ = released
    drift = write_drift_release(d / "old.zip", tmp_path / "quiet.zip", cases_vanished=0, applications_vanished=0,
                                outcomes_changed=0, cases_added=0, rename=False, lookup_code_added=False,
                                lookup_code_redefined=False, months=2)
    assert all(not r["vanished"] and not r["appeared"] for r in drift["records"].values())
    assert drift["schema"] == {"columns": {}, "lookups": {}} and drift["new"]["data_date"] == "2026-09-08"
    for table in ("A_TblCase", "tbl_schedule"):
        assert _table_lines(tmp_path / "quiet.zip", table) == _table_lines(d / "old.zip", table)


@pytest.mark.parametrize(("d", "m", "want"), [((2026, 1, 31), 1, (2026, 2, 28)), ((2026, 12, 15), 1, (2027, 1, 15)), ((2024, 1, 31), 1, (2024, 2, 29))])
def test_months_are_calendar_months_with_the_day_clipped(d, m, want):
    assert add_months(dt.date(*d), m) == dt.date(*want)


def test_cli_sample_drift_from_is_deterministic_for_a_seed(released, tmp_path):
    d, drift = released
    r = CliRunner().invoke(app, ["sample", str(tmp_path / "next.zip"), "--drift-from", str(d / "old.zip"), "--seed", "5", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["records"] == json.loads(json.dumps(drift["records"]))
    assert (tmp_path / "next.zip").read_bytes() == (d / "new.zip").read_bytes()
    assert (tmp_path / "next.truth.json").read_text() == (d / "new.truth.json").read_text()


# --- end to end: update (local server) → ingest → diff → export ---------------------------------
LM_OLD = "Wed, 08 Jul 2026 12:00:00 GMT"
LM_NEW = "Sat, 08 Aug 2026 12:00:00 GMT"


@pytest.fixture(scope="module")
def lifecycle(released):
    d, drift = released
    home = d / "wh"
    with serve() as server:
        server.publish((d / "old.zip").read_bytes(), '"old"', LM_OLD)
        first = update(server.url, home, min_bytes="10KB")
        server.publish((d / "new.zip").read_bytes(), '"new"', LM_NEW)
        second = update(server.url, home, min_bytes="10KB")
        again = update(server.url, home, min_bytes="10KB")
        gets = len(server.gets())
    return {"dir": d, "home": home, "drift": drift, "updates": (first, second, again), "gets": gets}


def test_update_ingests_each_new_release_once_with_its_last_modified(lifecycle):
    first, second, again = lifecycle["updates"]
    assert (first.status, second.status, again.status) == ("updated", "updated", "unchanged")
    assert lifecycle["gets"] == 2
    rels = releases(lifecycle["home"])
    assert [r["data_date"] for r in rels] == ["2026-08-08", "2026-07-08"]
    assert [r["last_modified"] for r in rels] == [LM_NEW, LM_OLD]
    assert all(r["synthetic"] and r["ingest"]["status"] == "ok" for r in rels)
    assert second.diff["status"] == "alert" and second.diff["old"] == first.release_id


def _check_against_truth(d, truth):
    for entity, want in truth["records"].items():
        got = d.records[entity]
        for kind in ("vanished", "appeared"):
            ids = sorted(want[kind])
            assert got[kind] == len(ids), (entity, kind)
            assert got[f"sample_{kind}"] == ids[:20], (entity, kind)
            assert got[f"{kind}_by"] == want[f"{kind}_by"], (entity, kind)
            if f"{kind}_with_their_case" in want:
                assert got[f"{kind}_with_their_case"] == want[f"{kind}_with_their_case"], (entity, kind)
    for entity, want in truth["outcomes"].items():
        got = d.outcomes[entity]
        assert got["changed"] == len(want["changed"]), entity
        assert got["sample"] == sorted(want["changed"])[:20], entity
        assert got["transitions"] == want["transitions"], entity
        for key in ("by_field", "by_application_type"):
            if key in want:
                assert got[key] == want[key], entity
    assert d.schema["columns"] == truth["schema"]["columns"]
    lookups = d.schema["lookups"]["tables"]
    assert set(lookups) == set(truth["schema"]["lookups"])
    for name, want in truth["schema"]["lookups"].items():
        got = lookups[name]
        assert got["added_codes"] == want["added"] and got["removed_codes"] == want["removed"]
        assert [r["code"] for r in got["redefined_codes"]] == want["redefined"]
    for table, want in truth["tables"].items():
        assert (d.tables[table]["old"], d.tables[table]["new"]) == (want["old"], want["new"]), table


def test_diff_of_the_two_ingested_releases_equals_the_drift_truth(lifecycle):
    rels = releases(lifecycle["home"])
    d = diff(rels[1]["id"], rels[0]["id"], lifecycle["home"], save=False)
    _check_against_truth(d, lifecycle["drift"])
    assert "model" in d.outcomes["cases"]["basis"]
    assert {a.split(" of ")[1].split(" (")[0].split()[-1] for a in d.alerts} == {"cases", "proceedings", "applications"}


def test_cli_diff_on_ingested_releases_alerts_with_exit_status_3(lifecycle):
    rels = releases(lifecycle["home"])
    r = CliRunner().invoke(app, ["diff", rels[1]["id"], rels[0]["id"], "-w", str(lifecycle["home"]), "--json", "--no-save"])
    assert r.exit_code == 3
    assert json.loads(r.stdout)["records"]["cases"]["vanished"] == len(lifecycle["drift"]["records"]["cases"]["vanished"])


def test_exports_of_an_ingested_release_match_the_warehouse(lifecycle, tmp_path):
    import duckdb
    import pandas as pd

    home = lifecycle["home"]
    rel = releases(home)[0]
    model_cases = duckdb.connect().execute(f"SELECT count(*) FROM '{home}/releases/{rel['id']}/model/cases.parquet'").fetchone()[0]
    r = export("cases", "parquet", warehouse=home, out=tmp_path / "cases.parquet")
    assert r.rows == model_cases == pq.read_table(r.path).num_rows
    r = export("B_TblProceeding", "dta", warehouse=home, out=tmp_path / "p.dta", columns=["IDNPROCEEDING", "DEC_CODE", "COMP_DATE"])
    df = pd.read_stata(r.path)
    assert len(df) == rel["rows"]["proceedings"]
    assert set(df["DEC_CODE_label"]) >= {"Remove"}
    r = export("applications", "sqlite", warehouse=home, out=tmp_path / "eoir.db")
    import sqlite3

    assert sqlite3.connect(r.path).execute("SELECT count(*) FROM applications").fetchone()[0] == r.rows


def test_the_engine_agrees_with_the_updated_truth_of_the_drifted_release(lifecycle):
    truth = json.loads((lifecycle["dir"] / "new.truth.json").read_text())["metrics"]
    wh = immfacts.Warehouse(lifecycle["home"])
    new_id = releases(lifecycle["home"])[0]["id"]
    for metric in ("eoir.receipts", "eoir.completions", "eoir.pending", "eoir.removal_orders", "eoir.asylum.denials"):
        for fy in ("FY2025", "FY2026"):
            r = wh.metric(metric, period=fy, release=new_id)
            assert r.value == truth[metric][fy], (metric, fy)
