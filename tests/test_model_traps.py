"""Definitional traps of the canonical model, each on a tiny hand-made fixture named after it.

Fixtures: tests/fixtures/model/<trap>/ (A_TblCase, B_TblProceeding, tbl_Court_Appln as TSV),
staged like ingest would and modelled with build_model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "model"))
import helpers  # noqa: E402

from immfacts.warehouse import Warehouse, parquet_glob  # noqa: E402


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """One warehouse per trap fixture (built lazily, once per module)."""
    cache: dict[str, Warehouse] = {}

    def get(name: str) -> Warehouse:
        if name not in cache:
            home = tmp_path_factory.mktemp(name)
            helpers.make_release(home, name, data_date="2024-12-31")
            cache[name] = Warehouse(home)
        return cache[name]

    return get


def model_rows(wh: Warehouse, table: str, where: str = "true") -> list[dict]:
    path = parquet_glob(wh.release().path / "model" / f"{table}.parquet")
    return duckdb.sql(f"SELECT * FROM '{path}' WHERE {where}").df().to_dict("records")


def value(wh: Warehouse, metric: str, **q):
    return wh.metric(metric, **q).value


def test_t_in_dec_code_is_termination_but_t_in_other_comp_is_transfer(warehouses):
    wh = warehouses("t_in_dec_code_vs_other_comp")
    procs = {r["idnproceeding"]: r for r in model_rows(wh, "proceedings")}
    assert procs[1011]["outcome_class"] == "termination" and procs[1011]["terminal"]
    assert procs[1021]["outcome_class"] == "transfer" and not procs[1021]["terminal"]
    cases = {r["idncase"]: r for r in model_rows(wh, "cases")}
    assert cases[101]["completed"] and cases[101]["final_outcome"] == "termination"
    assert not cases[102]["completed"]
    assert value(wh, "eoir.terminations", period="FY2023") == 1
    assert value(wh, "eoir.completions", period="FY2023") == 1
    assert value(wh, "eoir.pending", period="2023-06-30") == 1  # the transferred case


def test_change_of_venue_chain_ending_in_merits_decision_counts_once(warehouses):
    wh = warehouses("change_of_venue_chain_counts_once")
    assert value(wh, "eoir.completions", period="FY2022") == 0
    assert value(wh, "eoir.completions", period="FY2023") == 1
    assert value(wh, "eoir.removal_orders", period="FY2021..FY2024") == 1
    assert value(wh, "eoir.in_absentia_orders", period="FY2023") == 1
    assert value(wh, "eoir.receipts", period="FY2022") == 1
    # pending throughout the chain, including the days between a change of venue and the next proceeding
    for day in ("2022-01-15", "2022-06-05", "2022-09-30"):
        assert value(wh, "eoir.pending", period=day) == 1, day
    assert value(wh, "eoir.pending", period="2023-02-01") == 0


def test_admin_closure_later_recalendared_is_pending_again(warehouses):
    wh = warehouses("admin_closure_recalendared_is_pending_again")
    at_fy21 = wh.metric("eoir.pending", period="2021-09-30", variant="all")
    band = {v["variant"]: v["value"] for v in at_fy21.variants}
    assert band["active"] == 0 and band["inactive"] == 2 and band["including_inactive"] == 2
    at_fy22 = {v["variant"]: v["value"] for v in wh.metric("eoir.pending", period="2022-09-30", variant="all").variants}
    assert at_fy22["active"] == 1 and at_fy22["inactive"] == 1  # 301 recalendared, 302 still closed
    cases = {r["idncase"]: r for r in model_rows(wh, "cases")}
    assert not cases[301]["completed"] and cases[301]["initial_outcome"] == "admin_closure"
    assert cases[302]["admin_closed_now"]
    assert value(wh, "eoir.admin_closures", period="FY2021") == 1
    assert value(wh, "eoir.admin_closures", period="FY2021", variant="all_closures") == 2
    assert value(wh, "eoir.admin_closures", period="2022-09-30", variant="stock") == 1


def test_two_asyl_applications_follow_the_documented_tie_break(warehouses):
    wh = warehouses("two_asyl_applications_follow_tie_break")
    chosen = {r["idncase"]: r["decision_code"] for r in model_rows(wh, "asylum_cases", "family = 'asyl'")}
    assert chosen == {
        401: "G",  # later received date wins
        402: "G",  # same day: G outranks D although D has the larger IDNPROCEEDINGAPPLN
        403: "D",  # same day: D outranks W
        404: "D",  # an undated application sorts first, so the dated one decides
    }
    r = wh.metric("eoir.asylum.grant_rate", period="FY2023")
    assert (r.numerator, r.denominator, r.value) == (2, 4, 0.5)


def test_cfr_and_rfr_cases_stay_out_of_pending_and_receipts(warehouses):
    wh = warehouses("cfr_rfr_stay_out_of_pending_and_receipts")
    assert value(wh, "eoir.receipts", period="FY2023") == 1
    assert value(wh, "eoir.pending", period="2023-09-30") == 1
    assert value(wh, "eoir.receipts", period="FY2023", variant="all_case_types") == 3
    assert value(wh, "eoir.pending", period="2023-09-30", variant="all_case_types") == 3


def test_fiscal_year_boundary_is_between_september_30_and_october_1(warehouses):
    wh = warehouses("fy_boundary_sept30_oct1")
    by_fy = {r["fy"]: r["value"] for r in wh.metric("eoir.receipts", by="fy").rows}
    assert by_fy["FY2023"] == 1 and by_fy["FY2024"] == 1
    assert value(wh, "eoir.completions", period="FY2024") == 1
    assert value(wh, "eoir.completions", period="FY2025") == 1
    # completed on Sept 30 is not pending at the end of that day; completed Oct 1 still is
    assert value(wh, "eoir.pending", period="2024-09-30") == 1
    assert value(wh, "eoir.pending", period="2024-10-01") == 0


def test_administration_boundary_is_between_january_19_and_january_20(warehouses):
    wh = warehouses("administration_boundary_jan19_jan20")
    assert value(wh, "eoir.completions", period="trump1") == 1
    assert value(wh, "eoir.completions", period="biden") == 1
    rows = wh.metric("eoir.completions", period="2020-01-01..2021-12-31", by="administration").rows
    assert {r["administration"]: r["value"] for r in rows} == {"trump1": 1, "biden": 1}
    # the fiscal-year approximation puts both in Biden's first fiscal year
    assert value(wh, "eoir.completions", period="biden:fy_whole") == 2


def test_asylum_outcomes_split_merits_decisions_from_case_outcomes(warehouses):
    wh = warehouses("asylum_outcomes")
    grants = wh.metric("eoir.asylum.grant_rate", period="FY2023", variant="all")
    band = {v["variant"]: (v["numerator"], v["denominator"]) for v in grants.variants}
    assert band == {"merits": (1, 4), "eoir_official": (1, 6)}
    assert grants.components["deny_share"] == 0.75  # the denial rate
    cwm = wh.metric("eoir.asylum.closed_without_merits", period="FY2023", variant="all")
    by_variant = {v["variant"]: v for v in cwm.variants}
    assert by_variant["standard"]["value"] == 3
    assert {k: by_variant["standard"]["components"][k] for k in ("dismissal", "termination", "pd_termination", "admin_closure")} == {
        "dismissal": 1, "termination": 0, "pd_termination": 1, "admin_closure": 1}
    assert by_variant["with_failure_to_prosecute"]["value"] == 4
    stay = {v["variant"]: (v["numerator"], v["denominator"]) for v in
            wh.metric("eoir.asylum.allowed_to_stay_rate", period="FY2023", variant="all").variants}
    assert stay == {"trac742": (6, 8), "strict": (1, 8), "exclude_admin_closed": (5, 7)}
    assert value(wh, "eoir.asylum.decisions", period="FY2023", variant="with_other") == 6


def test_completion_with_both_codes_is_a_data_error_and_unknown_codes_decode_to_other(warehouses):
    wh = warehouses("completion_data_errors_and_unknown_codes")
    procs = {r["idnproceeding"]: r for r in model_rows(wh, "proceedings")}
    assert procs[9011]["data_error"] and not procs[9011]["completed"]
    assert procs[9021]["outcome_class"] == "other" and procs[9021]["code"] == "Q" and not procs[9021]["in_lookup"]
    # decoded with the proceeding's own case type (CFR): V is "Vacate", not voluntary departure
    assert procs[9031]["outcome_class"] == "other" and procs[9031]["type_conflict"]
    assert procs[9999]["orphan"]
    manifest = wh.release().path / "model" / "manifest.json"
    import json

    m = json.loads(manifest.read_text())
    assert (m["completion_data_errors"], m["orphan_proceedings"], m["case_type_conflicts"]) == (1, 1, 1)
    assert value(wh, "eoir.pending", period="2023-06-30") == 1  # the data-error case stays open
    assert wh.metric("eoir.completions_by_outcome", period="FY2023").components["other"] == 2


def test_pending_asylum_applications_count_once_per_proceeding_in_force(warehouses):
    wh = warehouses("two_asyl_applications_follow_tie_break")
    # each case holds two ASYL rows on one open proceeding; before the later one is received, one counts
    assert value(wh, "eoir.pending_asylum_applications", period="2022-01-15") == 2  # 401: 4011, 404: undated 4041
    assert value(wh, "eoir.pending_asylum_applications", period="2022-12-31") == 8
    assert value(wh, "eoir.pending_asylum_applications", period="2023-04-01") == 0


def test_a_model_table_that_runs_out_of_memory_is_written_again_on_one_thread(tmp_path, monkeypatch):
    """DuckDB's memory limit is shared with the ingest: a model table whose COPY runs out of
    memory is written again on one thread, with the same rows, and the thread count restored."""
    import ibis.backends.duckdb as ibis_duckdb

    from immfacts.model import MODEL_TABLES, build_model

    names = helpers.all_fixtures()
    plain = helpers.make_release(tmp_path / "plain", names)
    retried = helpers.make_release(tmp_path / "retried", names, build=False)
    con = duckdb.connect(config={"threads": 2})
    real = ibis_duckdb.Backend.raw_sql
    attempts: list[tuple[str, int]] = []

    def flaky(self, query, **kw):
        if isinstance(query, str) and query.startswith("COPY (") and "PARTITION_BY" not in query:
            threads = int(real(self, "SELECT current_setting('threads')").fetchone()[0])
            attempts.append((Path(query.rsplit(" TO '", 1)[1].split("'")[0]).stem, threads))
            if threads > 1:  # every table's first attempt fails, as a large release's might
                raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data (test)")
        return real(self, query, **kw)

    monkeypatch.setattr(ibis_duckdb.Backend, "raw_sql", flaky)
    build_model(retried, duckdb_con=con.cursor())
    assert sorted(attempts) == sorted((t, n) for t in MODEL_TABLES for n in (2, 1))
    assert all(a[0] == b[0] and (a[1], b[1]) == (2, 1) for a, b in zip(attempts[::2], attempts[1::2], strict=True))
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2
    for table in MODEL_TABLES:
        a, b = (f"'{r / 'model' / (table + '.parquet')}'" for r in (plain, retried))
        assert duckdb.sql(f"SELECT count(*) FROM {a}").fetchall()[0][0] > 0, table
        assert duckdb.sql(f"(FROM {a} EXCEPT ALL FROM {b}) UNION ALL (FROM {b} EXCEPT ALL FROM {a})").fetchall() == [], table


def test_a_release_that_outgrows_the_memory_limit_is_modelled_by_spilling(tmp_path):
    """300,000 synthetic cases under a 100MB DuckDB limit (the model's joins and aggregates
    want several times that): the model is still built, row for row as with room to spare.
    Every model query must be able to spill — before, ``applications`` joined an aggregate
    back to its own input, which DuckDB keeps in memory, and failed even on one thread."""
    import shutil

    from immfacts.model import MODEL_TABLES, build_model

    roomy, tight = tmp_path / "roomy", tmp_path / "tight"
    helpers.write_bulk(roomy, 300_000)
    shutil.copytree(roomy / "tables", tight / "tables")
    build_model(roomy)
    con = duckdb.connect(config={"memory_limit": "100MB", "threads": 2, "temp_directory": str(tmp_path / "spill"),
                                 "preserve_insertion_order": False})
    build_model(tight, duckdb_con=con.cursor())
    for table in MODEL_TABLES:
        a, b = (f"'{r / 'model' / (table + '.parquet')}'" for r in (roomy, tight))
        assert duckdb.sql(f"SELECT count(*) FROM {a}").fetchall()[0][0] > 1000, table
        assert duckdb.sql(f"(FROM {a} EXCEPT ALL FROM {b}) UNION ALL (FROM {b} EXCEPT ALL FROM {a})").fetchall() == [], table


def test_an_application_naming_another_case_than_its_proceeding_keeps_its_own_case(warehouses):
    """The files sometimes disagree: an application's IDNCASE is not its proceeding's. The
    application belongs to the case it names (its proceeding's only when it names none) and
    takes its decision date, court and pending spell from its proceeding; an application
    whose proceeding is missing, or belongs to no case, is an orphan."""
    wh = warehouses("application_case_differs_from_its_proceeding")
    apps = {r["idnproceedingappln"]: r for r in model_rows(wh, "applications")}
    assert {k: (r["idncase"], r["orphan"]) for k, r in apps.items()} == {
        5011: (502, False), 5012: (502, False), 5013: (503, True), 5014: (504, True), 5015: (501, False),
    }
    assert (apps[5011]["court"], apps[5012]["court"], apps[5015]["court"]) == ("NYC", "MIA", "LOS")
    assert str(apps[5012]["decision_date"])[:10] == "2023-03-01" and str(apps[5011]["decision_date"]) == "NaT"
    asylum = {r["idncase"]: r for r in model_rows(wh, "asylum_cases", "family = 'asyl'")}
    assert sorted(asylum) == [501, 502]
    assert (asylum[502]["decision_idnproceedingappln"], asylum[502]["decision_court"]) == (5012, "MIA")
    assert asylum[501]["decision_court"] == "LOS"
    assert value(wh, "eoir.pending_asylum_applications", period="2022-06-30") == 3
    assert value(wh, "eoir.pending_asylum_applications", period="2023-06-30") == 2  # 5012 decided
